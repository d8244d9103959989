"""Any ``.xlsx`` workbook to rows of cell text: ours, or one re-saved by Excel, LibreOffice or a script.

Values are read as text the way a person typed them: numbers without a trailing ``.0``, dates as
ISO dates, and a formula as its own text (``=1+1``), never its result, so that nothing a cell
computes is taken for item data by accident.

A workbook is untrusted input: its parts' sizes are checked in the zip directory before anything
is decompressed, and rows, cells and cell lengths are counted while the sheets stream, so that a
crafted file is refused in bounded time and memory (:class:`WorkbookTooLarge`), and a damaged one
is refused with the parser's reason (:class:`WorkbookError`), never with a traceback.
"""

from __future__ import annotations

import datetime
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from qms.excel.layout import CELL_LIMIT, ID_HEADER, normalize_header

#: how far down a sheet the header row (the one with an ``id`` column) is looked for
HEADER_SEARCH_ROWS = 10
#: the largest part (sheet, shared strings, styles...) read, uncompressed; a sheet of 10,000 items is a few MB
MAX_PART_BYTES = 64 * 1024 * 1024
#: all parts together, uncompressed
MAX_WORKBOOK_BYTES = 256 * 1024 * 1024
#: the last row number read on a sheet (a large device family has 10,000 items in all)
MAX_ROWS = 25_000
#: cells visited on the item sheets, empty ones included
MAX_CELLS = 2_000_000


class WorkbookError(Exception):
    """The file is not a readable ``.xlsx`` workbook."""


class WorkbookTooLarge(WorkbookError):
    """The file is a workbook, but larger than an import reads: refused before it is read whole."""


@dataclass(frozen=True, slots=True)
class Cell:
    text: str
    formula: bool = False


@dataclass
class Sheet:
    """One worksheet: its header row (1-based; 0 when none was found) and its data rows."""

    title: str
    header_row: int = 0
    headers: dict[int, str] = field(default_factory=dict)  # 1-based column -> header text
    rows: list[tuple[int, dict[int, Cell]]] = field(default_factory=list)  # (1-based row, column -> cell)


def cell_text(value: Any) -> str:
    """A cell value as the text a person sees and typed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    text = getattr(value, "text", value)  # array formulas carry their text
    return str(text).replace("\r\n", "\n").replace("\r", "\n")


def read_workbook(path: Path, wanted: Callable[[str], bool] = lambda title: True) -> list[Sheet]:
    """Every worksheet, with header and rows for those whose title is ``wanted`` (the others empty).

    Raises WorkbookTooLarge when it is larger than an import reads, and WorkbookError when it
    cannot be read as a workbook.
    """
    _check_sizes(path)
    budget = _Budget(path)
    with warnings.catch_warnings():
        # openpyxl warns of parts it leaves out (data validation and conditional formatting extensions,
        # names defined for a sheet that is missing, a missing default style): nothing an import takes,
        # and a person running `qms import` would only see a library's warning
        warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl\.")
        # openpyxl raises whatever its XML and zip readers raise on a damaged part (ParseError, KeyError,
        # TypeError, ...): any of them means the file is not a workbook qms can read
        try:
            workbook = load_workbook(path, read_only=True, data_only=False)
        except Exception as error:
            raise _unreadable(path, error) from error
        try:
            return [_sheet(path, worksheet, wanted, budget) for worksheet in workbook.worksheets]
        finally:
            workbook.close()


def _sheet(path: Path, worksheet: Any, wanted: Callable[[str], bool], budget: _Budget) -> Sheet:
    if not wanted(worksheet.title):
        return Sheet(worksheet.title)
    try:
        return _read_sheet(worksheet, budget)
    except WorkbookError:
        raise
    except Exception as error:  # as in read_workbook: the sheet's XML is damaged
        raise _unreadable(path, error, f"sheet '{worksheet.title}'") from error


def _unreadable(path: Path, error: Exception, where: str = "") -> WorkbookError:
    reason = str(error) or type(error).__name__
    return WorkbookError(
        f"{path} cannot be read as an Excel workbook (.xlsx): {f'{where}: ' if where else ''}{reason}; "
        "open it in Excel or LibreOffice, save it again as .xlsx, or export a fresh one with `qms export xlsx`"
    )


def _check_sizes(path: Path) -> None:
    """Refuse a workbook whose parts would decompress to more than an import reads."""
    try:
        with zipfile.ZipFile(path) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise _unreadable(path, error) from error
    largest = max(parts, key=lambda part: part.file_size, default=None)
    if largest is not None and largest.file_size > MAX_PART_BYTES:
        raise WorkbookTooLarge(
            f"{path}: its part {largest.filename} holds {largest.file_size:,} bytes uncompressed, more than an "
            f"import reads ({MAX_PART_BYTES:,}); a cell holds at most {CELL_LIMIT:,} characters: "
            "remove what does not belong in the workbook, or export a fresh one"
        )
    total = sum(part.file_size for part in parts)
    if total > MAX_WORKBOOK_BYTES:
        raise WorkbookTooLarge(
            f"{path} holds {total:,} bytes uncompressed, more than an import reads ({MAX_WORKBOOK_BYTES:,}): "
            "remove what does not belong in the workbook, or export a fresh one"
        )


@dataclass
class _Budget:
    """Cells visited so far, across the sheets of one workbook."""

    path: Path
    cells: int = 0


def _read_sheet(worksheet: Any, budget: _Budget) -> Sheet:
    sheet = Sheet(worksheet.title)
    worksheet.reset_dimensions()  # files from other tools may state wrong dimensions
    for row_number, row in enumerate(worksheet.iter_rows(), start=1):
        if row_number > MAX_ROWS:
            raise WorkbookTooLarge(
                f"{budget.path}: sheet '{sheet.title}' goes on past row {MAX_ROWS:,}, more than an import reads: "
                "delete the rows below the table"
            )
        budget.cells += len(row)
        if budget.cells > MAX_CELLS:
            raise WorkbookTooLarge(
                f"{budget.path}: sheet '{sheet.title}', row {row_number}: the item sheets hold more than "
                f"{MAX_CELLS:,} cells, more than an import reads: delete the rows and columns outside the table"
            )
        cells: dict[int, Cell] = {}
        for column, cell in enumerate(row, start=1):
            value = getattr(cell, "value", None)
            if value is None or value == "":
                continue
            text = cell_text(value)
            if len(text) > CELL_LIMIT:
                raise WorkbookTooLarge(
                    f"{budget.path}: sheet '{sheet.title}', cell {get_column_letter(column)}{row_number} holds "
                    f"{len(text):,} characters, more than a cell holds ({CELL_LIMIT:,}): "
                    "edit a text that long in its YAML file"
                )
            cells[column] = Cell(text, getattr(cell, "data_type", None) == "f")
        if not sheet.header_row:
            if any(normalize_header(cell.text) == ID_HEADER for cell in cells.values()):
                sheet.header_row = row_number
                sheet.headers = {column: cell.text for column, cell in cells.items()}
            elif row_number >= HEADER_SEARCH_ROWS:
                break
            continue
        if cells:
            sheet.rows.append((row_number, cells))
    return sheet
