"""``qms import xlsx``: the edits of a workbook back into the YAML files they came from.

Taken: changed cells of existing items, and new rows (new items). Reported: rows missing from a
sheet (deleted only with ``delete``), sheets and columns that hold no item fields. Refused, with
sheet, row and column: a cell that cannot be taken (unknown link target, level not in the
policy, a changed id, a value edited both in the workbook and in YAML since the export). One
refused cell and nothing is written: the import is all or nothing.

The way through: :mod:`~qms.excel.reading` (workbook to rows, with size limits),
:mod:`~qms.excel.plan` (rows to changes; cells read by :mod:`~qms.excel.cells`; target files
checked by :mod:`~qms.excel.targets`), :mod:`~qms.excel.writer` (changes to file texts, read back
before anything is written), :mod:`~qms.excel.journal` (every file written, or none).
"""

from __future__ import annotations

from pathlib import Path

from qms.excel.changes import ImportResult, Refusal
from qms.excel.journal import apply
from qms.excel.layout import EXPORTED_SHEET, is_report_sheet, sheet_kind
from qms.excel.plan import Plan
from qms.excel.reading import read_workbook
from qms.excel.writer import Writer
from qms.model import Project


def import_workbook(project: Project, path: Path, dry_run: bool = False, delete: bool = False) -> ImportResult:
    """Take a workbook's edits into the project's YAML files (all or nothing; nothing with ``dry_run``).

    Raises :class:`qms.excel.reading.WorkbookError` when the file is not a readable workbook, and
    :class:`qms.excel.journal.JournalError` when the files cannot be written (none then is).
    """
    result = ImportResult(path)
    _refuse_unreadable_files(project, result)
    if result.refusals:
        return result
    plan = Plan(project, result)
    for sheet in read_workbook(path, wanted=_read):
        plan.sheet(sheet)
    deleted = plan.finish(delete)
    result.changes = list(plan.changes.values())
    result.new_items = list(plan.new.values())
    result.deleted = deleted
    if result.refusals:
        return result
    writer = Writer(project, result)
    writer.plan(result.changes, result.new_items, deleted)
    if not result.refusals:
        writer.render(result.changes, result.new_items, deleted)
    if result.refusals:
        result.files.clear()
        return result
    if not dry_run and result.files:
        apply(project.root, writer.writes())
        result.written = True
    return result


def _read(title: str) -> bool:
    """Whether an import reads a sheet: not the reports qms writes for reading only (the matrices, which
    may be long); the sheets of items, the list of exported rows, and any other (a renamed sheet of
    items is refused, not passed over)."""
    return title == EXPORTED_SHEET or sheet_kind(title) is not None or not is_report_sheet(title)


def _refuse_unreadable_files(project: Project, result: ImportResult) -> None:
    """A source file qms cannot parse may hold items the workbook edits: refuse rather than guess."""
    with_items = {item.file for item in project}
    for finding in project.load_findings:
        file = finding.location.file
        if finding.rule == "Q001" and file in project.files and file not in with_items:
            result.refusals.append(
                Refusal(
                    None,
                    f"{finding.location}: {finding.message}: qms cannot read the items of {file}, so the rows for "
                    "them cannot be matched; correct the file (`qms check` lists what is wrong), then import again",
                )
            )
