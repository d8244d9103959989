"""The project model: locations, findings, items, links and the immutable project graph."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qms.config import ProjectConfig

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


@dataclass(frozen=True)
class Project:
    """A loaded project: configuration, items indexed by id, links resolved both ways.

    Built once by :func:`qms.project.load_project` and never changed afterwards: checks,
    documents and exports are functions of it.
    """

    root: Path
    config: ProjectConfig
    items: Mapping[str, Item]
    files: tuple[str, ...]
    load_findings: tuple[Finding, ...]
    links: tuple[Link, ...] = ()
    backlinks: Mapping[str, tuple[Link, ...]] = field(default_factory=lambda: MappingProxyType({}))
    forward: Mapping[str, tuple[Link, ...]] = field(default_factory=lambda: MappingProxyType({}))
    by_kind: Mapping[str, tuple[Item, ...]] = field(default_factory=lambda: MappingProxyType({}))
    unresolved: tuple[Link, ...] = ()
    #: the ``title:`` of list files that have one, by file (relative to the root)
    file_titles: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items.values())

    def __len__(self) -> int:
        return len(self.items)

    def of_kind(self, *kinds: str) -> tuple[Item, ...]:
        if len(kinds) == 1:
            return self.by_kind.get(kinds[0], ())
        return tuple(item for kind in kinds for item in self.by_kind.get(kind, ()))

    def incoming(self, item_id: str, field_name: str | None = None, kind: str | None = None) -> tuple[Link, ...]:
        """Links pointing at ``item_id``, optionally only from ``field_name`` and source ``kind``."""
        found = self.backlinks.get(item_id, ())
        if field_name is not None:
            found = tuple(link for link in found if link.field == field_name)
        if kind is not None:
            found = tuple(link for link in found if self.items[link.source].kind == kind)
        return found

    def links_from(self, item_id: str) -> tuple[Link, ...]:
        """The resolved links written in ``item_id``, in field order."""
        return self.forward.get(item_id, ())

    def outgoing(self, item_id: str, field_name: str) -> tuple[Item, ...]:
        """The items that ``item_id``'s ``field_name`` links to and that exist."""
        item = self.items[item_id]
        return tuple(self.items[target] for target in item.links(field_name) if target in self.items)
