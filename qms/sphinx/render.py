"""Data from :mod:`qms.sphinx.views` to docutils nodes: small tables, summaries, heat maps.

Only standard docutils nodes (with CSS classes) and Sphinx cross-references come out of here,
so every builder can write them; text from the project is always put into Text nodes, which
writers escape. Links are Sphinx cross-references while a page is read, or resolved
references (through :class:`~qms.sphinx.links.Links`) when a block is filled as the page is
written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from docutils import nodes
from sphinx import addnodes

if TYPE_CHECKING:
    from qms.sphinx.links import Links

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


def cell_nodes(cell: Sequence[Any], links: Links | None = None) -> list[nodes.Node]:
    """One table cell of the views' shape: ["item", id, title], ["text", s], ["items", [...]], ..."""
    kind = cell[0]
    if kind == "item":
        return [item_ref(cell[1], cell[2], with_title=len(cell) < 4 or bool(cell[3]), links=links)]
    if kind == "items":
        lines: list[nodes.Node] = []
        for entry in cell[1]:
            line = paragraph(item_ref(entry[0], entry[1], with_title=True, links=links), classes=[f"{P}-cell-line"])
            if len(entry) > 2 and entry[2] is not None:
                line += [nodes.Text(" "), status_badge(entry[0], entry[2])]
            lines.append(line)
        return lines
    if kind in ("text", "muted"):
        return [nodes.Text(str(cell[1]))]
    if kind == "status":
        return [status_badge(cell[1], cell[2])]
    if kind == "risk":
        return [risk_badge(cell[1], cell[2])]
    if kind == "badge":
        return [badge(cell[1], cell[2])]
    if kind == "doc":
        return [doc_ref(cell[1], cell[2], links, cell[3] if len(cell) > 3 else "")]
    if kind == "literal":
        return [nodes.literal(cell[1], cell[1])]
    if kind == "file":  # a file of the site: other builders have no files, so its name
        return [nodes.literal(cell[2], cell[2])]
    if kind == "strong":
        return [nodes.strong(cell[1], cell[1])]
    if kind == "lines":
        return [paragraph(*cell_nodes(line, links), classes=[f"{P}-cell-line"]) for line in cell[1]]
    if kind == "join":
        return [node for part in cell[1] for node in cell_nodes(part, links)]
    if kind == "label":
        return [label_ref(cell[1], links)]
    return [nodes.inline("—", "—", classes=[f"{P}-gap"])]  # "empty": a gap in the trace


def table(
    headers: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    classes: Sequence[str] = (),
    widths: Sequence[int] | None = None,
    render: Callable[[Sequence[Any]], list[nodes.Node]] = cell_nodes,
    caption: str = "",
) -> nodes.table:
    """A table of cells; the row cells are rendered with ``render``."""
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
            if rendered and all(
                isinstance(
                    node,
                    nodes.Text | nodes.inline | nodes.reference | nodes.literal | nodes.strong | addnodes.pending_xref,
                )
                for node in rendered
            ):
                entry += paragraph(*rendered)
            else:
                entry.extend(rendered)
            if cell and cell[0] == "empty":
                entry["classes"].append(f"{P}-gap-cell")
            row += entry
        body += row
    return table_node


# ------------------------------------------------------------------------------ heat maps


def heat_map(view: dict[str, Any], *, show_ids: bool) -> nodes.table:
    """A risk matrix: rows of severity (highest at the top), columns of probability, cells coloured by class."""
    headers = ["Severity \\ probability"] + [f"P{level} {name}" for level, name in view["probability"]]
    rows = [
        [["head", f"S{row['level']} {row['name']}"]] + [["heat", *cell] for cell in row["cells"]]
        for row in view["rows"]
    ]
    title = {"initial": "Before risk control", "residual": "After risk control", "policy": "Acceptability policy"}[
        view["when"]
    ]

    def render_cell(cell: Sequence[Any]) -> list[nodes.Node]:
        if cell[0] == "head":
            return [nodes.strong(cell[1], cell[1])]
        letter, count, ids = cell[1], cell[2], cell[3]
        if view["when"] == "policy":
            return [nodes.inline(letter, letter, classes=[f"{P}-heat-letter"])]
        shown: list[nodes.Node] = [nodes.inline(str(count), str(count), classes=[f"{P}-heat-count"])]
        if show_ids and ids:
            line = nodes.inline(classes=[f"{P}-heat-ids"])
            for index, item_id in enumerate(ids):
                if index:
                    line += nodes.Text(" ")
                line += item_ref(item_id)
            shown.append(line)
        return shown

    table_node = table(
        headers, rows, classes=[f"{P}-heat-map", f"{P}-heat-{view['when']}"], render=render_cell, caption=title
    )
    body_rows = list(table_node.findall(nodes.row))[1:]
    for row_node, row in zip(body_rows, view["rows"], strict=True):
        entries = [child for child in row_node.children if isinstance(child, nodes.Element)][1:]
        for entry, cell in zip(entries, row["cells"], strict=True):
            letter, count = cell[0], cell[1]
            entry["classes"] += [f"{P}-heat-{letter if letter in 'ARU' else 'unknown'}"]
            if count == 0 and view["when"] != "policy":
                entry["classes"].append(f"{P}-heat-zero")
    return table_node


def interactive(node: nodes.Node) -> nodes.container:
    """Wrap a table so the page script makes it filterable and sortable (works from file://)."""
    container = nodes.container(classes=[f"{P}-interactive"])
    container += node
    return container
