"""``qms clauses``: each clause's status computed from the records its evidence conditions name,
the JSON shape version 1, and the clause index page showing the same statuses."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import invoke_qms
from sphinx_support import REPOSITORY, build, page

from qms.clauses import ClauseTableError, load_clause_table, parse_clause_table

BASE = Path(__file__).parent / "scenarios" / "_base"

TABLE = """
standards:
  - {id: iec62304, name: IEC 62304, title: life cycle}
  - {id: iso14971, name: ISO 14971:2019, title: risk}
  - {id: iso13485, name: ISO 13485:2016, title: design}
clauses:
  - {standard: iec62304, clause: "5.1.4", topic: Tools, record: Tools, classes: C, where: [software-development-plan#sdp-tools], evidence: [{config: plans.development.toolchain}]}
  - {standard: iec62304, clause: "5.2.2", topic: Types, record: Types, where: [software-requirements#srs-types], evidence: [{field: software_requirement.type}, {kind: test}]}
  - {standard: iec62304, clause: "9.1", topic: Problems, record: Problems, evidence: [{kind: problem_report}, {rule: L999}]}
  - {standard: iso14971, clause: "7.2", topic: Controls, record: Controls, evidence: [{rule: R205}]}
  - {standard: iso13485, clause: "7.3.10", topic: File, record: File, where: [design-traceability#ddt-file], evidence: [{document: DDT}]}
"""  # noqa: E501


def project(root: Path, safety_class: str = "C", extra: str = "") -> Path:
    shutil.copytree(BASE, root)
    config = (
        (root / "qms.yaml")
        .read_text(encoding="utf-8")
        .replace("software_safety_class: C", f"software_safety_class: {safety_class}")
    )
    (root / "qms.yaml").write_text(config + extra, encoding="utf-8")
    (root / "table.yaml").write_text(TABLE, encoding="utf-8")
    return root


def statuses(root: Path) -> dict[str, dict[str, object]]:
    result = invoke_qms("clauses", "--project", root, "--format", "json", "--table", root / "table.yaml")
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["version"] == 1 and set(document) == {"version", "clauses"}
    return {f"{entry['standard']} {entry['clause']}": entry for entry in document["clauses"]}


def test_statuses_follow_the_records_each_clause_names(tmp_path: Path) -> None:
    found = statuses(project(tmp_path / "p"))
    assert list(found) == ["IEC 62304 5.1.4", "IEC 62304 5.2.2", "IEC 62304 9.1", "ISO 14971 7.2", "ISO 13485 7.3.10"]
    assert found["IEC 62304 5.1.4"]["status"] == "missing"
    assert found["IEC 62304 5.1.4"]["why"] == "no plans.development.toolchain in qms.yaml"
    assert found["IEC 62304 5.2.2"]["status"] == "partial"
    assert found["IEC 62304 5.2.2"]["why"] == "0 of 1 software requirement records have type; 2 test record(s)"
    assert found["IEC 62304 9.1"]["status"] == "missing"
    assert found["IEC 62304 9.1"]["why"] == "no problem report record; rule L999 is not known to this qms"
    assert found["ISO 14971 7.2"]["status"] == "present"
    assert found["ISO 13485 7.3.10"] == {
        "standard": "ISO 13485",
        "clause": "7.3.10",
        "title": "File",
        "status": "present",
        "where": [{"document": "DDT", "section": "Design and development file"}],
        "why": "document DDT",
    }


def test_records_added_light_a_clause_up(tmp_path: Path) -> None:
    plans = "plans:\n  development:\n    toolchain: [{name: cc, version: '1', purpose: builds}]\n"
    root = project(tmp_path / "p", extra=plans)
    requirements = root / "items" / "requirements.yaml"
    text = requirements.read_text(encoding="utf-8")
    requirements.write_text(
        text.replace("    title: Grey out old readings\n", "    title: Grey out old readings\n    type: usability\n"),
        "utf-8",
    )
    found = statuses(root)
    assert found["IEC 62304 5.1.4"]["status"] == "present"
    assert found["IEC 62304 5.2.2"]["status"] == "present"


def test_a_finding_of_a_named_rule_makes_the_clause_partial(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    (root / "items" / "tests.yaml").write_text(
        (root / "items" / "tests.yaml")
        .read_text(encoding="utf-8")
        .replace("verifies: [SYS-1, SWR-1]", "verifies: [SYS-1]"),
        "utf-8",
    )
    found = statuses(root)
    assert found["ISO 14971 7.2"]["status"] == "partial"
    assert found["ISO 14971 7.2"]["why"] == "1 R205 finding(s)"


def test_a_clause_the_class_does_not_need_is_not_required(tmp_path: Path) -> None:
    entry = statuses(project(tmp_path / "p", safety_class="A"))["IEC 62304 5.1.4"]
    assert entry["status"] == "not required"
    assert entry["why"] == "not required for class A (IEC 62304:2006+A1:2015: class C)"


def test_the_text_report_and_a_broken_table(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    text = invoke_qms("clauses", "--project", root, "--table", root / "table.yaml")
    assert "  5.2.2    partial       Types" in text.output
    assert "IEC 62304: 2 missing, 1 partial" in text.output
    (root / "table.yaml").write_text(TABLE.replace("{kind: test}", "{kind: test, rule: T103}"), "utf-8")
    broken = invoke_qms("clauses", "--project", root, "--table", root / "table.yaml")
    assert broken.exit_code == 1
    assert (
        "clause table" in broken.output
        and "(iec62304 5.2.2): `evidence` must be a list of one-key mappings" in broken.output
    )


@pytest.mark.parametrize("entry", ["[{kind: ''}]", "[{colour: red}]", "{kind: test}", "[[kind, test]]"])
def test_bad_evidence_entries_are_refused_with_the_clause_named(entry: str) -> None:
    line = f'  - {{standard: iec62304, clause: "9.9", topic: T, record: R, evidence: {entry}}}\n'
    with pytest.raises(ClauseTableError, match=r"9\.9"):
        parse_clause_table("standards: [{id: iec62304, name: IEC 62304}]\nclauses:\n" + line)


def test_every_shipped_clause_of_the_example_says_why() -> None:
    result = invoke_qms("clauses", "--project", REPOSITORY, "--format", "json")
    entries = json.loads(result.output)["clauses"]
    assert {entry["standard"] for entry in entries} == {"IEC 62304", "ISO 14971", "ISO 13485"}
    assert all(entry["status"] in ("present", "partial", "missing", "not required") for entry in entries)
    assert all(entry["why"] for entry in entries)
    by_key = {f"{entry['standard']} {entry['clause']}": entry for entry in entries}
    for key in ("IEC 62304 5.1.4", "IEC 62304 5.1.12", "IEC 62304 5.2.2", "IEC 62304 6.1", "IEC 62304 8.1.1"):
        assert by_key[key]["status"] == "present", key  # the plans and requirement types of the example


@pytest.mark.slow
def test_the_clause_index_page_shows_the_computed_statuses(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    (root / "conf.py").write_text("extensions = ['qms.sphinx']\nqms_clause_table = 'table.yaml'\n", encoding="utf-8")
    result = build(root, "-o", str(tmp_path / "site"))
    assert result.exit_code == 0, result.output
    html = " ".join(page(tmp_path / "site", "clause-index.html").split())
    assert "qms-badge-clause-partial" in html and "qms-badge-clause-missing" in html
    assert "Records: 0 of 1 software requirement records have type; 2 test record(s)" in html


def test_a_document_approved_by_every_role_it_needs_meets_an_approval_condition(tmp_path: Path) -> None:
    """ISO 14971 9 asks for the report's sign-off: the condition reads the document's approval state."""
    roles = "roles:\n  required: [approver]\n  people:\n    - {name: Quinn, email: q@example.com, roles: [approver]}\n"
    root = project(tmp_path / "p", extra=roles)
    table = (
        TABLE + '  - {standard: iso14971, clause: "9", topic: Review, record: Report, evidence: [{approved: RMR}]}\n'
    )
    (root / "table.yaml").write_text(table, encoding="utf-8")
    before = statuses(root)["ISO 14971 9"]
    assert (before["status"], before["why"]) == ("missing", "RMR is draft, not approved by every role it needs")
    approved = invoke_qms("approve", "RMR", "--role", "approver", "--as", "Quinn", "--project", root)
    assert approved.exit_code == 0, approved.output
    after = statuses(root)["ISO 14971 9"]
    assert (after["status"], after["why"]) == ("present", "RMR approved by every role it needs (revision 1)")


def test_the_shipped_table_reads_the_same_with_libyaml_as_with_pyyaml() -> None:
    text = (REPOSITORY / "qms" / "data" / "clauses.yaml").read_text(encoding="utf-8")
    assert load_clause_table() == parse_clause_table(text, "qms/data/clauses.yaml")
    assert load_clause_table() == parse_clause_table(text, "qms/data/clauses.yaml", trusted=True)


def test_a_project_table_nested_too_deeply_is_refused_with_its_name() -> None:
    with pytest.raises(ClauseTableError, match=r"^mine\.yaml: nested too deeply to be a clause table$"):
        parse_clause_table("[" * 100_000 + "]" * 100_000, "mine.yaml")


def test_a_count_of_records_with_a_status_says_how_many_have_each(tmp_path: Path) -> None:
    """The problem reports clause 9.1 names: four records are not four open problems, so the count
    says how many are at each status, in the schema's order."""
    root = project(tmp_path / "p")
    reports = "".join(
        f"  - id: PR-{number}\n    title: Problem {number}\n    description: Seen.\n    status: {status}\n"
        for number, status in ((1, "open"), (2, "closed"), (3, "open"), (4, "investigating"))
    )
    (root / "items/problems.yaml").write_text(f"kind: problem_report\nitems:\n{reports}", encoding="utf-8")
    why = str(statuses(root)["IEC 62304 9.1"]["why"])
    assert why.startswith("4 problem report record(s): 2 open, 1 investigating, 1 closed; ")


def test_the_design_clauses_point_at_the_pages_that_hold_the_design() -> None:
    """The detailed design (IEC 62304 5.4) and the design reviews (ISO 13485 7.3.5) are documents of
    the technical file: the clause index points at them, never at "kept outside the technical file"
    nor at the merge reviews."""
    result = invoke_qms("clauses", "--project", REPOSITORY, "--format", "json")
    by_key = {f"{entry['standard']} {entry['clause']}": entry for entry in json.loads(result.output)["clauses"]}
    documents = {key: {place["document"] for place in by_key[key]["where"]} for key in by_key}
    for key in ("IEC 62304 5.4.1", "IEC 62304 5.4.2", "IEC 62304 5.4.3", "IEC 62304 5.4.4"):
        assert "SDD" in documents[key], (key, by_key[key]["where"])
    assert "DRV" in documents["IEC 62304 5.4.4"] and documents["ISO 13485 7.3.5"] == {"DRV"}
