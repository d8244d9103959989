"""The elements of a project as written: locations in files, findings, items and their links.

They sit below everything else (the project file's settings included), so every module may use them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from qms.reprs import plain_reprs

#: A path inside an item: field names and list indexes, e.g. ``("residual", "severity")``.
FieldPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True, order=True)
class Location:
    """A place in a project file: path relative to the project root (with ``/``), 1-based."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        if not self.line:
            return self.file
        return f"{self.file}:{self.line}:{self.column}"


class Severity(enum.StrEnum):
    """How much a finding matters: errors fail ``qms check``, warnings only with ``--strict``."""

    ERROR = "error"
    WARNING = "warning"
    OFF = "off"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem found in a project: a rule code, where, and what to do about it."""

    rule: str
    severity: Severity
    message: str
    location: Location
    item: str | None = None

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.location.file, self.location.line, self.location.column, self.rule, self.item or "")


@dataclass(frozen=True, slots=True)
class Item:
    """One item of a project (a need, requirement, hazard, test...), as written in its file.

    ``fields`` holds every field but ``id`` and ``kind``, with the values the schema converted
    (links as tuples of ids). ``positions`` maps a field path to its (line, column).
    """

    id: str
    kind: str
    fields: Mapping[str, Any]
    file: str
    positions: Mapping[FieldPath, tuple[int, int]]

    @property
    def title(self) -> str:
        value = self.fields.get("title")
        return value if isinstance(value, str) else ""

    def get(self, name: str, default: Any = None) -> Any:
        return self.fields.get(name, default)

    def links(self, field_name: str) -> tuple[str, ...]:
        value = self.fields.get(field_name)
        return value if isinstance(value, tuple) else ()

    def location(self, path: FieldPath = ()) -> Location:
        """The location of a field (or of the item itself), falling back to the nearest parent."""
        while True:
            position = self.positions.get(path)
            if position is not None:
                return Location(self.file, *position)
            if not path:
                return Location(self.file)
            path = path[:-1]


@dataclass(frozen=True, slots=True)
class Link:
    """A link from one item's field to another item's id, where it was written."""

    source: str
    field: str
    target: str
    location: Location


plain_reprs(globals())  # their text is fingerprinted: see qms.reprs
