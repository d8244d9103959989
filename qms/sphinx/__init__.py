"""qms as a Sphinx extension: ``extensions = ["qms.sphinx"]`` in ``conf.py``.

It loads the project beside ``conf.py`` once per build, renders the technical file's documents
from their templates, and offers directives (``qms:item``, ``qms:table``, ``qms:matrix``,
``qms:risk-register``, ``qms:risk-matrix``, ``qms:clause-index`` ...) and the ``:item:`` role for
the project's own pages. ``qms build`` and ``sphinx-build -b html . _build/html`` give the same site.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from html import escape
from pathlib import Path
from typing import Any

import jinja2
import sphinx
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.builders.html import StandaloneHTMLBuilder
from sphinx.config import Config
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

from qms import __version__
from qms.atomic import mark_output
from qms.config import load_config
from qms.sphinx import claim_directives, leftovers, memory, parts, references, sources
from qms.sphinx.audit import leave_out_audit_trails
from qms.sphinx.blocks import qms_block, qms_html, visit_qms_html
from qms.sphinx.control import control_block, history_block
from qms.sphinx.deferred import defer_unused
from qms.sphinx.directives import DIRECTIVES, SHAPES, document_control
from qms.sphinx.documents import compiled_templates, compiling_options
from qms.sphinx.docutils_writers import fit_text_tables, pages_of, single_page_anchors
from qms.sphinx.domain import ItemRole, QmsDomain, warn_missing_item
from qms.sphinx.downloads import (
    finish_workbook,
    remove_withdrawn,
    start_workbook,
    write_evidence_files,
    write_matrix_csv,
)
from qms.sphinx.fragments import code_digest, fill_blocks, splice_page
from qms.sphinx.inventory import keep_unchanged_inventory, write_inventory
from qms.sphinx.links import Links
from qms.sphinx.maths import visit_math, visit_math_block
from qms.sphinx.navigation import (
    TitleTocs,
    note_places,
    restore_parents,
    save_trees,
    spare_parents,
    with_title_tocs,
)
from qms.sphinx.parts import PartsDirective
from qms.sphinx.render import depart_qms_status, qms_status, visit_qms_status
from qms.sphinx.replay import setup_replay
from qms.sphinx.safe_rst import TEXT_CLASS, strip_unsafe_links
from qms.sphinx.settings import register as register_settings
from qms.sphinx.settings import set_by_project, settings
from qms.sphinx.state import build_data, load_build_data, project_root
from qms.sphinx.views.build import BuildData
from qms.sphinx.views.items import keep_written
from qms.terminal import plural

logger = logging.getLogger(__name__)

defer_unused()  # before an application loads Sphinx's built-in extensions

MATRIX_PAGE = "traceability-matrix"
#: How every table block is made from its query's data, and the blocks of several anchored tables.
ALL_SHAPES = {**SHAPES, **claim_directives.SHAPES}
ANCHORED = claim_directives.ANCHORED
STATIC = Path(__file__).resolve().parent.parent / "static"

#: Folders of a project root that are never pages of the site: hidden ones and build outputs at every level.
EXCLUDED = [
    ".*", "**/.*", "_build", "**/_build", "venv", "env", "node_modules", "**/__pycache__", "**/site-packages",
    "*.egg-info", "qms", "tests", "benchmarks", "templates", "README.*", "CHANGELOG.*", "LICENSE*", "CONTRIBUTING.*",
]  # fmt: skip


def _configure(app: Sphinx, config: Config) -> None:
    """``config-inited``: defaults a technical file needs, unless ``conf.py`` sets them itself."""
    own = set_by_project(config)
    qms = settings(config)
    root = project_root(Path(app.confdir) if app.confdir else None, Path(app.srcdir), qms.project)
    project_config, _ = load_config(root) if (root / "qms.yaml").is_file() else (None, [])
    # the site's folder (qms build writes it in a hidden folder first, which ".*" excludes already)
    site = Path(qms.site_folder or app.outdir)
    extra = [*EXCLUDED, project_config.templates if project_config else "_templates"]
    if site.is_relative_to(app.srcdir):
        extra.append(_literal_pattern(site, Path(app.srcdir)))
    config.exclude_patterns = [*config.exclude_patterns, *(p for p in extra if p not in config.exclude_patterns)]
    defaults: dict[str, Any] = {
        "html_theme": "furo",
        "html_copy_source": False,
        "html_show_sourcelink": False,
        "html_last_updated_fmt": None,
        "language": "en",
        "smartquotes": False,  # item text is shown exactly as written (and parses much faster)
        "html_math_renderer": "qms",  # MathML written at build time: no script, no CDN
        # qms's pages make no index entries: Sphinx's general index would be an empty page, written
        # again by every build (80 ms at 10,000 items); a project indexing its own pages sets it
        "html_use_index": False,
    }
    if project_config is not None:
        device = project_config.device
        defaults["project"] = device.name
        # html_title is HTML to the themes: the device name is text from qms.yaml, so escape it
        defaults["html_title"] = escape(f"{device.name} {device.version} technical file".replace("  ", " "))
        defaults["copyright"] = device.manufacturer or device.name
        defaults["version"] = defaults["release"] = device.version
    for name, value in defaults.items():
        if name not in own:
            config[name] = value
    if str(STATIC) not in config.html_static_path:
        config.html_static_path = [*config.html_static_path, str(STATIC)]


def _literal_pattern(folder: Path, srcdir: Path) -> str:
    """An exclude pattern matching exactly ``folder`` (below ``srcdir``): its wildcard characters escaped."""
    return re.sub(r"([*?\[])", r"[\1]", folder.relative_to(srcdir).as_posix())


def _load(app: Sphinx) -> None:
    """``builder-inited``: load the project once for the whole build."""
    qms = settings(app.config)
    root = project_root(Path(app.confdir) if app.confdir else None, Path(app.srcdir), qms.project)

    def start(data: BuildData) -> None:  # the workbook needs no finding: it is written while the rules run
        data.workbook_job = start_workbook(app, data)

    with memory.frozen_while_loading():
        data = load_build_data(
            app.env,
            root,
            edition=qms.iec62304_edition,
            prefix=qms.document_id_prefix,
            clause_table=qms.clause_table,
            before_rules=start,
        )
    if not qms.audit_trail:
        leave_out_audit_trails(data)
    errors = sum(1 for finding in data.findings if str(finding.severity) == "error")
    logger.info(
        f"qms: {len(data.project)} items from {root}; "
        f"qms check: {plural(errors, 'error')}, {plural(len(data.findings) - errors, 'warning')}"
    )


def _resolve(app: Sphinx, doctree: nodes.document, docname: str) -> None:
    """``doctree-resolved``: fill item blocks, tables and document-control blocks; check item text's links once more."""
    for container in doctree.findall(nodes.container):
        if TEXT_CLASS in container["classes"]:
            strip_unsafe_links(container)
    blocks = list(doctree.findall(qms_block))
    controls = list(doctree.findall(document_control))
    if not blocks and not controls:
        return
    data = build_data(app.env)
    links = Links(app, docname)
    matrix = links.doc(MATRIX_PAGE) if app.builder.format == "html" else None
    if matrix is not None and matrix.startswith("#"):
        matrix = None  # single-page HTML: the matrix is a part of this page, its filter needs a page of its own
    replacements = fill_blocks(app, docname, blocks, data, links, ALL_SHAPES, matrix, ANCHORED)
    _replace_all(blocks, replacements)
    pages = pages_of(doctree, docname, document_control)
    html = app.builder.format == "html"
    for unfilled_block in controls:
        page = pages[id(unfilled_block)]  # LaTeX and single-page HTML join every page into one tree
        if unfilled_block["part"] == "history":
            unfilled_block.replace_self(history_block(data, page, unfilled_block["page_source"] or None))
        else:
            unfilled_block.replace_self(
                control_block(data, page, unfilled_block["doc_id"], unfilled_block["doc_title"], html=html)
            )
        sources.note_written(app, page)


def _rewritten(app: Sphinx, env: BuildEnvironment) -> list[str]:
    """``env-get-updated``: the pages to write again because data filled into their blocks changed,
    less those whose changed blocks are put into the last build's page in place."""
    data = build_data(env)

    def splice(docname: str, output: Path) -> bool:
        return splice_page(app, docname, output, data, ALL_SHAPES, MATRIX_PAGE, ANCHORED)

    return sources.rewritten(app, env, splice, lambda: write_inventory(app))


def _replace_all(unfilled: list[Any], replacements: dict[int, list[nodes.Node]]) -> None:
    """Replace many children of the same parents in one pass each (``replace_self`` is linear per call)."""
    parents: dict[int, nodes.Element] = {}
    for unfilled_block in unfilled:
        parents.setdefault(id(unfilled_block.parent), unfilled_block.parent)
    for parent in parents.values():
        children: list[nodes.Node] = []
        for child in parent.children:
            children.extend(replacements.get(id(child), [child]))
        parent.children = []
        parent.extend(children)


def _forget_vanished_words(app: Sphinx) -> list[Any]:
    """``html-collect-pages`` (before the search index is written): drop the words no page holds
    any longer. Sphinx keeps them with an empty page list, so a page written again with another
    commit in its document-control block would leave the old commit's hash in the index, and the
    site would differ from a clean build of the same commit."""
    indexer = getattr(app.builder, "indexer", None)
    for mapping in (getattr(indexer, "_mapping", {}), getattr(indexer, "_title_mapping", {})):
        for word in [word for word, pages in mapping.items() if not pages]:
            del mapping[word]
    return []


def _keep_written(app: Sphinx, env: BuildEnvironment) -> None:
    """``env-updated``: the pages are read; keep the fingerprints of the items as written for the next build."""
    keep_written(build_data(env))


def _finish(app: Sphinx, exception: Exception | None) -> None:
    """``build-finished``: put the downloads into the site (not after a failed build)."""
    if app.builder.format != "html":
        return
    data = build_data(app.env)
    job, data.workbook_job = data.workbook_job, None
    if exception is not None:
        if job is not None and job.process is not None:
            job.process.terminate()
            job.process.join()
            job.temporary.unlink(missing_ok=True)
            if job.matrix is not None:
                job.matrix.unlink(missing_ok=True)
        return
    sources.patch_source_revisions(app)
    for relative in leftovers.remove_unnamed_copies(app):
        logger.info(f"qms: removed {relative}: the project no longer has it")
    finish_workbook(app, data, job)
    write_matrix_csv(app, data, job)
    write_evidence_files(app, data)
    remove_withdrawn(app, data)
    mark_output(Path(app.outdir))


def _setup_theme(app: Sphinx) -> None:
    """Load furo, the default theme, now, and let its build hooks run for HTML builders only.

    Loaded now rather than when the HTML builder starts: its option ``pygments_dark_style`` then
    exists when the saved environment is compared with this configuration, and Sphinx stops
    reporting the configuration as changed on every build. Which builder runs is only known
    later, and furo's hooks refuse any builder but HTML (``builder-inited``) and write an HTML
    stylesheet (``build-finished``): for text, LaTeX, man or Texinfo they are skipped. Its page
    hook makes the navigation from the pages' tables of contents cut to their titles
    (:mod:`qms.sphinx.navigation`): the same tree, without copying every section for every page.
    """
    app.setup_extension("furo")
    for event in ("builder-inited", "build-finished"):
        for listener in list(app.events.listeners[event]):
            if getattr(listener.handler, "__module__", None) == "furo":
                app.disconnect(listener.id)
                app.connect(event, functools.partial(_for_html, listener.handler), priority=listener.priority)
    tocs = TitleTocs()
    for listener in list(app.events.listeners["html-page-context"]):
        if getattr(listener.handler, "__module__", None) == "furo":
            app.disconnect(listener.id)
            hook = functools.partial(with_title_tocs, listener.handler, tocs)
            app.connect("html-page-context", hook, priority=listener.priority)


def _keep_compiled_theme_templates(app: Sphinx) -> None:
    """``builder-inited``: the theme's templates (furo's page, sidebar and the rest) compiled once and
    kept between builds beside qms's own (:func:`qms.sphinx.documents.compiled_templates`), where
    Jinja compiled all of them again for the first page each build wrote (some 0.07 s). Jinja uses
    a kept one only for the same source; the key names Sphinx's version, which sets up the
    environment, and the environment's options and extensions as they are when a template is
    loaded (an extension may add its own)."""
    environment = getattr(getattr(app.builder, "templates", None), "environment", None)
    if isinstance(environment, jinja2.Environment) and environment.bytecode_cache is None:
        folder = Path(app.doctreedir) / THEME_TEMPLATES_FOLDER
        environment.bytecode_cache = compiled_templates(
            folder, lambda: f"sphinx {sphinx.__version__}\0{compiling_options(environment)}"
        )


#: where the theme's compiled templates are kept, in the doctree folder
THEME_TEMPLATES_FOLDER = "qms-theme-templates"


def _for_html(handler: Callable[..., None], app: Sphinx, *arguments: Any) -> None:
    """Run a theme's hook when the builder writes HTML pages (html, dirhtml, singlehtml)."""
    if isinstance(app.builder, StandaloneHTMLBuilder):
        handler(app, *arguments)


def setup(app: Sphinx) -> dict[str, Any]:
    if "html_theme" not in set_by_project(app.config) or app.config.html_theme == "furo":
        _setup_theme(app)
    register_settings(app)
    for name, directive in {**DIRECTIVES, **claim_directives.DIRECTIVES, "parts": PartsDirective}.items():
        QmsDomain.directives[name] = directive
    app.add_domain(QmsDomain)
    app.add_role("item", ItemRole())
    app.add_node(document_control)
    app.add_node(qms_block)
    app.add_node(qms_html, html=(visit_qms_html, None))  # the other builders' raw visitor skips it
    app.add_html_math_renderer("qms", inline_renderers=(visit_math, None), block_renderers=(visit_math_block, None))
    app.add_node(qms_status, html=(visit_qms_status, depart_qms_status))
    app.connect("config-inited", _configure)
    app.connect("builder-inited", _load)
    app.connect("builder-inited", _keep_compiled_theme_templates)
    app.connect("builder-inited", keep_unchanged_inventory)
    app.connect("env-get-outdated", leftovers.note_copies)
    app.connect("env-get-outdated", sources.outdated)
    app.connect("env-get-updated", sources.updated)
    app.connect("env-get-updated", _rewritten)
    app.connect("doctree-read", references.note)
    app.connect("env-get-updated", references.moved)
    app.connect("env-get-updated", parts.moved)
    app.connect("env-get-updated", sources.save_environment, priority=900)
    app.connect("env-updated", _keep_written)
    app.connect("env-updated", sources.save_known_ranges)
    app.connect("write-started", sources.display_paths)
    app.connect("html-page-context", sources.copied_source_name)
    app.connect("html-collect-pages", sources.indexed_source_names)
    app.connect("env-before-read-docs", note_places)
    app.connect("write-started", spare_parents)
    app.connect("build-finished", restore_parents)
    app.connect("build-finished", save_trees)
    app.connect("build-finished", sources.save_kept)
    app.connect("env-before-read-docs", memory.start_reading, priority=900)
    app.connect("env-purge-doc", memory.before_reading, priority=900)
    app.connect("write-started", memory.start_writing, priority=900)
    app.connect("doctree-resolved", memory.collect_page, priority=100)
    app.connect("doctree-resolved", _resolve)
    app.connect("doctree-resolved", fit_text_tables, priority=600)
    app.connect("doctree-resolved", single_page_anchors, priority=600)
    app.connect("warn-missing-reference", warn_missing_item)
    app.connect("html-collect-pages", _forget_vanished_words)
    app.connect("build-finished", _finish)
    app.connect("build-finished", memory.finish, priority=900)
    setup_replay(app)
    app.add_css_file("qms.css")
    app.add_js_file("qms.js")
    return {
        "version": __version__,
        "env_version": environment_version(),
        "parallel_read_safe": True,
        "parallel_write_safe": True,
    }


def environment_version() -> int:
    """The version of what qms keeps in Sphinx's environment: a fingerprint of its code
    (:func:`~qms.sphinx.fragments.code_digest`). The pages were read by that code, so a build by other
    code (another release of qms) starts with a fresh environment, as a clean build does: Sphinx
    reads a kept environment only where every extension's version is the same."""
    return int(code_digest(), 16)
