"""The ``qms`` command line: a thin adapter over the core (load, check, render, export)."""

from __future__ import annotations

import click

from qms import __version__
from qms.cli import check, excel, init, matrix, review, schema, show


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="qms")
def main() -> None:
    """Docs-as-code for medical device software: trace, check and render the technical file."""


for command in (
    *check.commands,
    *init.commands,
    *show.commands,
    *review.commands,
    *matrix.commands,
    *excel.commands,
    *schema.commands,
):
    main.add_command(command)
