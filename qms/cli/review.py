"""``qms review``: stamp trace links as reviewed (clears C501); ``qms diff``: what changed between
two git revisions (release baselines)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from qms import atomic
from qms.cli.common import EXIT_FINDINGS, fail, load, output_file, project_option, say, writing
from qms.cli.show import display_value
from qms.diff import DiffError, FieldChange, ItemChange, ProjectDiff, RiskChange, diff_json, release_diff
from qms.model import Item, Project
from qms.review import LOCK_FILE, ReviewState, ReviewUpdate, link_key, read_lock, review_links, write_lock
from qms.risk import RiskClass
from qms.terminal import json_text, plural


def _check_ids(project: Project, item_ids: Sequence[str]) -> None:
    unknown = [item_id for item_id in item_ids if item_id not in project.items]
    if not unknown:
        return
    folded = {candidate.casefold(): candidate for candidate in project.items}
    hints = [
        f"{item_id} (did you mean {folded[item_id.casefold()]}?)" if item_id.casefold() in folded else item_id
        for item_id in unknown
    ]
    fail(f"no item with id {', '.join(hints)}")


def _refuse_unreadable(project: Project) -> None:
    """Stamping while files are unreadable would drop the stamps of their links."""
    unreadable = [finding for finding in project.load_findings if finding.rule == "Q001"]
    if unreadable:
        first = unreadable[0]
        fail(
            f"{first.location}: {first.message}\n"
            f"fix the unreadable {'files' if len(unreadable) > 1 else 'file'} first: "
            "the links in them would lose their review stamps"
        )


@click.command(short_help="Stamp links as reviewed after a change (clears C501 suspect links).")
@click.argument("item_ids", nargs=-1, metavar="[ID]...")
@click.option(
    "--all", "review_all", is_flag=True, help="Stamp every link (after reviewing them all; starts change control)."
)
@click.option("--dry-run", is_flag=True, help="Show what would be stamped without writing qms.lock.")
@project_option
def review(item_ids: tuple[str, ...], review_all: bool, dry_run: bool, project_dir: Path | None) -> None:
    """Record that the links to and from each ID were reviewed against their targets (clears C501).

    After an item changes, check that each item linking to it still holds, then stamp the review:
    `qms review SWR-003` stamps the links from and to SWR-003; `qms review SYS-001` every link to
    the changed SYS-001. The stamps go to qms.lock (commit it with the change).
    """
    if not item_ids and not review_all:
        fail(
            "name the item whose links you reviewed, e.g. `qms review SWR-003` (each C501 finding of "
            "`qms check` names its command), or stamp every link with `qms review --all`"
        )
    if item_ids and review_all:
        fail("name the items you reviewed or pass --all, not both")
    project = load(project_dir)
    _check_ids(project, item_ids)
    _refuse_unreadable(project)
    state = read_lock(project.root)
    if state.unreadable:  # writing would replace a file that holds stamps, or fail on a folder
        fail(state.problems[0].message, code=EXIT_FINDINGS)
    kept = [problem for problem in state.problems if not problem.droppable]
    if kept:  # writing the lock again would drop what a person wrote on that line
        first = kept[0]
        fail(f"{first.location()}: {first.message} (this review would drop the line)", code=EXIT_FINDINGS)
    if not state.exists and not review_all:
        fail(f"no {LOCK_FILE} yet: run `qms review --all` to stamp every link and start change control")
    update = review_links(project, state, None if review_all else set(item_ids))
    verb = "would stamp" if dry_run else "stamped"
    if state.exists:
        for link in sorted(update.stamped, key=link_key):
            say(f"{verb} {link.source} {link.field} {link.target}")
        for source, field_name, target in update.removed:
            dropped = "would drop" if dry_run else "dropped"
            say(f"{dropped} the stamp of the removed link {source} {field_name} {target}")
    _report_problems(state)
    scope = "every link" if review_all else f"every link to or from {', '.join(item_ids)}"
    say(_summary(state, update, scope, dry_run))
    if (update.changed or not state.exists or state.problems) and not dry_run:
        with writing(project.root / LOCK_FILE):
            write_lock(project.root, update.stamps, state.comments)


def _report_problems(state: ReviewState) -> None:
    if state.problems:
        lines = ", ".join(str(problem.line) for problem in state.problems)
        say(
            f"note: lines {lines} of {LOCK_FILE} (merge conflict markers, a link's second stamp) are left out; "
            "of a link stamped twice the first stamp is kept unless this review stamps it anew",
            err=True,
        )


def _summary(state: ReviewState, update: ReviewUpdate, scope: str, dry_run: bool) -> str:
    stamped, removed = update.stamped, update.removed
    if not state.exists:
        prefix = f"{LOCK_FILE} would be written" if dry_run else f"{LOCK_FILE} written"
        return f"{prefix}: {plural(len(stamped), 'link')} stamped; change control started"
    if not update.changed:
        return f"{LOCK_FILE} is up to date: {scope} was already stamped with its target's current content"
    parts = [f"{plural(len(stamped), 'link')} stamped"]
    if removed:
        parts.append(f"{plural(len(removed), 'stale stamp')} dropped")
    return f"{LOCK_FILE}{' (dry run, not written)' if dry_run else ''}: {', '.join(parts)}"


# --------------------------------------------------------------------------- qms diff


@click.command("diff", short_help="What changed in the design records between two git revisions.")
@click.argument("base", required=False)
@click.argument("head", required=False)
@project_option
@click.option("--format", "output_format", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE instead of standard output."
)
def diff(base: str | None, head: str | None, project_dir: Path | None, output_format: str, output: Path | None) -> None:
    """List items added, removed and changed (field by field), links added and removed, and hazards
    whose risk class changed, from git revision BASE to HEAD (default: the working tree).

    BASE defaults to `release: previous:` of qms.yaml, e.g. the previous release tag.
    """
    project = load(project_dir)
    output_file(output, project)
    base = base or project.config.previous_release
    if base is None:
        fail("name the revision to compare with (qms diff v2.0.0), or set `release: {previous: TAG}` in qms.yaml")
        return
    try:
        changes = release_diff(project.root, base, head)
    except DiffError as error:
        fail(str(error))
        return
    report = json_text(diff_json(changes)) + "\n" if output_format == "json" else format_diff(changes)
    if output is not None:
        with writing(output):
            atomic.write_text(output, report)
    else:
        say(report, nl=False)


def format_diff(diff: ProjectDiff) -> str:
    """The diff for people: a summary, then each section."""
    base, head = diff.base, diff.head
    lines = [f"Changes from {base.label} to {head.label}"]
    old_version, new_version = base.project.config.device.version, head.project.config.device.version
    if old_version != new_version:
        lines.append(f"device version {old_version or '(none)'} -> {new_version or '(none)'}")
    for side, finding in diff.unreadable:
        label = base.label if side == "base" else head.label
        lines.append(f"could not be read at {label}: {finding.location}: {finding.message}; its items are not compared")
    if diff.empty:
        return "\n".join([*lines, "no design record changed"]) + "\n"
    lines.append(
        f"items: {len(diff.added)} added, {len(diff.removed)} removed, {len(diff.changed)} changed; "
        f"links: {len(diff.links_added)} added, {len(diff.links_removed)} removed; "
        f"hazards with a new risk class: {len(diff.risk_changes)}"
    )
    if diff.without_request:
        lines.append(f"changed with no change request: {', '.join(diff.without_request)}")
    lines += _item_section("Added", diff.added, diff)
    lines += _item_section("Removed", diff.removed, diff)
    if diff.changed:
        lines += ["", "Changed"]
        for change in diff.changed:
            lines.append(_item_line(change.new, diff))
            for field in change.fields:
                lines += _field_lines(diff, change, field)
    for title, links in (("Links added", diff.links_added), ("Links removed", diff.links_removed)):
        if links:
            lines += ["", title] + [f"  {link.source} {link.field} {link.target}" for link in links]
    if diff.risk_changes:
        lines += ["", "Risk class changes"] + [line for change in diff.risk_changes for line in _risk_lines(change)]
    return "\n".join(lines) + "\n"


def _item_line(item: Item, diff: ProjectDiff) -> str:
    line = f"  {item.id:<12} {item.kind.replace('_', ' '):<22} {item.title}"
    requests = diff.requests.get(item.id)
    if requests is None:
        return line
    return f"{line}  [{', '.join(requests) if requests else 'no change request'}]"


def _item_section(title: str, items: Sequence[Item], diff: ProjectDiff) -> list[str]:
    return ["", title, *(_item_line(item, diff) for item in items)] if items else []


def _shown(project: Project, item: Item, name: str, value: Any) -> str:
    if value is None:
        return "(none)"
    if name == "kind":
        return str(value)
    return display_value(project, item, name, value)


def _field_lines(diff: ProjectDiff, change: ItemChange, field: FieldChange) -> list[str]:
    old = _shown(diff.base.project, change.old, field.field, field.old)
    new = _shown(diff.head.project, change.new, field.field, field.new)
    if "\n" not in old + new and len(old) + len(new) < 80:
        return [f"    {field.field}: {old} -> {new}"]
    old_lines = [] if field.old is None else old.splitlines()
    new_lines = [] if field.new is None else new.splitlines()
    compared = difflib.ndiff(old_lines, new_lines)
    return [f"    {field.field}:"] + [f"      {line}" for line in compared if not line.startswith("?")]


_RISK_NAMES = {"A": "acceptable", "R": "reduce as far as possible", "U": "unacceptable"}


def _risk_name(risk_class: RiskClass | None) -> str:
    return f"{risk_class.value} ({_RISK_NAMES[risk_class.value]})" if risk_class else "not evaluable"


def _risk_text(pair: tuple[RiskClass | None, RiskClass | None]) -> str:
    return f"{_risk_name(pair[0])} -> {_risk_name(pair[1])}"


def _risk_lines(change: RiskChange) -> list[str]:
    lines = [f"  {change.hazard.id:<12} {change.hazard.title}"]
    if change.initial_changed:
        lines.append(f"    initial risk: {_risk_text(change.initial)}")
    if change.residual_changed:
        lines.append(f"    residual risk: {_risk_text(change.residual)}")
    return lines


commands = (review, diff)
