"""``qms build``: render the technical file as an HTML site, through Sphinx and the qms extension.

The same site as ``sphinx-build -b html . _build/html`` in the project root, written
atomically: Sphinx writes into a temporary folder beside the output (seeded with the previous
site, so only pages whose content changed are written again), and the finished site replaces
the old one in one step. A failed build leaves the previous site as it was. The output folder
is replaced whole, so it must be new, empty or a site qms wrote (it holds a marker file), and
can be neither the project, nor hold or lie inside anything the project reads.

A successful HTML build records the fingerprint of everything it read (:mod:`qms.cli.build_inputs`);
the next ``qms build`` into the same folder compares it first, and when nothing changed and the
site is as that build left it, Sphinx does not run: the site stays as it is and the warnings that
build gave are given again (``--strict`` and ``--clean`` always build).
"""

from __future__ import annotations

import ast
import contextlib
import dataclasses
import glob
import io
import itertools
import re
import shutil
import sys
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, cast

import click

from qms.atomic import (
    OUTPUT_MARKER,
    ForeignFolder,
    held,
    mark_output,
    remove_empty_folders,
    replace_tree,
    replaceable,
    workspace,
)
from qms.cli.common import EXIT_FINDINGS, fail, project_option
from qms.config import PROJECT_FILE, find_root, load_config

if TYPE_CHECKING:
    from sphinx.application import Sphinx
    from sphinx.builders.html import StandaloneHTMLBuilder

    from qms.cli.build_inputs import Digests, Inputs, Record
    from qms.model import Finding, Project
    from qms.pdf import Cover, Document

#: The environment Sphinx keeps between builds (removed after a failed build, see below).
ENVIRONMENT = "environment.pickle"


def project_root(project_dir: Path | None) -> Path:
    """The folder holding ``qms.yaml`` (``--project``, else the nearest one upward)."""
    root = project_dir.resolve() if project_dir else find_root(Path.cwd())
    if root is None or not (root / PROJECT_FILE).is_file():
        where = project_dir or Path.cwd()
        fail(
            f"no {PROJECT_FILE} found in {where} or any folder above it; "
            "run `qms init DIR` to start a project, or pass --project DIR"
        )
        raise AssertionError  # unreachable: fail() exits
    return root


def _seed(previous: Path | None, staging: Path) -> None:
    """Start from a copy of the previous site (times kept), so unchanged pages are not written again;
    from an empty folder without one (every page is written). Its ``_static`` folder is left out:
    Sphinx copies the static files afresh every build, and a file taken out of ``html_static_path``
    would otherwise stay in the site."""
    if previous is not None and previous.is_dir():

        def static(folder: str, names: list[str]) -> list[str]:
            return [STATIC_FOLDER] if Path(folder) == previous and STATIC_FOLDER in names else []

        shutil.copytree(previous, staging, symlinks=True, copy_function=shutil.copy2, ignore=static)
    else:
        staging.mkdir(parents=True)


def _seeding(previous: Path | None, staging: Path) -> Callable[[], None]:
    """Start :func:`_seed` in a second process where one can start (:func:`qms.parsecache.beside`):
    copying a large site takes as long as reading the project, which this process does meanwhile. The
    function returned waits for the copy; where the other process could not start or did not finish
    it, it copies here (into an emptied folder), and meets the same error if there is one."""
    from qms.parsecache import beside, can_fork

    def copied() -> bool:
        _seed(previous, staging)
        return True

    collect = beside(copied) if previous is not None and can_fork() else None
    if collect is None:
        _seed(previous, staging)
        return _nothing

    def wait() -> None:
        if collect() is not True:
            shutil.rmtree(staging, ignore_errors=True)
            _seed(previous, staging)

    return wait


def _nothing() -> None:
    return None


#: the folder of a site's static files (Sphinx's name)
STATIC_FOLDER = "_static"


#: the folders of a site that hold no page of a document (Sphinx's files, qms's downloads)
_NOT_PAGES = frozenset({STATIC_FOLDER, "_images", "_downloads", "_sources", "downloads"})


def site_pages(site: Path) -> dict[str, int]:
    """The pages in ``site`` (relative path: modification time), outside the folders of other files."""
    pages: dict[str, int] = {}
    for path in sorted(site.rglob("*.html")) if site.is_dir() else ():
        relative = path.relative_to(site)
        if relative.parts[0] not in _NOT_PAGES and path.is_file():
            pages[relative.as_posix()] = path.stat().st_mtime_ns
    return pages


def remove_dropped_pages(app: Sphinx, site: Path, seeded: dict[str, int], rendered: set[str]) -> list[str]:
    """Remove from ``site`` the pages the build started with (``seeded``: a copy of the last site) that
    it has no document for and did not write: the page of a document no longer in the project (a
    page of the project deleted, a part a long document no longer needs), which would stay in the
    site, unlinked but served, with what it showed when it was last written; with its source's copy
    (``_sources``). A page of a document, one the build wrote (``rendered``, or written since it
    started) and a file of ``html_extra_path`` stay. The paths removed, relative to ``site``."""
    builder = cast("StandaloneHTMLBuilder", app.builder)
    current = {
        Path(builder.get_outfilename(name)).relative_to(site).as_posix() for name in {*app.env.found_docs, *rendered}
    }
    extra: set[str] = set()
    for entry in app.config.html_extra_path:
        folder = Path(app.confdir, entry)
        files = folder.rglob("*") if folder.is_dir() else [folder]
        extra.update((path.relative_to(folder) if folder.is_dir() else Path(path.name)).as_posix() for path in files)
    removed = []
    for relative, written in seeded.items():
        path = site / relative
        if relative in current or relative in extra:
            continue
        try:
            if path.stat().st_mtime_ns != written:
                continue  # written by this build
        except FileNotFoundError:
            continue
        path.unlink()
        removed.append(relative)
        remove_empty_folders(path.parent, site)  # a page of a folder of the project's own
        sources = site / "_sources"  # the page's source, where html_copy_source copies it
        for copy in sources.glob(glob.escape(relative.removesuffix(".html")) + ".*") if sources.is_dir() else ():
            if copy.is_file():
                copy.unlink()
                removed.append(copy.relative_to(site).as_posix())
                remove_empty_folders(copy.parent, sources)
    return removed


def sphinx_build(
    root: Path,
    outdir: Path,
    doctrees: Path,
    site: Path,
    *,
    strict: bool,
    clean: bool,
    status: TextIO | None,
    warning: TextIO,
    whole_documents: bool = False,
    rendered: set[str] | None = None,
) -> Sphinx:
    """Build the html site of the project at ``root`` into ``outdir``, bound for ``site``; the Sphinx application.

    ``whole_documents``: every document on one page, however long (a site to print, one PDF a document).
    ``rendered``: filled with the name of every page the build writes (its documents', the index's,
    the search page's...).
    """
    from sphinx.application import Sphinx
    from sphinx.util.console import nocolor
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    if not getattr(warning, "isatty", lambda: False)():
        nocolor()

    has_conf = (root / "conf.py").is_file()
    overrides: dict[str, Any] = {"qms_site_folder": str(site)}
    if whole_documents:
        overrides["qms_page_items"] = 0
    if not has_conf:
        overrides["extensions"] = ["qms.sphinx"]
    if has_conf and _lists_extensions_without_qms(root / "conf.py"):
        raise ExtensionMissing(root / "conf.py")  # known from the file: before Sphinx warns about anything
    unused = _builders_never_used(root / "conf.py" if has_conf else None)
    with patch_docutils(root if has_conf else None), docutils_namespace(), _without_extensions(unused):
        app = Sphinx(
            srcdir=root,
            confdir=root if has_conf else None,
            outdir=outdir,
            doctreedir=doctrees,
            buildername="html",
            confoverrides=overrides,
            status=status,
            warning=warning,
            freshenv=clean,
            warningiserror=strict,
        )
        if EXTENSION not in app.extensions:
            raise ExtensionMissing(root / "conf.py")
        if rendered is not None:
            app.connect("html-page-context", lambda app, pagename, *context: rendered.add(pagename))
        app.build()
        return app


#: the Sphinx extension that renders the technical file
EXTENSION = "qms.sphinx"

#: Sphinx's own extensions that add builders other than the HTML one this build uses, and no event,
#: domain, transform or directive it runs, nor any configuration value that a change of would read
#: the pages again (Sphinx's ``env``) or that the HTML builder fingerprints (``html``): starting
#: Sphinx without them changes no page, and saves a tenth of a second of every build, most of it
#: the link checker's HTTP library. The link checker's event (``linkcheck-process-uri``) goes with
#: it, so they are left out only where no code of the project's own runs (:func:`_builders_never_used`).
UNUSED_BUILDERS = (
    "sphinx.builders.changes",
    "sphinx.builders.dirhtml",
    "sphinx.builders.dummy",
    "sphinx.builders.latex",
    "sphinx.builders.linkcheck",
    "sphinx.builders.manpage",
    "sphinx.builders.texinfo",
    "sphinxcontrib.applehelp",
    "sphinxcontrib.devhelp",
    "sphinxcontrib.serializinghtml",
)


def _builders_never_used(conf: Path | None) -> tuple[str, ...]:
    """:data:`UNUSED_BUILDERS` where the build runs no extension but qms's (and its theme, furo): no
    conf.py, or one that only sets names to literal values, ``extensions`` to qms's alone and
    ``html_theme`` (if at all) to furo. Else none: an extension of the project's own may use what
    they add (an event, a configuration value), and Sphinx starts with all of its own."""
    if conf is None:
        return UNUSED_BUILDERS
    try:
        tree = ast.parse(conf.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return ()
    for index, statement in enumerate(tree.body):
        if index == 0 and isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue  # the module's docstring
        if not isinstance(statement, ast.Assign) or len(statement.targets) != 1:
            return ()
        target = statement.targets[0]
        try:
            value = ast.literal_eval(statement.value)
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            return ()
        if not isinstance(target, ast.Name):
            return ()
        if target.id == "extensions" and (not isinstance(value, (list, tuple)) or set(value) - {EXTENSION}):
            return ()
        if target.id == "html_theme" and value != "furo":
            return ()
    return UNUSED_BUILDERS


@contextlib.contextmanager
def _without_extensions(names: Sequence[str]) -> Iterator[None]:
    """Sphinx started without its own extensions ``names`` (Sphinx loads every extension of
    ``sphinx.application.builtin_extensions`` as it starts); where that list is not as expected
    (another version of Sphinx), it is left whole."""
    import sphinx.application

    builtin = getattr(sphinx.application, "builtin_extensions", None)
    if not names or not isinstance(builtin, tuple):
        yield
        return
    sphinx.application.builtin_extensions = tuple(name for name in builtin if name not in names)
    try:
        yield
    finally:
        sphinx.application.builtin_extensions = builtin


class ExtensionMissing(Exception):
    """The project's conf.py does not load the qms extension: every qms directive would be unknown."""

    def __init__(self, conf: Path) -> None:
        line = _extensions_line(conf)
        where = f"conf.py:{line}" if line else "conf.py"
        fix = f'list it there: extensions = ["{EXTENSION}"]' if line else f'add the line extensions = ["{EXTENSION}"]'
        super().__init__(f"{where}: the Sphinx extensions do not include {EXTENSION}, which renders the records; {fix}")


def _extensions_assignments(conf: Path) -> list[ast.stmt] | None:
    """The statements of conf.py that set or extend ``extensions``; None when the file cannot be parsed."""
    try:
        tree = ast.parse(conf.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
        return None
    found: list[ast.stmt] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            targets = [node.value.func.value] if isinstance(node.value.func, ast.Attribute) else []
        else:
            continue
        if any(isinstance(target, ast.Name) and target.id == "extensions" for target in targets):
            found.append(node)
    return found


def _extensions_line(conf: Path) -> int | None:
    """The line of conf.py that sets ``extensions``, where it can be found without running the file."""
    found = _extensions_assignments(conf)
    return found[0].lineno if found else None


def _lists_extensions_without_qms(conf: Path) -> bool:
    """Whether conf.py sets ``extensions`` once, to a literal list of names without the qms extension."""
    found = _extensions_assignments(conf)
    if not found or len(found) != 1 or not isinstance(found[0], ast.Assign):
        return False
    try:
        names = ast.literal_eval(found[0].value)
    except ValueError:
        return False
    return isinstance(names, (list, tuple)) and EXTENSION not in names


class Tee(io.TextIOBase):
    """Passes warnings through to the terminal and counts them."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.count = 0
        self.written: list[str] = []

    def isatty(self) -> bool:
        return self.stream.isatty()

    def write(self, text: str) -> int:
        self.count += text.count("WARNING:") + text.count("ERROR:")
        self.written.append(text)
        return self.stream.write(text)

    def text(self) -> str:
        """Everything written, as it was written."""
        return "".join(self.written)

    def flush(self) -> None:
        self.stream.flush()


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of the HTML site (default _build/html) or of the PDFs (default _build/pdf), in the project root.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["html", "pdf"]),
    default="html",
    show_default=True,
    help="html: the site. pdf: one PDF per document and technical-file.pdf holding them all (needs Chromium).",
)
@project_option
@click.option(
    "--fail-on-findings",
    is_flag=True,
    help="Exit 1 when `qms check` reports an error-level finding. The site is still built and replaces the "
    "previous one: it shows the open findings.",
)
@click.option(
    "-W",
    "--strict",
    is_flag=True,
    help="Fail on any build warning (unknown item ids, refused markup in item text...): the build fails and "
    "the previous site stays. Implies --fail-on-findings (check warnings stay warnings: `qms check --strict` "
    "fails on them). Reads every page again, so every warning is reported.",
)
@click.option("--clean", is_flag=True, help="Read every page again instead of only those whose data changed.")
@click.option("-v", "--verbose", is_flag=True, help="Show Sphinx's progress.")
def build(
    output: Path | None,
    output_format: str,
    project_dir: Path | None,
    fail_on_findings: bool,
    strict: bool,
    clean: bool,
    verbose: bool,
) -> None:
    """Render the technical file as an HTML site or as PDFs (IEC 62304, ISO 14971, ISO 13485 documents).

    Works offline: open the site's index.html from disk. A failed build leaves the previous
    site (or PDFs) in place. The output folder must be new, empty or one qms built, outside the
    project's sources. Exit status: 0 built; 1 the build failed (with --strict: a build warning),
    or it was built but --fail-on-findings (or --strict) found an error-level `qms check` finding;
    2 no project found or an output folder qms may not replace.
    """
    root = project_root(project_dir)
    target = (output if output is not None else root / "_build" / output_format).resolve()
    refusal = unsafe_output(root, target)
    if refusal is not None:
        fail(f"cannot build into {_shown(target)}: {refusal}")
    option = "--fail-on-findings" if fail_on_findings else "--strict"
    errors = None
    # one HTML build of a project at a time: they share its build cache (_build/doctrees)
    alone = held(root / "_build" / "doctrees" / BUILD_LOCK, _waiting) if output_format == "html" else nullcontext()
    try:
        with alone:
            start = starting(root, target, root / "_build" / "doctrees") if output_format == "html" else None
            if start is not None and not (strict or clean):
                record = up_to_date(target, root / "_build" / "doctrees", start)
                if record is not None:
                    _report_unchanged(target, record)
                    if fail_on_findings and record.errors is not None:
                        _fail_with(option, record.errors)
                    return
            with workspace(target) as folder:
                if output_format == "pdf":
                    _build_pdf_into(root, target, folder, strict=strict, verbose=verbose)
                else:
                    assert start is not None, "an HTML build starts from the inputs read"
                    errors = _build_into(root, target, folder, start, strict=strict, clean=clean, verbose=verbose)
    except ForeignFolder:
        fail(f"cannot build into {_shown(target)}: {_FOREIGN}")
    except OSError as error:
        fail(f"cannot write the site to {_shown(target)}: {error.strerror or error}", code=EXIT_FINDINGS)
    if output_format == "pdf" and (fail_on_findings or strict):
        errors = error_summary(root)
    if (fail_on_findings or strict) and errors is not None:
        _fail_with(option, errors)


#: held by the HTML build of a project while it runs (in ``_build/doctrees``): a second one waits
BUILD_LOCK = "qms-build.lock"


def _waiting() -> None:
    click.echo("qms: another qms build of this project is running; waiting for it to end", err=True)


def error_summary(root: Path, project: Project | None = None, findings: Sequence[Finding] | None = None) -> str | None:
    """What `qms check` says of the project's error-level findings (of ``findings`` when given); None without any."""
    from qms.checking import check_project, root_causes
    from qms.model import Severity
    from qms.project import load_project
    from qms.reporting import Summary

    if project is None or findings is None:
        project = load_project(root)
        findings = check_project(project)
    if not any(finding.severity is Severity.ERROR for finding in findings):
        return None
    return Summary.of(project, root_causes(project, findings)).line()


def _fail_with(option: str, summary: str) -> None:
    """Exit 1: the site is built, but ``option`` fails the build on error-level findings."""
    fail(f"built, but with {option} the findings fail the build ({summary}): `qms check` lists them", EXIT_FINDINGS)


_FOREIGN = (
    f"the folder is not empty and qms build did not write it (it has no {OUTPUT_MARKER} file), "
    "and a build replaces its output folder whole; choose a new or empty folder, or empty this one yourself"
)


def _build_into(
    root: Path, target: Path, folder: Path, start: Start, *, strict: bool, clean: bool, verbose: bool
) -> str | None:
    """Build the site in ``folder`` (a workspace beside ``target``), then put it in place of ``target``;
    what `qms check` says of its error-level findings (None: there are none)."""
    from qms.checking import discard_beside

    doctrees = root / "_build" / "doctrees"
    before = inputs_before(start, doctrees)
    unfinished = start_building(doctrees)
    # first, in a second process: the copy is done while this one reads the project, and leaves the
    # second core to the check that starts next
    seeded_now = _seeding(target if as_left(target, start) else None, folder / "site")
    check_beside_build(root, target, doctrees, start)  # before Sphinx is imported: meanwhile
    try:
        return _built(
            root, target, folder, start, before, unfinished, seeded_now, strict=strict, clean=clean, verbose=verbose
        )
    finally:
        discard_beside(root)  # where the build ended before it took the check's findings


def _built(
    root: Path,
    target: Path,
    folder: Path,
    start: Start,
    before: tuple[Inputs | None, Digests],
    unfinished: Path,
    seeded_now: Callable[[], None],
    *,
    strict: bool,
    clean: bool,
    verbose: bool,
) -> str | None:
    """The build of :func:`_build_into` once its check started beside it, and the copy of the previous
    site into ``folder`` (``seeded_now`` waits for it)."""
    staging = folder / "site"
    warnings = Tee(sys.stderr)
    doctrees = root / "_build" / "doctrees"
    started = start.at
    from qms.sphinx.state import build_data  # while the previous site is copied

    seeded_now()
    seeded, rendered = site_pages(staging), set[str]()
    kept = f"the previous site in {_shown(target)} is unchanged"
    app = _site(
        root,
        staging,
        doctrees,
        target,
        warnings,
        kept=kept,
        strict=strict,
        clean=clean,
        verbose=verbose,
        rendered=rendered,
    )
    remove_dropped_pages(app, staging, seeded, rendered)
    # Sphinx keeps the previous build's .buildinfo as .buildinfo.bak when the configuration changed: no site of its own
    (staging / ".buildinfo.bak").unlink(missing_ok=True)
    mark_output(staging)
    replace_tree(staging, target, folder / "previous")
    unfinished.unlink(missing_ok=True)
    pages = sum(1 for _ in target.glob("*.html"))
    summary = f", {warnings.count} warning(s)" if warnings.count else ""
    click.echo(f"qms: built {pages} pages into {_shown(target)}{summary}; open {_shown(target / 'index.html')}")
    data = build_data(app.env)
    errors = error_summary(root, data.project, data.findings)
    record_build(app, root, target, doctrees, before, started, Built(pages, warnings.text(), warnings.count, errors))
    return errors


def as_left(target: Path, start: Start) -> bool:
    """Whether the site in ``target`` is as the last build left it, or no build of it is on record. A
    site changed since (a page edited, a file added or removed by hand or by another program) is not
    built from: a page changed after its build would stay as it is while its data does not change,
    and a file the build never wrote would stay in the site; every file is then written again."""
    from qms.cli.build_inputs import site_digest

    record = start.record
    return record is None or record.target != str(target) or site_digest(target) == record.site


def up_to_date(target: Path, doctrees: Path, start: Start) -> Record | None:
    """The record of the last HTML build into ``target`` when the site is as it wrote it and
    nothing the build reads changed since (``start``: the inputs now); None when the site must be built."""
    from qms.cli.build_inputs import site_digest, write_record

    record, now, digests = start.record, start.inputs, start.digests
    if record is None or record.reads.unsafe is not None or record.target != str(target):
        return None
    if site_digest(target) != record.site:
        return None
    if now is None or now.fingerprint != record.fingerprint:
        return None
    if digests.kept != record.digests:  # files no longer too recent to trust their times: quicker next time
        write_record(doctrees, dataclasses.replace(record, digests=digests.kept))
    return record


def _report_unchanged(target: Path, record: Record) -> None:
    """Say the site is up to date, with the warnings its build gave (they are still open)."""
    warnings = record.warnings if sys.stderr.isatty() else _ESCAPES.sub("", record.warnings)
    sys.stderr.write(warnings)
    sys.stderr.flush()
    summary = f", {record.warning_count} warning(s)" if record.warning_count else ""
    click.echo(
        f"qms: the site in {_shown(target)} is up to date: nothing it shows changed since it was built; "
        f"{record.pages} pages{summary}; open {_shown(target / 'index.html')}"
    )


#: Terminal colour codes, left out of warnings given again to a stream that is not a terminal.
_ESCAPES = re.compile(r"\x1b\[[0-9;]*m")


@dataclasses.dataclass(frozen=True, slots=True)
class Built:
    """What a successful HTML build showed: its pages, the warnings it gave, its error findings."""

    pages: int
    warnings: str
    warning_count: int
    errors: str | None


@dataclasses.dataclass(frozen=True, slots=True)
class Start:
    """What a build finds as it starts: the record of the last build, and the inputs now (found with
    what that build read), with their digests; ``at`` is the time before they were read."""

    record: Record | None
    inputs: Inputs | None
    digests: Digests
    at: int


def check_beside_build(root: Path, target: Path, doctrees: Path, start: Start) -> None:
    """Start the build's check in a second process (:func:`qms.checking.check_beside`), which also
    makes the fingerprints of whole kinds of items the last build into ``doctrees`` made: its
    findings and fingerprints count where the inputs, found again once they are found, are those the
    build started from. An input that changes after that and before the build reads it is found again by
    :func:`record_build`: the build leaves no record, and the next one runs with what it reads then."""
    initial = start.inputs
    if initial is None:
        return
    from qms.checking import check_beside
    from qms.cli.build_inputs import Reads, inputs

    reads = start.record.reads if start.record else Reads()

    def unchanged() -> bool:
        now = inputs(root, target, doctrees, reads, start.digests)
        return now is not None and now.fingerprint == initial.fingerprint

    check_beside(root, unchanged, doctrees)


def starting(root: Path, target: Path, doctrees: Path) -> Start:
    """The inputs of a build of ``root`` into ``target`` as it starts, read once for both the check
    that the site is up to date and the record of the build that follows."""
    from qms.cli.build_inputs import Digests, Reads, inputs, read_record

    at = time.time_ns()
    record = read_record(doctrees)
    digests = Digests(record.digests if record else {})
    return Start(record, inputs(root, target, doctrees, record.reads if record else Reads(), digests), digests, at)


def inputs_before(start: Start, doctrees: Path) -> tuple[Inputs | None, Digests]:
    """The inputs as the build starts; no record stands until it succeeds."""
    from qms.cli.build_inputs import forget_record

    forget_record(doctrees)
    return start.inputs, start.digests


def record_build(
    app: Sphinx,
    root: Path,
    target: Path,
    doctrees: Path,
    before: tuple[Inputs | None, Digests],
    started: int,
    built: Built,
) -> None:
    """Record the inputs of the finished build, unless one changed while it ran (the next build runs then):
    each input digests as it did when the build started, and one read for the first time is older than that."""
    from qms.cli.build_inputs import Digests, Record, build_reads, changed_since, inputs, site_digest, write_record

    reads = build_reads(app, root, doctrees)
    start, cached = before
    digests = Digests(cached.kept)
    after = inputs(root, target, doctrees, reads, digests)
    site = site_digest(target)
    if start is None or after is None or site is None or start.found != after.found or start.git != after.git:
        return
    first_read = [name for name in after.read if name not in start.read and name not in after.found]
    if any(start.read[name] != digest for name, digest in after.read.items() if name in start.read):
        return
    if changed_since(first_read, started - _COARSE_CLOCK):
        return
    write_record(
        doctrees,
        Record(
            after.fingerprint,
            str(target),
            site,
            built.pages,
            built.warnings,
            built.warning_count,
            built.errors,
            reads,
            digests.kept,
        ),
    )


#: How far a file's times may lag behind the clock (the kernel stamps them from a coarse clock), in ns.
_COARSE_CLOCK = 20_000_000


def _build_pdf_into(root: Path, target: Path, folder: Path, *, strict: bool, verbose: bool) -> None:
    """Build the site afresh in ``folder``, print its documents there, then put the PDFs in place of ``target``."""
    try:
        from qms.pdf import PdfError, print_technical_file
    except ImportError:
        fail("the PDF build needs pypdf and Playwright: pip install 'qms[pdf]'")
        raise AssertionError from None  # unreachable: fail() exits
    warnings = Tee(sys.stderr)
    kept = f"the previous PDFs in {_shown(target)} are unchanged"
    site = folder / "site"
    # printed whole: a long document cut into pages for the browser is one PDF all the same
    app = _site(
        root,
        site,
        folder / "doctrees",
        site,
        warnings,
        kept=kept,
        strict=strict,
        clean=True,
        verbose=verbose,
        whole=True,
    )
    staging = folder / "pdf"
    try:
        written = print_technical_file(site, printed_documents(app), cover(root), staging)
    except PdfError as error:
        fail(f"cannot make the PDFs: {error}; {kept}", code=EXIT_FINDINGS)
    mark_output(staging)
    replace_tree(staging, target, folder / "previous")
    summary = f", {warnings.count} warning(s)" if warnings.count else ""
    click.echo(
        f"qms: built {len(written)} PDFs into {_shown(target)}{summary}; open {_shown(target / written[-1].name)}"
    )


def printed_documents(app: Sphinx) -> list[Document]:
    """The documents of the built site, in the order of the document list, with their approval states."""
    from qms.approvals import document_states
    from qms.pdf import Document
    from qms.project import load_project
    from qms.sphinx.documents import DOCUMENTS, FRONT_PAGE, document_id
    from qms.sphinx.settings import settings

    states = document_states(load_project(Path(app.srcdir)))
    prefix = settings(app.config).document_id_prefix
    documents = []
    for spec in (FRONT_PAGE, *DOCUMENTS):
        if spec.docname not in app.env.found_docs:
            continue
        state = states[spec.id]
        assert state.digest is not None, "document_states takes every digest unless told not to"
        revision = f"revision {state.revision}" if state.revision else "no approved revision"
        status = "changed since approval" if state.status == "changed" else state.status
        documents.append(
            Document(
                spec.docname,
                document_id(spec, prefix),
                spec.title,
                revision,
                status,
                state.approvals,
                state.digest,
            )
        )
    return documents


def cover(root: Path) -> Cover:
    """The technical file's cover: the device as ``qms.yaml`` names it, dated by the commit built."""
    from qms.gitinfo import document_control
    from qms.pdf import Cover

    config, _ = load_config(root)
    control = document_control(root)
    device = config.device if config else None
    return Cover(
        device=device.name if device else root.name,
        version=device.version if device else "",
        safety_class=device.software_safety_class if device else "",
        manufacturer=device.manufacturer if device else "",
        date=control.date,
        source=control.summary,
    )


def _site(
    root: Path,
    staging: Path,
    doctrees: Path,
    target: Path,
    warnings: Tee,
    *,
    kept: str,
    strict: bool,
    clean: bool,
    verbose: bool,
    whole: bool = False,
    rendered: set[str] | None = None,
) -> Sphinx:
    """The HTML site built into ``staging``; a failed build is reported (``kept`` says what stays as it was);
    ``whole``: every document on one page, ``rendered``: see :func:`sphinx_build`."""
    try:
        app = sphinx_build(
            root,
            staging,
            doctrees,
            target,
            strict=strict,
            clean=clean or strict,
            status=sys.stdout if verbose else None,
            warning=warnings,  # type: ignore[arg-type]  # a text stream that counts what passes
            whole_documents=whole,
            rendered=rendered,
        )
    except ExtensionMissing as error:
        fail(f"{error}; {kept}", code=EXIT_FINDINGS)
        raise AssertionError from error  # unreachable: fail() exits
    except Exception as error:  # Sphinx reports bad input (templates, configuration) as exceptions
        forget_environment(doctrees)
        fail(
            f"the build failed: {describe(error)}; {kept}",
            code=EXIT_FINDINGS,
        )
        raise AssertionError from error  # unreachable: fail() exits
    if app.statuscode != 0:
        forget_environment(doctrees)
        reason = f"{warnings.count} warning(s) with --strict" if strict else f"Sphinx exited with {app.statuscode}"
        fail(f"the build failed: {reason}; {kept}", code=EXIT_FINDINGS)
    return app


def unsafe_output(root: Path, target: Path) -> str | None:
    """Why the folder ``target`` cannot hold the site of the project at ``root``; None if it can.

    A build replaces its output folder whole, so the folder must hold nothing of the project
    and lie inside nothing the project reads; and it must be new, empty, or a site qms wrote.
    """
    fix = "choose a folder outside the project's sources, such as _build/html (the default)"
    if target == root:
        return f"it is the project folder; {fix}"
    if root.is_relative_to(target):
        return f"it holds the project folder {root}; {fix}"
    for what, path in _read_by_the_project(root):
        if path == root:
            continue
        if target.is_relative_to(path):
            return f"it is {'' if target == path else 'inside '}the project's {what} {_shown(path)}; {fix}"
        if path.is_relative_to(target):
            return f"it holds the project's {what} {_shown(path)}; {fix}"
    if not replaceable(target):
        return _FOREIGN
    return None


def _read_by_the_project(root: Path) -> Iterator[tuple[str, Path]]:
    """What qms, Sphinx and git read in the project: files, and the fixed part of each glob of
    ``sources``, ``evidence`` and ``records`` (a site in a folder of records would be read back: the
    copies of the records it publishes counted again, and kept after the records themselves go)."""
    from qms.outputs import PROJECT_FILES

    config, _ = load_config(root)
    for what, name in (
        *((what, name) for name, what in PROJECT_FILES.items()),
        ("git folder", ".git"),
        ("build cache", "_build/doctrees"),
        ("templates folder", config.templates if config else "_templates"),
    ):
        yield what, (root / name).resolve()
    for what, patterns in (
        ("sources", config.sources if config else ()),
        ("evidence", config.evidence if config else ()),
        ("records", config.records if config else ()),
    ):
        for pattern in patterns:
            fixed = itertools.takewhile(lambda part: not glob.has_magic(part), Path(pattern).parts)
            yield (
                f"{what} folder" if not glob.has_magic(pattern) else f"{what} ({pattern})",
                root.joinpath(*fixed).resolve(),
            )


#: The note a build leaves in the build folder until its site is in place.
UNFINISHED = "qms-unfinished-build"


def start_building(doctrees: Path) -> Path:
    """Note that a build runs (the note is removed once its site is in place); after one that never
    put its site in place (killed, out of disk space), start afresh: Sphinx saved its environment
    once the pages were read, so it would count as written pages the site never received."""
    note = doctrees / UNFINISHED
    if note.exists():
        forget_environment(doctrees)
    doctrees.mkdir(parents=True, exist_ok=True)
    note.touch()
    return note


def forget_environment(doctrees: Path) -> None:
    """After a failed build, start the next one afresh: the saved environment may list pages that were never written."""
    (doctrees / ENVIRONMENT).unlink(missing_ok=True)


def describe(error: Exception) -> str:
    """A failed build's error in one line: an error of the project's ``conf.py`` at its file and line
    (Sphinx's own message holds the whole traceback), any other as its message."""
    in_configuration = _configuration_error(error)
    if in_configuration is not None:
        return in_configuration
    message = str(error).strip() or type(error).__name__
    return message.replace("\n", " ")


def _configuration_error(error: BaseException) -> str | None:
    """``conf.py:9: RuntimeError: boom`` for an exception raised while Sphinx ran a ``conf.py``."""
    cause = error.__cause__
    if cause is None:
        return None
    if isinstance(cause, SyntaxError) and cause.filename and Path(cause.filename).name == "conf.py":
        where = f"{_shown(Path(cause.filename))}:{cause.lineno or 0}" + (f":{cause.offset}" if cause.offset else "")
        return f"{where}: SyntaxError: {cause.msg}"
    frames = [frame for frame in traceback.extract_tb(cause.__traceback__) if Path(frame.filename).name == "conf.py"]
    if not frames:
        return None
    message = " ".join(str(cause).split()) or "(no message)"
    return f"{_shown(Path(frames[-1].filename))}:{frames[-1].lineno}: {type(cause).__name__}: {message}"


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


commands = (build,)
