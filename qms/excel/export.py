"""``qms export xlsx``: the project as one workbook a quality engineer can read, filter, edit and send back.

Sheets: a summary, one per kind (every field, links as comma-separated ids that jump to the
linked item's row), a risk register laid out the way risk engineers read one, and the
traceability matrices. Every cell that holds item text is written as text, never as a formula,
whatever it starts with. The same project gives the same bytes: document properties and zip
entry times come from the git commit date (or a fixed date outside git), never from the clock.
"""

from __future__ import annotations

import datetime
import io
import zipfile
from collections.abc import Iterable, Sequence
from copy import copy
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, NamedStyle, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.workbook.child import INVALID_TITLE_REGEX
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from qms import __version__, atomic
from qms.checking import project_statuses
from qms.excel.layout import (
    DESIGN_TRACE,
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
from qms.gitinfo import DocumentControl, document_control
from qms.matrix import Matrix, default_matrices, verified
from qms.model import Item, Project
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
    """The named styles of one workbook, each resolved once to the style array its cells share."""

    def __init__(self, workbook: Workbook) -> None:
        self.arrays: dict[str, StyleArray] = {}
        for style in _named_styles():
            workbook.add_named_style(style)
            self.arrays[style.name] = style.as_tuple()


class _SheetWriter:
    """Writes cells into one worksheet: text that stays text, links, risk colours, header, filter."""

    def __init__(self, worksheet: Worksheet, styles: _Styles) -> None:
        self.worksheet = worksheet
        self.styles = styles

    def style(self, cell: Cell, name: str) -> None:
        # what `cell.style = name` does, without looking the name up again for every cell (which
        # costs more than writing the cell); openpyxl has no public way to share a style array
        cell._style = copy(self.styles.arrays[name])

    def text(self, row: int, column: int, text: str, style: str = PLAIN) -> Cell:
        """A cell that holds ``text`` as a string, whatever it starts with (never a formula or error)."""
        cell = self.worksheet.cell(row=row, column=column)
        cell.value = clean_text(text)
        cell.data_type = "s"
        self.style(cell, style)
        if text.startswith(FORMULA_TRIGGERS):
            cell.quotePrefix = True  # Excel keeps it text when the cell is edited, too
        return cell

    def number(self, row: int, column: int, value: int) -> None:
        self.worksheet.cell(row=row, column=column, value=value)

    def link(self, cell: Cell, target: tuple[str, int] | None) -> None:
        """Make a cell jump to a row of a sheet of this workbook."""
        if target is None:
            return
        sheet, row = target
        cell.hyperlink = Hyperlink(ref=cell.coordinate, location=f"{quote_sheetname(sheet)}!A{row}")
        self.style(cell, LINK)

    def risk(self, cell: Cell, risk_class: RiskClass | None) -> None:
        if risk_class is not None:
            self.style(cell, risk_style(risk_class))

    def header(self, headers: Sequence[str], computed: Iterable[int] = (), notes: Sequence[str] = ()) -> None:
        """The header row: frozen with the id column, computed columns greyed, notes as comments."""
        computed = set(computed)
        for index, header in enumerate(headers, start=1):
            cell = self.text(1, index, header, COMPUTED_HEADER if index in computed else HEADER)
            if index - 1 < len(notes) and notes[index - 1]:
                comment = Comment(notes[index - 1], "qms")
                comment.width, comment.height = 300, 90
                cell.comment = comment
        self.worksheet.freeze_panes = "B2"
        self.worksheet.row_dimensions[1].height = 30

    def finish(self, columns: int, rows: int) -> None:
        self.worksheet.auto_filter.ref = f"A1:{get_column_letter(columns)}{max(rows, 1) + 1}"

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
        for kind in KIND_ORDER:
            for row, item in enumerate(project.of_kind(kind), start=2):
                self.rows[item.id] = (KINDS[kind].title, row)

    def write(self, worksheet: Worksheet, layout: SheetLayout, items: Sequence[Item]) -> None:
        sheet = _SheetWriter(worksheet, self.styles)
        columns = layout.columns
        computed = [index for index, column in enumerate(columns, start=1) if column.role is Role.COMPUTED]
        sheet.header([column.header for column in columns], computed, [column.description for column in columns])
        longest = [len(column.header) for column in columns]
        for row, item in enumerate(items, start=2):
            digests: dict[str, str] = {}
            for index, column in enumerate(columns, start=1):
                if column.role is Role.META:
                    sheet.text(row, index, meta_text(item.id, digests))
                    continue
                text = cell_text(self.policy, column, item)
                if column.role is not Role.ID:
                    digests[column.key] = fingerprint(text)
                if not text:
                    continue
                wrapped = column.text_like or (column.spec is not None and column.spec.is_link)
                cell = sheet.text(row, index, text, WRAPPED if wrapped else PLAIN)
                longest[index - 1] = max(longest[index - 1], min(len(text), 60))
                if column.role is Role.COMPUTED:
                    sheet.risk(cell, risk_class_of(text))
                elif column.spec is not None and column.spec.is_link:
                    sheet.link(
                        cell, self.rows.get(item.links(column.field_name)[0]) if item.links(column.field_name) else None
                    )
        for index, column in enumerate(columns, start=1):
            sheet.width(index, _width(column, longest[index - 1]), hidden=column.role is Role.META)
        self._validations(worksheet, columns)
        sheet.finish(len(columns), len(items))

    def _validations(self, worksheet: Worksheet, columns: Sequence[Column]) -> None:
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
            worksheet.add_data_validation(validation)

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


def write_matrix(sheet: _SheetWriter, matrix: Matrix, rows: dict[str, tuple[str, int]] | None = None) -> None:
    """One traceability matrix: a column per kind, a row per path; cells jump to the item's row."""
    headers = list(matrix.headers) + (["Verification"] if matrix.verdicts else [])
    sheet.header(headers)
    targets = rows or {}
    for row, cells in enumerate(matrix.rows, start=2):
        for index, item in enumerate(cells, start=1):
            if item is not None:
                sheet.link(sheet.text(row, index, f"{item.id} {item.title}".strip(), WRAPPED), targets.get(item.id))
        if matrix.verdicts and matrix.verdicts[row - 2]:
            sheet.text(row, len(cells) + 1, matrix.verdicts[row - 2] or "")
    for index in range(1, len(headers) + 1):
        sheet.width(index, 36 if index <= len(matrix.columns) else 14)
    sheet.finish(len(headers), len(matrix.rows))


def _summary(sheet: _SheetWriter, project: Project, committed: str, statuses: StatusIndex) -> None:
    config = project.config
    device = config.device
    policy = config.risk_policy
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
        sheet.link(sheet.text(row, 1, KINDS[kind].title), (KINDS[kind].title, 1))
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
            sheet.risk(sheet.text(row, column, risk_class.value if risk_class else ""), risk_class)
    row += 2
    for risk_class in RiskClass:
        sheet.risk(sheet.text(row, 1, risk_class.value), risk_class)
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
    sheet.width(1, 36)
    sheet.width(2, 48)
    for column in range(3, 3 + len(policy.probability)):
        sheet.width(column, 16)


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
        sheet.risk(sheet.text(row, 1, risk_class.value), risk_class)
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
    if control.date:
        moment = datetime.datetime.fromisoformat(control.date)
        if moment.tzinfo is not None:
            moment = moment.astimezone(datetime.UTC).replace(tzinfo=None)
        return max(moment, FIXED_DATE)
    return FIXED_DATE


def reproducible_bytes(workbook: Workbook, moment: datetime.datetime, title: str) -> bytes:
    """The workbook's bytes with fixed document properties and zip entry times."""
    properties = workbook.properties
    properties.creator = "qms"
    properties.lastModifiedBy = None
    properties.title = title
    properties.created = properties.modified = moment
    raw = io.BytesIO()  # stored, not compressed: the entries are compressed once, below
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        ExcelWriter(workbook, archive).write_data()
    fixed = io.BytesIO()
    stamp = moment.timetuple()[:6]
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            info = zipfile.ZipInfo(entry.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            target.writestr(info, source.read(entry.filename))
    return fixed.getvalue()


def _sheet_title(title: str) -> str:
    return str(INVALID_TITLE_REGEX.sub("_", title))[:31]


def workbook_bytes(project: Project) -> bytes:
    """The whole workbook: summary, a sheet per kind, the risk register, the matrices."""
    workbook = Workbook()
    styles = _Styles(workbook)
    summary = workbook.active
    summary.title = SUMMARY
    sheets = _ItemSheets(project, styles)
    for kind in KIND_ORDER:
        sheets.write(
            workbook.create_sheet(_sheet_title(KINDS[kind].title)), sheets.layouts[kind], project.of_kind(kind)
        )
        if kind == "hazard":
            register = risk_register_layout()
            sheets.write(workbook.create_sheet(register.title), register, project.of_kind("hazard"))
    statuses = project_statuses(project)
    for title, matrix in zip(
        (DESIGN_TRACE, RISK_TRACE), verified(project, default_matrices(project), statuses), strict=True
    ):
        write_matrix(_SheetWriter(workbook.create_sheet(title), styles), matrix, sheets.rows)
    control = document_control(project.root)
    _summary(_SheetWriter(summary, styles), project, control.summary, statuses)
    return reproducible_bytes(workbook, export_date(control), f"{project.config.device.name} design and risk records")


def matrix_workbook_bytes(project: Project, matrices: Sequence[Matrix]) -> bytes:
    """A workbook of traceability matrices only (``qms matrix --format xlsx``)."""
    workbook = Workbook()
    styles = _Styles(workbook)
    used: set[str] = set()
    for index, matrix in enumerate(matrices):
        worksheet = workbook.active if index == 0 else workbook.create_sheet()
        title = _sheet_title(matrix.title)
        if title in used:
            title = _sheet_title(f"{title[:27]} {index + 1}")
        used.add(title)
        worksheet.title = title
        write_matrix(_SheetWriter(worksheet, styles), matrix)
    moment = export_date(document_control(project.root))
    return reproducible_bytes(workbook, moment, f"{project.config.device.name} traceability matrix")


def export_workbook(project: Project, path: Path) -> None:
    """Write the project's workbook to ``path`` (atomically: a failed export leaves no half file)."""
    atomic.write_bytes(path, workbook_bytes(project))
