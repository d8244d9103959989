"""``qms build``: render the technical file as an HTML site, through Sphinx and the qms extension.

The same site as ``sphinx-build -b html . _build/html`` in the project root, written
atomically: Sphinx writes into a temporary folder beside the output (seeded with the previous
site, so only pages whose content changed are written again), and the finished site replaces
the old one in one step. A failed build leaves the previous site as it was.
"""

from __future__ import annotations

import io
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TextIO

import click

from qms.atomic import replace_tree
from qms.cli.common import EXIT_FINDINGS, fail, project_option
from qms.config import PROJECT_FILE, find_root

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


def _seed(previous: Path, staging: Path) -> None:
    """Start from a copy of the previous site (times kept), so unchanged pages are not written again."""
    if previous.is_dir():
        shutil.copytree(previous, staging, symlinks=True, copy_function=shutil.copy2)
    else:
        staging.mkdir(parents=True)


def run_sphinx(
    root: Path, outdir: Path, doctrees: Path, *, strict: bool, clean: bool, status: TextIO | None, warning: TextIO
) -> int:
    """Build the html site of the project at ``root`` into ``outdir``; Sphinx's status code."""
    from sphinx.application import Sphinx
    from sphinx.util.console import nocolor
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    if not getattr(warning, "isatty", lambda: False)():
        nocolor()

    has_conf = (root / "conf.py").is_file()
    overrides = {} if has_conf else {"extensions": ["qms.sphinx"]}
    with patch_docutils(root if has_conf else None), docutils_namespace():
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
        app.build()
        return app.statuscode


class _Tee(io.TextIOBase):
    """Passes warnings through to the terminal and counts them."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.count = 0

    def isatty(self) -> bool:
        return self.stream.isatty()

    def write(self, text: str) -> int:
        self.count += text.count("WARNING:") + text.count("ERROR:")
        return self.stream.write(text)

    def flush(self) -> None:
        self.stream.flush()


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of the HTML site. Default: _build/html in the project root.",
)
@project_option
@click.option(
    "-W",
    "--strict",
    is_flag=True,
    help="Fail on any warning (unknown item ids, unsafe markup in item text...). "
    "Reads every page again, so every warning is reported.",
)
@click.option("--clean", is_flag=True, help="Read every page again instead of only those whose data changed.")
@click.option("-v", "--verbose", is_flag=True, help="Show Sphinx's progress.")
def build(output: Path | None, project_dir: Path | None, strict: bool, clean: bool, verbose: bool) -> None:
    """Render the technical file as an HTML site (IEC 62304, ISO 14971, ISO 13485 documents).

    Works offline: open the site's index.html from disk. A failed build leaves the previous
    site in place. Exit status: 0 built, 1 the build failed (or, with --strict, warned),
    2 no project found.
    """
    root = project_root(project_dir)
    target = (output if output is not None else root / "_build" / "html").resolve()
    doctrees = root / "_build" / "doctrees"
    target.parent.mkdir(parents=True, exist_ok=True)
    workspace = Path(tempfile.mkdtemp(prefix=f".{target.name}.building-", dir=target.parent))
    staging = workspace / "site"
    warnings = _Tee(sys.stderr)
    try:
        _seed(target, staging)
        status = run_sphinx(
            root,
            staging,
            doctrees,
            strict=strict,
            clean=clean or strict,
            status=sys.stdout if verbose else None,
            warning=warnings,  # type: ignore[arg-type]  # a text stream that counts what passes
        )
    except Exception as error:  # Sphinx reports bad input (templates, configuration) as exceptions
        _forget_environment(doctrees)
        shutil.rmtree(workspace, ignore_errors=True)
        fail(
            f"the build failed: {_describe(error)}; the previous site in {_shown(target)} is unchanged",
            code=EXIT_FINDINGS,
        )
        return
    if status != 0:
        _forget_environment(doctrees)
        shutil.rmtree(workspace, ignore_errors=True)
        reason = f"{warnings.count} warning(s) with --strict" if strict else f"Sphinx exited with status {status}"
        fail(f"the build failed: {reason}; the previous site in {_shown(target)} is unchanged", code=EXIT_FINDINGS)
        return
    try:
        replace_tree(staging, target)
    finally:
        shutil.rmtree(workspace, ignore_errors=True)
    pages = sum(1 for _ in target.glob("*.html"))
    summary = f", {warnings.count} warning(s)" if warnings.count else ""
    click.echo(f"qms: built {pages} pages into {_shown(target)}{summary}; open {_shown(target / 'index.html')}")


def _forget_environment(doctrees: Path) -> None:
    """After a failed build, start the next one afresh: the saved environment may list pages that were never written."""
    (doctrees / ENVIRONMENT).unlink(missing_ok=True)


def _describe(error: Exception) -> str:
    message = str(error).strip() or type(error).__name__
    return message.replace("\n", " ")


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


commands = (build,)
