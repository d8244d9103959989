"""A range of a long table's rows is fingerprinted by the rows it shows, so an edit reads again only the
pages whose rows changed; each range's fingerprint is kept by the fingerprint of its whole table's
inputs and the code, and is computed again whenever one of them changes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

import pytest
from sphinx_support import build, cut_example, new_project, site_files

from qms.clauses import DEFAULT_EDITION
from qms.sphinx import sources
from qms.sphinx.state import load_build_data
from qms.sphinx.views.build import BuildData
from qms.sphinx.views.rows import KNOWN_RANGES, KnownRanges

MATRIX = ("matrix", "inputs", "no")


def _data(root: Path) -> BuildData:
    return load_build_data(SimpleNamespace(), root, edition=DEFAULT_EDITION, prefix="", clause_table="")  # type: ignore[arg-type]


def _retitle(root: Path, old: str, new: str) -> None:
    """Give the item titled ``old`` the title ``new``, in whichever records file holds it."""
    path = next(
        path for path in sorted((root / "traceability").glob("*.yaml")) if f"title: {old}\n" in path.read_text("utf-8")
    )
    path.write_text(path.read_text("utf-8").replace(f"title: {old}\n", f"title: {new}\n", 1), encoding="utf-8")


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


def test_a_range_known_by_its_tables_fingerprint_is_not_answered_again(project: Path) -> None:
    data = _data(project)
    query = ("rows", "1-1", *MATRIX)
    known = KnownRanges()
    data.cache[KNOWN_RANGES] = known
    shown = data.digest(query)
    assert len(known.now) == 1
    key = next(iter(known.now))
    # the next build, with the same table inputs: the kept fingerprint stands for the rows
    again = _data(project)
    again.cache[KNOWN_RANGES] = KnownRanges(earlier={key: "kept"})
    assert again.digest(query) != shown
    assert MATRIX not in again.cache  # the whole matrix was not computed
    # another table's inputs (a title changed): the rows are answered again
    _retitle(project, "Display the current reading", "Show the reading")
    changed = _data(project)
    changed.cache[KNOWN_RANGES] = KnownRanges(earlier={key: "kept"})
    assert MATRIX not in changed.cache
    changed.digest(query)
    assert MATRIX in changed.cache  # answered, not taken from what the last build knew


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
