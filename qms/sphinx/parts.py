"""A long document's source cut into pages: the document stays one, its sections spread over parts.

A generated document showing more items than ``qms_page_items`` is written as several pages: the
first keeps the document's name, title, control block and purpose, and lists its parts; each
further part (``verification-part-2``) holds whole top-level sections of the document, and a
section too long for one page continues on the next (cut between its subsections, and inside a
list of items if one list alone is too long). The pieces, in order, are the document's text (a
PDF is printed from the document whole). Items keep their addresses: the first page carries an index of
the items on the other parts, which its script follows (``verification.html#TC-0001`` opens the
part holding TC-0001), and every link qms writes goes to the part itself.

The cut reads the reStructuredText the template wrote: headings (their levels in the order their
styles first appear, as docutils reads them), the labels before them, and the ids of the
``qms:items`` and ``qms:item`` directives, which are what makes a page heavy. Its tables
(``qms:table``, ``qms:matrix``, ``qms:risk-register``) weigh their rows, which the caller counts; a
table too long for one page is cut into ranges of rows (its ``:rows:`` option).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from docutils import nodes
from sphinx import addnodes
from sphinx.util.docutils import SphinxDirective

from qms.documents import document_of, part_name
from qms.sphinx.blocks import qms_html
from qms.sphinx.documents import escape

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

    from qms.sphinx.domain import QmsDomain

#: Table rows that weigh as much as one item block on a page (an item's block is some 6 to 8 kB of
#: HTML, a row of a table or matrix 0.5 to 1.7 kB).
ROWS_PER_ITEM = 4

#: What a link to an item (``:item:`` in a template's text) weighs: some 350 bytes of HTML.
LINK_WEIGHT = 0.05

#: The class of a section heading repeated where a section continues on the next part.
CONTINUED = "qms-continued"

_ADORNMENT = re.compile(r"([=\-~^\"'`#*+<>:._])\1{3,}\s*")
_LABEL = re.compile(r"\.\. _([^:]+):\s*$")
_DIRECTIVE = re.compile(r"\.\. qms:(items|item|table|matrix|risk-register)::(.*)$")
_OPTION = re.compile(r"\s+:([a-z-]+):(.*)$")

#: How many rows a table directive (``table``, ``matrix``, ``risk-register``) shows, from its options.
TableRows = Callable[[str, dict[str, str]], int]


# ------------------------------------------------------------------------------ reading the source


@dataclass
class _Block:
    """Lines of one section's body that go together (text, or one directive), and what they show."""

    lines: list[str]
    head: list[str] = field(default_factory=list)  # a directive and its options, repeated for each piece
    ids: list[str] = field(default_factory=list)  # a qms:items list: cut between its ids
    rows: int = 0  # a table: its rows, cut into ranges
    items: int = 0  # a qms:item directive: one

    @property
    def weight(self) -> float:
        if self.head:
            return len(self.ids) + self.items + self.rows / ROWS_PER_ITEM
        return sum(line.count(":item:") for line in self.lines) * LINK_WEIGHT


@dataclass
class _Piece:
    """Lines that go onto one page together, their weight, and the title of the section they open."""

    lines: list[str]
    weight: float
    title: str


@dataclass
class _Section:
    """A section: its labels and heading, its body, its subsections."""

    level: int
    labels: list[str]
    heading: list[str]
    body: list[_Block] = field(default_factory=list)
    children: list[_Section] = field(default_factory=list)

    @property
    def weight(self) -> float:
        return sum(block.weight for block in self.body) + sum(child.weight for child in self.children)

    def lines(self) -> list[str]:
        lines = [*self.labels, *self.heading]
        for block in self.body:
            lines += block.lines
        for child in self.children:
            lines += child.lines()
        return lines

    def continued(self) -> list[str]:
        """The heading again, without its labels, marked as a continuation."""
        return ["", f".. rst-class:: {CONTINUED}", "", *self.heading, ""]

    def title(self) -> str:
        return self.heading[-2] if len(self.heading) >= 2 else ""


def _heading_at(lines: list[str], index: int) -> tuple[int, tuple[str, bool]] | None:
    """(number of lines, style) of a heading starting at ``index``: a title line with an underline
    (and maybe an overline) at least as long, after a blank line."""
    if index > 0 and lines[index - 1].strip():
        return None
    line = lines[index]
    if _ADORNMENT.fullmatch(line) and index + 2 < len(lines):
        text, under = lines[index + 1], lines[index + 2]
        if text.strip() and under.rstrip() == line.rstrip() and len(line.rstrip()) >= len(text.strip()):
            return 3, (line[0], True)
    if index + 1 < len(lines) and line.strip() and not line[0].isspace() and not _ADORNMENT.fullmatch(line):
        under = lines[index + 1]
        if _ADORNMENT.fullmatch(under) and len(under.rstrip()) >= len(line.rstrip()):
            return 2, (under[0], False)
    return None


def _directive_at(lines: list[str], index: int, table_rows: TableRows) -> tuple[int, _Block] | None:
    """The lines of an item or table directive starting at ``index``, as a block."""
    found = _DIRECTIVE.match(lines[index])
    if found is None:
        return None
    end = index + 1
    options: dict[str, str] = {}
    while end < len(lines) and (option := _OPTION.match(lines[end])):
        options[option.group(1)] = option.group(2).strip()
        end += 1
    head = lines[index:end]
    content_start = end
    while end < len(lines) and (not lines[end].strip() or lines[end][0].isspace()):
        end += 1
    while end > content_start and not lines[end - 1].strip():
        end -= 1
    body = lines[content_start:end]
    name = found.group(1)
    if name == "items":
        return end - index, _Block(lines[index:end], head, ids=[item_id for line in body for item_id in line.split()])
    if name == "item":
        return end - index, _Block(lines[index:end], head, items=1)
    if "rows" in options:
        return end - index, _Block(lines[index:end], head)  # a range already: written as it is
    return end - index, _Block(lines[index:end], head, rows=table_rows(name, options))


def _read(text: str, table_rows: TableRows) -> tuple[_Piece, list[_Section]]:
    """The opening of the document up to its first section (its title among it), and its sections."""
    lines = text.split("\n")
    styles: list[tuple[str, bool]] = []
    preamble: list[_Block] = [_Block([])]
    stack: list[_Section] = []
    top: list[_Section] = []
    index = 0
    while index < len(lines):
        heading = _heading_at(lines, index)
        if heading is not None:
            size, style = heading
            if style not in styles:
                styles.append(style)
            level = styles.index(style)
            if level == 0:  # the document's title: part of the first page's opening lines
                preamble[-1].lines += lines[index : index + size]
                index += size
                continue
            body = stack[-1].body if stack else preamble
            labels = _take_labels(body[-1].lines)
            section = _Section(level, labels, lines[index : index + size], [_Block([])])
            while stack and stack[-1].level >= level:
                stack.pop()
            (stack[-1].children if stack else top).append(section)
            stack.append(section)
            index += size
            continue
        body = stack[-1].body if stack else preamble
        directive = _directive_at(lines, index, table_rows)
        if directive is not None:
            size, block = directive
            body += [block, _Block([])]
            index += size
            continue
        body[-1].lines.append(lines[index])
        index += 1
    opening = _Piece([line for block in preamble for line in block.lines], sum(block.weight for block in preamble), "")
    return opening, top


def _take_labels(lines: list[str]) -> list[str]:
    """The labels (with the blank lines around them) that end ``lines``, moved out: they belong to
    the heading after them."""
    start = len(lines)
    while start > 0 and (not lines[start - 1].strip() or _LABEL.match(lines[start - 1])):
        start -= 1
    if not any(_LABEL.match(line) for line in lines[start:]):
        return []
    taken = lines[start:]
    del lines[start:]
    return taken


# ------------------------------------------------------------------------------ cutting


def _block_pieces(block: _Block, limit: int) -> Iterator[_Piece]:
    """A block as one piece, or a long list of items or a long table as several."""
    if block.ids and block.weight > limit:
        for start in range(0, len(block.ids), limit):
            chunk = block.ids[start : start + limit]
            yield _Piece(["", *block.head, "", *(f"   {item_id}" for item_id in chunk), ""], len(chunk), "")
    elif block.rows and block.weight > limit:
        step = limit * ROWS_PER_ITEM
        for start in range(0, block.rows, step):
            end = min(block.rows, start + step)
            yield _Piece(["", *block.head, f"   :rows: {start + 1}-{end}", ""], (end - start) / ROWS_PER_ITEM, "")
    else:
        yield _Piece(block.lines, block.weight, "")


def _section_pieces(section: _Section, limit: int) -> list[_Piece]:
    """A section as pieces of at most ``limit`` (one piece when it fits), each after the first
    opening with the section's heading again."""
    if section.weight <= limit:
        return [_Piece(section.lines(), section.weight, section.title())]
    parts: list[_Piece] = []
    for block in section.body:
        parts += _block_pieces(block, limit)
    for child in section.children:
        parts += _section_pieces(child, limit)
    packed = _pack(parts, limit)
    first = _Piece([*section.labels, *section.heading, *packed[0].lines], packed[0].weight, section.title())
    rest = [_Piece([*section.continued(), *piece.lines], piece.weight, section.title()) for piece in packed[1:]]
    return [first, *rest]


def _pack(pieces: list[_Piece], limit: int) -> list[_Piece]:
    """Consecutive pieces joined while their weight stays within ``limit`` (at least one piece each)."""
    packed: list[_Piece] = []
    for piece in pieces:
        if packed and packed[-1].weight + piece.weight <= limit:
            last = packed[-1]
            last.lines += piece.lines
            last.weight += piece.weight
            last.title = last.title or piece.title
        else:
            packed.append(_Piece(list(piece.lines), piece.weight, piece.title))
    return packed


# ------------------------------------------------------------------------------ the pages


@dataclass(frozen=True, slots=True)
class Part:
    """One further page of a document: its name and source, and the items and labels it holds."""

    docname: str
    source: str
    anchors: tuple[str, ...]


def split(docname: str, title: str, text: str, limit: int, table_rows: TableRows) -> tuple[str, list[Part]]:
    """The first page's source and the further parts of a document; the source as it is and no
    parts when it shows at most ``limit`` items."""
    opening, sections = _read(text, table_rows)
    if opening.weight + sum(section.weight for section in sections) <= limit:
        return text, []
    pieces: list[_Piece] = []
    for section in sections:
        pieces += _section_pieces(section, limit)
    pages = _pack([opening, *pieces], limit)
    names = [docname, *(part_name(docname, number) for number in range(2, len(pages) + 1))]
    parts = [
        Part(
            names[number],
            _part_source(title, page.title, number + 1, len(pages), docname, page.lines),
            _anchors(page.lines),
        )
        for number, page in enumerate(pages[1:], start=1)
    ]
    first = pages[0].lines
    first[len(opening.lines) : len(opening.lines)] = _index(parts)
    return "\n".join(first), parts


def _part_source(title: str, section: str, number: int, count: int, docname: str, lines: list[str]) -> str:
    heading = f"{escape(title)}: {section}" if section else escape(title)
    rule = "=" * max(len(heading), 4)
    opening = [
        rule,
        heading,
        rule,
        "",
        ".. rst-class:: qms-part-note",
        "",
        f"Part {number} of {count} of :doc:`{docname}`.",
        "",
    ]
    return "\n".join([*opening, *lines, ""])


def _anchors(lines: list[str]) -> tuple[str, ...]:
    """The ids of the items a page shows and the labels of its sections: the addresses it holds."""
    anchors: list[str] = []
    in_items = False
    for line in lines:
        label = _LABEL.match(line)
        if label:
            anchors.append(label.group(1))
        directive = _DIRECTIVE.match(line)
        if directive is not None:
            in_items = directive.group(1) == "items"
            if directive.group(1) == "item":
                anchors.append(directive.group(2).strip())
            continue
        if in_items and line[:1].isspace() and not _OPTION.match(line):
            anchors += line.split()
        elif line.strip() and not line[:1].isspace():
            in_items = False
    return tuple(anchors)


def _index(parts: list[Part]) -> list[str]:
    """The first page's list of its parts with the addresses each holds, and the parts in its navigation."""
    return [
        "",
        ".. qms:parts::",
        "",
        *(f"   {part.docname} {json.dumps(list(part.anchors))}" for part in parts),
        "",
        ".. toctree::",
        "   :hidden:",
        "",
        *(f"   {part.docname}" for part in parts),
        "",
    ]


# ------------------------------------------------------------------------------ the first page's index

#: Follows an address on the first page to the part holding it: ``verification.html#TC-0001`` opens
#: the part with TC-0001 (the index before it lists each part's addresses, in the order of the links).
_FOLLOW = """<script>
(function () {
  var index = JSON.parse(document.currentScript.previousElementSibling.textContent);
  function follow() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    if (!id || document.getElementById(id)) { return; }
    var links = document.querySelectorAll(".qms-parts a[href]");
    for (var part = 0; part < index.length && part < links.length; part++) {
      if (index[part].indexOf(id) >= 0) {
        window.location.replace(links[part].href.split("#")[0] + "#" + encodeURIComponent(id));
        return;
      }
    }
  }
  document.addEventListener("DOMContentLoaded", follow);
  window.addEventListener("hashchange", follow);
})();
</script>"""


class PartsDirective(SphinxDirective):
    """``.. qms:parts::`` (written by :func:`split`): one line per part, its page and the addresses it
    holds as a JSON list; the parts as links, and the index that sends an address to its part."""

    has_content = True

    def run(self) -> list[nodes.Node]:
        pages: list[tuple[str, list[str]]] = []
        for line in self.content:
            docname, _, anchors = line.strip().partition(" ")
            pages.append((docname, json.loads(anchors or "[]")))
        intro = nodes.paragraph(text="This document continues on further pages:")
        entries = nodes.bullet_list()
        for docname, _ in pages:
            reference = addnodes.pending_xref(
                "", refdomain="std", reftype="doc", reftarget=f"/{docname}", refexplicit=False, refdoc=self.env.docname
            )
            reference += nodes.inline("", docname)
            entries += nodes.list_item("", nodes.paragraph("", "", reference))
        index = json.dumps([anchors for _, anchors in pages], separators=(",", ":")).replace("</", "<\\/")
        script = qms_html("", f'<script type="application/json">{index}</script>{_FOLLOW}', format="html")
        return [nodes.container("", intro, entries, script, classes=["qms-parts"])]


# ------------------------------------------------------------------------------ rebuilds


def moved(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """``env-get-updated``: every page with item links, when an item moved to another part.

    A page links to an item's part; an item moves when an item before it comes or goes, and the
    pages linking to it are not read again for that (their data did not change): they are written
    again, as a clean build would write them.
    """
    domain = cast("QmsDomain", env.domains["qms"])
    on_parts = sorted(
        (item_id, found[0])
        for item_id in domain.objects
        if (found := domain.placement(item_id)) is not None and document_of(found[0]) != found[0]
    )
    layout = hashlib.sha256(repr(on_parts).encode("utf-8")).hexdigest()
    if domain.data["parts_digest"] == layout:
        return []
    domain.data["parts_digest"] = layout
    return sorted(domain.data["dependencies"])
