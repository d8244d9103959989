"""What the extension adds to Sphinx's non-HTML writers (text, LaTeX, man, Texinfo...).

Blocks are filled with standard docutils nodes for these builders (:mod:`qms.sphinx.blocks`;
the HTML-only fragments are ``raw`` nodes, which they skip); what is left here is what the
builders need besides: the audit trail's nodes, table column widths the text writer can use,
links within single-page HTML, and the page each part of a single assembled document came from (LaTeX, Texinfo and
single-page HTML join every page into one tree).
"""

from __future__ import annotations

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx

from qms.sphinx.audit import AuditView
from qms.sphinx.render import P, paragraph

#: Width of a table in the text writer's output, borders included (the writer wraps text at 70).
TEXT_TABLE_WIDTH = 70
#: Narrowest column of a table in text output.
TEXT_COLUMN_MIN = 6


def audit_nodes(view: AuditView) -> list[nodes.Node]:
    """An item's audit trail (:func:`qms.sphinx.audit.audit_html` for HTML): nothing when git holds no change."""
    if not view.changes:
        return []
    box = nodes.container(classes=[f"{P}-audit"])
    box += nodes.rubric(view.summary, view.summary)
    box.extend(paragraph(note, classes=[f"{P}-muted"]) for note in view.notes)
    changes = nodes.enumerated_list(classes=[f"{P}-audit-changes"])
    for change in view.changes:
        entry = nodes.list_item()
        entry += paragraph(
            nodes.strong(change.where, change.where),
            f" · {change.when} · {change.author} <{change.email}> · commit ",
            nodes.literal(change.commit[:10], change.commit[:10]),
            f" “{change.subject}”",
        )
        lines = [change.note] if change.note else []
        lines += [field.described(str) for field in change.fields]
        if lines:
            listed = nodes.bullet_list()
            listed.extend(nodes.list_item("", paragraph(line)) for line in lines)
            entry += listed
        changes += entry
    box += changes
    return [box]


def fit_text_tables(app: Sphinx, doctree: nodes.document, _docname: str) -> None:
    """``doctree-resolved``, after the blocks are filled: the extension's tables get widths in characters.

    The tables carry relative widths (``[1, 4]``), which HTML and LaTeX read as proportions but
    the text writer reads as characters: columns one character wide. For the text builder they
    are scaled to fill the text width, every column at least :data:`TEXT_COLUMN_MIN` wide.
    """
    if app.builder.format != "text":
        return
    for table in doctree.findall(nodes.table):
        if f"{P}-table" in table["classes"]:
            for group in table.findall(nodes.tgroup):
                colspecs = [child for child in group.children if isinstance(child, nodes.colspec)]
                for colspec, width in zip(colspecs, text_widths([c["colwidth"] for c in colspecs]), strict=True):
                    colspec["colwidth"] = width


def single_page_anchors(app: Sphinx, doctree: nodes.document, _docname: str) -> None:
    """``doctree-resolved`` for single-page HTML: a link to ``#document-page#anchor`` becomes ``#anchor``.

    Every page is a part of the one page there, and Sphinx 9 joins a page's address
    (``#document-page``) and an anchor into an address no browser follows.
    """
    if app.builder.name != "singlehtml":
        return
    for reference in doctree.findall(nodes.reference):
        address = reference.get("refuri", "")
        if address.startswith("#") and "#" in address[1:]:
            reference["refuri"] = address[address.rindex("#") :]


def text_widths(relative: list[int]) -> list[int]:
    """Relative column widths as character widths filling :data:`TEXT_TABLE_WIDTH`."""
    if not relative:
        return []
    room = max(TEXT_TABLE_WIDTH - 3 * len(relative) - 1, TEXT_COLUMN_MIN * len(relative))
    total = sum(max(width, 1) for width in relative)
    return [max(TEXT_COLUMN_MIN, room * max(width, 1) // total) for width in relative]


def pages_of(doctree: nodes.document, docname: str, wanted: type[nodes.Element]) -> dict[int, str]:
    """The page each ``wanted`` node was read from (by ``id``), also where a builder joined many pages into one tree.

    LaTeX, Texinfo and single-page HTML put each page's content into a ``start_of_file`` node
    (without updating the content's parent links): the tree is walked from the top.
    """
    found = {id(node): docname for node in doctree.findall(wanted)}
    for part in doctree.findall(addnodes.start_of_file):  # outer parts first: inner ones override
        found.update((id(node), str(part["docname"])) for node in part.findall(wanted))
    return found
