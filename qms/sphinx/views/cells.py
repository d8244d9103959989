"""Table cells and tables as typed values: one description that the HTML and the docutils writers both render.

:mod:`qms.sphinx.html` writes these values as HTML strings, :mod:`qms.sphinx.render` as docutils
nodes for every other builder; neither reads anything else, so the two outputs cannot drift.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qms.reprs import plain_reprs


@dataclass(frozen=True, slots=True)
class ItemRef:
    """A link to an item's block: its id, with its title shown after it or (``with_title`` False) as tooltip."""

    id: str
    title: str = ""
    with_title: bool = True


@dataclass(frozen=True, slots=True)
class Listed:
    """One item of a list of linked items, with its verification status when it has one."""

    id: str
    title: str
    status: str | None = None


@dataclass(frozen=True, slots=True)
class Items:
    """Linked items, one per line."""

    entries: tuple[Listed, ...]


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class Muted:
    """Text that says something is absent or secondary (shown greyed)."""

    text: str


@dataclass(frozen=True, slots=True)
class Strong:
    text: str


@dataclass(frozen=True, slots=True)
class Literal:
    """Code-like text: a file name, a digest, a test case id."""

    text: str


@dataclass(frozen=True, slots=True)
class Status:
    """An item's verification status as a badge (``text`` shown instead of the status when given)."""

    item_id: str
    status: str
    text: str = ""


@dataclass(frozen=True, slots=True)
class Risk:
    """A risk class badge: ``letter`` A, R, U (anything else: unknown) and the text shown."""

    letter: str
    text: str


@dataclass(frozen=True, slots=True)
class Badge:
    text: str
    style: str


@dataclass(frozen=True, slots=True)
class DocLink:
    """A link to a page of the site by its docname (at ``anchor`` when given)."""

    docname: str
    title: str
    anchor: str = ""


@dataclass(frozen=True, slots=True)
class LabelLink:
    """A link to a labelled section, shown by the section's title."""

    label: str


@dataclass(frozen=True, slots=True)
class FileLink:
    """A file published with the site (a download); builders without files show its label."""

    path: str
    label: str


@dataclass(frozen=True, slots=True)
class Gap:
    """An empty cell that is a gap in the trace (shown as a dash, marked missing)."""


@dataclass(frozen=True, slots=True)
class Lines:
    """Several cells stacked, one per line."""

    cells: tuple[Cell, ...]


@dataclass(frozen=True, slots=True)
class Join:
    """Several cells on one line."""

    cells: tuple[Cell, ...]


Cell = (
    ItemRef
    | Items
    | Text
    | Muted
    | Strong
    | Literal
    | Status
    | Risk
    | Badge
    | DocLink
    | LabelLink
    | FileLink
    | Gap
    | Lines
    | Join
)

#: An empty cell of an item table that is no gap in the trace.
NONE = Muted("—")

#: Cells written as blocks of their own (several paragraphs), not inside one paragraph.
BLOCK_CELLS = (Items, Lines)


@dataclass(frozen=True, slots=True)
class TableView:
    """A query's table: column headers and rows of cells; ``empty`` says in words why there is no row."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Cell, ...], ...]
    empty: str = ""


@dataclass(frozen=True, slots=True)
class Table:
    """A table ready to write: headers, rows of cells, and how it looks.

    ``widths`` are relative column widths; ``before`` and ``after`` are paragraphs around the
    table (a :class:`Join` for several cells on one line); ``note`` is a sentence under it.
    """

    headers: Sequence[str]
    rows: Sequence[Sequence[Cell]]
    classes: Sequence[str] = ()
    widths: Sequence[int] | None = None
    caption: str = ""
    interactive: bool = False
    note: str = ""
    before: Sequence[Cell] = ()
    after: Sequence[Cell] = ()


plain_reprs(globals())  # their text is fingerprinted: see qms.reprs
