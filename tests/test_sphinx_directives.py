"""The directives and the :item: role in a project's own pages, built through ``qms build``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sphinx_support import build, hrefs, line_of, new_project, row_of, site_page, text_of

NOTES = """\
Notes for the auditor
=====================

The reading age requirement :item:`SWR-001`.

The same in another case :item:`swr-001`.

One that does not exist :item:`SWR-999`.

.. qms:item:: SWR-001

.. qms:items::

   SYS-001
   NOPE-7

.. qms:table::
   :kind: software_requirement
   :filter: control_type=information_for_safety
   :columns: id, verified_by, controls_hazard

.. qms:table::
   :kind: nonsense

.. qms:matrix::
   :chain: need,system_requirement,test

.. qms:risk-register::

.. qms:risk-matrix::
   :when: residual

.. qms:risk-matrix::
   :when: residual
   :ids: no

.. qms:clause-index::
   :standard: iso14971
"""


@pytest.fixture(scope="module")
def notes_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    root = new_project(tmp_path_factory.mktemp("pages") / "project", files={"notes.rst": NOTES})
    result = build(root)
    assert result.exit_code == 0, result.output
    return root, result.stderr


@pytest.mark.slow
def test_unknown_ids_are_warnings_at_their_source(notes_build: tuple[Path, str]) -> None:
    root, stderr = notes_build
    notes = root / "notes.rst"
    assert f"{notes}:{line_of(NOTES, 'One that does not')}: WARNING: unknown item id 'SWR-999' [ref.item]" in stderr
    case = line_of(NOTES, "in another case")
    assert f"{notes}:{case}: WARNING: unknown item id 'swr-001' (did you mean SWR-001?) [ref.item]" in stderr
    assert f"{notes}:{line_of(NOTES, 'NOPE-7')}: WARNING: unknown item id 'NOPE-7' [ref.item]" in stderr
    assert f"{notes}:{line_of(NOTES, ':kind: nonsense') - 1}: ERROR: qms:table: unknown kind nonsense" in stderr


@pytest.mark.slow
def test_directives_render_the_project(notes_build: tuple[Path, str]) -> None:
    root, _ = notes_build
    notes = site_page(root / "_build" / "html", "notes.html")
    shown = text_of(notes)
    assert hrefs(notes).count("software-requirements.html#SWR-001") >= 3  # role, table, matrix
    assert notes.select_one("section#SWR-001") and notes.select_one("section#SYS-001")  # the item blocks, anchored
    assert "Show reading age" in shown
    assert "Before risk control" not in shown and "After risk control" in shown
    clause = row_of(notes, "4.4")  # the ISO 14971 clause index links its sections
    assert "Risk management plan" in text_of(clause) and hrefs(clause)


@pytest.mark.slow
def test_each_heat_map_has_an_anchor_of_its_own_and_its_caption_links_to_it(notes_build: tuple[Path, str]) -> None:
    root, _ = notes_build
    maps = site_page(root / "_build" / "html", "notes.html").select("table.qms-heat-map")
    assert [heat_map["id"] for heat_map in maps] == ["risk-matrix-residual", "risk-matrix-residual-2"]
    for heat_map in maps:
        link = heat_map.select_one("caption a.headerlink")
        assert link is not None and link["href"] == f"#{heat_map['id']}"
    assert maps[0].select(".qms-heat-ids a") and not maps[1].select(".qms-heat-ids")  # a small map lists them


@pytest.mark.slow
def test_the_item_links_to_its_home_page_not_to_the_user_page(notes_build: tuple[Path, str]) -> None:
    root, _ = notes_build
    site = root / "_build" / "html"
    links = hrefs(site_page(site, "traceability-matrix.html"))
    assert not [link for link in links if link.startswith("notes.html#")]
    assert "software-requirements.html#SWR-001" in links


@pytest.mark.slow
def test_own_pages_are_listed_on_the_front_page(notes_build: tuple[Path, str]) -> None:
    root, _ = notes_build
    front = site_page(root / "_build" / "html", "index.html")
    assert [text_of(link) for link in front.select('article a.reference.internal[href="notes.html"]')] == [
        "Notes for the auditor"
    ]


@pytest.mark.slow
def test_strict_build_fails_and_keeps_the_previous_site(notes_build: tuple[Path, str]) -> None:
    root, _ = notes_build
    site = root / "_build" / "html"
    before = (site / "index.html").read_bytes()
    result = build(root, "--strict")
    assert result.exit_code == 1
    assert "WARNING: unknown item id 'SWR-999'" in result.stderr
    assert "the build failed:" in result.stderr and "the previous site in" in result.stderr
    assert (site / "index.html").read_bytes() == before
    assert not list(site.parent.glob(".html.building-*"))


@pytest.mark.slow
def test_blocks_filled_when_written_show_in_a_builder_of_text(tmp_path: Path) -> None:
    # the heat maps, the risk classes, the control types and the release check are filled when their
    # pages are written, as nodes with their links resolved for builders other than HTML
    root = new_project(tmp_path / "project")
    out = tmp_path / "text"
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    command = [sys.executable, "-m", "sphinx", "-q", "-b", "text", ".", str(out)]
    completed = subprocess.run(command, cwd=root, env=environment, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    assert "WARNING" not in completed.stderr
    report = " ".join((out / "risk-management-report.txt").read_text(encoding="utf-8").split())
    for shown in ("Before risk control", "After risk control", "1 hazard placed.", "Total hazards"):
        assert shown in report, shown
    assert "Total risk control requirements" in report
    assert "HAZ-01" in report.split("Before risk control", 1)[1]  # the ids of a small map, linked
    front = " ".join((out / "index.txt").read_text(encoding="utf-8").split())
    assert "The release check (qms check --release)" in front


FINDINGS = """\
Open findings
=============

.. qms:findings::
   :rules: C

.. qms:findings::
   :rules: C
   :empty: Nothing open here.
"""


@pytest.mark.slow
def test_a_findings_block_with_none_says_so_in_the_html_and_in_a_builder_of_text(tmp_path: Path) -> None:
    # filled when the page is written (a finding that comes or goes changes the page without reading
    # it again): the sentence of no finding too, from the rules checked or the directive's :empty:
    root = new_project(tmp_path / "project", files={"open.rst": FINDINGS})  # no qms.lock: no suspect link
    result = build(root)
    assert result.exit_code == 0, result.output
    said = [text_of(p) for p in site_page(root / "_build" / "html", "open.html").select("p.qms-no-findings")]
    assert said == ["None: no finding of C501.", "Nothing open here."]
    out = tmp_path / "text"
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    command = [sys.executable, "-m", "sphinx", "-q", "-b", "text", ".", str(out)]
    completed = subprocess.run(command, cwd=root, env=environment, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr
    text = " ".join((out / "open.txt").read_text(encoding="utf-8").split())
    assert "None: no finding of C501. Nothing open here." in text
