"""Links from the page being written to items, pages and labelled sections.

Item blocks and tables are filled in when a page is written (every page has been read by then,
so every item's page is known); this resolves their links the way Sphinx resolves references.
"""

from __future__ import annotations

from typing import cast

from sphinx.application import Sphinx
from sphinx.errors import NoUri
from sphinx.util import logging
from sphinx.util.osutil import relative_uri

from qms.sphinx.build_warnings import BuildWarning, warn
from qms.sphinx.domain import QmsDomain

logger = logging.getLogger(__name__)


class Links:
    """Resolves links for one page (``fromdoc``) of the current build."""

    def __init__(self, app: Sphinx, fromdoc: str) -> None:
        self.app = app
        self.builder = app.builder
        self.env = app.env
        self.fromdoc = fromdoc
        self.domain = cast(QmsDomain, self.env.domains["qms"])
        self._pages: dict[str, str | None] = {}
        #: rendered links of this page, by (id, title, with title): an item is often linked many times
        self.html_cache: dict[tuple[str, str, bool], str] = {}

    def _page(self, docname: str) -> str | None:
        """The address of a page from this one; None when this output leaves it out (a LaTeX
        document made of some of the pages)."""
        if docname not in self._pages:
            as_html = self.builder.format == "html"
            try:
                page = (
                    "" if docname == self.fromdoc and as_html else self.builder.get_relative_uri(self.fromdoc, docname)
                )
            except NoUri:
                page = None
            # single-page HTML: every page is a part of this one ("#document-..."), its anchors are unique
            self._pages[docname] = "" if as_html and page is not None and page.startswith("#") else page
        return self._pages[docname]

    def item(self, item_id: str) -> str | None:
        """The address of an item's block, or None when no page (of this output) shows it."""
        found = self.domain.placement(item_id)
        page = self._page(found[0]) if found is not None else None
        return None if page is None else f"{page}#{item_id}"

    def doc(self, docname: str) -> str | None:
        """The address of a page, or None when the site (this output) has no such page."""
        if docname not in self.env.all_docs:
            return None
        page = self._page(docname)
        return None if page is None else page or self.builder.get_relative_uri(self.fromdoc, docname)

    def file(self, path: str) -> str:
        """The address of a file of the site (``downloads/x.csv``) from this page."""
        return relative_uri(self.builder.get_target_uri(self.fromdoc), path)

    def label(self, label: str, location: tuple[str, int | None] | None = None) -> tuple[str | None, str] | None:
        """The address (None outside this output) and title of a labelled section; a warning (like
        ``:ref:``) when it is missing."""
        std = self.env.domains.standard_domain
        found = std.labels.get(label)
        if found is None:
            warn(logger, BuildWarning.UNDEFINED_LABEL, f"undefined label: '{label}'", location or self.fromdoc)
            return None
        docname, anchor, title = found
        page = self._page(docname)
        if page is None:
            return None, title
        return f"{page}#{anchor}" if anchor else (page or "#"), title
