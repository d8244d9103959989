"""The filled item blocks and tables of each page as HTML fragments, kept between builds.

A page written again (its document-control block changed, one of its items did) fills again only
the blocks whose inputs changed: every other block is put together from the fragments the last
build wrote for the same page, under a key made of everything the block's HTML depends on:

- the block's own inputs: its kind, its query's fingerprint (:meth:`BuildData.digest`, which
  decides whether a page is read again and so covers all the block shows), its options, its
  heading level, the page the matrix link leads to, and which of its item texts were parsed;
- what every block of the site depends on (:func:`site_context`): the page it is on, where every
  item (its kind and pages, not its title: a block shows the titles its query reads), page and
  labelled section is (links are addresses from this page), the qms settings,
  the builder, and the code of qms (its modules), Sphinx and docutils.

The parsed item text is never kept here: it is the node of the page being written, read with it.
Only HTML builders keep fragments; a build with a new environment (``--clean``) or a changed
configuration fills every block afresh and keeps what it wrote for the next build.

A page whose data changed only where its blocks are filled (a neighbour's title in an item's block,
a title in a matrix's rows: :func:`qms.sphinx.sources.rewritten`) need not be written by Sphinx at
all: :func:`splice_page` fills its changed blocks and puts their new HTML in place of the old in
the page the last build wrote, which is what Sphinx would write, byte for byte, since the rest of
the page (its parsed text, navigation, search entries) is made from what did not change. It does
so only where that holds by construction: every block of the page was kept, the changed pieces are
HTML that the search index does not read, the page holds each old piece exactly as often as its
blocks do (so its occurrences are theirs, in the order of the blocks: identical risk estimates of
several hazards each stand where their own hazard's block has them), and nothing warns; otherwise
Sphinx writes the page as before.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import docutils
import sphinx
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import CONFIG_OK
from sphinx.util import logging as sphinx_logging

from qms import __version__, parsecache
from qms.atomic import read_kept, write_bytes, write_kept
from qms.sphinx.blocks import (
    AnchoredTables,
    Shapes,
    block_texts,
    heading_level,
    qms_block,
    qms_html,
    qms_raw,
    resolve_block,
)
from qms.sphinx.domain import QmsDomain
from qms.sphinx.html import P
from qms.sphinx.links import Links
from qms.sphinx.settings import settings
from qms.sphinx.views.build import BuildData, Query, digest

FOLDER = "qms-fragments"

#: One piece of a filled block: ``("search", html)`` searchable HTML, ``("html", html)`` HTML left out of
#: the search index, ``("block", html)`` a table in its wrapper, ``("text", key)`` the block's parsed text.
Fragment = tuple[str, str]


@functools.cache
def code_digest() -> str:
    """Fingerprint of the code that fills blocks: qms's code (:func:`qms.parsecache.code_digest`), and
    Sphinx's and docutils' versions."""
    versions = f"{__version__} {sphinx.__version__} {docutils.__version__}".encode()
    return hashlib.sha256(versions + b"\0" + parsecache.code_digest()).hexdigest()[:20]


def site_context(app: Sphinx) -> str:
    """Fingerprint of what every block's HTML depends on beyond its own inputs (see the module's text)."""
    domain = cast(QmsDomain, app.env.domains["qms"])
    labels = sorted((name, *found) for name, found in app.env.domains.standard_domain.labels.items())
    options = settings(app.config)
    # where each item is (its kind and pages), not its title: a block shows the titles its own query reads
    placed = {
        item_id: sorted((page, entry[0]) for page, entry in pages.items()) for item_id, pages in domain.objects.items()
    }
    return digest(
        [
            code_digest(),
            app.builder.name,
            app.config.html_file_suffix,
            app.config.html_link_suffix,
            {name: value for name, value in dataclasses.asdict(options).items() if name != "site_folder"},
            sorted(app.env.all_docs),
            placed,
            labels,
        ]
    )


def block_key(unfilled_block: qms_block, fingerprint: str, level: int, matrix: str | None) -> str:
    """The key of one block on its page: its kind and options, its query's fingerprint, where it stands."""
    texts = sorted(block_texts(unfilled_block))
    options = sorted((name, str(value)) for name, value in unfilled_block.attributes.items() if name not in _NOT_KEYS)
    return digest([fingerprint, level, matrix, texts, options])


#: The attributes of an unfilled block that every docutils element has (ids, classes...): not its options.
_NOT_KEYS = frozenset(nodes.Element.basic_attributes) | {"query"}


@dataclass
class PageFragments:
    """The fragments of one page: those the last build kept, and those this build fills; and the key
    of each block of the page in reading order, as the last build wrote them (``written``) and as
    this build does (``order``)."""

    path: Path
    context: str
    kept: dict[str, tuple[Fragment, ...]] = field(default_factory=dict)
    filled: dict[str, tuple[Fragment, ...]] = field(default_factory=dict)
    written: tuple[str, ...] = ()
    order: list[str] = field(default_factory=list)

    def get(self, key: str) -> tuple[Fragment, ...] | None:
        self.order.append(key)
        found = self.kept.get(key)
        if found is not None:
            self.filled[key] = found
        return found

    def put(self, key: str, fragments: tuple[Fragment, ...] | None) -> None:
        if fragments is not None:
            self.filled[key] = fragments

    def save(self) -> None:
        """Keep this build's fragments of the page (only those it showed) for the next build."""
        write_kept(self.path, self.context, (tuple(self.order), self.filled))


def page_fragments(app: Sphinx, docname: str, context: str) -> PageFragments:
    """The fragments of ``docname`` as the last build left them, unless this build starts afresh."""
    folder = Path(app.doctreedir) / FOLDER
    path = folder / f"{hashlib.sha256(docname.encode()).hexdigest()[:24]}.pickle"
    page = PageFragments(path, digest([context, docname]))
    if app.fresh_env_used or app.env.config_status != CONFIG_OK:
        return page
    kept = read_kept(path, page.context)
    if isinstance(kept, tuple) and len(kept) == 2 and isinstance(kept[1], dict):  # else filled afresh
        page.written, page.kept = kept
    return page


def forget_fragments(app: Sphinx) -> None:
    """A build with a new environment keeps none of the fragments of earlier builds."""
    shutil.rmtree(Path(app.doctreedir) / FOLDER, ignore_errors=True)


# ------------------------------------------------------------------------------ fragments and nodes

#: The classes of a table's wrapper (:func:`qms.sphinx.blocks.resolve_block`).
BLOCK_CLASSES = ["no-search", f"{P}-block"]


def to_fragments(filled: Iterable[nodes.Node], raw_type: type[nodes.raw]) -> tuple[Fragment, ...] | None:
    """The filled block as fragments; None when it holds a node they cannot stand for (it is not kept)."""
    fragments: list[Fragment] = []
    for node in filled:
        if isinstance(node, raw_type) and node["classes"] == ["no-search"] and node.get("format") == "html":
            fragments.append(("html", node.astext()))
        elif type(node) is qms_raw and not node["classes"] and node.get("format") == "html":
            fragments.append(("search", node.astext()))
        elif isinstance(node, nodes.Element) and "key" in node and node.get("key"):
            fragments.append(("text", node["key"]))
        elif (
            type(node) is nodes.container
            and node["classes"] == BLOCK_CLASSES
            and not node["ids"]
            and len(node.children) == 1
            and type(node.children[0]) is qms_raw
            and not node.children[0]["classes"]
            and node.children[0].get("format") == "html"
        ):
            fragments.append(("block", node.children[0].astext()))
        else:
            return None
    return tuple(fragments)


def from_fragments(
    fragments: tuple[Fragment, ...], texts: dict[str, nodes.Element], raw_type: type[nodes.raw]
) -> list[nodes.Node] | None:
    """The nodes of a block kept as fragments, with the page's own parsed text; None when a text is missing."""
    filled: list[nodes.Node] = []
    for kind, value in fragments:
        if kind == "html":
            filled.append(raw_type("", value, format="html", classes=["no-search"]))
        elif kind == "search":
            filled.append(qms_raw("", value, format="html"))
        elif kind == "block":
            wrapper = nodes.container(classes=list(BLOCK_CLASSES))
            wrapper += qms_raw("", value, format="html")
            filled.append(wrapper)
        elif value in texts:
            filled.append(texts[value])
        else:
            return None
    return filled


# ------------------------------------------------------------------------------ filling a page

#: Where a build keeps its site context, among the answers of its queries.
_CONTEXT: Query = ("fragment-context",)


def fill_blocks(
    app: Sphinx,
    docname: str,
    unfilled: list[qms_block],
    data: BuildData,
    links: Links,
    shapes: Shapes,
    matrix: str | None,
    anchored: dict[str, AnchoredTables],
) -> dict[int, list[nodes.Node]]:
    """The content of each unfilled block of the page being written (by the block's ``id``): from the
    fragments kept for the page where the block's key is unchanged, else filled (and kept)."""
    if links.builder.format != "html":
        return {id(node): resolve_block(node, data, links, shapes, matrix, anchored) for node in unfilled}
    page = page_fragments(app, docname, _site_context(app, data))
    filled: dict[int, list[nodes.Node]] = {}
    warnings = _WarningCount()
    logging.getLogger(sphinx_logging.NAMESPACE).addHandler(warnings)
    try:
        for node in unfilled:
            key = _block_key(node, data, matrix)
            kept = page.get(key)
            content = from_fragments(kept, block_texts(node), qms_html) if kept is not None else None
            if content is None:
                before = warnings.count
                content = resolve_block(node, data, links, shapes, matrix, anchored)
                if warnings.count == before:  # a block that warns is filled again, and warns, on every writing
                    page.put(key, to_fragments(content, qms_html))
            filled[id(node)] = content
    finally:
        logging.getLogger(sphinx_logging.NAMESPACE).removeHandler(warnings)
    page.save()
    return filled


def _block_key(node: qms_block, data: BuildData, matrix: str | None) -> str:
    """The key of a block's fragments (:func:`block_key`), its query fingerprinted by this build."""
    return block_key(node, data.digest(tuple(node["query"])), heading_level(node), matrix)


def _site_context(app: Sphinx, data: BuildData) -> str:
    """The build's site context (:func:`site_context`), made once; a build with a new environment
    first forgets the fragments of earlier builds."""
    if _CONTEXT not in data.cache:
        if app.fresh_env_used:
            forget_fragments(app)
        data.cache[_CONTEXT] = site_context(app)
    context: str = data.cache[_CONTEXT]
    return context


def splice_page(
    app: Sphinx,
    docname: str,
    output: Path,
    data: BuildData,
    shapes: Shapes,
    matrix_page: str,
    anchored: dict[str, AnchoredTables],
) -> bool:
    """Put the new HTML of the page's changed blocks into ``output``, the page as the last build wrote
    it, for a page that is not read again (see the module's text); False, and nothing changed, where
    that cannot be done exactly: Sphinx then writes the page."""
    if app.builder.format != "html" or app.config.html_output_encoding.lower() not in ("utf-8", "utf8"):
        return False
    page = page_fragments(app, docname, _site_context(app, data))
    if not page.written:
        return False
    unfilled = list(app.env.get_doctree(docname).findall(qms_block))
    getattr(app.env, "_pickled_doctree_cache", {}).pop(docname, None)
    if len(unfilled) != len(page.written):
        return False
    links = Links(app, docname)
    matrix = links.doc(matrix_page)
    pieces: list[tuple[str, str]] = []  # (old, new) of every piece of HTML the page's blocks hold, in order
    with sphinx_logging.suppress_logging() as given:  # a block that warns makes Sphinx write the page
        for node, written in zip(unfilled, page.written, strict=True):
            key = _block_key(node, data, matrix)
            before = page.kept.get(written)
            if before is None:
                return False
            after = page.get(key)  # kept under its key: the block as the last build filled it
            if after is None:
                after = to_fragments(resolve_block(node, data, links, shapes, matrix, anchored), qms_html)
                page.put(key, after)
            if after is None or not _spliceable(before, after):
                return False
            pieces += [(old, new) for (kind, old), (_, new) in zip(before, after, strict=True) if kind != "text"]
        if any(record.levelno >= logging.WARNING for record in given.buffer):
            return False
    changing = {old for old, new in pieces if old != new}
    if changing:
        try:  # UTF-8 bytes (as Sphinx wrote them), searched without decoding the whole page
            html = output.read_bytes()
        except OSError:
            return False
        # the pieces of the blocks that hold a piece that changes (those that keep it too: they count)
        shared = [(old.encode("utf-8"), new.encode("utf-8")) for old, new in pieces if old in changing]
        spliced = _replaced(html, shared)
        if spliced is None:
            return False
        write_bytes(output, spliced)
    page.save()
    return True


def _spliceable(before: tuple[Fragment, ...], after: tuple[Fragment, ...]) -> bool:
    """Whether a block's new fragments differ from its old ones only in HTML that is written as it is
    and left out of the search index."""
    if len(before) != len(after):
        return False
    for (kind, old), (new_kind, new) in zip(before, after, strict=True):
        if kind != new_kind or (old != new and kind not in _SPLICED):
            return False
    return True


#: The fragments whose HTML a page holds as it is, and whose words the search index does not take.
_SPLICED = frozenset({"html", "block"})


def _replaced(html: bytes, pieces: list[tuple[bytes, bytes]]) -> bytes | None:
    """``html`` with each of its blocks' old pieces replaced by its new one, ``pieces`` being every
    piece the blocks hold of each old piece that changes, in the page's order (a piece no block
    changes may be left out: its occurrences are left as they are). None unless the page holds each
    old piece that changes exactly as often as ``pieces`` do: its occurrences are then the blocks' own,
    in the same order, each found where it starts (overlapping ones too; in UTF-8 a piece's bytes are
    found only where its characters stand, never inside another character)."""
    wanted: dict[bytes, list[bytes]] = {}
    for old, new in pieces:
        wanted.setdefault(old, []).append(new)
    spans: list[tuple[int, int, bytes]] = []
    for old, news in wanted.items():
        if all(new == old for new in news):
            continue
        if not old:
            return None
        starts = _occurrences(html, old, len(news) + 1)
        if len(starts) != len(news):
            return None
        spans += [(start, start + len(old), new) for start, new in zip(starts, news, strict=True) if new != old]
    spans.sort()
    parts: list[bytes] = []
    end = 0
    for start, stop, new in spans:
        if start < end:
            return None  # overlapping pieces: not two blocks
        parts += (html[end:start], new)
        end = stop
    parts.append(html[end:])
    return b"".join(parts)


def _occurrences(html: bytes, piece: bytes, most: int) -> list[int]:
    """Where ``piece`` starts in ``html`` (overlapping occurrences too), up to ``most`` of them."""
    starts: list[int] = []
    start = html.find(piece)
    while start >= 0 and len(starts) < most:
        starts.append(start)
        start = html.find(piece, start + 1)
    return starts


class _WarningCount(logging.Handler):
    """Counts the warnings given while blocks are filled."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1
