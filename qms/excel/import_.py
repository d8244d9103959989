"""``qms import xlsx``: the edits of a workbook back into the YAML files they came from.

Taken: changed cells of existing items, and new rows (new items). Reported: rows missing from a
sheet (deleted only with ``delete``), sheets and columns that hold no item fields. Refused, with
sheet, row and column: a cell that cannot be taken (unknown link target, level not in the
policy, a changed id, a value edited both in the workbook and in YAML since the export). One
refused cell and nothing is written: the import is all or nothing.

A cell counts as edited when its text differs from what ``qms export`` writes for the item now;
when the row still carries the fingerprints of the export, a cell that matches its fingerprint is
left alone even if the YAML changed since (the YAML edit wins; the workbook did not touch it).
"""

from __future__ import annotations

import difflib
import fnmatch
import glob
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from openpyxl.utils import get_column_letter

from qms import atomic
from qms.excel.layout import (
    CELL_LIMIT,
    REPORT_SHEETS,
    Column,
    Exported,
    Role,
    cell_text,
    column_index,
    extension_text,
    extra_column,
    extra_fields,
    field_value,
    fingerprint,
    kind_layout,
    normalize_cell,
    normalize_header,
    parse_meta,
    risk_register_layout,
    sheet_kind,
    value_text,
)
from qms.excel.reading import Cell, Sheet, read_workbook
from qms.excel.yamledit import REMOVE, EditError, ItemFileEditor
from qms.loading import read_items
from qms.model import Finding, Item, Project
from qms.project import source_files
from qms.risk import RiskPolicy
from qms.schema import ID_PATTERN, KINDS, FieldSpec, FieldType
from qms.yamlfile import parse_yaml


class CellRefused(Exception):
    """A cell's text cannot be taken as the field's value; the message says why and what to do."""


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
        lines += [f"note: {note}" for note in self.notes]
        return lines


# --------------------------------------------------------------------------- cell text to values


def _split_ids(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", text) if part]


def parse_cell(project: Project, column: Column, text: str, old: Any) -> Any:
    """A cell's text as the field value the model would hold (None: the field is emptied)."""
    if not text:
        return None
    spec = column.spec
    if spec is None:
        return _extension_value(text, old)
    match spec.type:
        case FieldType.TEXT | FieldType.STRING:
            return text
        case FieldType.CHOICE:
            found = next((choice for choice in spec.choices if choice.casefold() == text.strip().casefold()), None)
            if found is None:
                raise CellRefused(f"'{text}' is not allowed for {spec.name}; one of: {', '.join(spec.choices)}")
            return found
        case FieldType.LINKS:
            ids = _split_ids(text)
            bad = [entry for entry in ids if not ID_PATTERN.fullmatch(entry)]
            if bad:
                raise CellRefused(
                    f"'{bad[0]}' is not an id; write the linked ids separated by commas, e.g. SWR-001, SWR-002"
                )
            return tuple(ids)
        case FieldType.STRINGS:
            return tuple(line.strip() for line in text.split("\n") if line.strip())
        case FieldType.TEXTS:
            separator = r"\n\s*\n" if re.search(r"\n\s*\n", text) else r"\n"
            return tuple(entry.strip() for entry in re.split(separator, text) if entry.strip())
        case FieldType.SEVERITY | FieldType.PROBABILITY | FieldType.RESIDUAL:
            return _level(project, spec, column, text)
        case FieldType.ANOMALY_REVIEWS:
            return _reviews(text)
    return text  # pragma: no cover - every field type is matched above


def _level(project: Project, spec: FieldSpec, column: Column, text: str) -> int:
    policy = project.config.risk_policy
    severity = spec.type is FieldType.SEVERITY or (spec.type is FieldType.RESIDUAL and column.path[1] == "severity")
    level = policy.severity_level(text) if severity else policy.probability_level(text)
    if level is None:
        what = "severity" if severity else "probability"
        scale = policy.severity if severity else policy.probability
        raise CellRefused(
            f"'{text}' is not a {what} level of the risk policy; levels: {', '.join(str(entry) for entry in scale)}"
        )
    return level.level


def _reviews(text: str) -> tuple[Mapping[str, str], ...]:
    example = "write one '- ref: ...' line and one '  evaluation: ...' line per anomaly"
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CellRefused(f"cannot read the anomaly list ({str(error).splitlines()[0]}); {example}") from error
    if not isinstance(data, list) or not all(
        isinstance(entry, dict)
        and set(entry) == {"ref", "evaluation"}
        and all(isinstance(v, str) and v for v in entry.values())
        for entry in data
    ):
        raise CellRefused(f"the anomaly list must be entries of ref and evaluation; {example}")
    return tuple(MappingProxyType({"ref": entry["ref"], "evaluation": entry["evaluation"]}) for entry in data)


def _extension_value(text: str, old: Any) -> Any:
    """Text stays text; a field that held a number, list or mapping is read back as YAML."""
    if old is None or isinstance(old, str):
        return text
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CellRefused(f"cannot read '{text}' as a value ({str(error).splitlines()[0]})") from error


# --------------------------------------------------------------------------- rows


@dataclass
class _Row:
    number: int
    item_id: str
    exported: Exported | None
    cells: dict[Column, tuple[int, Cell]]

    def text(self, column: Column) -> str:
        found = self.cells.get(column)
        return normalize_cell(found[1].text) if found else ""


class _Plan:
    """Reads every sheet into field changes, new items and refusals."""

    def __init__(self, project: Project, result: ImportResult) -> None:
        self.project = project
        self.policy = project.config.risk_policy
        self.result = result
        self.changes: dict[tuple[str, str], FieldChange] = {}
        self.new: dict[str, NewItem] = {}
        self.present: dict[str, set[str]] = {}  # sheet title -> ids on it (sheets that list a kind)
        self.sheet_kinds: dict[str, str] = {}

    def refuse(self, place: Place | None, message: str) -> None:
        self.result.refusals.append(Refusal(place, message))

    def note(self, message: str) -> None:
        self.result.notes.append(message)

    # ------------------------------------------------------------------ sheets and columns

    def sheet(self, sheet: Sheet) -> None:
        found = sheet_kind(sheet.title)
        if found is None:
            if normalize_header(sheet.title) not in {normalize_header(title) for title in REPORT_SHEETS}:
                self.note(f"sheet '{sheet.title}' holds no qms items: ignored")
            return
        kind = found[0]
        if not sheet.header_row:
            self.note(f"sheet '{sheet.title}' has no header row with an id column: ignored")
            return
        columns = self._columns(sheet, kind)
        id_column = next((index for index, column in columns.items() if column.role is Role.ID), None)
        if id_column is None:
            return
        rows = [self._row(sheet, number, cells, columns) for number, cells in sheet.rows]
        visible = {row.item_id for row in rows if row.item_id}
        self.present[sheet.title] = set()
        self.sheet_kinds[sheet.title] = kind
        first_row: dict[str, int] = {}
        previous: str | None = None
        for row in rows:
            place = Place(sheet.title, row.number, id_column, sheet.headers[id_column])
            if not row.item_id:
                if any(row.text(column) for column in row.cells if column.role is Role.FIELD):
                    self.refuse(
                        place,
                        f"the row has no id: give the new {_words(kind)} one, e.g. {self._next_id(kind)}",
                    )
                continue
            if row.item_id in first_row:
                self.refuse(place, f"{row.item_id} is on row {first_row[row.item_id]} already: ids must be unique")
                continue
            first_row[row.item_id] = row.number
            self.present[sheet.title].add(row.item_id)
            exported = row.exported
            if exported is not None and exported.item_id != row.item_id:
                if exported.item_id not in visible:
                    self.refuse(
                        place,
                        f"the id was changed from {exported.item_id} to {row.item_id}: links point at ids, so an "
                        "item is renamed in its YAML file (with every link to it), not here; undo the change, or "
                        "add a new row",
                    )
                    continue
                exported = None  # a copy of another row: its fingerprints are that row's
            item = self.project.items.get(row.item_id)
            if item is not None and item.kind != kind:
                self.refuse(
                    place,
                    f"{item.id} is a {_words(item.kind)} ({item.file}), not a {_words(kind)}: it "
                    f"belongs on sheet '{KINDS[item.kind].title}'",
                )
            elif item is not None:
                self._existing(sheet, row, item, exported)
            elif exported is not None:
                self.note(
                    f"{place}: {row.item_id} was removed from the YAML files after the export; its row was not imported"
                )
            else:
                self._new_row(sheet, kind, row, place, previous)
            previous = row.item_id

    def _columns(self, sheet: Sheet, kind: str) -> dict[int, Column]:
        """The sheet's columns matched to fields by header; unknown ones noted, doubled ones refused."""
        extras = extra_fields(self.project.of_kind(kind))
        also = risk_register_layout().columns if kind == "hazard" else ()
        known = column_index(kind_layout(kind, extras), also)
        columns: dict[int, Column] = {}
        taken: dict[str, int] = {}
        for index, header in sorted(sheet.headers.items()):
            column = known.get(normalize_header(header))
            if column is None and header.strip().startswith("x-"):
                column = extra_column(header.strip())
            if column is None:
                self.note(
                    f"sheet '{sheet.title}', column {get_column_letter(index)} '{header}' is not a "
                    f"field of a {_words(kind)}: ignored"
                )
                continue
            if column.key in taken:
                self.refuse(
                    Place(sheet.title, sheet.header_row, index, header),
                    f"column {get_column_letter(taken[column.key])} holds {column.key} already: keep one of the two",
                )
                continue
            taken[column.key] = index
            columns[index] = column
        if not any(column.role is Role.ID for column in columns.values()):
            self.note(f"sheet '{sheet.title}' has no id column: ignored")
        return columns

    @staticmethod
    def _row(sheet: Sheet, number: int, cells: dict[int, Cell], columns: dict[int, Column]) -> _Row:
        # every column takes part, an empty cell too: emptying a cell empties the field
        by_column = {column: (index, cells.get(index, _EMPTY)) for index, column in columns.items()}
        row = _Row(number, "", None, by_column)
        for column, (_, cell) in by_column.items():
            if column.role is Role.ID:
                row.item_id = cell.text.strip()
            elif column.role is Role.META:
                row.exported = parse_meta(cell.text)
        return row

    # ------------------------------------------------------------------ existing items

    def _existing(self, sheet: Sheet, row: _Row, item: Item, exported: Exported | None) -> None:
        residual: dict[str, tuple[int | None, Place]] = {}
        for column, (index, cell) in row.cells.items():
            if column.role in (Role.ID, Role.META):
                continue
            place = Place(sheet.title, row.number, index, sheet.headers.get(index, ""))
            current = normalize_cell(cell_text(self.policy, column, item))
            text = row.text(column)
            if text == current:
                continue
            if exported is not None:
                if fingerprint(text) == exported.fingerprint(column.key):
                    continue  # not edited in the workbook; the YAML changed since the export
                if fingerprint(current) != exported.fingerprint(column.key):
                    self.refuse(
                        place,
                        f"{item.id} {column.key} was changed in {item.file} after the export and in "
                        "the workbook too: export again and redo the edit",
                    )
                    continue
            self._edited_cell(place, column, cell, text, item, residual)
        if residual:
            self._residual(item, residual)

    def _edited_cell(
        self,
        place: Place,
        column: Column,
        cell: Cell,
        text: str,
        item: Item,
        residual: dict[str, tuple[int | None, Place]],
    ) -> None:
        if column.role is Role.COMPUTED:
            self.note(f"{place}: {column.header} is computed from other columns; the edit was not imported")
            return
        if column.role is Role.FILE:
            if text:
                self.refuse(
                    place, f"{item.id} lives in {item.file}: moving an item to another file is done in YAML, not here"
                )
            return
        old = field_value(item, column)
        if len(value_text(self.policy, column, old)) > CELL_LIMIT:
            self.refuse(
                place,
                f"the {column.key} of {item.id} is longer than a cell holds ({CELL_LIMIT:,} "
                f"characters): edit it in {item.file}",
            )
            return
        value = self._parse(place, column, text, old)
        if value is _REFUSED:
            return
        if cell.formula:
            self.note(f"{place}: the cell holds a formula; its text was taken as written, not its result")
        spec = column.spec
        if spec is not None and spec.type is FieldType.RESIDUAL:
            residual[column.path[1]] = (value, place)
            return
        if value is None and spec is not None and spec.required:
            self.refuse(place, f"{spec.name} is required for a {_words(item.kind)}: it cannot be emptied")
            return
        if value is not None and normalize_cell(value_text(self.policy, column, value)) == normalize_cell(
            value_text(self.policy, column, old)
        ):
            return  # the same value in other words (a level number for its name)
        self._change(FieldChange(item, column.field_name, REMOVE if value is None else value, place))

    def _parse(self, place: Place, column: Column, text: str, old: Any) -> Any:
        try:
            return parse_cell(self.project, column, text, old)
        except CellRefused as error:
            self.refuse(place, str(error))
            return _REFUSED

    def _residual(self, item: Item, parts: dict[str, tuple[int | None, Place]]) -> None:
        current = item.get("residual")
        values = dict(current) if isinstance(current, Mapping) else {}
        for part, (level, _) in parts.items():
            if level is None:
                values.pop(part, None)
            else:
                values[part] = level
        if values == (dict(current) if isinstance(current, Mapping) else {}):
            return
        place = next(iter(parts.values()))[1]
        if len(values) == 1:
            missing = "probability" if "severity" in values else "severity"
            self.refuse(
                place,
                f"a residual risk needs both severity and probability: give the residual {missing} too, or empty both",
            )
            return
        self._change(FieldChange(item, "residual", MappingProxyType(values) if values else REMOVE, place))

    def _change(self, change: FieldChange) -> None:
        key = (change.item.id, change.field)
        earlier = self.changes.get(key)
        if earlier is not None and _comparable(
            self.project, change.item.kind, change.field, earlier.value
        ) != _comparable(self.project, change.item.kind, change.field, change.value):
            self.refuse(
                change.place,
                f"{change.item.id} {change.field} is also changed, differently, at {earlier.place}: keep one edit",
            )
            return
        self.changes.setdefault(key, change)

    # ------------------------------------------------------------------ new items

    def _new_row(self, sheet: Sheet, kind: str, row: _Row, place: Place, previous: str | None) -> None:
        if not ID_PATTERN.fullmatch(row.item_id):
            self.refuse(
                place, f"'{row.item_id}' is not a valid id: start with a letter, then letters, digits, '_', '.' or '-'"
            )
            return
        new = self.new.get(row.item_id)
        if new is not None and new.kind != kind:
            self.refuse(place, f"{row.item_id} is added as a {_words(new.kind)} at {new.place} already")
            return
        if new is None:
            file = self._file_for(sheet.title, kind, row, previous)
            if file is None:
                return
            new = NewItem(row.item_id, kind, file, previous if self._file_of(previous) == file else None, place)
        residual: dict[str, int] = {}
        for column, (index, cell) in row.cells.items():
            text = row.text(column)
            if column.role is not Role.FIELD or not text:
                continue
            cell_place = Place(sheet.title, row.number, index, sheet.headers.get(index, ""))
            value = self._parse(cell_place, column, text, None)
            if value is _REFUSED:
                continue
            if cell.formula:
                self.note(f"{cell_place}: the cell holds a formula; its text was taken as written, not its result")
            if column.spec is not None and column.spec.type is FieldType.RESIDUAL:
                residual[column.path[1]] = value
                new.places.setdefault("residual", cell_place)
                continue
            earlier = new.fields.get(column.field_name)
            if earlier is not None and _comparable(self.project, kind, column.field_name, earlier) != _comparable(
                self.project, kind, column.field_name, value
            ):
                self.refuse(
                    cell_place,
                    f"{row.item_id} {column.field_name} is given differently at "
                    f"{new.places[column.field_name]}: keep one",
                )
                continue
            new.fields[column.field_name] = value
            new.places.setdefault(column.field_name, cell_place)
        if len(residual) == 1:
            self.refuse(
                new.places["residual"], "a residual risk needs both severity and probability: give both, or neither"
            )
        elif residual:
            new.fields["residual"] = MappingProxyType(residual)
        missing = [
            spec.name
            for spec in KINDS[kind].fields
            if spec.required and spec.missing_rule is None and spec.name not in new.fields
        ]
        if missing:
            self.refuse(place, f"the new {_words(kind)} {row.item_id} needs {', '.join(missing)}")
        self.new.setdefault(row.item_id, new)

    def _file_of(self, item_id: str | None) -> str | None:
        if item_id is None:
            return None
        if item_id in self.project.items:
            return self.project.items[item_id].file
        new = self.new.get(item_id)
        return new.file if new else None

    def _file_for(self, sheet: str, kind: str, row: _Row, previous: str | None) -> str | None:
        """The file a new item goes to: the one named in its row, else the row above's, else its kind's."""
        column = next((column for column in row.cells if column.role is Role.FILE), None)
        named = row.text(column) if column else ""
        if column is not None and named:
            return self._checked_file(named, Place(sheet, row.number, row.cells[column][0], column.header))
        above = self._file_of(previous)
        if above is not None and not self._single(above):
            return above
        counts = Counter(item.file for item in self.project.of_kind(kind) if not self._single(item.file))
        if counts:
            return counts.most_common(1)[0][0]
        folders = [source for source in self.project.config.sources if not any(char in source for char in "*?[")]
        folder = folders[0].rstrip("/") if folders else "."
        return f"{folder}/{KINDS[kind].title.lower().replace(' ', '_')}.yaml".removeprefix("./")

    def _single(self, path: str) -> bool:
        """Whether a project file holds one item (a mapping with id) rather than a list."""
        return sum(1 for item in self.project if item.file == path) == 1 and _is_single_item_file(
            self.project.root / path
        )

    def _checked_file(self, named: str, place: Place) -> str | None:
        path = named.replace("\\", "/").strip().removeprefix("./")
        if path.startswith("/") or ".." in path.split("/") or not path.endswith((".yaml", ".yml")):
            self.refuse(
                place, f"'{named}' is not a YAML file inside the project: name one like traceability/tests.yaml"
            )
            return None
        if path not in self.project.files and not _inside_sources(self.project, path):
            sources = ", ".join(self.project.config.sources)
            self.refuse(place, f"{path} is not under the project's sources ({sources}): name a file there")
            return None
        if self._single(path):
            self.refuse(place, f"{path} holds a single item, not a list: name a file with kind and items")
            return None
        return path

    def _next_id(self, kind: str) -> str:
        """A free id with the kind's usual prefix and numbering, to suggest."""
        prefix = KINDS[kind].prefix
        numbers = [
            (int(match.group(1)), len(match.group(1)))
            for item_id in [*self.project.items, *self.new]
            if (match := re.fullmatch(re.escape(prefix) + r"-(\d+)", item_id))
        ]
        number, width = (max(numbers)[0] + 1, max(numbers)[1]) if numbers else (1, 3)
        return f"{prefix}-{number:0{width}d}"

    # ------------------------------------------------------------------ after every sheet

    def finish(self, delete: bool) -> list[Item]:
        """Missing rows, links, deletions: checked once every sheet has been read; the items to delete."""
        missing: dict[str, list[str]] = {}
        for title, ids in self.present.items():
            for item in self.project.of_kind(self.sheet_kinds[title]):
                if item.id not in ids:
                    missing.setdefault(item.id, []).append(title)
        self.result.missing = [
            MissingRow(self.project.items[item_id], tuple(sheets)) for item_id, sheets in missing.items()
        ]
        deleted = [self.project.items[item_id] for item_id in missing] if delete else []
        deleted_ids = {item.id for item in deleted}
        self._check_links(deleted_ids)
        for item in deleted:
            holders = [
                f"{link.source} ({link.field})"
                for link in self.project.backlinks.get(item.id, ())
                if link.source not in deleted_ids and self._still_links(link.source, link.field, item.id)
            ]
            if holders:
                self.refuse(
                    Place(missing[item.id][0]),
                    f"{item.id} would be deleted but is still linked from {', '.join(holders)}: "
                    "remove those links too, or keep its row",
                )
        return deleted

    def _still_links(self, source: str, field_name: str, target: str) -> bool:
        change = self.changes.get((source, field_name))
        if change is None:
            return True
        return change.value is not REMOVE and target in change.value

    def _check_links(self, deleted: set[str]) -> None:
        kinds = {item_id: item.kind for item_id, item in self.project.items.items() if item_id not in deleted}
        kinds.update({item_id: new.kind for item_id, new in self.new.items()})
        targets: list[tuple[str, str, tuple[str, ...], Place]] = []
        for change in self.changes.values():
            spec = KINDS[change.item.kind].field(change.field) if change.item.kind in KINDS else None
            if spec is not None and spec.is_link and change.value is not REMOVE:
                old = set(change.item.links(change.field))
                targets.append(
                    (change.item.kind, change.field, tuple(t for t in change.value if t not in old), change.place)
                )
        for new in self.new.values():
            for name, value in new.fields.items():
                spec = KINDS[new.kind].field(name)
                if spec is not None and spec.is_link:
                    targets.append((new.kind, name, tuple(value), new.places[name]))
        for kind, name, ids, place in targets:
            spec = KINDS[kind].field(name)
            assert spec is not None
            for target in ids:
                if target not in kinds:
                    hint = " (it is deleted by this import)" if target in deleted else ""
                    self.refuse(
                        place, f"{target} is not an item of the project{hint}: link to an existing id, or add its row"
                    )
                elif spec.targets and kinds[target] not in spec.targets:
                    allowed = ", ".join(spec.targets)
                    self.refuse(place, f"{target} is a {_words(kinds[target])}; {name} links to {allowed}")


_REFUSED = object()
_EMPTY = Cell("")


def _words(kind: str) -> str:
    """``software_requirement`` as a reader says it: software requirement."""
    return kind.replace("_", " ")


def _comparable(project: Project, kind: str, name: str, value: Any) -> str:
    """A value's text for comparing two edits of one field."""
    if value is REMOVE or value is None:
        return ""
    spec = KINDS[kind].field(name) if kind in KINDS else None
    if spec is not None and spec.type is FieldType.RESIDUAL:
        return repr(sorted(dict(value).items()))
    column = Column(name, Role.FIELD, (name,), spec)
    return normalize_cell(value_text(project.config.risk_policy, column, value) if spec else extension_text(value))


def _is_single_item_file(path: Path) -> bool:
    try:
        document = parse_yaml(path.read_text(encoding="utf-8-sig"), path.name)
    except (OSError, UnicodeDecodeError):
        return False
    root = document.root
    return isinstance(root, yaml.MappingNode) and not any(
        getattr(key, "value", None) == "items" for key, _ in root.value
    )


def _inside_sources(project: Project, path: str) -> bool:
    """Whether a file at ``path`` is (or, once written, would be) read as part of the project."""
    config = project.config
    probe = project.root / path
    if probe.exists():
        files, _ = source_files(project.root, config)
        return probe.resolve() in files
    for source in config.sources:
        if glob.has_magic(source):
            if fnmatch.fnmatchcase(path, source) or fnmatch.fnmatchcase(path, source.replace("**/", "")):
                return True
        elif source in (".", "./") or path.startswith(source.rstrip("/") + "/"):
            return True
    return False


# --------------------------------------------------------------------------- writing


class _Writer:
    """Turns the plan into new file texts, and checks each one reads back exactly as planned."""

    def __init__(self, project: Project, result: ImportResult) -> None:
        self.project = project
        self.result = result
        self.editors: dict[str, ItemFileEditor] = {}
        self.places: dict[str, Place] = {}
        self.texts: dict[str, str | None] = {}  # each file's text as read

    def editor(self, path: str, kind: str | None, place: Place) -> ItemFileEditor | None:
        found = self.editors.get(path)
        if found is not None:
            return found
        file = self.project.root / path
        try:
            text = file.read_bytes().decode("utf-8") if file.exists() else None
            found = ItemFileEditor(path, text, self.project.config.risk_policy, kind)
        except (OSError, UnicodeDecodeError, EditError) as error:
            self.result.refusals.append(Refusal(place, str(error)))
            return None
        self.editors[path] = found
        self.places[path] = place
        self.texts[path] = text
        return found

    def plan(self, changes: list[FieldChange], new_items: list[NewItem], deleted: list[Item]) -> None:
        for change in changes:
            editor = self.editor(change.item.file, None, change.place)
            if editor is not None:
                editor.set_field(change.item.id, change.field, change.value)
        for new in new_items:
            editor = self.editor(new.file, new.kind, new.place)
            if editor is None:
                continue
            try:
                editor.add_item(new.item_id, new.kind, _ordered(new), new.after)
            except EditError as error:
                self.result.refusals.append(Refusal(new.place, str(error)))
        for item in deleted:
            editor = self.editor(item.file, None, Place(""))
            if editor is not None:
                editor.delete_item(item.id)

    def render(self, changes: list[FieldChange], new_items: list[NewItem], deleted: list[Item]) -> None:
        for path, editor in self.editors.items():
            try:
                text = editor.render()
            except EditError as error:
                self.result.refusals.append(Refusal(self.places[path], str(error)))
                continue
            old = self.texts[path]
            self._verify(path, old, text, changes, new_items, deleted)
            if text != old:
                self.result.files[path] = (old, text)

    def _verify(
        self,
        path: str,
        old: str | None,
        text: str | None,
        changes: list[FieldChange],
        new_items: list[NewItem],
        deleted: list[Item],
    ) -> None:
        """Read the new text as ``qms check`` will, and compare with the plan: every field, no new finding."""
        if text is None:
            return
        policy = self.project.config.risk_policy
        expected: dict[str, tuple[str, dict[str, Any]]] = {}
        gone = {item.id for item in deleted}
        for item in self.project:
            if item.file == path and item.id not in gone:
                expected.setdefault(item.id, (item.kind, dict(item.fields)))
        for change in changes:
            if change.item.file == path:
                fields = expected[change.item.id][1]
                if change.value is REMOVE:
                    fields.pop(change.field, None)
                else:
                    fields[change.field] = change.value
        for new in new_items:
            if new.file == path:
                expected[new.item_id] = (new.kind, dict(new.fields))
        document = parse_yaml(text.removeprefix("\ufeff"), path)
        found = {item.id: item for item in read_items(document, policy)}
        place = self.places.get(path)
        for finding in _new_findings(old, document.findings, path, policy):
            self.result.refusals.append(
                Refusal(place, f"the edit would give {finding.location}: {finding.rule} {finding.message}")
            )
        if set(found) != set(expected):
            self.result.refusals.append(
                Refusal(
                    place,
                    f"writing {path} went wrong (items {sorted(set(found) ^ set(expected))}); nothing was written",
                )
            )
            return
        for item_id, (kind, fields) in expected.items():
            item = found[item_id]
            for name in set(fields) | set(item.fields):
                if _comparable(self.project, kind, name, fields.get(name)) != _comparable(
                    self.project, kind, name, item.fields.get(name)
                ):
                    self.result.refusals.append(
                        Refusal(
                            place,
                            f"writing {path} went wrong: {item_id} {name} would not read back as "
                            "edited; nothing was written",
                        )
                    )

    def write(self) -> None:
        for path, (_, text) in self.result.files.items():
            target = self.project.root / path
            if text is None:
                target.unlink()
            else:
                atomic.write_text(target, text)


def _new_findings(old: str | None, findings: list[Finding], path: str, policy: RiskPolicy) -> list[Finding]:
    """Findings of the new text that the old text did not have (counted per rule and item)."""
    remaining: Counter[tuple[str, str | None]] = Counter()
    if old is not None:
        before = parse_yaml(old.removeprefix("\ufeff"), path)
        read_items(before, policy)
        remaining.update((finding.rule, finding.item) for finding in before.findings)
    new = []
    for finding in findings:
        key = (finding.rule, finding.item)
        if remaining[key] > 0:
            remaining[key] -= 1
        else:
            new.append(finding)
    return new


def _ordered(new: NewItem) -> dict[str, Any]:
    """A new item's fields in schema order, extension fields after."""
    order = KINDS[new.kind].field_names
    known = [name for name in order if name in new.fields]
    return {name: new.fields[name] for name in [*known, *(name for name in new.fields if name not in order)]}


def import_workbook(project: Project, path: Path, dry_run: bool = False, delete: bool = False) -> ImportResult:
    """Take a workbook's edits into the project's YAML files (all or nothing; nothing with ``dry_run``).

    Raises :class:`qms.excel.reading.WorkbookError` when the file is not a readable workbook.
    """
    result = ImportResult(path)
    plan = _Plan(project, result)
    for sheet in read_workbook(path, wanted=lambda title: sheet_kind(title) is not None):
        plan.sheet(sheet)
    deleted = plan.finish(delete)
    result.changes = list(plan.changes.values())
    result.new_items = list(plan.new.values())
    result.deleted = deleted
    if result.refusals:
        return result
    writer = _Writer(project, result)
    writer.plan(result.changes, result.new_items, deleted)
    if not result.refusals:
        writer.render(result.changes, result.new_items, deleted)
    if result.refusals:
        result.files.clear()
        return result
    if not dry_run:
        writer.write()
        result.written = bool(result.files)
    return result
