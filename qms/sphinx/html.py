"""Item blocks and tables written straight to HTML when the site is built.

A technical file of ten thousand items is mostly tables and links. Building each cell as
docutils nodes and running every transform over them costs minutes; writing the same markup
(docutils' own table classes, so the theme styles it alike) costs seconds. Every value is
escaped here; item text itself is never in these strings, it stays parsed docutils nodes.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from html import escape
from typing import Any

from qms.sphinx.links import Links
from qms.sphinx.views.cells import (
    BLOCK_CELLS,
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
    Listed,
    Literal,
    Muted,
    Risk,
    Status,
    Strong,
    Text,
)
from qms.sphinx.views.risk import HeatCell, RiskMatrixView

P = "qms"


def esc(text: object) -> str:
    return _escaped(text if type(text) is str else str(text))


@functools.lru_cache(maxsize=1 << 16)
def _escaped(text: str) -> str:
    """``text`` escaped, kept for the next time: a long table writes the same ids, titles and
    statuses in many rows, and a lookup takes half the time of escaping them again."""
    return escape(text, quote=True)


def item_link(links: Links, item_id: str, title: str = "", *, with_title: bool = False) -> str:
    """An item's id linked to its block (``title`` as tooltip, or shown after the id)."""
    key = (item_id, title, with_title)
    cached = links.html_cache.get(key)
    if cached is None:
        cached = links.html_cache[key] = _item_link(links, item_id, title, with_title)
    return cached


def _item_link(links: Links, item_id: str, title: str, with_title: bool) -> str:
    href = links.item(item_id)
    label = f'<span class="{P}-id">{esc(item_id)}</span>'
    tooltip = f"{item_id} {title}".strip()
    if href is None:
        link = f'<span class="{P}-unresolved" title="no page shows this item">{label}</span>'
    else:
        link = f'<a class="reference internal" href="{esc(href)}" title="{esc(tooltip)}">{label}</a>'
    if with_title and title:
        return f'<span class="{P}-ref">{link}<span class="{P}-ref-title"> {esc(title)}</span></span>'
    return link


def _listed(links: Links, entry: Listed) -> str:
    link = item_link(links, entry.id, entry.title, with_title=True)
    if entry.status is not None:
        link += " " + status(entry.id, entry.status)
    return link


def doc_link(links: Links, docname: str, title: str, anchor: str = "") -> str:
    href = links.doc(docname)
    if href is None:
        return esc(title)
    if anchor:
        href = f"{href}#{anchor}"
    return f'<a class="reference internal" href="{esc(href)}">{esc(title)}</a>'


def label_link(links: Links, label: str) -> str:
    found = links.label(label)
    if found is None:
        return f'<span class="{P}-unresolved">{esc(label)}</span>'
    href, title = found
    if href is None:
        return esc(title)
    return f'<a class="reference internal" href="{esc(href)}">{esc(title)}</a>'


def literal(text: str) -> str:
    return f'<code class="docutils literal notranslate"><span class="pre">{esc(text)}</span></code>'


def badge(text: str, style: str) -> str:
    return f'<span class="{P}-badge {P}-badge-{esc(style)}">{esc(text)}</span>'


def status(item_id: str, value: str, text: str = "") -> str:
    """An item's verification status as a badge carrying ``data-qms-item`` and ``data-qms-status``."""
    return (
        f'<span class="{P}-badge {P}-badge-outcome-{esc(value.replace(" ", "-"))}" '
        f'data-qms-item="{esc(item_id)}" data-qms-status="{esc(value)}">{esc(text or value)}</span>'
    )


def risk(letter: str, text: str) -> str:
    style = letter if letter in ("A", "R", "U") else "unknown"
    return f'<span class="{P}-risk {P}-risk-{style}">{esc(text)}</span>'


def cell_html(links: Links, cell: Cell) -> str:
    """The HTML of one cell (:func:`qms.sphinx.render.cell_nodes` writes the same cell as nodes)."""
    return _CELL_HTML[type(cell)](links, cell)  # by the cell's class: a long table has 100,000 cells


def _lines_html(links: Links, cell: Lines) -> str:
    return "".join(f'<p class="{P}-cell-line">{cell_html(links, line)}</p>' for line in cell.cells)


def _file_link_html(links: Links, cell: FileLink) -> str:
    return f'<a class="reference download" href="{esc(links.file(cell.path))}" download>{literal(cell.label)}</a>'


#: how each kind of cell is written (every class of :data:`~qms.sphinx.views.cells.Cell`)
_CELL_HTML: dict[type, Callable[[Links, Any], str]] = {
    ItemRef: lambda links, cell: item_link(links, cell.id, cell.title, with_title=cell.with_title),
    Items: lambda links, cell: "".join(
        f'<p class="{P}-cell-line">{_listed(links, entry)}</p>' for entry in cell.entries
    ),
    Text: lambda links, cell: esc(cell.text),
    Muted: lambda links, cell: f'<span class="{P}-muted">{esc(cell.text)}</span>',
    Strong: lambda links, cell: f"<strong>{esc(cell.text)}</strong>",
    Literal: lambda links, cell: literal(cell.text),
    Status: lambda links, cell: status(cell.item_id, cell.status, cell.text),
    Risk: lambda links, cell: risk(cell.letter, cell.text),
    Badge: lambda links, cell: badge(cell.text, cell.style),
    DocLink: lambda links, cell: doc_link(links, cell.docname, cell.title, cell.anchor),
    LabelLink: lambda links, cell: label_link(links, cell.label),
    FileLink: _file_link_html,
    Lines: _lines_html,
    Join: lambda links, cell: "".join(cell_html(links, part) for part in cell.cells),
    Gap: lambda links, cell: f'<span class="{P}-gap" title="missing">—</span>',
}


def table_html(
    links: Links,
    headers: Sequence[str],
    rows: Sequence[Sequence[Cell]],
    *,
    classes: Sequence[str] = (),
    widths: Sequence[int] | None = None,
    caption: str = "",
) -> str:
    """A table in the markup docutils writes for its own tables (so the theme styles both alike)."""
    names = " ".join(classes)
    parts = [f'<div class="table-wrapper {P}-table-wrapper"><table class="docutils align-default {P}-table {names}">']
    if caption:
        parts.append(f'<caption><span class="caption-text">{esc(caption)}</span></caption>')
    if widths:
        total = sum(widths)
        parts.append(
            "<colgroup>" + "".join(f'<col style="width: {100 * w / total:.1f}%" />' for w in widths) + "</colgroup>"
        )
    parts.append(
        "<thead><tr>" + "".join(f'<th class="head"><p>{esc(h)}</p></th>' for h in headers) + "</tr></thead><tbody>"
    )
    for index, row in enumerate(rows):
        parity = "row-odd" if index % 2 == 0 else "row-even"
        cells = []
        for cell in row:
            kind = type(cell)
            written = _CELL_HTML[kind](links, cell)
            if kind in BLOCK_CELLS:
                cells.append(f"<td>{written}</td>")
            elif kind is Gap:
                cells.append(f'<td class="{P}-gap-cell"><p>{written}</p></td>')
            else:
                cells.append(f"<td><p>{written}</p></td>")
        parts.append(f'<tr class="{parity}">' + "".join(cells) + "</tr>")
    parts.append("</tbody></table></div>")
    return "".join(parts)


def heat_classes(view: RiskMatrixView, cell: HeatCell) -> list[str]:
    """The classes of a heat map's cell: its risk class, and whether it places no hazard."""
    classes = [f"{P}-heat-{cell.letter if cell.letter in 'ARU' else 'unknown'}"]
    if cell.count == 0 and view.when != "policy":
        classes.append(f"{P}-heat-zero")
    return classes


def heat_map_html(
    links: Links, view: RiskMatrixView, *, show_ids: bool, anchor: str = "", link_title: str = "Link to this table"
) -> str:
    """A risk matrix as HTML, in the markup :func:`table_html` writes (:func:`qms.sphinx.render.heat_map`
    makes the same map as nodes): severity rows, highest first; probability columns; cells coloured by class.
    With an ``anchor``, the table has it as its id and its caption links to it (``link_title``, in the
    site's language), as Sphinx writes a captioned table."""
    headers = ["Severity \\ probability", *(f"P{level} {name}" for level, name in view.probability)]
    identity = f' id="{esc(anchor)}"' if anchor else ""
    link = f'<a class="headerlink" href="#{esc(anchor)}" title="{esc(link_title)}">¶</a>' if anchor else ""
    parts = [
        f'<div class="table-wrapper {P}-table-wrapper">'
        f'<table class="docutils align-default {P}-table {P}-heat-map {P}-heat-{esc(view.when)}"{identity}>'
        f'<caption><span class="caption-text">{esc(view.title)}</span>{link}</caption><thead><tr>',
        *(f'<th class="head"><p>{esc(header)}</p></th>' for header in headers),
        "</tr></thead><tbody>",
    ]
    for index, row in enumerate(view.rows):
        parts.append(
            f'<tr class="{"row-odd" if index % 2 == 0 else "row-even"}">'
            f"<td><p><strong>{esc(f'S{row.level} {row.name}')}</strong></p></td>"
        )
        for cell in row.cells:
            if view.when == "policy":
                shown = f'<span class="{P}-heat-letter">{esc(cell.letter)}</span>'
            else:
                shown = f'<span class="{P}-heat-count">{cell.count}</span>'
                if show_ids and cell.ids:
                    ids = " ".join(item_link(links, item_id) for item_id in cell.ids)
                    shown += f'<span class="{P}-heat-ids">{ids}</span>'
            parts.append(f'<td class="{" ".join(heat_classes(view, cell))}"><p>{shown}</p></td>')
        parts.append("</tr>")
    parts.append("</tbody></table></div>")
    return "".join(parts)
