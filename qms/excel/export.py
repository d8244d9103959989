"""``qms export xlsx``: the project as one workbook a quality engineer can read, filter, edit and send back.

Sheets: a summary, one per kind (every field, links as comma-separated ids that jump to the
linked item's row), a risk register laid out the way risk engineers read one, and the
traceability matrices. Every cell that holds item text is written as text, never as a formula,
whatever it starts with. The same project gives the same bytes: document properties and zip
entry times come from the git commit date (or a fixed date outside git), never from the clock.
Sheets are written in openpyxl's write-only mode: each sheet's cells are planned as plain data,
then streamed into the file, and no openpyxl cell is kept, so the workbook of a large project
costs little memory beside it. Beside a build, a sheet planned as it was in the last workbook is
not written again: its XML is taken from the build cache (:mod:`qms.excel.sheetcache`).
"""

from __future__ import annotations

import datetime
import functools
import io
import os
import re
import shutil
import zipfile
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeVar

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.comments.comment_sheet import CommentRecord
from openpyxl.packaging.relationship import RelationshipList
from openpyxl.styles import Alignment, Font, NamedStyle, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.child import INVALID_TITLE_REGEX
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.hyperlink import Hyperlink, HyperlinkList
from openpyxl.writer.excel import ExcelWriter
from openpyxl.xml.functions import tostring

from qms import __version__, atomic
from qms.checking import project_statuses
from qms.excel.layout import (
    DESIGN_TRACE,
    EXPORTED_SHEET,
    RISK_TRACE,
    SUMMARY,
    Column,
    Role,
    SheetLayout,
    cell_text,
    clean_text,
    extra_fields,
    fingerprint,
    kind_layout,
    meta_text,
    risk_class_of,
    risk_register_layout,
)
from qms.excel.sheetcache import SheetCache
from qms.gitinfo import DocumentControl, document_control, kept_folder
from qms.matrix import Matrix, verified_defaults
from qms.matrix_formats import FINDINGS_HEADER, extra_cells, extra_headers
from qms.model import Item, Project
from qms.parsecache import key_bytes
from qms.risk import RiskClass, hazard_risk
from qms.schema import KIND_ORDER, KINDS, REQUIREMENT_KINDS, FieldType
from qms.status import Status, StatusIndex

#: zip entries cannot be dated before 1980; used outside git
FIXED_DATE = datetime.datetime(1980, 1, 1)
FORMULA_TRIGGERS = ("=", "+", "-", "@")

#: Excel's good / neutral / bad cell colours (fill, text), one per risk class
RISK_COLOURS = {
    RiskClass.ACCEPTABLE: ("C6EFCE", "006100"),
    RiskClass.REDUCE: ("FFEB9C", "9C5700"),
    RiskClass.UNACCEPTABLE: ("FFC7CE", "9C0006"),
}
HEADER, COMPUTED_HEADER, PLAIN, WRAPPED, LINK, TITLE, BOLD = (
    "qms header",
    "qms computed header",
    "qms cell",
    "qms wrapped",
    "qms link",
    "qms title",
    "qms bold",
)


def risk_style(risk_class: RiskClass) -> str:
    return f"qms risk {risk_class.value}"


def _coloured(risk_class: RiskClass | None, style: str = PLAIN) -> str:
    """The style of a cell that shows ``risk_class``: its colours, or ``style`` without one."""
    return style if risk_class is None else risk_style(risk_class)


def _named_styles() -> list[NamedStyle]:
    """The workbook's cell styles: named, so they are listed in Excel and cheap to give many cells."""
    top, wrap = Alignment(vertical="top"), Alignment(vertical="top", wrap_text=True)
    white = Font(bold=True, color="FFFFFF")
    styles = [
        NamedStyle(HEADER, font=white, fill=PatternFill("solid", fgColor="305496"), alignment=wrap),
        NamedStyle(COMPUTED_HEADER, font=white, fill=PatternFill("solid", fgColor="808080"), alignment=wrap),
        NamedStyle(PLAIN, alignment=top),
        NamedStyle(WRAPPED, alignment=wrap),
        NamedStyle(LINK, font=Font(color="0563C1", underline="single"), alignment=wrap),
        NamedStyle(TITLE, font=Font(bold=True, size=14)),
        NamedStyle(BOLD, font=Font(bold=True), alignment=top),
    ]
    centred = Alignment(vertical="top", horizontal="center")
    for risk_class, (fill, text) in RISK_COLOURS.items():
        styles.append(
            NamedStyle(
                risk_style(risk_class),
                font=Font(color=text),
                fill=PatternFill("solid", fgColor=fill),
                alignment=centred,
            )
        )
    return styles


class _Styles:
    """The named styles of one workbook, each resolved once to the style array its cells share;
    a second array per style for text that would otherwise start a formula.

    Every array is entered in the workbook's table of cell formats here, in one order, so that the
    index a cell's XML gives its style does not depend on which sheets were written before it."""

    def __init__(self, workbook: Workbook) -> None:
        self.arrays: dict[tuple[str, bool], StyleArray] = {}
        indexes: list[tuple[str, bool, int]] = []
        for style in _named_styles():
            workbook.add_named_style(style)
            array = style.as_tuple()
            quoted = StyleArray(array)
            quoted.quotePrefix = True  # Excel keeps it text when the cell is edited, too
            for key, entry in (((style.name, False), array), ((style.name, True), quoted)):
                self.arrays[key] = entry
                indexes.append((*key, workbook._cell_styles.add(entry)))
        #: the index of each style in the workbook: part of every kept sheet's key
        self.key = key_bytes(indexes)


#: a cell as its sheet will hold it, before openpyxl makes it: its value, named style (None for
#: openpyxl's default), whether it is text that would otherwise start a formula, where it links to,
#: its comment; plain data, what a kept sheet's key is made of
_Planned = tuple[str | int, str | None, bool, str | None, str]
#: a row's planned cells (each with its column), in order
_Row = list[tuple[int, _Planned]]
#: what a row holds as its runs are cut (:func:`_cut`): its planned cells, or what they are made of
_Held = TypeVar("_Held", _Row, bytes)
#: a run of a sheet's rows (:meth:`_StreamedSheet._put_together`): its key, its last row's number, and
#: its planned rows or what plans them and gives what it notes of them
_RunSource = tuple[str, int, "list[tuple[int, _Row]] | functools.partial[tuple[list[tuple[int, _Row]], bytes]]"]


#: rows written together, on average, and kept under the key of their cells: a sheet of more rows
#: is put together from its runs, and writes again only the runs whose cells changed (at 10,000
#: items, 64 rather than 256 wrote a severity edit's workbook in 0.60 s instead of 0.74 s, and a
#: first workbook in 3.9 s instead of 3.7 s, from 215 kept files instead of 70)
RUN_ROWS = 64

#: where the numbers of rows stand in a kept run's XML: ``<row r="7">``, ``<c r="B7">``, and its
#: links' ``<hyperlink ref="B7">`` (the values between are escaped text, where no ``<`` stands)
_ROW_NUMBERS = re.compile(rb'(<row r="|<c r="[A-Z]+|<hyperlink ref="[A-Z]+)([0-9]+)"')

#: how a kept run's rows and its links are told apart (no XML holds a NUL)
_RUN_LINKS = b"\0"
_SHEET_DATA, _SHEET_DATA_END = b"<sheetData>", b"</sheetData>"
#: what stands for the rows and the links where the sheet's XML around them is written
_STAND_IN_ROW = "qms-rows"
_STAND_IN_LINK = "qms-links"


def _tostring(element: Any) -> bytes:
    return bytes(tostring(element))


def _inside(links: HyperlinkList) -> bytes:
    """The XML inside a hyperlinks element: its links."""
    xml = _tostring(links.to_tree())
    return xml[xml.index(b">") + 1 : xml.rindex(b"</")]


def _cut(rows: Sequence[tuple[int, _Held]]) -> Iterator[tuple[list[tuple[int, _Held]], bytes]]:
    """A sheet's rows cut into runs where their cells say (or what the cells are made of, for
    :meth:`_StreamedSheet.write_by_inputs`), not where a count of rows falls: a row whose cells
    (with its distance from the row before) hash to a multiple of :data:`RUN_ROWS` ends its run (a
    run holds a quarter to four times that many rows). A row inserted or removed changes the runs
    around it only: every other run holds the same rows as before, one row further on, and is kept
    under the same key. Each run with what its rows hold wherever the sheet has them."""
    shortest, longest = max(1, RUN_ROWS // 4), RUN_ROWS * 4
    run: list[tuple[int, _Held]] = []
    held: list[bytes] = []
    previous = 0
    for row, cells in rows:
        entry = key_bytes((row - previous, cells))
        run.append((row, cells))
        held.append(entry)
        previous = row
        if len(run) >= longest or (len(run) >= shortest and zlib.crc32(entry) % RUN_ROWS == 0):
            yield run, b"".join(held)
            run, held = [], []
    if run:
        yield run, b"".join(held)


def _planned(
    plan: Callable[[list[int]], tuple[list[tuple[int, _Row]], bytes]], numbers: list[int]
) -> tuple[list[tuple[int, _Row]], bytes]:
    """The rows ``numbers`` of a sheet put together by what their cells are made of, planned by ``plan``
    with what it notes of them: the sheet notes its comments where its header is planned
    (:meth:`_StreamedSheet.write_by_inputs`)."""
    rows, note = plan(numbers)
    if any(cell[4] for _, cells in rows for _, cell in cells):
        raise ValueError("a cell planned by what it is made of holds a note: plan it with the header")
    return rows, note


def _moved(xml: bytes, rows: int) -> bytes:
    """A kept run's rows (or their links) ``rows`` further down the sheet than where they were written."""
    if not rows:
        return xml
    return _ROW_NUMBERS.sub(lambda found: b'%s%d"' % (found[1], int(found[2]) + rows), xml)


class _KeptXml(io.BytesIO):
    """A sheet's XML kept in ``cache`` under ``key``: the workbook's archive takes its compressed
    bytes from the cache where they are kept, and keeps them there where it compresses it."""

    def __init__(self, xml: bytes, key: str, cache: SheetCache) -> None:
        super().__init__(xml)
        self.key = key
        self.cache = cache


class _Finished:
    """What openpyxl's ``ExcelWriter.write_worksheet`` takes from a closed write-only sheet's writer:
    ``out`` (its XML), ``_rels`` (its relationships) and ``cleanup``; for a sheet whose XML is kept
    in the cache (reused from it, or written and kept)."""

    def __init__(self, xml: bytes, key: str, cache: SheetCache) -> None:
        self.out: io.BytesIO = _KeptXml(xml, key, cache)
        self._rels = RelationshipList()

    def cleanup(self) -> None:
        """Let the XML go once it is in the workbook (openpyxl's own writer removes its temporary file here)."""
        self.out = io.BytesIO()


class _StreamedSheet(WriteOnlyWorksheet):  # type: ignore[misc]  # openpyxl has no type hints
    """openpyxl's write-only worksheet, handed cells that are complete (placed, styled, linked) and
    told its extent beforehand: rows stream into the file and no cell is kept.

    With a :class:`SheetCache`, a sheet whose key is kept is not written at all: its kept XML goes
    into the workbook, and a written sheet's XML is kept. This relies on openpyxl internals
    (3.1): ``WorksheetWriter(sheet, out)`` with ``write_top``/``write_tail``/``read`` writing a
    sheet's XML outside its rows, ``ExcelWriter.write_worksheet`` taking ``_writer.out``,
    ``_writer._rels`` and ``_writer.cleanup()`` from a closed sheet, ``_comments`` holding the
    ``CommentRecord`` of each note, and the name-mangled ``__saved`` flag of ``closed``.

    A long sheet that changed is put together from runs of its rows (:func:`_cut`), each kept
    under the key of its cells: only the runs whose cells changed are written by openpyxl (an edited
    title changes a few rows of a matrix of ten thousand; a row added moves the runs after it down,
    whose kept XML then takes its new row numbers). Each run is written inside the same
    ``worksheet`` and ``sheetData`` elements as a whole sheet writes its rows, and the sheet's XML
    outside its rows (with its hyperlinks, which follow the rows) is openpyxl's: the same bytes as
    the sheet written whole, or the sheet is written whole.
    """

    #: the range the sheet's cells take up, written as its ``<dimension>`` before the rows
    extent = "A1:A1"
    cache: SheetCache | None = None
    key = ""
    #: the sheet's XML kept under its key, taken instead of writing the sheet
    kept: bytes | None = None
    #: the key of what the sheet's cells are made of (:meth:`take`), when the caller knows it
    inputs = ""
    #: whether the kept XML was put together from runs of rows (:meth:`_assembled`): kept whole, too
    assembled = False
    #: the keys of the runs it was put together from, in order
    runs: list[str]
    _writer: Any  # openpyxl's WorksheetWriter once rows are written; a _Finished for a kept sheet

    def calculate_dimension(self) -> str:
        # openpyxl writes a sheet's <dimension> when the sheet calculates one; without it, readers
        # (openpyxl's read-only mode among them) parse the whole sheet to size it
        return self.extent

    def _values_to_row(self, values: Iterable[Cell | None], row_idx: int) -> Iterator[Cell]:
        # openpyxl's own version takes each cell for a value first, and fails to, at a cost per cell
        # of the same order as writing it; the cells here are complete already
        return (cell for cell in values if cell is not None)

    def take(self, inputs: Iterable[bytes] | None) -> bool:
        """Whether the XML of a sheet made from the same ``inputs`` (what its cells are made of) is
        kept: the sheet is then that XML, and only its header row needs writing (for its notes).
        None: the inputs are not known; the cells are worked out and the sheet found by them."""
        if self.cache is None or inputs is None:
            return False
        self.inputs = self.cache.key(inputs)
        found = self.cache.by_inputs(self.inputs)
        if found is None:
            return False
        self.key, self.kept = found
        return True

    def write(self, rows: list[tuple[int, list[tuple[int, _Planned]]]], styles: _Styles) -> None:
        """Write the sheet's rows (in order, each with its cells in order), or take the kept XML of the
        same sheet (a sheet :meth:`take` found is given its header row only)."""
        if self.cache is not None:
            if self.kept is None:
                self.key = self.cache.key((styles.key, self._frame(), key_bytes(rows)))
                self.kept = self.cache.get(self.key, whole=True)
            comments = None  # the notes' comments, made once where the sheet is put together from runs
            if self.kept is None and len(rows) > RUN_ROWS:
                comments = self._notes(rows, styles)
                self.kept = self._assembled(rows, styles, comments)
                self.assembled = self.kept is not None
            if self.kept is not None:
                self._comments = comments if comments is not None else self._notes(rows, styles)
                return
        last = 0
        for row, cells in rows:
            for _ in range(last + 1, row):
                self.append([])
            self.append([self._made(row, column, cell, styles) for column, cell in cells])
            last = row

    def _notes(self, rows: list[tuple[int, list[tuple[int, _Planned]]]], styles: _Styles) -> list[CommentRecord]:
        """The comments of the cells with a note, as openpyxl notes them when it writes their rows."""
        notes = (self._made(row, column, cell, styles) for row, cells in rows for column, cell in cells if cell[4])
        return [CommentRecord.from_cell(cell) for cell in notes]

    def _assembled(self, rows: list[tuple[int, _Row]], styles: _Styles, comments: list[CommentRecord]) -> bytes | None:
        """The sheet's XML from its runs of rows, kept or written now, with the ``comments`` of its notes;
        None where its XML outside the rows is not as expected (the sheet is then written whole)."""
        assert self.cache is not None
        cache = self.cache
        runs: list[_RunSource] = [(cache.key((b"run", styles.key, held)), run[-1][0], run) for run, held in _cut(rows)]
        return self._put_together(runs, styles, comments)

    def write_by_inputs(
        self,
        planned: list[tuple[int, _Row]],
        inputs: Sequence[tuple[int, bytes]],
        plan: Callable[[list[int]], tuple[list[tuple[int, _Row]], bytes]],
        made_of: bytes,
        styles: _Styles,
        framed: Callable[[list[bytes]], bool] | None = None,
    ) -> bool:
        """Put the sheet together from runs of rows kept under the key of what their cells are made of,
        planning the cells of the runs not kept only: ``planned``, the rows whose cells are planned
        already (the header), stand before ``inputs``, each of the other rows with what its cells are
        made of, in order; ``plan`` plans the cells of the rows it is given (none with a note: the
        sheet's notes are its header's), with what the run notes of them for the sheet around its rows
        (a column's widest text), kept with the run; ``framed`` is given those notes of every run
        before that XML is written, and says whether it could use them; ``made_of`` is what makes the
        cells besides each row's own (the sheet's columns). A title edit then plans a few runs of a
        matrix of ten thousand rows, not all of them. False where the sheet is not put together so
        (it keeps no XML, or its XML outside the rows is not as expected): the caller plans every row
        and has them written (:meth:`write`)."""
        if self.cache is None or self.kept is not None or len(inputs) <= RUN_ROWS:
            return False
        cache = self.cache
        runs: list[_RunSource] = [
            (cache.key((b"run", styles.key, held)), run[-1][0], run) for run, held in _cut(planned)
        ]
        for run, held in _cut(inputs):
            key = cache.key((b"run by inputs", made_of, styles.key, held))
            runs.append((key, run[-1][0], functools.partial(_planned, plan, [row for row, _ in run])))
        comments = self._notes(planned, styles)
        xml = self._put_together(runs, styles, comments, framed)
        if xml is None:
            return False
        self.key = cache.key((b"sheet by inputs", styles.key, self._frame(), *(key.encode() for key, _, _ in runs)))
        self.kept, self.assembled, self._comments = xml, True, comments
        return True

    def _put_together(
        self,
        runs: list[_RunSource],
        styles: _Styles,
        comments: list[CommentRecord],
        framed: Callable[[list[bytes]], bool] | None = None,
    ) -> bytes | None:
        """The sheet's XML from ``runs`` (each its key, its last row, and its planned rows or a function
        that plans them and gives what it notes of them), each kept or written now, with the
        ``comments`` of its notes; None where its XML outside the rows, or a run's, is not as expected,
        or ``framed`` could not take what the runs noted."""
        assert self.cache is not None
        xml_runs: list[bytes] = []
        links: list[bytes] = []
        noted: list[bytes] = []
        self.runs = []
        previous = 0  # the last row before the run: the empty rows between are the run's
        for key, last, source in runs:
            self.runs.append(key)
            kept = self.cache.get(key)
            head, _, kept_xml = (kept or b"").partition(_RUN_LINKS)
            written_after, _, note = head.partition(b" ")
            if kept is None or not written_after.isdigit():
                rows, note = source() if callable(source) else (source, b"")
                made = self._run(previous, rows, styles)
                if made is None:
                    return None
                self.cache.put(key, b"%d" % previous + (b" " + note if note else b"") + _RUN_LINKS + made)
                written_after, kept_xml = b"%d" % previous, made
            xml, _, linked = kept_xml.partition(_RUN_LINKS)
            shift = previous - int(written_after)
            xml_runs.append(_moved(xml, shift))
            links.append(_moved(linked, shift))
            noted.append(note)
            previous = last
        if framed is not None and not framed(noted):
            return None
        return self._around(xml_runs, links, comments)

    def _run(self, previous: int, run: list[tuple[int, list[tuple[int, _Planned]]]], styles: _Styles) -> bytes | None:
        """A run of rows as openpyxl writes them, and the inside of the hyperlinks element of their
        links; None where the rows are not inside one sheetData element as expected."""
        writer = WorksheetWriter(self, io.BytesIO())  # notes the hyperlinks of the cells written
        stream = writer.xf.send(True)
        with stream.element("sheetData"):
            for row, cells in run:
                for empty in range(previous + 1, row):
                    writer.write_row(stream, [], empty)
                writer.write_row(stream, [self._made(row, column, cell, styles) for column, cell in cells], row)
                previous = row
        writer.xf.send(None)
        xml = bytes(writer.read())
        start, end = xml.find(_SHEET_DATA), xml.rfind(_SHEET_DATA_END)
        if start < 0 or end < start or xml.count(_SHEET_DATA) != 1:
            return None
        rows = xml[start + len(_SHEET_DATA) : end]
        linked = _inside(HyperlinkList(self._hyperlinks)) if self._hyperlinks else b""
        return rows + _RUN_LINKS + linked

    def _around(self, runs: list[bytes], links: list[bytes], comments: list[CommentRecord]) -> bytes | None:
        """The sheet's XML with ``runs`` as its rows and ``links`` inside its hyperlinks element:
        openpyxl writes the sheet without rows, with one stand-in link, which the links replace."""
        stand_in = [Hyperlink(ref="A1", location=_STAND_IN_LINK)] if any(links) else []
        with self._written_aside() as writer:
            writer.write_top()
            stream = writer.xf.send(True)
            with stream.element("sheetData"):
                stream.write(_STAND_IN_ROW)
            writer.xf.send(None)
            self._hyperlinks, self._comments = stand_in, comments
            writer.write_tail()
            xml = bytes(writer.read())
            self._hyperlinks, self._comments = [], []
        rows = _SHEET_DATA + _STAND_IN_ROW.encode() + _SHEET_DATA_END
        pieces = [rows, _tostring(HyperlinkList(stand_in).to_tree())] if stand_in else [rows]
        if any(xml.count(piece) != 1 for piece in pieces):
            return None
        xml = xml.replace(rows, _SHEET_DATA + b"".join(runs) + _SHEET_DATA_END)
        if stand_in:
            opening, _, closing = pieces[1].partition(_inside(HyperlinkList(stand_in)))
            xml = xml.replace(pieces[1], opening + b"".join(links) + closing)
        return xml

    def _frame(self) -> bytes:
        """The sheet's XML outside its rows (extent, views, columns, filter, validations...) as openpyxl writes it."""
        with self._written_aside() as writer:
            writer.write_top()
            writer.write_tail()
            return bytes(writer.read())

    @contextmanager
    def _written_aside(self) -> Iterator[Any]:
        """A writer of the sheet's XML into memory, besides the sheet's own; the sheet as it was after.
        (Writing the columns notes their deepest outline, which the sheet's format states when written next.)"""
        columns, sheet_format = self.column_dimensions, self.sheet_format
        outline, stated = columns.max_outline, sheet_format.outlineLevelCol
        try:
            yield WorksheetWriter(self, io.BytesIO())
        finally:
            columns.max_outline, sheet_format.outlineLevelCol = outline, stated

    def _made(self, row: int, column: int, planned: _Planned, styles: _Styles) -> Cell:
        value, style, quoted, location, note = planned
        cell = Cell(
            self,
            row=row,
            column=column,
            value=value,
            style_array=None if style is None else styles.arrays[style, quoted],
        )
        if isinstance(value, str):
            cell.data_type = "s"
        if location is not None:
            cell.hyperlink = Hyperlink(ref=cell.coordinate, location=location)
        if note:
            comment = Comment(note, "qms")
            comment.width, comment.height = 300, 90
            cell.comment = comment
        return cell

    def close(self) -> None:
        """Finish the sheet's XML, and keep it; or hand over its kept XML."""
        if self.kept is not None:
            assert self.cache is not None, "only a sheet with a cache is kept"
            if self.assembled:
                self.cache.put(self.key, self.kept)
                self.cache.put_runs(self.key, self.runs)
            self._writer, self.kept = _Finished(self.kept, self.key, self.cache), None
            self._WriteOnlyWorksheet__saved = True
        else:
            super().close()
            if self.cache is None or self._writer._rels:  # a sheet that needs another part of the workbook
                return
            xml = Path(self._writer.out).read_bytes()
            self.cache.put(self.key, xml)
            self._writer.cleanup()  # its temporary file: the workbook takes the XML kept
            self._writer = _Finished(xml, self.key, self.cache)
        if self.cache is not None and self.inputs:
            self.cache.note_inputs(self.inputs, self.key)


def _new_sheet(workbook: Workbook, title: str, cache: SheetCache | None = None) -> _StreamedSheet:
    """A streamed sheet appended to the write-only ``workbook`` (what ``create_sheet`` does with its own)."""
    sheet = _StreamedSheet(workbook, title)
    sheet.cache = cache
    workbook._add_sheet(sheet)
    return sheet


class _SheetWriter:
    """Plans one worksheet of a write-only workbook, then has it written: text that stays text,
    links, risk colours, header, filter.

    Cells are planned in any order; :meth:`finish` writes them (or takes the sheet's kept XML when
    nothing planned changed). A sheet whose extent is known beforehand states it; a small one (the
    summary) is measured.
    """

    def __init__(self, worksheet: _StreamedSheet, styles: _Styles, extent: tuple[int, int] | None = None) -> None:
        """``extent``: the last row and column the sheet will hold, when known before it is written."""
        self.worksheet = worksheet
        self.styles = styles
        self.extent = extent
        self.rows: dict[int, dict[int, _Planned]] = {}

    def _cell(self, row: int, column: int, cell: _Planned) -> None:
        cells = self.rows.get(row)
        if cells is None:
            cells = self.rows[row] = {}
        cells[column] = cell

    def text(
        self,
        row: int,
        column: int,
        text: str,
        style: str = PLAIN,
        target: tuple[str, int] | None = None,
        note: str = "",
    ) -> None:
        """A cell that holds ``text`` as a string, whatever it starts with (never a formula or error);
        with ``target``, a link that jumps to that row of that sheet of this workbook."""
        location = None
        if target is not None:
            location, style = f"{quote_sheetname(target[0])}!A{target[1]}", LINK
        self._cell(row, column, (clean_text(text), style, text.startswith(FORMULA_TRIGGERS), location, note))

    def number(self, row: int, column: int, value: int) -> None:
        self._cell(row, column, (value, None, False, None, ""))

    def header(self, headers: Sequence[str], computed: Iterable[int] = (), notes: Sequence[str] = ()) -> None:
        """The header row: frozen with the id column, computed columns greyed, notes as comments."""
        computed = set(computed)
        for index, header in enumerate(headers, start=1):
            note = notes[index - 1] if index - 1 < len(notes) else ""
            self.text(1, index, header, COMPUTED_HEADER if index in computed else HEADER, note=note)
        self.worksheet.freeze_panes = "B2"
        self.worksheet.row_dimensions[1].height = 30

    def finish(self, columns: int | None = None, rows: int = 0) -> None:
        """Write the sheet; with ``columns``, filter the header and the ``rows`` below it."""
        self.worksheet.write(self._framed(columns, rows), self.styles)

    def _framed(self, columns: int | None, rows: int) -> list[tuple[int, _Row]]:
        """The cells planned so far, by row, once the sheet's filter (with ``columns``: of the header and
        the ``rows`` below it) and extent are set."""
        if columns is not None:
            self.worksheet.auto_filter.ref = f"A1:{get_column_letter(columns)}{max(rows, 1) + 1}"
        planned = [(row, sorted(cells.items())) for row, cells in sorted(self.rows.items())]
        last, widest = self.extent or (planned[-1][0], max(cells[-1][0] for _, cells in planned if cells))
        self.worksheet.extent = f"A1:{get_column_letter(widest)}{last}"
        return planned

    def finish_by_inputs(
        self,
        columns: int,
        rows: int,
        inputs: Sequence[tuple[int, bytes]],
        plan: Callable[[list[int]], bytes],
        made_of: bytes,
        framed: Callable[[list[bytes]], bool] | None = None,
    ) -> bool:
        """Write the sheet, filtered as :meth:`finish` filters it, from runs of rows kept by what their
        cells are made of (:meth:`_StreamedSheet.write_by_inputs`): the cells planned so far (the
        header) stand before the rows of ``inputs`` (each row's number, and what its cells are made of
        besides ``made_of``), whose cells ``plan`` plans where their run is not kept, giving what it
        notes of them for ``framed`` (see there). False where the sheet cannot be written so: plan
        every row, then :meth:`finish`."""
        assert self.extent is not None, "a sheet put together by runs states its extent beforehand"
        planned = self._framed(columns, rows)

        def planned_now(numbers: list[int]) -> tuple[list[tuple[int, _Row]], bytes]:
            note = plan(numbers)
            return [(number, sorted(self.rows.pop(number, {}).items())) for number in numbers], note

        return bool(self.worksheet.write_by_inputs(planned, inputs, planned_now, made_of, self.styles, framed))

    def width(self, column: int, width: float, hidden: bool = False) -> None:
        dimension = self.worksheet.column_dimensions[get_column_letter(column)]
        dimension.width = width
        dimension.hidden = hidden


def _width(column: Column, longest: int) -> float:
    """A column's width from its header and content, capped so that long text wraps instead."""
    if column.role is Role.META:
        return 12
    if column.text_like:
        return 60
    if column.field_name == "title":
        return 40
    return float(min(max(len(column.header) + 4, longest + 2, 8), 40))


# --------------------------------------------------------------------------- item sheets


class _ItemSheets:
    """Writes the kind sheets and the risk register; knows the row of every item for hyperlinks."""

    def __init__(self, project: Project, styles: _Styles) -> None:
        self.project = project
        self.policy = project.config.risk_policy
        self.styles = styles
        self.layouts = {kind: kind_layout(kind, extra_fields(project.of_kind(kind))) for kind in KIND_ORDER}
        self.rows: dict[str, tuple[str, int]] = {}
        self._rows_key: bytes | None = None
        for kind in KIND_ORDER:
            for row, item in enumerate(project.of_kind(kind), start=2):
                self.rows[item.id] = (KINDS[kind].title, row)

    def write(self, worksheet: _StreamedSheet, layout: SheetLayout, items: Sequence[Item]) -> None:
        columns = layout.columns
        sheet = _SheetWriter(worksheet, self.styles, (len(items) + 1, len(columns)))
        computed = [index for index, column in enumerate(columns, start=1) if column.role is Role.COMPUTED]
        headers = ([column.header for column in columns], computed, [column.description for column in columns])
        if worksheet.take(self._inputs(worksheet.title, layout, items)):
            sheet.header(*headers)
            sheet.finish(len(columns), len(items))
            return
        links = [column.spec is not None and column.spec.is_link for column in columns]
        styles = [WRAPPED if column.text_like or link else PLAIN for column, link in zip(columns, links, strict=True)]
        sheet.header(*headers)
        self._validations(worksheet, columns)

        def plan(rows: list[int]) -> bytes:
            """Plan the cells of ``rows``; the length of each column's longest text (up to 60) among them."""
            longest = [0] * len(columns)
            for row in rows:
                item = items[row - 2]
                cells = self._texts(columns, item)
                for index, text in enumerate(cells):
                    longest[index] = max(longest[index], min(len(text), 60))
                    if not text:
                        continue
                    if columns[index].role is Role.COMPUTED:
                        sheet.text(row, index + 1, text, _coloured(risk_class_of(text), styles[index]))
                    elif links[index]:
                        linked = item.links(columns[index].field_name)
                        sheet.text(row, index + 1, text, styles[index], self.rows.get(linked[0]) if linked else None)
                    else:
                        sheet.text(row, index + 1, text, styles[index])
            return b",".join(b"%d" % length for length in longest)

        def widths(noted: list[bytes]) -> bool:
            """The columns' widths from the longest text of each (the header's too): before the rows are written."""
            try:
                runs = [[int(length) for length in note.split(b",")] for note in noted if note]
            except ValueError:
                return False
            if any(len(longest) != len(columns) for longest in runs):
                return False
            for index, column in enumerate(columns):
                longest = max((lengths[index] for lengths in runs), default=0)
                sheet.width(
                    index + 1, _width(column, max(len(column.header), longest)), hidden=column.role is Role.META
                )
            return True

        if worksheet.cache is not None and len(items) > RUN_ROWS:
            made_of = repr((b"items", layout, self.policy)).encode("utf-8", "surrogatepass")
            inputs = [(row, self._row_inputs(columns, links, item)) for row, item in enumerate(items, start=2)]
            if sheet.finish_by_inputs(len(columns), len(items), inputs, plan, made_of, widths):
                return
        widths([plan(list(range(2, len(items) + 2)))])
        sheet.finish(len(columns), len(items))

    def _row_inputs(self, columns: Sequence[Column], links: Sequence[bool], item: Item) -> bytes:
        """What an item's row is made of besides its sheet's layout: the item (its id, kind, file and
        fields) and the row each of its link cells jumps to."""
        jumps = [
            self.rows.get(linked[0]) if (linked := item.links(column.field_name)) else None
            for column, link in zip(columns, links, strict=True)
            if link
        ]
        return repr((item.id, item.kind, item.file, item.fields, jumps)).encode("utf-8", "surrogatepass")

    def _inputs(self, title: str, layout: SheetLayout, items: Sequence[Item]) -> list[bytes] | None:
        """What a sheet of ``items`` is made of besides the code: its title, layout and styles, the
        risk policy, the row of every item (links jump there), and each item's id and file with the
        file's parse-cache key (the same key, the same items: :attr:`Project.file_keys`). None
        for a project not read through the parse cache, or an item whose file was not."""
        keys = self.project.file_keys
        if not keys:
            return None
        files: dict[str, bytes] = {}
        for item in items:
            key = keys.get(item.file)
            if key is None:
                return None
            files[item.file] = key
        if self._rows_key is None:
            self._rows_key = key_bytes(list(self.rows.items()))
        placed = key_bytes([(item.id, item.file) for item in items])
        frame = repr((title, layout, self.policy)).encode("utf-8", "surrogatepass")
        return [frame, self.styles.key, self._rows_key, placed, key_bytes(sorted(files.items()))]

    def _texts(self, columns: Sequence[Column], item: Item) -> list[str]:
        """The text of each of an item's cells; the hidden last one fingerprints the others."""
        texts = []
        digests: dict[str, str] = {}
        for column in columns:
            if column.role is Role.META:
                texts.append(meta_text(item.id, digests))
                continue
            text = cell_text(self.policy, column, item)
            if column.role is not Role.ID:
                digests[column.key] = fingerprint(text)
            texts.append(text)
        return texts

    def _validations(self, worksheet: _StreamedSheet, columns: Sequence[Column]) -> None:
        """Drop-down lists for levels and choices (warnings only: a level number is fine too)."""
        for index, column in enumerate(columns, start=1):
            names = self._choices(column)
            formula = '"' + ",".join(names) + '"'
            if not names or any("," in name or '"' in name for name in names) or len(formula) > 255:
                continue
            letter = get_column_letter(index)
            validation = DataValidation(type="list", formula1=formula, allow_blank=True, errorStyle="warning")
            validation.error = f"Not one of: {', '.join(names)}"
            validation.add(f"{letter}2:{letter}1048576")
            worksheet.data_validations.append(validation)

    def _choices(self, column: Column) -> list[str]:
        spec = column.spec
        if spec is None:
            return []
        kind = spec.type
        if kind is FieldType.RESIDUAL:
            kind = FieldType.SEVERITY if column.path[1] == "severity" else FieldType.PROBABILITY
        if kind is FieldType.SEVERITY:
            return [level.name for level in self.policy.severity]
        if kind is FieldType.PROBABILITY:
            return [level.name for level in self.policy.probability]
        return list(spec.choices) if kind is FieldType.CHOICE else []


# --------------------------------------------------------------------------- matrices and summary


def write_matrix(
    worksheet: _StreamedSheet, styles: _Styles, matrix: Matrix, rows: dict[str, tuple[str, int]] | None = None
) -> None:
    """One traceability matrix: a column per kind, a row per path; cells jump to the item's row."""
    headers = list(matrix.headers) + extra_headers(matrix)
    last = len(matrix.rows) + 1 + (1 + len(matrix.cuts) if matrix.cuts else 0)  # the cuts follow a blank row
    sheet = _SheetWriter(worksheet, styles, (last, len(headers)))
    targets = rows or {}
    shown = _shown_rows(matrix, targets) if worksheet.cache is not None else None
    if worksheet.take(_matrix_inputs(styles, matrix, headers, targets, shown)):
        sheet.header(headers)
        sheet.finish(len(headers), len(matrix.rows))
        return
    sheet.header(headers)
    for index in range(1, len(headers) + 1):
        sheet.width(index, 36 if index <= len(matrix.columns) or headers[index - 1] == FINDINGS_HEADER else 14)
    first_cut = len(matrix.rows) + 3

    def plan_row(row: int) -> None:
        if row >= first_cut:  # below the filtered range: rows left out at the row limit
            sheet.text(row, 1, str(matrix.cuts[row - first_cut]))
            return
        cells = matrix.rows[row - 2]
        for index, item in enumerate(cells, start=1):
            if item is not None:
                sheet.text(row, index, f"{item.id} {item.title}".strip(), WRAPPED, targets.get(item.id))
        for index, text in enumerate(extra_cells(matrix, row - 2), start=len(cells) + 1):
            if text:
                sheet.text(row, index, text, WRAPPED if headers[index - 1] == FINDINGS_HEADER else PLAIN)

    def plan(rows: list[int]) -> bytes:
        for row in rows:
            plan_row(row)
        return b""

    if shown is not None:
        inputs = [(row, key_bytes(made)) for row, made in enumerate(shown, start=2)]
        inputs += [(first_cut + offset, key_bytes(str(cut))) for offset, cut in enumerate(matrix.cuts)]
        made_of = key_bytes([b"matrix", headers, len(matrix.columns)])
        if sheet.finish_by_inputs(len(headers), len(matrix.rows), inputs, plan, made_of):
            return
    plan([*range(2, len(matrix.rows) + 2), *range(first_cut, first_cut + len(matrix.cuts))])
    sheet.finish(len(headers), len(matrix.rows))


def _shown_rows(matrix: Matrix, targets: dict[str, tuple[str, int]]) -> list[list[Any]]:
    """What each row of a matrix's sheet shows: each cell's item (id and title) and the row its link
    jumps to, then the cells after them."""
    shown: dict[int, tuple[str, str, tuple[str, int] | None]] = {}  # an item stands in many rows

    def cell(item: Item) -> tuple[str, str, tuple[str, int] | None]:
        found = shown.get(id(item))
        if found is None:
            found = shown[id(item)] = (item.id, item.title, targets.get(item.id))
        return found

    return [
        [cell(item) if item is not None else None for item in cells] + extra_cells(matrix, index)
        for index, cells in enumerate(matrix.rows)
    ]


def _matrix_inputs(
    styles: _Styles,
    matrix: Matrix,
    headers: list[str],
    targets: dict[str, tuple[str, int]],
    shown: list[list[Any]] | None,
) -> list[bytes] | None:
    """What a matrix's sheet is made of besides the code: its headers and columns, each row's items
    (id and title, and the row their links jump to) and cells after them (``shown``), the rows it left
    out, the styles, and the row every item sheet has each item on (its cells jump there). None where
    the sheet is not kept between workbooks."""
    if shown is None:
        return None
    made_of = (headers, len(matrix.columns), shown, [str(cut) for cut in matrix.cuts], list(targets.items()))
    return [b"matrix", styles.key, key_bytes(made_of)]


def _summary(sheet: _SheetWriter, project: Project, committed: str, statuses: StatusIndex) -> None:
    config = project.config
    device = config.device
    policy = config.risk_policy
    sheet.width(1, 36)
    sheet.width(2, 48)
    for column in range(3, 3 + len(policy.probability)):
        sheet.width(column, 16)
    sheet.text(1, 1, f"{device.name}: design and risk records", TITLE)
    facts = [
        ("Device", device.name),
        ("Manufacturer", device.manufacturer),
        ("Version", device.version),
        ("Software safety class (IEC 62304)", device.software_safety_class),
        ("Source", committed),
        ("Written by", f"qms {__version__}"),
        ("Verification", _verification(statuses)),
    ]
    row = 3
    for label, value in facts:
        sheet.text(row, 1, label, BOLD)
        sheet.text(row, 2, value)
        row += 1
    row += 1
    sheet.text(row, 1, "Sheet", BOLD)
    sheet.text(row, 2, "Items", BOLD)
    for kind in KIND_ORDER:
        row += 1
        sheet.text(row, 1, KINDS[kind].title, target=(KINDS[kind].title, 1))
        sheet.number(row, 2, len(project.of_kind(kind)))
    row = _risk_counts(sheet, project, row + 2) + 2
    sheet.text(row, 1, "Risk acceptability (rows: severity; columns: probability)", BOLD)
    row += 1
    for column, level in enumerate(policy.probability, start=2):
        sheet.text(row, column, f"{level.level} {level.name}", BOLD)
    for severity in reversed(policy.severity):
        row += 1
        sheet.text(row, 1, f"{severity.level} {severity.name}", BOLD)
        for column, probability in enumerate(policy.probability, start=2):
            risk_class = policy.classify(severity.level, probability.level)
            sheet.text(row, column, risk_class.value if risk_class else "", _coloured(risk_class))
    row += 2
    for risk_class in RiskClass:
        sheet.text(row, 1, risk_class.value, risk_style(risk_class))
        sheet.text(row, 2, risk_class.label)
        row += 1
    row += 1
    sheet.text(row, 1, "Editing", BOLD)
    for line in (
        "Change cells and add rows on the item sheets and the risk register, then run `qms import xlsx FILE`.",
        "Links are ids separated by commas. Severity and probability take a level name or number of the policy.",
        "Grey headers are computed from other columns and are not imported. Leave the hidden last column alone.",
        "Rows you delete are reported, not deleted, unless you import with --delete-missing.",
    ):
        row += 1
        sheet.text(row, 1, line)
    sheet.finish()


def _exported_rows(sheet: _SheetWriter, rows: Sequence[tuple[str, str]]) -> None:
    """The hidden sheet of the rows this export wrote (:data:`EXPORTED_SHEET`)."""
    sheet.header(
        ["Sheet", "Id"],
        notes=["The item sheet qms export wrote the row on.", "The id it wrote it with. Leave this sheet alone."],
    )
    if not sheet.worksheet.take([b"exported rows", sheet.styles.key, key_bytes(list(rows))]):
        for row, (title, item_id) in enumerate(rows, start=2):
            sheet.text(row, 1, title, PLAIN)
            sheet.text(row, 2, item_id, PLAIN)
    sheet.worksheet.sheet_state = "hidden"
    sheet.finish(2, len(rows))


def _verification(statuses: StatusIndex) -> str:
    """Requirements verified, and what holds the rest back, in the words of ``qms status``."""
    counts = statuses.counts(*REQUIREMENT_KINDS)
    total = sum(counts.values())
    passed = counts[Status.PASSED]
    share = f" ({100 * passed / total:.0f} %)" if total else ""
    rest = ", ".join(
        f"{count} {status.value}" for status, count in counts.items() if count and status is not Status.PASSED
    )
    return f"{passed} of {total} requirements verified{share}" + (f"; {rest}" if rest else "")


def _risk_counts(sheet: _SheetWriter, project: Project, row: int) -> int:
    """Hazards per initial and residual risk class; returns the last row written."""
    policy = project.config.risk_policy
    risks = [hazard_risk(policy, hazard) for hazard in project.of_kind("hazard")]
    sheet.text(row, 1, "Hazards by risk class", BOLD)
    sheet.text(row, 2, "Initial", BOLD)
    sheet.text(row, 3, "Residual", BOLD)
    for risk_class in RiskClass:
        row += 1
        sheet.text(row, 1, risk_class.value, risk_style(risk_class))
        sheet.number(row, 2, sum(1 for risk in risks if risk.initial and risk.initial.risk_class is risk_class))
        sheet.number(row, 3, sum(1 for risk in risks if risk.residual and risk.residual.risk_class is risk_class))
    row += 1
    sheet.text(row, 1, "not evaluated")
    sheet.number(row, 2, sum(1 for risk in risks if risk.initial is None))
    sheet.number(row, 3, sum(1 for risk in risks if risk.residual is None))
    return row


# --------------------------------------------------------------------------- reproducible bytes


def export_date(control: DocumentControl) -> datetime.datetime:
    """The date the workbook carries: the commit's, so the same commit gives the same bytes."""
    if control.date and not control.date.startswith("@"):  # "@SECONDS +ZONE": a date Python cannot hold
        moment = datetime.datetime.fromisoformat(control.date)
        if moment.tzinfo is not None:
            moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
        return max(moment, FIXED_DATE)
    return FIXED_DATE


class _DatedArchive(zipfile.ZipFile):
    """A zip archive written once, whose entries are all dated ``moment`` and carry the same
    permissions, whatever the clock and openpyxl's temporary files say."""

    def __init__(self, file: IO[bytes], moment: datetime.datetime) -> None:
        super().__init__(file, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        self.stamp = moment.timetuple()[:6]

    def _entry(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=self.stamp)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o600 << 16
        return info

    def writestr(
        self,
        zinfo_or_arcname: str | zipfile.ZipInfo,
        data: Any,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        name = zinfo_or_arcname.filename if isinstance(zinfo_or_arcname, zipfile.ZipInfo) else zinfo_or_arcname
        super().writestr(self._entry(name), data)

    def write(
        self,
        filename: str | os.PathLike[str] | io.BytesIO,
        arcname: str | os.PathLike[str] | None = None,
        compress_type: int | None = None,
        compresslevel: int | None = None,
    ) -> None:
        """A worksheet streamed to a temporary file: copied into the archive, not read whole; or a
        worksheet's XML, kept in the sheet cache with its compressed bytes (:meth:`_write_kept`)."""
        if isinstance(filename, _KeptXml):
            self._write_kept(os.fspath(arcname or ""), filename)
            return
        if isinstance(filename, io.BytesIO):
            super().writestr(self._entry(os.fspath(arcname or "")), filename.getvalue())
            return
        with open(filename, "rb") as source, self.open(self._entry(os.fspath(arcname or filename)), "w") as target:
            shutil.copyfileobj(source, target)

    def _write_kept(self, name: str, xml: _KeptXml) -> None:
        """Write the entry ``name`` of a sheet's kept XML as :meth:`writestr` writes it, compressed
        as the cache keeps it, where it does (the same bytes: zlib's, with the settings ``zipfile``
        compresses with, of the same XML); else compressed now, and kept.

        ``zipfile`` has no way to write bytes compressed beforehand: the entry is written as
        ``writestr`` writes it (header, CRC and sizes of the XML), its compressor handing over the
        kept bytes. This relies on the ``_compressor`` of ``zipfile``'s entry writer (CPython 3.11,
        tested by comparing with a workbook written afresh); where it has none, the XML is compressed
        as ``writestr`` compresses it."""
        data = xml.getvalue()
        deflated = xml.cache.deflated(xml.key)
        info = self._entry(name)
        info.file_size = len(data)
        if deflated is not None:
            with self.open(info, "w") as entry:
                if not hasattr(entry, "_compressor"):  # another zipfile: compress the XML as it would
                    entry.write(data)
                    return
                entry._compressor = _Compressed(deflated)
                entry.write(data)
            return
        with self.open(info, "w") as entry:
            entry.write(data)
        if not isinstance(self.fp, io.BytesIO):
            return  # compressed into a file: not read back
        size, end = self.getinfo(name).compress_size, self.fp.tell()  # the entry's bytes end where it ends
        with self.fp.getbuffer() as written, written[end - size : end] as compressed:
            xml.cache.put_deflated(xml.key, bytes(compressed))


class _Compressed:
    """A compressor whose output is known beforehand: the bytes zlib made of the same data before."""

    def __init__(self, compressed: bytes) -> None:
        self.compressed = compressed

    def compress(self, data: bytes) -> bytes:
        compressed, self.compressed = self.compressed, b""
        return compressed

    def flush(self) -> bytes:
        return b""


def reproducible_bytes(workbook: Workbook, moment: datetime.datetime, title: str) -> bytes:
    """The workbook's bytes with fixed document properties and zip entry times."""
    properties = workbook.properties
    properties.creator = "qms"
    properties.lastModifiedBy = None
    properties.title = title
    properties.created = properties.modified = moment
    written = io.BytesIO()
    with _DatedArchive(written, moment) as archive:
        ExcelWriter(workbook, archive).write_data()
    return written.getvalue()


def _sheet_title(title: str) -> str:
    return str(INVALID_TITLE_REGEX.sub("_", title))[:31]


def workbook_bytes(
    project: Project,
    statuses: StatusIndex | None = None,
    cache: SheetCache | None = None,
    matrices: Sequence[Matrix] | None = None,
) -> bytes:
    """The whole workbook: summary, a sheet per kind, the risk register, the matrices. ``statuses``
    and ``matrices`` (the default ones with their statuses): the project's, when already made;
    ``cache``: where the sheets of the last workbook are kept, to reuse those whose contents did
    not change."""
    workbook = Workbook(write_only=True)
    styles = _Styles(workbook)
    summary = _new_sheet(workbook, SUMMARY, cache)
    sheets = _ItemSheets(project, styles)
    exported: list[tuple[str, str]] = []  # (sheet, id) of every item row
    for kind in KIND_ORDER:
        title = _sheet_title(KINDS[kind].title)
        sheets.write(_new_sheet(workbook, title, cache), sheets.layouts[kind], project.of_kind(kind))
        exported += [(title, item.id) for item in project.of_kind(kind)]
        if kind == "hazard":
            register = risk_register_layout()
            sheets.write(_new_sheet(workbook, register.title, cache), register, project.of_kind("hazard"))
            exported += [(register.title, item.id) for item in project.of_kind("hazard")]
    statuses = project_statuses(project) if statuses is None else statuses
    if matrices is None:
        matrices = verified_defaults(project, statuses)
    for title, matrix in zip((DESIGN_TRACE, RISK_TRACE), matrices, strict=True):
        write_matrix(_new_sheet(workbook, title, cache), styles, matrix, sheets.rows)
    control = document_control(project.root)
    _summary(_SheetWriter(summary, styles), project, control.summary, statuses)
    _exported_rows(_SheetWriter(_new_sheet(workbook, EXPORTED_SHEET, cache), styles, (len(exported) + 1, 2)), exported)
    written = reproducible_bytes(
        workbook, export_date(control), f"{project.config.device.name} design and risk records"
    )
    if cache is not None:
        cache.prune()
    return written


def matrix_workbook_bytes(project: Project, matrices: Sequence[Matrix]) -> bytes:
    """A workbook of traceability matrices only (``qms matrix --format xlsx``)."""
    workbook = Workbook(write_only=True)
    styles = _Styles(workbook)
    used: set[str] = set()
    for index, matrix in enumerate(matrices):
        title = _sheet_title(matrix.title)
        if title in used:
            title = _sheet_title(f"{title[:27]} {index + 1}")
        used.add(title)
        write_matrix(_new_sheet(workbook, title), styles, matrix)
    moment = export_date(document_control(project.root))
    return reproducible_bytes(workbook, moment, f"{project.config.device.name} traceability matrix")


#: where ``qms export xlsx`` keeps its sheets between exports, in the project's cache folder
EXPORT_SHEETS = "workbook-sheets"


def export_workbook(project: Project, path: Path) -> None:
    """Write the project's workbook to ``path`` (atomically: a failed export leaves no half file).

    A project read through its parse cache keeps the workbook's sheets beside it, so an export after
    a one-item edit writes again only the sheets that changed (the same bytes, see
    :mod:`qms.excel.sheetcache`)."""
    folder = kept_folder(project)
    cache = SheetCache(folder / EXPORT_SHEETS) if folder is not None else None
    atomic.write_bytes(path, workbook_bytes(project, cache=cache))
