"""Walking the traceability graph: an item's relations, and its trace up and down."""

from __future__ import annotations

from dataclasses import dataclass

from qms.model import Item, Project
from qms.schema import link_spec


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
