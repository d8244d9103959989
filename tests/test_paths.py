"""``sources`` and ``evidence`` read inside the project only (unless ``allow_outside`` says so),
never loop on symbolic links, and name each real file once; through the real loader and command."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import invoke_qms

from qms.atomic import OUTPUT_MARKER
from qms.evidence import result_files
from qms.project import load_project
from qms.records import record_files

NEED = "kind: need\nitems:\n  - id: {id}\n    title: t\n    text: t\n"
TEST = "id: TST-1\nkind: test\ntitle: t\nmethod: test\nvalidates: [NEED-1]\nevidence: [tests.test_a]\n"
PASSING = '<testsuite name="s"><testcase classname="tests" name="test_a"/></testsuite>\n'


def project(tmp_path: Path, sources: str, evidence: str = "[]", extra: str = "") -> Path:
    root = tmp_path / "device"
    (root / "items").mkdir(parents=True)
    (root / "items" / "needs.yaml").write_text(NEED.format(id="NEED-1"), encoding="utf-8")
    (root / "qms.yaml").write_text(
        f"device: {{name: D, software_safety_class: A}}\nsources: {sources}\nevidence: {evidence}\n{extra}",
        encoding="utf-8",
    )
    return root


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the project with an item file and a result file."""
    folder = tmp_path / "shared"
    folder.mkdir()
    (folder / "secret.yaml").write_text(NEED.format(id="NEED-9"), encoding="utf-8")
    (folder / "results.xml").write_text(PASSING, encoding="utf-8")
    return folder


def messages(root: Path) -> list[tuple[str, str, str]]:
    return [(f.rule, str(f.location), f.message) for f in load_project(root).load_findings]


@pytest.mark.parametrize("entry", ["{outside}", "{outside}/*.yaml", "../shared", "../shared/**/*.yaml", "items/../.."])
def test_a_source_outside_the_project_is_refused(tmp_path: Path, outside: Path, entry: str) -> None:
    source = entry.format(outside=outside)
    root = project(tmp_path, f"[items, '{source}']")
    loaded = load_project(root)
    assert list(loaded.items) == ["NEED-1"]
    assert messages(root) == [
        (
            "Q001",
            "qms.yaml:2:18",
            f"sources entry '{source}' points outside the project: nothing is read from it; "
            "list the folder under `allow_outside:` in qms.yaml if it is meant to be read",
        )
    ]


def test_a_symbolic_link_out_of_the_project_is_refused(tmp_path: Path, outside: Path) -> None:
    root = project(tmp_path, "[items]")
    (root / "items" / "linked").symlink_to(outside)
    (root / "items" / "one.yaml").symlink_to(outside / "secret.yaml")
    assert list(load_project(root).items) == ["NEED-1"]
    (finding,) = messages(root)
    assert finding[:2] == ("Q001", "qms.yaml:2:11")
    assert finding[2].startswith("sources entry 'items' reaches ../shared/secret.yaml outside the project through")


def test_allow_outside_names_the_folders_that_may_be_read(tmp_path: Path, outside: Path) -> None:
    root = project(
        tmp_path,
        "[items, ../shared]",
        evidence=f"['{outside}/*.xml']",
        extra="allow_outside: [../shared]\n",
    )
    loaded = load_project(root)
    assert sorted(loaded.items) == ["NEED-1", "NEED-9"]
    assert loaded.items["NEED-9"].file == "../shared/secret.yaml"
    assert messages(root) == []
    assert result_files(loaded) == [outside / "results.xml"]


def test_evidence_outside_the_project_is_refused_and_not_read(
    tmp_path: Path, outside: Path, run_qms: Callable[..., Any]
) -> None:
    root = project(tmp_path, "[items]", evidence=f"['{outside}/*.xml', 'reports/*.xml']")
    (root / "items" / "tests.yaml").write_text(TEST, encoding="utf-8")
    (root / "reports").mkdir()
    (root / "reports" / "linked.xml").symlink_to(outside / "results.xml")
    loaded = load_project(root)
    assert result_files(loaded) == []
    found = [(rule, where.rsplit(":", 1)[0]) for rule, where, _ in messages(root)]
    assert found == [("Q001", "qms.yaml:3"), ("Q001", "qms.yaml:3")]
    result = run_qms("check", "--format", "json", cwd=root)
    assert '"rule": "E402"' in result.stdout  # the test counts as not run, not as passed


def test_symbolic_link_loops_end_and_each_file_is_read_once(tmp_path: Path) -> None:
    """Two links back into the tree under ``**`` made glob walk forever."""
    root = project(tmp_path, "[items, 'items/**/*.yaml', 'items/**', '**/needs.yaml']")
    (root / "items" / "deeper").mkdir()
    (root / "items" / "deeper" / "more.yaml").write_text(NEED.format(id="NEED-2"), encoding="utf-8")
    (root / "items" / "deeper" / "up").symlink_to(root / "items")
    (root / "items" / "again").symlink_to(root / "items")
    (root / "items" / "deeper" / "root").symlink_to(root)
    code = "import sys, pathlib; from qms.project import load_project; p = load_project(pathlib.Path(sys.argv[1]));"
    code += "print(sorted(p.items), p.files, [f.message for f in p.load_findings])"
    done = subprocess.run(
        [sys.executable, "-c", code, str(root)], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout == "['NEED-1', 'NEED-2'] ('items/deeper/more.yaml', 'items/needs.yaml') []\n"


def test_hidden_folders_are_not_walked(tmp_path: Path) -> None:
    root = project(tmp_path, "[items, 'items/**/*.yaml']")
    (root / "items" / ".venv" / "lib").mkdir(parents=True)
    (root / "items" / ".venv" / "lib" / "pkg.yaml").write_text("not: an item\n", encoding="utf-8")
    (root / "items" / ".hidden.yaml").write_text("not: an item\n", encoding="utf-8")
    loaded = load_project(root)
    assert (list(loaded.items), loaded.files, loaded.load_findings) == (["NEED-1"], ("items/needs.yaml",), ())


def test_a_site_qms_built_is_never_walked_for_items_results_or_records(tmp_path: Path) -> None:
    """A site publishes copies of the result files and records: read back, a copy counted as evidence
    (and kept counting after its file changed or went), and the next site copied the copy."""
    root = project(tmp_path, "['**/*.yaml']", "['**/*.xml']", "records: ['**/records/*.yaml']\n")
    (root / "tests.yaml").write_text(TEST, encoding="utf-8")
    (root / "reports").mkdir()
    (root / "reports" / "results.xml").write_text(PASSING, encoding="utf-8")
    site = root / "site"
    for copy in ("downloads/evidence/reports/results.xml", "downloads/evidence/items/needs.yaml"):
        (site / copy).parent.mkdir(parents=True, exist_ok=True)
        (site / copy).write_text((root / copy.replace("downloads/evidence/", "")).read_text("utf-8"), "utf-8")
    (site / "downloads" / "records").mkdir()
    (site / "downloads" / "records" / "run.yaml").write_text("not: a record\n", encoding="utf-8")
    (site / OUTPUT_MARKER).write_text("", encoding="utf-8")
    loaded = load_project(root)
    assert (loaded.files, loaded.load_findings) == (("items/needs.yaml", "tests.yaml"), ())
    assert [path.relative_to(root).as_posix() for path in result_files(loaded)] == ["reports/results.xml"]
    assert record_files(loaded) == ([], [])
    (site / OUTPUT_MARKER).unlink()  # not a site of qms's: read as any folder
    again = load_project(root)
    assert "site/downloads/evidence/items/needs.yaml" in again.files
    assert [path.name for path in record_files(again)[0]] == ["run.yaml"]


@pytest.mark.parametrize("setting", ["sources", "evidence", "records"])
def test_an_entry_naming_a_site_qms_built_is_a_finding_at_its_line(tmp_path: Path, setting: str) -> None:
    entries = {"sources": "[items]", "evidence": "[]", "records": "[]"}
    entries[setting] = "[items, 'site/downloads/**/*']" if setting == "sources" else "['site/downloads/**/*']"
    root = project(tmp_path, entries["sources"], entries["evidence"], f"records: {entries['records']}\n")
    (root / "site" / "downloads" / "evidence").mkdir(parents=True)
    (root / "site" / OUTPUT_MARKER).write_text("", encoding="utf-8")
    result = invoke_qms("check", "--format", "json", cwd=root)
    found = [finding for finding in json.loads(result.stdout)["findings"] if finding["rule"] == "Q001"]
    assert [(finding["line"], finding["message"]) for finding in found] == [
        (
            {"sources": 2, "evidence": 3, "records": 4}[setting],
            f"{setting} entry 'site/downloads/**/*' is in a site qms built: its files are copies, and nothing "
            "is read from it; name the folder the files themselves are in",
        )
    ]


def test_a_pattern_that_spells_a_hidden_name_reads_it(tmp_path: Path) -> None:
    root = project(tmp_path, "['.records/*.yaml']")
    (root / ".records").mkdir()
    (root / ".records" / "needs.yaml").write_text(NEED.format(id="NEED-3"), encoding="utf-8")
    assert list(load_project(root).items) == ["NEED-3"]


@pytest.mark.parametrize(
    ("setting", "written"),
    [
        ("sources", 'sources: [items, "items\\0x"]'),
        ("evidence", 'evidence: ["reports/\\0*.xml"]'),
        ("records", 'records: ["records\\0"]'),
        ("allow_outside", 'allow_outside: ["..\\0/shared"]'),
        ("templates", 'templates: "_templates\\0"'),
    ],
)
def test_a_path_setting_holding_a_nul_is_a_finding_at_its_line_not_a_crash(
    tmp_path: Path, setting: str, written: str
) -> None:
    """No file name holds a NUL, and the system refuses one (Path.resolve raises): each path setting
    with one is a Q002 finding at its line, and the entry is not used (`cache` is refused where it is
    used, see test_parse_cache)."""
    value = written.split(": ", 1)[1]
    if setting in ("sources", "evidence"):
        root = project(tmp_path, value if setting == "sources" else "[items]", value if setting == "evidence" else "[]")
    else:
        root = project(tmp_path, "[items]", extra=written + "\n")
    loaded = load_project(root)
    assert list(loaded.items) == ["NEED-1"]
    found = messages(root)
    assert len(found) == 1, found
    rule, location, message = found[0]
    assert rule == "Q002"
    assert location.startswith("qms.yaml:")
    assert message.startswith(setting) and "cannot hold a NUL character" in message
    shown = invoke_qms("check", "--no-cache", cwd=root)
    assert shown.exit_code == 1 and "\0" not in shown.output and "\\x00" in shown.output  # shown escaped


def test_a_link_that_leads_nowhere_is_a_finding_at_its_path_and_no_command_crashes(tmp_path: Path) -> None:
    """A link to a file that is not there (a shared file not checked out) and a link to itself are
    item files the project meant to hold: each is a Q001 at its own path, never skipped unsaid, and
    check, build and export go on (no traceback, no blame on the output folder)."""
    root = project(tmp_path, "[items]")
    (root / "items" / "shared.yaml").symlink_to("../../shared/needs.yaml")
    (root / "items" / "loop.yaml").symlink_to("loop.yaml")
    (root / "conf.py").write_text("extensions = ['qms.sphinx']\n", encoding="utf-8")

    check = invoke_qms("check", "--project", root)
    assert check.exit_code == 1
    assert "Traceback" not in check.output
    assert (
        "items/loop.yaml: error Q001: items/loop.yaml cannot be read: it is a symbolic link that leads back to "
        "itself (a loop); restore what it points to, or remove it"
    ) in check.output
    assert (
        "items/shared.yaml: error Q001: items/shared.yaml cannot be read: it is a symbolic link to "
        "../../shared/needs.yaml, which does not exist; restore what it points to, or remove it"
    ) in check.output
    assert [item.id for item in load_project(root)] == ["NEED-1"]

    export = invoke_qms("export", "xlsx", "--project", root, tmp_path / "records.xlsx")
    assert export.exit_code == 0, export.output
    build = invoke_qms("build", "--project", root)
    assert build.exit_code == 0, build.output
