"""A range of a long table's rows is fingerprinted by the rows it shows, so an edit reads again only the
pages whose rows changed; each range's fingerprint is kept by the fingerprint of its whole table's
inputs and the code, and is computed again whenever one of them changes."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from sphinx_support import build, cut_example, new_project, site_files

from qms.clauses import DEFAULT_EDITION
from qms.sphinx import sources
from qms.sphinx.state import load_build_data
from qms.sphinx.views.build import BuildData
from qms.sphinx.views.items import KeptBlocks, blocks_to_keep, reuse_blocks
from qms.sphinx.views.rows import KNOWN_RANGES, KnownRanges, bounds
from qms.sphinx.views.tables import MatrixView

MATRIX = ("matrix", "inputs", "no")


def _data(root: Path) -> BuildData:
    return load_build_data(SimpleNamespace(), root, edition=DEFAULT_EDITION, prefix="", clause_table="")  # type: ignore[arg-type]


def _retitle(root: Path, old: str, new: str) -> None:
    """Give the item titled ``old`` the title ``new``, in whichever records file holds it."""
    path = next(
        path for path in sorted((root / "traceability").glob("*.yaml")) if f"title: {old}\n" in path.read_text("utf-8")
    )
    path.write_text(path.read_text("utf-8").replace(f"title: {old}\n", f"title: {new}\n", 1), encoding="utf-8")


def _made(data: BuildData) -> list[str]:
    """The ranges of rows ``data`` answered (their answers are kept for the pages that show them)."""
    return sorted(query[1] for query in data.cache if query[0] == "rows")


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return new_project(tmp_path / "device")


def test_a_range_is_fingerprinted_by_the_rows_it_shows(project: Path) -> None:
    before = _data(project)
    first, second = ("rows", "1-1", *MATRIX), ("rows", "2-9", *MATRIX)
    digests = [before.digest(first), before.digest(second)]
    row = before.answer(first).table.rows[0]
    title = next(cell.title for cell in row if getattr(cell, "title", ""))
    later = [cell.title for row in before.answer(second).table.rows for cell in row if getattr(cell, "title", "")]
    assert title not in later, "the test needs a title shown in the first range only"
    _retitle(project, title, "Show the reading")
    after = _data(project)
    assert after.digest(MATRIX) != before.digest(MATRIX)  # the whole table reads every title
    assert after.digest(first) != digests[0]
    assert after.digest(second) == digests[1]  # its rows are as they were: its page is not read again


@pytest.mark.parametrize(
    "query",
    [MATRIX, ("matrix", "design", "yes"), ("table", "", "", "id,title,verified_by,status"), ("risk-register",)],
    ids=["matrix", "matrix with outcomes", "item table", "risk register"],
)
def test_a_range_made_alone_is_the_whole_table_cut_there(project: Path, query: tuple[str, ...]) -> None:
    data = _data(project)
    whole = data.answer(query)
    total = data.rows(query)
    table = whole.table if isinstance(whole, MatrixView) else whole
    assert total == len(table.rows) > 0
    for rows in ("1-1", f"1-{total + 5}", *([f"2-{total}"] if total > 1 else [])):
        first, last = bounds(rows)
        cut = replace(table, rows=table.rows[first - 1 : last])
        made = data.answer(("rows", rows, *query))
        if isinstance(whole, MatrixView):
            assert made == replace(whole, table=cut, range=(first, min(last, total), total))
        else:
            assert made == cut


def test_a_range_known_by_its_tables_fingerprint_is_not_answered_again(project: Path) -> None:
    data = _data(project)
    query = ("rows", "1-1", *MATRIX)
    known = KnownRanges()
    data.cache[KNOWN_RANGES] = known
    shown = data.digest(query)
    assert len(known.now) == 1 and _made(data) == ["1-1"]
    key = next(iter(known.now))
    # the next build, with the same table inputs: the kept fingerprint stands for the rows
    again = _data(project)
    again.cache[KNOWN_RANGES] = KnownRanges(earlier={key: "kept"})
    assert again.digest(query) != shown
    assert _made(again) == [] and MATRIX not in again.cache  # neither the range nor the matrix was made
    # another table's inputs (a title changed): the rows are answered again
    _retitle(project, "Display the current reading", "Show the reading")
    changed = _data(project)
    changed.cache[KNOWN_RANGES] = KnownRanges(earlier={key: "kept"})
    changed.digest(query)
    assert _made(changed) == ["1-1"]  # answered, not taken from what the last build knew
    assert MATRIX not in changed.cache  # the range's rows alone, not the whole matrix


def test_known_ranges_of_other_code_are_forgotten(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / sources.RANGES_FILE
    path.write_text(json.dumps({"code": sources.code_digest(), "ranges": {"a 1-9": "kept"}}), encoding="utf-8")
    data = _data(project)
    sources.keep_known_ranges(data, path)
    assert data.cache[KNOWN_RANGES].get("a 1-9") == "kept"
    monkeypatch.setattr(sources, "code_digest", lambda: "other code")
    other = _data(project)
    sources.keep_known_ranges(other, path)
    assert other.cache[KNOWN_RANGES].get("a 1-9") is None
    for damaged in ("not json", "[]", '{"code": "other code", "ranges": []}'):
        path.write_text(damaged, encoding="utf-8")
        sources.keep_known_ranges(other, path)
        assert other.cache[KNOWN_RANGES].earlier == {}


def test_ranges_a_build_answered_are_kept_though_it_read_no_page(project: Path, tmp_path: Path) -> None:
    """A build that reads no page again does not save its environment: the ranges it had to answer
    (after qms changed) are kept in a file of their own, and the next build answers none."""
    path = tmp_path / sources.RANGES_FILE
    query = ("rows", "1-1", *MATRIX)
    data = _data(project)
    sources.keep_known_ranges(data, path)
    shown = data.digest(query)
    env = SimpleNamespace(qms_build=SimpleNamespace(data=data))
    app = SimpleNamespace(doctreedir=str(tmp_path))
    sources.save_known_ranges(app, env)  # type: ignore[arg-type]
    written = path.stat().st_mtime_ns
    again = _data(project)
    sources.keep_known_ranges(again, path)
    assert again.digest(query) == shown
    assert MATRIX not in again.cache  # the whole matrix was not answered
    sources.save_known_ranges(app, SimpleNamespace(qms_build=SimpleNamespace(data=again)))  # type: ignore[arg-type]
    assert path.stat().st_mtime_ns == written  # the same ranges: the file is not written again


def _kept_after(project: Path, queries: list[tuple[str, ...]]) -> tuple[KeptBlocks, list[str]]:
    """What a build that asked ``queries`` (and every item's block) keeps for the next, and their fingerprints."""
    data = _data(project)
    digests = [data.digest(query) for query in queries]
    for item_id in data.project.items:
        data.digest(("item", item_id))
    kept = blocks_to_keep(data)
    assert kept is not None
    return kept, digests


def test_a_range_whose_items_did_not_change_keeps_its_fingerprint_after_its_table_changed(project: Path) -> None:
    first, second = ("rows", "1-1", *MATRIX), ("rows", "2-9", *MATRIX)
    kept, digests = _kept_after(project, [first, second])
    before = _data(project)
    title = next(cell.title for cell in before.answer(first).table.rows[0] if getattr(cell, "title", ""))
    _retitle(project, title, "Show the reading")
    after = _data(project)
    reuse_blocks(after, kept)
    assert after.digest(second) == digests[1] and _made(after) == []  # taken: its rows show no edited item
    assert after.digest(first) != digests[0] and _made(after) == ["1-1"]  # made again, alone
    assert after.digest(MATRIX) != before.digest(MATRIX)
    fresh = _data(project)
    assert [fresh.digest(first), fresh.digest(second)] == [after.digest(first), after.digest(second)]


def _unlink_a_test(project: Path) -> None:
    """Take the first item a test verifies out of its ``verifies``."""
    data = _data(project)
    test = next(item for item in data.project.of_kind("test") if len(item.links("verifies")) > 1)
    path = project / test.file
    text = path.read_text(encoding="utf-8")
    start = text.index(f"id: {test.id}\n")
    target = test.links("verifies")[0]
    at = text.index(f"verifies: [{target}, ", start)
    path.write_text(text[:at] + "verifies: [" + text[at + len(f"verifies: [{target}, ") :], encoding="utf-8")


def test_after_a_link_changed_every_range_taken_is_the_one_made_afresh(project: Path) -> None:
    queries = [("rows", "1-1", *MATRIX), ("rows", "2-9", *MATRIX)]
    kept, _ = _kept_after(project, queries)
    _unlink_a_test(project)
    after = _data(project)
    reuse_blocks(after, kept)
    taken = [after.digest(query) for query in queries]
    assert _made(after)  # a range showing an item whose links changed is made again
    fresh = _data(project)
    assert taken == [fresh.digest(query) for query in queries]


@pytest.mark.slow
def test_a_title_edit_writes_again_only_the_ranges_that_show_it(tmp_path: Path) -> None:
    root = cut_example(tmp_path / "project", 20)
    assert build(root).exit_code == 0
    site = root / "_build" / "html"
    matrices = sorted(path.name for path in site.glob("traceability-matrix*.html"))
    assert len(matrices) > 2
    path = root / "traceability" / "system_requirements.yaml"
    text = path.read_text(encoding="utf-8")
    title = re.search(r"- id: SYS-020\n    title: (.+)\n", text)
    assert title is not None
    path.write_text(text.replace(f"title: {title[1]}\n", "title: A new title\n", 1), encoding="utf-8")
    result = build(root, "-v")
    assert result.exit_code == 0, result.output
    # the ranges that show it are changed in place (see test_sphinx_incremental.py), or written
    written = set(re.findall(r"writing output\.\.\. \[[ \d]+%\] (traceability-matrix[\w-]*)", result.output))
    in_place = re.search(r"qms: \d+ page\(s\) changed in place: (.+)", result.output)
    changed = in_place[1].split(", ") if in_place else []
    written |= {name for name in changed if name.startswith("traceability-matrix")}
    assert written and written < set(name.removesuffix(".html") for name in matrices)
    # the ranges' rows are filled in when their pages are written: no part of the matrix is read again
    assert not re.findall(r"reading sources\.\.\. \[[ \d]+%\] (traceability-matrix[\w-]*)", result.output)
    clean = tmp_path / "clean"
    assert build(root, "--clean", "-o", str(clean)).exit_code == 0
    assert site_files(site) == site_files(clean)


@pytest.mark.parametrize(
    "query",
    [
        MATRIX,
        ("matrix", "design", "yes"),
        ("table", "", "", "id,title,verified_by,status"),
        ("table", "software_requirement", "status=passed", "id,title"),
        ("table", "hazard", "title=nothing of the kind", "id,title"),  # no row: answered, and says why
        ("risk-register",),
    ],
    ids=["matrix", "matrix with outcomes", "item table", "filtered table", "empty table", "risk register"],
)
def test_what_reading_takes_of_a_table_counted_is_what_it_takes_of_the_table_answered(
    project: Path, query: tuple[str, ...]
) -> None:
    counted, answered = _data(project), _data(project)
    assert counted.read_digest_now(query) == answered.read_digest(query, answered.answer(query))
    assert (query in counted.cache) == (counted.rows(query) == 0), "a table with rows is counted, not answered"


def test_a_table_without_rows_is_read_again_when_it_gains_one(tmp_path: Path) -> None:
    root = new_project(tmp_path / "device")
    query = ("table", "software_requirement", "title=Show the reading", "id,title")
    before = _data(root).read_digest_now(query)
    title = _data(root).project.of_kind("software_requirement")[0].title
    _retitle(root, title, "Show the reading")
    after = _data(root)
    assert after.rows(query) == 1
    assert after.read_digest_now(query) != before
    assert after.read_digest_now(query) == after.read_digest(query, after.answer(query))
