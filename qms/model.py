"""The project model: the immutable project graph over the elements of :mod:`qms.elements`."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from qms.config import ProjectConfig
from qms.elements import FieldPath, Finding, Item, Link, Location, Severity

__all__ = ["FieldPath", "Finding", "Item", "Link", "Location", "Project", "Severity"]


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
    #: the digest of everything the project was made of (qms.yaml, each item file's bytes and path,
    #: the loader's findings), where every item file was read through the parse cache; None otherwise
    fingerprint: bytes | None = None
    #: each item file's key in the parse cache (its path and bytes, the risk policy, qms and Python), by
    #: file (relative to the root), for files read through the cache: the same key, the same items
    file_keys: Mapping[str, bytes] = field(default_factory=lambda: MappingProxyType({}))

    def __iter__(self) -> Iterator[Item]:
        return iter(self.items.values())

    @functools.cached_property
    def link_kinds(self) -> tuple[tuple[Link, str, str], ...]:
        """Every resolved link with the kinds of its source and target, in the order of :attr:`links`,
        made once: each traceability matrix sorts all the links by the columns of those kinds."""
        items = self.items
        return tuple((link, items[link.source].kind, items[link.target].kind) for link in self.links)

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

    def outgoing(self, item_id: str, field_name: str) -> tuple[Item, ...]:
        """The items that ``item_id``'s ``field_name`` links to and that exist."""
        item = self.items[item_id]
        return tuple(self.items[target] for target in item.links(field_name) if target in self.items)

    def links_from(self, item_id: str) -> tuple[Link, ...]:
        """The resolved links written in ``item_id``, in field order."""
        return self.forward.get(item_id, ())
