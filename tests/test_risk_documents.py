"""The risk management plan, hazard analysis and report render the plan and the risk file from the data."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from sphinx_support import build, new_project, page

PLAN = """
risk_management:
  responsibilities:
    - {role: Risk manager, people: [Pat Planner], authority: Accepts residual risks in R.}
  reviews: [The register is reviewed before every release.]
  overall_residual_risk: All residual risks are weighed together against the clinical benefit.
  verification:
    implementation: Unit tests of each control requirement.
    effectiveness: System tests in failure scenarios.
  post_production:
    reviewed_by: the risk manager
    frequency: monthly
    sources:
      - {source: SOUP anomaly lists, description: Bulletins of every SOUP item.}
      - {source: App-store reviews}
    reopen_criteria: [A hazard not in the register is reported.]
"""
SPLIT = """
  probability_unit: per day of use
  p1: [{level: 1, name: Rare}, {level: 2, name: Likely}]
  p2: [{level: 1, name: Seldom harms}, {level: 2, name: Often harms}]
  combination: ["12", "24"]
"""
#: A residual risk in R, justified with evidence and disclosed in the instructions for use.
DISCLOSED = """\
kind: labeling
items:
  - id: LAB-02
    title: Residual risks chapter
    text: A reading can be old; check its age before treating.
    type: ifu
    discloses: [HAZ-01]
"""

#: A SOUP anomaly that contributes to the hazard, named on the SOUP item (R219)
ANOMALIES_NONE = "    known_anomalies: []\n"
ANOMALY = """\
    known_anomalies:
      - ref: Issue 42 (redraw skipped after resume)
        evaluation: The screen can keep the last reading after a resume; it then looks current.
    hazards: [HAZ-01]
"""


def text_of(site: Path, name: str) -> str:
    """The visible text of a page, whitespace collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page(site, name), flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = new_project(tmp_path_factory.mktemp("planned") / "device")
    config = (root / "qms.yaml").read_text(encoding="utf-8")
    config = config.replace("risk_policy:\n", "risk_policy:" + SPLIT, 1) + PLAN
    (root / "qms.yaml").write_text(config, encoding="utf-8")
    hazards = (root / "risk_register" / "hazards.yaml").read_text(encoding="utf-8")
    hazards = hazards.replace(
        "    residual: {severity: Serious, probability: Improbable}\n",
        "    residual: {severity: Serious, probability: Remote}\n"
        "    benefit_risk: Automated dosing prevents more harm than this residual risk causes.\n"
        "    benefit_risk_evidence: [VAL-01]\n",
    )
    hazards = hazards.replace("    items: [SI-01]\n", "    items: [SI-01, SOUP-01]\n")  # CAUSE-01
    (root / "risk_register" / "hazards.yaml").write_text(hazards, encoding="utf-8")
    (root / "risk_register" / "labeling.yaml").write_text(DISCLOSED, encoding="utf-8")
    architecture = (root / "traceability" / "architecture.yaml").read_text(encoding="utf-8")
    (root / "traceability" / "architecture.yaml").write_text(
        architecture.replace(ANOMALIES_NONE, ANOMALY), encoding="utf-8"
    )
    result = build(root)
    assert result.exit_code == 0, result.output
    return root / "_build" / "html"


@pytest.mark.slow
def test_the_plan_renders_every_element_of_4_4(planned: Path) -> None:
    plan = text_of(planned, "risk-management-plan.html")
    assert "Every probability of this file is counted per day of use" in plan
    assert "Risk manager Pat Planner Accepts residual risks in R." in plan
    assert "The register is reviewed before every release." in plan
    assert "All residual risks are weighed together against the clinical benefit." in plan
    assert "Implementation : Unit tests of each control requirement." in plan
    assert "Effectiveness : System tests in failure scenarios." in plan
    assert "SOUP anomaly lists Bulletins of every SOUP item." in plan
    assert "It is reviewed monthly by the risk manager" in plan
    # P1 x P2: the combination table, P1 rows by P2 columns, each cell the overall level
    assert "1 Rare 1 Improbable 2 Remote 2 Likely 2 Remote 4 Probable" in plan


@pytest.mark.slow
def test_the_report_lists_each_residual_risk_in_r_with_its_evidence_and_disclosure(planned: Path) -> None:
    report = text_of(planned, "risk-management-report.html")
    assert "The plan of Risk management plan states every element of ISO 14971 4.4" in report
    assert "1 residual risks are in R and 0 in U" in report
    assert "Evidence: VAL-01 ." in report
    assert "Disclosed in LAB-02 ." in report
    assert "1 of 1 risk control measures were reviewed for new hazards" in report
    assert "2 sources of production and post-production information are in place" in report


@pytest.mark.slow
def test_a_report_without_a_plan_says_what_the_plan_leaves_out(tmp_path: Path) -> None:
    root = new_project(tmp_path / "device")
    assert build(root).exit_code == 0
    report = text_of(root / "_build" / "html", "risk-management-report.html")
    assert "does not state: responsibilities (4.4 b); review requirements (4.4 c)" in report
    assert "No source of production and post-production information is planned" in report
    register = text_of(root / "_build" / "html", "risk-register.html")
    assert "Cause CAUSE-01 (software defect); contributing: SI-01" in register


@pytest.mark.slow
def test_the_soup_list_names_the_hazards_its_anomalies_contribute_to(planned: Path) -> None:
    architecture = text_of(planned, "software-architecture.html")
    table = "Used by Hazards SOUP-01 Example UI toolkit 1.0.0 Example Supplier — SI-01 Display HAZ-01 Old reading"
    assert table in architecture
    assert "Issue 42 (redraw skipped after resume)" in architecture
    assert "anomalies contribute to HAZ-01 Old reading taken as current" in architecture
