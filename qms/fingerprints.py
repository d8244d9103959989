"""Fingerprints of what the site's pages read of whole kinds of items, made from the project, the
items' statuses and the check's findings alone.

A page is read again when the fingerprint of what it reads changed (:mod:`qms.sphinx.views.build`).
Many of those read every item of a kind: a table's columns, a matrix's titles and links, the
statuses and findings every item's block shows. At 10,000 items each takes a few hundredths of a
second, on every build, however small the edit. Made of nothing Sphinx holds, they are made where the
project is: by the build, as its pages ask for them, and by the check the build starts beside it on
the second core while it imports Sphinx (:func:`qms.checking.check_beside`), which makes those the
last build made (:func:`keys_to_keep`, :func:`made_beside`) and hands them over with its findings
where it read the same item files (:func:`qms.checking.findings_beside`). Each is made by one
function of this module, in either process, from the same data: the build takes the check's as its
own.

Nothing here imports Sphinx (the check starts before the build imports it).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from qms.atomic import read_kept, write_kept
from qms.model import Finding, Item, Project
from qms.parsecache import code_digest
from qms.schema import KINDS, FieldSpec
from qms.status import ItemStatus, StatusIndex

#: A fingerprint's name: its family (:data:`FAMILIES`), then its arguments, all texts.
Key = tuple[str, ...]


class Seen(Protocol):
    """What these fingerprints are made of, and where they are kept once made: the build's data
    (:class:`~qms.sphinx.views.build.BuildData`), or :class:`Checked` in the check's process."""

    @property
    def project(self) -> Project: ...
    @property
    def statuses(self) -> StatusIndex | None: ...
    @property
    def findings_by_item(self) -> Mapping[str, tuple[Finding, ...]]: ...
    @property
    def digests(self) -> dict[Key, str]: ...
    @property
    def cache(self) -> dict[Key, Any]: ...


@dataclass
class Checked:
    """What the check beside a build found, as a :class:`Seen`."""

    project: Project
    statuses: StatusIndex | None
    findings_by_item: Mapping[str, tuple[Finding, ...]]
    digests: dict[Key, str] = field(default_factory=dict)
    cache: dict[Key, Any] = field(default_factory=dict)


def by_item(findings: tuple[Finding, ...]) -> dict[str, tuple[Finding, ...]]:
    """The findings of each item, in the order they were found (those of no item left out)."""
    found: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.item:
            found.setdefault(finding.item, []).append(finding)
    return {item: tuple(listed) for item, listed in found.items()}


def digest(data: Any) -> str:
    """Fingerprint of JSON-like data."""
    text = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def repr_digest(value: object) -> str:
    """Fingerprint of a value by its ``repr`` (frozen dataclasses, tuples: what is not JSON)."""
    return hashlib.sha256(repr(value).encode("utf-8", "surrogatepass")).hexdigest()[:20]


def verdict(seen: Seen, item_id: str) -> str | None:
    """The verification status of an item (:mod:`qms.status`); None for kinds that carry none."""
    if seen.statuses is None:
        return None
    found = seen.statuses.of(item_id)
    return found.status.value if found is not None else None


def link_names(kind: str) -> list[str]:
    """The link fields of a kind, in the order of its schema."""
    spec = KINDS.get(kind)
    return [field.name for field in spec.link_fields] if spec is not None else []


# ------------------------------------------------------------------------------ matrices


def link_rows(seen: Seen, kind: str) -> str:
    """Fingerprint of the links the items of one ``kind`` write: each item's id and every link it
    writes, in the order of the kind's link fields (one to an unknown item too)."""
    key = ("link-rows", kind)
    if key not in seen.digests:
        names = link_names(kind)
        seen.digests[key] = repr_digest(
            [(item.id, *(item.links(name) for name in names)) for item in seen.project.of_kind(kind)]
        )
    return seen.digests[key]


def trace_rows(seen: Seen, kind: str) -> str:
    """Fingerprint of what matrices read of the items of one ``kind``: their links, each one's id,
    title and outcome."""
    key = ("trace-rows", kind)
    if key not in seen.digests:
        shown = [[item.id, item.title, verdict(seen, item.id)] for item in seen.project.of_kind(kind)]
        seen.digests[key] = digest([link_rows(seen, kind), shown])  # the links, walked once a build
    return seen.digests[key]


def trace_content(seen: Seen, kinds: tuple[str, ...]) -> str:
    """Fingerprint of what a matrix along a chain of ``kinds`` reads: each item of those kinds with
    its title, its outcome and every link it writes (one to an unknown item too: it takes the
    item's row out of a matrix it does not trace along), and whether the project has outcomes.
    An item of another kind, or another item's text, leaves it as it is."""
    key = ("trace-content", *kinds)
    if key not in seen.digests:
        seen.digests[key] = digest([[trace_rows(seen, kind) for kind in kinds], seen.statuses is not None])
    return seen.digests[key]


def link_content(seen: Seen, kinds: tuple[str, ...]) -> str:
    """Fingerprint of the links a matrix along a chain of ``kinds`` follows: each item of those
    kinds with every link it writes. Its title, its texts and its outcome leave it as it is."""
    return repr_digest([link_rows(seen, kind) for kind in kinds])


# ------------------------------------------------------------------------------ tables


def kind_content(seen: Seen, kinds: tuple[str, ...], names: frozenset[str] | None = None) -> str:
    """Fingerprint of what the items of ``kinds`` hold: each item's id, title, kind and file, and
    its fields named in ``names`` (None: all of them, where they are written included). A table
    passes the fields it shows or filters on, so an edit of another field leaves it as it is."""
    key = ("kind-content", ",".join(kinds), "*" if names is None else ",".join(sorted(names)))
    if key not in seen.digests:
        items = seen.project.of_kind(*kinds)
        if names is None:
            content = [[item.id, item.file, item.location().line, dict(item.fields)] for item in items]
        else:
            content = [
                [item.id, item.title, item.kind, item.file, {n: item.fields[n] for n in names if n in item.fields}]
                for item in items
            ]
        seen.digests[key] = digest(content)
    return seen.digests[key]


#: A link column: ``forward`` (a link field of the table's kinds) or ``reverse`` (a link's reverse
#: label, ``verified_by``), its field, and for a reverse one the kinds whose links it shows.
LinkColumn = tuple[str, FieldSpec, frozenset[str]]


@functools.cache
def link_column(kinds: tuple[str, ...], name: str) -> LinkColumn | None:
    """A column naming a link field (forward) or a link's reverse label (``verified_by``): then the
    links of the kinds whose field carries that label, not every link of the same field name (a
    unit's ``parent`` is "detailed by unit", a software item's "contains")."""
    for kind in kinds:
        spec = KINDS.get(kind)
        found = spec.field(name) if spec else None
        if found is not None and found.is_link:
            return ("forward", found, frozenset())
    wanted = name.replace("_", " ")
    for spec in KINDS.values():
        for field_spec in spec.link_fields:
            if field_spec.reverse == wanted:
                owners = frozenset(
                    kind
                    for kind, other in KINDS.items()
                    for owned in other.link_fields
                    if owned.name == field_spec.name and owned.reverse == wanted
                )
                return ("reverse", field_spec, owners)
    return None


def linked_items(project: Project, item: Item, column: str, link: LinkColumn) -> list[Item]:
    """The items a link column shows for ``item``: those it links to (forward), or those linking to it."""
    direction, spec, owners = link
    if direction == "forward":
        return [project.items[target] for target in item.links(column) if target in project.items]
    found = project.incoming(item.id, spec.name)
    return [project.items[link.source] for link in found if project.items[link.source].kind in owners]


def link_cells(seen: Seen, kinds: tuple[str, ...], column: str) -> str:
    """Fingerprint of a link column of a table of ``kinds`` (:func:`link_column`; ValueError where
    ``column`` is none): each item's linked items, id and title."""
    key = ("link-cells", column, *kinds)
    if key not in seen.digests:
        link = link_column(kinds, column)
        if link is None:
            raise ValueError(f"{column}: not a link column of {', '.join(kinds)}")
        project = seen.project
        shown = [
            [item.id, [[target.id, target.title] for target in linked_items(project, item, column, link)]]
            for item in project.of_kind(*kinds)
        ]
        seen.digests[key] = digest(shown)
    return seen.digests[key]


# ------------------------------------------------------------------------------ items' blocks

#: where :func:`found_of_items` keeps its fingerprints, in :attr:`Seen.cache`
FOUND_OF_ITEMS: Key = ("found-of-items",)

#: the fields of an item's status (:class:`qms.status.ItemStatus`), in order
_STATUS_FIELDS = tuple(spec.name for spec in dataclasses.fields(ItemStatus))


def found_of_items(seen: Seen) -> dict[str, str]:
    """Fingerprint of what the build found of each item: its findings, its status with the results
    behind it (results shared by many items are written out once)."""
    found: dict[str, str] | None = seen.cache.get(FOUND_OF_ITEMS)
    if found is None:
        statuses, findings = seen.statuses, seen.findings_by_item
        texts: dict[int, str] = {}

        def text(value: object) -> str:
            made = texts.get(id(value))
            if made is None:
                made = texts[id(value)] = repr(value)
            return made

        found = seen.cache[FOUND_OF_ITEMS] = {}
        for item in seen.project:
            status = statuses.of(item.id) if statuses is not None else None
            shown = [repr(findings.get(item.id, ()))]
            if status is not None:
                for name in _STATUS_FIELDS:
                    value = getattr(status, name)
                    shown.append(",".join(map(text, value)) if name == "results" else repr(value))
            found[item.id] = hashlib.blake2b(
                "\0".join(shown).encode("utf-8", "surrogatepass"), digest_size=16
            ).hexdigest()
    return found


# ------------------------------------------------------------------------------ made beside the build


def _kind_content(seen: Seen, kinds: str, names: str) -> str:
    return kind_content(
        seen, tuple(kinds.split(",")), None if names == "*" else frozenset(filter(None, names.split(",")))
    )


#: Each family of fingerprints a key names, and how it is made from the key's arguments.
FAMILIES: Mapping[str, Callable[..., str]] = {
    "link-rows": link_rows,
    "trace-rows": trace_rows,
    "trace-content": lambda seen, *kinds: trace_content(seen, kinds),
    "kind-content": _kind_content,
    "link-cells": lambda seen, column, *kinds: link_cells(seen, kinds, column),
}


def keys_to_keep(digests: Mapping[Key, str]) -> list[Key]:
    """The keys of the fingerprints of :data:`FAMILIES` among ``digests`` (a build's), for the check
    beside the next build to make (:func:`made_beside`)."""
    return sorted(key for key in digests if key and key[0] in FAMILIES)


def made_beside(seen: Seen, keys: object) -> dict[Key, str]:
    """The fingerprints ``keys`` name (those the last build made, :func:`keys_to_keep`; anything else
    is taken as none), made from ``seen``, with those they are made of. A key that names no
    fingerprint the build could make is left out: the build then meets its error itself."""
    if isinstance(keys, list):
        for key in keys:
            if not (isinstance(key, tuple) and key and all(type(part) is str for part in key)):
                continue
            family = FAMILIES.get(key[0])
            if family is not None:
                try:
                    family(seen, *key[1:])
                except (KeyError, TypeError, ValueError):
                    continue
    return {key: value for key, value in seen.digests.items() if key[0] in FAMILIES}


#: the file in the build's doctrees folder that keeps the keys of the fingerprints the last build
#: made (:func:`keep_keys`)
KEYS_FILE = "qms-fingerprints.pickle"


def kept_keys(doctrees: Path) -> object:
    """The keys :func:`keep_keys` kept in ``doctrees`` by this code (None: none, or by other code)."""
    return read_kept(doctrees / KEYS_FILE, code_digest())


def keep_keys(doctrees: Path, digests: Mapping[Key, str]) -> None:
    """Keep in ``doctrees`` the keys of the fingerprints of :data:`FAMILIES` a build made (its
    ``digests``), for the check beside the next build, where they changed."""
    keys = keys_to_keep(digests)
    if kept_keys(doctrees) != keys:
        write_kept(doctrees / KEYS_FILE, code_digest(), keys)
