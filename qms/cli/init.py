"""``qms init DIR``: start a new device project."""

from __future__ import annotations

from pathlib import Path

import click

from qms.cli.common import fail, say, writing
from qms.init import InvalidName, ProjectExists, create_project


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), required=False)
@click.option(
    "--project",
    "project_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="The folder of the new project (the same as DIRECTORY).",
)
@click.option("--name", default=None, help="Device name (default: the folder's name).")
@click.option(
    "--class",
    "safety_class",
    type=click.Choice(("A", "B", "C"), case_sensitive=False),
    default="C",
    show_default=True,
    help="IEC 62304 software safety class (a, b or c also do).",
)
def init(directory: Path | None, project_dir: Path | None, name: str | None, safety_class: str) -> None:
    """Create a new device project in DIRECTORY (or --project DIR) that names its placeholders.

    The project checks clean but for Q008 findings on the placeholders to replace (the
    manufacturer, the intended use) and the tests not run yet, and it builds.
    """
    if directory is not None and project_dir is not None and directory != project_dir:
        fail(f"name the folder once: DIRECTORY ({directory}) or --project ({project_dir}), not both")
    directory = directory or project_dir
    if directory is None:
        fail("name the folder of the new project: `qms init DIR`")
        return
    device_name = name or directory.resolve().name.replace("-", " ").replace("_", " ").title()
    try:
        with writing(directory):
            written = create_project(directory, device_name, safety_class)
    except (ProjectExists, InvalidName) as error:
        fail(str(error))
        return
    for path in written:
        say(f"created {path}")
    say(
        f"\nNext: write the manufacturer and the intended use in {directory / 'qms.yaml'} "
        f"(qms check reports them as Q008 until then), then: cd {directory} && qms check && qms build"
    )


commands = (init,)
