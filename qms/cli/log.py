"""``qms log ID``: the audit trail of one item from git history (who changed what, when and why)."""

from __future__ import annotations

import difflib
from pathlib import Path

import click

from qms import atomic
from qms.cli.common import EXIT_FINDINGS, fail, load, output_file, project_option, say, writing
from qms.history import (
    AuditTrail,
    FieldDifference,
    HistoryError,
    ItemChange,
    item_history,
    ordered,
    shown,
    trail_json,
    whereabouts,
)
from qms.schema import ID_PATTERN
from qms.terminal import json_text, plural

_SIGNS = {"added": "+", "removed": "-", "changed": "~"}


@click.command("log", short_help="An item's audit trail: every committed change, field by field.")
@click.argument("item_id", metavar="ID")
@click.option("--format", "output_format", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--newest-first", is_flag=True, help="List the newest change first (default: oldest first).")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE instead of standard output."
)
@project_option
def log(item_id: str, output_format: str, newest_first: bool, output: Path | None, project_dir: Path | None) -> None:
    """Every committed change of item ID: who (author and email), when (author date; commit date
    where it differs), the commit and its message, and the fields added, removed and changed.

    The item is followed by its id through list files, from one file to another and across
    renamed files; a deleted item's trail is shown too. Only the item files under `sources`
    of qms.yaml are read, and only the commits that touched a file that ever held ID.
    """
    if not ID_PATTERN.fullmatch(item_id):
        fail(f"'{item_id}' is not an item id: ids start with a letter, then letters, digits, '_', '.' or '-'")
    project = load(project_dir)
    output_file(output, project)
    try:
        trail = item_history(project, item_id)
    except HistoryError as error:
        fail(str(error), code=EXIT_FINDINGS)
        return
    if not trail.changes and item_id not in project.items and not trail.notes:
        folded = {candidate.casefold(): candidate for candidate in project.items}
        hint = f" (did you mean {folded[item_id.casefold()]}?)" if item_id.casefold() in folded else ""
        fail(f"no item with id {item_id}{hint} in the project or in its git history")
    if output_format == "json":
        report = json_text(trail_json(trail, newest_first)) + "\n"
    else:
        report = format_trail(trail, newest_first, committed=item_id in project.items)
    if output is not None:
        with writing(output):
            atomic.write_text(output, report)
    else:
        say(report, nl=False)


def format_trail(trail: AuditTrail, newest_first: bool, *, committed: bool = True) -> str:
    """The trail for people: a heading, then one paragraph per change."""
    count = len(trail.changes)
    order = "newest first" if newest_first else "oldest first"
    lines = [f"Audit trail of {trail.item}: {plural(count, 'change')}, {order}"]
    lines += [f"note: {note}" for note in trail.notes]
    if not trail.changes:
        lines.append("no committed change yet" if committed else "no commit holds this item")
    for change in ordered(trail, newest_first):
        lines += ["", *_change_lines(change)]
    return "\n".join(lines) + "\n"


def _change_lines(change: ItemChange) -> list[str]:
    commit = change.commit
    when = commit.date + (f" (committed {commit.committed})" if commit.committed else "")
    lines = [f"commit {commit.hash}", f"Author: {commit.author} <{commit.email}>", f"Date:   {when}", ""]
    lines += [f"    {line}".rstrip() for line in commit.message.split("\n")]
    lines += ["", f"  {whereabouts(change)}"]
    if change.note:
        lines.append(f"    {change.note}")
    for field in change.fields:
        lines += _field_lines(field)
    return lines


def _field_lines(field: FieldDifference) -> list[str]:
    """One difference: ``+ name: value``, ``- name: value``, ``~ name: old -> new`` or a line diff."""
    sign = _SIGNS[field.change]
    if field.change != "changed":
        value = shown(field.new if field.change == "added" else field.old).split("\n")
        return [f"    {sign} {field.field}: {value[0]}", *(f"        {line}" for line in value[1:])]
    old, new = shown(field.old), shown(field.new)
    if "\n" not in old + new and len(old) + len(new) < 80:
        return [f"    {sign} {field.field}: {old} -> {new}"]
    compared = difflib.ndiff(old.split("\n"), new.split("\n"))
    return [f"    {sign} {field.field}:"] + [f"        {line}" for line in compared if not line.startswith("?")]


commands = (log,)
