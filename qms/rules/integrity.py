"""Q rules: files readable, items well-formed, ids unique, links resolvable and acyclic."""

from __future__ import annotations

from collections.abc import Iterator

from qms.causes import closest_id, unparsed_ids
from qms.model import Item, Link
from qms.placeholders import placeholder
from qms.rules.registry import CheckContext, Hit, ItemHit, item_rule, rule
from qms.trace import wrong_kind_links


@rule("Q005")
def unknown_link(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    unparsed = unparsed_ids(project)
    for link in project.unresolved:
        message = f"{link.field} links to unknown id '{link.target}'"
        if link.target in unparsed:
            message += f": it is defined in {unparsed[link.target]}, which does not parse (Q001)"
        elif (closest := closest_id(project, link.target)) is not None:
            message += f" (did you mean '{closest}'?)"
        yield Hit(message, link.location, link.source)


@rule("Q008", of_project=True)
def placeholder_text(context: CheckContext) -> Iterator[Hit]:
    config = context.project.config
    device = config.raw.get("device")
    for name, value in device.items() if isinstance(device, dict) else ():
        if (instead := placeholder(value)) is not None:
            yield Hit(f"device.{name} is still a placeholder: write {instead}", config.location(("device", name)))
    yield from context.item_hits.of("Q008")


@item_rule("Q008")
def _placeholders_in(item: Item) -> Iterator[ItemHit]:
    for name, value in item.fields.items():
        if (instead := placeholder(value)) is not None:
            yield f"{name} is still a placeholder: write {instead}", item.location((name,)), ""


@rule("Q006", of_project=True)
def wrong_link_kind(context: CheckContext) -> Iterator[Hit]:
    for link, message in wrong_kind_links(context.project):
        yield Hit(message, link.location, link.source)


_HIERARCHY_FIELDS = ("derives_from", "parent")


@rule("Q007", of_project=True)
def link_cycle(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    for field_name in _HIERARCHY_FIELDS:
        edges: dict[str, list[Link]] = {}
        for link in project.links:
            if link.field == field_name:
                edges.setdefault(link.source, []).append(link)
        for component in _strongly_connected(_on_or_after_cycles(edges)):
            cycle = _cycle_through(min(component), component, edges)
            path = " -> ".join([link.source for link in cycle] + [cycle[0].source])
            yield Hit(f"cycle in {field_name}: {path}", cycle[0].location, cycle[0].source)


def _on_or_after_cycles(edges: dict[str, list[Link]]) -> dict[str, list[Link]]:
    """The edges left once every node no cycle leads into is peeled off (Kahn's algorithm).

    Usually nothing is left, and the cycle search below has nothing to do.
    """
    indegree: dict[str, int] = {}
    for links in edges.values():
        for link in links:
            indegree[link.target] = indegree.get(link.target, 0) + 1
    ready = [node for node in edges if node not in indegree]
    while ready:
        node = ready.pop()
        for link in edges.get(node, ()):
            indegree[link.target] -= 1
            if indegree[link.target] == 0:
                ready.append(link.target)
    left = {node for node, count in indegree.items() if count > 0}
    return {node: links for node, links in edges.items() if node in left}


def _strongly_connected(edges: dict[str, list[Link]]) -> list[set[str]]:
    """Tarjan's algorithm, iteratively; only the components that contain a cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[set[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, position = work.pop()
            if position == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            targets = edges.get(node, [])
            if position < len(targets):
                work.append((node, position + 1))
                target = targets[position].target
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1 or any(link.target == node for link in edges.get(node, [])):
                    found.append(component)
    return found


def _cycle_through(start: str, component: set[str], edges: dict[str, list[Link]]) -> list[Link]:
    """The links of one shortest cycle from ``start`` back to itself inside ``component``."""
    previous: dict[str, Link] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for link in edges.get(node, []):
                if link.target not in component:
                    continue
                if link.target == start:
                    path = [link]
                    while path[0].source != start:
                        path.insert(0, previous[path[0].source])
                    return path
                if link.target not in previous:
                    previous[link.target] = link
                    following.append(link.target)
        frontier = following
    raise AssertionError("a strongly connected component always holds a cycle")  # pragma: no cover
