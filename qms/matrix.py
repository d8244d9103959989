"""The traceability matrix: one row per path along a chain of kinds, gaps as empty cells.

The default chain follows design controls from user needs down to tests; the risk chain goes
from hazards through their control requirements to the tests that verify them. Renderers (the
Sphinx site, CSV, Markdown, Excel) all take their rows from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qms.model import Item, Project
from qms.schema import KINDS

DESIGN_CHAIN = ("need", "system_requirement", "software_requirement", "software_item", "test")
RISK_CHAIN = ("hazard", "software_requirement", "test")
#: risk controls may be system or software requirements: this column takes both
CONTROL_COLUMN = ("system_requirement", "software_requirement")


@dataclass(frozen=True, slots=True)
class Matrix:
    columns: tuple[tuple[str, ...], ...]  # the kinds each column takes
    rows: tuple[tuple[Item | None, ...], ...]

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(" / ".join(KINDS[kind].title for kind in column if kind in KINDS) for column in self.columns)


def parse_chain(text: str) -> tuple[tuple[str, ...], ...]:
    """``need,system_requirement,...`` (``a|b`` for a column of two kinds) to columns; ValueError on unknown kinds."""
    columns = tuple(tuple(part.strip() for part in column.split("|")) for column in text.split(",") if column.strip())
    unknown = sorted({kind for column in columns for kind in column if kind not in KINDS})
    if unknown:
        raise ValueError(f"unknown kind {', '.join(unknown)}; kinds: {', '.join(KINDS)}")
    if len(columns) < 2:
        raise ValueError("a chain needs at least two kinds, e.g. need,system_requirement")
    return columns


def _neighbours(project: Project, item: Item, kinds: tuple[str, ...]) -> list[Item]:
    """Items of ``kinds`` linked to or from ``item``, in a stable order, each once."""
    found: dict[str, Item] = {}
    for link in project.links_from(item.id):
        target = project.items[link.target]
        if target.kind in kinds:
            found.setdefault(target.id, target)
    for link in project.backlinks.get(item.id, ()):
        source = project.items[link.source]
        if source.kind in kinds:
            found.setdefault(source.id, source)
    return sorted(found.values(), key=lambda candidate: _natural(candidate.id))


def _natural(text: str) -> tuple[object, ...]:
    """Sort key that puts SWR-2 before SWR-10."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text))


def trace_matrix(project: Project, columns: tuple[tuple[str, ...], ...], orphans: bool = True) -> Matrix:
    """Every path along ``columns``.

    With ``orphans``, an item of a later column that links to nothing in the earlier columns
    starts a row of its own (with empty cells before it), so gaps show as gaps.

    A column's cells are the items linked to the nearest earlier cell that has any link to that
    column's kinds, so a test that verifies a software requirement appears in the test column
    even when the chain puts software items in between.
    """
    rows: list[tuple[Item | None, ...]] = []
    placed: set[str] = set()

    def extend(row: list[Item | None], index: int) -> None:
        if index == len(columns):
            rows.append(tuple(row))
            return
        candidates: list[Item] = []
        for earlier in reversed(row):
            if earlier is not None:
                candidates = _neighbours(project, earlier, columns[index])
                if candidates:
                    break
        if not candidates:
            extend([*row, None], index + 1)
            return
        for candidate in candidates:
            placed.add(candidate.id)
            extend([*row, candidate], index + 1)

    for index, column in enumerate(columns if orphans else columns[:1]):
        earlier_kinds = tuple(kind for earlier in columns[:index] for kind in earlier)
        for kind in column:
            for item in sorted(project.of_kind(kind), key=lambda candidate: _natural(candidate.id)):
                if item.id in placed or (earlier_kinds and _neighbours(project, item, earlier_kinds)):
                    continue
                placed.add(item.id)
                extend([None] * index + [item], index + 1)
    return Matrix(columns, tuple(rows))


def design_matrix(project: Project) -> Matrix:
    return trace_matrix(project, tuple((kind,) for kind in DESIGN_CHAIN))


def risk_matrix(project: Project) -> Matrix:
    return trace_matrix(project, (("hazard",), CONTROL_COLUMN, ("test",)), orphans=False)
