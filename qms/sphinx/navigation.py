"""The theme's navigation of a site of many pages, without copying every page's sections for every page.

furo writes on each page the tree of the site's pages (titles only), which Sphinx makes by copying
every page's whole table of contents, sections included, and then dropping the sections: the work
grows with the number of pages times the number of headings of the site, so a long document cut
into many pages (:mod:`qms.sphinx.parts`) multiplied it. While the theme makes its tree, Sphinx
reads the other pages' tables of contents already cut to what a titles-only tree keeps (each
page's title and the toctrees below it; the page's own stays whole, the theme shows its sections
beside it): the tree is the same, each copy is small.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx


class TitleTocs:
    """Each page's table of contents cut to its title and toctrees, made once per table of contents."""

    def __init__(self) -> None:
        self._cut: dict[str, tuple[nodes.bullet_list, nodes.bullet_list]] = {}

    def of(self, tocs: dict[str, nodes.bullet_list], page: str) -> dict[str, nodes.bullet_list]:
        """The tables of contents cut to titles, but the one of ``page`` (the theme shows its sections)."""
        cut = {}
        for docname, toc in tocs.items():
            if docname == page:
                cut[docname] = toc
                continue
            known = self._cut.get(docname)
            if known is None or known[0] is not toc:
                known = self._cut[docname] = (toc, titles_only(toc))
            cut[docname] = known[1]
        return cut


def titles_only(toc: nodes.bullet_list) -> nodes.bullet_list:
    """A copy of a page's table of contents as Sphinx's ``titles_only`` leaves it: the title, and the
    toctrees found anywhere below it in place of its sections."""
    copy = toc.deepcopy()
    for top_level in copy.children:
        if isinstance(top_level, nodes.Element) and len(top_level) > 1:  # a title and its sections
            subtrees = list(top_level.findall(addnodes.toctree))
            sections = top_level[1]
            if subtrees and isinstance(sections, nodes.Element):
                sections[:] = subtrees
            else:
                top_level.pop(1)
    return copy


def with_title_tocs(handler: Callable[..., None], tocs: TitleTocs, app: Sphinx, pagename: str, *arguments: Any) -> None:
    """Run the theme's ``html-page-context`` hook with the other pages' tables of contents cut to titles."""
    env = app.env
    whole = env.tocs
    env.tocs = tocs.of(whole, pagename)
    try:
        handler(app, pagename, *arguments)
    finally:
        env.tocs = whole
