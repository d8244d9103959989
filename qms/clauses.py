"""The clause index as data: which clauses of IEC 62304, ISO 14971 and ISO 13485 ask for a record,
for which software safety classes, and where the technical file holds that record.

The table ships as ``qms/data/clauses.yaml`` (short descriptions in our own words, never the
standards' text). Projects whose quality system reads a clause differently point the Sphinx
option ``qms_clause_table`` at their own copy.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from qms.yamlfile import load_shipped

#: Editions of IEC 62304 the table knows; the amended one is the default.
IEC62304_EDITIONS = ("2006", "2006+A1:2015")
DEFAULT_EDITION = "2006+A1:2015"
_CLASSES = frozenset("ABC")


class ClauseTableError(ValueError):
    """The clause table is malformed: the message names the entry and what is wrong."""


@dataclass(frozen=True, slots=True)
class Standard:
    id: str
    name: str
    title: str


#: What a condition of a clause's ``evidence`` can name.
CONDITION_KINDS = ("kind", "config", "field", "rule", "document", "approved")


@dataclass(frozen=True, slots=True)
class Condition:
    """One record a clause needs: ``kind: problem_report`` (at least one item of that kind),
    ``config: plans.development.toolchain`` (a section of qms.yaml given), ``field:
    software_requirement.type`` (every item of the kind has the field), ``rule: T103`` (no
    finding of that rule) or ``document: SMP`` (a document of the technical file)."""

    kind: str
    value: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.value}"


@dataclass(frozen=True, slots=True)
class Clause:
    """One clause that asks for a record."""

    standard: str
    clause: str
    topic: str
    record: str
    classes: str  # IEC 62304 safety classes it applies to ("ABC" for the other standards)
    where: tuple[str, ...]  # "document#label" of the sections holding the record
    editions: tuple[tuple[str, str], ...] = ()  # (edition, classes) where editions differ
    note: str = ""
    evidence: tuple[Condition, ...] = ()  # the records that show the clause is met

    def classes_in(self, edition: str) -> str | None:
        """The classes the clause applies to in an IEC 62304 edition; None if the edition lacks it."""
        for name, classes in self.editions:
            if name == edition:
                return classes or None
        return self.classes

    def applies(self, safety_class: str, edition: str = DEFAULT_EDITION) -> bool:
        """Whether a software system of ``safety_class`` needs this clause's record."""
        classes = self.classes_in(edition)
        return classes is not None and safety_class in classes

    @property
    def key(self) -> str:
        return f"{self.standard} {self.clause}"

    @property
    def sort_key(self) -> tuple[int, ...]:
        return tuple(int(part) if part.isdigit() else 0 for part in self.clause.split("."))


@dataclass(frozen=True, slots=True)
class ClauseTable:
    standards: tuple[Standard, ...]
    clauses: tuple[Clause, ...]

    def standard(self, standard_id: str) -> Standard:
        return next(standard for standard in self.standards if standard.id == standard_id)

    def of(self, standard_id: str) -> tuple[Clause, ...]:
        return tuple(clause for clause in self.clauses if clause.standard == standard_id)

    def find(self, standard_id: str, number: str) -> Clause | None:
        return next((c for c in self.clauses if c.standard == standard_id and c.clause == number), None)

    def in_edition(self, edition: str) -> tuple[Clause, ...]:
        """The clauses present in an IEC 62304 edition (the other standards' clauses always)."""
        return tuple(c for c in self.clauses if c.standard != "iec62304" or c.classes_in(edition) is not None)


def _text(entry: dict[str, Any], name: str, where: str, required: bool = True) -> str:
    value = entry.get(name, "")
    if value is None or (required and not value):
        raise ClauseTableError(f"{where}: `{name}` is required")
    if not isinstance(value, (str, int, float)):
        raise ClauseTableError(f"{where}: `{name}` must be text")
    return str(value)


def _classes(value: Any, where: str) -> str:
    text = "" if value is None else str(value)
    if set(text) - _CLASSES:
        raise ClauseTableError(f"{where}: classes must be letters from A, B, C; got {text!r}")
    return "".join(sorted(set(text)))


def _clause(entry: Any, index: int, standards: set[str]) -> Clause:
    where = f"clauses[{index}]"
    if not isinstance(entry, dict):
        raise ClauseTableError(f"{where}: must be a mapping with standard, clause, topic, record")
    unknown = set(entry) - {"standard", "clause", "topic", "record", "classes", "editions", "where", "note", "evidence"}
    if unknown:
        raise ClauseTableError(f"{where}: unknown field {', '.join(sorted(unknown))}")
    standard = _text(entry, "standard", where)
    if standard not in standards:
        raise ClauseTableError(f"{where}: unknown standard {standard!r}; standards: {', '.join(sorted(standards))}")
    where = f"{where} ({standard} {entry.get('clause')})"
    editions = entry.get("editions") or {}
    if not isinstance(editions, dict) or set(editions) - set(IEC62304_EDITIONS):
        raise ClauseTableError(f"{where}: editions must map {' or '.join(IEC62304_EDITIONS)} to classes")
    places = entry.get("where") or []
    if not isinstance(places, list) or not all(isinstance(place, str) for place in places):
        raise ClauseTableError(f"{where}: `where` must be a list of document#label entries")
    return Clause(
        standard=standard,
        clause=_text(entry, "clause", where),
        topic=_text(entry, "topic", where),
        record=_text(entry, "record", where),
        classes=_classes(entry.get("classes", "ABC"), where),
        where=tuple(places),
        editions=tuple((str(name), _classes(classes, where)) for name, classes in sorted(editions.items())),
        note=_text(entry, "note", where, required=False),
        evidence=parse_conditions(entry.get("evidence"), where),
    )


def parse_conditions(value: Any, where: str) -> tuple[Condition, ...]:
    if value is None:
        return ()
    shape = f"{where}: `evidence` must be a list of one-key mappings ({', '.join(CONDITION_KINDS)})"
    if not isinstance(value, list):
        raise ClauseTableError(shape)
    found = []
    for entry in value:
        if not isinstance(entry, dict) or len(entry) != 1:
            raise ClauseTableError(shape)
        ((kind, target),) = entry.items()
        if kind not in CONDITION_KINDS or not isinstance(target, str) or not target:
            raise ClauseTableError(f"{shape}; got {entry!r}")
        found.append(Condition(kind, target))
    return tuple(found)


def parse_clause_table(text: str, source: str = "clauses.yaml", *, trusted: bool = False) -> ClauseTable:
    """Read a clause table from YAML text; ClauseTableError names the entry that is wrong.
    ``trusted``: the table shipped with qms, read with libyaml's own loader (a project's table is
    read with PyYAML's, which stops at nesting too deep for its stack instead of crashing)."""
    try:
        data = load_shipped(text) if trusted else yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ClauseTableError(f"{source}: not valid YAML: {error}") from None
    except RecursionError:
        raise ClauseTableError(f"{source}: nested too deeply to be a clause table") from None
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("standards"), list)
        or not isinstance(data.get("clauses"), list)
    ):
        raise ClauseTableError(f"{source}: needs `standards` and `clauses` lists")
    standards = tuple(
        Standard(
            _text(entry, "id", f"{source}: standards[{index}]"),
            _text(entry, "name", f"{source}: standards[{index}]"),
            str(entry.get("title", "")),
        )
        for index, entry in enumerate(data["standards"])
        if isinstance(entry, dict)
    )
    known = {standard.id for standard in standards}
    try:
        clauses = tuple(_clause(entry, index, known) for index, entry in enumerate(data["clauses"]))
    except ClauseTableError as error:
        raise ClauseTableError(f"{source}: {error}") from None
    return ClauseTable(standards, clauses)


def load_clause_table(path: Path | None = None) -> ClauseTable:
    """The project's clause table (``path``), or the one shipped with qms."""
    if path is not None:
        return parse_clause_table(path.read_text(encoding="utf-8"), str(path))
    return _shipped_clause_table()


@functools.cache
def _shipped_clause_table() -> ClauseTable:
    shipped = resources.files("qms") / "data" / "clauses.yaml"
    return parse_clause_table(shipped.read_text(encoding="utf-8"), "qms/data/clauses.yaml", trusted=True)
