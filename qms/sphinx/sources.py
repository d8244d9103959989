"""The generated documents as Sphinx sources, and which pages a rebuild must read or write again.

The documents are rendered from their templates at the start of every build and written under
the build's doctree folder (never into the project), then registered as documents of the
Sphinx project under their plain names (``software-requirements``). A source is rewritten only
when its text changed, and a page is read again only when its source changed or one of the
queries it showed has a different answer now (told by a fingerprint of what the query reads,
:attr:`~qms.sphinx.views.build.QuerySpec.inputs`, where answering it costs more): that keeps
Sphinx's incremental build effective.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import pickle
import select
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

from sphinx.application import ENV_PICKLE_FILENAME, Sphinx
from sphinx.builders.html import StandaloneHTMLBuilder
from sphinx.environment import BuildEnvironment
from sphinx.errors import ExtensionError
from sphinx.util import logging

from qms.atomic import read_kept, write_bytes, write_kept, write_text
from qms.fingerprints import keep_keys
from qms.parsecache import beside, can_fork
from qms.sphinx.audit import keep_trails_in
from qms.sphinx.build_warnings import BuildWarning, warn
from qms.sphinx.control import history_digest, page_history, patch_source_revision
from qms.sphinx.directives import directive_query
from qms.sphinx.documents import DOCUMENTS, TemplateContext, TemplateError, render_all, unused_templates
from qms.sphinx.domain import QmsDomain
from qms.sphinx.fragments import code_digest
from qms.sphinx.parts import split
from qms.sphinx.settings import settings
from qms.sphinx.state import build_data, take_fingerprints
from qms.sphinx.views.build import BuildData, Query, digest
from qms.sphinx.views.items import BLOCKS_FILE, KEPT_BLOCKS, KeptBlocks, blocks_to_keep, reuse_blocks
from qms.sphinx.views.rows import KNOWN_RANGES, KnownRanges
from qms.sphinx.views.tables import KEPT_MATRICES, MATRICES_FILE, SHAPES_FILE, KeptMatrices

logger = logging.getLogger(__name__)

SOURCES_FOLDER = "qms-sources"
SUFFIX = ".rst"
#: the documents' templates as Jinja compiled them (:func:`qms.sphinx.documents.template_environment`)
TEMPLATES_FOLDER = "qms-templates"
#: the items' audit trails as the last build read them from git (:mod:`qms.sphinx.audit`)
TRAILS_FILE = "qms-audit-trails.pickle"
#: the fingerprints of the row ranges the last builds knew (:class:`KnownRanges`), beside the environment
RANGES_FILE = "qms-known-ranges.json"


def sources_folder(app: Sphinx) -> Path:
    return Path(app.doctreedir) / SOURCES_FOLDER


def templates_folder(app: Sphinx) -> Path:
    return Path(app.doctreedir) / TEMPLATES_FOLDER


def _register(env: BuildEnvironment, docname: str, path: Path) -> None:
    """Make ``docname`` a document of the Sphinx project, read from ``path`` (outside the source folder).

    Sphinx keeps a two-way map between document names and paths relative to the source
    folder; an absolute path joins to itself, so the generated file is read where it is.
    """
    project = env.project
    project.docnames.add(docname)
    project._path_to_docname[path] = docname
    project._docname_to_path[docname] = path


def generate(app: Sphinx, env: BuildEnvironment) -> dict[str, bool]:
    """Render and register the documents; per document, whether its source changed."""
    sources = _rendered(app, env)
    _say_what_is_not_generated(app, env)
    return _registered(app, env, _written(app, env, sources))


def generating(app: Sphinx, env: BuildEnvironment) -> Callable[[], dict[str, bool]]:
    """Start :func:`generate`; the function returned finishes it. Where a second process may start
    (:func:`qms.parsecache.can_fork`), it renders and writes the documents' sources while this one
    takes the fingerprints of what the pages show (:func:`outdated`): the two take as long, and need
    nothing of each other. That process hands back which sources changed and the row counts of the
    tables it cut documents by; it logs nothing (a build's messages are this process's), and where it
    would have, or it failed, this process generates the documents itself, and logs as it does."""
    if not can_fork():
        return lambda: generate(app, env)

    def beside_this() -> list[Any] | None:
        with logging.suppress_logging() as given:
            changed = _written(app, env, _rendered(app, env))
        if given.buffer:
            return None
        return [changed, cast(QmsDomain, env.domains["qms"]).data["table_rows"]]

    collect = beside(beside_this)

    def finish() -> dict[str, bool]:
        made = collect() if collect is not None else None
        if not isinstance(made, list) or len(made) != 2 or not all(isinstance(part, dict) for part in made):
            return generate(app, env)
        changed, counted = made
        _say_what_is_not_generated(app, env)
        cast(QmsDomain, env.domains["qms"]).data["table_rows"] = counted
        return _registered(app, env, changed)

    return finish


def _rendered(app: Sphinx, env: BuildEnvironment) -> dict[str, str]:
    """Every generated document's source, from its template."""
    data = build_data(env)
    user_pages = tuple(sorted(env.found_docs))
    assert data.clauses is not None, "the clause table is loaded with the project"
    context = TemplateContext(
        data, data.clauses, DOCUMENTS, tuple(page for page in user_pages if page != app.config.root_doc)
    )
    user_templates = data.project.root / data.project.config.templates
    try:
        return render_all(
            context, user_templates, skip=lambda docname: docname in user_pages, compiled=templates_folder(app)
        )
    except TemplateError as error:
        raise ExtensionError(f"qms: template {error}") from None


def _say_what_is_not_generated(app: Sphinx, env: BuildEnvironment) -> None:
    """Name the generated documents that the project's own pages replace, and the project's templates
    that change no page."""
    project = build_data(env).project
    for docname in sorted(set(DOCUMENTS_AND_FRONT) & set(env.found_docs)):
        logger.info(f"qms: the project's own page {docname} replaces the generated one")
    for path, close in unused_templates(project, project.root / project.config.templates):
        hint = f"; did you mean {close}?" if close else ""
        warn(
            logger,
            BuildWarning.UNUSED_TEMPLATE,
            f"{path.name} is the template of no document and no template uses it: it changes no page{hint}",
            location=f"{path}:1",  # a file and line, not a page of the site
        )


def _written(app: Sphinx, env: BuildEnvironment, sources: dict[str, str]) -> dict[str, bool]:
    """Cut the long documents of ``sources`` into pages and write each page's source where it
    changed; per page, whether it did."""
    domain = cast(QmsDomain, env.domains["qms"])
    sources = _cut_long_documents(
        sources, settings(app.config).page_items, build_data(env), domain, set(env.found_docs)
    )
    folder = sources_folder(app)
    changed: dict[str, bool] = {}
    for docname, text in sources.items():
        path = folder / f"{docname}{SUFFIX}"
        try:
            old = path.read_text(encoding="utf-8")
        except OSError:
            old = None
        if old != text:
            write_text(path, text)
        changed[docname] = old != text
    return changed


def _registered(app: Sphinx, env: BuildEnvironment, changed: dict[str, bool]) -> dict[str, bool]:
    """Register the generated pages of ``changed`` (:func:`_register`) and give it back."""
    folder = sources_folder(app)
    for docname in changed:
        _register(env, docname, folder / f"{docname}{SUFFIX}")
    return changed


def _cut_long_documents(
    sources: dict[str, str], limit: int, data: BuildData, domain: QmsDomain, user_pages: set[str]
) -> dict[str, str]:
    """The sources with each document showing more than ``limit`` items cut into pages (see
    :mod:`qms.sphinx.parts`; 0: none is cut). A document one of whose parts would take the name of
    a page of the project's own stays whole (with a warning): the project's page is never replaced.

    A table's rows are counted once for each answer it gives: the count is kept by the query's
    fingerprint, which the rebuild takes anyway, so a build with nothing changed counts no row; and
    where that changed, they are counted without answering the table (:meth:`BuildData.rows`).
    """
    if limit <= 0:
        return sources  # never cut
    titles = {spec.docname: spec.title for spec in DOCUMENTS}
    known: dict[str, int] = domain.data["table_rows"]
    counted: dict[str, int] = {}

    def table_rows(directive: str, options: dict[str, str]) -> int:
        query = directive_query(directive, options)
        fingerprint = data.digest(query)
        if fingerprint not in known:
            try:
                known[fingerprint] = data.rows(query)
            except (KeyError, TypeError, ValueError):
                known[fingerprint] = 0  # the page reports it
        counted[fingerprint] = known[fingerprint]
        return counted[fingerprint]

    pages: dict[str, str] = {}
    for docname, text in sources.items():
        if docname not in titles:
            pages[docname] = text
            continue
        first, parts = split(docname, titles[docname], text, limit, table_rows)
        taken = sorted(part.docname for part in parts if part.docname in user_pages)
        if taken:
            warn(logger, BuildWarning.PAGE_CUT, f"{docname} is not cut into pages: the project has a page {taken[0]}")
            pages[docname] = text
            continue
        pages[docname] = first
        pages.update((part.docname, part.source) for part in parts)
    domain.data["table_rows"] = counted
    return pages


DOCUMENTS_AND_FRONT = ("index", *(spec.docname for spec in DOCUMENTS))


def outdated(app: Sphinx, env: BuildEnvironment, added: set[str], changed: set[str], removed: set[str]) -> list[str]:
    """``env-get-outdated``: bring in the generated documents, and name pages whose data changed."""
    data = build_data(env)
    keep_known_ranges(data, Path(app.doctreedir) / RANGES_FILE)
    keep_matrices(data, Path(app.doctreedir) / MATRICES_FILE)
    keep_trails_in(data, Path(app.doctreedir) / TRAILS_FILE)
    take_fingerprints(data)  # those the check beside the build made, before any page's; the workbook starts
    kept = read_kept(Path(app.doctreedir) / BLOCKS_FILE, code_digest())
    reuse_blocks(data, kept if isinstance(kept, KeptBlocks) else None)
    domain = cast(QmsDomain, env.domains["qms"])
    dependencies = list(domain.dependencies())  # each page's queries, read once for both
    _trace_shown(data, dependencies)
    generated = generating(app, env) if settings(app.config).generate_documents else dict
    stale: set[str] = set()
    unread: dict[str, list[tuple[Query, str, str]]] = {}  # pages whose reading took nothing that changed
    for docname, query, old, read in dependencies:
        if docname in stale:
            continue
        now = data.digest(query)
        if now == old:
            continue
        if read is not None and _read_digest(data, query) == read:
            unread.setdefault(docname, []).append((query, now, read))
        else:
            stale.add(docname)
    for docname, source_changed in generated().items():
        removed.discard(docname)
        if docname not in env.all_docs:
            added.add(docname)
        elif source_changed:
            changed.add(docname)
    stale -= added
    rewritten = sorted(set(unread) - stale - added - changed - removed)
    for docname in rewritten:
        for query, now, read in unread[docname]:
            domain.note_dependency(docname, query, now, read)
    data.cache[REWRITTEN] = rewritten
    data.cache[READING] = bool(stale or added or changed)
    if stale or rewritten:
        logger.info(f"qms: {len(stale) + len(rewritten)} page(s) show project data that changed")
    return sorted(stale)


def _trace_shown(data: BuildData, dependencies: list[tuple[str, Query, str, str | None]]) -> None:
    """Make the traceability matrices the pages showed (among their ``dependencies``; each once a
    build, :func:`qms.sphinx.views.tables._trace`), before the process that writes the documents' sources
    starts: it counts their rows, and takes them from this process instead of walking the links
    again, and this process makes them anyway to take the pages' fingerprints."""
    shown: dict[Query, None] = {}
    for _, query, _, _ in dependencies:
        table = query[2:] if query[0] == "rows" else query
        if table[:1] == ("matrix",):
            shown[table] = None
    for query in shown:
        with contextlib.suppress(KeyError, TypeError, ValueError):  # a page that asks no more: read again
            data.rows(query)


#: Where a build keeps the pages whose data changed only where it is filled in when they are written.
REWRITTEN: Query = ("rewritten-pages",)
#: Where a build notes whether it reads any page again (else Sphinx saves its environment only
#: if some page is written).
READING: Query = ("reading-pages",)
#: Where a build keeps the pages written again for their document control (:func:`updated`).
CONTROL_UPDATED: Query = ("control-updated-pages",)


def _read_digest(data: BuildData, query: Query) -> str | None:
    """What reading a page would take of ``query``'s answer now (None: it has no answer)."""
    try:
        return data.read_digest_now(query)
    except (KeyError, TypeError, ValueError):
        return None


def rewritten(
    app: Sphinx,
    env: BuildEnvironment,
    splice: Callable[[str, Path], bool] | None = None,
    inventory: Callable[[], bool] | None = None,
) -> list[str]:
    """``env-get-updated``: the pages whose data changed only where it is filled in when they are
    written (a title in a matrix's rows, a neighbour's title in an item's block): written again
    without being read again (:attr:`~qms.sphinx.views.build.QuerySpec.read`).

    An HTML build first offers each page that nothing else writes again to ``splice`` (with the
    path of the page the last build wrote), which puts the changed blocks into it in place
    (:func:`qms.sphinx.fragments.splice_page`): only the pages it could not change are written.
    Sphinx saves the environment (with these pages' new fingerprints) only when it reads or writes a
    page: where it does neither, :func:`save_environment` saves it.

    Where two processes change those pages, the one done with its pages first also writes the
    site's ``inventory`` (:func:`qms.sphinx.inventory.write_inventory`: the pages are read, so what
    it lists is known), which is then noted as written (:data:`INVENTORY_WRITTEN`) and not written
    again when the pages are."""
    data = build_data(env)
    found: list[str] = data.cache.pop(REWRITTEN, [])
    if splice is None or app.builder.name != PATCHED_BUILDER:
        return found
    builder = cast(StandaloneHTMLBuilder, app.builder)
    written_anyway = set(data.cache.get(CONTROL_UPDATED, ()))
    offered = [docname for docname in found if docname not in written_anyway]
    changed_in_place, written = _spliced(
        offered, lambda docname: splice(docname, Path(builder.get_outfilename(docname))), inventory
    )
    data.cache[INVENTORY_WRITTEN] = written
    spliced = [docname for docname in offered if docname in changed_in_place]
    left = [docname for docname in found if docname not in changed_in_place]
    if spliced:
        logger.info(f"qms: {len(spliced)} page(s) changed in place: {', '.join(spliced)}")
    reading = data.cache.get(READING, True)
    data.cache[SAVE_ENVIRONMENT] = bool(spliced) and not (left or written_anyway or reading)
    return left


#: Where a build notes that the site's inventory is written as the pages were changed in place (:func:`rewritten`).
INVENTORY_WRITTEN: Query = ("inventory-written",)
#: Where a build notes that it changed pages in place and gives Sphinx none to read or write for it.
SAVE_ENVIRONMENT: Query = ("save-environment",)


def save_environment(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """``env-get-updated``, after the other listeners: save the environment, which holds the new
    fingerprints of the pages changed in place, where the build reads no page and gives Sphinx none
    to write (Sphinx then saves none: with the last build's fingerprints, the next build would take
    those pages as changed again). Saved as Sphinx saves it, in its place, atomically. Where another
    listener gives Sphinx a page after all, Sphinx saves it once more, as it stands then."""
    data = build_data(env)
    if data.cache.pop(SAVE_ENVIRONMENT, False):
        write_bytes(Path(app.doctreedir) / ENV_PICKLE_FILENAME, pickle.dumps(env, pickle.HIGHEST_PROTOCOL))
    return []


#: pages to change in place from which a second process takes every other one (:func:`_spliced`)
SPLICED_BESIDE_FROM = 4


def _spliced(
    docnames: list[str], splice: Callable[[str], bool], last: Callable[[], bool] | None = None
) -> tuple[set[str], bool]:
    """Those of ``docnames`` that ``splice`` changed in place, and whether ``last`` was done. Where they
    are many and a second process may start (:func:`qms.parsecache.can_fork`), it changes pages
    meanwhile, even while the workbook is written beside the build: that process yields its core to
    the build's own (:func:`qms.sphinx.downloads.start_workbook`). The two take the pages in turns,
    each the next one as it finishes one (:class:`_Turns`): a page that fills a long table again takes
    as long as ten that change a title in an item's block, and which those are is known only once
    they are filled; ``last`` (a task that gives whether it was done) is taken after the pages, by
    the process done with its own first. Each page is changed alone, in its own files (the page, its
    kept fragments); what that process answers to fill them is not handed back (this one answers it
    again if a page it writes asks). Where that process fails, this one offers every page it did not
    take to ``splice`` again: a page that process changed is then found as changed, or left to
    Sphinx to write; and ``last`` is not done, unless this process took it. With one process,
    ``last`` is not done: the caller does that work as it otherwise does."""
    count = len(docnames)
    tasks = count + (last is not None)
    turns = _Turns.of(tasks) if count >= SPLICED_BESIDE_FROM and can_fork() else None
    if turns is None:
        return {docname for docname in docnames if splice(docname)}, False

    def take(index: int) -> bool:
        return splice(docnames[index]) if index < count or last is None else last()

    with turns:
        collect = beside(lambda: [(index, take(index) is True) for index in turns])
        mine = {index: take(index) for index in turns}
    made = collect() if collect is not None else None
    theirs: dict[int, bool] = {}
    if isinstance(made, list) and all(isinstance(entry, tuple) and len(entry) == 2 for entry in made):
        theirs = {index: changed for index, changed in made if isinstance(index, int) and index not in mine}
    if len(mine) + len(theirs) != tasks:  # that process failed: its pages are offered again here
        theirs = {index: splice(docnames[index]) for index in range(count) if index not in mine}
    done = mine | theirs
    return {docnames[index] for index, changed in done.items() if index < count and changed is True}, (
        last is not None and done.get(count) is True
    )


class _Turns:
    """The numbers of ``count`` pages that two processes share, each taking the next one as it is
    ready for it: a pipe filled with them before the second process starts, whose writing end is
    closed then, so a process that finds it empty is told so (the end of the pipe), not made to wait.
    A pipe's reads are served one at a time and each number is written whole in one write (of at
    most :data:`select.PIPE_BUF` bytes, which a pipe takes at once): each number is taken once."""

    #: the bytes of one page's number
    WIDTH = 4

    def __init__(self, reading: int) -> None:
        self._reading = reading

    @classmethod
    def of(cls, count: int) -> _Turns | None:
        """The turns of ``count`` pages; None where they do not fit into one write or no pipe opens."""
        numbers = b"".join(index.to_bytes(cls.WIDTH, "big") for index in range(count))
        if len(numbers) > select.PIPE_BUF:
            return None
        try:
            reading, writing = os.pipe()
        except OSError:
            return None
        try:
            os.write(writing, numbers)
        finally:
            os.close(writing)
        return cls(reading)

    def __iter__(self) -> Iterator[int]:
        while len(taken := os.read(self._reading, self.WIDTH)) == self.WIDTH:
            yield int.from_bytes(taken, "big")

    def __enter__(self) -> _Turns:
        return self

    def __exit__(self, *_: object) -> None:
        os.close(self._reading)


def keep_known_ranges(data: BuildData, path: Path) -> None:
    """Give the build the fingerprints of row ranges the last builds knew (made by this code), kept in
    ``path``; :func:`save_known_ranges` keeps this build's for the next.

    They are kept in a file of their own, not with the environment: a build that reads no page
    again does not save the environment, and would lose the ranges it had to answer (after qms
    changed, every later build would answer every long table again)."""
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
        ranges = stored["ranges"] if stored["code"] == code_digest() else {}
        earlier = {str(key): str(value) for key, value in ranges.items()}
    except (OSError, ValueError, TypeError, KeyError, AttributeError):  # none yet, or not one of ours
        earlier = {}
    data.cache[KNOWN_RANGES] = KnownRanges(earlier)


def save_known_ranges(app: Sphinx, env: BuildEnvironment) -> None:
    """``env-updated`` (the pages are read): keep the fingerprints of the ranges this build showed,
    where they differ from those it started with."""
    known: KnownRanges | None = build_data(env).cache.get(KNOWN_RANGES)
    if known is None or known.now == known.earlier:
        return
    kept = json.dumps({"code": code_digest(), "ranges": known.now}, sort_keys=True)
    try:
        write_text(Path(app.doctreedir) / RANGES_FILE, kept)
    except OSError:  # a read-only build folder: the next build answers the tables again
        return


def keep_matrices(data: BuildData, path: Path) -> None:
    """Give the build the rows of the matrices the last builds made (made by this code), kept in
    ``path`` and read when the build first makes a matrix; :func:`save_kept` keeps this build's
    for the next when it made any again."""

    def loading(file: Path) -> Callable[[], dict[str, Any]]:
        def load() -> dict[str, Any]:
            kept = read_kept(file, code_digest())  # None: none yet, or not made by this code
            return kept if isinstance(kept, dict) else {}

        return load

    data.cache[KEPT_MATRICES] = KeptMatrices(loading(path), loading(path.with_name(SHAPES_FILE)))


def save_kept(app: Sphinx, exception: Exception | None) -> None:
    """``build-finished``: keep the rows of the matrices a build made again (read or written), the
    fingerprints of the blocks where they changed (:func:`~qms.sphinx.views.items.reuse_blocks`),
    and the keys of the fingerprints of whole kinds of items it made (:func:`qms.fingerprints.keep_keys`)."""
    try:
        data = build_data(app.env)
    except ExtensionError:  # the project never loaded: no matrix was made
        return
    if exception is not None:
        return
    kept = cast(KeptMatrices | None, data.cache.get(KEPT_MATRICES))
    blocks = blocks_to_keep(data) if KEPT_BLOCKS in data.cache else None
    with contextlib.suppress(OSError):  # a read-only build folder: the next build makes them again
        if kept is not None and kept.changed:
            write_kept(Path(app.doctreedir) / MATRICES_FILE, code_digest(), kept.matrices)
            write_kept(Path(app.doctreedir) / SHAPES_FILE, code_digest(), kept.shapes)
        if blocks is not None:
            write_kept(Path(app.doctreedir) / BLOCKS_FILE, code_digest(), blocks)
        keep_keys(Path(app.doctreedir), data.digests)  # for the check beside the next build to make


def display_paths(app: Sphinx, builder: Any) -> None:
    """``write-started``: name the generated sources ``qms-sources/<page>.rst`` while pages are written.

    Pages are read and the environment is saved (with the real paths) by now; the search index
    lists each page's source file, and the real path would put this machine's build folder into
    the site, so two checkouts of the same commit would not give the same bytes.
    """
    if app.config.html_copy_source:
        return  # the sources are copied into the site: keep the paths they are read from
    project = app.env.project
    for docname, path in list(project._docname_to_path.items()):
        if _generated(app, path):
            display = Path(SOURCES_FOLDER) / path.name
            del project._path_to_docname[path]
            project._path_to_docname[display] = docname
            project._docname_to_path[docname] = display


def indexed_source_names(app: Sphinx) -> list[Any]:
    """``html-collect-pages`` (before the search index is written), where ``html_copy_source`` is on:
    the search index names each generated document's source ``qms-sources/<page>.rst``, as
    :func:`display_paths` has it named otherwise. Those sources keep their real paths while pages
    are written (Sphinx copies each from there into ``_sources``), and the index took the paths
    as they were: this machine's build folder, so two checkouts of one commit gave two sites."""
    indexer = getattr(app.builder, "indexer", None)
    names: dict[str, str] | None = getattr(indexer, "_filenames", None)
    if not app.config.html_copy_source or names is None:
        return []
    for docname, name in list(names.items()):
        if _generated(app, Path(name)):
            names[docname] = (Path(SOURCES_FOLDER) / Path(name).name).as_posix()
    return []


def _generated(app: Sphinx, path: Path) -> bool:
    """Whether a document's source is one qms generated, read where it was written (:func:`generate`)."""
    return path.is_absolute() and path.parent == sources_folder(app)


def copied_source_name(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    """``html-page-context``: the name a generated document's source is copied under where
    ``html_copy_source`` is on (``_sources/verification.rst.txt``, as a source of the project is). Sphinx
    makes it from the source's path relative to the project, which a generated source (in the build
    folder, read where it is) does not have: the name was the end of its absolute path."""
    if not app.config.html_copy_source or not context.get("sourcename"):
        return
    if not _generated(app, Path(app.env.doc2path(pagename, False))):
        return
    suffix = app.config.html_sourcelink_suffix
    context["sourcename"] = f"{pagename}{SUFFIX}" + ("" if suffix == SUFFIX else suffix)


#: the "Source revision" the site's pages show (:func:`patch_source_revisions`); kept in the site
#: itself, so that it goes wherever the pages go (a build whose site was never put in place leaves
#: the one before, whose note still matches its pages)
SHOWN_REVISION_FILE = ".qms-source-revision"


def control_state(app: Sphinx, env: BuildEnvironment) -> tuple[str, str]:
    """Fingerprints of what the document-control blocks show that is filled when a page is written:
    the device, its class and the document prefix; and the build's git state (its source revision)."""
    data = build_data(env)
    device = data.project.config.device
    layout = digest([device.name, device.version, device.software_safety_class, data.document_prefix])
    return layout, _revision_state(data)


def _revision_state(data: BuildData) -> str:
    """Fingerprint of the build's git state, which each page's "Source revision" shows."""
    return digest(dataclasses.astuple(data.control))


def updated(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """``env-get-updated``: pages to write again because what their document control shows changed.

    A new commit, or the first edit after one, changes the "Source revision" of every page. An
    HTML build puts the new one into the pages it does not write (:func:`patch_source_revisions`)
    and writes again only those whose revision history changed; other builders write every page.
    """
    pages = _control_updated(app, env)
    build_data(env).cache[CONTROL_UPDATED] = pages
    return pages


def _control_updated(app: Sphinx, env: BuildEnvironment) -> list[str]:
    domain = cast(QmsDomain, env.domains["qms"])
    state = control_state(app, env)
    old = domain.data["control_digest"]
    if old == state:
        return []
    domain.data["control_digest"] = state
    if app.builder.name != PATCHED_BUILDER or not isinstance(old, tuple) or old[0] != state[0]:
        return sorted(domain.data["controlled"])
    data = build_data(env)
    histories: dict[str, tuple[str, str]] = domain.data["histories"]
    stale = []
    for docname, (page_source, shown) in histories.items():
        now = history_digest(page_history(data, docname, page_source or None))
        if now != shown:
            histories[docname] = (page_source, now)
            stale.append(docname)
    return sorted(stale)


#: the builder whose pages get a new source revision without being written again
PATCHED_BUILDER = "html"


def note_written(app: Sphinx, docname: str) -> None:
    """A page with a document-control block is written by this build (it shows the build's revision)."""
    build_data(app.env).cache.setdefault(_WRITTEN, set()).add(docname)


_WRITTEN = ("controlled-pages-written",)


def patch_source_revisions(app: Sphinx) -> None:
    """After a successful HTML build: every page with a document-control block that this build did
    not write shows the build's source revision (see :func:`qms.sphinx.control.source_revision_html`).

    What the pages show is noted in the site once they all show it, so a build that stopped
    half-way leaves a note that no longer matches, and the next one patches them again.
    """
    if app.builder.name != PATCHED_BUILDER:
        return
    data = build_data(app.env)
    note = Path(app.outdir) / SHOWN_REVISION_FILE
    shown = _revision_state(data)
    try:
        if note.read_text(encoding="utf-8") == shown:
            return
    except OSError:
        pass
    written: set[str] = data.cache.get(_WRITTEN, set())
    domain = cast(QmsDomain, app.env.domains["qms"])
    for docname in sorted(set(domain.data["controlled"]) - written):
        patch_source_revision(Path(cast(StandaloneHTMLBuilder, app.builder).get_outfilename(docname)), data.control)
    write_text(note, shown)
