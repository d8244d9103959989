"""Tables of items and traceability matrices as typed cells: which rows, which columns, what each cell shows.

A table or matrix shows only rows with content: a matrix leaves out the rows of items that
trace to kinds outside its chain (a unit test in a validation matrix), and an empty table says
in a sentence, from the data, why it has no row.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from qms.fingerprints import link_cells, link_column, linked_items
from qms.lifecycle import effective_class
from qms.matrix import (
    DESIGN,
    MAX_ROWS,
    RISK,
    Chain,
    Cut,
    Matrix,
    Shape,
    matrix_rows,
    parse_chain,
    passed_by,
    retrace_matrix,
    shaped_trace_matrix,
    trace_matrix,
    wrong_kind_findings,
)
from qms.model import Finding, Item, Location
from qms.reprs import plain_reprs
from qms.risk import hazard_risk
from qms.schema import KIND_ORDER, KINDS, FieldType, link_spec
from qms.sphinx.filters import COMPUTED, Condition, field_values, is_computed, matching, parse_filter
from qms.sphinx.views.build import BuildData, Query, digest, field_label, kind_label, natural_sorted
from qms.sphinx.views.cells import (
    NONE,
    Badge,
    Cell,
    Gap,
    ItemRef,
    Items,
    Join,
    Lines,
    Listed,
    Muted,
    Risk,
    Status,
    TableView,
    Text,
)
from qms.sphinx.views.items import field_value, project_inputs, shown_value


def _column_values(data: BuildData, kinds: tuple[str, ...], item: Item, name: str) -> list[str]:
    """An item's values of a column for filtering: computed columns as the table shows them."""
    if not is_computed(name, kinds):
        return field_values(item, name)
    if name == "status":
        status = data.verdict(item.id)
        return [status] if status else []
    if name == "findings":
        return [finding.rule for finding in data.findings_by_item.get(item.id, ())]
    if name in ("risk", "residual_risk"):
        risk = hazard_risk(data.project.config.risk_policy, item)
        estimate = risk.initial if name == "risk" else risk.residual
        return [estimate.risk_class.value] if estimate else []
    return field_values(item, name)


def column_names(kinds: tuple[str, ...]) -> set[str]:
    names = set(COMPUTED)
    for kind in kinds:
        names.update(KINDS[kind].field_names)
    for spec in KINDS.values():
        names.update(field_spec.reverse.replace(" ", "_") for field_spec in spec.link_fields)
    return names


def _cell(data: BuildData, item: Item, column: str, kinds: tuple[str, ...]) -> Cell:
    project = data.project
    if column == "id":
        return ItemRef(item.id, item.title)
    if column in ("title", "kind", "file"):
        return Text(kind_label(item.kind) if column == "kind" else str(getattr(item, column)))
    if column == "status" and is_computed(column, kinds):
        status = data.verdict(item.id)
        return Status(item.id, status) if status else Text("")
    if column == "findings":
        rules = ", ".join(finding.rule for finding in data.findings_by_item.get(item.id, ()))
        return Text(rules) if rules else Muted("none")  # an empty cell would read as not filled in
    if column in ("risk", "residual_risk"):
        risk = hazard_risk(project.config.risk_policy, item)
        estimate = risk.initial if column == "risk" else risk.residual
        return Risk(estimate.risk_class.value, estimate.risk_class.label) if estimate else Gap()
    link = link_column(kinds, column)
    if link is not None:
        direction = link[0]
        unique = {target.id: target for target in linked_items(project, item, column, link)}
        if unique:
            return Items(tuple(Listed(target.id, target.title) for target in natural_sorted(unique.values())))
        # nothing verifies, implements or uses it: a gap; it links to nothing itself: just empty
        return Gap() if direction == "reverse" else NONE
    column_spec = KINDS[item.kind].field(column) if item.kind in KINDS else None
    value = item.get(column)
    if value is None and column == "safety_class" and column_spec is not None:
        # written only where it differs: the class it has is its parent's, or the device's (IEC 62304 4.3)
        return Join((Text(effective_class(project, item)), Muted(" inherited")))
    if value is None:
        return NONE
    if column_spec and column_spec.type is not FieldType.TEXT:
        return Text(shown_value(field_value(data, item, column_spec, column, value)))
    return Text(plain(value))


def plain(value: Any) -> str:
    """A field value as one line of text: list entries and mapping entries joined by commas."""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(entry) for entry in value)
    if isinstance(value, Mapping):
        return ", ".join(f"{key}: {entry}" for key, entry in value.items())
    return " ".join(str(value).split())


def table_kinds(text: str) -> tuple[str, ...]:
    kinds = tuple(kind.strip() for kind in text.replace("|", ",").split(",") if kind.strip())
    unknown = [kind for kind in kinds if kind not in KINDS]
    if unknown:
        raise ValueError(f"unknown kind {', '.join(unknown)}; kinds: {', '.join(KINDS)}")
    return kinds or KIND_ORDER


def table_query(
    kinds_text: str, filter_text: str, columns_text: str
) -> tuple[tuple[str, ...], tuple[Condition, ...], list[str]]:
    """A table's kinds, filter and columns, checked against the schema (ValueError names the problem)."""
    kinds = table_kinds(kinds_text)
    columns = [column.strip() for column in columns_text.split(",") if column.strip()] or ["id", "title"]
    known = column_names(kinds)
    unknown = [column for column in columns if column not in known]
    if unknown:
        raise ValueError(f"unknown column {', '.join(unknown)}; columns: {', '.join(sorted(known))}")
    return kinds, parse_filter(filter_text, kinds), columns


def item_table(data: BuildData, kinds_text: str, filter_text: str, columns_text: str) -> TableView:
    """A filtered table of items: one row per item, in id order, the columns asked for."""
    return _item_table(data, kinds_text, filter_text, columns_text, None)


def item_table_part(
    data: BuildData, first: int, last: int, kinds_text: str, filter_text: str, columns_text: str
) -> TableView:
    """The rows ``first`` to ``last`` of :func:`item_table` (:class:`TableRows` ``part``), made alone."""
    return _item_table(data, kinds_text, filter_text, columns_text, (first, last))


def _item_table(
    data: BuildData, kinds_text: str, filter_text: str, columns_text: str, part: tuple[int, int] | None
) -> TableView:
    kinds, conditions, columns = table_query(kinds_text, filter_text, columns_text)
    items = _table_items(data, kinds, conditions)
    shown = items if part is None else items[part[0] - 1 : part[1]]
    rows = tuple(tuple(_cell(data, item, column, kinds) for column in columns) for item in shown)
    headers = tuple(_header(column, kinds) for column in columns)
    if items:
        return TableView(headers, rows, "")
    return TableView(headers, rows, _no_match(kinds, len(data.project.of_kind(*kinds)), filter_text, conditions))


def _table_items(data: BuildData, kinds: tuple[str, ...], conditions: tuple[Condition, ...]) -> list[Item]:
    """The items of an item table's rows, in their order (those of its kinds its filter keeps), found
    once a build."""
    key = ("table-items", *kinds, repr(conditions))
    if key not in data.cache:
        kept = matching(data.project.of_kind(*kinds), conditions, functools.partial(_column_values, data, kinds))
        data.cache[key] = natural_sorted(kept)
    items: list[Item] = data.cache[key]
    return items


def item_table_count(data: BuildData, kinds_text: str, filter_text: str, columns_text: str) -> int:
    """How many rows an item table has (:class:`TableRows` ``count``): the items its filter keeps."""
    kinds, conditions, _ = table_query(kinds_text, filter_text, columns_text)
    return len(_table_items(data, kinds, conditions))


def item_table_made_of(
    data: BuildData, first: int, last: int, kinds_text: str, filter_text: str, columns_text: str
) -> tuple[str, list[str]] | None:
    """What the rows ``first`` to ``last`` of an item table are made of (:class:`TableRows` ``made_of``):
    their items, and the items their link cells name; None for a table showing a safety class (an
    item's class may be inherited from a parent no row shows)."""
    kinds, conditions, columns = table_query(kinds_text, filter_text, columns_text)
    used = {*columns, *(condition.name for condition in conditions)}
    if "safety_class" in used:
        return None
    items = _table_items(data, kinds, conditions)
    if not items:
        return None  # the range says why the table is empty, from more than its rows
    shown = items[first - 1 : last]
    links = [(name, link) for name in sorted(used) if (link := link_column(kinds, name)) is not None]
    named = [
        target.id for item in shown for name, link in links for target in linked_items(data.project, item, name, link)
    ]
    ids = [item.id for item in shown]
    return digest(ids), [*ids, *named]


def _no_match(kinds: tuple[str, ...], count: int, filter_text: str, conditions: tuple[Condition, ...]) -> str:
    """Why an item table has no row, in words: no item of its kinds, or none the filter keeps (a
    table of the items lacking a field, left empty, says that every item has it)."""
    named = " or ".join(kind_label(kind) for kind in kinds) if kinds != KIND_ORDER else "item"
    if not count:
        return f"No {named} is recorded yet."
    if len(conditions) == 1 and conditions[0].negated and not conditions[0].values:
        field = field_label(conditions[0].name).lower()
        if count == 1:
            return f"The one {named} states {field}."
        return f"Every one of the {count} items ({named}) states {field}."
    return f"None of the {count} items ({named}) matches the filter {filter_text.strip()}."


def _header(column: str, kinds: tuple[str, ...]) -> str:
    if not is_computed(column, kinds):
        return field_label(column)
    return {"id": "Id", "status": "Verification", "risk": "Initial risk", "residual_risk": "Residual risk"}.get(
        column, field_label(column)
    )


def item_table_inputs(data: BuildData, kinds_text: str, filter_text: str, columns_text: str) -> list[str]:
    """What an item table reads: of its kinds' items, the id, title, kind, file and the fields it shows
    or filters on (all of them for a risk column: the risk is estimated from several); the project
    file (risk policy names); the statuses and findings of those items where it shows or filters
    them; where it shows links, the id and title of each item its link cells name. Another field
    of its items, or a status, finding or title elsewhere, leaves the table as it is."""
    kinds, conditions, columns = table_query(kinds_text, filter_text, columns_text)
    used = {*columns, *(condition.name for condition in conditions)}
    items = data.project.of_kind(*kinds)
    read = None if used & {"risk", "residual_risk"} else frozenset(used)
    inputs = [data.kind_content(kinds, read), project_inputs(data)]
    if "status" in used:
        inputs.append(digest([[item.id, data.verdict(item.id)] for item in items]))
    if "safety_class" in used:
        inputs.append(digest([[item.id, effective_class(data.project, item)] for item in items]))
    if "findings" in used:
        found = data.findings_by_item
        inputs.append(digest([[item.id, [finding.rule for finding in found.get(item.id, ())]] for item in items]))
    for name in sorted(used):
        if link_column(kinds, name) is not None:
            inputs.append(link_cells(data, kinds, name))
    return inputs


# ------------------------------------------------------------------------------ matrices

#: Named chains for the matrix directive (any other chain is written out as kinds).
CHAINS = {
    "design": DESIGN,
    "risk": RISK,
    "validation": Chain("Validation", parse_chain("need,test")),
    "inputs": Chain("Design inputs", parse_chain("need,system_requirement,software_requirement")),
    "verification": Chain("Verification", parse_chain("system_requirement|software_requirement,test")),
    "architecture": Chain("Architecture", parse_chain("software_requirement,software_item,soup")),
}


def _chain(text: str) -> Chain:
    """A named chain (:data:`CHAINS`), or one written out as kinds (ValueError on an unknown kind)."""
    return CHAINS.get(text) or Chain("Traceability matrix", parse_chain(text))


#: Matrices up to this many rows show each item's title next to its id.
MATRIX_TITLES_UP_TO = 1500


@dataclass(frozen=True, slots=True)
class MatrixView:
    """A traceability matrix: its table, the kinds of each column, and the rows left out past its limit."""

    table: TableView
    kinds: tuple[tuple[str, ...], ...]
    cuts: tuple[str, ...]
    #: the rows shown (first and last, from 1) and all the matrix's rows, when a page shows a range of them
    range: tuple[int, int, int] | None = None


def _traces_elsewhere(items: tuple[Item | None, ...]) -> bool:
    """A row that starts after the first column at an item that links up the trace to another kind:
    the item is traced, just not along this chain (a unit test in a validation matrix)."""
    if items[0] is not None:
        return False
    start = next(item for item in items if item is not None)
    return any(
        (spec := link_spec(start.kind, name)) is not None and spec.upward and start.links(name) for name in start.fields
    )


def matrix_view(data: BuildData, chain_text: str, results: str = "yes") -> MatrixView:
    """The traceability matrix along a chain of kinds, with the tests' evidence when there is any,
    the findings of the links a row shows (Q006), and what was left out past the page's row limit."""
    return _matrix_view(data, chain_text, results, None)


def matrix_part(data: BuildData, first: int, last: int, chain_text: str, results: str = "yes") -> MatrixView:
    """The rows ``first`` to ``last`` of :func:`matrix_view` (:class:`TableRows` ``part``), made alone, with
    the range they are and the matrix's number of rows."""
    return _matrix_view(data, chain_text, results, (first, last))


def _matrix_view(data: BuildData, chain_text: str, results: str, part: tuple[int, int] | None) -> MatrixView:
    chain = _chain(chain_text)
    matrix, kept = _shown_rows(data, chain)
    with_results = _with_results(data, chain, results)
    headers = (*matrix.headers, *(["Result"] if with_results else []), *(["Findings"] if matrix.findings else []))
    titles = len(kept) <= MATRIX_TITLES_UP_TO  # beyond, titles are tooltips: the page stays light
    # an item's cell and a test's outcome made once for all the rows showing them (cells are values)
    refs = _Cells(lambda item: ItemRef(item.id, item.title, titles))
    outcomes = _Cells(lambda item: Status(item.id, outcome) if (outcome := data.verdict(item.id)) else _GAP)
    rows = []
    for index in kept if part is None else kept[part[0] - 1 : part[1]]:
        row = matrix.rows[index]
        between = passed_by(row)
        cells: list[Cell] = [
            refs.of(item) if item else _PASSED_BY if column in between else _GAP for column, item in enumerate(row)
        ]
        if with_results:
            last = row[-1]
            cells.append(outcomes.of(last) if last is not None else _GAP)
        if matrix.findings:
            found = tuple(_link_finding_cell(finding) for finding in matrix.findings[index])
            cells.append(Lines(found) if found else Text(""))
        rows.append(tuple(cells))
    empty = "" if kept else _no_rows(data, chain)
    return MatrixView(
        TableView(headers, tuple(rows), empty),
        tuple(tuple(column) for column in chain.columns),
        tuple(str(cut) for cut in matrix.cuts),
        None if part is None else (part[0], min(part[1], len(kept)), len(kept)),
    )


def _with_results(data: BuildData, chain: Chain, results: str) -> bool:
    """Whether a matrix shows its last column's outcomes: asked, with outcomes, and a column of tests."""
    return results == "yes" and data.statuses is not None and "test" in chain.columns[-1]


def _shown_rows(data: BuildData, chain: Chain) -> tuple[Matrix, list[int]]:
    """The matrix along ``chain`` and the rows a view shows of it, by index, found once a build: not
    those of items traced along another chain, unless a wrong link of theirs is shown."""
    key = ("shown-rows", kept_key(chain))
    if key not in data.cache:
        matrix = _trace(data, chain)
        data.cache[key] = (
            matrix,
            [
                index
                for index, row in enumerate(matrix.rows)
                if not _traces_elsewhere(row) or (matrix.findings and matrix.findings[index])  # a wrong link is shown
            ],
        )
    found: tuple[Matrix, list[int]] = data.cache[key]
    return found


def matrix_count(data: BuildData, chain_text: str, results: str = "yes") -> int:
    """How many rows a matrix shows (:class:`TableRows` ``count``)."""
    return len(_shown_rows(data, _chain(chain_text))[1])


def matrix_made_of(
    data: BuildData, first: int, last: int, chain_text: str, results: str = "yes"
) -> tuple[str, list[str]] | None:
    """What the rows ``first`` to ``last`` of a matrix are made of (:class:`TableRows` ``made_of``): the
    ids in each of its rows, with its number of rows (titles are shown up to a number), what it left
    out, whether it shows outcomes and findings; and the items in them."""
    chain = _chain(chain_text)
    matrix, kept = _shown_rows(data, chain)
    if not kept:
        return None  # the range says why the matrix is empty, from more than its rows
    rows = [matrix.rows[index] for index in kept[first - 1 : last]]
    ids = [[item.id if item is not None else None for item in row] for row in rows]
    whole = [len(kept), [str(cut) for cut in matrix.cuts], _with_results(data, chain, results), bool(matrix.findings)]
    return digest([ids, whole]), [item.id for row in rows for item in row if item is not None]


#: the empty cells of a matrix: a gap in the trace, and a column a link passes by
_GAP, _PASSED_BY = Gap(), Muted("→")


class _Cells:
    """The cell of each item, made by ``make`` the first time a row shows the item."""

    def __init__(self, make: Callable[[Item], Cell]) -> None:
        self.make = make
        self.made: dict[str, Cell] = {}

    def of(self, item: Item) -> Cell:
        cell = self.made.get(item.id)
        if cell is None:
            cell = self.made[item.id] = self.make(item)
        return cell


#: Where a build finds the matrices' rows kept from earlier builds (:class:`KeptMatrices`).
KEPT_MATRICES: Query = ("kept-matrices",)
#: the file of the build's doctree folder keeping them, beside the environment
MATRICES_FILE = "qms-matrix-rows.pickle"
#: the file keeping the shape of each matrix kept (:data:`qms.matrix.Shape`), read only to make one again
SHAPES_FILE = "qms-matrix-shapes.pickle"

#: A matrix's rows as item ids (None: an empty cell), and what it left out.
KeptRows = tuple[tuple[tuple[str | None, ...], ...], tuple[Cut, ...]]


@dataclass
class KeptMatrices:
    """The rows each matrix made, by its chain and row limit, with the fingerprint of the
    links they follow (:meth:`BuildData.link_content`), as ``load`` reads them the first time a
    matrix is made; ``changed`` when this build made any again. And the shape each was made of
    (:data:`qms.matrix.Shape`) with the same fingerprint, as ``load_shapes`` reads them the first time a
    matrix is made again (its links changed): the rows of the items whose paths did not change are
    taken again from there."""

    load: Callable[[], dict[str, tuple[str, KeptRows]]] = dict
    load_shapes: Callable[[], dict[str, tuple[str, Shape]]] = dict
    changed: bool = False
    _matrices: dict[str, tuple[str, KeptRows]] | None = None
    _shapes: dict[str, tuple[str, Shape]] | None = None

    @property
    def matrices(self) -> dict[str, tuple[str, KeptRows]]:
        if self._matrices is None:
            self._matrices = self.load()
        return self._matrices

    @property
    def shapes(self) -> dict[str, tuple[str, Shape]]:
        if self._shapes is None:
            self._shapes = self.load_shapes()
        return self._shapes


def _trace(data: BuildData, chain: Chain) -> Matrix:
    """The matrix along ``chain``. Its rows follow the links only: when they are the links the last
    build followed (a title, a text or an outcome changed), the rows it made are taken again, with
    this build's items in them (:class:`KeptMatrices`), instead of walking every path once more;
    where the links changed, the rows of the items that reach no changed path are taken again and
    the others walked (:func:`qms.matrix.retrace_matrix`). A project with a link that breaks a kind
    rule walks them all: its rows carry the links' findings. Made once a build, for every view of
    the chain (and the processes the build starts once it is made: :func:`qms.sphinx.sources.outdated`)."""
    key = ("trace", kept_key(chain))
    if key not in data.cache:
        data.cache[key] = _traced(data, chain)
    traced: Matrix = data.cache[key]
    return traced


def _traced(data: BuildData, chain: Chain) -> Matrix:
    """The matrix along ``chain``, made (:func:`_trace`)."""
    wrong_kind = kind_rule_findings(data)
    kept: KeptMatrices | None = data.cache.get(KEPT_MATRICES)
    if kept is None or wrong_kind:
        return trace_matrix(data.project, chain, wrong_kind=wrong_kind)
    key = kept_key(chain)
    links = data.link_content(tuple(kind for column in chain.columns for kind in column))
    found = kept.matrices.get(key)
    if found is not None and found[0] == links:
        ids, cuts = found[1]
        return Matrix(chain.columns, tuple(matrix_rows(data.project.items, ids)), chain.title, cuts=cuts)
    made = None
    if found is not None and not found[1][1]:  # rows kept, none cut away, of other links
        shaped = kept.shapes.get(key)
        if shaped is not None and shaped[0] == found[0]:  # the shape those rows were made of
            made = retrace_matrix(data.project, chain, found[1][0], shaped[1])
    matrix, shape = made if made is not None else shaped_trace_matrix(data.project, chain, wrong_kind=wrong_kind)
    rows_ids = tuple(tuple(None if item is None else item.id for item in row) for row in matrix.rows)
    kept.matrices[key] = (links, (rows_ids, matrix.cuts))
    kept.shapes[key] = (links, shape)
    kept.changed = True
    return matrix


def default_traces(data: BuildData) -> tuple[Matrix, Matrix]:
    """The matrices ``qms matrix`` shows without ``--chain`` (:func:`qms.matrix.default_matrices`),
    made as the site makes them: from the rows the last builds kept while the links are theirs."""
    return _trace(data, DESIGN), _trace(data, RISK)


def kept_key(chain: Chain) -> str:
    """The key of a matrix's kept rows: its chain and row limit, the same in every process (a set's
    ``repr`` is not: its order follows string hashes, which each process seeds anew)."""
    fields = sorted(chain.fields) if chain.fields is not None else None
    return repr((chain.title, chain.columns, chain.orphans, fields, MAX_ROWS))


def kind_rule_findings(data: BuildData) -> Mapping[Location, Finding]:
    """The findings of the project's links that break a kind rule, found once for all the matrices of a build."""
    key = ("wrong-kind-findings",)
    if key not in data.cache:
        data.cache[key] = wrong_kind_findings(data.project)
    found: Mapping[Location, Finding] = data.cache[key]
    return found


def rows_read(view: TableView | MatrixView) -> object:
    """What reading a page takes of a table or matrix, the rows being filled in when the page is
    written: whether it has any, and if not, why (the page says so instead)."""
    table = view.table if isinstance(view, MatrixView) else view
    return (bool(table.rows), table.empty)


#: :func:`rows_read` of every table, matrix and risk register with rows: each says why it has none
#: only when it has none (:attr:`~qms.sphinx.views.build.QuerySpec.read_with_rows`)
READ_WITH_ROWS = (True, "")


def _no_rows(data: BuildData, chain: Chain) -> str:
    """Why a matrix has no row, counted from the records."""
    counts = [sum(len(data.project.of_kind(kind)) for kind in column) for column in chain.columns]
    names = [" or ".join(kind_label(kind) for kind in column) for column in chain.columns]
    if not any(counts):
        return f"No items of these kinds yet ({', '.join(names)})."
    found = ", ".join(f"{name} {count}" for count, name in zip(counts, names, strict=True))
    return f"No {names[0]} is traced along {' → '.join(names)} (items recorded: {found})."


def _link_finding_cell(finding: Finding) -> Cell:
    """A finding of a link a matrix row shows: its code as a badge, then what is wrong."""
    return Join((Badge(finding.rule, "finding"), Text(f" {finding.item}: {finding.message}")))


def matrix_inputs(data: BuildData, chain: str, results: str = "yes") -> list[object]:
    """What a matrix reads: the items of its chain's kinds with their titles, links and outcomes, and
    the rule severities and safety class (they mark the Q006 links)."""
    config = data.project.config
    return [
        data.trace_content(tuple(kind for column in _chain(chain).columns for kind in column)),
        {code: str(severity) for code, severity in config.rules.items()},
        str(config.safety_class),
    ]


plain_reprs(globals())  # their text is fingerprinted: see qms.reprs
