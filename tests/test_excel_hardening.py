"""``qms import xlsx`` against careless and hostile workbooks: every bad input is refused with a
message (exit 1) or a usage error (exit 2), nothing is written then, no item is written where qms
does not read it back, and crafted files are refused before they are read whole."""

from __future__ import annotations

import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from fixtures.excel.workbooks import (
    Edit,
    add_row,
    edited,
    exported,
    fixture_project,
    qms_in,
    rewrite_part,
    set_value,
    sheet_part,
    snapshot,
)

from qms.excel.reading import MAX_PART_BYTES, MAX_ROWS
from qms.project import load_project


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return fixture_project(tmp_path)


def import_refused(root: Path, workbook: Path, code: int = 1) -> Result:
    """Import, expecting refusal with ``code``: no byte of the folder around the project changed."""
    before = snapshot(root.parent)
    result = qms_in(root, "import", "xlsx", str(workbook))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert snapshot(root.parent) == before
    return result


def new_test(file: str) -> Edit:
    row = {"id": "TST-9", "title": "A new test", "method": "test", "verifies": "SWR-1", "file": file}
    return lambda book: add_row(book["Tests"], row)


def set_sources(root: Path, sources: str) -> None:
    config = root / "qms.yaml"
    config.write_text(config.read_text().replace("sources: [items]", f"sources: {sources}"))


# --------------------------------------------------------------------------- where new items go (items 2, 3)


@pytest.mark.parametrize(
    ("file", "message"),
    [
        ("items/tests.yaml/x.yaml", "items/tests.yaml is a file, not a folder: name a file in a folder of the project"),
        ("qms.yaml", "'qms.yaml' is the project file, not an item file: name an item file of the project"),
        ("items/qms.yaml", "'items/qms.yaml' is the project file, not an item file: name an item file of the project"),
        (".git/x.yaml", "'.git/x.yaml' is inside .git, git's own folder: name an item file of the project"),
        ("items/.git/x.yaml", "'items/.git/x.yaml' is inside .git, git's own folder: name an item file of the project"),
        ("../x.yaml", "'../x.yaml' leaves the project folder: name a file like traceability/tests.yaml"),
        (
            "items/../../x.yaml",
            "'items/../../x.yaml' leaves the project folder: name a file like traceability/tests.yaml",
        ),
        ("/tmp/x.yaml", "'/tmp/x.yaml' is not a path inside the project: name a file like traceability/tests.yaml"),
        ("items/x.txt", "'items/x.txt' is not a YAML file: name a .yaml file like traceability/tests.yaml"),
        ("items", "'items' is not a YAML file: name a .yaml file like traceability/tests.yaml"),
        (
            "results/x.yaml",
            "results/x.yaml would not be read by qms (no `sources` entry of qms.yaml takes it): name a file under "
            "the project's sources (items), or add its folder to `sources`",
        ),
    ],
)
def test_a_new_item_is_never_written_where_qms_does_not_read_it(project: Path, file: str, message: str) -> None:
    result = import_refused(project, edited(project, new_test(file)))

    assert result.stderr.splitlines()[0].endswith(f"sheet 'Tests', row 5, column J (file): {message}")


def test_a_glob_source_decides_as_qms_reads_it_where_fnmatch_would_not(project: Path) -> None:
    set_sources(project, "['items/*.yaml']")  # glob's * stops at /, fnmatch's does not

    result = import_refused(project, edited(project, new_test("items/deeper/x.yaml")))

    assert "items/deeper/x.yaml would not be read by qms (no `sources` entry of qms.yaml takes it)" in result.stderr


def test_an_existing_yaml_file_outside_the_sources_is_refused(project: Path) -> None:
    (project / "results" / "notes.yaml").write_text("kind: test\nitems: []\n")

    result = import_refused(project, edited(project, new_test("results/notes.yaml")))

    assert "results/notes.yaml is not read by qms (no `sources` entry of qms.yaml takes it)" in result.stderr


def test_a_symlink_to_a_folder_outside_the_project_is_refused(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (project / "items" / "elsewhere").symlink_to(outside, target_is_directory=True)

    result = import_refused(project, edited(project, new_test("items/elsewhere/x.yaml")))

    assert f"items/elsewhere is a symbolic link to {outside}, outside the project" in result.stderr
    assert list(outside.iterdir()) == []


def test_a_symlinked_item_file_outside_the_project_is_not_edited(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "needs.yaml"
    (project / "items" / "needs.yaml").rename(outside)
    (project / "items" / "needs.yaml").symlink_to(outside)
    with (project / "qms.yaml").open("a", encoding="utf-8") as config:  # qms reads it: an export shows it
        config.write(f"allow_outside: ['{tmp_path}']\n")
    workbook = edited(project, lambda book: set_value(book["User needs"], "NEED-1", "title", "Changed"))

    result = import_refused(project, workbook)

    assert "(title): '../needs.yaml' leaves the project folder" in result.stderr  # qms reads it from there
    assert "Changed" not in outside.read_text()


@pytest.mark.parametrize(
    ("sources", "file"),
    [
        ("[items]", "items/new/deeper/tests.yaml"),
        ("['items/**/*.yaml']", "items/new/tests.yaml"),
        ("['items/*.yaml', 'more/*.yml']", "more/tests.yml"),
        ("[.]", "elsewhere/tests.yaml"),
    ],
)
def test_every_item_an_import_adds_is_read_back_by_qms(project: Path, sources: str, file: str) -> None:
    set_sources(project, sources)
    workbook = edited(project, new_test(file))

    result = qms_in(project, "import", "xlsx", str(workbook))

    assert result.exit_code == 0, result.output
    assert f"added TST-9 ({file})" in result.stdout
    assert load_project(project).items["TST-9"].file == file


# --------------------------------------------------------------------------- YAML in cells (items 9, 11)


def bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["x", "x", "x", "x", "x", "x", "x", "x", "x"]']
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, levels)]
    return "\n".join(lines)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (bomb(), "this value expands through aliases to far more nodes than the file holds (YAML alias bomb?)"),
        ("[" * 5000 + "]" * 5000, "data nested deeper than 100 levels: flatten it"),
        ("!!python/object/apply:os.system [echo]", "YAML tag !!python/object/apply:os.system is not allowed"),
        ("{a: 1, a: 2}", "duplicate key 'a'"),
    ],
)
def test_a_cell_read_as_yaml_is_read_with_the_item_file_limits(project: Path, text: str, reason: str) -> None:
    # SYS-2 has x-priority: 1, so the cell is read as YAML
    workbook = edited(project, lambda book: set_value(book["System requirements"], "SYS-2", "x-priority", text))

    result = import_refused(project, workbook)

    first = result.stderr.splitlines()[0]
    assert "sheet 'System requirements', row 3, column J (x-priority): cannot read the cell as a value" in first
    assert reason in first


def test_a_cell_holding_a_huge_number_is_text_as_in_an_item_file(project: Path) -> None:
    # the item-file reader keeps plain values over 100 characters as text (no integer conversion
    # of unbounded cost): a cell read through it gives the same value a YAML file would
    digits = "1" * 5000
    workbook = edited(project, lambda book: set_value(book["System requirements"], "SYS-2", "x-priority", digits))

    result = qms_in(project, "import", "xlsx", str(workbook))

    assert result.exit_code == 0, result.output
    assert load_project(project).items["SYS-2"].fields["x-priority"] == digits


# --------------------------------------------------------------------------- damaged workbooks (item 11)


@pytest.mark.parametrize(
    ("part", "change"),
    [
        ("Tests", lambda data: data[: len(data) // 2]),
        ("Tests", lambda data: data.replace(b"Stale reading", b"Stale\x00reading")),
        ("xl/styles.xml", lambda data: b"garbage\x00<<<"),
        ("xl/workbook.xml", lambda data: b"<workbook"),
        ("[Content_Types].xml", lambda data: data[:40]),
    ],
    ids=["truncated-sheet", "nul-in-sheet", "garbage-styles", "truncated-workbook", "truncated-content-types"],
)
def test_a_damaged_workbook_is_a_usage_error_with_a_message(
    project: Path, part: str, change: Callable[[bytes], bytes]
) -> None:
    workbook = exported(project)
    member = sheet_part(workbook, part) if not part.endswith(".xml") else part
    damaged = rewrite_part(workbook, project.parent / "damaged.xlsx", member, change)

    result = import_refused(project, damaged, code=2)

    where = "sheet 'Tests': " if member != part else ""
    assert result.stderr.startswith(f"qms: error: {damaged} cannot be read as an Excel workbook (.xlsx): {where}")
    assert "save it again as .xlsx, or export a fresh one" in result.stderr


# --------------------------------------------------------------------------- item files qms cannot edit (11, 17)


def test_an_item_file_that_cannot_be_parsed_refuses_the_import(project: Path) -> None:
    workbook = edited(project, lambda book: set_value(book["System requirements"], "SYS-1", "title", "Changed"))
    requirements = project / "items" / "requirements.yaml"
    requirements.write_text(requirements.read_text() + "  - id: [broken\n")

    result = import_refused(project, workbook)

    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{workbook}: items/requirements.yaml:")
    assert "qms cannot read the items of items/requirements.yaml, so the rows for them cannot be matched" in first
    assert result.stdout == ""


def test_an_item_file_with_a_duplicate_key_is_not_edited(project: Path) -> None:
    requirements = project / "items" / "requirements.yaml"
    text = requirements.read_text()
    requirements.write_text(text.replace("    x-owner: Dosing team\n", "    x-owner: Dosing team\n    title: Twice\n"))
    workbook = edited(project, lambda book: set_value(book["System requirements"], "SYS-2", "title", "Changed"))

    result = import_refused(project, workbook)

    assert (
        "sheet 'System requirements', row 3, column B (title): items/requirements.yaml:11:5: duplicate key 'title'"
        in result.stderr
    )
    assert "correct items/requirements.yaml first (`qms check` lists what is wrong), then import again" in result.stderr


# --------------------------------------------------------------------------- crafted sizes (item 15)


def test_a_huge_part_is_refused_from_the_zip_directory_without_reading_it(project: Path) -> None:
    workbook = exported(project)
    member = sheet_part(workbook, "Tests")
    crafted = project.parent / "huge.xlsx"
    with zipfile.ZipFile(workbook) as source, zipfile.ZipFile(crafted, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != member:
                target.writestr(info, source.read(info))
                continue
            with target.open(member, "w", force_zip64=True) as stream:  # one cell of MAX_PART_BYTES characters
                stream.write(b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
                stream.write(b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>')
                chunk = b"x" * (1024 * 1024)
                for _ in range(MAX_PART_BYTES // len(chunk)):
                    stream.write(chunk)
                stream.write(b"</t></is></c></row></sheetData></worksheet>")
    assert crafted.stat().st_size < 1024 * 1024

    tracemalloc.start()
    try:
        result = import_refused(project, crafted)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert f"its part {member} holds " in result.stderr
    assert f"bytes uncompressed, more than an import reads ({MAX_PART_BYTES:,})" in result.stderr
    assert peak < 20 * 1024 * 1024


def test_a_cell_longer_than_excel_allows_is_refused(project: Path) -> None:
    workbook = exported(project)  # openpyxl cuts what is typed at 32,767 characters: write the XML
    member = sheet_part(workbook, "Tests")
    long = rewrite_part(
        workbook,
        project.parent / "long.xlsx",
        member,
        lambda data: data.replace(b"Stale reading rejected", b"x" * 40_000),
    )

    result = import_refused(project, long)

    assert (
        "sheet 'Tests', cell B2 holds 40,000 characters, more than a cell holds (32,767): "
        "edit a text that long in its YAML file"
    ) in result.stderr


def test_a_sheet_of_a_million_rows_is_refused_after_the_rows_an_import_reads(project: Path) -> None:
    workbook = exported(project)
    member = sheet_part(workbook, "Tests")

    def million_rows(data: bytes) -> bytes:
        head, _, rest = data.partition(b"</sheetData>")
        rows = b"".join(b'<row r="%d"><c r="B%d" t="n"><v>%d</v></c></row>' % (n, n, n) for n in range(5, 1_000_001))
        return head + rows + b"</sheetData>" + rest

    crafted = rewrite_part(workbook, project.parent / "rows.xlsx", member, million_rows)

    result = import_refused(project, crafted)

    assert f"sheet 'Tests' goes on past row {MAX_ROWS:,}, more than an import reads" in result.stderr


def test_a_new_item_through_a_symlink_inside_the_project_is_named_by_the_path_qms_reads(project: Path) -> None:
    (project / "items" / "sub").mkdir()
    (project / "items" / "link").symlink_to(project / "items" / "sub", target_is_directory=True)
    workbook = edited(project, new_test("items/link/tests.yaml"))

    result = qms_in(project, "import", "xlsx", str(workbook))

    assert result.exit_code == 0, result.output
    assert "added TST-9 (items/sub/tests.yaml)" in result.stdout
    assert load_project(project).items["TST-9"].file == "items/sub/tests.yaml"
    assert (project / "items" / "link").is_symlink()
