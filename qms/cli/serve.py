"""``qms serve``: a live preview of the site, rebuilt and reloaded as the project's files change."""

from __future__ import annotations

import errno
import logging
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from qms.cli.build import project_root
from qms.cli.common import fail, project_option, say

if TYPE_CHECKING:
    from qms.serve import BuildState, Preview


@click.command()
@project_option
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port to serve on (0: any free one)."
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to serve on. The default is this machine only; 0.0.0.0 lets anyone on the network read the site.",
)
@click.option("-v", "--verbose", is_flag=True, help="Show Sphinx's progress.")
def serve(project_dir: Path | None, port: int, host: str, verbose: bool) -> None:
    """Build the site, serve it, and rebuild it whenever a file of the project changes.

    Watches the item files, templates, qms.yaml, conf.py, evidence and records. Open pages reload
    at the item they showed and list the findings of `qms check`; while a file cannot be read
    (a YAML syntax error) every page shows the error, with its file and line, until it is fixed.
    Ctrl-C stops. Exit status: 0 stopped, 2 no project or the address cannot be used.
    """
    from qms.serve import Preview, http_server, serving, watching

    preview = Preview(project_root(project_dir), verbose=verbose)
    preview.start_builder()  # before any thread starts (each build is forked from it), and any socket opens
    try:
        server = http_server(preview, host, port)
    except OSError as error:
        preview.stop_builder()
        reason = "it is in use; pass another --port" if error.errno == errno.EADDRINUSE else error.strerror or error
        fail(f"cannot serve on {host}:{port}: {reason}")
        return
    stopping = _stop_on_signals()
    logging.getLogger("watchfiles").setLevel(logging.WARNING)  # it logs every batch of changes
    bound_host, bound_port = str(server.server_address[0]), server.server_address[1]
    url = f"http://{f'[{bound_host}]' if ':' in bound_host else bound_host}:{bound_port}/"
    try:
        with serving(server), watching(preview) as next_changes:
            _report(preview.rebuild(), "built")
            click.echo(f"qms: serving {url} (Ctrl-C stops)")
            rebuild_on_changes(preview, next_changes, stopping)
    except KeyboardInterrupt:
        pass
    finally:
        preview.stop_builder()
    click.echo("qms: stopped")


#: how often the preview looks whether it was told to stop while it waits for changes (seconds)
STOP_POLL = 0.25
#: how long the preview waits after a build before it frees what the builds before left (seconds):
#: two of the page's looks for a new build (``serve.js`` looks every 0.5 s), so the page is shown first
TIDY_AFTER = 1.0


def rebuild_on_changes(preview: Preview, next_changes: Callable[[float], set[str]], stopping: threading.Event) -> None:
    """Rebuild after every batch of changes until ``stopping`` is set.

    The signal handler raises KeyboardInterrupt as well, but where it runs inside a finalizer (the
    collector frees a build's objects, some with ``__del__``) Python prints and drops it: the event
    is what ends the preview then.
    """
    built = time.monotonic()
    while not stopping.is_set():
        paths = next_changes(STOP_POLL)
        if not paths:
            if time.monotonic() - built >= TIDY_AFTER:
                preview.tidy()  # the new build's page was shown: what the build before left is freed now
            continue
        names = sorted({Path(path).name for path in paths})
        click.echo(f"qms: changed {', '.join(names[:5])}{' ...' if len(names) > 5 else ''}; rebuilding")
        _report(preview.rebuild(), "rebuilt")
        built = time.monotonic()


def _stop_on_signals() -> threading.Event:
    """Ctrl-C and a termination request both stop the preview cleanly (also when started in the
    background); the event they set tells it so where the KeyboardInterrupt they raise is lost."""
    stopping = threading.Event()

    def interrupt(number: int, frame: object) -> None:
        stopping.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)
    return stopping


def _report(state: BuildState, verb: str) -> None:
    if problems := state.blocking():
        say("qms: the site cannot be shown:\n  " + "\n  ".join(problems), err=True)
        return
    errors = state.errors()
    if state.unchanged:
        verb = "up to date: nothing the site shows changed since it was built"
    click.echo(f"qms: {verb}; qms check: {errors} error(s), {len(state.findings) - errors} warning(s)")


commands = (serve,)
