"""The workbook's kept sheets: a workbook written through the cache holds the same bytes as one
written afresh, whatever changed since the sheets were kept; each input of a sheet's key is
proved by a change that would give a stale sheet without it."""

from __future__ import annotations

import dataclasses
import io
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import invoke_qms
from fixtures.excel.workbooks import SHEETS, fixture_project

from qms.excel import export, sheetcache
from qms.excel.export import workbook_bytes
from qms.excel.layout import DESIGN_TRACE, EXPORTED_SHEET, RISK_TRACE, SUMMARY
from qms.excel.sheetcache import DEFLATED_SUFFIX, INPUTS_SUFFIX, SUFFIX, SheetCache
from qms.matrix import Cut, Matrix, verified_defaults
from qms.model import Item
from qms.project import load_project
from qms.status import project_statuses


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return fixture_project(tmp_path)


def _written(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The keys of the sheets written (not reused) from now on."""
    keys: list[str] = []
    put = SheetCache.put

    def recorded(cache: SheetCache, key: str, xml: bytes) -> None:
        keys.append(key)
        put(cache, key, xml)

    monkeypatch.setattr(SheetCache, "put", recorded)
    return keys


def _cached(root: Path) -> bytes:
    return workbook_bytes(load_project(root), cache=SheetCache(root / "_build" / "sheets"))


def _fresh(root: Path) -> bytes:
    return workbook_bytes(load_project(root))


def test_a_workbook_of_kept_sheets_is_the_workbook_written_afresh(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = _written(monkeypatch)
    first = _cached(project)
    assert len(written) == SHEETS
    assert first == _fresh(project)
    written.clear()
    assert _cached(project) == first
    assert written == []


def _title_edited(root: Path) -> None:
    items = root / "items" / "software.yaml"
    items.write_text(items.read_text(encoding="utf-8").replace("Compute the temporary basal", "Compute the basal"))


def _text_edited(root: Path) -> None:
    items = root / "items" / "needs.yaml"
    text = items.read_text(encoding="utf-8")
    assert "text: I need the system" in text
    items.write_text(text.replace("text: I need the system", "text: Edited. I need the system"), encoding="utf-8")


@pytest.mark.parametrize("change", [_title_edited, _text_edited], ids=["title", "text"])
def test_an_edited_item_writes_only_the_sheets_that_show_it_and_none_stays_stale(
    project: Path, monkeypatch: pytest.MonkeyPatch, change: Callable[[Path], None]
) -> None:
    _cached(project)
    written = _written(monkeypatch)
    change(project)
    assert _cached(project) == _fresh(project)
    assert 0 < len(written) < SHEETS
    assert len(list((project / "_build" / "sheets").glob(f"*{SUFFIX}"))) == SHEETS  # the replaced ones removed


def _widths_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "_width", lambda column, longest: 21.0)


def _styles_reordered(monkeypatch: pytest.MonkeyPatch) -> None:
    styles = export._named_styles
    monkeypatch.setattr(export, "_named_styles", lambda: styles()[::-1])


@pytest.mark.parametrize(
    "change", [_widths_changed, _styles_reordered], ids=["the sheet outside its rows", "the styles' indexes"]
)
def test_what_a_sheet_is_made_of_besides_its_cells_is_in_its_key(
    project: Path, monkeypatch: pytest.MonkeyPatch, change: Callable[[pytest.MonkeyPatch], None]
) -> None:
    before = _cached(project)
    change(monkeypatch)
    after = _cached(project)
    assert after == _fresh(project)
    assert after != before


def _code_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheetcache, "code_digest", lambda: b"another version of qms")


def _writer_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheetcache, "version", lambda name: "0.0.0")


@pytest.mark.parametrize("change", [_code_changed, _writer_changed], ids=["qms", "openpyxl"])
def test_the_code_that_writes_a_sheet_is_in_its_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: Callable[[pytest.MonkeyPatch], None]
) -> None:
    before = SheetCache(tmp_path).key([b"the same sheet"])
    change(monkeypatch)
    assert SheetCache(tmp_path).key([b"the same sheet"]) != before


@pytest.mark.parametrize("setting", [None, "True", "False"])
def test_the_xml_library_in_the_key_is_the_one_openpyxl_writes_with(setting: str | None) -> None:
    """lxml and et_xmlfile write other bytes for the same cells: the key names the one openpyxl
    chose when imported (found without importing it), and qms depends on lxml, so every install
    of the same qms writes the same workbook unless ``OPENPYXL_LXML`` turns lxml off."""
    environment = {name: value for name, value in os.environ.items() if name != "OPENPYXL_LXML"}
    if setting is not None:
        environment["OPENPYXL_LXML"] = setting
    asked = (
        "from qms.excel.sheetcache import writers; keyed = writers(); import openpyxl; "
        "print(openpyxl.LXML, b'lxml ' in keyed, b'et_xmlfile ' in keyed)"
    )
    shown = subprocess.run(
        [sys.executable, "-c", asked], env=environment, capture_output=True, text=True, check=True
    ).stdout.split()
    with_lxml = setting in (None, "True")
    assert shown == [str(with_lxml), str(with_lxml), str(not with_lxml)]


def test_a_damaged_kept_sheet_is_written_again(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _cached(project)
    kept = max((project / "_build" / "sheets").glob(f"*{SUFFIX}"), key=lambda path: path.stat().st_size)
    kept.write_bytes(kept.read_bytes()[:-10] + b"<damaged/>")
    written = _written(monkeypatch)
    assert _cached(project) == first
    assert written == [kept.name.removesuffix(SUFFIX)]


def _compressed(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Every piece of data the workbook's archive compresses from now on."""
    pieces: list[bytes] = []
    make = zipfile.zlib.compressobj  # type: ignore[attr-defined]

    class Recorded:
        def __init__(self, *arguments: Any) -> None:
            self.made = make(*arguments)

        def compress(self, data: bytes) -> bytes:
            pieces.append(bytes(data))
            return bytes(self.made.compress(data))

        def flush(self) -> bytes:
            return bytes(self.made.flush())

    monkeypatch.setattr(zipfile.zlib, "compressobj", Recorded)  # type: ignore[attr-defined]
    return pieces


def _sheets_xml(workbook: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(workbook)) as archive:
        return {name: archive.read(name) for name in archive.namelist() if name.startswith("xl/worksheets/sheet")}


def test_a_sheet_reused_is_not_compressed_again_and_the_workbook_is_the_same(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _cached(project)
    folder = project / "_build" / "sheets"
    assert len(list(folder.glob(f"*{DEFLATED_SUFFIX}"))) == SHEETS  # each sheet as the archive holds it
    compressed = _compressed(monkeypatch)
    assert _cached(project) == first == _fresh(project)
    compressed.clear()
    assert _cached(project) == first
    assert compressed, "the other parts of the workbook are compressed as before"
    assert not set(_sheets_xml(first).values()) & set(compressed)
    _text_edited(project)
    compressed.clear()
    edited = _cached(project)
    made = set(compressed)
    assert edited == _fresh(project)
    assert zipfile.ZipFile(io.BytesIO(edited)).testzip() is None  # every entry's CRC matches its data
    changed = {xml for name, xml in _sheets_xml(edited).items() if xml != _sheets_xml(first)[name]}
    assert changed and made & changed == changed  # the edited sheets are compressed, and only they
    assert not set(_sheets_xml(edited).values()) - changed & made


def _damaged(path: Path) -> None:
    kept = path.read_bytes()
    middle = len(kept) // 2
    path.write_bytes(kept[:middle] + b"damaged" + kept[middle + 7 :])


def _made_by_another_zlib(path: Path) -> None:
    path.write_bytes(path.read_bytes().replace(b"zlib ", b"zlib 0.", 1))


def _made_of_other_xml(path: Path) -> None:
    kept = path.read_bytes()
    path.write_bytes(kept[:-64] + bytes(32) + kept[-32:])


@pytest.mark.parametrize("change", [_damaged, _made_by_another_zlib, _made_of_other_xml])
def test_compressed_bytes_that_cannot_be_vouched_for_are_made_again(
    project: Path, monkeypatch: pytest.MonkeyPatch, change: Callable[[Path], None]
) -> None:
    first = _cached(project)
    kept = max((project / "_build" / "sheets").glob(f"*{DEFLATED_SUFFIX}"), key=lambda path: path.stat().st_size)
    before = kept.read_bytes()
    change(kept)
    compressed = _compressed(monkeypatch)
    assert _cached(project) == first
    xml = (project / "_build" / "sheets" / kept.name.replace(DEFLATED_SUFFIX, SUFFIX)).read_bytes()[32:]
    assert xml in compressed  # compressed afresh
    assert kept.read_bytes() == before  # and kept again


def test_only_sheets_no_longer_used_are_removed(tmp_path: Path) -> None:
    cache = SheetCache(tmp_path)
    cache.put("a" * 64, b"<worksheet/>")
    cache.put_deflated("a" * 64, b"compressed")
    (tmp_path / f"{'b' * 64}{SUFFIX}").write_bytes(b"kept by an older workbook")
    (tmp_path / f"{'b' * 64}{DEFLATED_SUFFIX}").write_bytes(b"kept by an older workbook")
    (tmp_path / f"notes{SUFFIX}").write_bytes(b"not the cache's")
    cache.prune()
    kept = [f"{'a' * 64}{SUFFIX}", f"{'a' * 64}{DEFLATED_SUFFIX}", f"notes{SUFFIX}"]
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(kept)


def test_qms_export_keeps_its_sheets_in_the_cache_folder_and_writes_the_same_bytes(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = _written(monkeypatch)
    first, second = tmp_path / "first.xlsx", tmp_path / "second.xlsx"
    assert invoke_qms("export", "xlsx", first, "--project", project).exit_code == 0
    assert len(written) == SHEETS
    kept = project / "_build" / "qms-cache" / export.EXPORT_SHEETS
    assert len(list(kept.glob(f"*{SUFFIX}"))) == SHEETS
    written.clear()
    _text_edited(project)
    assert invoke_qms("export", "xlsx", second, "--project", project).exit_code == 0
    assert 0 < len(written) < SHEETS  # only the sheets that show the edited item
    assert second.read_bytes() == _fresh(project)


def _through_the_parse_cache(root: Path) -> bytes:
    """The workbook of the project as a build reads it: through the parse cache, whose keys vouch for its items."""
    return workbook_bytes(load_project(root, cache=True), cache=SheetCache(root / "_build" / "sheets"))


def _planned(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the items whose cells are worked out from now on."""
    ids: list[str] = []
    texts = export._ItemSheets._texts

    def recorded(sheets: export._ItemSheets, columns: Any, item: Item) -> list[str]:
        ids.append(item.id)
        return texts(sheets, columns, item)

    monkeypatch.setattr(export._ItemSheets, "_texts", recorded)
    return ids


def _need_inserted(root: Path) -> None:
    """A need before the others: every need moves one row down, and the links to needs with them."""
    items = root / "items" / "needs.yaml"
    text = items.read_text(encoding="utf-8")
    new = "items:\n  - id: NEED-0\n    title: Fewer finger sticks\n    text: I need fewer finger sticks.\n"
    items.write_text(text.replace("items:\n", new, 1), encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "every_sheet"),
    [(_title_edited, False), (_text_edited, False), (_need_inserted, True)],
    ids=["title", "text", "rows moved"],
)
def test_a_sheet_of_items_is_found_by_its_inputs_and_only_the_edited_items_sheets_are_worked_out(
    project: Path, monkeypatch: pytest.MonkeyPatch, change: Callable[[Path], None], every_sheet: bool
) -> None:
    first = _through_the_parse_cache(project)
    assert first == _fresh(project)
    planned = _planned(monkeypatch)
    assert _through_the_parse_cache(project) == first
    assert planned == []  # every sheet of items found by its inputs
    change(project)
    cached = _through_the_parse_cache(project)
    worked_out = set(planned)
    assert cached == _fresh(project)
    items = load_project(project).items
    files = {items[item_id].file for item_id in worked_out}
    assert "items/needs.yaml" in files or "items/software.yaml" in files
    if every_sheet:  # the rows a link jumps to moved: every sheet is worked out again
        assert worked_out == set(items)
    else:  # the sheets of unchanged items were taken as they were
        assert len(worked_out) < len(items)


def _planned_rows(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The title of the sheet of each cell below a header worked out from now on."""
    titles: list[str] = []
    text = export._SheetWriter.text

    def recorded(sheet: export._SheetWriter, row: int, *arguments: Any, **options: Any) -> None:
        if row > 1:
            titles.append(sheet.worksheet.title)
        text(sheet, row, *arguments, **options)

    monkeypatch.setattr(export._SheetWriter, "text", recorded)
    return titles


def _comment_added(root: Path) -> None:
    items = root / "items" / "needs.yaml"
    items.write_text(items.read_text(encoding="utf-8") + "# reviewed\n", encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "matrices"), [(_comment_added, False), (_title_edited, True)], ids=["no item changed", "title"]
)
def test_the_matrices_and_the_rows_exported_are_found_by_their_inputs(
    project: Path, monkeypatch: pytest.MonkeyPatch, change: Callable[[Path], None], matrices: bool
) -> None:
    _cached(project)
    planned = _planned_rows(monkeypatch)
    again = _cached(project)
    assert not {DESIGN_TRACE, RISK_TRACE, EXPORTED_SHEET} & set(planned)  # nothing changed: every one taken
    assert again == _fresh(project)
    change(project)
    planned.clear()
    cached = _cached(project)
    assert EXPORTED_SHEET not in planned  # the same items on the same sheets
    assert (DESIGN_TRACE in planned) is matrices, "a title shows in a matrix"
    assert cached == _fresh(project)


def _retitled(matrix: Matrix) -> Matrix:
    first = matrix.rows[0][0]
    assert first is not None
    renamed = dataclasses.replace(first, fields={**first.fields, "title": "Another title"})
    return dataclasses.replace(matrix, rows=((renamed, *matrix.rows[0][1:]), *matrix.rows[1:]))


def _verdict_changed(matrix: Matrix) -> Matrix:
    assert matrix.verdicts and matrix.verdicts[0] != "failed"
    return dataclasses.replace(matrix, verdicts=("failed", *matrix.verdicts[1:]))


def _row_left_out(matrix: Matrix) -> Matrix:
    return dataclasses.replace(matrix, rows=matrix.rows[1:], verdicts=matrix.verdicts[1:])


def _cut_added(matrix: Matrix) -> Matrix:
    return dataclasses.replace(matrix, cuts=(Cut(matrix.title, len(matrix.rows), len(matrix.rows) + 5, "NEED-9"),))


@pytest.mark.parametrize("change", [_retitled, _verdict_changed, _row_left_out, _cut_added])
def test_every_input_of_a_matrix_sheet_is_in_the_key_it_is_found_by(
    project: Path, change: Callable[[Matrix], Matrix]
) -> None:
    # each change alone, the rest of the workbook as it was: a key without it would take the stale sheet
    loaded = load_project(project)
    statuses = project_statuses(loaded)
    matrices = verified_defaults(loaded, statuses)
    cache = SheetCache(project / "_build" / "sheets")
    workbook_bytes(loaded, statuses, cache, matrices)
    changed = [change(matrices[0]), matrices[1]]
    cached = workbook_bytes(loaded, statuses, SheetCache(project / "_build" / "sheets"), changed)
    assert cached == workbook_bytes(loaded, statuses, None, changed)
    assert cached != workbook_bytes(loaded, statuses, None, matrices)


def test_a_damaged_record_of_inputs_has_the_sheet_worked_out_again(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _through_the_parse_cache(project)
    recorded = sorted((project / "_build" / "sheets").glob(f"*{INPUTS_SUFFIX}"))
    assert len(recorded) > 2
    for number, path in enumerate(recorded):  # every other record damaged, the rest gone
        if number % 2:
            path.write_text("not a key", encoding="ascii")
        else:
            path.unlink()
    planned = _planned(monkeypatch)
    assert _through_the_parse_cache(project) == first
    assert set(planned) == set(load_project(project).items)  # every sheet worked out again, found by its cells
    planned.clear()
    assert _through_the_parse_cache(project) == first
    assert planned == []


def _runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Sheets of more than two rows put together from runs of two rows from now on; the title of
    the sheet of each run written (not reused)."""
    monkeypatch.setattr(export, "RUN_ROWS", 2)
    titles: list[str] = []
    run = export._StreamedSheet._run

    def recorded(sheet: export._StreamedSheet, previous: int, rows: Any, styles: Any) -> bytes:
        titles.append(sheet.title)
        return run(sheet, previous, rows, styles)

    monkeypatch.setattr(export._StreamedSheet, "_run", recorded)
    return titles


def test_a_long_sheet_put_together_from_its_runs_of_rows_is_the_sheet_written_whole(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = _runs(monkeypatch)
    first = _cached(project)
    assert first == _fresh(project)
    assert len(written) > 2 * len(set(written)) > 10  # several sheets, several runs each
    written.clear()
    assert _cached(project) == first
    assert written == []  # each sheet kept whole as well


@pytest.mark.parametrize(
    ("change", "shown_by"),
    [
        (_title_edited, {"Software requirements", "Trace matrix", "Risk trace"}),
        (_text_edited, {"User needs", "Trace matrix"}),  # the need's validation result is stale now
    ],
    ids=["title", "text"],
)
def test_an_edited_item_writes_again_only_the_runs_of_rows_that_show_it(
    project: Path, monkeypatch: pytest.MonkeyPatch, change: Callable[[Path], None], shown_by: set[str]
) -> None:
    written = _runs(monkeypatch)
    _cached(project)
    runs = len(written)
    written.clear()
    change(project)
    assert _cached(project) == _fresh(project)
    assert shown_by <= set(written) <= {*shown_by, SUMMARY}  # the summary dates the files' last change
    assert len(written) < runs / 3


def test_a_title_edit_plans_the_cells_of_the_runs_of_a_matrix_that_show_it_only(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A matrix's rows are cut into runs by what their cells are made of (each cell's item, its title
    and the row its link jumps to): a title edit works out the cells of the runs that show the item,
    and the workbook is the one written afresh."""
    monkeypatch.setattr(export, "RUN_ROWS", 2)
    planned = _planned_rows(monkeypatch)
    first = _cached(project)
    everything = planned.count(DESIGN_TRACE)
    assert everything > 10
    assert first == _fresh(project)
    planned.clear()
    assert _cached(project) == first
    assert DESIGN_TRACE not in planned  # the sheet kept whole: found by its inputs
    _title_edited(project)
    edited = _cached(project)
    assert 0 < planned.count(DESIGN_TRACE) < everything
    assert edited == _fresh(project)


def test_a_text_edit_works_out_the_cells_of_the_runs_of_its_sheet_that_show_the_item_only(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A long sheet of items is cut into runs by what each row is made of (the item's fields, the
    rows its links jump to): an edit works out the cells of the edited item's run, and the columns'
    widths come from what each run kept of its longest texts; the workbook is the one written afresh."""
    monkeypatch.setattr(export, "RUN_ROWS", 2)
    with (project / "items" / "needs.yaml").open("a", encoding="utf-8") as more:
        more.writelines(
            f"\n  - id: NEED-{number}\n    title: Need {number}\n    text: I need {number}.\n"
            for number in range(3, 30)
        )
    planned = _planned(monkeypatch)
    _cached(project)
    needs = [item.id for item in load_project(project).of_kind("need")]
    assert len(needs) > 20 and set(needs) <= set(planned)
    planned.clear()
    _text_edited(project)
    edited = _cached(project)
    worked_out = set(planned) & set(needs)
    assert 0 < len(worked_out) < len(needs)
    assert edited == _fresh(project)


def _supplier_edited(root: Path) -> None:
    items = root / "items" / "architecture.yaml"
    text = items.read_text(encoding="utf-8")
    assert "supplier: Example Supplier\n" in text
    items.write_text(text.replace("supplier: Example Supplier\n", "supplier: Example Supplier Ltd\n"), encoding="utf-8")


def test_a_sheet_reused_whole_keeps_its_runs_for_the_next_edit_that_shows_in_it(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A workbook that reuses the trace matrix whole (after an edit the matrix does not show) keeps the
    runs the matrix was put together from: a title edit after it writes again the runs that show the
    title, as many as right after the first workbook, not the whole matrix."""
    written = _runs(monkeypatch)
    _cached(project)
    matrix_runs = written.count(DESIGN_TRACE)
    written.clear()
    _title_edited(project)
    _cached(project)
    showing_the_title = written.count(DESIGN_TRACE)
    assert 0 < showing_the_title < matrix_runs

    other = fixture_project(tmp_path, "other")
    _cached(other)
    written.clear()
    _supplier_edited(other)
    assert _cached(other) == _fresh(other)
    assert DESIGN_TRACE not in written  # reused whole
    _title_edited(other)
    assert _cached(other) == _fresh(other)
    assert written.count(DESIGN_TRACE) == showing_the_title


def test_rows_moved_keep_the_runs_after_them_with_their_new_row_numbers(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    written = _runs(monkeypatch)
    moved: list[int] = []
    real = export._moved
    monkeypatch.setattr(export, "_moved", lambda xml, rows: moved.append(rows) or real(xml, rows))
    _cached(project)
    runs = written.count(EXPORTED_SHEET)  # a row for each item written, the needs first
    assert runs > 3
    written.clear()
    moved.clear()
    _need_inserted(project)
    assert _cached(project) == _fresh(project)
    assert written.count(EXPORTED_SHEET) < runs / 3  # the runs after the new need kept, one row further down
    assert 1 in moved


def test_a_row_inserted_changes_only_the_runs_around_it() -> None:
    rows = [(number, [(1, (f"REQ-{number:05} title {number}", "style", False, None, ""))]) for number in range(1, 5001)]
    before = [held for _, held in export._cut(rows)]
    inserted = (2500, [(1, ("REQ-NEW a new row", "style", False, None, ""))])
    moved_down = [(number + 1, cells) for number, cells in rows[2499:]]
    after = [held for _, held in export._cut([*rows[:2499], inserted, *moved_down])]
    assert sum(len(run) for run, _ in export._cut(rows)) == len(rows)
    assert len(before) > 10 and all(len(run) <= 4 * export.RUN_ROWS for run, _ in export._cut(rows))
    assert len(set(after) - set(before)) <= 2 and len(set(before) - set(after)) <= 2


def test_a_kept_run_moved_down_takes_the_row_numbers_of_its_new_place() -> None:
    xml = b'<row r="9"><c r="A9" s="1" t="inlineStr"><is><t>&lt;c r="A9"</t></is></c><c r="AB9"/></row>'
    links = b'<hyperlink ref="A9" location="\'User needs\'!A9"/>'
    assert export._moved(xml, 3) == xml.replace(b'r="9"', b'r="12"').replace(b'"A9" s', b'"A12" s').replace(
        b'"AB9"', b'"AB12"'
    )
    assert export._moved(links, 3) == b'<hyperlink ref="A12" location="\'User needs\'!A9"/>'
    assert export._moved(xml, 0) is xml


def test_a_damaged_run_of_rows_is_written_again(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    written = _runs(monkeypatch)
    first = _cached(project)
    folder = project / "_build" / "sheets"
    for sheet in folder.glob(f"*{SUFFIX}"):
        if b"<worksheet" not in sheet.read_bytes():  # a run: the sheets themselves removed
            continue
        sheet.unlink()
    runs = sorted(folder.glob(f"*{SUFFIX}"))
    runs[0].write_bytes(runs[0].read_bytes()[:-4] + b"<c/>")
    written.clear()
    assert _cached(project) == first
    assert len(written) == 1


@pytest.mark.parametrize(
    ("name", "value"),
    [("_STAND_IN_ROW", "<row/>"), ("_SHEET_DATA", b"<rows>")],  # written escaped / not written: not found
    ids=["the XML around the rows", "the rows of a run"],
)
def test_a_sheet_whose_xml_is_not_as_expected_is_written_whole(
    project: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: object
) -> None:
    _runs(monkeypatch)
    monkeypatch.setattr(export, name, value)
    assembled: list[bytes | None] = []
    assemble = export._StreamedSheet._assembled

    def recorded(sheet: export._StreamedSheet, *arguments: Any) -> bytes | None:
        assembled.append(assemble(sheet, *arguments))
        return assembled[-1]

    monkeypatch.setattr(export._StreamedSheet, "_assembled", recorded)
    assert _cached(project) == _fresh(project)
    assert len(assembled) > 2
    assert set(assembled) == {None}


def test_what_a_sheet_of_items_is_found_by_is_the_same_in_every_process(project: Path) -> None:
    """A sheet's layout is in the key it is found by: its ``repr`` names no address of an object
    (a field's check function did, another in every process, and the sheet of tests was worked out
    again by every build)."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from qms.excel.layout import extra_fields, kind_layout\n"
        "from qms.project import load_project\n"
        "from qms.schema import KIND_ORDER\n"
        "project = load_project(Path(sys.argv[1]))\n"
        "print(repr([kind_layout(kind, extra_fields(project.of_kind(kind))) for kind in KIND_ORDER]))\n"
    )
    runs = [
        subprocess.run([sys.executable, "-c", script, str(project)], capture_output=True, text=True, check=True).stdout
        for _ in range(2)
    ]
    assert runs[0] == runs[1] and " at 0x" not in runs[0]
