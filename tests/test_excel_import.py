"""``qms import xlsx``: what it refuses (with sheet, row and column, writing nothing), what it notes,
and how it treats workbooks re-arranged by hand or re-saved by another tool."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures.excel.workbooks import (
    NO_CHANGES,
    add_row,
    column,
    delete_row,
    edited,
    exported,
    fixture_project,
    qms_in,
    row,
    set_value,
    snapshot,
)
from openpyxl import Workbook, load_workbook


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return fixture_project(tmp_path)


def refused(root: Path, workbook: Path, *options: str) -> list[str]:
    """Import, expecting refusal: the error lines (workbook prefix removed); nothing was written."""
    before = snapshot(root)
    result = qms_in(root, "import", "xlsx", str(workbook), *options)
    assert result.exit_code == 1, result.output
    assert result.stdout == ""
    assert snapshot(root) == before
    prefix = f"{workbook}: "
    return [line.removeprefix(prefix) for line in result.stderr.splitlines()]


def imported(root: Path, workbook: Path, *options: str) -> list[str]:
    result = qms_in(root, "import", "xlsx", str(workbook), *options)
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


# --------------------------------------------------------------------------- refused cells


def test_cells_that_cannot_be_taken_are_all_refused_and_nothing_is_written(project: Path) -> None:
    workbook = edited(
        project,
        lambda book: set_value(book["Hazards"], "HAZ-1", "controls", "SWR-1, SWR-99"),
        lambda book: set_value(book["Hazards"], "HAZ-2", "severity", "Severe"),
        lambda book: set_value(book["Tests"], "TST-1", "id", "TST-10"),
        lambda book: set_value(book["Software requirements"], "SWR-2", "title", "A better title"),
    )

    assert refused(project, workbook) == [
        "sheet 'Hazards', row 3, column G (severity): 'Severe' is not a severity level of the risk policy; "
        "levels: 1 Negligible, 2 Minor, 3 Serious, 4 Critical, 5 Catastrophic",
        "sheet 'Tests', row 2, column A (id): the id was changed from TST-1 to TST-10: links point at ids, so an "
        "item is renamed in its YAML file (with every link to it), not here; undo the change, or add a new row",
        "sheet 'Hazards', row 2, column M (controls): SWR-99 is not an item of the project: link to an existing "
        "id, or add its row",
        "qms: nothing was written: 3 cells refused",
    ]


def test_a_link_to_an_item_of_the_wrong_kind_is_refused(project: Path) -> None:
    workbook = edited(project, lambda book: set_value(book["Risk register"], "HAZ-1", "Risk controls", "SWR-1, TST-1"))

    assert refused(project, workbook)[0] == (
        "sheet 'Risk register', row 2, column K (Risk controls): TST-1 is a test; "
        "controls links to system_requirement, software_requirement"
    )


def test_the_same_field_edited_differently_on_two_sheets_is_refused(project: Path) -> None:
    workbook = edited(
        project,
        lambda book: set_value(book["Hazards"], "HAZ-1", "severity", "Minor"),
        lambda book: set_value(book["Risk register"], "HAZ-1", "Initial severity", "Serious"),
    )

    assert refused(project, workbook)[0] == (
        "sheet 'Risk register', row 2, column H (Initial severity): HAZ-1 severity is also changed, differently, "
        "at sheet 'Hazards', row 2, column G (severity): keep one edit"
    )


def test_the_same_edit_on_both_sheets_is_one_edit(project: Path) -> None:
    workbook = edited(
        project,
        lambda book: set_value(book["Hazards"], "HAZ-1", "severity", "Serious"),
        lambda book: set_value(book["Risk register"], "HAZ-1", "Initial severity", "3"),
    )

    assert imported(project, workbook) == ["changed HAZ-1 (items/hazards.yaml): severity", "wrote 1 file"]
    assert "    severity: Serious\n    probability: Occasional\n" in (project / "items/hazards.yaml").read_text()


def test_required_fields_cannot_be_emptied(project: Path) -> None:
    workbook = edited(project, lambda book: set_value(book["User needs"], "NEED-1", "title", None))

    assert refused(project, workbook)[0] == (
        "sheet 'User needs', row 2, column B (title): title is required for a need: it cannot be emptied"
    )


def test_a_new_row_needs_an_id_and_the_required_fields(project: Path) -> None:
    def add(book: Workbook) -> None:
        add_row(book["Hazards"], {"title": "No id yet", "hazard": "h"})
        add_row(book["Hazards"], {"id": "HAZ-9", "title": "Half a hazard"})

    assert refused(project, edited(project, add))[:2] == [
        "sheet 'Hazards', row 4, column A (id): the row has no id: give the new hazard one, e.g. HAZ-3",
        "sheet 'Hazards', row 5, column A (id): the new hazard HAZ-9 needs hazard, hazardous_situation, harm",
    ]


def test_a_residual_risk_needs_both_levels(project: Path) -> None:
    workbook = edited(project, lambda book: set_value(book["Hazards"], "HAZ-1", "residual.probability", None))

    assert refused(project, workbook)[0] == (
        "sheet 'Hazards', row 2, column J (residual.probability): a residual risk needs both severity and "
        "probability: give the residual probability too, or empty both"
    )


def test_rows_with_the_same_id_are_refused(project: Path) -> None:
    again = {"id": "NEED-2", "title": "Again", "text": "t"}
    workbook = edited(project, lambda book: add_row(book["User needs"], again))

    assert refused(project, workbook)[0] == (
        "sheet 'User needs', row 4, column A (id): NEED-2 is on row 3 already: ids must be unique"
    )


def test_an_item_put_on_the_sheet_of_another_kind_is_refused(project: Path) -> None:
    workbook = edited(project, lambda book: add_row(book["Tests"], {"id": "SWR-1", "title": "Moved", "method": "test"}))

    assert refused(project, workbook)[0] == (
        "sheet 'Tests', row 5, column A (id): SWR-1 is a software requirement (items/requirements.yaml), "
        "not a test: it belongs on sheet 'Software requirements'"
    )


def test_deleting_an_item_that_is_still_linked_is_refused(project: Path) -> None:
    workbook = edited(project, lambda book: delete_row(book["Software requirements"], "SWR-1"))

    assert refused(project, workbook, "--delete-missing")[0] == (
        "sheet 'Software requirements': SWR-1 would be deleted but is still linked from SI-1 (implements), "
        "HAZ-1 (controls), TST-1 (verifies): remove those links too, or keep its row"
    )


def test_a_new_row_may_not_name_a_file_outside_the_sources(project: Path) -> None:
    outside = {"id": "NEED-3", "title": "t", "text": "x", "file": "../elsewhere.yaml"}
    workbook = edited(project, lambda book: add_row(book["User needs"], outside))

    assert refused(project, workbook)[0] == (
        "sheet 'User needs', row 4, column F (file): '../elsewhere.yaml' leaves the project folder: "
        "name a file like traceability/tests.yaml"
    )


# --------------------------------------------------------------------------- edits since the export


def test_a_yaml_edit_made_after_the_export_is_not_reverted_by_an_untouched_cell(project: Path) -> None:
    workbook = exported(project)
    hazards = project / "items/hazards.yaml"
    hazards.write_text(hazards.read_text().replace("harm: Severe hypoglycaemia.", "harm: Seizure."))
    book = load_workbook(workbook)
    set_value(book["Hazards"], "HAZ-1", "category", "Sensor data")
    book.save(workbook)

    assert imported(project, workbook) == ["changed HAZ-1 (items/hazards.yaml): category", "wrote 1 file"]
    text = hazards.read_text()
    assert "    harm: Seizure.\n" in text
    assert "    category: Sensor data\n" in text


def test_a_cell_edited_both_in_yaml_and_in_the_workbook_is_refused(project: Path) -> None:
    workbook = exported(project)
    hazards = project / "items/hazards.yaml"
    hazards.write_text(hazards.read_text().replace("harm: Severe hypoglycaemia.", "harm: Seizure."))
    book = load_workbook(workbook)
    set_value(book["Hazards"], "HAZ-1", "harm", "Death.")
    book.save(workbook)

    assert refused(project, workbook)[0] == (
        "sheet 'Hazards', row 2, column F (harm): HAZ-1 harm was changed in items/hazards.yaml after the export "
        "and in the workbook too: export again and redo the edit"
    )


# --------------------------------------------------------------------------- new rows


def test_a_new_row_goes_after_the_row_above_in_its_file_with_the_kind_it_needs(project: Path) -> None:
    def insert(book: Workbook) -> None:
        sheet = book["Software requirements"]
        sheet.insert_rows(row(sheet, "SWR-1") + 1)
        number = row(sheet, "SWR-1") + 1
        for header, text in {"id": "SWR-4", "title": "Yes", "text": "on\noff", "derives_from": "SYS-2"}.items():
            sheet.cell(number, column(sheet, header)).value = text

    assert imported(project, edited(project, insert)) == ["added SWR-4 (items/requirements.yaml)", "wrote 1 file"]
    assert (
        (project / "items/requirements.yaml")
        .read_text()
        .endswith("""\
    derives_from: [SYS-2]
    control_type: protective_measure

  - id: SWR-4
    kind: software_requirement
    title: 'Yes'
    text: |
      on
      off
    derives_from: [SYS-2]
""")
    )


def test_a_new_row_naming_a_new_file_creates_it(project: Path) -> None:
    workbook = edited(
        project,
        lambda book: add_row(
            book["Tests"],
            {"id": "TST-3", "title": "Alarm", "method": "inspection", "verifies": "SYS-1", "file": "items/alarms.yaml"},
        ),
    )

    assert imported(project, workbook) == ["added TST-3 (items/alarms.yaml)", "wrote 1 file"]
    assert (
        (project / "items/alarms.yaml").read_text()
        == """\
kind: test
items:
  - id: TST-3
    title: Alarm
    method: inspection
    verifies: [SYS-1]
"""
    )
    checked = qms_in(project, "check").stdout.splitlines()
    assert "16 items in 8 files: 1 error, 0 warnings" in checked
    assert checked[0].startswith("items/alarms.yaml:3:5: error E405 TST-3: not executed")  # a new test: not run yet


def test_new_levels_are_written_as_the_file_writes_them_whatever_was_typed(project: Path) -> None:
    workbook = edited(
        project,
        lambda book: add_row(
            book["Risk register"],
            {
                "ID": "HAZ-3",
                "Title": "Occlusion",
                "Hazard": "Blocked set.",
                "Hazardous situation": "No insulin.",
                "Harm": "DKA.",
                "Initial severity": 4,
                "Initial probability": "remote",
            },
        ),
    )

    imported(project, workbook)

    assert (
        (project / "items/hazards.yaml")
        .read_text()
        .endswith("""\

  - id: HAZ-3
    title: Occlusion
    hazard: Blocked set.
    hazardous_situation: No insulin.
    harm: DKA.
    severity: Critical
    probability: Remote
""")
    )


# --------------------------------------------------------------------------- foreign workbooks


def test_a_workbook_rearranged_by_hand_still_imports(project: Path) -> None:
    """Columns moved and renamed, a header row pushed down, extra sheets and columns, the hidden
    column dropped: the edits still come back, and what is ignored is said."""
    source = load_workbook(exported(project))
    book = Workbook()
    notes = book.active
    notes.title = "My notes"
    notes["A1"] = "anything"
    sheet = book.create_sheet("Hazards")
    sheet.append(["Hazard register, reviewed 2025-03-01"])
    sheet.append(["Reviewer comment", "ID", "Initial Severity", "Risk Controls", "Title", "Derives from"])
    original = source["Hazards"]
    for item_id in ("HAZ-2", "HAZ-1"):
        sheet.append(
            [
                "ok",
                item_id,
                original.cell(row(original, item_id), column(original, "severity")).value,
                original.cell(row(original, item_id), column(original, "controls")).value,
                original.cell(row(original, item_id), column(original, "title")).value,
                None,
            ]
        )
    sheet["D4"] = "SWR-1, SYS-2"  # HAZ-1's controls, in its new place
    workbook = project.parent / "foreign.xlsx"
    book.save(workbook)

    assert imported(project, workbook) == [
        "changed HAZ-1 (items/hazards.yaml): controls",
        "note: sheet 'My notes' is not named after a kind of item: ignored",
        "note: sheet 'Hazards', column A 'Reviewer comment' is not a field of a hazard: ignored",
        "note: sheet 'Hazards', column F 'Derives from' is not a field of a hazard: ignored",
        "wrote 1 file",
    ]
    assert "    controls: [SWR-1, SYS-2]\n" in (project / "items/hazards.yaml").read_text()


def test_a_workbook_resaved_by_another_tool_round_trips(project: Path) -> None:
    """Another tool's re-save (openpyxl's here) with a sheet and a column added: no edit, no change."""
    book = load_workbook(exported(project))
    book.create_sheet("Extra")["A1"] = "=1+1"
    book["Tests"].cell(1, 20).value = "Comments"
    resaved = project.parent / "resaved.xlsx"
    book.save(resaved)
    before = snapshot(project)

    assert imported(project, resaved) == [
        "note: sheet 'Tests', column T 'Comments' is not a field of a test: ignored",
        "note: sheet 'Extra' is not named after a kind of item: ignored",
        "no changes: the YAML files already say what the workbook says",
    ]
    assert snapshot(project) == before


def test_an_extension_column_added_in_the_workbook_becomes_a_field(project: Path) -> None:
    def add_column(book: Workbook) -> None:
        sheet = book["User needs"]
        sheet.cell(1, 9).value = "x-reviewer"
        sheet.cell(row(sheet, "NEED-2"), 9).value = "Dr. Example"

    assert imported(project, edited(project, add_column)) == [
        "changed NEED-2 (items/needs.yaml): x-reviewer",
        "wrote 1 file",
    ]
    assert (
        (project / "items/needs.yaml")
        .read_text()
        .endswith("""\
  - id: NEED-2
    title: "Never cause a dangerous low"
    text: I need the system to give less insulin when unsure.
    x-reviewer: Dr. Example
""")
    )


def test_a_file_that_is_not_a_workbook_is_a_usage_error(project: Path) -> None:
    bogus = project.parent / "bogus.xlsx"
    bogus.write_text("not a zip")

    result = qms_in(project, "import", "xlsx", str(bogus))

    assert result.exit_code == 2
    assert result.stderr.startswith(f"qms: error: {bogus} cannot be read as an Excel workbook (.xlsx): ")


def test_a_missing_workbook_is_a_usage_error(project: Path) -> None:
    result = qms_in(project, "import", "xlsx", "nowhere.xlsx")

    assert (result.exit_code, result.stderr) == (2, "qms: error: nowhere.xlsx does not exist\n")


def test_an_edited_computed_column_is_noted_not_imported(project: Path) -> None:
    workbook = edited(project, lambda book: set_value(book["Risk register"], "HAZ-1", "Initial risk", "A"))

    assert imported(project, workbook) == [
        "note: sheet 'Risk register', row 2, column J (Initial risk): Initial risk is computed from other columns; "
        "the edit was not imported",
        NO_CHANGES,
    ]


def test_an_item_does_not_move_to_another_file_from_the_workbook(project: Path) -> None:
    workbook = edited(project, lambda book: set_value(book["User needs"], "NEED-1", "file", "items/other.yaml"))

    assert refused(project, workbook)[0] == (
        "sheet 'User needs', row 2, column F (file): NEED-1 lives in items/needs.yaml: moving an item to another "
        "file is done in YAML, not here"
    )


def test_text_longer_than_a_cell_round_trips_but_cannot_be_edited(project: Path) -> None:
    needs = project / "items/needs.yaml"
    needs.write_text(
        needs.read_text().replace("source: Interviews", "x-notes: " + "n" * 40_000 + "\n    source: Interviews")
    )
    workbook = exported(project)
    assert len(load_workbook(workbook)["User needs"]["F2"].value) == 32_767
    assert imported(project, workbook) == [NO_CHANGES]

    book = load_workbook(workbook)
    set_value(book["User needs"], "NEED-1", "x-notes", "short")
    book.save(workbook)

    assert refused(project, workbook)[0] == (
        "sheet 'User needs', row 2, column F (x-notes): the x-notes of NEED-1 is longer than a cell holds "
        "(32,767 characters): edit it in items/needs.yaml"
    )


def test_a_value_the_yaml_got_wrong_can_be_put_right_in_the_workbook(project: Path) -> None:
    hazards = project / "items/hazards.yaml"
    hazards.write_text(
        hazards.read_text().replace(
            "severity: Critical\n    probability: Occasional", "severity: Severe\n    probability: Occasional"
        )
    )
    workbook = exported(project)
    assert load_workbook(workbook)["Hazards"]["G2"].value is None  # not a level: nothing to show
    assert imported(project, workbook) == [NO_CHANGES]

    book = load_workbook(workbook)
    set_value(book["Hazards"], "HAZ-1", "severity", "Critical")
    book.save(workbook)

    assert imported(project, workbook) == ["changed HAZ-1 (items/hazards.yaml): severity", "wrote 1 file"]
    assert "    severity: Critical\n    probability: Occasional\n" in hazards.read_text()
    assert qms_in(project, "check").stdout.splitlines()[-1] == "15 items in 7 files: no findings"


def test_a_step_of_several_paragraphs_is_never_split_by_an_edited_cell(project: Path) -> None:
    """In a cell, blank lines separate a test's steps; a step that holds a blank line itself cannot be
    told apart there, so an edit of that cell is refused (naming the file to edit it in), never split."""
    tests = project / "items/tests.yaml"
    text = tests.read_text(encoding="utf-8")
    step = "      - Feed a reading 13 minutes old.\n"
    assert step in text
    tests.write_text(
        text.replace(step, "      - |\n        Feed a reading 13 minutes old.\n\n        Then wait one minute.\n", 1),
        encoding="utf-8",
    )
    cell = "Feed a reading 13 minutes old.\n\nThen wait one minute.\n\nRun two dosing cycles."
    workbook = edited(project, lambda book: set_value(book["Tests"], "TST-1", "steps", cell))

    assert refused(project, workbook) == [
        "sheet 'Tests', row 2, column E (steps): an entry of the steps of TST-1 holds a blank line, and in a "
        "cell blank lines separate the entries: edit it in items/tests.yaml",
        "qms: nothing was written: 1 cell refused",
    ]


def test_a_renamed_sheet_of_items_is_refused_not_passed_over(project: Path) -> None:
    """A person renames "User needs" and edits it: its rows still carry what the export wrote, so the
    sheet is refused with the name to give back, instead of its edits being left out with a note."""

    def rename_and_edit(book: Workbook) -> None:
        set_value(book["User needs"], "NEED-1", "title", "Glucose at a glance")
        book["User needs"].title = "Needs (edited)"

    assert refused(project, edited(project, rename_and_edit)) == [
        "sheet 'Needs (edited)': the sheet holds rows qms exported, but its name is not a kind's: give it back its "
        "name ('User needs') to import its edits",
        "note: the workbook has no sheet 'User needs' (it was exported with one): its items stay as they are",
        "qms: nothing was written: 1 cell refused",
    ]


def test_filled_cells_under_no_header_are_named_in_a_note(project: Path) -> None:
    def note_beside(book: Workbook) -> None:
        sheet = book["User needs"]
        sheet.cell(2, sheet.max_column + 2).value = "check with the clinical lead"

    lines = imported(project, edited(project, note_beside))
    assert any(
        line.startswith("note: sheet 'User needs', column ")
        and line.endswith(
            " has no header: its 1 filled cell(s) were not imported; head the column with a field's name to import them"
        )
        for line in lines
    ), lines


def test_an_anomaly_review_written_as_a_block_reads_back_as_the_cell_says(project: Path) -> None:
    """A SOUP anomaly's evaluation written as a block (ending with its line break) is edited in the
    workbook: it is written back as a block, in place, not refused for reading back differently."""
    architecture = project / "items/architecture.yaml"
    text = architecture.read_text(encoding="utf-8")
    plain = "        evaluation: Affects complex numbers only; not used.\n"
    assert plain in text
    block = "        evaluation: |\n          Affects complex numbers only; not used.\n\n"
    architecture.write_text(text.replace(plain, block, 1), encoding="utf-8")
    cell = "- ref: ISSUE-12\n  evaluation: |\n    Affects complex numbers only; never called.\n"
    workbook = edited(project, lambda book: set_value(book["SOUP"], "SOUP-1", "known_anomalies", cell))

    assert imported(project, workbook) == ["changed SOUP-1 (items/architecture.yaml): known_anomalies", "wrote 1 file"]
    assert "        evaluation: |\n          Affects complex numbers only; never called.\n" in architecture.read_text(
        encoding="utf-8"
    )
