"""MDR Annex II device description, the GSPR checklist with evidence resolved to document,
revision and section, the Annex II index, and the FDA documentation elements."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pytest
from conftest import invoke_qms
from sphinx_support import REPOSITORY, build, page

from qms.approvals import document_states
from qms.clauses import parse_conditions
from qms.compliance import evaluate
from qms.documents import template_sections
from qms.model import Project
from qms.project import load_project
from qms.regulatory import (
    fda_element,
    fda_elements,
    gspr_rows,
    gspr_table,
    regulatory_variables,
    resolve_document,
    revision_text,
)

BASE = Path(__file__).parent / "scenarios" / "_base"

REGULATORY = """
regulatory:
  fda: basic
  device_description:
    basic_udi_di: "0614141TESTDEVXY"
    risk_class: IIa
    classification_rules: [Rule 11]
    contraindications: [None known]
  external_documents:
    - {id: IFU-9, title: Instructions for use, revision: D, annex_ii: ["2"]}
  gspr:
    - {gspr: "17.2", applies: true, evidence: [SRS#srs-review, IFU-9#4.1, SDP]}
    - {gspr: "16", applies: false, justification: No radiation.}
"""


def project_with(root: Path, extra: str) -> Project:
    shutil.copytree(BASE, root)
    with (root / "qms.yaml").open("a", encoding="utf-8") as handle:
        handle.write(extra)
    return load_project(root)


def test_shipped_tables_are_our_short_titles_keyed_by_number() -> None:
    numbers = [number for number, _ in gspr_table()]
    assert len(numbers) == len(set(numbers))
    assert {"1", "14.5", "17.1", "17.2", "17.3", "17.4", "18.8", "22.3", "23.4"} <= set(numbers)
    assert all(len(title) < 160 for _, title in gspr_table())
    names = [element["element"] for element in fda_elements()]
    assert "Software design specification" in names and "Unresolved software anomalies" in names


def test_template_sections_take_every_label_before_a_heading_and_the_heading_own() -> None:
    source = '.. _a-one:\n\n.. _a-two:\n\n{{ heading("Both", 2, "a-three") }}\n{{ heading(group.title, 3) }}\n'
    assert template_sections(source) == {"a-one": "Both", "a-two": "Both", "a-three": "Both"}


def test_evidence_resolves_to_document_revision_and_section(tmp_path: Path) -> None:
    project = project_with(tmp_path / "p", REGULATORY)
    revisions = {"SRS": revision_text("approved", 3), "SDP": revision_text("changed", 1)}
    row = gspr_rows(project, revisions)[0]
    assert [ref.cited for ref in row.evidence] == [
        "SRS Software requirements specification, rev. 3, section Review of the requirements",
        "IFU-9 Instructions for use, D, section 4.1",
        "SDP Software development plan, rev. 1, changed since (not re-approved)",
    ]
    assert row.status == "evidenced"
    assert gspr_rows(project, {})[1].status == "not applicable"
    assert resolve_document(project, "REL", {}).cited == "REL Release notes, revision not recorded"
    assert resolve_document(project, "srs#srs-review", {}, "AID").document == "AID-SRS"
    assert revision_text("draft", 0) == "draft (not approved)"


def test_annex_ii_index_names_what_is_outside_the_software_file(tmp_path: Path) -> None:
    project = project_with(tmp_path / "p", REGULATORY)
    annex = {
        entry["section"]: entry
        for entry in regulatory_variables(project, {}, lambda: document_states(project))["annex_ii"]
    }
    assert annex["2"]["outside_text"] == "IFU-9 Instructions for use (rev. D)"
    assert annex["6.1 c-d"]["outside_text"].endswith("kept outside the software file; no external document named")
    assert annex["4"]["links"] == ":ref:`gspr-table`"


def test_fda_elements_follow_the_level_and_their_records(tmp_path: Path) -> None:
    project = project_with(tmp_path / "p", REGULATORY)
    states = functools.cache(lambda: document_states(project))
    shown = regulatory_variables(project, {}, states)["fda_elements"]
    assert "Software design specification" not in [element["element"] for element in shown]  # enhanced only
    by_name = {element["element"]: fda_element(project, element, states) for element in fda_elements()}
    assert by_name["Documentation level evaluation"]["status"] == "present"
    assert by_name["Software design specification"]["status"] == "missing"
    assert by_name["Software design specification"]["why"] == "no software unit record"
    assert by_name["Development, configuration management and maintenance practices"]["status"] == "missing"
    # the FDA list is evaluated without the check's findings: a rule condition there is never met
    (condition,) = parse_conditions([{"rule": "R202"}], "test")
    assert evaluate(project, condition, None, states).level == 0


def test_bad_regulatory_entries_are_schema_findings(tmp_path: Path) -> None:
    bad = REGULATORY.replace('gspr: "16"', 'gspr: "99"').replace("risk_class: IIa", "risk_class: IV")
    project = project_with(tmp_path / "p", bad)
    messages = [finding.message for finding in project.load_findings if finding.rule == "Q002"]
    assert any("99" in message for message in messages)
    assert any("IV" in message for message in messages)


def test_the_example_gspr_checklist_is_complete_and_resolves() -> None:
    result = invoke_qms("check", "--project", REPOSITORY, "--format", "json")
    assert '"rule": "G80' not in result.output
    project = load_project(REPOSITORY)
    rows = gspr_rows(project, {})
    assert {row.number for row in rows} == {number for number, _ in gspr_table()}
    assert all(row.status in ("evidenced", "not applicable") for row in rows)


@pytest.mark.slow
def test_the_regulatory_pages_are_rendered(tmp_path: Path) -> None:
    root = tmp_path / "p"
    project_with(root, REGULATORY)
    (root / "conf.py").write_text("extensions = ['qms.sphinx']\n", encoding="utf-8")
    result = build(root, "-o", str(tmp_path / "site"))
    assert result.exit_code == 0, result.output
    site = tmp_path / "site"
    annex = " ".join(page(site, "annex-ii-index.html").split())
    assert "0614141TESTDEVXY" in annex and "IIa" in annex and "IFU-9 Instructions for use (rev. D)" in annex
    gspr = " ".join(page(site, "gspr-checklist.html").split())
    assert "section Review of the requirements" in gspr and "No radiation." in gspr
    fda = " ".join(page(site, "fda-documentation.html").split())
    assert "<strong>basic</strong>" in fda and "Software design specification" not in fda
