"""``qms matrix``: the traceability matrix as Markdown, CSV, JSON or a workbook."""

from __future__ import annotations

from pathlib import Path

import click

from qms import atomic
from qms.cli.common import fail, load, project_option
from qms.matrix import COMBINED_ORDER, Matrix, default_matrices, merge_matrices, parse_chain, trace_matrix, verified
from qms.matrix_formats import matrix_csv, matrix_json, matrix_markdown
from qms.model import Project

FORMATS = ("md", "csv", "json", "xlsx")


def _matrices(project: Project, chain: str | None) -> tuple[Matrix, ...]:
    if chain is None:
        return default_matrices(project)
    try:
        columns = parse_chain(chain)
    except ValueError as error:
        fail(f"--chain: {error}")
        raise  # unreachable: fail() exits
    return (trace_matrix(project, columns),)


def render(matrices: tuple[Matrix, ...], output_format: str) -> str:
    """The matrices as text; CSV holds one table, so several matrices share a column per kind."""
    if output_format == "md":
        return matrix_markdown(matrices)
    if output_format == "json":
        return matrix_json(matrices)
    if len(matrices) == 1:
        return matrix_csv(matrices[0])
    return matrix_csv(merge_matrices(matrices, COMBINED_ORDER, "Traceability"))


@click.command()
@project_option
@click.option(
    "--format", "output_format", type=click.Choice(FORMATS), default="md", show_default=True, help="Output format."
)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE instead of standard output."
)
@click.option(
    "--chain",
    metavar="KINDS",
    help="Kinds along the matrix, comma-separated, e.g. need,system_requirement,test; a|b makes one column of two "
    "kinds. Default: need -> system -> software requirement -> software item -> test, and hazard -> control -> test.",
)
def matrix(project_dir: Path | None, output_format: str, output: Path | None, chain: str | None) -> None:
    """The traceability matrix as Markdown, CSV, JSON or a workbook.

    One row per path along the chain of kinds; a gap is an empty cell; a Verification column
    shows each row's test status (the one `qms status` prints).
    """
    project = load(project_dir)
    matrices = verified(project, _matrices(project, chain))
    if output_format == "xlsx":
        if output is None:
            fail("--format xlsx writes a workbook: give the file with -o FILE")
            return
        from qms.excel.export import matrix_workbook_bytes  # openpyxl only for a workbook

        atomic.write_bytes(output, matrix_workbook_bytes(project, matrices))
        click.echo(f"wrote {output}: {sum(len(m.rows) for m in matrices)} rows")
        return
    text = render(matrices, output_format)
    if output is None:
        click.echo(text, nl=False)
        return
    atomic.write_bytes(output, text.encode("utf-8"))
    click.echo(f"wrote {output}: {sum(len(m.rows) for m in matrices)} rows")


commands = (matrix,)
