"""``qms matrix``: the traceability matrix as Markdown, CSV, JSON or a workbook."""

from __future__ import annotations

from pathlib import Path

import click

from qms import atomic
from qms.cli.common import fail, load, output_file, project_option, say, writing
from qms.matrix import (
    COMBINED_ORDER,
    MAX_ROWS,
    Chain,
    Matrix,
    default_matrices,
    merge_matrices,
    parse_chain,
    trace_matrix,
    verified,
)
from qms.matrix_formats import matrix_csv, matrix_json, matrix_markdown
from qms.model import Project
from qms.terminal import escape_json

FORMATS = ("md", "csv", "json", "xlsx")


def _matrices(project: Project, chain: str | None, max_rows: int) -> tuple[Matrix, ...]:
    if chain is None:
        return default_matrices(project, max_rows)
    try:
        columns = parse_chain(chain)
    except ValueError as error:
        fail(f"--chain: {error}")
        raise  # unreachable: fail() exits
    return (trace_matrix(project, Chain("Traceability matrix", columns), max_rows),)


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
@click.option(
    "--max-rows",
    type=click.IntRange(min=1),
    default=MAX_ROWS,
    show_default=True,
    help="Rows per matrix at most; the output says how many more there are and where they start.",
)
def matrix(project_dir: Path | None, output_format: str, output: Path | None, chain: str | None, max_rows: int) -> None:
    """The traceability matrix as Markdown, CSV, JSON or a workbook.

    One row per path along the chain of kinds: each item links to the nearest item to its left
    on its row, and an empty cell is a column the path passes by. A Verification column shows
    each row's test status (the one `qms status` prints); a Findings column, the links
    a row shows that break a kind rule (Q006).
    """
    project = load(project_dir)
    output_file(output, project)
    matrices = verified(project, _matrices(project, chain, max_rows))
    for cut in (cut for matrix in matrices for cut in matrix.cuts):
        say(f"qms: note: {cut}", err=True)
    if output_format == "xlsx":
        if output is None:
            fail("--format xlsx writes a workbook: give the file with -o FILE")
            return
        from qms.excel.export import matrix_workbook_bytes  # openpyxl only for a workbook

        with writing(output):
            atomic.write_bytes(output, matrix_workbook_bytes(project, matrices))
        say(f"wrote {output}: {sum(len(m.rows) for m in matrices)} rows")
        return
    text = render(matrices, output_format)
    if output is None:
        say(escape_json(text) if output_format == "json" else text, nl=False)
        return
    with writing(output):
        atomic.write_bytes(output, text.encode("utf-8"))
    say(f"wrote {output}: {sum(len(m.rows) for m in matrices)} rows")


commands = (matrix,)
