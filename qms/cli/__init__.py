"""The ``qms`` command line: a thin adapter over the core (load, check, render, export).

Each command lives in a module of this package that exports ``commands``. A module is imported
only when one of its commands runs (or for ``--help``), so that ``qms check`` in CI does not pay
for openpyxl, Sphinx or git: register a new command in :data:`COMMANDS`.
"""

from __future__ import annotations

import atexit
import gc
import importlib
import os
import sys
import threading
from collections.abc import Sequence
from typing import Any, NoReturn

import click

from qms import __version__
from qms.allocator import keep_freed_memory

#: the exit status Python itself gives when the standard streams cannot be flushed at exit
UNFLUSHED = 120

#: allocations between the cyclic collector's young collections. Python's 700 suits programs that
#: keep few objects; a command of qms makes millions (a project, its findings, a build's pages) and
#: nearly all live to the end, so most young collections found nothing to free: at 10,000 items
#: a one-edit build took 0.1 s less and a clean one 0.7 s less with 20,000, for some 10 MB more
#: at the peak of the clean build (the older generations keep Python's ratios)
YOUNG_COLLECTION = 20_000

#: command name -> the module of ``qms.cli`` that defines it
COMMANDS: dict[str, str] = {
    "check": "check",
    "rule": "check",
    "init": "init",
    "show": "show",
    "review": "review",
    "diff": "review",
    "matrix": "matrix",
    "export": "excel",
    "import": "excel",
    "schema": "schema",
    "build": "build",
    "status": "status",
    "record": "record",
    "log": "log",
    "approve": "approve",
    "clauses": "clauses",
    "serve": "serve",
}


class LazyGroup(click.Group):
    """A group that imports a command's module when the command is asked for, and reports usage
    errors in the one style of every qms error: ``qms: error: ...`` on one line, exit 2."""

    def main(self, args: Sequence[str] | None = None, *rest: Any, **options: Any) -> NoReturn:
        options["standalone_mode"] = False
        options["prog_name"] = "qms"
        try:
            code = super().main(args, *rest, **options)
        except click.UsageError as error:
            where = f"; see `{error.ctx.command_path} --help`" if error.ctx is not None else ""
            click.echo(f"qms: error: {error.format_message().rstrip('.')}{where}", err=True)
            sys.exit(error.exit_code)
        except click.ClickException as error:
            click.echo(f"qms: error: {error.format_message()}", err=True)
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("qms: error: aborted", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = COMMANDS.get(cmd_name)
        if module_name is None:
            return self.commands.get(cmd_name)
        module = importlib.import_module(f"qms.cli.{module_name}")
        commands: tuple[click.Command, ...] = module.commands
        return next(command for command in commands if command.name == cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="qms")
def main() -> None:
    """Docs-as-code for medical device software: trace, check and render the technical file."""


#: the exception that ended the command: its traceback holds the command's frames and, with them, the
#: project; letting it go would free all of that before leaving (0.02 s of a check at 10,000 items),
#: the very work :func:`run` skips
_KEPT: list[BaseException] = []


def run() -> NoReturn:
    """The ``qms`` command and ``python -m qms``: :func:`main`, then leave without freeing memory.

    A build of 10,000 items holds hundreds of megabytes of objects, and Python's shutdown frees
    them one by one (two seconds and more) although the process is ending and nothing is left to
    write. Here the exit handlers run and the standard streams are flushed as in an ordinary
    shutdown, then the process ends with the same status, skipping only the freeing. With another
    thread still running, the ordinary shutdown (which waits for it) is kept. The cyclic collector
    looks at young objects less often than Python's default (:data:`YOUNG_COLLECTION`), and the C
    library's allocator keeps the memory freed for what comes next (:mod:`qms.allocator`).
    """
    gc.set_threshold(YOUNG_COLLECTION, *gc.get_threshold()[1:])
    keep_freed_memory()
    try:
        main()
    except SystemExit as leaving:
        code = leaving.code
        _KEPT.append(leaving)
    if threading.active_count() > 1:
        sys.exit(code)
    if not isinstance(code, int):
        if code is not None and sys.stderr is not None:
            print(code, file=sys.stderr)
        code = 0 if code is None else 1
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # a closed pipe (`qms check | head -1`), or a closed stream
            code = UNFLUSHED
    os._exit(code)
