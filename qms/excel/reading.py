"""Any ``.xlsx`` workbook to rows of cell text: ours, or one re-saved by Excel, LibreOffice or a script.

Values are read as text the way a person typed them: numbers without a trailing ``.0``, dates as
ISO dates, and a formula as its own text (``=1+1``), never its result, so that nothing a cell
computes is taken for item data by accident.
"""

from __future__ import annotations

import datetime
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from qms.excel.layout import ID_HEADER, normalize_header

#: how far down a sheet the header row (the one with an ``id`` column) is looked for
HEADER_SEARCH_ROWS = 10


class WorkbookError(Exception):
    """The file is not a readable ``.xlsx`` workbook."""


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

    Raises WorkbookError when the file cannot be read as a workbook.
    """
    try:
        workbook = load_workbook(path, read_only=True, data_only=False)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as error:
        raise WorkbookError(f"{path} cannot be read as an Excel workbook (.xlsx): {error}") from error
    try:
        return [
            _read_sheet(worksheet) if wanted(worksheet.title) else Sheet(worksheet.title)
            for worksheet in workbook.worksheets
        ]
    finally:
        workbook.close()


def _read_sheet(worksheet: Any) -> Sheet:
    sheet = Sheet(worksheet.title)
    worksheet.reset_dimensions()  # files from other tools may state wrong dimensions
    for row_number, row in enumerate(worksheet.iter_rows(), start=1):
        cells: dict[int, Cell] = {}
        for column, cell in enumerate(row, start=1):
            value = getattr(cell, "value", None)
            if value is None or value == "":
                continue
            cells[column] = Cell(cell_text(value), getattr(cell, "data_type", None) == "f")
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
