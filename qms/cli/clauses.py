"""``qms clauses``: each record-requiring clause of IEC 62304, ISO 14971 and ISO 13485 with its
status computed from the records, and where the technical file holds it."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import click

from qms.checking import check_context, context_findings
from qms.clauses import DEFAULT_EDITION, IEC62304_EDITIONS, ClauseTableError, load_clause_table
from qms.cli.common import EXIT_FINDINGS, fail, load, project_option
from qms.compliance import ClauseResult, clause_results, clauses_json, section_titles


def render_text(results: list[ClauseResult], titles: dict[str, dict[str, str]], heading: str) -> str:
    lines: list[str] = [heading]
    standard = ""
    for result in results:
        if result.standard != standard:
            standard = result.standard
            lines += ["", standard]
        lines.append(f"  {result.clause.clause:<8} {result.status.value:<13} {result.clause.topic}")
        where = [
            f"{doc_id} {titles.get(docname, {}).get(label, label)}".strip() for doc_id, docname, label in result.where
        ]
        if where and result.status.value != "not required":
            lines.append(f"  {'':<8} {'':<13} where: {'; '.join(where)}")
        lines.append(f"  {'':<8} {'':<13} why: {result.why}")
    lines.append("")
    for name in dict.fromkeys(result.standard for result in results):
        counts = Counter(result.status.value for result in results if result.standard == name)
        lines.append(f"{name}: " + ", ".join(f"{count} {status}" for status, count in sorted(counts.items())))
    return "\n".join(lines) + "\n"


@click.command()
@project_option
@click.option("--format", "output_format", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option(
    "--edition",
    type=click.Choice(IEC62304_EDITIONS),
    default=DEFAULT_EDITION,
    show_default=True,
    help="IEC 62304 edition whose clauses and class assignments apply.",
)
@click.option(
    "--table",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A clause table of your own (as qms_clause_table in conf.py); default: the one shipped with qms.",
)
def clauses(project_dir: Path | None, output_format: str, edition: str, table: Path | None) -> None:
    """Each clause that asks for a record, its status from the records, and where it is.

    Status: present (every record the clause names is there), partial (some), missing (none),
    or not required for the device's software safety class. The records each clause needs are
    data in the clause table (qms/data/clauses.yaml).
    """
    project = load(project_dir)
    try:
        clause_table = load_clause_table(table)
    except (OSError, ClauseTableError) as error:
        fail(f"clause table: {error}", EXIT_FINDINGS)
        return
    context = check_context(project)
    findings = context_findings(context)
    results = clause_results(project, clause_table, findings, lambda: context.documents, edition)
    titles = section_titles(project, results)
    if output_format == "json":
        click.echo(json.dumps(clauses_json(results, titles), indent=2, ensure_ascii=False))
        return
    heading = f"{project.config.device.name}: software safety class {project.config.safety_class}, IEC 62304:{edition}"
    click.echo(render_text(results, titles, heading), nl=False)


commands = [clauses]
