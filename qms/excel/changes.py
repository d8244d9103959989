"""What an import plans and finds: field changes, new items, refused cells, and the file edits.

The plan (:mod:`qms.excel.plan`) fills an :class:`ImportResult`, the writer
(:mod:`qms.excel.writer`) adds the new text of each file, the journal
(:mod:`qms.excel.journal`) applies them all or none.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl.utils import get_column_letter

from qms.model import Item


@dataclass(frozen=True, slots=True)
class Place:
    """Where in the workbook: a sheet, and a row and column where there is one."""

    sheet: str
    row: int = 0
    column: int = 0
    header: str = ""

    def __str__(self) -> str:
        where = f"sheet '{self.sheet}'"
        if self.row:
            where += f", row {self.row}"
        if self.column:
            where += f", column {get_column_letter(self.column)}"
            if self.header:
                where += f" ({self.header})"
        return where


@dataclass(frozen=True, slots=True)
class Refusal:
    place: Place | None
    message: str

    def __str__(self) -> str:
        return f"{self.place}: {self.message}" if self.place else self.message


@dataclass(frozen=True, slots=True)
class FieldChange:
    item: Item
    field: str
    value: Any  # the new value as the model holds values, or REMOVE
    place: Place


@dataclass
class NewItem:
    item_id: str
    kind: str
    file: str
    after: str | None
    place: Place
    fields: dict[str, Any] = field(default_factory=dict)
    places: dict[str, Place] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class MissingRow:
    item: Item
    sheets: tuple[str, ...]


@dataclass
class ImportResult:
    """What an import found and did; ``files`` maps each changed path to (old text, new text)."""

    workbook: Path
    changes: list[FieldChange] = field(default_factory=list)
    new_items: list[NewItem] = field(default_factory=list)
    missing: list[MissingRow] = field(default_factory=list)
    #: items with no row that the export did not write either: added to the project after it
    added_since: list[MissingRow] = field(default_factory=list)
    deleted: list[Item] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    files: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    written: bool = False

    @property
    def ok(self) -> bool:
        return not self.refusals

    def diff(self) -> str:
        """The file changes as a unified diff (``a/`` and ``b/`` paths, like git)."""
        parts: list[str] = []
        for path, (old, new) in sorted(self.files.items()):
            parts += difflib.unified_diff(
                (old or "").splitlines(keepends=True),
                (new or "").splitlines(keepends=True),
                f"a/{path}" if old is not None else "/dev/null",
                f"b/{path}" if new is not None else "/dev/null",
            )
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in parts)

    def summary(self) -> list[str]:
        """One line per item changed, added, deleted or missing, then the notes."""
        lines = []
        changed: dict[str, list[str]] = {}
        for change in self.changes:
            changed.setdefault(change.item.id, []).append(change.field)
        by_id = {change.item.id: change.item for change in self.changes}
        for item_id, names in changed.items():
            lines.append(f"changed {item_id} ({by_id[item_id].file}): {', '.join(names)}")
        lines += [f"added {new.item_id} ({new.file})" for new in self.new_items]
        lines += [f"deleted {item.id} ({item.file})" for item in self.deleted]
        deleted = {item.id for item in self.deleted}
        for missing in self.missing:
            if missing.item.id not in deleted:
                sheets = ", ".join(f"'{sheet}'" for sheet in missing.sheets)
                lines.append(
                    f"not in the workbook: {missing.item.id} ({missing.item.file}) has no row on {sheets}; "
                    "kept (import with --delete-missing to delete it)"
                )
        for later in self.added_since:
            lines.append(
                f"not in the workbook: {later.item.id} ({later.item.file}), added to the project after the "
                "workbook was exported; kept"
            )
        lines += [f"note: {note}" for note in self.notes]
        return lines
