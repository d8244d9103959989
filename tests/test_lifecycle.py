"""Life-cycle records end to end: problem reports, change requests, design reviews and software units
through the Excel round trip and the rendered technical file; effective classes and the trend."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import write_files
from fixtures.change.gitrepo import git
from fixtures.excel.workbooks import FIXTURE, NO_CHANGES, committed, qms_in, set_value
from openpyxl import load_workbook
from sphinx_support import build, new_project, page

from qms.lifecycle import effective_class, problem_trend
from qms.project import load_project
from qms.schema import KINDS

LIFECYCLE = """\
items:
- id: SU-1
  kind: software_unit
  title: Alert threshold comparison
  design: Compares each reading with the low threshold; equal counts as low.
  interfaces: "is_low(reading_mg_dl: int, threshold_mg_dl: int) -> bool"
  acceptance_criteria:
    - 70 mg/dL against a 70 mg/dL threshold is low.
    - 71 mg/dL is not low.
  source: [alerts/threshold.py::is_low]
  parent: [SI-1]

- id: PR-1
  kind: problem_report
  title: Alert late after a time zone change
  description: The low alert came 60 minutes late after a flight.
  source: field
  date: "2025-02-03"
  type: corrective
  criticality: safety
  status: closed
  investigation: Reading times were taken from the wall clock.
  safety_relevance: A late alert delays treatment of a low (HAZ-1); risk re-assessed, unchanged.
  parties_advised: [Notified body, 2025-02-05]
  verification: TST-1 passes with readings across a time zone change.
  hazards: [HAZ-1]
  affects: [SWR-1]

- id: CR-1
  kind: change_request
  title: Use monotonic reading times
  rationale: Resolves PR-1.
  status: verified
  impact: Alert engine only.
  risk_analysis: Removes a cause of HAZ-1; no new hazard; SWR-1 unchanged.
  approved_by: Quinn
  approved_on: "2025-02-06"
  release: 1.0.0
  resolves: [PR-1]
  changes: [SI-1]
  hazards: [HAZ-1]

- id: DR-1
  kind: design_review
  title: Requirements review
  stage: requirements
  date: "2025-01-10"
  participants: [Ann (developer), Rob (quality)]
  independent_reviewer: Rob
  outcome: approved
  documents: [SRS 1.0.0 @ 1a2b3c4]
  reviewed: [SWR-1]
"""


def test_the_new_kinds_round_trip_through_excel(tmp_path: Path) -> None:
    """Each new kind has its sheet; a workbook exported and imported untouched changes nothing,
    and an edit on a new sheet comes back into its YAML file."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURE, root)
    write_files(root, {"items/lifecycle.yaml": LIFECYCLE})
    committed(root)
    workbook = tmp_path / "records.xlsx"
    assert qms_in(root, "export", "xlsx", str(workbook)).exit_code == 0
    book = load_workbook(workbook)
    for kind in ("software_unit", "problem_report", "change_request", "design_review"):
        assert KINDS[kind].title in book.sheetnames
    result = qms_in(root, "import", "xlsx", str(workbook))
    assert (result.exit_code, result.output) == (0, NO_CHANGES + "\n")
    assert git(root, "status", "--porcelain") == ""

    set_value(book[KINDS["design_review"].title], "DR-1", "outcome", "approved_with_actions")
    book.save(workbook)
    result = qms_in(root, "import", "xlsx", str(workbook))
    assert result.exit_code == 0, result.output
    assert "  outcome: approved_with_actions\n" in (root / "items/lifecycle.yaml").read_text(encoding="utf-8")
    assert load_project(root).items["DR-1"].get("outcome") == "approved_with_actions"


def test_effective_class_inherits_from_the_parent_then_the_system(tmp_path: Path) -> None:
    root = new_project(
        tmp_path / "device",
        files={
            "traceability/items.yaml": """\
kind: software_item
items:
  - {id: SI-A, title: System, description: The system., safety_class: B}
  - {id: SI-B, title: Part, description: A part., parent: [SI-A]}
  - {id: SI-C, title: Other, description: Another.}
"""
        },
    )
    project = load_project(root)
    assert [effective_class(project, project.items[i]) for i in ("SI-A", "SI-B", "SI-C")] == ["B", "B", "C"]


def test_problem_trend_counts_by_month_source_criticality_and_status(tmp_path: Path) -> None:
    root = new_project(tmp_path / "device", files={"traceability/lifecycle.yaml": LIFECYCLE})
    problems = load_project(root).of_kind("problem_report")
    assert problem_trend(problems) == {
        "total": 1,
        "by_month": {"2025-02": 1},
        "by_source": {"field": 1},
        "by_criticality": {"safety": 1},
        "by_status": {"closed": 1},
    }


@pytest.mark.slow
def test_the_technical_file_shows_the_records(tmp_path: Path) -> None:
    """The new documents render the records: stages with their closing review, the trend, the
    release's change requests with their risk analysis, and only declared segregation."""
    root = new_project(tmp_path / "device", files={"traceability/lifecycle.yaml": LIFECYCLE})
    project = load_project(root)
    system = project.of_kind("software_item")[0].id
    write_files(
        root,
        {
            "traceability/segregated.yaml": f"""\
kind: software_item
items:
  - id: SI-MON
    title: Monitor
    description: Checks every command.
    parent: [{system}]
    segregation: Own process; receives commands through a one-way queue.
    segregated_from: [{system}]
  - id: SI-PLAIN
    title: Plain
    description: Not segregated.
    safety_class: C
    parent: [{system}]
""",
            "traceability/lifecycle.yaml": LIFECYCLE.replace("[SI-1]", f"[{system}]")
            .replace("[SWR-1]", "[]")
            .replace("[HAZ-1]", "[]")
            .replace("release: 1.0.0", f"release: {project.config.device.version}"),
        },
    )
    config = (root / "qms.yaml").read_text(encoding="utf-8")
    (root / "qms.yaml").write_text(
        config
        + "design_stages:\n"
        + "  - {name: requirements, title: Software requirements, review: Complete and testable.}\n"
        + "  - {name: architecture, title: Architecture, review: Implements the requirements.}\n",
        encoding="utf-8",
    )
    result = build(root)
    assert result.exit_code == 0, result.output
    site = root / "_build" / "html"
    reviews = page(site, "design-reviews.html")
    assert "Software requirements" in reviews and "DR-1" in reviews
    assert reviews.count(">open<") == 1 and reviews.count(">closed<") == 1
    problems = page(site, "problem-reports.html")
    assert "2025-02" in problems and "PR-1" in problems
    notes = page(site, "release-notes.html")
    assert "CR-1" in notes and "Removes a cause of" in notes
    architecture = page(site, "software-architecture.html")
    segregation = architecture[architecture.index('id="sad-segregation"') : architecture.index('id="sad-review"')]
    assert "SI-MON" in segregation and "SI-PLAIN" not in segregation
    design = page(site, "software-detailed-design.html")
    assert "SU-1" in design and "alerts/threshold.py::is_low" in design


@pytest.mark.slow
def test_release_notes_name_the_change_request_of_each_change(tmp_path: Path) -> None:
    """Against the previous release's tag, the release notes give each changed item its change
    request, and mark a change no request covers as a gap."""
    root = new_project(tmp_path / "device")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Release 0.0.9")
    git(root, "tag", "v0.0.9")
    project = load_project(root)
    system, need = project.of_kind("software_item")[0], project.of_kind("need")[0]
    for item, old in ((system, system.get("description")), (need, need.get("text"))):
        path = root / item.file
        text = path.read_text(encoding="utf-8")
        first = str(old).split()[0]
        path.write_text(text.replace(first, f"{first} (revised)", 1), encoding="utf-8")
    requests = f"""\
kind: change_request
items:
  - id: CR-1
    title: Revise the system description
    rationale: Clearer wording.
    status: proposed
    changes: [{system.id}]
"""
    write_files(root, {"traceability/changes.yaml": requests})
    (root / "qms.yaml").write_text(
        (root / "qms.yaml").read_text(encoding="utf-8") + "release: {previous: v0.0.9}\n", encoding="utf-8"
    )
    result = build(root)
    assert result.exit_code == 0, result.output
    notes = page(root / "_build" / "html", "release-notes.html")
    changes = notes[notes.index('class="qms-table qms-changes') :]
    changes = changes[: changes.index("</table>")]
    rows = changes.split("<tr")[2:]
    row_of = {next(i for i in (system.id, need.id, "CR-1") if f">{i}<" in row or f"#{i}" in row): row for row in rows}
    assert "CR-1" in row_of[system.id]
    assert "qms-gap" in row_of[need.id] and "CR-1" not in row_of[need.id]
