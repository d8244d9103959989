"""The Excel round trip end to end: ``qms export xlsx``, edits made as a person makes them in a
spreadsheet, ``qms import xlsx``, and the YAML diff that results (exact)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from fixtures.change.gitrepo import git
from fixtures.excel.workbooks import (
    NO_CHANGES,
    add_row,
    delete_row,
    example_project,
    fixture_project,
    qms_in,
    set_value,
    snapshot,
)
from openpyxl import load_workbook


def export(root: Path, workbook: Path) -> None:
    result = qms_in(root, "export", "xlsx", str(workbook))
    assert result.exit_code == 0, result.output
    assert result.output == f"wrote {workbook}: {result.output.split(': ')[1]}"


def test_export_then_import_without_edits_changes_no_byte(tmp_path: Path) -> None:
    root = fixture_project(tmp_path)
    before = snapshot(root)
    workbook = tmp_path / "records.xlsx"
    export(root, workbook)

    result = qms_in(root, "import", "xlsx", str(workbook))

    assert result.exit_code == 0, result.output
    assert result.output == NO_CHANGES + "\n"
    assert snapshot(root) == before
    assert git(root, "status", "--porcelain") == ""


@pytest.mark.slow
def test_bundled_example_round_trips_without_a_change(tmp_path: Path) -> None:
    root = example_project(tmp_path)
    workbook = tmp_path / "example.xlsx"
    export(root, workbook)

    result = qms_in(root, "import", "xlsx", str(workbook))

    assert result.exit_code == 0, result.output
    assert result.output.endswith(NO_CHANGES + "\n")
    assert git(root, "status", "--porcelain") == ""


def edit_like_a_person(workbook: Path, edited: Path) -> None:
    """Change a severity, add a control, add a hazard row, delete a row, type a formula into a title."""
    book = load_workbook(workbook)
    set_value(book["Risk register"], "HAZ-1", "Initial severity", "Serious")
    set_value(book["Hazards"], "HAZ-2", "controls", "SWR-3, SWR-1")
    add_row(
        book["Risk register"],
        {
            "ID": "HAZ-3",
            "Title": "Pump occlusion not noticed",
            "Hazard": "Occluded infusion set.",
            "Hazardous situation": "No insulin is delivered for hours.",
            "Harm": "Diabetic ketoacidosis.",
            "Initial severity": "Critical",
            "Initial probability": "Remote",
            "Risk controls": "SYS-2",
            "Residual severity": "Serious",
            "Residual probability": "Improbable",
        },
    )
    delete_row(book["Tests"], "TST-2")
    set_value(book["System requirements"], "SYS-1", "title", '=HYPERLINK("http://example.com","click")')
    book.save(edited)


HAZARDS_AFTER = """\
# Hazards (ISO 14971). Levels may be names or numbers.
kind: hazard
items:
  - id: HAZ-1
    title: Stale reading used for dosing
    hazard: Glucose data that no longer reflect the patient.
    sequence_of_events: The sensor link drops; the last value is kept.
    hazardous_situation: Insulin is delivered while glucose falls.
    harm: Severe hypoglycaemia.
    severity: Serious
    probability: Occasional
    controls: [SWR-1]
    residual: {severity: Serious, probability: Improbable}
    category: CGM data

  # --- pump ---
  - id: HAZ-2
    title: Over-delivery by a wrong calculation
    hazard: A software fault in the dose calculation.
    hazardous_situation: More insulin than needed is delivered.
    harm: Hypoglycaemia.
    severity: 4
    probability: 2
    controls:
      - SWR-3
      - SWR-1
    residual:
      severity: 4
      probability: 1
    benefit_risk: |
      Automated dosing keeps more time in range than manual dosing.

  - id: HAZ-3
    title: Pump occlusion not noticed
    hazard: Occluded infusion set.
    hazardous_situation: No insulin is delivered for hours.
    harm: Diabetic ketoacidosis.
    severity: Critical
    probability: Remote
    controls: [SYS-2]
    residual: {severity: Serious, probability: Improbable}
"""


def test_edits_made_in_a_spreadsheet_come_back_as_exactly_that_yaml_diff(tmp_path: Path) -> None:
    root = fixture_project(tmp_path)
    workbook, edited = tmp_path / "records.xlsx", tmp_path / "edited.xlsx"
    export(root, workbook)
    edit_like_a_person(workbook, edited)

    result = qms_in(root, "import", "xlsx", str(edited))

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "changed SYS-1 (items/requirements.yaml): title",
        "changed HAZ-2 (items/hazards.yaml): controls",
        "changed HAZ-1 (items/hazards.yaml): severity",
        "added HAZ-3 (items/hazards.yaml)",
        "not in the workbook: TST-2 (items/tests.yaml) has no row on 'Tests'; kept "
        "(import with --delete-missing to delete it)",
        "note: sheet 'System requirements', row 2, column B (title): the cell holds a formula; "
        "its text was taken as written, not its result",
        "wrote 2 files",
    ]
    assert git(root, "status", "--porcelain", "--untracked-files=all").splitlines() == [
        "M items/hazards.yaml",
        " M items/requirements.yaml",
    ]
    assert (root / "items/hazards.yaml").read_text() == HAZARDS_AFTER
    assert git(root, "diff", "-U0", "items/requirements.yaml").splitlines()[4:] == [
        "@@ -5 +5 @@ items:",
        "-    title: Automatic basal adjustment",
        '+    title: =HYPERLINK("http://example.com","click")',
    ]
    check = qms_in(root, "check").output.splitlines()
    assert "16 items in 7 files: 1 error, 0 warnings" in check
    assert " error E407 " in check[0]  # a requirement changed after its test ran: stale until run again


def test_the_title_typed_as_a_formula_goes_back_out_as_text(tmp_path: Path) -> None:
    root = fixture_project(tmp_path)
    workbook, edited, again = tmp_path / "records.xlsx", tmp_path / "edited.xlsx", tmp_path / "again.xlsx"
    export(root, workbook)
    edit_like_a_person(workbook, edited)
    assert qms_in(root, "import", "xlsx", str(edited)).exit_code == 0

    export(root, again)

    cell = load_workbook(again)["System requirements"]["B2"]
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://example.com","click")', "s")
    assert qms_in(root, "import", "xlsx", str(again)).output == NO_CHANGES + "\n"


def test_deleted_rows_are_deleted_only_with_the_flag(tmp_path: Path) -> None:
    root = fixture_project(tmp_path)
    workbook, edited = tmp_path / "records.xlsx", tmp_path / "edited.xlsx"
    export(root, workbook)
    edit_like_a_person(workbook, edited)

    result = qms_in(root, "import", "xlsx", str(edited), "--delete-missing")

    assert result.exit_code == 0, result.output
    assert "deleted TST-2 (items/tests.yaml)" in result.output.splitlines()
    assert (
        (root / "items/tests.yaml").read_text()
        == """\
kind: test
items:
  - id: TST-1
    title: Stale reading rejected
    method: test
    level: integration
    steps:
      - Feed a reading 13 minutes old.
      - Run one dosing cycle.
    expected: No temporary basal above the scheduled rate is commanded.
    evidence: [tests/test_cgm.py::test_stale]
    verifies: [SWR-1, SYS-2]

  - id: VAL-1
    title: Time in range study
    method: demonstration
    level: validation
    validates: [NEED-1, NEED-2]
"""
    )


def test_an_item_added_after_the_export_is_never_deleted_as_a_missing_row(tmp_path: Path) -> None:
    """The workbook lists the rows it was exported with (a hidden sheet): an item written into the
    YAML after the export has no row because the workbook never had one, not because a person
    deleted it, and --delete-missing keeps it; a row deleted from the workbook is still deleted."""
    root = fixture_project(tmp_path)
    workbook, edited = tmp_path / "records.xlsx", tmp_path / "edited.xlsx"
    export(root, workbook)
    assert load_workbook(workbook)["qms-exported rows"].sheet_state == "hidden"
    tests = root / "items/tests.yaml"
    added = "\n  - id: TST-9\n    title: Added after the export\n    method: inspection\n    verifies: [SWR-1]\n"
    tests.write_text(tests.read_text(encoding="utf-8") + added, encoding="utf-8")
    edit_like_a_person(workbook, edited)  # deletes the row of TST-2 among its edits

    result = qms_in(root, "import", "xlsx", str(edited), "--delete-missing")

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "deleted TST-2 (items/tests.yaml)" in lines
    assert (
        "not in the workbook: TST-9 (items/tests.yaml), added to the project after the workbook was exported; kept"
    ) in lines
    assert "- id: TST-9" in tests.read_text(encoding="utf-8") and "- id: TST-2\n" not in tests.read_text()


def test_without_its_list_of_rows_a_workbook_deletes_nothing(tmp_path: Path) -> None:
    root = fixture_project(tmp_path)
    workbook, edited = tmp_path / "records.xlsx", tmp_path / "edited.xlsx"
    export(root, workbook)
    edit_like_a_person(workbook, edited)
    book = load_workbook(edited)
    del book["qms-exported rows"]  # a person removed it, or an older qms wrote the workbook
    book.save(edited)
    before = snapshot(root)

    result = qms_in(root, "import", "xlsx", str(edited), "--delete-missing")

    assert result.exit_code == 1, result.output
    assert "--delete-missing: the workbook does not list the rows it was exported with" in result.output
    assert snapshot(root) == before


def test_dry_run_prints_the_diff_and_writes_nothing(tmp_path: Path) -> None:
    root = fixture_project(tmp_path)
    workbook, edited = tmp_path / "records.xlsx", tmp_path / "edited.xlsx"
    export(root, workbook)
    book = load_workbook(workbook)
    set_value(book["Hazards"], "HAZ-1", "probability", "Remote")
    book.save(edited)
    before = snapshot(root)

    result = qms_in(root, "import", "xlsx", str(edited), "--dry-run")

    assert result.exit_code == 0, result.output
    assert (
        result.output
        == """\
--- a/items/hazards.yaml
+++ b/items/hazards.yaml
@@ -8,7 +8,7 @@
     hazardous_situation: Insulin is delivered while glucose falls.
     harm: Severe hypoglycaemia.
     severity: Critical
-    probability: Occasional
+    probability: Remote
     controls: [SWR-1]
     residual: {severity: Serious, probability: Improbable}
     category: CGM data
changed HAZ-1 (items/hazards.yaml): probability
dry run: 1 file would change; nothing was written
"""
    )
    assert snapshot(root) == before


@pytest.mark.slow
def test_bundled_example_takes_the_same_kind_of_edits(tmp_path: Path) -> None:
    root = example_project(tmp_path)
    workbook, edited = tmp_path / "example.xlsx", tmp_path / "edited.xlsx"
    export(root, workbook)
    book = load_workbook(workbook)
    hazards = book["Hazards"]
    set_value(hazards, "HAZ-01", "probability", "Remote")
    set_value(hazards, "HAZ-01", "title", "@SUM(1)")
    book.save(edited)

    result = qms_in(root, "import", "xlsx", str(edited))

    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "changed HAZ-01 (risk_register/cgm_data.yaml): title, probability"
    diff = git(root, "diff", "-U0").splitlines()
    changed = [line for line in diff if line[:1] in "+-" and line[:3] not in ("+++", "---")]
    assert changed == [
        "-    title: Stale glucose value used as current",
        "+    title: '@SUM(1)'",
        "-    probability: Occasional",
        "+    probability: Remote",
    ]


def libreoffice_resave(workbook: Path, folder: Path) -> Path:
    """``workbook`` opened and saved again by LibreOffice Calc (its own profile, so tests may run side by side)."""
    profile = (folder / "libreoffice-profile").as_uri()
    command = [
        shutil.which("soffice") or "soffice",
        f"-env:UserInstallation={profile}",
        "--headless",
        "--calc",
        "--convert-to",
        "xlsx:Calc MS Excel 2007 XML",
        "--outdir",
        str(folder / "resaved"),
        str(workbook),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=180)
    return folder / "resaved" / workbook.name


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_a_workbook_resaved_by_libreoffice_gives_the_same_edits(tmp_path: Path) -> None:
    root = fixture_project(tmp_path)
    workbook, edited = tmp_path / "records.xlsx", tmp_path / "edited.xlsx"
    export(root, workbook)
    unedited = libreoffice_resave(workbook, tmp_path / "plain")
    assert qms_in(root, "import", "xlsx", str(unedited)).output == NO_CHANGES + "\n"
    edit_like_a_person(workbook, edited)

    result = qms_in(root, "import", "xlsx", str(libreoffice_resave(edited, tmp_path / "edited")))

    assert result.exit_code == 0, result.output
    assert (root / "items/hazards.yaml").read_text() == HAZARDS_AFTER
    assert git(root, "diff", "-U0", "items/requirements.yaml").splitlines()[-1] == (
        '+    title: =HYPERLINK("http://example.com","click")'
    )
