"""``qms export xlsx`` and ``qms import xlsx``: the Excel round trip."""

from __future__ import annotations

from pathlib import Path

import click

from qms.cli.common import EXIT_FINDINGS, EXIT_USAGE, fail, load, output_file, project_option, writing
from qms.config import find_root
from qms.excel.export import export_workbook
from qms.excel.import_ import import_workbook
from qms.excel.journal import JournalError, interrupted, roll_back
from qms.excel.reading import WorkbookError, WorkbookTooLarge
from qms.terminal import plural


class FormatGroup(click.Group):
    """``qms export`` and ``qms import``: a format word, then the file. A file named first is told so."""

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name and not name.startswith("-") and name not in self.commands:
            formats = ", ".join(sorted(self.commands))
            suffix = Path(name).suffix.lstrip(".").lower()
            if suffix in self.commands:
                rest = " ".join(args)
                raise click.UsageError(f"name the format before the file: `qms {self.name} {suffix} {rest}`", ctx)
            raise click.UsageError(f"unknown format '{name}': `qms {self.name} FORMAT FILE` takes {formats}", ctx)
        return super().resolve_command(ctx, args)


@click.group("export", cls=FormatGroup)
def export() -> None:
    """Export the project to other formats."""


@export.command("xlsx")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@project_option
def export_xlsx(file: Path, project_dir: Path | None) -> None:
    """Write the project as an Excel workbook.

    A sheet per kind, the risk register, the traceability matrices and a summary. Edit it and
    take the edits back with `qms import xlsx FILE`. The same commit gives the same bytes.
    """
    project = load(project_dir, cache=True)  # its cache folder keeps the sheets for the next export
    output_file(file, project)
    with writing(file):
        export_workbook(project, file)
    click.echo(f"wrote {file}: {plural(len(project), 'item')}")


@click.group("import", cls=FormatGroup)
def import_() -> None:
    """Take edits back from other formats into the YAML files."""


@import_.command("xlsx")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@project_option
@click.option("--dry-run", is_flag=True, help="Print the changes as a diff and write nothing.")
@click.option(
    "--delete-missing",
    is_flag=True,
    help="Delete the items whose rows were removed from their sheet (default: report them and keep them).",
)
def import_xlsx(file: Path, project_dir: Path | None, dry_run: bool, delete_missing: bool) -> None:
    """Take a workbook's edits back into the YAML files.

    Changed cells and new rows are written into the files the items came from, keeping their
    comments and layout; rows deleted from a sheet are reported. All or nothing: if any cell
    is refused, each is reported with its sheet, row and column, and no file is written (exit 1);
    an import interrupted while writing is rolled back by the next one.
    """
    if not file.is_file():
        fail(f"{file} does not exist")
    _roll_back_interrupted(project_dir, dry_run)
    project = load(project_dir)
    try:
        result = import_workbook(project, file, dry_run=dry_run, delete=delete_missing)
    except WorkbookError as error:
        fail(str(error), EXIT_FINDINGS if isinstance(error, WorkbookTooLarge) else EXIT_USAGE)
        return
    except JournalError as error:
        fail(str(error), EXIT_FINDINGS)
        return
    if not result.ok:
        for refusal in result.refusals:
            click.echo(f"{file}: {refusal}", err=True)
        for note in result.notes:
            click.echo(f"{file}: note: {note}", err=True)
        count = len(result.refusals)
        click.echo(f"qms: nothing was written: {plural(count, 'cell')} refused", err=True)
        raise SystemExit(EXIT_FINDINGS)
    if dry_run:
        click.echo(result.diff(), nl=False)
    for line in result.summary():
        click.echo(line)
    changed = len(result.files)
    if not changed:
        click.echo("no changes: the YAML files already say what the workbook says")
    elif dry_run:
        click.echo(f"dry run: {plural(changed, 'file')} would change; nothing was written")
    else:
        click.echo(f"wrote {plural(changed, 'file')}")


def _roll_back_interrupted(project_dir: Path | None, dry_run: bool) -> None:
    """Put back what an interrupted import wrote, before this one plans anything."""
    root = project_dir.resolve() if project_dir else find_root(Path.cwd())
    if root is None:
        return  # load() says there is no project
    warning = interrupted(root)
    if dry_run:
        if warning is not None:
            fail(f"{warning}; a dry run writes nothing: import without --dry-run", EXIT_FINDINGS)
        return
    try:
        restored = roll_back(root)
    except JournalError as error:
        fail(str(error), EXIT_FINDINGS)
        return
    if restored is not None:
        names = ", ".join(restored) or "no file had been written yet"
        click.echo(f"qms: an interrupted import was rolled back ({names})", err=True)


commands = (export, import_)
