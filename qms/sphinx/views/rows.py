"""A range of a table's or matrix's rows: a long document shows a long table over several pages.

The query ``("rows", "6001-12000", *query)`` answers with the rows 6,001 to 12,000 of ``query``'s
table (a ``table``, ``matrix`` or ``risk-register``), made alone: a title edit makes again the rows of
the pages that show it, not the whole table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from qms.sphinx.views.build import BuildData, Query, repr_digest
from qms.sphinx.views.cells import TableView
from qms.sphinx.views.items import kept_range, note_range
from qms.sphinx.views.tables import MatrixView


def bounds(rows: str) -> tuple[int, int]:
    """The first and last row (from 1) of ``1-6000``."""
    first, _, last = rows.partition("-")
    if not (first.strip().isdigit() and last.strip().isdigit() and 1 <= int(first) <= int(last)):
        raise ValueError(f"rows {rows!r}: write the first and last row, counted from 1 (1-6000)")
    return int(first), int(last)


def row_range(data: BuildData, rows: str, *query: str) -> TableView | MatrixView:
    """The rows ``rows`` of the table ``query`` answers, made alone (:attr:`TableRows.part`)."""
    first, last = bounds(rows)
    table = data.table_rows(query[0]) if query else None
    if table is None:
        raise ValueError(f"{query[0] if query else 'nothing'}: no rows to show in ranges")
    answer: TableView | MatrixView = table.part(data, first, last, *query[1:])
    return answer


#: Where a build finds the fingerprints of row ranges known from earlier builds (:class:`KnownRanges`).
KNOWN_RANGES: Query = ("known-ranges",)


@dataclass
class KnownRanges:
    """The fingerprint of each range of rows shown, by the fingerprint of its whole table's inputs:
    those of the last build (``earlier``) and those of this one (``now``, kept for the next)."""

    earlier: dict[str, str] = field(default_factory=dict)
    now: dict[str, str] = field(default_factory=dict)

    def get(self, key: str) -> str | None:
        found = self.now.get(key) or self.earlier.get(key)
        if found is not None:
            self.now[key] = found
        return found


def row_range_inputs(data: BuildData, rows: str, *query: str) -> list[str]:
    """What a range of rows shows: its own rows (and the table's headers and size), not all of the
    table's, so a change shows again only the pages whose rows changed. The whole table is answered
    only when what it reads changed (a title, a link, a status): each range's fingerprint is kept by
    the fingerprint of the whole table's inputs (:class:`KnownRanges`), and where those changed, the
    range takes its fingerprint from the last build while its rows have the same items, none of which
    is written or found otherwise (:func:`~qms.sphinx.views.items.kept_range`): a title edit makes
    again only the ranges that show the item."""
    key = f"{data.digest(tuple(query))} {rows}"
    name = repr((*query, rows))  # a query's texts may hold spaces: its parts stay apart
    known: KnownRanges | None = data.cache.get(KNOWN_RANGES)
    shown = known.get(key) if known is not None else None
    made: str | None = None  # the fingerprint of the range's rows, where the range is made
    if shown is None:
        table = data.table_rows(query[0]) if query else None
        first, last = bounds(rows)
        found = table.made_of(data, first, last, *query[1:]) if table is not None else None
        if found is not None:
            made = found[0]
            shown = kept_range(data, name, made, found[1])
        if shown is None:
            shown = repr_digest(data.answer(("rows", rows, *query)))  # kept: the page showing it asks again
        if known is not None:
            known.now[key] = shown
    note_range(data, name, made, shown)
    return [rows, shown]
