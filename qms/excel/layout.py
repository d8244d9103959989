"""The workbook's item sheets and columns, and the text of each cell: one definition for export and import.

Columns derive from the schema (:data:`qms.schema.KINDS`): a sheet per kind holds ``id``, every
field of the kind under its YAML name, the item's ``x-`` and other extra fields, and the ``file``
it lives in. The risk register is a second view of the hazards, with the headers risk engineers
use and the risk classes computed from the policy. Headers are matched loosely on import
(``Derives from`` finds ``derives_from``), so a workbook re-saved or re-arranged by hand still reads.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from qms.model import Item
from qms.risk import RiskClass, RiskPolicy, hazard_risk
from qms.schema import KIND_ORDER, KINDS, FieldSpec, FieldType

#: the most characters one spreadsheet cell holds
CELL_LIMIT = 32_767
ID_HEADER = "id"
FILE_HEADER = "file"
#: hidden column: the id a row was exported with and a fingerprint of each cell's exported text
META_HEADER = "qms-exported"
META_VERSION = "v1"
RISK_REGISTER = "Risk register"
SUMMARY = "Summary"
DESIGN_TRACE = "Trace matrix"
RISK_TRACE = "Risk trace"
#: the hidden sheet listing each row an export wrote (item sheet, id): what tells, at import, a
#: row deleted from the workbook from an item added to the project after the export
EXPORTED_SHEET = "qms-exported rows"
#: sheets qms writes for reading only; import passes over them without a note
REPORT_SHEETS = (SUMMARY, DESIGN_TRACE, RISK_TRACE, EXPORTED_SHEET)

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class Role(enum.Enum):
    ID = "id"
    FIELD = "field"
    FILE = "file"
    COMPUTED = "computed"  # derived from other fields; never imported
    META = "meta"


@dataclass(frozen=True, slots=True)
class Column:
    """One column of an item sheet: what it holds and how it is headed."""

    header: str
    role: Role
    #: the field path in the item: ("title",), ("residual", "severity"); empty for id, file, meta
    path: tuple[str, ...] = ()
    spec: FieldSpec | None = None
    aliases: tuple[str, ...] = ()
    description: str = ""

    @property
    def key(self) -> str:
        """The column's name in the fingerprints: its field path, its header if computed, or its role."""
        if self.path:
            return ".".join(self.path)
        if self.role is Role.COMPUTED:
            return normalize_header(self.header).replace(" ", "_")
        return str(self.role.value)

    @property
    def field_name(self) -> str:
        return self.path[0] if self.path else ""

    @property
    def text_like(self) -> bool:
        """Long prose: shown wide and wrapped."""
        return self.spec is not None and self.spec.type in (FieldType.TEXT, FieldType.TEXTS, FieldType.ANOMALY_REVIEWS)


@dataclass(frozen=True, slots=True)
class SheetLayout:
    title: str
    kind: str
    columns: tuple[Column, ...]


def normalize_header(text: str) -> str:
    """``Derives from``, ``derives_from`` and ``DERIVES-FROM`` all become ``derives from``."""
    return " ".join(re.split(r"[\s_.\-:]+", text.strip().casefold())).strip()


def is_report_sheet(title: str) -> bool:
    """Whether a sheet is one qms writes for reading only (:data:`REPORT_SHEETS`), however its title is spelt."""
    return normalize_header(title) in _REPORT_HEADERS


_REPORT_HEADERS = frozenset(normalize_header(title) for title in REPORT_SHEETS)


# --------------------------------------------------------------------------- columns

_ID_COLUMN = Column(ID_HEADER, Role.ID, aliases=("ID",), description="Unique id of the item. Give a new row a new id.")
_FILE_COLUMN = Column(
    FILE_HEADER,
    Role.FILE,
    aliases=("source file", "yaml file"),
    description="The YAML file the item lives in. For a new row: where to add it (empty: next to the row above).",
)
_META_COLUMN = Column(META_HEADER, Role.META, description="Written by qms export to detect edits; leave it alone.")

#: other names a column is known by (the risk register's headers, and everyday words)
_ALIASES: dict[tuple[str, str], tuple[str, ...]] = {
    ("hazard", "severity"): ("Initial severity", "S"),
    ("hazard", "probability"): ("Initial probability", "P"),
    ("hazard", "controls"): ("Risk controls", "Risk control measures"),
    ("hazard", "residual.severity"): ("Residual severity", "Residual S"),
    ("hazard", "residual.probability"): ("Residual probability", "Residual P"),
    ("hazard", "benefit_risk"): ("Benefit-risk", "Benefit-risk analysis"),
    ("hazard", "arising_from"): ("Arising from control",),
}
INITIAL_RISK = Column(
    "Initial risk",
    Role.COMPUTED,
    aliases=("Initial risk class",),
    description="Computed from severity and probability by the risk policy.",
)
RESIDUAL_RISK = Column(
    "Residual risk",
    Role.COMPUTED,
    aliases=("Residual risk class",),
    description="Computed from the residual severity and probability by the risk policy.",
)


def _field_columns(kind: str, spec: FieldSpec, header: str | None = None) -> list[Column]:
    if spec.type is FieldType.RESIDUAL:
        return [
            Column(
                f"{header} {part}" if header else f"{spec.name}.{part}",
                Role.FIELD,
                (spec.name, part),
                spec,
                _ALIASES.get((kind, f"{spec.name}.{part}"), ()),
                f"{part.capitalize()} after the risk controls (level name or number of the risk policy).",
            )
            for part in ("severity", "probability")
        ]
    return [
        Column(
            header or spec.name, Role.FIELD, (spec.name,), spec, _ALIASES.get((kind, spec.name), ()), spec.description
        )
    ]


def extra_column(name: str) -> Column:
    """A field outside the schema: an ``x-`` extension, or an unknown field kept from the YAML."""
    return Column(name, Role.FIELD, (name,), None, (), "Extension field, carried as written.")


def kind_layout(kind: str, extras: Sequence[str] = ()) -> SheetLayout:
    """The sheet of one kind: id, every field in schema order, the extra fields, file, fingerprints."""
    spec = KINDS[kind]
    columns = [_ID_COLUMN]
    for field_spec in spec.fields:
        columns += _field_columns(kind, field_spec)
    columns += [extra_column(name) for name in extras]
    columns += [_FILE_COLUMN, _META_COLUMN]
    return SheetLayout(spec.title, kind, tuple(columns))


def risk_register_layout() -> SheetLayout:
    """Hazards laid out as a risk register: hazard -> situation -> harm, risk before and after controls."""
    hazard = KINDS["hazard"]

    def field(name: str, header: str) -> list[Column]:
        spec = hazard.field(name)
        assert spec is not None, name  # the schema defines every hazard field named here
        return _field_columns("hazard", spec, header)

    columns = [
        Column("ID", Role.ID, aliases=(ID_HEADER,), description=_ID_COLUMN.description),
        *field("category", "Category"),
        *field("title", "Title"),
        *field("hazard", "Hazard"),
        *field("sequence_of_events", "Sequence of events"),
        *field("hazardous_situation", "Hazardous situation"),
        *field("harm", "Harm"),
        *field("severity", "Initial severity"),
        *field("probability", "Initial probability"),
        INITIAL_RISK,
        *field("controls", "Risk controls"),
        *field("residual", "Residual"),
        RESIDUAL_RISK,
        *field("benefit_risk", "Benefit-risk"),
        _FILE_COLUMN,
        _META_COLUMN,
    ]
    return SheetLayout(RISK_REGISTER, "hazard", tuple(columns))


def extra_fields(items: Iterable[Item]) -> list[str]:
    """Fields the items carry beyond their kind's schema, in order of first appearance."""
    found: dict[str, None] = {}
    schema: dict[str, frozenset[str]] = {}  # each kind's field names, looked up once (10,000 items, 50,000 fields)
    for item in items:
        names = schema.get(item.kind)
        if names is None:
            spec = KINDS.get(item.kind)
            names = schema[item.kind] = frozenset(spec.field_names if spec is not None else ())
        for name in item.fields:
            if name not in names:
                found.setdefault(name, None)
    return list(found)


def sheet_kind(title: str) -> tuple[str, bool] | None:
    """(kind, is the risk register) of a sheet title, or None for a sheet that holds no items."""
    wanted = normalize_header(title)
    if wanted == normalize_header(RISK_REGISTER):
        return "hazard", True
    for kind in KIND_ORDER:
        spec = KINDS[kind]
        if wanted in (normalize_header(spec.title), normalize_header(spec.name)):
            return kind, False
    return None


def column_index(layout: SheetLayout, also: Sequence[Column] = ()) -> dict[str, Column]:
    """Every name a column may be headed by (normalized) -> the column."""
    index: dict[str, Column] = {}
    for column in (*layout.columns, *also):
        for name in (column.header, column.key, *column.aliases):
            index.setdefault(normalize_header(name), column)
    return index


# --------------------------------------------------------------------------- cell text


def clean_text(text: str) -> str:
    """Text as a cell can hold it: characters XML forbids made visible, cut at the cell limit."""
    if _ILLEGAL.search(text):
        text = _ILLEGAL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)
    return text[:CELL_LIMIT]


def normalize_cell(text: str) -> str:
    """What counts when comparing a cell: line ends unified, trailing space and blank lines dropped."""
    return text.replace("\r\n", "\n").replace("\r", "\n").rstrip()


def fingerprint(text: str) -> str:
    """A short digest of a cell's normalized text, to tell an edited cell from one left alone."""
    return hashlib.blake2b(normalize_cell(text).encode("utf-8"), digest_size=4).hexdigest()


def level_name(policy: RiskPolicy, spec_type: FieldType, value: Any) -> str:
    if not isinstance(value, int) or isinstance(value, bool):
        return "" if value is None else str(value)
    return policy.severity_name(value) if spec_type is FieldType.SEVERITY else policy.probability_name(value)


def value_text(policy: RiskPolicy, column: Column, value: Any) -> str:
    """The full text of a field value in a cell (before :func:`clean_text`)."""
    if value is None:
        return ""
    spec = column.spec
    if spec is None:
        return extension_text(value)
    match spec.type:
        case FieldType.TEXT | FieldType.STRING | FieldType.CHOICE:
            return str(value).rstrip("\n")
        case FieldType.LINKS:
            return ", ".join(value)
        case FieldType.STRINGS:
            return "\n".join(value)
        case FieldType.TEXTS:
            entries = [str(entry).rstrip("\n") for entry in value]
            return ("\n\n" if any("\n" in entry for entry in entries) else "\n").join(entries)
        case FieldType.SEVERITY | FieldType.PROBABILITY:
            return level_name(policy, spec.type, value)
        case FieldType.RESIDUAL:
            part = column.path[1]
            level_type = FieldType.SEVERITY if part == "severity" else FieldType.PROBABILITY
            return level_name(policy, level_type, value.get(part)) if isinstance(value, Mapping) else ""
        case FieldType.ANOMALY_REVIEWS:
            return reviews_text(value)
    return str(value)  # pragma: no cover - every field type is matched above


def reviews_text(value: Any) -> str:
    """SOUP anomaly reviews as a YAML list in the cell: readable, and exact to read back. A text's
    final line break (a block scalar's) is layout, as for every text in a cell: not shown, and
    kept in the file when the text is edited."""
    entries = [
        {key: text.rstrip("\n") if isinstance(text, str) else text for key, text in dict(entry).items()}
        for entry in value
    ]
    if not entries:
        return ""
    return yaml.safe_dump(entries, allow_unicode=True, sort_keys=False, width=10**6, default_flow_style=False).rstrip(
        "\n"
    )


def extension_text(value: Any) -> str:
    """An ``x-`` field's value: text as it is; numbers, lists and mappings in YAML flow style."""
    if isinstance(value, str):
        return value.rstrip("\n")
    text = yaml.safe_dump(value, allow_unicode=True, sort_keys=False, width=10**6, default_flow_style=True)
    return text.removesuffix("\n").removesuffix("\n...").rstrip("\n")


def field_value(item: Item, column: Column) -> Any:
    """The item's value for a column's field (the whole mapping for a residual part)."""
    return item.fields.get(column.field_name)


def cell_text(policy: RiskPolicy, column: Column, item: Item) -> str:
    """The text of an item's cell in a column, as exported (computed columns included)."""
    if column.role is Role.ID:
        return item.id
    if column.role is Role.FILE:
        return item.file
    if column.role is Role.COMPUTED:
        risk = hazard_risk(policy, item)
        estimate = risk.initial if column is INITIAL_RISK else risk.residual
        return estimate.risk_class.value if estimate else ""
    if column.role is Role.META:
        return ""
    return clean_text(value_text(policy, column, field_value(item, column)))


def risk_class_of(text: str) -> RiskClass | None:
    try:
        return RiskClass(text)
    except ValueError:
        return None


EMPTY_FINGERPRINT = fingerprint("")


def meta_text(item_id: str, fingerprints: Mapping[str, str]) -> str:
    """The hidden cell: ``v1 ID key=fingerprint ...`` (cells exported empty left out)."""
    entries = (f"{key}={digest}" for key, digest in fingerprints.items() if digest != EMPTY_FINGERPRINT)
    return " ".join([META_VERSION, item_id, *entries])


@dataclass(frozen=True, slots=True)
class Exported:
    """What the hidden cell says about a row: the id it was exported with, and its cells' fingerprints."""

    item_id: str
    fingerprints: Mapping[str, str]

    def fingerprint(self, key: str) -> str:
        return self.fingerprints.get(key, EMPTY_FINGERPRINT)


def parse_meta(text: str) -> Exported | None:
    """The hidden cell of a row, or None when it is not one of ours."""
    parts = text.split()
    if len(parts) < 2 or parts[0] != META_VERSION:
        return None
    return Exported(parts[1], dict(part.split("=", 1) for part in parts[2:] if "=" in part))
