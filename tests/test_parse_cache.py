"""The parse cache of ``qms check``: the same findings with or without it, only changed files parsed
again, and a corrupt, foreign or unwritable cache ignored without a traceback."""

from __future__ import annotations

import fnmatch
import hashlib
import inspect
import marshal
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from conftest import MINIMAL_CONFIG, invoke_qms
from scenario_support import SCENARIOS, lay_out

import qms
from qms import checking, evidence, parsecache, records, review
from qms.checking import check_context, check_project, release_context
from qms.config import DEFAULT_CACHE
from qms.model import Item, Project
from qms.project import load_project
from qms.rules import CHECKS, CheckContext, CheckFunction, Hit, change
from qms.rules.registry import ITEM_CHECKS, PROJECT_RULES, ItemCheck

EXAMPLE = Path(__file__).resolve().parent.parent
#: what the example project reads (the rest of the repository is the toolkit)
EXAMPLE_PARTS = ("qms.yaml", "qms.lock", "approvals.yaml", "traceability", "risk_register", "verification_records")

ITEMS = """kind: software_requirement
items:
  - id: SWR-{n}01
    title: Requirement {n}
    text: The software shall do thing {n}.
    derives_from: [SYS-404]
"""
HAZARDS = """id: HAZ-001
kind: hazard
title: Overdose
hazard: Insulin overdelivery
harm: Hypoglycaemia
severity: 4
probability: 3
residual:
  severity: 4
  probability: 1
x-notes:
  owner: {name: Dana, teams: [risk, {lead: yes}]}
"""


def _check(root: Path, *options: str) -> tuple[int, str]:
    result = invoke_qms("check", "--all", "--format", "json", *options, cwd=root)
    return result.exit_code, result.output


def _same_three_ways(root: Path) -> None:
    """``qms check`` without the cache, with an empty one, and with the one it wrote: one output."""
    without = _check(root, "--no-cache")
    assert not (root / DEFAULT_CACHE).exists(), "--no-cache wrote a cache"
    assert _check(root) == without  # cold: parses and writes the cache
    assert _check(root) == without  # warm: reads it


@pytest.fixture(autouse=True)
def _this_qms() -> Iterator[None]:
    """Each test starts and ends with the cache key of this qms (a test that poses as another
    version leaves no key of it behind)."""
    parsecache._environment.cache_clear()
    yield
    parsecache._environment.cache_clear()


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files (relative paths) that ``qms check`` parses rather than takes from the cache."""
    seen: list[str] = []
    real = parsecache.parse_bytes

    def recording(data: bytes, path: str) -> Any:
        seen.append(path)
        return real(data, path)

    monkeypatch.setattr(parsecache, "parse_bytes", recording)
    return seen


@pytest.mark.parametrize("name", sorted(path.name for path in SCENARIOS.iterdir() if (path / "expected.txt").exists()))
def test_scenarios_find_the_same_with_and_without_the_cache(name: str, tmp_path: Path) -> None:
    _same_three_ways(lay_out(SCENARIOS / name, tmp_path / "project"))


def _example(tmp_path: Path) -> Path:
    root = tmp_path / "example"
    root.mkdir()
    for part in EXAMPLE_PARTS:
        source = EXAMPLE / part
        if source.is_dir():
            shutil.copytree(source, root / part)
        elif source.is_file():
            shutil.copy2(source, root / part)
    return root


def test_example_finds_the_same_with_and_without_the_cache(tmp_path: Path, parses: list[str]) -> None:
    root = _example(tmp_path)
    _same_three_ways(root)
    assert len(parses) == len(load_project(root).files)  # parsed once, by the cold run only


def _strictly_equal(left: Any, right: Any) -> bool:
    """Equal, and of the same types all the way down (a dict equals a read-only mapping otherwise)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict | MappingProxyType):
        return list(left) == list(right) and all(_strictly_equal(left[key], right[key]) for key in left)
    if isinstance(left, list | tuple):
        return len(left) == len(right) and all(map(_strictly_equal, left, right))
    return bool(left == right)


def _loaded_alike(left: Project, right: Project) -> None:
    assert list(left.items) == list(right.items)
    for item_id, item in left.items.items():
        again = right.items[item_id]
        assert (again.id, again.kind, again.file) == (item.id, item.kind, item.file)
        assert _strictly_equal(dict(again.fields), dict(item.fields)), item_id
        assert _strictly_equal(dict(again.positions), dict(item.positions)), item_id
    assert (left.load_findings, left.file_titles) == (right.load_findings, right.file_titles)


def test_items_read_from_the_cache_are_the_items_parsed(tmp_path: Path) -> None:
    root = _example(tmp_path)
    (root / "risk_register" / "extra.yaml").write_text(HAZARDS, encoding="utf-8")
    parsed = load_project(root)
    load_project(root, cache=True)
    _loaded_alike(parsed, load_project(root, cache=True))


def test_a_cold_load_parsed_in_two_processes_gives_what_one_process_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parses: list[str]
) -> None:
    # a fresh clone in CI parses every file: a forked process parses half of them beside this one
    root = _example(tmp_path)
    (root / "risk_register" / "extra.yaml").write_text(HAZARDS, encoding="utf-8")
    alone = tmp_path / "alone"
    shutil.copytree(root, alone)
    monkeypatch.setattr(parsecache, "PARALLEL_FROM", 10**9)
    one = load_project(alone, cache=True)
    assert len(parses) == len(one.files)

    parses.clear()
    monkeypatch.setattr(parsecache, "PARALLEL_FROM", 2)
    two = load_project(root, cache=True)
    assert 0 < len(parses) < len(two.files)  # the others were parsed by the forked process
    _loaded_alike(one, two)
    assert (dict(one.file_keys), one.fingerprint) == (dict(two.file_keys), two.fingerprint)

    def entries(folder: Path) -> list[tuple[str, bytes, Any]]:
        packed = parsecache._read_pack(folder / DEFAULT_CACHE / "items.bin")
        return [(path, key, marshal.loads(blob)) for path, (key, blob) in packed.items()]

    assert entries(root) == entries(alone)  # the same entries, in the same order

    parses.clear()
    _loaded_alike(one, load_project(root, cache=True))
    assert parses == []  # what the forked process parsed is kept


def test_a_fork_that_fails_leaves_every_file_to_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parses: list[str]
) -> None:
    root = _example(tmp_path)
    one = load_project(root)

    def refused() -> int:
        raise OSError("no more processes")

    monkeypatch.setattr(parsecache, "PARALLEL_FROM", 2)
    monkeypatch.setattr(parsecache.os, "fork", refused)
    alone = load_project(root, cache=True)
    assert len(parses) == len(alone.files)
    assert list(alone.items) == list(one.items) and alone.load_findings == one.load_findings


def _project(make_project: Callable[..., Path]) -> Path:
    return make_project(
        {
            "items/system.yaml": "id: SYS-404\nkind: system_requirement\ntitle: S\ntext: The system shall work.\n",
            "items/a.yaml": ITEMS.format(n=1),
            "items/b.yaml": ITEMS.format(n=2),
            "items/c.yaml": ITEMS.format(n=3),
            "items/hazard.yaml": HAZARDS,
        }
    )


def test_only_the_edited_file_is_parsed_again(make_project: Callable[..., Path], parses: list[str]) -> None:
    root = _project(make_project)
    first = _check(root)
    assert sorted(parses) == ["items/a.yaml", "items/b.yaml", "items/c.yaml", "items/hazard.yaml", "items/system.yaml"]
    parses.clear()
    assert _check(root) == first
    assert parses == []
    edited = root / "items" / "b.yaml"
    edited.write_text(edited.read_text(encoding="utf-8").replace("thing 2", "thing two\n    kind: oops"), "utf-8")
    edited_output = _check(root)
    assert parses == ["items/b.yaml"]
    assert "items/b.yaml" in edited_output[1] and edited_output != first  # the edit's finding is reported
    assert edited_output == _check(root, "--no-cache")


def test_moving_a_file_parses_it_at_its_new_path(make_project: Callable[..., Path], parses: list[str]) -> None:
    root = _project(make_project)
    _check(root)
    parses.clear()
    (root / "items" / "c.yaml").rename(root / "items" / "d.yaml")
    code, output = _check(root)
    assert parses == ["items/d.yaml"]
    assert '"file": "items/c.yaml"' not in output
    assert (code, output) == _check(root, "--no-cache")
    parses.clear()
    (root / "items" / "d.yaml").rename(root / "items" / "c.yaml")
    _check(root)
    assert parses == ["items/c.yaml"]  # the cache keeps the files of the last check only


def test_risk_policy_and_qms_version_are_part_of_the_key(
    make_project: Callable[..., Path], parses: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(make_project)
    _check(root)
    parses.clear()
    monkeypatch.setattr(qms, "__version__", "999.0")
    parsecache._environment.cache_clear()  # read once per process: a new version is a new process
    try:
        _check(root)
    finally:
        parsecache._environment.cache_clear()
    assert len(parses) == 5
    parses.clear()
    config = root / "qms.yaml"
    config.write_text(
        config.read_text(encoding="utf-8")
        + "risk_policy:\n  severity: [{level: 1, name: Low}, {level: 2, name: High}]\n"
        "  probability: [{level: 1, name: Rare}, {level: 2, name: Often}]\n  acceptability: [AA, AU]\n",
        encoding="utf-8",
    )
    code, output = _check(root)
    assert len(parses) == 5
    assert (code, output) == _check(root, "--no-cache")
    assert "severity '4' is not a severity level" in output  # read with the new policy, not the old one


def _cache_file(root: Path) -> Path:
    return root / DEFAULT_CACHE / "items.bin"


def _flip_last_bit(cache: Path) -> None:
    data = cache.read_bytes()
    cache.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))


def _folder_instead(cache: Path) -> None:
    cache.unlink()
    cache.mkdir()


def _sealed(payload: Any) -> bytes:
    """A cache file holding ``payload`` under a valid digest: well formed, but not what qms wrote."""
    data = marshal.dumps(payload)
    return parsecache.MAGIC + hashlib.blake2b(data, digest_size=32).digest() + data


def _entries_swapped(cache: Path) -> None:
    """Each file's entry moved to another file's path (valid entries, each for other bytes)."""
    entries = marshal.loads(cache.read_bytes()[len(parsecache.MAGIC) + 32 :])
    paths = sorted(entries)
    cache.write_bytes(_sealed({path: entries[paths[index - 1]] for index, path in enumerate(paths)}))


def _entries_garbled(cache: Path) -> None:
    """Each entry under its right key, but its content is not an entry qms can read back."""
    entries = marshal.loads(cache.read_bytes()[len(parsecache.MAGIC) + 32 :])
    garbage = [b"\x00\xff", marshal.dumps((1, 2)), marshal.dumps(("t", [("id",)], [])), b"", marshal.dumps(None)]
    cache.write_bytes(
        _sealed({path: (key, garbage[index % 5]) for index, (path, (key, _)) in enumerate(entries.items())})
    )


@pytest.mark.parametrize(
    ("damage", "rebuilt"),
    [
        pytest.param(lambda cache: cache.write_bytes(b""), True, id="empty"),
        pytest.param(lambda cache: cache.write_bytes(cache.read_bytes()[:-7]), True, id="truncated"),
        pytest.param(lambda cache: cache.write_bytes(b"\x00\xff garbage " * 50), True, id="garbage"),
        pytest.param(_flip_last_bit, True, id="one-bit"),
        pytest.param(lambda cache: cache.write_bytes(parsecache.MAGIC + b"c" * 32 + b"\x00"), True, id="bad-digest"),
        pytest.param(lambda cache: cache.write_bytes(_sealed([1, 2])), True, id="not-a-table"),
        pytest.param(
            lambda cache: cache.write_bytes(_sealed({"items/a.yaml": (1, 2), 3: "x"})), True, id="odd-entries"
        ),
        pytest.param(_entries_swapped, True, id="entries-of-other-files"),
        pytest.param(_entries_garbled, True, id="garbled-entries"),
        pytest.param(_folder_instead, False, id="a-folder"),
    ],
)
def test_a_damaged_cache_is_ignored_and_rebuilt(
    make_project: Callable[..., Path], parses: list[str], damage: Callable[[Path], object], rebuilt: bool
) -> None:
    root = _project(make_project)
    expected = _check(root)
    damage(_cache_file(root))
    parses.clear()
    assert _check(root) == expected  # and no traceback: invoke_qms lets exceptions through
    assert len(parses) == 5
    parses.clear()
    assert _check(root) == expected
    assert len(parses) == (0 if rebuilt else 5)


def test_a_cache_that_cannot_be_written_only_costs_time(make_project: Callable[..., Path]) -> None:
    root = _project(make_project)
    expected = _check(root, "--no-cache")
    (root / "_build").write_text("a file where the cache folder would go\n", encoding="utf-8")
    assert _check(root) == expected
    assert _check(root) == expected


def test_the_cache_folder_is_a_setting(make_project: Callable[..., Path], parses: list[str]) -> None:
    root = _project(make_project)
    config = root / "qms.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "cache: .caches/qms\n", encoding="utf-8")
    expected = _check(root)
    assert sorted(path.name for path in (root / ".caches" / "qms").iterdir()) == [
        ".gitignore",
        "item-rule-hits.bin",
        "items.bin",
        "rules.bin",
    ]
    assert not (root / "_build").exists()
    parses.clear()
    assert _check(root) == expected
    assert parses == []


@pytest.mark.parametrize(
    ("setting", "said"),
    [
        ("items/cache", "is inside 'items' of `sources`"),
        ("../cache", "points outside the project"),
        (".", "is the project folder itself"),
        ('"a\\0b"', "is not a folder qms can use (embedded null byte)"),
    ],
)
def test_a_cache_folder_among_the_sources_or_outside_is_refused(
    make_project: Callable[..., Path], setting: str, said: str
) -> None:
    root = make_project({"items/system.yaml": "id: SYS-404\nkind: system_requirement\ntitle: S\ntext: T.\n"})
    config = root / "qms.yaml"
    config.write_text(config.read_text(encoding="utf-8") + f"cache: {setting}\n", encoding="utf-8")
    result = invoke_qms("check", cwd=root)
    assert result.exit_code == 1
    line = len(config.read_text(encoding="utf-8").splitlines())
    shown = setting.replace('"', "").replace("\\0", "\\x00")
    assert f"qms.yaml:{line}:8: error Q002: cache '{shown}' {said}" in result.output
    assert not list(root.rglob("*.bin")) and not (root.parent / "cache").exists()
    assert invoke_qms("check", "--no-cache", cwd=root).output == result.output


def test_the_cache_stays_out_of_git(make_project: Callable[..., Path]) -> None:
    root = _project(make_project)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    _check(root)
    status = subprocess.run(["git", "status", "--porcelain"], cwd=root, check=True, capture_output=True, text=True)
    assert "_build" not in status.stdout
    assert "items/" in status.stdout


RECORD = """records:
  - id: REC-{n}
    test: TST-001
    outcome: passed
    executed_by: Dana
    executed_at: 2026-11-2{n}T09:30:00Z
    version: 1.0.0
"""
JUNIT = """<testsuite name="s" timestamp="2026-11-20T09:00:00">
  <testcase classname="t" name="test_{n}">{result}</testcase>
</testsuite>
"""
TESTED = """items:
  - {id: SWR-001, kind: software_requirement, title: R, text: The software shall work.}
  - {id: TST-001, kind: test, title: T, verifies: [SWR-001], evidence: [t.test_1, t.test_2]}
"""


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The record and result files (relative paths) ``qms check`` reads rather than takes from the cache."""
    seen: list[str] = []
    parse, stream = records.parse_bytes, evidence._streamed

    def parsing(data: bytes, path: str) -> Any:
        seen.append(path)
        return parse(data, path)

    def streaming(path: Path, name: str) -> Any:
        seen.append(name)
        return stream(path, name)

    monkeypatch.setattr(records, "parse_bytes", parsing)
    monkeypatch.setattr(evidence, "_streamed", streaming)
    return seen


def _with_records(make_project: Callable[..., Path]) -> Path:
    return make_project(
        {
            "qms.yaml": MINIMAL_CONFIG.format(safety_class="C") + "records: [records]\nevidence: [reports/*.xml]\n",
            "items/items.yaml": TESTED,
            "records/a.yaml": RECORD.format(n=1),
            "records/b.yaml": RECORD.format(n=2),
            "reports/one.xml": JUNIT.format(n=1, result=""),
            "reports/two.xml": JUNIT.format(n=2, result='<failure message="boom"/>'),
        }
    )


def test_records_and_results_are_read_again_only_when_changed(
    make_project: Callable[..., Path], reads: list[str]
) -> None:
    root = _with_records(make_project)
    first = _check(root)
    assert sorted(reads) == ["records/a.yaml", "records/b.yaml", "reports/one.xml", "reports/two.xml"]
    assert "boom" in first[1]
    reads.clear()
    assert _check(root) == first
    assert reads == []
    (root / "reports" / "two.xml").write_text(JUNIT.format(n=2, result=""), encoding="utf-8")
    (root / "records" / "a.yaml").write_text(RECORD.format(n=1).replace("passed", "failed"), encoding="utf-8")
    changed = _check(root)
    assert sorted(reads) == ["records/a.yaml", "reports/two.xml"]
    assert "boom" not in changed[1] and changed == _check(root, "--no-cache")


def test_records_are_read_again_when_the_kinds_they_name_change(
    make_project: Callable[..., Path], reads: list[str]
) -> None:
    """A record names its test by id: whether that id is a test is part of what was read."""
    root = _with_records(make_project)
    _check(root)
    items = root / "items" / "items.yaml"
    items.write_text(items.read_text(encoding="utf-8").replace("TST-001, kind: test", "TST-001, kind: need"), "utf-8")
    reads.clear()
    code, output = _check(root)
    assert sorted(reads) == ["records/a.yaml", "records/b.yaml"]
    assert "record of 'TST-001', a need" in output
    assert (code, output) == _check(root, "--no-cache")


@pytest.mark.parametrize("name", ["records.bin", "results.bin"])
def test_damaged_record_and_result_caches_are_ignored(
    make_project: Callable[..., Path], reads: list[str], name: str
) -> None:
    root = _with_records(make_project)
    expected = _check(root)
    cache = root / DEFAULT_CACHE / name
    _flip_last_bit(cache)
    reads.clear()
    assert _check(root) == expected
    assert len(reads) == 2
    _entries_garbled(cache)
    assert _check(root) == expected


# ------------------------------------------------------------------------------ what the project alone gives


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The rules of the project alone (and the suspect links' digests) that ``qms check`` computes
    rather than takes from the cache, one entry per computation."""
    seen: list[str] = []
    for code in PROJECT_RULES:
        real_check = CHECKS[code]

        def counting(context: CheckContext, code: str = code, real: CheckFunction = real_check) -> Any:
            seen.append(code)
            return real(context)

        monkeypatch.setitem(CHECKS, code, counting)
    real_digests = review.target_digests

    def digests(project: Project) -> dict[str, str]:
        seen.append("digests")
        return real_digests(project)

    monkeypatch.setattr(change, "target_digests", digests)
    return seen


def test_the_rules_of_one_item_look_again_only_at_the_edited_files_items(
    make_project: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What Q008, Q009, Q010 and Q011 find in an item is kept by its file's key: after an edit only the
    edited file's items are looked at, and the findings are those of a check without the cache (an
    ``:item:`` role is looked up among the project's items on every check)."""
    root = _project(make_project)
    looked: list[tuple[str, str]] = []
    for code, check in list(ITEM_CHECKS.items()):

        def counting(item: Item, code: str = code, real: ItemCheck = check) -> Any:
            looked.append((code, item.id))
            return real(item)

        monkeypatch.setitem(ITEM_CHECKS, code, counting)
    assert {"Q008", "Q009", "Q010", "Q011"} <= set(ITEM_CHECKS)
    _check(root)
    assert {item for _, item in looked} == {"SYS-404", "SWR-101", "SWR-201", "SWR-301", "HAZ-001"}
    edited = root / "items" / "b.yaml"
    text = edited.read_text(encoding="utf-8")
    edited.write_text(text.replace("do thing 2.", "do thing 2 (see :item:`SWR-909`)."), encoding="utf-8")
    looked.clear()
    code, output = _check(root)
    assert {item for _, item in looked} == {"SWR-201"}
    assert "unknown item id 'SWR-909'" in output
    assert (code, output) == _check(root, "--no-cache")
    (root / "items" / "d.yaml").write_text(ITEMS.format(n=9).replace("SWR-901", "SWR-909"), encoding="utf-8")
    looked.clear()
    code, output = _check(root)
    assert {item for _, item in looked} == {"SWR-909"}  # the role in b.yaml is not looked at again
    assert "unknown item id 'SWR-909'" not in output
    assert (code, output) == _check(root, "--no-cache")


#: a text Q008 reports (what ``qms init`` writes for the manufacturer), and an item T101 reports
PLACED = "Your Company"
NEED = "id: N-1\nkind: need\ntitle: N\ntext: A need.\n"


def _reviewed(make_project: Callable[..., Path]) -> Path:
    """:func:`_project` with every link reviewed in ``qms.lock``."""
    root = _project(make_project)
    assert invoke_qms("review", "--all", cwd=root).exit_code == 0
    return root


def test_what_the_project_alone_gives_is_kept_until_the_project_changes(
    make_project: Callable[..., Path], computed: list[str]
) -> None:
    root = _reviewed(make_project)
    first = _check(root)
    assert set(computed) == {*PROJECT_RULES, "digests"} - {code for code in PROJECT_RULES if code.startswith("S")}
    computed.clear()
    assert _check(root) == first
    assert computed == []

    def changed(edit: Callable[[], object], *said: str) -> None:
        before = _check(root)
        edit()
        computed.clear()
        code, output = _check(root)
        assert "Q008" in computed and "digests" in computed, said
        assert (code, output) == _check(root, "--no-cache")
        assert (code, output) != before, said
        for words in said:
            assert words in output

    system = root / "items" / "system.yaml"
    config = root / "qms.yaml"
    changed(
        lambda: system.write_text(system.read_text(encoding="utf-8").replace("The system shall work.", PLACED)),
        "text is still a placeholder",  # Q008, a rule of the items
        "SYS-404 changed since the links to it were last reviewed",  # C501, from the item's new digest
    )
    changed(lambda: config.write_text(config.read_text(encoding="utf-8") + "rules: {Q008: error}\n"))
    changed(lambda: (root / "items" / "need.yaml").write_text(NEED), "not refined by any system requirement")
    changed(lambda: (root / "items" / "twice.yaml").write_text(ITEMS.format(n=1)), "duplicate id 'SWR-101'")
    changed(lambda: (root / "items" / "twice.yaml").unlink())
    changed(lambda: (root / "items" / "need.yaml").rename(root / "items" / "moved.yaml"), "items/moved.yaml")
    computed.clear()
    parsecache._environment.cache_clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(qms, "__version__", "1000.0")
        _check(root)
        parsecache._environment.cache_clear()
    assert "Q008" in computed and "digests" in computed  # another qms: found again


def test_what_the_project_alone_gives_is_not_kept_without_the_cache(
    make_project: Callable[..., Path], computed: list[str]
) -> None:
    root = _reviewed(make_project)
    _check(root, "--no-cache")
    computed.clear()
    _check(root, "--no-cache")
    assert "Q008" in computed and "digests" in computed
    assert not (root / DEFAULT_CACHE).exists()


@pytest.mark.parametrize("name", ["rules.bin", "digests.bin"])
@pytest.mark.parametrize(
    "damage",
    [_flip_last_bit, _entries_garbled, lambda cache: cache.write_bytes(b""), _folder_instead],
    ids=["one-bit", "garbled-entries", "empty", "a-folder"],
)
def test_damaged_caches_of_the_project_are_ignored(
    make_project: Callable[..., Path], computed: list[str], name: str, damage: Callable[[Path], object]
) -> None:
    root = _reviewed(make_project)
    system = root / "items" / "system.yaml"
    system.write_text(system.read_text(encoding="utf-8").replace("The system shall work.", PLACED))
    expected = _check(root)
    damage(root / DEFAULT_CACHE / name)
    computed.clear()
    assert _check(root) == expected
    assert ("digests" if name == "digests.bin" else "Q008") in computed


def test_a_foreign_finding_in_the_rules_cache_is_not_reported(
    make_project: Callable[..., Path], computed: list[str]
) -> None:
    root = _reviewed(make_project)
    expected = _check(root)
    cache = root / DEFAULT_CACHE / "rules.bin"
    ((key, _),) = marshal.loads(cache.read_bytes()[len(parsecache.MAGIC) + 32 :]).values()
    for foreign in ({"Q008": [("m", 1, 2, 3, None)]}, {"Q008": [("m", "f", 2)]}, {"Q008": None}):
        cache.write_bytes(_sealed({"project": (key, marshal.dumps(foreign))}))
        computed.clear()
        assert _check(root) == expected
        assert "Q008" in computed


#: what a rule of the project alone may not look at while it runs: files (beyond qms's own), folders, git
_OUTSIDE_EVENTS = frozenset({"open", "os.listdir", "os.scandir", "glob.glob", "subprocess.Popen", "os.stat"})
_recording: list[list[str]] = []


def _audit(event: str, arguments: tuple[Any, ...]) -> None:
    if _recording and event in _OUTSIDE_EVENTS:
        _recording[-1].append(f"{event} {arguments[0] if arguments else ''}")


sys.addaudithook(_audit)


def _alone(code: str, context: CheckContext, monkeypatch: pytest.MonkeyPatch) -> tuple[list[Hit], list[str]]:
    """The hits of a rule given ``context``, and what it reached for besides the project's model: the
    project's files and folders, git (the modules it imports on the way are read from elsewhere)."""
    folders = (str(context.project.root), str(context.project.root.resolve()))
    touched: list[str] = []
    real_stat = os.stat

    def stat(path: Any, *arguments: Any, **keywords: Any) -> Any:
        touched.append(f"os.stat {path}")
        return real_stat(path, *arguments, **keywords)

    _recording.append(touched)
    monkeypatch.setattr(os, "stat", stat)
    try:
        hits = list(CHECKS[code](context))
    finally:
        monkeypatch.setattr(os, "stat", real_stat)
        _recording.pop()
    return hits, [entry for entry in touched if entry.startswith("subprocess") or any(f in entry for f in folders)]


#: a requirement and a risk control verified by a result that names them, with no test item between
NAMED_BY_RESULTS = {
    "qms.yaml": MINIMAL_CONFIG.format(safety_class="C") + "evidence: [reports/*.xml]\n",
    "items/items.yaml": "kind: software_requirement\nitems:\n"
    "  - {id: SWR-001, title: R, text: The software shall work.}\n"
    "  - {id: SWR-002, title: R, text: The software shall work.}\n",
    "items/hazard.yaml": HAZARDS.replace("x-notes:", "controls: [SWR-001]\nx-notes:"),
    "reports/one.xml": '<testsuite name="s" timestamp="2026-11-20T09:00:00"><testcase classname="t" name="test_1">'
    '<properties><property name="verifies" value="SWR-001"/><property name="verifies" value="SWR-002"/>'
    "</properties></testcase></testsuite>\n",
}


@pytest.mark.parametrize(
    "name",
    [
        "example",
        "named-by-results",
        *sorted(path.name for path in SCENARIOS.iterdir() if (path / "expected.txt").exists()),
    ],
)
def test_rules_of_the_project_alone_look_at_nothing_else(
    name: str, tmp_path: Path, make_project: Callable[..., Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rule marked ``of_project`` finds the same with the evidence, records, reviews, history and
    release flag as without them, and reads no file, folder or git while it runs: what it finds is
    kept by the project's fingerprint, which holds nothing else."""
    if name == "example":
        root = _example(tmp_path)
    elif name == "named-by-results":
        root = make_project(NAMED_BY_RESULTS)
    else:
        root = lay_out(SCENARIOS / name, tmp_path / "project")
    project = load_project(root)
    full = check_context(project)
    for code in sorted(PROJECT_RULES):
        bare, reached = _alone(code, CheckContext(project), monkeypatch)
        assert reached == [], (code, reached)
        assert _alone(code, full, monkeypatch)[0] == bare, code
        assert _alone(code, release_context(full), monkeypatch)[0] == bare, code


def test_the_code_of_every_kept_rule_is_part_of_the_key() -> None:
    package = Path(qms.__file__).parent
    for code in PROJECT_RULES:
        module = Path(inspect.getfile(CHECKS[code])).relative_to(package).as_posix()
        assert any(fnmatch.fnmatch(module, pattern) for pattern in parsecache._CODE), (code, module)


def _placed(make_project: Callable[..., Path]) -> Path:
    """:func:`_reviewed` with a text Q008 reports (a rule of the project alone) and a link C501
    reports (a rule of the reviews, run in this process), and no cache yet."""
    root = _reviewed(make_project)
    system = root / "items" / "system.yaml"
    system.write_text(system.read_text(encoding="utf-8").replace("The system shall work.", PLACED))
    shutil.rmtree(root / DEFAULT_CACHE, ignore_errors=True)
    return root


def test_the_rules_of_the_project_found_in_a_second_process_are_those_found_here(
    make_project: Callable[..., Path], computed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a cold check of a large project a forked process finds what the project alone gives (the
    hits of its rules, and first the digests C501 compares) while this one reads the rest and runs
    the other rules: the same report, and what it found is kept for the next check."""
    root = _placed(make_project)
    monkeypatch.setattr(parsecache, "BESIDE_FROM", 10**9)
    expected = _check(root, "--no-cache")
    assert "text is still a placeholder" in expected[1] and "changed since the links" in expected[1]
    assert "Q008" in computed and "digests" in computed

    monkeypatch.setattr(parsecache, "BESIDE_FROM", 1)
    computed.clear()
    later = CheckContext(load_project(root, cache=True)).project_hits_beside()
    assert "Q008" in later()
    assert computed == []  # found by the forked process, and kept by it
    assert {"rules.bin", "digests.bin"} <= {path.name for path in (root / DEFAULT_CACHE).iterdir()}
    assert _check(root) == expected
    assert computed == []

    forks: list[int] = []

    def counted() -> int:
        forks.append(1)
        raise OSError("not now")

    monkeypatch.setattr(parsecache.os, "fork", counted)
    assert _check(root) == expected
    assert (forks, computed) == ([], [])  # kept: nothing to find, no process started


def test_a_cold_check_finds_the_rules_of_the_project_in_a_second_process(
    make_project: Callable[..., Path], computed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _placed(make_project)
    for options in ((), ("--release",)):
        monkeypatch.setattr(parsecache, "BESIDE_FROM", 10**9)
        expected = _check(root, "--no-cache", *options)
        monkeypatch.setattr(parsecache, "BESIDE_FROM", 1)
        shutil.rmtree(root / DEFAULT_CACHE, ignore_errors=True)
        computed.clear()
        assert _check(root, *options) == expected
        assert not set(computed) & PROJECT_RULES  # found beside the check

    # started as the check begins: found while this process reads the results, records and reviews
    shutil.rmtree(root / DEFAULT_CACHE)
    events: list[str] = []
    real_fork, real_evidence = parsecache.os.fork, checking.load_evidence
    monkeypatch.setattr(parsecache.os, "fork", lambda: events.append("fork") or real_fork())
    monkeypatch.setattr(checking, "load_evidence", lambda *a, **k: events.append("evidence") or real_evidence(*a, **k))
    computed.clear()
    findings = check_project(load_project(root, cache=True), cache=True)
    assert events == ["fork", "evidence"]
    assert "Q008" in {finding.rule for finding in findings}
    assert not set(computed) & PROJECT_RULES


def test_work_beside_gives_what_it_returned_or_none() -> None:
    collect = parsecache.beside(lambda: {"made": [1, "two"]})
    assert collect is not None and collect() == {"made": [1, "two"]} and collect() == {"made": [1, "two"]}
    for work in (lambda: 1 // 0, object):  # raises; returns what marshal cannot hold
        collect = parsecache.beside(work)
        assert collect is not None and collect() is None


def test_work_beside_hands_back_each_part_as_soon_as_it_is_made(tmp_path: Path) -> None:
    """The first part is taken while the process waits to make the second (were it sent only with
    the second, taking it would wait until the process gave up, and the second would say so)."""
    go_on = tmp_path / "go-on"

    def work() -> Iterator[Any]:
        yield ["first", b"x" * 300_000]  # more than a pipe holds by default
        deadline = time.monotonic() + 60
        while not go_on.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        yield {"second": 2} if go_on.exists() else "gave up"

    parts = parsecache.beside_in_turn(work, 2)
    assert parts is not None
    first, second = parts
    assert first() == ["first", b"x" * 300_000]
    go_on.touch()
    assert second() == {"second": 2} and first() == ["first", b"x" * 300_000]


def test_a_process_forked_later_takes_no_part_from_the_pipe() -> None:
    """A process forked after the work beside started holds its pipe too: it is given the parts read
    before it started and None for the others, which stay for the process they are for."""
    parts = parsecache.beside_in_turn(lambda: iter(["first", "second", "third"]), 3)
    assert parts is not None
    assert parts[0]() == "first"
    later = parsecache.beside(lambda: [parts[0](), parts[1](), parts[2]()])
    assert later is not None and later() == ["first", None, None]
    assert [take() for take in parts] == ["first", "second", "third"]


def test_the_parts_sent_before_the_work_beside_failed_stand() -> None:
    def work() -> Iterator[Any]:
        yield "first"
        raise MemoryError("the forked process runs out")

    parts = parsecache.beside_in_turn(work, 3)
    assert parts is not None
    assert [take() for take in parts] == ["first", None, None]
    ended = parsecache.beside_in_turn(lambda: iter(["only one"]), 2)
    assert ended is not None and [take() for take in reversed(ended)] == [None, "only one"]


@pytest.mark.parametrize("failure", ["no-process", "the-process-fails"])
def test_a_second_process_that_fails_leaves_the_rules_of_the_project_to_this_one(
    make_project: Callable[..., Path], computed: list[str], monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    root = _placed(make_project)
    monkeypatch.setattr(parsecache, "BESIDE_FROM", 10**9)
    expected = _check(root, "--no-cache")
    monkeypatch.setattr(parsecache, "BESIDE_FROM", 1)
    if failure == "no-process":

        def refused() -> int:
            raise OSError("no more processes")

        monkeypatch.setattr(parsecache.os, "fork", refused)
    else:
        here, real = os.getpid(), CHECKS["Q008"]

        def failing(context: CheckContext) -> Any:
            if os.getpid() != here:
                raise MemoryError("the forked process runs out")
            return real(context)

        monkeypatch.setitem(CHECKS, "Q008", failing)
    computed.clear()
    assert _check(root) == expected
    assert "Q008" in computed
    assert _check(root) == expected  # and kept by this process


def test_key_bytes_depend_on_the_value_alone_not_on_what_else_holds_it() -> None:
    """The same rows, once made fresh and once sharing their texts with other objects (as rows made
    from items do, and rows read back from a kept file do not), give the same key bytes; marshal's
    own format gives two (the case this guards against)."""

    def fresh() -> list[tuple[int, tuple[str, str, bool, None, str]]]:
        return [(1, ("SWR-" + str(1501) + " Announce the carbohydrate entry", "qms link", False, None, ""))]

    alone = fresh()
    shared = fresh()
    held_elsewhere = [shared[0][1][0], sys.intern(shared[0][1][1])]
    assert marshal.dumps(alone) != marshal.dumps(shared)
    assert parsecache.key_bytes(alone) == parsecache.key_bytes(shared)
    assert parsecache.key_bytes(alone) != parsecache.key_bytes(fresh() + fresh())
    assert held_elsewhere  # held until the key is made
