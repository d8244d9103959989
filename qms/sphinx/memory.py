"""A build holds one page's doctree at a time: what it keeps is frozen, each page's tree freed once written.

A doctree has parent links (reference cycles), so only the cyclic garbage collector frees it, and
Python's full collections come rarer the more a build holds: at 10,000 items the trees of some eight
written pages waited for one at any time, and at 50,000 more. Sphinx also keeps every doctree it
read in this build until its page is written, besides the pickle it writes of each. Here the
environment of the last build is frozen before the project is loaded, and the project once it is
loaded and checked (the collector no longer walks them, so its own collections come as often as the
new objects call for them: walking them took some 2 s of a one-edit rebuild at 10,000 items, in
full collections while the project was checked and its pages' fingerprints taken), what the build
found outdated is frozen before the sources are read, Sphinx keeps no tree it read (each page
is written from its pickle, as an incremental build writes it), what the build holds when the
writing starts is frozen too, and each page's garbage is collected before the next page is resolved,
looking at the objects made since the writing started only. At the end of the build the frozen
objects are the collector's again.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment

from qms.yamlfile import freeze_heap, unfreeze_heap


def _forget_read_doctrees(env: BuildEnvironment) -> None:
    """Drop the trees Sphinx keeps of the pages read in this build: each is written from its pickle."""
    getattr(env, "_write_doc_doctree_cache", {}).clear()


def _collect_and_freeze() -> None:
    gc.collect()
    freeze_heap()


@contextmanager
def frozen_while_loading() -> Iterator[None]:
    """Freeze what the build holds before the project is loaded (the environment of the last build,
    just unpickled: no garbage to collect first), and the project once loaded. A load that fails ends
    the build before it starts, and no ``build-finished`` unfreezes: it is unfrozen here."""
    freeze_heap()
    try:
        yield
    except BaseException:
        unfreeze_heap()
        raise
    _collect_and_freeze()


def start_reading(app: Sphinx, env: BuildEnvironment, docnames: list[str]) -> None:
    """``env-before-read-docs``: what the build found outdated stays for the reading; freeze it."""
    _collect_and_freeze()


def before_reading(app: Sphinx, env: BuildEnvironment, docname: str) -> None:
    """``env-purge-doc`` (before a source is read): no tree of the sources read before it is kept."""
    _forget_read_doctrees(env)


def start_writing(app: Sphinx, builder: Any) -> None:
    """``write-started``: free the trees read; what the build holds now stays for the writing."""
    _forget_read_doctrees(app.env)
    _collect_and_freeze()


def collect_page(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """``doctree-resolved`` (first): free the pages written before this one, and this page's pickle."""
    getattr(app.env, "_pickled_doctree_cache", {}).pop(docname, None)
    gc.collect()


def finish(app: Sphinx, exception: Exception | None) -> None:
    """``build-finished``: what the build held is the collector's again."""
    unfreeze_heap()
