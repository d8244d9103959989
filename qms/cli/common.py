"""Pieces shared by the commands: the --project option, loading, and errors for people."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import click

from qms.excel.journal import interrupted
from qms.model import Project
from qms.project import ProjectNotFound, open_project
from qms.terminal import printable

F = TypeVar("F", bound=Callable[..., Any])

#: exit codes of DESIGN.md
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def project_option(function: F) -> F:
    return click.option(
        "--project",
        "project_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Project root (the folder holding qms.yaml). Default: nearest one upward from here.",
    )(function)


def say(text: str, *, err: bool = False, nl: bool = True) -> None:
    """Print text that holds user data (ids, titles, file names), control characters escaped."""
    click.echo(printable(text, lines=True), err=err, nl=nl)


def fail(message: str, code: int = EXIT_USAGE) -> None:
    """Print a one-line error for a person and exit."""
    say(f"qms: error: {message}", err=True)
    raise SystemExit(code)


def output_file(target: Path | None, project: Project | None = None) -> None:
    """Refuse, before any work, to write a command's output over a file of the project or over
    something that is not a plain file (:func:`qms.outputs.output_refusal`)."""
    from qms.outputs import output_refusal

    refusal = output_refusal(target, project) if target is not None else None
    if refusal is not None:
        fail(f"will not write {target}: {refusal}")


@contextmanager
def writing(target: Path, what: str = "") -> Iterator[None]:
    """Turn a failure to write ``target`` (a file or folder named on the command line) into a usage error."""
    try:
        yield
    except OSError as error:
        fail(f"cannot write {what or target}: {error.strerror or error}")


def load(project_dir: Path | None, *, cache: bool = False) -> Project:
    try:
        project = open_project(Path.cwd(), project_dir, cache=cache)
    except ProjectNotFound as error:
        fail(str(error))
        raise  # unreachable: fail() exits
    if warning := interrupted(project.root):
        click.echo(f"qms: warning: {warning}", err=True)
    return project
