"""A page's table of contents cut to what the theme's titles-only navigation keeps."""

from __future__ import annotations

from docutils import nodes
from sphinx import addnodes

from qms.sphinx.navigation import titles_only


def _entry(title: str, *below: nodes.Node) -> nodes.list_item:
    entry = nodes.list_item("", classes=["toctree-l1"])
    entry += addnodes.compact_paragraph("", "", nodes.reference("", title, refuri="#" + title, internal=True))
    entry.extend(below)
    return entry


def _toctree(*pages: str) -> addnodes.toctree:
    return addnodes.toctree(entries=[(None, page) for page in pages], includefiles=list(pages), maxdepth=-1)


def _toc() -> nodes.bullet_list:
    """A long document's page: its title, hundreds of item sections, and toctrees among them (the parts)."""
    items = nodes.bullet_list("", *(_entry(f"SWR-{number:03}") for number in range(300)))
    deeper = nodes.bullet_list("", _entry("Purpose", nodes.bullet_list("", _entry("Scope"), _toctree("a-part-2"))))
    sections = nodes.bullet_list("", _entry("Requirements", items), _toctree("a-part-3", "a-part-4"), deeper)
    return nodes.bullet_list("", _entry("A document", sections), _entry("Notes"), nodes.Text("loose"))


def _as_sphinx_leaves_it(toc: nodes.bullet_list) -> nodes.bullet_list:
    """The whole table copied, then each title's sections replaced by the toctrees below it (or dropped)."""
    copy = toc.deepcopy()
    for top_level in copy.children:
        if isinstance(top_level, nodes.Element) and len(top_level) > 1:
            subtrees = list(top_level.findall(addnodes.toctree))
            sections = top_level[1]
            if subtrees and isinstance(sections, nodes.Element):
                sections[:] = subtrees
            else:
                top_level.pop(1)
    return copy


def test_the_titles_and_the_toctrees_below_them_are_kept_and_the_sections_left_out() -> None:
    toc = _toc()
    before = toc.pformat()
    cut = titles_only(toc)
    assert cut.pformat() == _as_sphinx_leaves_it(toc).pformat()
    assert "SWR-000" not in cut.pformat() and cut.pformat().count("<toctree") == 2
    assert toc.pformat() == before  # the page's own table of contents is left as it was


def test_a_title_without_a_toctree_below_keeps_no_sections() -> None:
    toc = nodes.bullet_list("", _entry("A page", nodes.bullet_list("", _entry("A section"))))
    assert titles_only(toc).pformat() == _as_sphinx_leaves_it(toc).pformat()
    assert "A section" not in titles_only(toc).pformat()
