"""The live preview behind ``qms serve``: build the site, serve it, rebuild on change, tell open pages.

The site is built by the same Sphinx incremental build as ``qms build`` (into ``_build/serve``, so
a running preview and ``qms build`` never share a cache). Pages are served with a small script
added on the way out, never written into the site: it polls :data:`STATE_PATH`, reloads the page
at the item it showed when a build finished, and lists the ``qms check`` findings of that build.
While a file cannot be read (Q001, a YAML syntax error as it is typed) or the build fails, every
page is an error page naming the file and line, until the next build succeeds.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import logging
import marshal
import os
import queue
import shutil
import signal
import socket
import struct
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from html import escape
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qms.atomic import mark_output
from qms.checking import check_context, discard_beside, from_plain, plain_findings
from qms.model import Finding, Severity
from qms.parsecache import beside, forkable
from qms.project import load_project
from qms.rules import run_rules

if TYPE_CHECKING:
    from qms.cli.build import Start

#: Where the open pages read the number of the latest build, its failure and its findings.
STATE_PATH = "/__qms__/state"
SCRIPT_PATH = "/__qms__/live.js"
#: Findings sent to the pages at most (the counts are always complete).
SHOWN_FINDINGS = 200
#: How long a request waits for a running build before the page it asked for is served anyway.
BUILD_WAIT = 600.0
#: The rule whose findings mean a file was not read at all: its items are missing from the site.
UNREADABLE = "Q001"
_TAG = f'<script src="{SCRIPT_PATH}" defer></script>'.encode()


@dataclass
class BuildState:
    """The outcome of the latest build, as the open pages see it."""

    build: int = 0
    building: bool = False
    failure: str | None = None
    findings: tuple[Finding, ...] = ()
    #: The latest build found nothing the site shows changed since the one before, and did not run Sphinx.
    unchanged: bool = False

    def blocking(self) -> list[str]:
        """Why the site cannot be shown: the build's failure, or each file that could not be read."""
        problems = [self.failure] if self.failure else []
        problems += [
            f"{finding.location}: {finding.message}" for finding in self.findings if finding.rule == UNREADABLE
        ]
        return problems

    def errors(self) -> int:
        return sum(1 for finding in self.findings if finding.severity is Severity.ERROR)

    def to_json(self) -> dict[str, Any]:
        errors = self.errors()
        return {
            "build": self.build,
            "building": self.building,
            "blocking": self.blocking(),
            "errors": errors,
            "warnings": len(self.findings) - errors,
            "findings": [
                {
                    "where": str(finding.location),
                    "severity": finding.severity.value,
                    "rule": finding.rule,
                    "item": finding.item,
                    "message": finding.message,
                }
                for finding in self.findings[:SHOWN_FINDINGS]
            ],
        }


@dataclass
class Preview:
    """One project's site, rebuilt in place; requests for its files wait while a build runs."""

    root: Path
    verbose: bool = False
    state: BuildState = field(default_factory=BuildState)
    changed: threading.Condition = field(default_factory=threading.Condition)
    #: whether the builds before left garbage the collector has not freed yet (:meth:`tidy`)
    untidy: bool = False
    #: the process each build is forked from, where one was started (:meth:`start_builder`)
    builder: Builder | None = None

    @property
    def folder(self) -> Path:
        return self.root / "_build" / "serve"

    @property
    def site(self) -> Path:
        return self.folder / "html"

    def rebuild(self) -> BuildState:
        """Build the site incrementally (not at all when nothing it shows changed since the last
        build); a failure is kept in the state, never raised."""
        from qms.cli.build import starting, up_to_date

        self.tidy()
        with self.changed:
            self.state = replace(self.state, building=True)
        doctrees = self.folder / "doctrees"
        start = starting(self.root, self.site, doctrees)
        unchanged = up_to_date(self.site, doctrees, start) is not None
        forked = None
        if unchanged:
            failure, findings = None, self.state.findings if self.state.build else _findings(self.root)
        else:
            forked = self.builder.build() if self.builder is not None else None
            if forked is None:
                self.builder = None  # none, or gone: the builds are made here from now on
            failure, findings = forked if forked is not None else self._build(doctrees, start)
        with self.changed:
            self.state = BuildState(self.state.build + 1, False, failure, findings, unchanged)
            self.changed.notify_all()
        self.untidy = not unchanged and forked is None
        return self.state

    def start_builder(self) -> None:
        """Make each build from now on in a process of its own, forked from one started now with
        Sphinx and qms imported (:class:`Builder`): a build then skips the imports (some 0.4 s), runs
        its check, workbook and pages beside it on the other cores as `qms build` does (this process
        serves pages and watches files from threads, and a process with threads is never forked), and
        leaves nothing for this one to free. Call it before any thread starts; where no process can
        be forked (or threads run already) the builds stay in this process."""
        if self.builder is None:
            self.builder = Builder.start(self)

    def stop_builder(self) -> None:
        """Stop the process the builds are forked from, and a build running in it."""
        if self.builder is not None:
            self.builder.stop()
            self.builder = None

    def tidy(self) -> None:
        """Free what the builds before left. Their Sphinx applications, environments and pages are
        cyclic garbage, and a build freezes what it finds at its start: left to the collector, each
        rebuild kept some 80 MB more at 10,000 items (a preview left open grew without end). A full
        collection holds the interpreter, some 0.5 s at 10,000 items with no page served meanwhile,
        so the preview makes it once it is idle, after the new build's page was shown
        (:func:`qms.cli.serve.rebuild_on_changes`), and in any case before the next build starts."""
        if self.untidy:
            gc.collect()
            self.untidy = False

    def _build(self, doctrees: Path, start: Start) -> tuple[str | None, tuple[Finding, ...]]:
        """Run Sphinx; record what it read when it succeeded (see :mod:`qms.cli.build_inputs`)."""
        from qms.cli.build import (
            STATIC_FOLDER,
            Built,
            Tee,
            check_beside_build,
            describe,
            error_summary,
            forget_environment,
            inputs_before,
            record_build,
            remove_dropped_pages,
            site_pages,
            sphinx_build,
            start_building,
        )
        from qms.sphinx.state import build_data

        warnings = Tee(io.StringIO())
        failure: str | None = None
        findings: tuple[Finding, ...] = ()
        started = start.at
        before = inputs_before(start, doctrees)
        check_beside_build(self.root, self.site, doctrees, start)  # where this process may fork (a build's own)
        unfinished = start_building(doctrees)  # a preview killed half-way is built afresh when it starts again
        seeded, rendered = site_pages(self.site), set[str]()
        # Sphinx copies the static files afresh every build and never removes one: a file taken out
        # of html_static_path would stay in the preview (requests wait while the build runs)
        shutil.rmtree(self.site / STATIC_FOLDER, ignore_errors=True)
        try:
            app = sphinx_build(
                self.root,
                self.site,
                doctrees,
                self.site,
                strict=False,
                clean=False,
                status=sys.stdout if self.verbose else None,
                warning=warnings,  # type: ignore[arg-type]  # a text stream that counts what passes
                rendered=rendered,
            )
            data = build_data(app.env)
            findings = data.findings
            if app.statuscode != 0:
                failure = f"Sphinx exited with {app.statuscode}: {warnings.text().strip()}"
            else:
                remove_dropped_pages(app, self.site, seeded, rendered)
                mark_output(self.site)
                pages = sum(1 for _ in self.site.glob("*.html"))
                errors = error_summary(self.root, data.project, data.findings)
                built = Built(pages, warnings.text(), warnings.count, errors)
                record_build(app, self.root, self.site, doctrees, before, started, built)
                unfinished.unlink(missing_ok=True)
        except Exception as error:  # Sphinx reports bad input (templates, configuration) as exceptions
            failure = f"the build failed: {describe(error)}"
        except BaseException:
            forget_environment(doctrees)  # interrupted half-way: the saved environment may not match the pages
            raise
        finally:
            discard_beside(self.root)  # where the build ended before it took the check's findings
            _release_sphinx_logging()
        if failure is not None:
            forget_environment(doctrees)
        return failure, findings

    def settled(self) -> BuildState:
        """The state once no build is running (or after :data:`BUILD_WAIT` seconds)."""
        with self.changed:
            self.changed.wait_for(lambda: not self.state.building, timeout=BUILD_WAIT)
            return self.state


class Builder:
    """The process a preview's builds are forked from (:meth:`Preview.start_builder`).

    It is forked from the preview before the preview starts its threads, imports what a build
    imports, and waits. For each build the preview asks for, it forks a process that builds the site
    as :meth:`Preview._build` does (single-threaded, that process forks the check, the workbook and
    a second process for pages, as `qms build` does) and sends back the failure and the findings;
    the build's process then ends, with everything it held. The builder and its builds are a process
    group of their own: Ctrl-C reaches the preview alone, which stops them (:meth:`stop`); a build
    stopped half-way is built afresh by the next (:data:`qms.cli.build.UNFINISHED`)."""

    def __init__(self, pid: int, requests: int, answers: int) -> None:
        self.pid, self._requests, self._answers = pid, requests, answers

    @classmethod
    def start(cls, preview: Preview) -> Builder | None:
        """The builder of ``preview``'s builds; None where no process can be forked (no ``fork``,
        or threads run: a forked copy of a process with threads may hold a lock none releases)."""
        if not forkable():
            return None
        try:
            requests_read, requests = os.pipe()
            answers, answers_write = os.pipe()
            pid = os.fork()
        except OSError:
            return None
        if pid == 0:  # the builder: serve builds until the preview closes its end
            status = 1
            try:
                os.close(requests)
                os.close(answers)
                _serve_builds(preview, requests_read, answers_write)
                status = 0
            finally:
                os._exit(status)
        with contextlib.suppress(OSError):  # as the builder does: whichever comes first
            os.setpgid(pid, pid)
        os.close(requests_read)
        os.close(answers_write)
        return cls(pid, requests, answers)

    def build(self) -> tuple[str | None, tuple[Finding, ...]] | None:
        """Build the site in a process forked from the builder: the build's failure (None: built) and
        findings; None where the builder is gone (the preview then builds in its own process)."""
        try:
            os.write(self._requests, b"b")
            answer = _receive(self._answers)
        except OSError:
            answer = None
        if answer is None:
            self.stop()
            return None
        failure, plain = marshal.loads(answer)
        return failure, tuple(from_plain(plain))

    def stop(self) -> None:
        """End the builder and the build it runs (their process group), and wait for the builder."""
        for descriptor in (self._requests, self._answers):
            with contextlib.suppress(OSError):
                os.close(descriptor)
        with contextlib.suppress(OSError):
            os.killpg(self.pid, signal.SIGTERM)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


#: the modules a build imports that the builder imports once for all builds (the others, such as a
#: project's own extensions, each build imports as it reads conf.py)
_BUILD_MODULES = ("qms.cli.build", "qms.checking", "sphinx.application", "qms.sphinx", "qms.excel.export")


def _serve_builds(preview: Preview, requests: int, answers: int) -> None:
    """The builder's loop (:class:`Builder`): a build for each request, until the preview closes."""
    import importlib

    os.setpgid(0, 0)  # a group of its own: the terminal's Ctrl-C goes to the preview, which stops it
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for name in _BUILD_MODULES:
        importlib.import_module(name)
    while os.read(requests, 1):
        collect = beside(lambda: _built_here(preview))  # the build's own process, which ends with it
        built = collect() if collect is not None else None
        _send(answers, marshal.dumps(built) if built is not None else b"")


def _built_here(preview: Preview) -> tuple[str | None, list[tuple[Any, ...]]]:
    """A build of ``preview``'s site in this process: its failure and findings, as plain data."""
    from qms.cli.build import starting

    doctrees = preview.folder / "doctrees"
    failure, findings = preview._build(doctrees, starting(preview.root, preview.site, doctrees))
    return failure, plain_findings(findings)


def _send(descriptor: int, payload: bytes) -> None:
    """Write ``payload`` whole, after its length (an empty one: no answer)."""
    with contextlib.suppress(OSError):
        view = memoryview(struct.pack("<I", len(payload)) + payload)
        while view:
            view = view[os.write(descriptor, view) :]


def _receive(descriptor: int) -> bytes | None:
    """What :func:`_send` wrote; None where the writer is gone or sent no answer."""
    header = _read_exactly(descriptor, 4)
    if header is None:
        return None
    (length,) = struct.unpack("<I", header)
    return _read_exactly(descriptor, length) if length else None


def _read_exactly(descriptor: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(descriptor, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _release_sphinx_logging() -> None:
    """Take from Sphinx's logger the handlers the build's application gave it. They hold the
    application (its environment, pages and build data: some 300 MB after a clean build of 10,000
    items), and Sphinx removes them only when the next application starts: the previous build would
    stay alive until then, and be carried, frozen, through the next build. Without them the build
    is garbage as soon as it ends, for :meth:`Preview.tidy` to free; nothing logs through Sphinx
    between builds (Sphinx's next application gives the logger its own handlers)."""
    from sphinx.util.logging import NAMESPACE

    logger = logging.getLogger(NAMESPACE)
    for handler in logger.handlers[:]:
        logger.removeHandler(handler)


def _findings(root: Path) -> tuple[Finding, ...]:
    """The findings a build of the site at ``root`` shows (those of `qms check`, without the release check)."""
    return tuple(run_rules(check_context(load_project(root))))


def live_script() -> bytes:
    return resources.files("qms").joinpath("data", "serve.js").read_bytes()


def error_page(problems: list[str]) -> bytes:
    """The page shown instead of the site while it cannot be built, each problem with its file and line."""
    listed = "".join(f"<li><code>{escape(problem)}</code></li>" for problem in problems)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>qms serve: cannot show the site</title>'
        "<style>body{font-family:sans-serif;margin:2rem;max-width:60rem}code{white-space:pre-wrap}"
        "li{margin:.5rem 0;color:#a40000}</style></head><body><h1>The site cannot be shown</h1>"
        f"<p>Fix these and save; the page reloads when the site builds again.</p><ul>{listed}</ul>"
        "</body></html>\n"
    ).encode()


def with_script(page: bytes) -> bytes:
    """The page with the live script before its last ``</body>`` (at its end if it has none)."""
    at = page.rfind(b"</body>")
    return page + _TAG if at < 0 else page[:at] + _TAG + page[at:]


class _Handler(SimpleHTTPRequestHandler):
    """Serves the built site, the state and the script; pages get the script, or the error page."""

    preview: Preview

    def __init__(self, *arguments: Any, preview: Preview, **keywords: Any) -> None:
        self.preview = preview
        super().__init__(*arguments, directory=str(preview.site), **keywords)

    def log_message(self, format: str, *args: Any) -> None:  # the parameter name of the base class
        """Quiet: the terminal shows builds, not requests."""

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if path == STATE_PATH:
            with self.preview.changed:
                body = json.dumps(self.preview.state.to_json()).encode()
            self._send(body, "application/json")
            return
        if path == SCRIPT_PATH:
            self._send(live_script(), "text/javascript")
            return
        state = self.preview.settled()
        file = Path(self.translate_path(self.path))
        if file.is_dir():
            file = file / "index.html"
        if file.suffix != ".html" or not file.is_file():
            super().do_GET()
            return
        problems = state.blocking()
        page = error_page(problems) if problems else file.read_bytes()
        self._send(with_script(page), "text/html; charset=utf-8")

    def _send(self, body: bytes, content_type: str) -> None:
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


def http_server(preview: Preview, host: str, port: int) -> ThreadingHTTPServer:
    """The server of ``preview`` bound to ``host``:``port`` (0: a free port), not yet serving."""
    server_class = _Server6 if ":" in host else _Server
    return server_class((host, port), partial(_Handler, preview=preview))


@contextlib.contextmanager
def watching(preview: Preview) -> Iterator[Callable[[float], set[str]]]:
    """Watch what the site is built from (everything in the project but build outputs) from now on.

    Yields a function that waits for the next changes (at most ``timeout`` seconds: then none) and
    returns the changed paths, with every change that came in meanwhile (during a build, say):
    nothing typed is missed between builds.
    """
    from watchfiles import DefaultFilter, watch

    batches: queue.Queue[set[str]] = queue.Queue()
    stop = threading.Event()
    ignored = DefaultFilter(ignore_paths=[str(preview.root / "_build")])

    def collect() -> None:
        for batch in watch(preview.root, watch_filter=ignored, stop_event=stop, debounce=400, raise_interrupt=False):
            batches.put({path for _, path in batch})

    def next_changes(timeout: float) -> set[str]:
        try:
            paths = batches.get(timeout=timeout)
        except queue.Empty:
            return set()
        while not batches.empty():
            paths |= batches.get_nowait()
        return paths

    thread = threading.Thread(target=collect, name="qms-watch", daemon=True)
    thread.start()
    try:
        yield next_changes
    finally:
        stop.set()
        thread.join()


@contextlib.contextmanager
def serving(server: ThreadingHTTPServer) -> Iterator[None]:
    """Serve in a background thread until the block ends."""
    thread = threading.Thread(target=server.serve_forever, name="qms-serve", daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
