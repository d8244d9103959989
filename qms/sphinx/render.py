"""Typed views (:mod:`qms.sphinx.views`) to docutils nodes: cells, small tables, summaries, heat maps.

Only standard docutils nodes (with CSS classes) and Sphinx cross-references come out of here,
so every builder can write them; text from the project is always put into Text nodes, which
writers escape. Links are Sphinx cross-references while a page is read, or resolved
references (through :class:`~qms.sphinx.links.Links`) when a block is filled as the page is
written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from docutils import nodes
from sphinx import addnodes

from qms.sphinx.html import heat_classes
from qms.sphinx.views.cells import (
    Badge,
    Cell,
    DocLink,
    FileLink,
    Gap,
    ItemRef,
    Items,
    Join,
    LabelLink,
    Lines,
    Literal,
    Muted,
    Risk,
    Status,
    Strong,
    Text,
)
from qms.sphinx.views.risk import HeatCell, RiskMatrixView

if TYPE_CHECKING:
    from qms.sphinx.links import Links

#: A table's cells: the views' :data:`~qms.sphinx.views.cells.Cell`, or a heat map's own.
C = TypeVar("C")

#: CSS class prefix of everything the extension renders.
P = "qms"


def _reference(href: str | None, child: nodes.Node, title: str = "") -> nodes.Node:
    if href is None:
        return child
    reference = nodes.reference("", "", internal=True, refuri=href)
    if title:
        reference["reftitle"] = title
    reference += child
    return reference


def item_ref(item_id: str, title: str = "", *, with_title: bool = False, links: Links | None = None) -> nodes.Node:
    """A link to an item's block: a cross-reference (``links`` None) or a resolved reference."""
    label = nodes.inline(item_id, item_id, classes=[f"{P}-id"])
    link: nodes.Node
    if links is None:
        link = addnodes.pending_xref(
            "", label, refdomain="qms", reftype="item", reftarget=item_id, refexplicit=True, refwarn=True
        )
    else:
        link = _reference(links.item(item_id), label, f"{item_id} {title}".strip())
    if not with_title or not title:
        return link
    wrapper = nodes.inline(classes=[f"{P}-ref"])
    wrapper += link
    wrapper += nodes.inline(title, f" {title}", classes=[f"{P}-ref-title"])
    return wrapper


def doc_ref(docname: str, title: str, links: Links | None = None, anchor: str = "") -> nodes.Node:
    """A link to a page of the site by its docname, shown with ``title`` (at ``anchor`` once links resolve)."""
    text = nodes.inline(title, title)
    if links is not None:
        href = links.doc(docname)
        return _reference(f"{href}#{anchor}" if href is not None and anchor else href, text)
    return addnodes.pending_xref(
        "", text, refdomain="std", reftype="doc", reftarget=f"/{docname}", refexplicit=True, refwarn=True
    )


def label_ref(label: str, links: Links | None = None) -> nodes.Node:
    """A link to a labelled section, shown with the section's title (Sphinx's ``:ref:``)."""
    if links is not None:
        found = links.label(label)
        if found is None:
            return nodes.inline(label, label, classes=[f"{P}-unresolved"])
        return _reference(found[0], nodes.inline(found[1], found[1]))
    return addnodes.pending_xref(
        "", nodes.inline(label, label), refdomain="std", reftype="ref", reftarget=label, refexplicit=False, refwarn=True
    )


def badge(text: str, style: str) -> nodes.inline:
    return nodes.inline(text, text, classes=[f"{P}-badge", f"{P}-badge-{style}"])


class qms_status(nodes.inline):
    """An item's verification status: HTML writes it with ``data-qms-item`` and ``data-qms-status``
    (:func:`visit_qms_status`); other builders write it as the inline text it is."""


def visit_qms_status(translator: Any, node: qms_status) -> None:
    attributes = {"data-qms-item": node["item"], "data-qms-status": node["status"]}
    translator.body.append(translator.starttag(node, "span", "", **attributes))


def depart_qms_status(translator: Any, node: qms_status) -> None:
    translator.body.append("</span>")


def status_badge(item_id: str, status: str, text: str = "") -> qms_status:
    """An item's verification status as a badge (see :func:`qms.sphinx.html.status` for the HTML)."""
    shown = text or status
    return qms_status(
        shown,
        shown,
        classes=[f"{P}-badge", f"{P}-badge-outcome-{status.replace(' ', '-')}"],
        item=item_id,
        status=status,
    )


def risk_badge(letter: str, text: str) -> nodes.inline:
    return nodes.inline(text, text, classes=[f"{P}-risk", f"{P}-risk-{letter if letter in 'ARU' else 'unknown'}"])


def paragraph(*children: nodes.Node | str, classes: Sequence[str] = ()) -> nodes.paragraph:
    node = nodes.paragraph(classes=list(classes))
    for child in children:
        node += nodes.Text(child) if isinstance(child, str) else child
    return node


def field(label: str, body: Iterable[nodes.Node]) -> nodes.field:
    """One entry of a field list: a label and its body."""
    entry = nodes.field()
    entry += nodes.field_name(label, label)
    field_body = nodes.field_body()
    field_body.extend(body)
    entry += field_body
    return entry


# ------------------------------------------------------------------------------ tables


def cell_nodes(cell: Cell, links: Links | None = None) -> list[nodes.Node]:
    """One table cell as nodes (:func:`qms.sphinx.html.cell_html` writes the same cell as HTML)."""
    match cell:
        case ItemRef(item_id, title, with_title):
            return [item_ref(item_id, title, with_title=with_title, links=links)]
        case Items(entries):
            lines: list[nodes.Node] = []
            for entry in entries:
                line = paragraph(
                    item_ref(entry.id, entry.title, with_title=True, links=links), classes=[f"{P}-cell-line"]
                )
                if entry.status is not None:
                    line += [nodes.Text(" "), status_badge(entry.id, entry.status)]
                lines.append(line)
            return lines
        case Text(text) | Muted(text):
            return [nodes.Text(text)]
        case Strong(text):
            return [nodes.strong(text, text)]
        case Literal(text):
            return [nodes.literal(text, text)]
        case Status(item_id, value, text):
            return [status_badge(item_id, value, text)]
        case Risk(letter, text):
            return [risk_badge(letter, text)]
        case Badge(text, style):
            return [badge(text, style)]
        case DocLink(docname, title, anchor):
            return [doc_ref(docname, title, links, anchor)]
        case LabelLink(label):
            return [label_ref(label, links)]
        case FileLink(_path, label):  # a file of the site: other builders have no files, so its name
            return [nodes.literal(label, label)]
        case Lines(cells):
            return [paragraph(*cell_nodes(line, links), classes=[f"{P}-cell-line"]) for line in cells]
        case Join(cells):
            return [node for part in cells for node in cell_nodes(part, links)]
        case Gap():
            return [nodes.inline("—", "—", classes=[f"{P}-gap"])]


#: Nodes a table entry holds inside one paragraph (anything else is a block of its own).
_INLINE = (nodes.Text, nodes.inline, nodes.reference, nodes.literal, nodes.strong, addnodes.pending_xref)


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Cell]],
    *,
    classes: Sequence[str] = (),
    widths: Sequence[int] | None = None,
    links: Links | None = None,
    caption: str = "",
) -> nodes.table:
    """A table of cells, links as cross-references (``links`` None) or resolved."""
    return _table(headers, rows, lambda cell: cell_nodes(cell, links), classes=classes, widths=widths, caption=caption)


def _table(
    headers: Sequence[str],
    rows: Iterable[Sequence[C]],
    render: Callable[[C], list[nodes.Node]],
    *,
    classes: Sequence[str] = (),
    widths: Sequence[int] | None = None,
    caption: str = "",
) -> nodes.table:
    """A table whose row cells are rendered with ``render``."""
    table_node = nodes.table(classes=[f"{P}-table", *classes, *(["colwidths-given"] if widths else [])])
    if caption:
        table_node += nodes.title(caption, caption)
    group = nodes.tgroup(cols=len(headers))
    table_node += group
    for width in widths or [1] * len(headers):
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    group += head
    head_row = nodes.row()
    head += head_row
    for header in headers:
        head_row += nodes.entry("", paragraph(header))
    body = nodes.tbody()
    group += body
    for cells in rows:
        row = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            rendered = render(cell)
            if rendered and all(isinstance(node, _INLINE) for node in rendered):
                entry += paragraph(*rendered)
            else:
                entry.extend(rendered)
            if isinstance(cell, Gap):
                entry["classes"].append(f"{P}-gap-cell")
            row += entry
        body += row
    return table_node


# ------------------------------------------------------------------------------ heat maps


def heat_map(view: RiskMatrixView, *, show_ids: bool, links: Links | None = None, anchor: str = "") -> nodes.table:
    """A risk matrix: rows of severity (highest at the top), columns of probability, cells coloured by class
    (:func:`qms.sphinx.html.heat_map_html` writes the same map as HTML)."""
    headers = ["Severity \\ probability"] + [f"P{level} {name}" for level, name in view.probability]
    rows: list[list[Strong | HeatCell]] = [[Strong(f"S{row.level} {row.name}"), *row.cells] for row in view.rows]

    def render_cell(cell: Strong | HeatCell) -> list[nodes.Node]:
        if isinstance(cell, Strong):
            return [nodes.strong(cell.text, cell.text)]
        if view.when == "policy":
            return [nodes.inline(cell.letter, cell.letter, classes=[f"{P}-heat-letter"])]
        shown: list[nodes.Node] = [nodes.inline(str(cell.count), str(cell.count), classes=[f"{P}-heat-count"])]
        if show_ids and cell.ids:
            line = nodes.inline(classes=[f"{P}-heat-ids"])
            for index, item_id in enumerate(cell.ids):
                if index:
                    line += nodes.Text(" ")
                line += item_ref(item_id, links=links)
            shown.append(line)
        return shown

    table_node = _table(
        headers, rows, render_cell, classes=[f"{P}-heat-map", f"{P}-heat-{view.when}"], caption=view.title
    )
    body_rows = list(table_node.findall(nodes.row))[1:]
    for row_node, row in zip(body_rows, view.rows, strict=True):
        entries = [child for child in row_node.children if isinstance(child, nodes.Element)][1:]
        for entry, cell in zip(entries, row.cells, strict=True):
            entry["classes"] += heat_classes(view, cell)
    if anchor:
        table_node["ids"].append(anchor)
    return table_node


def interactive(node: nodes.Node) -> nodes.container:
    """Wrap a table so the page script makes it filterable and sortable (works from file://)."""
    container = nodes.container(classes=[f"{P}-interactive"])
    container += node
    return container
