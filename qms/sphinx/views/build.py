"""The project as one build sees it, the fingerprints of query answers, and the labels every view shares.

Every directive of the extension asks a query (:mod:`qms.sphinx.queries`) for its data and
renders only that data. Answers are typed values (frozen dataclasses, tuples, strings, numbers)
whose digest tells whether a page must be read again after the project changed: same data, same
page. Nothing here imports Sphinx.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sized
from dataclasses import dataclass, field, is_dataclass
from typing import TYPE_CHECKING, Any

from qms import fingerprints
from qms.clauses import DEFAULT_EDITION, ClauseTable
from qms.evidence import Evidence
from qms.fingerprints import by_item
from qms.fingerprints import digest as digest  # where the views have found them
from qms.fingerprints import repr_digest as repr_digest
from qms.gitinfo import DocumentControl
from qms.matrix import natural_key
from qms.model import Finding, Item, Project
from qms.records import RecordSet
from qms.reprs import plain_reprs
from qms.rules import CheckContext
from qms.status import StatusIndex
from qms.trace import relations as item_relations

if TYPE_CHECKING:
    from qms.sphinx.downloads import WorkbookJob

#: A query: its name, then its arguments (all strings, so it can be stored and compared).
Query = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QuerySpec:
    """How a query is answered, and (for costly ones) what its answer depends on.

    ``inputs`` fingerprints a costly query by what it reads instead of by its answer: the same
    inputs give the same answer, and the inputs are cheap to hash.
    """

    answer: Callable[..., Any]
    inputs: Callable[..., Any] | None = None
    #: whether the answer is kept for the rest of the build (:attr:`BuildData.cache`); one asked once
    #: by the page showing it and once more when that page is written is cheaper answered twice than
    #: kept through the build for every item
    kept: bool = True
    #: what reading a page takes of the answer, where the rest is filled in when the page is written
    #: (None: reading takes all of it): a page whose answers changed only in the rest is written
    #: again without being read again (:func:`qms.sphinx.sources.outdated`). Every directive asking
    #: this query must read no more of it than this says.
    read: Callable[[Any], object] | None = None
    #: for a table whose rows a long document shows over several pages: how they are counted, made
    #: in ranges, and told apart from the last build's (None: the answer has no rows to cut)
    table: TableRows | None = None
    #: what ``read`` takes of every answer of ``table`` that has rows (the same for all of them), so
    #: that what reading takes of a table with rows is known from counting them, without answering
    #: it (:meth:`BuildData.read_digest_now`); None: the answer is made
    read_with_rows: object = None


@dataclass(frozen=True, slots=True)
class TableRows:
    """How a table query's rows are counted and made in ranges, each function taking ``data``, then
    (for ``part`` and ``made_of``) the first and last row (from 1), then the query's arguments.

    ``count``: how many rows the answer has, without answering it (a long document is cut into pages
    by its tables' rows: :meth:`BuildData.rows`). ``part``: the rows ``first`` to ``last`` made alone,
    as the whole answer cut there shows them (a range of rows, the query ``rows``, answers with it).
    ``made_of``: what those rows are made of, the fingerprint of the ids in each row (and of what
    the whole table decides for every row, such as its number of rows) and the ids of the items the
    rows show, their cells' included; None where the rows read more than those items. A range whose
    rows and items did not change keeps its fingerprint from the last build
    (:func:`qms.sphinx.views.rows.row_range_inputs`).
    """

    count: Callable[..., int]
    part: Callable[..., Any]
    made_of: Callable[..., tuple[str, list[str]] | None]


def read_nothing(answer: object) -> None:
    """What reading a page takes of a query whose directive leaves only a block filled when the page
    is written (:attr:`QuerySpec.read`): nothing."""
    return None


def read_whether_any(answer: Sized) -> bool:
    """What reading a page takes of a query whose directive leaves a block filled when the page is
    written where the answer holds anything, and a sentence saying so where it holds nothing."""
    return bool(len(answer))


@dataclass
class BuildData:
    """The project as one build sees it: loaded once, with its findings, evidence and git state.

    ``cache`` keeps each query's answer for the rest of the build (the project does not change
    while Sphinx runs), so a query asked by many pages is computed once.
    """

    project: Project
    findings: tuple[Finding, ...]
    control: DocumentControl
    #: every query a page may ask (:data:`qms.sphinx.queries.QUERIES`)
    queries: Mapping[str, QuerySpec]
    evidence: Evidence | None = None  # when the project has result files
    statuses: StatusIndex | None = None  # every item's verification status
    records: RecordSet | None = None  # the execution records read
    #: result files, record files and attachments that differ from the last commit (or are not in git)
    uncommitted: frozenset[str] = frozenset()
    clauses: ClauseTable | None = None
    #: what the build's check read, for the release check (None: not run, and the pages say so)
    check: CheckContext | None = None
    edition: str = DEFAULT_EDITION
    document_prefix: str = ""
    cache: dict[Query, Any] = field(default_factory=dict)
    #: the Excel workbook being written beside the build (qms.sphinx.downloads)
    workbook_job: WorkbookJob | None = None
    digests: dict[Query, str] = field(default_factory=dict)
    _relations: dict[str, list[tuple[bool, str, Item]]] = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        self.found(self.findings)

    def found(self, findings: tuple[Finding, ...]) -> None:
        """The check's findings, once its rules ran (the build starts with none while they run)."""
        self.findings = findings
        self.findings_by_item = by_item(findings)

    def answer(self, query: Query) -> Any:
        """The data for ``query`` (computed once per build, unless its spec keeps no answer)."""
        if query in self.cache:
            return self.cache[query]
        spec = self.queries.get(query[0])
        if spec is None:
            raise KeyError(f"unknown query {query[0]!r}")
        answer = spec.answer(self, *query[1:])
        if spec.kept:
            self.cache[query] = answer
        return answer

    def digest(self, query: Query) -> str:
        """A short fingerprint of a query's data, to notice when a page needs reading again.

        Queries that are costly to answer (matrices, tables) are fingerprinted by their inputs
        (:attr:`QuerySpec.inputs`).
        """
        if query not in self.digests:
            spec = self.queries.get(query[0])
            inputs = spec.inputs if spec is not None else None
            try:
                data = inputs(self, *query[1:]) if inputs else self.answer(query)
            except (KeyError, TypeError, ValueError):
                inputs, data = None, None  # the query became invalid: the page must be read again to report it
            self.digests[query] = _inputs_digest(query, data) if inputs else _answer_digest(data)
        return self.digests[query]

    def table_rows(self, name: str) -> TableRows | None:
        """How the rows of the query ``name`` are counted and made in ranges (:attr:`QuerySpec.table`;
        None for a query whose answer has no rows to cut)."""
        spec = self.queries.get(name)
        return spec.table if spec is not None else None

    def rows(self, query: Query) -> int:
        """How many rows the table ``query`` answers with, counted without answering it
        (:attr:`TableRows.count`; ValueError for a query whose answer has no rows to count)."""
        table = self.table_rows(query[0])
        if table is None:
            raise ValueError(f"{query[0]}: no rows to count")
        return table.count(self, *query[1:])

    def read_digest(self, query: Query, answer: Any) -> str | None:
        """Fingerprint of what reading a page takes of ``query``'s ``answer`` (:attr:`QuerySpec.read`);
        None where reading takes all of it."""
        spec = self.queries.get(query[0])
        return repr_digest(spec.read(answer)) if spec is not None and spec.read is not None else None

    def read_digest_now(self, query: Query) -> str | None:
        """:meth:`read_digest` of ``query``'s answer now; a table that has rows and says what reading
        takes of such answers (:attr:`QuerySpec.read_with_rows`) is counted, not answered (a title
        edit would otherwise make the whole table of every page showing it, only to find that
        reading that page takes the same as before)."""
        spec = self.queries.get(query[0])
        with_rows = spec.read_with_rows if spec is not None and spec.table is not None else None
        if with_rows is not None and query not in self.cache and self.rows(query) > 0:
            return repr_digest(with_rows)
        return self.read_digest(query, self.answer(query))

    def relations(self, item_id: str) -> list[tuple[bool, str, Item]]:
        """An item's neighbours as (up the trace?, the link's meaning read from the item, neighbour)
        (:func:`qms.trace.relations`), made once per build for the items asked about (a build after
        one edit asks about few)."""
        found = self._relations.get(item_id)
        if found is None:
            found = [(link.upward, link.label, link.item) for link in item_relations(self.project, item_id)]
            self._relations[item_id] = found
        return found

    def trace_content(self, kinds: tuple[str, ...]) -> str:
        """:func:`qms.fingerprints.trace_content`, kept for the rest of the build."""
        return fingerprints.trace_content(self, kinds)

    def link_content(self, kinds: tuple[str, ...]) -> str:
        """:func:`qms.fingerprints.link_content`."""
        return fingerprints.link_content(self, kinds)

    def kind_content(self, kinds: tuple[str, ...], names: frozenset[str] | None = None) -> str:
        """:func:`qms.fingerprints.kind_content`, kept for the rest of the build."""
        return fingerprints.kind_content(self, kinds, names)

    # ---------------------------------------------------------------- shared look-ups

    def verdict(self, item_id: str) -> str | None:
        """The verification status of an item (:mod:`qms.status`); None for kinds that carry none."""
        return fingerprints.verdict(self, item_id)


def _answer_digest(answer: Any) -> str:
    """Fingerprint of a query's answer: a view (a frozen dataclass of tuples) by its ``repr``, which
    JSON would otherwise take whole and escape as one string; other answers as JSON."""
    return repr_digest(answer) if is_dataclass(answer) else digest(answer)


def _inputs_digest(query: Query, inputs: Any) -> str:
    """Fingerprint of a query and its inputs; inputs that are a list of texts (most are: fields
    and statuses as ``repr``, digests of larger parts) are hashed as they are, after the length of
    each, sparing the JSON encoding of every item's inputs on every build."""
    if not isinstance(inputs, list) or not all(type(part) is str for part in inputs):
        return digest([list(query), inputs])
    parts = (*query, *inputs)
    lengths = " ".join([str(len(part)) for part in parts])
    text = f"{len(query)} {lengths}\0" + "\0".join(parts)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:20]


def kind_label(kind: str) -> str:
    """``software_requirement`` -> ``software requirement``."""
    return "SOUP item" if kind == "soup" else kind.replace("_", " ")


def field_label(name: str) -> str:
    """``sequence_of_events`` -> ``Sequence of events``."""
    label = name.removeprefix("x-").replace("_", " ").replace("-", " ")
    return label[:1].upper() + label[1:]


def natural_sorted(items: Iterable[Item]) -> list[Item]:
    return sorted(items, key=lambda item: natural_key(item.id))


def text_line(item: Item, name: str) -> int:
    """The line where a text field's content starts (the line after ``|`` for a block scalar)."""
    line = item.location((name,)).line
    value = item.get(name)
    is_block = isinstance(value, str) and value.endswith("\n")
    return line + 1 if is_block and line else max(line, 1)


plain_reprs(globals())  # their text is fingerprinted: see qms.reprs
