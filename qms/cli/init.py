"""``qms init DIR``: start a new device project."""

from __future__ import annotations

from pathlib import Path

import click

from qms.cli.common import fail, say, writing
from qms.init import InvalidName, ProjectExists, create_project


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option("--name", default=None, help="Device name (default: the folder's name).")
@click.option(
    "--class",
    "safety_class",
    type=click.Choice(("A", "B", "C")),
    default="C",
    show_default=True,
    help="IEC 62304 software safety class.",
)
def init(directory: Path, name: str | None, safety_class: str) -> None:
    """Create a new device project in DIRECTORY that checks clean and builds."""
    device_name = name or directory.resolve().name.replace("-", " ").replace("_", " ").title()
    try:
        with writing(directory):
            written = create_project(directory, device_name, safety_class)
    except (ProjectExists, InvalidName) as error:
        fail(str(error))
        return
    for path in written:
        say(f"created {path}")
    say(f"\nNext: cd {directory} && qms check && qms build")


commands = (init,)
