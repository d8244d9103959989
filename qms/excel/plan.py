"""The rows of a workbook as a plan: field changes, new items, rows missing, and refused cells.

A cell counts as edited when its text differs from what ``qms export`` writes for the item now;
when the row still carries the fingerprints of the export, a cell that matches its fingerprint is
left alone even if the YAML changed since (the YAML edit wins; the workbook did not touch it).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from openpyxl.utils import get_column_letter

from qms.excel.cells import CellRefused, comparable, parse_cell
from qms.excel.changes import FieldChange, ImportResult, MissingRow, NewItem, Place, Refusal
from qms.excel.layout import (
    CELL_LIMIT,
    EXPORTED_SHEET,
    META_HEADER,
    Column,
    Exported,
    Role,
    cell_text,
    column_index,
    extra_column,
    extra_fields,
    field_value,
    fingerprint,
    is_report_sheet,
    kind_layout,
    normalize_cell,
    normalize_header,
    parse_meta,
    risk_register_layout,
    sheet_kind,
    value_text,
)
from qms.excel.reading import Cell, Sheet
from qms.excel.targets import TargetRefused, checked_target
from qms.excel.yamledit import REMOVE
from qms.model import Item, Project
from qms.schema import ID_PATTERN, KINDS, FieldType
from qms.yamlfile import parse_yaml


@dataclass
class _Row:
    number: int
    item_id: str
    exported: Exported | None
    cells: dict[Column, tuple[int, Cell]]

    def text(self, column: Column) -> str:
        found = self.cells.get(column)
        return normalize_cell(found[1].text) if found else ""


def _paragraphs_in_an_entry(column: Column, value: Any) -> bool:
    """Whether a list of texts (test steps) has an entry of several paragraphs: its cell then shows the
    entries separated by blank lines too, and an edited cell could not be split back as it was."""
    if column.spec is None or column.spec.type is not FieldType.TEXTS or not isinstance(value, (list, tuple)):
        return False
    return any(re.search(r"\n\s*\n", str(entry).strip()) for entry in value)


class Plan:
    """Reads every sheet into field changes, new items and refusals."""

    def __init__(self, project: Project, result: ImportResult) -> None:
        self.project = project
        self.policy = project.config.risk_policy
        self.result = result
        self.changes: dict[tuple[str, str], FieldChange] = {}
        self.new: dict[str, NewItem] = {}
        self.present: dict[str, set[str]] = {}  # sheet title -> ids on it (sheets that list a kind)
        self.sheet_kinds: dict[str, str] = {}
        self.targets: dict[str, str | TargetRefused] = {}  # a file named in a row -> checked path, or why not
        #: the rows the export wrote, by sheet (:data:`EXPORTED_SHEET`); None: the workbook does not say
        self.exported: dict[str, set[str]] | None = None
        self.titles: list[str] = []  # every sheet of the workbook

    def refuse(self, place: Place | None, message: str) -> None:
        self.result.refusals.append(Refusal(place, message))

    def note(self, message: str) -> None:
        self.result.notes.append(message)

    # ------------------------------------------------------------------ sheets and columns

    def sheet(self, sheet: Sheet) -> None:
        self.titles.append(sheet.title)
        if sheet.title == EXPORTED_SHEET:
            self._exported_rows(sheet)
            return
        found = sheet_kind(sheet.title)
        if found is None:
            if not is_report_sheet(sheet.title):
                self._unknown_sheet(sheet)
            return
        kind = found[0]
        if not sheet.header_row:
            self.note(f"sheet '{sheet.title}' has no header row with an id column: ignored")
            return
        columns = self._columns(sheet, kind)
        filled = (index for _, cells in sheet.rows for index, cell in cells.items() if cell.text)
        unheaded = Counter(index for index in filled if index not in sheet.headers)
        for index, count in sorted(unheaded.items()):
            self.note(
                f"sheet '{sheet.title}', column {get_column_letter(index)} has no header: its {count} filled "
                "cell(s) were not imported; head the column with a field's name to import them"
            )
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
        if _paragraphs_in_an_entry(column, old):
            self.refuse(
                place,
                f"an entry of the {column.key} of {item.id} holds a blank line, and in a cell blank lines "
                f"separate the entries: edit it in {item.file}",
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
        if earlier is not None and comparable(
            self.project, change.item.kind, change.field, earlier.value
        ) != comparable(self.project, change.item.kind, change.field, change.value):
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
            if earlier is not None and comparable(self.project, kind, column.field_name, earlier) != comparable(
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
        default = f"{folder}/{KINDS[kind].title.lower().replace(' ', '_')}.yaml".removeprefix("./")
        try:
            return self._target(default)
        except TargetRefused as error:
            self.refuse(
                Place(sheet, row.number),
                f"the new {_words(kind)} {row.item_id} has no file to go to: {error}; "
                "or name its file in the file column",
            )
            return None

    def _single(self, path: str) -> bool:
        """Whether a project file holds one item (a mapping with id) rather than a list."""
        return sum(1 for item in self.project if item.file == path) == 1 and _is_single_item_file(
            self.project.root / path
        )

    def _checked_file(self, named: str, place: Place) -> str | None:
        try:
            path = self._target(named)
        except TargetRefused as error:
            self.refuse(place, str(error))
            return None
        if self._single(path):
            self.refuse(place, f"{path} holds a single item, not a list: name a file with kind and items")
            return None
        return path

    def _target(self, named: str) -> str:
        """``named`` checked as a file to write (once per name). Raises :class:`TargetRefused`."""
        found = self.targets.get(named)
        if found is None:
            try:
                found = checked_target(self.project, named)
            except TargetRefused as error:
                found = error
            self.targets[named] = found
        if isinstance(found, TargetRefused):
            raise found
        return found

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

    def _unknown_sheet(self, sheet: Sheet) -> None:
        """A sheet not named after a kind: a person's own (ignored), or a sheet of items renamed (refused:
        its edits would be left out without a word)."""
        meta = next((index for index, header in sheet.headers.items() if normalize_header(header) == _META), None)
        if meta is None:
            self.note(f"sheet '{sheet.title}' is not named after a kind of item: ignored")
            return
        exported = (parse_meta(cells[meta].text) for _, cells in sheet.rows if meta in cells)
        item = next((self.project.items.get(found.item_id) for found in exported if found is not None), None)
        named = f" ('{KINDS[item.kind].title}')" if item is not None and item.kind in KINDS else ""
        self.refuse(
            Place(sheet.title),
            f"the sheet holds rows qms exported, but its name is not a kind's: give it back its name{named} to "
            "import its edits",
        )

    def _exported_rows(self, sheet: Sheet) -> None:
        """The rows the export wrote, from its hidden sheet: (sheet title, id) per row."""
        self.exported = {}
        for _, cells in sheet.rows:
            title, item_id = (normalize_cell(cells[column].text) if column in cells else "" for column in (1, 2))
            if title and item_id:
                self.exported.setdefault(title, set()).add(item_id)

    def finish(self, delete: bool) -> list[Item]:
        """Missing rows, links, deletions: checked once every sheet has been read; the items to delete.

        An item with no row on a sheet of its kind is missing from the workbook when the export
        wrote its row (its hidden list says so): the row was deleted. One the export did not write
        was added to the project after it, and is kept whatever ``delete`` says. Without that list
        (a workbook of an older qms, or the list deleted), rows are not deleted."""
        for title in sorted(title for title in self.exported or () if title not in self.titles):
            self.note(f"the workbook has no sheet '{title}' (it was exported with one): its items stay as they are")
        missing: dict[str, list[str]] = {}
        later: dict[str, list[str]] = {}
        for title, ids in self.present.items():
            for item in self.project.of_kind(self.sheet_kinds[title]):
                if item.id in ids:
                    continue
                if self.exported is not None and item.id not in self.exported.get(title, ()):
                    later.setdefault(item.id, []).append(title)
                else:
                    missing.setdefault(item.id, []).append(title)
        self.result.missing = [
            MissingRow(self.project.items[item_id], tuple(sheets)) for item_id, sheets in missing.items()
        ]
        self.result.added_since = [
            MissingRow(self.project.items[item_id], tuple(sheets)) for item_id, sheets in later.items()
        ]
        if delete and missing and self.exported is None:
            self.refuse(
                None,
                f"--delete-missing: the workbook does not list the rows it was exported with (its hidden sheet "
                f"'{EXPORTED_SHEET}' is gone, or an older qms wrote it), so a deleted row cannot be told from an "
                "item added since the export; export a fresh workbook, delete the rows there, and import it",
            )
            return []
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


#: the hidden column of the rows an export wrote, as a header is compared
_META = normalize_header(META_HEADER)


def _words(kind: str) -> str:
    """``software_requirement`` as a reader says it: software requirement."""
    return kind.replace("_", " ")


def _is_single_item_file(path: Path) -> bool:
    try:
        document = parse_yaml(path.read_text(encoding="utf-8-sig"), path.name)
    except (OSError, UnicodeDecodeError):
        return False
    root = document.root
    return isinstance(root, yaml.MappingNode) and not any(
        getattr(key, "value", None) == "items" for key, _ in root.value
    )
