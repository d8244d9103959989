"""Walking the traceability graph: an item's relations, and its trace up and down."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from qms.model import Item, Link, Project
from qms.schema import KINDS, link_spec


@dataclass(frozen=True, slots=True)
class Relation:
    """One neighbour of an item, with the link's meaning read from that item."""

    label: str  # "verified by", "derives from", ...
    item: Item
    upward: bool  # True: the neighbour is further up the trace (toward design inputs)
    field: str  # the link field, on whichever side it is written


def relations(project: Project, item_id: str) -> list[Relation]:
    """Every item linked to or from ``item_id``: forward links first, then backlinks."""
    item = project.items[item_id]
    found: list[Relation] = []
    for target in project.links_from(item_id):
        spec = link_spec(item.kind, target.field)
        if spec is not None:
            found.append(Relation(spec.label, project.items[target.target], spec.upward, target.field))
    for link in project.backlinks.get(item_id, ()):
        source = project.items[link.source]
        spec = link_spec(source.kind, link.field)
        if spec is not None:
            found.append(Relation(spec.reverse, source, not spec.upward, link.field))
    return found


@dataclass(frozen=True, slots=True)
class TraceNode:
    relation: Relation
    children: tuple[TraceNode, ...]
    repeated: bool = False  # already shown higher in this trace: not expanded again


def trace(project: Project, item_id: str, upward: bool) -> tuple[TraceNode, ...]:
    """The trace up (toward needs) or down (toward tests) from an item, as a tree."""
    seen = {item_id}

    def walk(current: str) -> tuple[TraceNode, ...]:
        nodes = []
        for relation in relations(project, current):
            if relation.upward != upward:
                continue
            neighbour = relation.item.id
            if neighbour in seen:
                nodes.append(TraceNode(relation, (), repeated=True))
                continue
            seen.add(neighbour)
            nodes.append(TraceNode(relation, walk(neighbour)))
        return tuple(nodes)

    return walk(item_id)


#: (kind, link field) -> the kinds that field may link to (empty: any)
_TARGETS = {(kind.name, spec.name): spec.targets for kind in KINDS.values() for spec in kind.link_fields}


def wrong_kind_links(project: Project) -> Iterator[tuple[Link, str]]:
    """The links to an item of a kind their field does not take (rule Q006), each with what is wrong."""
    for link, source_kind, target_kind in project.link_kinds:
        targets = _TARGETS.get((source_kind, link.field))
        if targets and target_kind not in targets:
            allowed = " or ".join(targets)
            yield link, f"{link.field} links to {link.target}, a {target_kind}; {link.field} takes {allowed}"
