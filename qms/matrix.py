"""The traceability matrix: one row per path along a chain of kinds, gaps as empty cells.

The default chain follows design controls from user needs down to tests; the risk chain goes
from hazards through their control requirements to the tests that verify them. Renderers (the
Sphinx site, CSV, Markdown, Excel) all take their rows from here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from qms.model import Item, Project
from qms.schema import KINDS

if TYPE_CHECKING:
    from qms.status import StatusIndex

DESIGN_CHAIN = ("need", "system_requirement", "software_requirement", "software_item", "test")
RISK_CHAIN = ("hazard", "software_requirement", "test")
#: risk controls may be system or software requirements: this column takes both
CONTROL_COLUMN = ("system_requirement", "software_requirement")
#: the columns of the one table that holds both default matrices (CSV)
COMBINED_ORDER = ("hazard", *DESIGN_CHAIN)


@dataclass(frozen=True, slots=True)
class Matrix:
    """Rows of items along columns of kinds; ``verdicts`` (when filled) holds each row's test outcome."""

    columns: tuple[tuple[str, ...], ...]  # the kinds each column takes
    rows: tuple[tuple[Item | None, ...], ...]
    title: str = "Traceability matrix"
    #: one entry per row once verification results are known: the outcome of the row's test
    verdicts: tuple[str | None, ...] = ()

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(" / ".join(KINDS[kind].title for kind in column if kind in KINDS) for column in self.columns)

    @property
    def test_column(self) -> int | None:
        """Index of the last column that takes tests (whose results verify the row), or None."""
        found = [index for index, column in enumerate(self.columns) if "test" in column]
        return found[-1] if found else None


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
    return sorted(found.values(), key=lambda candidate: natural_key(candidate.id))


def natural_key(text: str) -> tuple[object, ...]:
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
            for item in sorted(project.of_kind(kind), key=lambda candidate: natural_key(candidate.id)):
                if item.id in placed or (earlier_kinds and _neighbours(project, item, earlier_kinds)):
                    continue
                placed.add(item.id)
                extend([None] * index + [item], index + 1)
    if orphans:
        # items linked only to a column further up than the rows reached them (a validation test
        # of a need, when the need's row reaches tests through its requirements): a row that
        # shows that link, so no item of the chain is left out
        for index, column in enumerate(columns):
            for kind in column:
                for item in sorted(project.of_kind(kind), key=lambda candidate: natural_key(candidate.id)):
                    if item.id in placed:
                        continue
                    placed.add(item.id)
                    for earlier_index in range(index - 1, -1, -1):
                        linked = _neighbours(project, item, columns[earlier_index])
                        for neighbour in linked:
                            extend(
                                [None] * earlier_index + [neighbour] + [None] * (index - earlier_index - 1) + [item],
                                index + 1,
                            )
                        if linked:
                            break
    return Matrix(columns, tuple(rows))


def design_matrix(project: Project) -> Matrix:
    """Needs down to tests, every item of the chain on some row (orphans start rows of their own)."""
    matrix = trace_matrix(project, tuple((kind,) for kind in DESIGN_CHAIN))
    return replace(matrix, title="Design traceability")


def risk_matrix(project: Project) -> Matrix:
    """Hazards, their risk control requirements, and the tests that verify those controls."""
    matrix = trace_matrix(project, (("hazard",), CONTROL_COLUMN, ("test",)), orphans=False)
    return replace(matrix, title="Risk control traceability")


def default_matrices(project: Project) -> tuple[Matrix, Matrix]:
    """What ``qms matrix`` shows without ``--chain``: the design chain, then hazards -> controls -> tests."""
    return design_matrix(project), risk_matrix(project)


def merge_matrices(matrices: Sequence[Matrix], order: Sequence[str], title: str) -> Matrix:
    """Several matrices as one table with a column per kind (in ``order``), for single-table formats (CSV).

    Each row keeps its own path; a cell goes to the column of its item's kind, so a risk control
    that is a system requirement lands in the system requirement column.
    """
    kinds = [kind for kind in order if any(kind in column for matrix in matrices for column in matrix.columns)]
    position = {kind: index for index, kind in enumerate(kinds)}
    rows: list[tuple[Item | None, ...]] = []
    verdicts: list[str | None] = []
    for matrix in matrices:
        for index, row in enumerate(matrix.rows):
            cells: list[Item | None] = [None] * len(kinds)
            for item in row:
                if item is not None and item.kind in position:
                    cells[position[item.kind]] = item
            rows.append(tuple(cells))
            verdicts.append(matrix.verdicts[index] if matrix.verdicts else None)
    filled = any(matrix.verdicts for matrix in matrices)
    return Matrix(tuple((kind,) for kind in kinds), tuple(rows), title, tuple(verdicts) if filled else ())


def with_verdicts(matrix: Matrix, verdict: Callable[[str], str | None]) -> Matrix:
    """The matrix with each row's verification outcome: ``verdict`` of the row's test (None: no test)."""
    column = matrix.test_column
    if column is None:
        return matrix

    def outcome(row: tuple[Item | None, ...]) -> str | None:
        test = row[column]
        return verdict(test.id) if test is not None else None

    return replace(matrix, verdicts=tuple(outcome(row) for row in matrix.rows))


def verified(project: Project, matrices: Sequence[Matrix], statuses: StatusIndex | None = None) -> tuple[Matrix, ...]:
    """The matrices with each row's verification status (:mod:`qms.status`): that of the row's test."""
    if statuses is None:
        from qms.checking import project_statuses

        statuses = project_statuses(project)
    known = statuses

    def outcome(test_id: str) -> str | None:
        status = known.status(test_id)
        return status.value if status is not None else None

    return tuple(with_verdicts(matrix, outcome) for matrix in matrices)


def combined_matrix(project: Project, statuses: StatusIndex | None = None) -> Matrix:
    """Both default matrices as one table with a column per kind and each row's verification
    status: what a single-table format (CSV, the site's download) holds."""
    matrices = verified(project, default_matrices(project), statuses)
    return merge_matrices(matrices, COMBINED_ORDER, "Traceability")
