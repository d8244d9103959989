"""``qms matrix``: the traceability matrix along a chain of kinds, as Markdown, CSV, JSON and xlsx."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from fixtures.excel.workbooks import fixture_project, qms_in
from openpyxl import load_workbook

from qms.matrix import DESIGN, RISK, Chain, combined_matrix, merge_matrices, parse_chain, trace_matrix
from qms.matrix_formats import matrix_csv, matrix_document, neutralize_formula
from qms.project import load_project


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Excel fixture without its execution records: TST-1 passed (JUnit), TST-2 and VAL-1 not run."""
    root = fixture_project(tmp_path_factory.mktemp("matrix"))
    (root / "records" / "runs.yaml").unlink()
    return root


def chain(kinds: str) -> Chain:
    return Chain("Traceability matrix", parse_chain(kinds))


def ids(rows: object) -> list[list[str]]:
    return [[item.id if item else "" for item in row] for row in rows]  # type: ignore[attr-defined]


def test_design_matrix_has_a_row_per_path_each_item_next_to_one_it_links_to(project: Path) -> None:
    matrix = trace_matrix(load_project(project), DESIGN)

    # tests verify requirements, not the software item between: their rows pass that column by
    assert ids(matrix.rows) == [
        ["NEED-1", "SYS-1", "SWR-2", "SI-1", ""],
        ["NEED-1", "SYS-1", "SWR-2", "", "TST-2"],
        ["NEED-1", "SYS-1", "SWR-3", "SI-1", ""],
        ["NEED-1", "SYS-1", "SWR-3", "", "TST-2"],
        ["NEED-1", "SYS-1", "", "", "TST-2"],
        ["NEED-1", "", "", "", "VAL-1"],
        ["NEED-2", "SYS-2", "SWR-1", "SI-1", ""],
        ["NEED-2", "SYS-2", "SWR-1", "", "TST-1"],
        ["NEED-2", "SYS-2", "SWR-3", "SI-1", ""],
        ["NEED-2", "SYS-2", "SWR-3", "", "TST-2"],
        ["NEED-2", "SYS-2", "", "", "TST-1"],
        ["NEED-2", "", "", "", "VAL-1"],
    ]
    assert matrix.total_rows == 12 and not matrix.cuts and not matrix.findings


def test_risk_matrix_goes_from_hazards_through_controls_to_tests(project: Path) -> None:
    assert ids(trace_matrix(load_project(project), RISK).rows) == [
        ["HAZ-1", "SWR-1", "TST-1"],
        ["HAZ-2", "SWR-3", "TST-2"],
    ]


def test_a_chain_of_any_kinds_shows_gaps_as_empty_cells(project: Path) -> None:
    direct = trace_matrix(load_project(project), chain("software_requirement,software_item"))
    assert ids(direct.rows) == [["SWR-1", "SI-1"], ["SWR-2", "SI-1"], ["SWR-3", "SI-1"]]
    skipping = trace_matrix(load_project(project), chain("system_requirement,software_item"))
    assert ids(skipping.rows) == [["SYS-1", ""], ["SYS-2", ""], ["", "SI-1"]]  # no direct link: a gap
    gaps = trace_matrix(load_project(project), chain("soup,anomaly,need"))
    assert ids(gaps.rows) == [["SOUP-1", "", ""], ["", "ANOM-7", ""], ["", "", "NEED-1"], ["", "", "NEED-2"]]


@pytest.mark.parametrize(
    ("chain", "message"),
    [
        (
            "need,requirement",
            "unknown kind requirement; kinds: need, system_requirement, software_requirement, "
            "software_item, soup, hazard, test, anomaly, cause, safety_characteristic, labeling, control_review",
        ),
        ("need", "a chain needs at least two kinds, e.g. need,system_requirement"),
        ("need,test|need,test", "need, test more than once; a kind takes one column of a chain"),
    ],
)
def test_a_chain_that_cannot_be_walked_is_a_usage_error(project: Path, chain: str, message: str) -> None:
    result = qms_in(project, "matrix", "--chain", chain)

    assert (result.exit_code, result.stderr) == (2, f"qms: error: --chain: {message}\n")


def test_markdown_by_default_with_the_verification_outcome(project: Path) -> None:
    result = qms_in(project, "matrix")

    assert result.exit_code == 0
    assert (
        result.stdout.split("\n\n## ")[1]
        == """\
Risk control traceability

| Hazards | System requirements / Software requirements | Tests | Verification |
|---|---|---|---|
| HAZ-1 Stale reading used for dosing | SWR-1 Reject stale readings | TST-1 Stale reading rejected | passed |
| HAZ-2 Over-delivery by a wrong calculation | SWR-3 Cap the temporary basal | TST-2 Temporary basal capped | not-run |
"""
    )


def test_csv_is_one_rfc_4180_table_with_a_column_per_kind(project: Path, tmp_path: Path) -> None:
    path = tmp_path / "matrix.csv"

    result = qms_in(project, "matrix", "--format", "csv", "-o", str(path))

    assert (result.exit_code, result.stdout) == (0, f"wrote {path}: 14 rows\n")
    data = path.read_bytes()
    assert data.count(b"\r\n") == 15 and data.count(b"\n") == 15
    rows = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert rows[0] == [
        "Hazards", "Hazards: title", "User needs", "User needs: title", "System requirements",
        "System requirements: title", "Software requirements", "Software requirements: title",
        "Software items", "Software items: title", "Tests", "Tests: title", "Verification",
    ]  # fmt: skip
    assert [row[::2] for row in rows[1:]] == [
        ["", "NEED-1", "SYS-1", "SWR-2", "SI-1", "", ""],
        ["", "NEED-1", "SYS-1", "SWR-2", "", "TST-2", "not-run"],
        ["", "NEED-1", "SYS-1", "SWR-3", "SI-1", "", ""],
        ["", "NEED-1", "SYS-1", "SWR-3", "", "TST-2", "not-run"],
        ["", "NEED-1", "SYS-1", "", "", "TST-2", "not-run"],
        ["", "NEED-1", "", "", "", "VAL-1", "not-run"],
        ["", "NEED-2", "SYS-2", "SWR-1", "SI-1", "", ""],
        ["", "NEED-2", "SYS-2", "SWR-1", "", "TST-1", "passed"],
        ["", "NEED-2", "SYS-2", "SWR-3", "SI-1", "", ""],
        ["", "NEED-2", "SYS-2", "SWR-3", "", "TST-2", "not-run"],
        ["", "NEED-2", "SYS-2", "", "", "TST-1", "passed"],
        ["", "NEED-2", "", "", "", "VAL-1", "not-run"],
        ["HAZ-1", "", "", "SWR-1", "", "TST-1", "passed"],
        ["HAZ-2", "", "", "SWR-3", "", "TST-2", "not-run"],
    ]


def test_csv_quotes_what_needs_quoting_and_defuses_formulas(tmp_path: Path, make_project: object) -> None:
    root = make_project(  # type: ignore[operator]
        {
            "items/needs.yaml": "kind: need\nitems:\n"
            "  - {id: NEED-1, title: 'Say \"hi\", then go', text: t}\n"
            "  - {id: NEED-2, title: '=HYPERLINK(\"http://x\")', text: t}\n"
            "  - {id: NEED-3, title: '-2+3', text: t}\n"
        }
    )
    matrix = trace_matrix(load_project(root), chain("need,test"))

    assert matrix_csv(matrix) == (
        "User needs,User needs: title,Tests,Tests: title\r\n"
        'NEED-1,"Say ""hi"", then go",,\r\n'
        'NEED-2,"\'=HYPERLINK(""http://x"")",,\r\n'
        "NEED-3,'-2+3,,\r\n"
    )
    assert neutralize_formula("@SUM(1)") == "'@SUM(1)" and neutralize_formula("Plain") == "Plain"


def test_json_is_versioned_with_null_for_a_gap(project: Path) -> None:
    result = qms_in(project, "matrix", "--format", "json", "--chain", "need,test")

    document = json.loads(result.stdout)
    assert document["version"] == 1
    (matrix,) = document["matrices"]
    assert matrix["columns"] == [{"header": "User needs", "kinds": ["need"]}, {"header": "Tests", "kinds": ["test"]}]
    assert matrix["rows"][0] == {
        "cells": [
            {"id": "NEED-1", "kind": "need", "title": "Keep glucose in range"},
            {"id": "VAL-1", "kind": "test", "title": "Time in range study"},
        ],
        "verification": "not-run",
    }


def test_json_shape_is_the_documented_one(project: Path) -> None:
    loaded = load_project(project)
    document = matrix_document(
        [merge_matrices([trace_matrix(loaded, RISK)], ("hazard", "software_requirement", "test"), "T")]
    )

    assert document == {
        "version": 1,
        "matrices": [
            {
                "title": "T",
                "columns": [
                    {"header": "Hazards", "kinds": ["hazard"]},
                    {"header": "Software requirements", "kinds": ["software_requirement"]},
                    {"header": "Tests", "kinds": ["test"]},
                ],
                "rows": [
                    {"cells": [
                        {"id": "HAZ-1", "kind": "hazard", "title": "Stale reading used for dosing"},
                        {"id": "SWR-1", "kind": "software_requirement", "title": "Reject stale readings"},
                        {"id": "TST-1", "kind": "test", "title": "Stale reading rejected"},
                    ]},
                    {"cells": [
                        {"id": "HAZ-2", "kind": "hazard", "title": "Over-delivery by a wrong calculation"},
                        {"id": "SWR-3", "kind": "software_requirement", "title": "Cap the temporary basal"},
                        {"id": "TST-2", "kind": "test", "title": "Temporary basal capped"},
                    ]},
                ],
                "total_rows": 2,
            }
        ],
    }  # fmt: skip


def test_xlsx_needs_a_file_and_holds_a_sheet_per_matrix(project: Path, tmp_path: Path) -> None:
    assert qms_in(project, "matrix", "--format", "xlsx").stderr == (
        "qms: error: --format xlsx writes a workbook: give the file with -o FILE\n"
    )
    path = tmp_path / "matrix.xlsx"

    assert qms_in(project, "matrix", "--format", "xlsx", "-o", str(path)).exit_code == 0

    book = load_workbook(path)
    assert book.sheetnames == ["Design traceability", "Risk control traceability"]
    assert [cell.value for cell in book["Risk control traceability"][3]] == [
        "HAZ-2 Over-delivery by a wrong calculation",
        "SWR-3 Cap the temporary basal",
        "TST-2 Temporary basal capped",
        "not-run",
    ]


def test_markdown_cells_escape_pipes(make_project: object) -> None:
    root = make_project({"items/n.yaml": "kind: need\nitems:\n  - {id: NEED-1, title: 'a | b', text: t}\n"})  # type: ignore[operator]

    assert qms_in(root, "matrix", "--chain", "need,test").stdout == (
        "## Traceability matrix\n\n| User needs | Tests | Verification |\n|---|---|---|\n| NEED-1 a \\| b |  |  |\n"
    )


def test_the_sites_csv_download_is_the_command_lines_csv(project: Path) -> None:
    printed = qms_in(project, "matrix", "--format", "csv").stdout_bytes.decode()
    assert matrix_csv(combined_matrix(load_project(project))) == printed


def test_the_risk_chain_follows_controls_not_the_requirements_a_hazard_arises_from(make_project: object) -> None:
    root = make_project(  # type: ignore[operator]
        {
            "items/requirements.yaml": "kind: software_requirement\nitems:\n"
            "  - {id: SWR-1, title: Control, text: t, derived: d}\n"
            "  - {id: SWR-2, title: Source of the risk, text: t, derived: d}\n",
            "items/hazards.yaml": "kind: hazard\nitems:\n"
            "  - {id: HAZ-1, title: H, hazard: h, hazardous_situation: s, harm: x, severity: 1, probability: 1,\n"
            "     controls: [SWR-1], arising_from: [SWR-2]}\n",
            "items/tests.yaml": "kind: test\nitems:\n"
            "  - {id: TST-1, title: T1, method: test, verifies: [SWR-1]}\n"
            "  - {id: TST-2, title: T2, method: test, verifies: [SWR-2]}\n",
        }
    )

    assert ids(trace_matrix(load_project(root), RISK).rows) == [["HAZ-1", "SWR-1", "TST-1"]]
