"""Item views as typed values: a hazard's controls with their status and tests, tables without padding rows,
and the same description written by the HTML and the text builders. Real builds of a small project."""

from __future__ import annotations

import dataclasses
import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import jinja2
import pytest
from sphinx_support import build, new_project, page, parse_html, text_of, with_class

from qms.checking import check_context
from qms.gitinfo import NOT_UNDER_VERSION_CONTROL
from qms.project import load_project
from qms.sphinx import claims, downloads
from qms.sphinx.queries import QUERIES
from qms.sphinx.views import build as views_build
from qms.sphinx.views import cells, items, risk, summaries, tables
from qms.sphinx.views.build import BuildData, QuerySpec

HAZARDS = """\
kind: hazard
items:
  - id: HAZ-01
    title: Old reading taken as current
    hazard: Stale data shown without its age.
    hazardous_situation: The user acts on an old value.
    harm: Wrong treatment decision.
    severity: Serious
    probability: Occasional
    controls: [SWR-001, SYS-001]
    residual: {severity: Serious, probability: Improbable}
  - id: HAZ-02
    title: Reading shown for the wrong patient
    hazard: Data of another sensor.
    hazardous_situation: The user acts on another patient's value.
    harm: Wrong treatment decision.
    severity: Serious
    probability: Remote
    controls: [SWR-002]
    residual: {severity: Serious, probability: Improbable}
"""

MORE = """\
kind: software_requirement
items:
  - id: SWR-002
    title: Pair with one sensor only
    text: The software shall accept readings from the paired sensor only.
    derives_from: [SYS-001]
    control_type: protective_measure
"""

TESTS = """\
kind: test
items:
  - id: TST-001
    title: Reading age display
    method: test
    level: system
    verifies: [SYS-001, SWR-001]
    evidence:
      - tests/test_display.py::test_age
  - id: TST-002
    title: Reading age rounding
    method: test
    level: unit
    verifies: [SWR-001]
  - id: TST-009
    title: A test that names nothing yet
    method: test
    level: unit
  - id: VAL-01
    title: Users read the current value correctly
    method: demonstration
    level: validation
    validates: [NEED-01]
"""

RESULT = """\
<testsuites><testsuite name="pytest" timestamp="2026-12-01T09:15:00+00:00">
  <testcase classname="tests.test_display" name="test_age" time="0.001"></testcase>
</testsuite></testsuites>
"""

NOTES = """\
Notes
=====

.. qms:item:: HAZ-01

.. qms:item:: HAZ-02

.. qms:matrix::
   :chain: validation

.. qms:matrix::
   :chain: anomaly,software_item

.. qms:table::
   :kind: software_requirement
   :filter: control_type=inherent_safety
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = {
        "risk_register/hazards.yaml": HAZARDS,
        "traceability/more.yaml": MORE,
        "traceability/tests.yaml": TESTS,
        "reports/unit.xml": RESULT,
        "notes.rst": NOTES,
    }
    return new_project(tmp_path_factory.mktemp("views") / "project", files=files)


@pytest.fixture(scope="module")
def notes(project: Path) -> Element:
    result = build(project)
    assert result.exit_code == 0, result.output
    return parse_html(page(project / "_build" / "html", "notes.html"))


def _statuses(root: Path) -> dict[str, str]:
    """Every item's status as the one status function computes it."""
    statuses = check_context(load_project(root)).statuses
    assert statuses is not None
    found = {item.id: statuses.of(item.id) for item in load_project(root)}
    return {item_id: status.status.value for item_id, status in found.items() if status is not None}


def _block(root: Element, item_id: str) -> Element:
    (section,) = [element for element in root.find_all("section") if element.get("id") == item_id]
    return section


def _controls(block: Element) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """A hazard block's controls table: (control id, its status, [(test id, its status)])."""
    (table,) = with_class(block, "table", "qms-controls")
    (body,) = table.find_all("tbody")
    rows = []
    for row in body.find_all("tr"):
        control, status, tests = list(row.find_all("td"))
        (control_id,) = [text_of(span) for span in with_class(control, "span", "qms-id")]
        badges = [badge.get("data-qms-status", "") for badge in status.find_all("span") if badge.get("data-qms-status")]
        listed = [
            (text_of(with_class(line, "span", "qms-id")[0]), status_badge.get("data-qms-status", ""))
            for line in with_class(tests, "p", "qms-cell-line")
            for status_badge in line.find_all("span")
            if status_badge.get("data-qms-status")
        ]
        rows.append((control_id, badges[0] if badges else "", listed))
    return rows


@pytest.mark.slow
def test_a_hazard_lists_each_control_with_its_status_and_its_tests_with_theirs(project: Path, notes: Element) -> None:
    status = _statuses(project)
    assert (status["TST-001"], status["TST-002"], status["SYS-001"]) == ("passed", "not-run", "passed")
    assert _controls(_block(notes, "HAZ-01")) == [
        ("SWR-001", status["SWR-001"], [("TST-001", "passed"), ("TST-002", "not-run")]),
        ("SYS-001", "passed", [("TST-001", "passed")]),
    ]
    (row,) = _controls(_block(notes, "HAZ-02"))
    assert row == ("SWR-002", status["SWR-002"], [])
    (gap,) = [cell for cell in _block(notes, "HAZ-02").find_all("td") if "qms-gap-cell" in cell.get("class", [])]
    assert text_of(gap) == "—", "a control no test verifies shows a gap where its tests would be"


def _matrices(root: Element) -> list[Element]:
    return with_class(root, "table", "qms-matrix")


@pytest.mark.slow
def test_a_matrix_leaves_out_rows_of_items_traced_along_another_chain(notes: Element) -> None:
    (validation,) = _matrices(notes)
    (body,) = validation.find_all("tbody")
    rows = [[text_of(cell) for cell in row.find_all("td")] for row in body.find_all("tr")]
    first_ids = [row[0].split()[0] for row in rows]
    last_ids = [row[1].split()[0] for row in rows]
    assert first_ids == ["NEED-01", "—"], rows
    assert last_ids == ["VAL-01", "TST-009"], (
        "a test that links to nothing is a gap and stays; tests of requirements go"
    )


@pytest.mark.slow
def test_an_empty_table_says_why_in_a_sentence_from_the_data(notes: Element) -> None:
    empty = [text_of(paragraph) for paragraph in with_class(notes, "p", "qms-empty")]
    assert empty == [
        "No anomaly is traced along anomaly → software item (items recorded: anomaly 0, software item 1).",
        "None of the 2 items (software requirement) matches the filter control_type=inherent_safety.",
    ]


@pytest.mark.slow
def test_the_text_builder_writes_the_same_controls_from_the_same_view(project: Path, notes: Element) -> None:
    out = project / "_text"
    completed = subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", "-b", "text", "-d", str(out / "doctrees"), ".", str(out / "site")],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    text = (out / "site" / "notes.txt").read_text(encoding="utf-8")
    hazard = text[text.index("**HAZ-01**") : text.index("**HAZ-02**")]
    table = hazard[hazard.index("Risk controls:") : hazard.index("controlled by:")]
    assert _text_table(table)[1:] == [
        [
            "SWR-001 Show reading age",
            "not-run",
            "TST-001 Reading age display passed TST-002 Reading age rounding not-run",
        ],
        ["SYS-001 Display the current reading", "passed", "TST-001 Reading age display passed"],
    ]


def _text_table(text: str) -> list[list[str]]:
    """The rows of a table the text writer drew (the header row first), each cell's lines joined."""
    rows: list[list[str]] = []
    current: list[list[str]] = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith(("+", "|=")):
            if current:
                rows.append([" ".join(" ".join(parts).split()) for parts in zip(*current, strict=True)])
            current = []
        elif line.startswith("|"):
            current.append(line.strip("|").split("|"))
    return rows


def _view_classes() -> list[type]:
    modules = (cells, items, risk, summaries, tables, views_build, claims, downloads)
    return [
        value
        for module in modules
        for value in vars(module).values()
        if inspect.isclass(value) and dataclasses.is_dataclass(value) and value.__module__ == module.__name__
    ]


#: The build's own state (caches, a running job): not a view, so not frozen.
NOT_VIEWS = (BuildData, downloads.WorkbookJob, tables.KeptMatrices)


def test_every_view_is_a_frozen_slotted_dataclass() -> None:
    found = {cls.__name__ for cls in _view_classes()}
    assert {"ItemView", "ControlView", "TableView", "Table", "ItemRef", "MatrixView", "RiskMatrixView"} <= found
    loose = [
        cls.__name__
        for cls in _view_classes()
        if cls not in NOT_VIEWS and not (cls.__dataclass_params__.frozen and "__slots__" in vars(cls))  # type: ignore[attr-defined]
    ]
    assert loose == []


def test_every_query_answers_a_typed_value_not_a_mapping() -> None:
    """Pages read views by attribute, checked by mypy: no query answers a dict keyed by convention."""
    untyped = {
        name: answer
        for name, spec in QUERIES.items()
        if any(loose in (answer := str(inspect.signature(spec.answer).return_annotation)) for loose in ("dict", "Any"))
    }
    assert untyped == {}


def test_counts_read_in_templates_by_kind(tmp_path: Path) -> None:
    data = BuildData(load_project(new_project(tmp_path / "project")), (), NOT_UNDER_VERSION_CONTROL, queries=QUERIES)
    view = data.answer(("counts",))
    assert isinstance(view, summaries.CountsView)
    template = jinja2.Environment().from_string("{{ counts.software_requirement }} {{ counts.nothing|default(0) }}")
    assert template.render(counts=view) == f"{len(data.project.of_kind('software_requirement'))} 0"
    with pytest.raises(KeyError):
        view["nothing"]


def test_the_build_answers_only_from_the_registry_it_is_given(tmp_path: Path) -> None:
    root = new_project(tmp_path / "project")
    calls: list[str] = []

    def answer(data: BuildData, text: str) -> str:
        calls.append(text)
        return text.upper()

    registry = {"shout": QuerySpec(answer, inputs=lambda data, text: [text])}
    data = BuildData(load_project(root), (), NOT_UNDER_VERSION_CONTROL, queries=registry)
    assert data.answer(("shout", "a")) == "A"
    assert data.answer(("shout", "a")) == "A" and calls == ["a"], "answered once per build"
    other = BuildData(
        load_project(root),
        (),
        NOT_UNDER_VERSION_CONTROL,
        queries={"shout": QuerySpec(lambda data, text: "other", inputs=lambda data, text: [text])},
    )
    assert data.digest(("shout", "a")) == other.digest(("shout", "a")), "costly: fingerprinted by inputs"
    assert data.digest(("shout", "b")) != data.digest(("shout", "a")) and calls == ["a"], "not answered to digest"
    with pytest.raises(KeyError, match="unknown query 'item'"):
        data.answer(("item", "SWR-001"))
    assert "item" in QUERIES and all(isinstance(spec, QuerySpec) for spec in QUERIES.values())


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ((("q", "a"), ["bc", "d"]), (("q", "a"), ["b", "cd"])),  # the same text cut elsewhere
        ((("q", "a"), ["b"]), (("q", "a"), ["b", ""])),
        ((("q", "a"), ["b"]), (("q", "b"), ["b"])),  # the query is part of it
        ((("q", "a", "b"), []), (("q", "ab"), [])),
        ((("q", "a"), ["b"]), (("q", "a", "b"), [])),  # a part of the query is not an input
        ((("q", "a"), ["1"]), (("q", "a"), [1])),  # a list of texts against other data
        ((("q", "a"), ["\udc80"]), (("q", "a"), ["\udc81"])),  # text that is no valid UTF-8
    ],
)
def test_inputs_that_differ_in_any_way_give_different_fingerprints(
    first: tuple[tuple[str, ...], list[Any]], second: tuple[tuple[str, ...], list[Any]]
) -> None:
    assert views_build._inputs_digest(*first) != views_build._inputs_digest(*second)


def test_an_empty_table_of_items_lacking_a_field_says_that_every_item_has_it() -> None:
    """A table of the items that state no interfaces, left empty, is good news: it says so, not that
    nothing matches a filter a reader never sees."""
    from qms.sphinx.filters import parse_filter
    from qms.sphinx.views.tables import _no_match

    def said(count: int, filter_text: str) -> str:
        kinds = ("software_item",)
        return _no_match(kinds, count, filter_text, parse_filter(filter_text, kinds))

    assert said(16, "!interfaces") == "Every one of the 16 items (software item) states interfaces."
    assert said(1, "!interfaces") == "The one software item states interfaces."
    assert said(0, "!interfaces") == "No software item is recorded yet."
    assert said(3, "safety_class=C") == "None of the 3 items (software item) matches the filter safety_class=C."
