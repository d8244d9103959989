"""Impact analysis: what a change to one item puts in question (IEC 62304 7.4, 8.2.1; ISO 13485 7.3.9).

An item depends on every item it links to: a software requirement on the system requirement it
derives from, a software item on what it implements and its parent, a test on what it verifies,
a hazard on the requirements that control it or that introduce it. A change to an item therefore
puts in question every item linking to it, and, in turn, every item linking to those: the
requirements refined from it, the software items implementing them, the tests to re-run and the
hazards whose risk control it is. These are the same links C501 marks suspect, followed onward.

Containment is followed one step only: a change to a software item puts the items it contains
in question, but an item that is merely in question (its requirement changed) does not pass that
on to its parts; they come into question when the item itself is changed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from qms.model import Item, Link, Project
from qms.schema import link_spec

#: link fields followed only from the changed item itself, not onward
_CONTAINMENT = frozenset({"parent"})


@dataclass(frozen=True, slots=True)
class ImpactEntry:
    """An item in question, and the link through which the change reaches it."""

    item: Item
    link: Link  # from ``item`` to the item it depends on (nearer the change)
    label: str  # the link's meaning read from ``item``: "derives from", "verifies"...
    depth: int  # 1: links to the changed item itself; 2: to one of those...


@dataclass(frozen=True)
class Impact:
    """Everything downstream of a change to ``item``, nearest first."""

    item: Item
    entries: tuple[ImpactEntry, ...]

    def of_kind(self, *kinds: str) -> tuple[ImpactEntry, ...]:
        return tuple(entry for entry in self.entries if entry.item.kind in kinds)

    @property
    def tests(self) -> tuple[ImpactEntry, ...]:
        """The tests to re-run."""
        return self.of_kind("test")

    @property
    def hazards(self) -> tuple[ImpactEntry, ...]:
        """The hazards to re-evaluate: their controls (or what introduces them) are in question."""
        return self.of_kind("hazard")


def impact(project: Project, item_id: str) -> Impact:
    """The items a change to ``item_id`` puts in question, breadth first (each once, by its shortest path)."""
    seen = {item_id}
    entries: list[ImpactEntry] = []
    queue = deque([(item_id, 0)])
    while queue:
        current, depth = queue.popleft()
        for link in project.backlinks.get(current, ()):
            if link.source in seen or (depth > 0 and link.field in _CONTAINMENT):
                continue
            seen.add(link.source)
            source = project.items[link.source]
            spec = link_spec(source.kind, link.field)
            entries.append(ImpactEntry(source, link, spec.label if spec else link.field, depth + 1))
            queue.append((link.source, depth + 1))
    return Impact(project.items[item_id], tuple(entries))
