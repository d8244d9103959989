"""The theme's navigation of a site of many pages, without copying every page's sections for every page.

furo writes on each page the tree of the site's pages (titles only), which Sphinx makes by copying
every page's whole table of contents, sections included, and then dropping the sections: the work
grows with the number of pages times the number of headings of the site, so a long document cut
into many pages (:mod:`qms.sphinx.parts`) multiplied it. While the theme makes its tree, Sphinx
reads the other pages' tables of contents already cut to what a titles-only tree keeps (each
page's title and the toctrees below it; the page's own stays whole, the theme shows its sections
beside it): the tree is the same, each copy is small.

Sphinx writes again, besides each page it writes, every page whose toctree lists it, in case its
title or sections changed. A page of a long document read again for one edited item lists the
same headings, and a page written without being read again has the same ones:
:func:`spare_parents` keeps its parents (the document's first page, the front page) from being
written again for it when its place in the navigation is what it was.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from docutils import nodes
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.builders.html import StandaloneHTMLBuilder
from sphinx.environment import CONFIG_OK, BuildEnvironment
from sphinx.errors import ExtensionError

from qms.atomic import read_kept, write_kept
from qms.sphinx.fragments import code_digest
from qms.sphinx.state import build_data
from qms.sphinx.views.build import Query, digest


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
    toctrees found anywhere below it in place of its sections.

    Only what the copy keeps is copied: a long document's page has a section for each of its
    hundreds of items, and copying them all to drop them took some 50 ms of every build that
    wrote a page at 10,000 items."""
    copy = toc.copy()
    for top_level in toc.children:
        if not (isinstance(top_level, nodes.Element) and len(top_level) > 1):  # no sections
            copy += top_level.deepcopy()
            continue
        title, sections, *rest = top_level.children
        subtrees = [subtree.deepcopy() for subtree in top_level.findall(addnodes.toctree)]
        kept = top_level.copy()
        kept += title.deepcopy()
        if subtrees and isinstance(sections, nodes.Element):
            listed = sections.copy()
            listed.extend(subtrees)
            kept += listed
        kept.extend(child.deepcopy() for child in rest)
        copy += kept
    return copy


def with_title_tocs(handler: Callable[..., None], tocs: TitleTocs, app: Sphinx, pagename: str, *arguments: Any) -> None:
    """Run the theme's ``html-page-context`` hook with the other pages' tables of contents cut to titles,
    and with the page's navigation tree as the last build made it where it is still the same
    (:class:`KeptTrees`): the theme then makes none (it is given no ``toctree`` to make it from)."""
    env = app.env
    context = arguments[1] if len(arguments) > 1 and isinstance(arguments[1], dict) else None
    trees = cast(KeptTrees | None, build_data(env).cache.get(TREES)) if context is not None else None
    kept = trees.trees.get(pagename) if trees is not None else None
    toctree = context.pop("toctree", None) if context is not None and kept is not None else None
    whole = env.tocs
    env.tocs = tocs.of(whole, pagename)
    try:
        handler(app, pagename, *arguments)
    finally:
        env.tocs = whole
        if context is not None and kept is not None:
            if toctree is not None:
                context["toctree"] = toctree
            context[THEME_TREE] = kept
    if trees is not None and kept is None and context is not None and isinstance(context.get(THEME_TREE), str):
        trees.trees[pagename] = context[THEME_TREE]
        trees.changed = True


#: the context value furo writes the navigation tree from (its ``sidebar/navigation.html``)
THEME_TREE = "furo_navigation_tree"
#: where the navigation trees are kept between builds, in the doctree folder
TREES_FILE = "qms-navigation-trees.pickle"
#: where a build keeps them while its pages are written
TREES: Query = ("navigation-trees",)


@dataclass
class KeptTrees:
    """The theme's navigation tree of each page (furo's sidebar: every page's title, this page's
    marked), as the last builds made them.

    A tree shows the titles and toctrees of all pages, and which is this one: it is the same as
    long as no page was read into another place in the navigation (:func:`place`), no page came or
    went (a new page is read, and so is the page listing a page that went), and the theme, its
    options, the builder and the code are the same (``key``). A build where one of them changed
    starts afresh and keeps the trees of the pages it writes.
    """

    key: str
    trees: dict[str, str] = field(default_factory=dict)
    changed: bool = False


def _trees_key(app: Sphinx) -> str:
    """Fingerprint of what every navigation tree depends on beyond the pages' places."""
    import furo  # the theme qms loads for HTML (qms.sphinx._setup_theme)

    config = app.config
    return digest(
        [
            code_digest(),
            furo.__version__,
            app.builder.name,
            config.root_doc,
            config.html_file_suffix,
            config.html_link_suffix,
            config.html_theme,
            repr(sorted(config.html_theme_options.items())),
        ]
    )


def keep_trees(app: Sphinx, moved: set[str]) -> None:
    """Give the pages about to be written the navigation trees of the last builds, where still the
    same: no page ``moved`` (:func:`spare_parents`), the same environment and configuration, the same key."""
    key = _trees_key(app)
    trees = KeptTrees(key)
    if not moved and not app.fresh_env_used and app.env.config_status == CONFIG_OK:
        saved = read_kept(Path(app.doctreedir) / TREES_FILE, key)
        if isinstance(saved, dict):
            trees.trees = saved
    if not trees.trees:
        trees.changed = True  # started afresh: what is kept must go
    build_data(app.env).cache[TREES] = trees


def save_trees(app: Sphinx, exception: Exception | None) -> None:
    """``build-finished``: keep the navigation trees of a build that wrote its pages, when they changed."""
    try:
        trees = cast(KeptTrees | None, build_data(app.env).cache.pop(TREES, None))
    except ExtensionError:  # the project never loaded: no page was written
        return
    if exception is not None or trees is None or not trees.changed:
        return
    with contextlib.suppress(OSError):  # a read-only build folder: the next build makes the trees again
        write_kept(Path(app.doctreedir) / TREES_FILE, trees.key, trees.trees)


#: where a build keeps the navigation of the pages it reads again, as it was before (:func:`note_places`)
PLACES: Query = ("navigation-before-reading",)
#: where a build keeps Sphinx's map of toctree parents while pages are written (:func:`spare_parents`)
PARENTS: Query = ("toctree-parents",)


def place(env: BuildEnvironment, docname: str) -> str:
    """Everything a page's toctree parents and the theme's navigation show of the page: its title,
    its table of contents, the pages its toctrees list, its metadata, and its section and figure
    numbers."""
    parts = (
        env.titles.get(docname),
        env.longtitles.get(docname),
        env.tocs.get(docname),
        env.toctree_includes.get(docname),
        sorted(env.metadata.get(docname, {}).items()),
        env.toc_secnumbers.get(docname),
        env.toc_fignumbers.get(docname),
    )
    return "\0".join(str(part) for part in parts)


def note_places(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    """``env-before-read-docs``: the place in the navigation of each page about to be read again
    (None: a page new to the site)."""
    build_data(env).cache[PLACES] = {
        docname: place(env, docname) if docname in env.tocs else None for docname in docnames
    }


def spare_parents(app: Sphinx, builder: Any) -> None:
    """``write-started``: keep in Sphinx's map of toctree parents, for the writing only, just the
    pages read again into another place in the navigation, or new (the map was saved with the
    environment already, and is put back by :func:`restore_parents`). A page written without being
    read again (its data changed only where it is filled in when written), or read again into the
    same place, is shown by its parents as it was: they are not written again for it."""
    env = app.env
    cache = build_data(env).cache
    before = cast(dict[str, str | None], cache.pop(PLACES, {}))
    moved = {docname for docname, noted in before.items() if noted is None or place(env, docname) != noted}
    if isinstance(app.builder, StandaloneHTMLBuilder):
        keep_trees(app, moved)
    whole = env.files_to_rebuild
    kept = {docname: parents for docname, parents in whole.items() if docname in moved}
    if len(kept) == len(whole):
        return
    cache[PARENTS] = whole
    env.files_to_rebuild = kept


def restore_parents(app: Sphinx, exception: Exception | None) -> None:
    """``build-finished``: Sphinx's whole map of toctree parents again."""
    try:
        kept = build_data(app.env).cache.pop(PARENTS, None)
    except ExtensionError:  # the project never loaded: nothing was spared
        return
    if kept is not None:
        app.env.files_to_rebuild = kept
