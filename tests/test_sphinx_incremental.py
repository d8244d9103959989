"""Rebuilds read again only the pages whose data changed, and end where a clean build ends."""

from __future__ import annotations

import os
import pickle
import re
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import furo
import jinja2
import pytest
from sphinx_support import build, cut_example, new_project, page, site_files, site_page, text_of

import qms.sphinx as qms_sphinx
from qms import checking, parsecache
from qms.cli import build as build_command
from qms.cli.build_inputs import RECORD
from qms.matrix import Chain
from qms.rules.registry import CHECKS
from qms.sphinx import THEME_TEMPLATES_FOLDER, sources
from qms.sphinx.views import items, tables


def _read_pages(output: str) -> list[str]:
    """The pages Sphinx read, from its verbose output."""
    return re.findall(r"reading sources\.\.\. \[\s*\d+%\] (\S+)", output)


def _sphinx_wrote(output: str) -> list[str]:
    """The pages Sphinx wrote, from its verbose output."""
    return re.findall(r"writing output\.\.\. \[\s*\d+%\] (\S+)", output)


def _changed_in_place(output: str) -> list[str]:
    """The pages whose changed blocks the build put into the last build's page, from its verbose output."""
    found = re.search(r"qms: \d+ page\(s\) changed in place: (.+)", output)
    return found.group(1).split(", ") if found else []


def _written_pages(output: str) -> list[str]:
    """The pages written again, by Sphinx or changed in place."""
    wrote = _sphinx_wrote(output)
    return wrote + [docname for docname in _changed_in_place(output) if docname not in wrote]


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def _rebuild_after_edit(root: Path, relative: str, old: str, new: str) -> str:
    """Build, replace ``old`` by ``new`` in one item file, build again; the second build's output."""
    assert build(root).exit_code == 0
    _edit(root / relative, old, new)
    result = build(root, "--verbose")
    assert result.exit_code == 0, result.output
    return result.stdout


def _read_and_written(root: Path, relative: str, old: str, new: str) -> tuple[list[str], list[str]]:
    """The pages read and the pages written by the build after one edit (see :func:`_rebuild_after_edit`)."""
    output = _rebuild_after_edit(root, relative, old, new)
    return _read_pages(output), _written_pages(output)


def _clean_site(root: Path, folder: Path) -> dict[str, bytes]:
    result = build(root, "--clean", "-o", str(folder))
    assert result.exit_code == 0, result.output
    return site_files(folder)


@pytest.mark.slow
def test_one_changed_text_rereads_one_page(tmp_path: Path) -> None:
    root = new_project(tmp_path / "device")
    output = _rebuild_after_edit(root, "traceability/requirements.yaml", "whole minutes", "full minutes")
    assert "qms: 1 page(s) show project data that changed" in output
    assert _read_pages(output) == ["software-requirements"]
    assert "rounded down to full minutes" in page(root / "_build" / "html", "software-requirements.html")
    assert site_files(root / "_build" / "html") == _clean_site(root, tmp_path / "clean")


@pytest.mark.slow
@pytest.mark.parametrize("beside_from", [None, 2], ids=["one-process", "two-processes"])
def test_a_renamed_item_writes_again_the_pages_that_show_its_title_and_reads_again_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, beside_from: int | None
) -> None:
    # the matrices show the title in rows filled in when the page is written: written, not read again;
    # their rows are put into the pages the last build wrote, without Sphinx writing them again (from
    # SPLICED_BESIDE_FROM pages, every other one by a second process)
    collected: list[object] = []
    if beside_from is not None:
        monkeypatch.setattr(sources, "SPLICED_BESIDE_FROM", beside_from)
        real = sources.beside

        def noting(work: Callable[[], Any]) -> Callable[[], Any] | None:
            collect = real(work)
            return None if collect is None else lambda: collected.append(collect()) or collect()

        monkeypatch.setattr(sources, "beside", noting)
    root = new_project(tmp_path / "device")
    output = _rebuild_after_edit(root, "traceability/needs.yaml", "Know the current reading", "Know the latest")
    if beside_from is not None:
        assert collected and all(isinstance(made, list) and made and all(made) for made in collected)
    read, written = _read_pages(output), _written_pages(output)
    assert "design-inputs" in read  # its block: its title is indexed when the page is read
    assert not {"traceability-matrix", "design-traceability"} & set(read)
    assert {"design-inputs", "traceability-matrix", "design-traceability"} <= set(written)
    assert {"traceability-matrix", "design-traceability"} <= set(_changed_in_place(output))
    assert not {"traceability-matrix", "design-traceability"} & set(_sphinx_wrote(output))
    assert "clause-index" not in written and "risk-management-plan" not in written  # they show no item title
    assert "Know the latest" in page(root / "_build" / "html", "traceability-matrix.html")
    assert site_files(root / "_build" / "html") == _clean_site(root, tmp_path / "clean")


@pytest.mark.slow
def test_a_renamed_neighbour_writes_again_the_blocks_that_show_it_without_reading_their_pages(tmp_path: Path) -> None:
    # SWR-001's block names the test that verifies it, with its title: filled in when the page is written
    root = new_project(tmp_path / "device")
    read, written = _read_and_written(root, "traceability/tests.yaml", "Reading age display", "Reading age shown")
    assert "software-requirements" in written and "software-requirements" not in read
    block = site_page(root / "_build" / "html", "software-requirements.html").select_one("section#SWR-001")
    assert block is not None and "Reading age shown" in block.get_text()
    assert site_files(root / "_build" / "html") == _clean_site(root, tmp_path / "clean")


@pytest.mark.slow
def test_a_build_by_other_code_of_qms_reads_every_page_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the pages the last build read were made by that code: another release renders them anew
    # (a file that no page shows makes each build run Sphinx, which finds the environment it kept)
    root = new_project(tmp_path / "device")
    assert build(root).exit_code == 0
    (root / "notes.txt").write_text("one", encoding="utf-8")
    same_code = build(root, "--verbose")
    assert "pickled environment... done" in same_code.stdout and _read_pages(same_code.stdout) == []
    (root / "notes.txt").write_text("two", encoding="utf-8")
    monkeypatch.setattr(qms_sphinx, "code_digest", lambda: "0" * 20)
    other = build(root, "--verbose")
    assert other.exit_code == 0, other.output
    pages = {path.stem for path in (root / "_build" / "html").glob("*.html")} - {"genindex", "search"}
    assert set(_read_pages(other.stdout)) == pages


def _heat_cell(site: Path, name: str, when: str, severity: str, probability: str) -> str:
    """What one cell of a heat map on a page shows (its count, and the ids it lists)."""
    (heat_map,) = site_page(site, name).select(f"table.qms-heat-{when}")
    headers = [text_of(cell) for cell in heat_map.select("thead th")]
    column = next(index for index, header in enumerate(headers) if header.endswith(probability))
    (row,) = [row for row in heat_map.select("tbody tr") if text_of(row.select("td")[0]).endswith(severity)]
    return row.select("td")[column].get_text(" ", strip=True)


@pytest.mark.slow
def test_a_new_severity_writes_the_heat_maps_and_counts_without_reading_their_pages(tmp_path: Path) -> None:
    # The heat maps, the risk classes, the claims of coverage and the release check are blocks filled
    # when their pages are written: the pages showing them change in place, none is read again
    # except the hazard's own (its block shows its severity as text)
    root = new_project(tmp_path / "device")
    old = "    severity: Serious\n    probability: Occasional\n    controls: [SWR-001]"
    new = old.replace("Serious", "Critical")
    read, written = _read_and_written(root, "risk_register/hazards.yaml", old, new)
    assert not {"risk-management-report", "risk-management-plan", "index", "release-notes"} & set(read)
    assert {"risk-management-report", "risk-register"} <= set(written)
    assert "risk-management-plan" not in written  # its map shows the policy, which stayed as it was
    site = root / "_build" / "html"
    assert _heat_cell(site, "risk-management-report.html", "initial", "Critical", "Occasional") == "1 HAZ-01"
    assert _heat_cell(site, "risk-management-report.html", "initial", "Serious", "Occasional") == "0"
    assert _heat_cell(site, "risk-register.html", "initial", "Critical", "Occasional") == "1 HAZ-01"
    assert site_files(site) == _clean_site(root, tmp_path / "clean")


@pytest.mark.slow
def test_a_page_whose_last_version_does_not_hold_its_old_blocks_is_written_by_sphinx(tmp_path: Path) -> None:
    root = new_project(tmp_path / "device")
    assert build(root).exit_code == 0
    matrix = root / "_build" / "html" / "traceability-matrix.html"
    # changed as a program keeping sizes and times would change it: the site's files look as their
    # build left them (one that does not is written again whole), the page's text does not
    written = matrix.stat()
    _edit(matrix, "Know the", "Know thy")
    os.utime(matrix, ns=(written.st_atime_ns, written.st_mtime_ns))
    assert matrix.stat().st_size == written.st_size
    output = _rebuild_after_edit(root, "traceability/needs.yaml", "Know the current reading", "Know the latest")
    assert "traceability-matrix" in _sphinx_wrote(output) and "traceability-matrix" not in _changed_in_place(output)
    assert "design-traceability" in _changed_in_place(output)
    assert site_files(root / "_build" / "html") == _clean_site(root, tmp_path / "clean")


@pytest.mark.slow
def test_a_build_that_changes_pages_in_place_only_saves_the_environment_itself(tmp_path: Path) -> None:
    # A test's method shows in blocks filled when their pages are written: no page is read again, and
    # every page it shows on is changed in place. Sphinx saves the environment (the pages' new
    # fingerprints) only when it reads or writes a page, so qms saves it: without it, undoing the edit
    # would find every page as the environment remembers it, and change none.
    root = new_project(tmp_path / "device")
    environment = root / "_build" / "doctrees" / "environment.pickle"
    assert build(root).exit_code == 0
    saved = environment.stat().st_mtime_ns
    output = _rebuild_after_edit(root, "traceability/tests.yaml", "method: test", "method: analysis")
    assert _read_pages(output) == [] and _sphinx_wrote(output) == [] and _changed_in_place(output)
    assert environment.stat().st_mtime_ns != saved
    undone = _rebuild_after_edit(root, "traceability/tests.yaml", "method: analysis", "method: test")
    assert _sphinx_wrote(undone) == [] and set(_written_pages(undone)) == set(_written_pages(output))
    assert site_files(root / "_build" / "html") == _clean_site(root, tmp_path / "clean")


@pytest.mark.slow
def test_a_piece_several_blocks_of_a_page_show_alike_is_changed_in_place_in_its_own_block(tmp_path: Path) -> None:
    # HAZ-02 is HAZ-01 again under another id and title: the risk register shows the same estimates,
    # controls and causes for both, piece for piece. Its severity edited, its block changes where it
    # stands, HAZ-01's stays: the page is changed in place, not written again.
    root = new_project(tmp_path / "device")
    hazards = root / "risk_register" / "hazards.yaml"
    text = hazards.read_text(encoding="utf-8")
    first = text[text.index("  - id: HAZ-01") : text.index("  - id: CAUSE-01")]
    twin = first.replace("HAZ-01", "HAZ-02").replace("Old reading taken as current", "Old reading shown as new")
    hazards.write_text(text.replace(first, first + twin), encoding="utf-8")
    assert build(root).exit_code == 0
    register = page(root / "_build" / "html", "risk-register.html")
    assert register.count("probability Occasional") >= 2, "both hazards show the same estimate"
    hazards.write_text(text.replace(first, first + twin.replace("severity: Serious", "severity: Critical", 1)))
    edited = build(root, "--verbose")
    assert edited.exit_code == 0, edited.output
    assert "risk-register" in _changed_in_place(edited.stdout) and "risk-register" not in _sphinx_wrote(edited.stdout)
    assert site_files(root / "_build" / "html") == _clean_site(root, tmp_path / "clean")


@pytest.mark.slow
def test_after_a_build_whose_site_was_never_put_in_place_the_next_one_starts_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = new_project(tmp_path / "device")
    assert build(root).exit_code == 0
    _edit(root / "traceability" / "needs.yaml", "Know the current reading", "Know the latest")
    with monkeypatch.context() as stopped:
        stopped.setattr(build_command, "replace_tree", _no_room)
        assert build(root).exit_code != 0
    assert "Know the latest" not in page(root / "_build" / "html", "traceability-matrix.html")
    rebuilt = build(root, "--verbose")
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "traceability-matrix" in _read_pages(rebuilt.stdout)  # afresh: the environment was forgotten
    assert site_files(root / "_build" / "html") == _clean_site(root, tmp_path / "clean")


def _calls(monkeypatch: pytest.MonkeyPatch, owner: object, name: str, noted: Callable[..., str | None]) -> list[str]:
    """What ``noted`` makes of each call of ``owner.name`` (None: the call is left out), as builds go."""
    calls: list[str] = []
    original = getattr(owner, name)

    def counted(*arguments: Any, **options: Any) -> Any:
        found = noted(*arguments, **options)
        if found is not None:
            calls.append(found)
        return original(*arguments, **options)

    monkeypatch.setattr(owner, name, counted)
    return calls


def _navigation_trees_made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The pages whose navigation tree the theme makes from Sphinx's toctree (furo), as builds go."""
    return _calls(
        monkeypatch,
        furo,
        "_compute_navigation_tree",
        lambda context: context["pagename"] if "toctree" in context else None,
    )


@pytest.mark.slow
def test_pages_written_again_take_the_navigation_trees_the_last_build_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = new_project(tmp_path / "device")
    made = _navigation_trees_made(monkeypatch)
    _, written = _read_and_written(root, "traceability/tests.yaml", "Reading age display", "Reading age shown")
    assert "software-requirements" in written and "index" in made  # the first build made every tree
    made.clear()
    _read_and_written(root, "traceability/tests.yaml", "Reading age shown", "Reading age seen")
    assert made == []  # no page took another place in the navigation: every tree is the last build's
    assert site_files(root / "_build" / "html") == _clean_site(root, tmp_path / "clean")


def _theme_templates_compiled(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The HTML templates Jinja compiles (furo's and those it extends from Sphinx), as builds go;
    qms's own templates are ``.rst.jinja``."""

    def html(
        environment: jinja2.Environment, source: str, name: str | None = None, filename: str | None = None, *rest: Any
    ) -> str | None:
        return filename if filename is not None and filename.endswith(".html") else None

    return _calls(monkeypatch, jinja2.Environment, "compile", html)


@pytest.mark.slow
def test_the_theme_templates_are_compiled_once_and_kept_for_the_next_builds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = new_project(tmp_path / "device")
    compiled = _theme_templates_compiled(monkeypatch)
    assert build(root).exit_code == 0
    assert {"page.html", "base.html"} <= {Path(filename).name for filename in compiled}
    kept = root / "_build" / "doctrees" / THEME_TEMPLATES_FOLDER
    assert len(list(kept.iterdir())) == len(set(compiled))
    compiled.clear()
    _, written = _read_and_written(root, "traceability/tests.yaml", "Reading age display", "Reading age shown")
    assert "software-requirements" in written and compiled == []  # every page written from the kept ones
    assert site_files(root / "_build" / "html") == _clean_site(root, tmp_path / "clean")


def _matrices_walked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The chains whose matrix a build walks link by link, whole (instead of taking the last build's
    rows), and those it walks only where their paths changed (noted ``again``)."""
    calls: list[str] = []

    def noting(walk: Callable[..., Any], how: str) -> Callable[..., Any]:
        def walked(project: object, chain: Chain, *rest: object, **options: object) -> Any:
            calls.append(chain.title + how)
            return walk(project, chain, *rest, **options)

        return walked

    for name, how in (("trace_matrix", ""), ("shaped_trace_matrix", ""), ("retrace_matrix", " again")):
        monkeypatch.setattr(tables, name, noting(getattr(tables, name), how))
    return calls


@pytest.mark.slow
def test_a_title_edit_takes_the_rows_of_the_matrices_the_last_build_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = new_project(tmp_path / "device")
    walked = _matrices_walked(monkeypatch)
    assert build(root).exit_code == 0
    assert walked  # the first build walks every matrix it shows
    walked.clear()
    _, written = _read_and_written(root, "traceability/needs.yaml", "Know the current reading", "Know the latest")
    assert "traceability-matrix" in written and walked == []  # the matrices show the title, on the same rows
    assert "Know the latest" in page(root / "_build" / "html", "traceability-matrix.html")
    assert site_files(root / "_build" / "html") == _clean_site(root, tmp_path / "clean")


@pytest.mark.slow
def test_a_link_edit_walks_again_the_paths_it_changed_in_the_matrices_that_follow_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = new_project(tmp_path / "device")
    assert build(root).exit_code == 0
    walked = _matrices_walked(monkeypatch)
    _, written = _read_and_written(
        root, "traceability/tests.yaml", "verifies: [SYS-001, SWR-001]", "verifies: [SWR-001]"
    )
    assert "Design traceability again" in walked and "Design traceability" not in walked
    assert "traceability-matrix" in written
    assert site_files(root / "_build" / "html") == _clean_site(root, tmp_path / "clean")
    (root / "_build" / "doctrees" / tables.SHAPES_FILE).unlink()  # the shapes gone: walked whole
    walked.clear()
    _read_and_written(root, "traceability/tests.yaml", "verifies: [SWR-001]", "verifies: [SYS-001, SWR-001]")
    assert "Design traceability" in walked and "Design traceability again" not in walked
    assert site_files(root / "_build" / "html") == _clean_site(root, tmp_path / "clean-2")


@pytest.mark.slow
def test_matrix_rows_kept_by_other_code_or_beside_a_wrong_link_are_walked_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = new_project(tmp_path / "device")
    assert build(root).exit_code == 0
    kept = root / "_build" / "doctrees" / sources.MATRICES_FILE
    kept.write_bytes(pickle.dumps(("other code", pickle.loads(kept.read_bytes())[1])))
    walked = _matrices_walked(monkeypatch)
    _read_and_written(root, "traceability/needs.yaml", "Know the current reading", "Know the latest")
    assert "Design traceability" in walked  # not the rows of another version of qms
    # a link to an item of a kind its field does not take (Q006): the rows carry the link's finding
    edit = ("verifies: [SYS-001, SWR-001]", "verifies: [SYS-001, SWR-001, NEED-01]")
    _read_and_written(root, "traceability/tests.yaml", *edit)
    walked.clear()
    _read_and_written(root, "traceability/needs.yaml", "Know the latest", "Know the newest")
    assert "Design traceability" in walked
    assert "NEED-01" in page(root / "_build" / "html", "traceability-matrix.html")
    assert site_files(root / "_build" / "html") == _clean_site(root, tmp_path / "clean")


def test_a_matrix_keeps_its_rows_under_the_same_key_in_every_process() -> None:
    # the risk chain follows a set of link fields: the key must not take the set's order of one process
    program = "from qms.matrix import RISK; from qms.sphinx.views.tables import kept_key; print(kept_key(RISK))"
    keys = {
        subprocess.run(
            [sys.executable, "-c", program],
            env={**os.environ, "PYTHONHASHSEED": str(seed)},
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        for seed in range(6)
    }
    assert len(keys) == 1 and "'controls', 'verifies'" in keys.pop()


@pytest.mark.slow
def test_a_page_with_another_title_makes_every_navigation_tree_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = new_project(tmp_path / "device", name="Reading Device")
    assert build(root).exit_code == 0
    made = _navigation_trees_made(monkeypatch)
    read, written = _read_and_written(root, "qms.yaml", 'name: "Reading Device"', 'name: "Glucose Reader"')
    assert "index" in read and written and sorted(made) == sorted({*written, "search"})
    assert "Glucose Reader" in page(root / "_build" / "html", "software-requirements.html")
    assert site_files(root / "_build" / "html") == _clean_site(root, tmp_path / "clean")


@pytest.mark.slow
def test_a_new_item_file_appears_and_nothing_is_read_when_nothing_changed(tmp_path: Path) -> None:
    root = new_project(tmp_path / "device")
    assert build(root).exit_code == 0
    (root / "traceability" / "more.yaml").write_text(
        "kind: software_requirement\nitems:\n  - id: SWR-002\n    title: Show the unit\n"
        "    text: The software shall show the unit of the reading.\n    derives_from: [SYS-001]\n",
        encoding="utf-8",
    )
    result = build(root, "--verbose")
    assert result.exit_code == 0, result.output
    assert site_page(root / "_build" / "html", "software-requirements.html").select_one("section#SWR-002")
    (root / "_build" / "doctrees" / RECORD).unlink()  # Sphinx itself runs, not the check that skips it
    again = build(root, "--verbose")
    assert _read_pages(again.stdout) == []
    assert "no targets are out of date." in again.stdout
    assert site_files(root / "_build" / "html") == _clean_site(root, tmp_path / "clean")


@pytest.mark.slow
def test_a_link_to_an_unknown_item_changes_the_matrices_as_a_clean_build_shows_them(tmp_path: Path) -> None:
    # A test that links to nothing has a row of its own in the matrices; naming a requirement no
    # item has takes the row out, though no title and no resolved link changed.
    lonely = "kind: test\nitems:\n  - id: TST-900\n    title: Lonely test\n    method: test\n"
    root = new_project(tmp_path / "device", files={"traceability/lonely.yaml": lonely})
    assert build(root).exit_code == 0
    assert "TST-900" in page(root / "_build" / "html", "traceability-matrix.html")
    output = _rebuild_after_edit(
        root, "traceability/lonely.yaml", "method: test\n", "method: test\n    verifies: [SWR-404]\n"
    )
    assert {"traceability-matrix", "design-traceability"} <= set(_written_pages(output))
    assert "TST-900" not in page(root / "_build" / "html", "traceability-matrix.html")
    assert site_files(root / "_build" / "html") == _clean_site(root, tmp_path / "clean")


def _undefined_labels(output: str) -> list[str]:
    return sorted(set(re.findall(r"undefined label: '([^']+)'", output)))


@pytest.mark.slow
def test_a_section_that_goes_and_comes_back_is_linked_as_a_clean_build_links_it(tmp_path: Path) -> None:
    # Sphinx writes again only the pages it read again; the FDA page links into the release notes'
    # sections, so when those go (a template override leaves them out) and come back, the FDA page
    # must be written again too: first with the warnings a clean build gives, then without them.
    root = new_project(tmp_path / "device")
    assert build(root).exit_code == 0
    override = root / "_templates" / "release-notes.rst.jinja"
    override.parent.mkdir()
    override.write_text(
        '{% extends "default/release-notes.rst.jinja" %}\n{% block body %}\nOur own notes.\n{% endblock %}\n',
        encoding="utf-8",
    )
    without = build(root)
    assert without.exit_code == 0, without.output
    clean_without = build(root, "--clean", "-o", str(tmp_path / "clean-without"))
    assert _undefined_labels(without.output) == _undefined_labels(clean_without.output)
    assert "rel-changes" in _undefined_labels(without.output)
    override.unlink()
    again = build(root)
    assert again.exit_code == 0, again.output
    assert _undefined_labels(again.output) == []
    assert 'href="release-notes.html#rel-changes"' in page(root / "_build" / "html", "fda-documentation.html")
    assert site_files(root / "_build" / "html") == _clean_site(root, tmp_path / "clean")


@pytest.mark.slow
def test_a_rebuild_parses_only_the_edited_file_and_keeps_the_findings_of_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the build's own process parses and checks here (the check beside it would, in a process whose
    # calls go unnoted: tests/test_check_beside.py)
    monkeypatch.setattr(checking, "can_fork", lambda: False)
    root = new_project(tmp_path / "device")
    assert build(root).exit_code == 0
    parsed: list[str] = []
    parse = parsecache.parse_bytes
    monkeypatch.setattr(parsecache, "parse_bytes", lambda data, path: parsed.append(path) or parse(data, path))
    checked: list[str] = []
    check = CHECKS["T101"]
    monkeypatch.setitem(CHECKS, "T101", lambda context: checked.append("T101") or check(context))
    written: set[str] = set()  # the files of the items whose block fingerprint took them as written
    fingerprint = items._written_digest
    monkeypatch.setattr(items, "_written_digest", lambda item: written.add(item.file) or fingerprint(item))
    (root / "_build" / "doctrees" / RECORD).unlink()  # Sphinx itself runs, with its extension's loading
    assert build(root).exit_code == 0
    assert (parsed, checked, written) == ([], [], set())  # nothing changed: every file, finding and fingerprint kept
    output = _rebuild_after_edit(root, "traceability/requirements.yaml", "whole minutes", "full minutes")
    assert (parsed, checked) == (["traceability/requirements.yaml"], ["T101"])
    assert written == {"traceability/requirements.yaml"}
    assert "rounded down to full minutes" in page(root / "_build" / "html", "software-requirements.html")
    assert _read_pages(output) == ["software-requirements"]
    assert site_files(root / "_build" / "html") == _clean_site(root, tmp_path / "clean")


@pytest.mark.slow
def test_an_edit_in_one_part_of_a_long_document_writes_its_part_and_not_the_pages_listing_it(tmp_path: Path) -> None:
    # The example cut into pages of 20 items: SWR-050 is on software-requirements-part-3, whose
    # document's first page lists the parts (its toctree) and shows a table of the software
    # requirements that are risk controls (their ids, titles, control types: not their text).
    root = cut_example(tmp_path / "device", 20)
    alerts = root / "traceability" / "software_requirements" / "alerts.yaml"
    assert build(root).exit_code == 0
    site = root / "_build" / "html"
    assert site_page(site, "software-requirements-part-3.html").select_one("section#SWR-050")

    _edit(alerts, "they fire even if the app process", "they fire even when the app process")
    edited = build(root, "--verbose")
    assert edited.exit_code == 0, edited.output
    read, written = _read_pages(edited.stdout), _written_pages(edited.stdout)
    assert "software-requirements-part-3" in read and "software-requirements" not in read
    assert read == ["software-requirements-part-3"]
    # the first pages list the parts' headings, which stayed as they were; the pages stating coverage
    # and the release check (the edit is a change since approval), and those listing the open
    # change-control findings (the edit makes the links to SWR-050 suspect: C501), are changed in
    # place, not read
    assert "software-requirements" not in written
    in_place = {"index", "release-notes", "gaps", "design-traceability-part-6"}
    assert set(written) - set(read) == set(_changed_in_place(edited.stdout)) == in_place
    findings = [table.get_text() for table in site_page(site, "gaps.html").select("table.qms-findings-table")]
    assert any("C501" in text and "SWR-050" in text for text in findings), "the finding the edit brought shows"
    assert site_files(site) == _clean_copy_site(root, tmp_path / "clean-text")

    _edit(alerts, "title: Alerts and alarms", "title: Alerts and alarm signals")  # a heading of part 3
    renamed = build(root, "--verbose")
    assert renamed.exit_code == 0, renamed.output
    assert "software-requirements" not in _read_pages(renamed.stdout)
    assert "software-requirements" in _written_pages(renamed.stdout)  # its toctree shows the new heading
    assert site_files(site) == _clean_copy_site(root, tmp_path / "clean-heading")


def _git(root: Path, *arguments: str) -> None:
    command = ["git", "-c", "user.name=Quality Engineer", "-c", "user.email=qe@example.org"]
    subprocess.run([*command, "-c", "commit.gpgsign=false", *arguments], cwd=root, check=True, capture_output=True)


def _clean_copy_site(root: Path, folder: Path) -> dict[str, bytes]:
    """The site a clean build of a copy of the checkout writes (the build folder of ``root`` untouched)."""
    copy = shutil.copytree(root, folder, ignore=shutil.ignore_patterns("_build"))
    result = build(copy, "--clean")
    assert result.exit_code == 0, result.output
    return site_files(copy / "_build" / "html")


def _committed_and_built(tmp_path: Path) -> Path:
    """A new project in git, with one commit, built."""
    root = new_project(tmp_path / "device")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "Records")
    assert build(root).exit_code == 0
    return root


def _revision_rows(site: Path) -> dict[str, str]:
    """The "Source revision" each page with a document-control block shows."""
    rows = {}
    for path in sorted(site.glob("*.html")):
        shown = site_page(site, path.name).select_one("dl.qms-document-control div.qms-source-revision")
        if shown is not None:
            rows[path.name] = text_of(shown)
    return rows


@pytest.mark.slow
def test_a_commit_and_the_first_edit_after_it_write_only_the_pages_whose_content_changed(tmp_path: Path) -> None:
    # Every page's document-control block names the build's commit and whether the tree has
    # uncommitted changes: pages showing nothing else of the change get the new row without being
    # written again, and the site is still what a clean build writes.
    root = _committed_and_built(tmp_path)
    site = root / "_build" / "html"
    requirements = root / "traceability" / "requirements.yaml"
    requirements.write_text(
        requirements.read_text(encoding="utf-8").replace("whole minutes", "full minutes"), encoding="utf-8"
    )
    _git(root, "commit", "-q", "-am", "Full minutes")
    committed = build(root, "--verbose")
    assert committed.exit_code == 0, committed.output
    written = _written_pages(committed.stdout)
    assert "software-requirements" in written  # its text and its revision history changed
    assert "clause-index" not in written and "soup" not in written  # their content did not
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True).stdout.strip()
    rows = _revision_rows(site)
    assert len(rows) > 10 and all(
        row.startswith(f"{head} (") and row.endswith("clean working tree") for row in rows.values()
    )
    assert site_files(site) == _clean_copy_site(root, tmp_path / "clean-committed")

    requirements.write_text(
        requirements.read_text(encoding="utf-8").replace("full minutes", "whole minutes"), encoding="utf-8"
    )
    edited = build(root, "--verbose")
    assert edited.exit_code == 0, edited.output
    assert "clause-index" not in _written_pages(edited.stdout)
    assert all(row.endswith("with uncommitted changes") for row in _revision_rows(site).values())
    assert 'class="qms-source-revision qms-source-revision-dirty"' in page(site, "clause-index.html")
    assert site_files(site) == _clean_site(root, tmp_path / "clean-edited")


@pytest.mark.slow
def test_pages_changed_in_place_by_the_first_edit_after_a_commit_show_the_new_revision(tmp_path: Path) -> None:
    # the matrices show the renamed need in a row: changed in place, and their "Source revision"
    # (now "with uncommitted changes") put in as in every page the build does not write
    root = _committed_and_built(tmp_path)
    site = root / "_build" / "html"
    needs = root / "traceability" / "needs.yaml"
    needs.write_text(needs.read_text(encoding="utf-8").replace("Know the current", "Know the latest"), encoding="utf-8")
    edited = build(root, "--verbose")
    assert edited.exit_code == 0, edited.output
    assert {"traceability-matrix", "design-traceability"} <= set(_changed_in_place(edited.stdout))
    rows = _revision_rows(site)
    assert "traceability-matrix.html" in rows and all(row.endswith("with uncommitted changes") for row in rows.values())
    assert "Know the latest" in page(site, "traceability-matrix.html")
    assert site_files(site) == _clean_site(root, tmp_path / "clean")


def _no_room(*arguments: object) -> None:
    raise OSError(28, "No space left on device")


#: Builds that end before the site shows the new source revision: what the build keeps must not
#: say it does. (target, replacement, the build's exit code)
INTERRUPTIONS = {
    # the pages are written and put in place, but not patched
    "stopped before patching": (sources, "patch_source_revisions", lambda app: None, 0),
    # the new site is built (its pages patched, the workbook written with the new commit on its
    # summary), then cannot replace the old one
    "site never put in place": (build_command, "replace_tree", _no_room, 1),
}


@pytest.mark.slow
@pytest.mark.parametrize("interruption", list(INTERRUPTIONS))
def test_the_build_after_one_that_did_not_finish_shows_the_new_revision(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, interruption: str
) -> None:
    root = _committed_and_built(tmp_path)
    site = root / "_build" / "html"
    first = _revision_rows(site)
    _git(root, "commit", "-q", "--allow-empty", "-m", "Nothing changed")
    target, name, replacement, code = INTERRUPTIONS[interruption]
    with monkeypatch.context() as stopped:
        stopped.setattr(target, name, replacement)
        assert (build(root).exit_code != 0) == bool(code)
    assert _revision_rows(site) == first
    (root / "_build" / "doctrees" / RECORD).unlink(missing_ok=True)  # Sphinx itself runs, not the check that skips it
    assert build(root).exit_code == 0
    assert _revision_rows(site) != first
    assert site_files(site) == _clean_copy_site(root, tmp_path / "clean")


def _splice_noting_the_process(
    folder: Path, refused: str = "", fails_beside: bool = False, pause: float = 0.0
) -> Callable[[str], bool]:
    """A page splicer that notes in ``folder`` which process changed each page, a line each time:
    ``refused`` cannot be changed in place; with ``fails_beside`` it raises in any process but this
    one; each page takes ``pause`` seconds."""
    here = os.getpid()

    def splice(docname: str) -> bool:
        if fails_beside and os.getpid() != here:
            raise RuntimeError("the second process fails")
        with (folder / docname).open("a", encoding="utf-8") as noted:
            noted.write(f"{os.getpid()}\n")
        time.sleep(pause)
        return docname != refused

    return splice


@pytest.mark.parametrize("pages", [3, 7])
def test_pages_changed_in_place_by_two_processes_are_those_one_process_changes(tmp_path: Path, pages: int) -> None:
    """From four pages to change in place a second process changes pages too, each taking the next
    page as it is done with one; fewer are not worth its start. Each page is changed once."""
    docnames = [f"page-{number}" for number in range(pages)]
    changed, _ = sources._spliced(docnames, _splice_noting_the_process(tmp_path, refused="page-1", pause=0.2))
    assert changed == set(docnames) - {"page-1"}
    by = {docname: (tmp_path / docname).read_text(encoding="utf-8").split() for docname in docnames}
    assert all(len(pids) == 1 for pids in by.values())
    here = str(os.getpid())
    if pages < sources.SPLICED_BESIDE_FROM:
        assert {pid for pids in by.values() for pid in pids} == {here}
    else:  # each takes a page as it starts, then the next as it is done: neither takes them all
        assert 1 <= sum(pids == [here] for pids in by.values()) < pages


def test_pages_too_many_for_turns_are_changed_in_one_process(tmp_path: Path) -> None:
    """The pages two processes take in turns are numbers written at once into a pipe: where they
    do not fit into one write, this process changes every page."""
    count = select.PIPE_BUF // sources._Turns.WIDTH + 1
    assert sources._Turns.of(count) is None
    with sources._Turns.of(count - 1) as turns:  # type: ignore[union-attr]
        assert list(turns) == list(range(count - 1))


@pytest.mark.parametrize("failure", ["no-process", "the-process-fails"])
def test_pages_a_second_process_did_not_change_are_changed_by_this_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    if failure == "no-process":

        def refused() -> int:
            raise OSError("no more processes")

        monkeypatch.setattr(parsecache.os, "fork", refused)
    docnames = [f"page-{number}" for number in range(6)]
    splice = _splice_noting_the_process(tmp_path, refused="page-3", fails_beside=failure == "the-process-fails")
    assert sources._spliced(docnames, splice) == (set(docnames) - {"page-3"}, False)
    assert [(tmp_path / docname).read_text(encoding="utf-8").split() for docname in docnames] == [
        [str(os.getpid())]
    ] * len(docnames)


def test_sources_generated_beside_the_build_are_those_it_generates_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The documents' sources are rendered and cut in a second process while the build takes the
    fingerprints of its pages: the sources, the counts of rows kept, and the site are those of a
    build that generates them itself."""
    beside, alone = cut_example(tmp_path / "beside", 20), cut_example(tmp_path / "alone", 20)
    generated: list[bool] = []
    generating = sources.generating

    def noted(app: Any, env: Any) -> Callable[[], dict[str, bool]]:
        generated.append(sources.can_fork())
        return generating(app, env)

    monkeypatch.setattr(sources, "generating", noted)
    assert build(beside).exit_code == 0
    with monkeypatch.context() as here:
        here.setattr(sources, "can_fork", lambda: False)
        assert build(alone).exit_code == 0
    assert generated == [True, False]
    folder = Path("_build", "doctrees", sources.SOURCES_FOLDER)
    assert site_files(beside / folder) == site_files(alone / folder) != {}
    assert site_files(beside / "_build" / "html") == site_files(alone / "_build" / "html")
    kept = [root / "_build" / "doctrees" / "environment.pickle" for root in (beside, alone)]
    rows = [pickle.loads(path.read_bytes()).domaindata["qms"]["table_rows"] for path in kept]
    assert rows[0] == rows[1] != {}


def test_the_matrices_the_pages_show_are_made_before_the_process_writing_the_sources_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """That process counts their rows to cut the documents into pages: it takes them as this one made
    them (and would make them for the pages' fingerprints anyway), instead of walking the links again."""
    root = new_project(tmp_path / "device")
    assert build(root).exit_code == 0
    made: list[list[str]] = []
    generating = sources.generating

    def noted(app: Any, env: Any) -> Any:
        made.append(sorted(key[1] for key in sources.build_data(env).cache if key[:1] == ("trace",)))
        return generating(app, env)

    monkeypatch.setattr(sources, "generating", noted)
    _read_and_written(root, "traceability/tests.yaml", "verifies: [SYS-001, SWR-001]", "verifies: [SWR-001]")
    (traced,) = made
    assert tables.kept_key(tables.DESIGN) in traced and tables.kept_key(tables.RISK) in traced
    assert site_files(root / "_build" / "html") == _clean_site(root, tmp_path / "clean")


def test_a_last_task_is_done_once_by_the_process_done_with_its_pages_first(tmp_path: Path) -> None:
    """Where two processes change pages in place, the one done with its pages first also does the
    task taken after them (the site's inventory); with one process, it is left to the caller."""
    noted = tmp_path / "last-task"

    def last() -> bool:
        with noted.open("a", encoding="utf-8") as task:
            task.write(f"{os.getpid()}\n")
        return True

    docnames = [f"page-{number}" for number in range(6)]
    changed, done = sources._spliced(docnames, _splice_noting_the_process(tmp_path, pause=0.05), last)
    assert changed == set(docnames) and done
    assert len(noted.read_text(encoding="utf-8").split()) == 1
    few = docnames[: sources.SPLICED_BESIDE_FROM - 1]
    assert sources._spliced(few, _splice_noting_the_process(tmp_path), last) == (set(few), False)
    assert len(noted.read_text(encoding="utf-8").split()) == 1
