"""The traceability matrix: one row per path along a chain of kinds, gaps as empty cells.

The default chain follows design controls from user needs down to tests; the risk chain goes
from hazards through their control requirements to the tests that verify them. Renderers (the
Sphinx site, CSV, Markdown, JSON, Excel) all take their rows from here.

Each item of a row links to the nearest item to its left on that row, so a cell never shows an
item next to one it does not link to. Paths multiply where items link to many items on both
sides, so a matrix makes at most :data:`MAX_ROWS` rows: the rest are counted without being made,
and every renderer says what was left out (:class:`Cut`); ``qms check`` reports it as T107.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import cast

from qms.model import Finding, Item, Link, Location, Project, Severity
from qms.rulebook import SPECS
from qms.schema import KINDS
from qms.status import StatusIndex, project_statuses
from qms.trace import wrong_kind_links

DESIGN_CHAIN = ("need", "system_requirement", "software_requirement", "software_item", "test")
#: risk controls may be system or software requirements: this column takes both
CONTROL_COLUMN = ("system_requirement", "software_requirement")
#: the columns of the one table that holds both default matrices (CSV)
COMBINED_ORDER = ("hazard", *DESIGN_CHAIN)
#: rows a matrix makes at most: beyond, a matrix is read by no one and costs more than it shows
MAX_ROWS = 20_000

Columns = tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Chain:
    """What a matrix walks: its columns (the kinds each takes), whether items that link to nothing
    in an earlier column start rows of their own (``orphans``), and which link fields it follows
    (None: every one)."""

    title: str
    columns: Columns
    orphans: bool = True
    fields: frozenset[str] | None = None


DESIGN = Chain("Design traceability", tuple((kind,) for kind in DESIGN_CHAIN))
#: a hazard's controls and the tests that verify them (a requirement a hazard arises from is not a control)
RISK = Chain(
    "Risk control traceability",
    (("hazard",), CONTROL_COLUMN, ("test",)),
    orphans=False,
    fields=frozenset({"controls", "verifies"}),
)


@dataclass(frozen=True, slots=True)
class Cut:
    """The rows a matrix leaves out: it has ``total`` rows and shows the first ``shown``."""

    title: str
    shown: int
    total: int
    #: the item the first row left out starts at
    resumes_at: str

    def __str__(self) -> str:
        return (
            f"{self.title} has {self.total:,} rows, more than the {self.shown:,} a matrix shows: the "
            f"{self.total - self.shown:,} rows from row {self.shown + 1:,} on (the first starts at {self.resumes_at}) "
            "are left out. Each item's page (and qms show ID) shows its whole trace; a chain of fewer kinds has "
            "fewer rows."
        )


@dataclass(frozen=True, slots=True)
class Matrix:
    """Rows of items along columns of kinds; ``verdicts`` (when filled) holds each row's test outcome."""

    columns: Columns  # the kinds each column takes
    rows: tuple[tuple[Item | None, ...], ...]
    title: str = "Traceability matrix"
    #: one entry per row once verification results are known: the outcome of the row's test
    verdicts: tuple[str | None, ...] = ()
    #: one entry per row when any row shows a link that breaks a kind rule (Q006): that row's findings
    findings: tuple[tuple[Finding, ...], ...] = ()
    #: what was left out, when the matrix had more rows than it makes
    cuts: tuple[Cut, ...] = ()

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(" / ".join(KINDS[kind].title for kind in column if kind in KINDS) for column in self.columns)

    @property
    def total_rows(self) -> int:
        """The rows the whole matrix has: the rows made and the rows left out."""
        return len(self.rows) + sum(cut.total - cut.shown for cut in self.cuts)

    @property
    def test_column(self) -> int | None:
        """Index of the last column that takes tests (whose results verify the row), or None."""
        found = [index for index, column in enumerate(self.columns) if "test" in column]
        return found[-1] if found else None


def passed_by(row: Sequence[Item | None]) -> frozenset[int]:
    """The empty cells of a row that lie between two of its items: columns a link passes by, no gap in the trace."""
    if None not in row:  # most rows: every column filled
        return frozenset()
    filled = [index for index, item in enumerate(row) if item is not None]
    if not filled:
        return frozenset()
    return frozenset(index for index in range(filled[0] + 1, filled[-1]) if row[index] is None)


def parse_chain(text: str) -> Columns:
    """``need,system_requirement,...`` (``a|b`` for a column of two kinds) to columns; ValueError on unknown kinds."""
    columns = tuple(tuple(part.strip() for part in column.split("|")) for column in text.split(",") if column.strip())
    unknown = sorted({kind for column in columns for kind in column if kind not in KINDS})
    if unknown:
        raise ValueError(f"unknown kind {', '.join(unknown)}; kinds: {', '.join(KINDS)}")
    if len(columns) < 2:
        raise ValueError("a chain needs at least two kinds, e.g. need,system_requirement")
    kinds = [kind for column in columns for kind in column]
    twice = sorted({kind for kind in kinds if kinds.count(kind) > 1})
    if twice:
        raise ValueError(f"{', '.join(twice)} more than once; a kind takes one column of a chain")
    return columns


@functools.lru_cache(maxsize=1 << 17)
def natural_key(text: str) -> tuple[object, ...]:
    """Sort key that puts SWR-2 before SWR-10 (kept per id: a build sorts the same ids many times over)."""
    return tuple(int(part) if part.isdigit() else part for part in _DIGITS.split(text))


_DIGITS = re.compile(r"(\d+)")


@dataclass(frozen=True, slots=True)
class Step:
    """From an item of a row to the next item on it: the column it goes to and the links between them."""

    column: int
    item: Item
    links: tuple[Link, ...]


Row = tuple[tuple[Item | None, ...], tuple[Link, ...]]


class Paths:
    """The paths along a chain: the items of its kinds and the links from column to column.

    An item sits in the column that takes its kind. A step goes from an item to an item it links
    to (either way) in a later column, with empty cells between when the link passes columns by.
    The links are sorted into steps once; counts of paths are memoised per item, so a matrix
    knows its size before (and without) making its rows.
    """

    def __init__(self, project: Project, chain: Chain) -> None:
        self.project, self.chain, self.columns = project, chain, chain.columns
        self.column_of = {kind: index for index, column in enumerate(chain.columns) for kind in column}
        #: per item, the items it links to in later columns, with the links
        self.later: dict[str, dict[str, list[Link]]] = {}
        #: per item, its links to items of its own column (itself too), which no row can show as a step
        self.same: dict[str, list[Link]] = {}
        #: the items that link to something in an earlier column
        self.reached: set[str] = set()
        fields, column_of = chain.fields, self.column_of
        for link, source_kind, target_kind in project.link_kinds:
            source = column_of.get(source_kind)
            target = column_of.get(target_kind)
            if source is None or target is None or (fields is not None and link.field not in fields):
                continue
            if source == target:
                self.same.setdefault(link.source, []).append(link)
                if link.target != link.source:
                    self.same.setdefault(link.target, []).append(link)
                continue
            first, then = (link.source, link.target) if source < target else (link.target, link.source)
            self.later.setdefault(first, {}).setdefault(then, []).append(link)
            self.reached.add(then)
        self._steps: dict[str, list[Step]] = {}
        self._counts: dict[str, int] = {}

    def steps(self, item: Item) -> list[Step]:
        """Where a row goes after ``item``: nearest column first, then in natural id order."""
        if item.id not in self._steps:
            items = self.project.items
            steps = [
                Step(self.column_of[items[other].kind], items[other], tuple(links))
                for other, links in self.later.get(item.id, {}).items()
            ]
            steps.sort(key=lambda step: (step.column, natural_key(step.item.id)))
            self._steps[item.id] = steps
        return self._steps[item.id]

    def starts(self) -> list[tuple[int, Item]]:
        """The items rows start at: the first column's and, with ``orphans``, every item that links to
        nothing in an earlier column; by column, then kind, then natural id."""
        return [
            (index, item)
            for index, items in self._starts_by_kind()
            for item in sorted(items, key=lambda candidate: natural_key(candidate.id))
        ]

    def _starts_by_kind(self) -> Iterator[tuple[int, list[Item]]]:
        """The items rows start at, kind by kind in the order of the columns (each kind's in no order)."""
        for index, column in enumerate(self.columns if self.chain.orphans else self.columns[:1]):
            for kind in column:
                yield index, [item for item in self.project.of_kind(kind) if index == 0 or item.id not in self.reached]

    def count(self, item_id: str) -> int:
        """How many rows go from ``item_id`` to the right end, without making them."""
        count = self._counts.get(item_id)
        if count is None:
            later = self.later.get(item_id)
            count = sum(self.count(other) for other in later) if later else 1
            self._counts[item_id] = count
        return count

    def paths(self, item: Item, column: int) -> Iterator[Row]:
        """Each row from ``item`` in ``column`` to the right end, with the links its steps take, lazily."""
        steps = self.steps(item)
        if not steps:
            yield (item, *[None] * (len(self.columns) - column - 1)), ()
            return
        for step in steps:
            gap = (None,) * (step.column - column - 1)
            for rest, links in self.paths(step.item, step.column):
                yield (item, *gap, *rest), (*step.links, *links)

    def rows(self, starts: Sequence[tuple[int, Item]]) -> Iterator[Row]:
        """Every row of the matrix, in order, lazily."""
        for column, item in starts:
            for row, links in self.paths(item, column):
                yield (*[None] * column, *row), links


@dataclass(frozen=True, slots=True)
class Size:
    """How many rows a chain's matrix has, and the item that starts the most of them."""

    total: int
    largest: Item | None
    largest_rows: int


def matrix_size(project: Project, chain: Chain) -> Size:
    """The number of rows of a chain's matrix, counted in time linear in the links (no row is made)."""
    paths = Paths(project, chain)
    total, largest_rows, largest = 0, 0, None
    for _, items in paths._starts_by_kind():  # in their kind's order; the first of most rows by natural id
        for item in items:
            count = paths.count(item.id)
            total += count
            if largest is None or count > largest_rows:
                largest_rows, largest = count, item
            elif count == largest_rows and largest.kind == item.kind and natural_key(item.id) < natural_key(largest.id):
                largest = item
    return Size(total, largest, largest_rows)


#: What a matrix's rows are made of, per item a link of the chain joins to another column: the item's
#: column, and the items it steps to (those of later columns it links to, either way; sorted). Where an item's
#: column and steps are the same, and those of every item it reaches, its rows are the same
#: (:func:`retrace_matrix`); an item no such link joins has one row, which its column places.
Shape = dict[str, tuple[int, tuple[str, ...]]]


def matrix_shape(paths: Paths) -> Shape:
    """The shape of the matrix ``paths`` walks."""
    items, column_of = paths.project.items, paths.column_of
    shape = {item_id: (column_of[items[item_id].kind], tuple(sorted(later))) for item_id, later in paths.later.items()}
    nothing: tuple[str, ...] = ()
    for item_id in paths.reached:
        if item_id not in shape:
            shape[item_id] = (column_of[items[item_id].kind], nothing)
    return shape


def retrace_matrix(
    project: Project,
    chain: Chain,
    rows: Sequence[Sequence[str | None]],
    shape: Shape,
    max_rows: int = MAX_ROWS,
) -> tuple[Matrix, Shape] | None:
    """The matrix along ``chain`` (as :func:`trace_matrix` makes it, without findings), from the rows
    of an earlier matrix of the chain (as item ids, none cut away) and the ``shape`` they were made of,
    with its shape now: the rows that start at an item in the same column, from which no step reaches
    an item whose column or steps changed, are taken again; the rows of the other items are walked.
    Rows go from their first item to the right end (:meth:`Paths.rows`), so the rows of an item are a
    run of the matrix, made of what it reaches alone. None where the matrix has more than
    ``max_rows`` rows now (it is cut: walk it whole), or the rows are not a matrix's."""
    paths = Paths(project, chain)
    now = matrix_shape(paths)
    changed = [item_id for item_id in now.keys() | shape.keys() if now.get(item_id) != shape.get(item_id)]
    walked = _reaching(changed, now)
    earlier: dict[str, tuple[int, list[Sequence[str | None]]]] = {}
    for row in rows:
        column = next((index for index, item_id in enumerate(row) if item_id is not None), None)
        if column is None:
            return None  # not the rows of a matrix: walk it whole
        start = cast(str, row[column])
        earlier.setdefault(start, (column, []))[1].append(row)
    items = project.items
    made: list[tuple[Item | None, ...]] = []
    for column, item in paths.starts():
        taken = earlier.get(item.id)
        if taken is None or taken[0] != column or item.id in walked:
            made += [row for row, _ in paths.rows([(column, item)])]
        else:
            try:
                made += matrix_rows(items, taken[1])
            except KeyError:  # an item that is gone on a row kept: not this shape's rows
                return None
        if len(made) > max_rows:
            return None
    return Matrix(chain.columns, tuple(made), chain.title), now


def matrix_rows(items: Mapping[str, Item], rows: Iterable[Sequence[str | None]]) -> list[tuple[Item | None, ...]]:
    """Rows of item ids (None: an empty cell) as rows of ``items`` (KeyError for an id it lacks)."""
    return [tuple(None if item_id is None else items[item_id] for item_id in row) for row in rows]


def _reaching(changed: Iterable[str], shape: Shape) -> set[str]:
    """The items of ``changed`` and every item from which the steps of ``shape`` reach one. The steps of
    the earlier shape are not needed: where an item reached a changed one then, the first changed item on
    that path is reached now, by the same steps of the unchanged items before it."""
    up: dict[str, list[str]] = {}
    for item_id, (_, later) in shape.items():
        for other in later:
            up.setdefault(other, []).append(item_id)
    found = set(changed)
    waiting = list(found)
    while waiting:
        for before in up.get(waiting.pop(), ()):
            if before not in found:
                found.add(before)
                waiting.append(before)
    return found


def trace_matrix(
    project: Project, chain: Chain, max_rows: int = MAX_ROWS, *, wrong_kind: Mapping[Location, Finding] | None = None
) -> Matrix:
    """Every path along the chain, at most ``max_rows`` of them (the rest counted, not made).

    An empty cell between two items means their link passes that column by; an empty cell at
    the end, that nothing further links to the item before it; empty cells at the start, that
    the row's first item links to nothing further left. Every item of the chain is on some row
    when the chain takes orphans, and every link between items of two of its columns is a step
    of some row, links that break a kind rule (Q006) too: each row carries the findings of the
    links it shows (``wrong_kind``: those of the project, when the caller has them for several
    matrices; :func:`wrong_kind_findings`). Rows keep the natural order of their items.
    """
    return _walked(Paths(project, chain), max_rows, wrong_kind)


def shaped_trace_matrix(
    project: Project, chain: Chain, *, wrong_kind: Mapping[Location, Finding] | None = None
) -> tuple[Matrix, Shape]:
    """:func:`trace_matrix`, with the shape of the matrix (what :func:`retrace_matrix` starts from)."""
    paths = Paths(project, chain)
    return _walked(paths, MAX_ROWS, wrong_kind), matrix_shape(paths)


def _walked(paths: Paths, max_rows: int, wrong_kind: Mapping[Location, Finding] | None) -> Matrix:
    """Every path ``paths`` walks, as :func:`trace_matrix` makes them."""
    project, chain = paths.project, paths.chain
    starts = paths.starts()
    total = sum(paths.count(item.id) for _, item in starts)
    wrong_kind = wrong_kind_findings(project) if wrong_kind is None else wrong_kind
    rows, findings = [], []
    for row, links in itertools.islice(paths.rows(starts), max_rows):
        rows.append(row)
        findings.append(_row_findings(paths, row, links, wrong_kind))
    cuts: tuple[Cut, ...] = ()
    if total > len(rows):
        cuts = (Cut(chain.title, len(rows), total, _start_of_row(paths, starts, len(rows)).id),)
    return Matrix(chain.columns, tuple(rows), chain.title, findings=tuple(findings) if any(findings) else (), cuts=cuts)


def _start_of_row(paths: Paths, starts: Sequence[tuple[int, Item]], index: int) -> Item:
    """The item the row at ``index`` (from 0) starts at, found from the counts alone."""
    for _, item in starts:
        count = paths.count(item.id)
        if index < count:
            return item
        index -= count
    raise IndexError(index)


def wrong_kind_findings(project: Project) -> dict[Location, Finding]:
    """The findings of links that break a kind rule (Q006, at the project's severity), by link location."""
    severity = SPECS["Q006"].severity_in(project.config.rules, project.config.safety_class)
    if severity is Severity.OFF:
        return {}
    return {
        link.location: Finding("Q006", severity, message, link.location, link.source)
        for link, message in wrong_kind_links(project)
    }


def _row_findings(
    paths: Paths, row: Sequence[Item | None], links: Sequence[Link], wrong_kind: Mapping[Location, Finding]
) -> tuple[Finding, ...]:
    """The findings of the links a row shows: its steps, and its items' links within their own column."""
    if not wrong_kind:
        return ()
    shown = [*links, *(link for item in row if item is not None for link in paths.same.get(item.id, ()))]
    found = (wrong_kind.get(link.location) for link in shown)
    return tuple(dict.fromkeys(finding for finding in found if finding is not None))


def default_matrices(project: Project, max_rows: int = MAX_ROWS) -> tuple[Matrix, Matrix]:
    """What ``qms matrix`` shows without ``--chain``: the design chain, then hazards -> controls -> tests."""
    return trace_matrix(project, DESIGN, max_rows), trace_matrix(project, RISK, max_rows)


def merge_matrices(matrices: Sequence[Matrix], order: Sequence[str], title: str) -> Matrix:
    """Several matrices as one table with a column per kind (in ``order``), for single-table formats (CSV).

    Each row keeps its own path; a cell goes to the column of its item's kind, so a risk control
    that is a system requirement lands in the system requirement column.
    """
    kinds = [kind for kind in order if any(kind in column for matrix in matrices for column in matrix.columns)]
    position = {kind: index for index, kind in enumerate(kinds)}
    rows: list[tuple[Item | None, ...]] = []
    verdicts: list[str | None] = []
    findings: list[tuple[Finding, ...]] = []
    for matrix in matrices:
        for index, row in enumerate(matrix.rows):
            cells: list[Item | None] = [None] * len(kinds)
            for item in row:
                if item is not None and item.kind in position:
                    cells[position[item.kind]] = item
            rows.append(tuple(cells))
            verdicts.append(matrix.verdicts[index] if matrix.verdicts else None)
            findings.append(matrix.findings[index] if matrix.findings else ())
    return Matrix(
        tuple((kind,) for kind in kinds),
        tuple(rows),
        title,
        tuple(verdicts) if any(matrix.verdicts for matrix in matrices) else (),
        tuple(findings) if any(findings) else (),
        tuple(cut for matrix in matrices for cut in matrix.cuts),
    )


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
        statuses = project_statuses(project)
    known = statuses

    def outcome(test_id: str) -> str | None:
        status = known.status(test_id)
        return status.value if status is not None else None

    return tuple(with_verdicts(matrix, outcome) for matrix in matrices)


def verified_defaults(project: Project, statuses: StatusIndex | None = None) -> tuple[Matrix, ...]:
    """The default matrices (:func:`default_matrices`) with each row's verification status."""
    return verified(project, default_matrices(project), statuses)


def combined_matrix(
    project: Project, statuses: StatusIndex | None = None, matrices: Sequence[Matrix] | None = None
) -> Matrix:
    """Both default matrices as one table with a column per kind and each row's verification
    status: what a single-table format (CSV, the site's download) holds. ``matrices``: the default
    matrices with their statuses, when already made."""
    if matrices is None:
        matrices = verified_defaults(project, statuses)
    return merge_matrices(matrices, COMBINED_ORDER, "Traceability")
