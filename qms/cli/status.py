"""``qms status``: each item's verification status and the results and records behind it."""

from __future__ import annotations

import json
from pathlib import Path

import click

from qms.checking import project_statuses
from qms.cli.common import fail, load, project_option
from qms.status import ItemStatus, ResultRef, StatusIndex, said_beside


def result_line(result: ResultRef) -> str:
    """One result as a line: what ran, its outcome, when, by whom, on which version and commit."""
    what = f"record {result.case}" if result.record else result.case
    where = f"{result.source}:{result.line}" if result.line else result.source
    facts = [fact for fact in (result.at, f"by {result.by}" if result.by else None) if fact]
    commit = result.commit or ""
    dirty = " with uncommitted changes" if commit.endswith("+dirty") else ""
    revision = " ".join(part for part in (result.version, f"commit {commit[:10]}{dirty}" if commit else None) if part)
    if revision:
        facts.append(revision)
    line = f"{result.outcome.value:<8} {what} ({where})" + (f" {', '.join(facts)}" if facts else "")
    if result.stale is not None:
        line += f"; stale: ran before {result.stale.summary}"
    if result.note:
        line += f"; {result.note}"
    return line + said_beside(result.deviations, result.anomalies)


def status_lines(entry: ItemStatus) -> list[str]:
    """An item's status, then its tests (for a requirement) or results (for a test), indented."""
    lines = [f"{entry.id}  {entry.kind.replace('_', ' ')}  {entry.status.value}"]
    lines += [f"    {reason}" for reason in entry.reasons]
    for result in entry.results:
        through = f"{result.test}: " if result.test != entry.id else ""
        lines.append(f"    {through}{result_line(result)}")
    return lines


def render_text(statuses: StatusIndex, entries: list[ItemStatus]) -> str:
    lines: list[str] = []
    for entry in entries:
        lines += status_lines(entry)
    lines.append("")
    for kind, counts in statuses.summary().items():
        total = sum(counts.values())
        parts = ", ".join(f"{count} {status}" for status, count in counts.items() if count)
        lines.append(f"{kind.replace('_', ' ')}: {total} ({parts})")
    lines += [f"note: {note}" for note in statuses.notes]
    return "\n".join(lines) + "\n"


@click.command()
@project_option
@click.argument("item_ids", nargs=-1, metavar="[ID]...")
@click.option("--format", "output_format", type=click.Choice(("text", "json")), default="text", show_default=True)
def status(project_dir: Path | None, item_ids: tuple[str, ...], output_format: str) -> None:
    """Each item's verification status (passed, failed, error, stale, not-run, skipped) and the
    results and execution records behind it: the one status every page and export shows.

    A test's status comes from its results; a requirement's is the worst of its tests'. Give
    ids to see only those items.
    """
    project = load(project_dir)
    statuses = project_statuses(project)
    entries = list(statuses.items())
    if item_ids:
        unknown = [item_id for item_id in item_ids if item_id not in project.items]
        if unknown:
            fail(f"no item with id {', '.join(unknown)}", code=1)
        entries = [entry for entry in entries if entry.id in item_ids]
    if output_format == "json":
        document = statuses.to_json()
        if item_ids:
            document["items"] = [entry.to_json() for entry in entries]
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    click.echo(render_text(statuses, entries), nl=False)


commands = (status,)
