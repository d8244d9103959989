"""``qms show ID``: one item, its fields, and its trace up and down."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import click

from qms.checking import project_statuses
from qms.cli.common import fail, load, project_option, say
from qms.cli.status import status_lines
from qms.impact import Impact, impact
from qms.model import Item, Project
from qms.schema import KIND_ORDER, KINDS, FieldType
from qms.status import ItemStatus
from qms.terminal import json_text, plural
from qms.trace import TraceNode, relations, trace


def display_value(project: Project, item: Item, name: str, value: Any) -> str:
    """A field's value as a person reads it (levels by name, links comma-separated)."""
    spec = KINDS[item.kind].field(name) if item.kind in KINDS else None
    policy = project.config.risk_policy
    if spec is not None and spec.type is FieldType.SEVERITY and isinstance(value, int):
        return f"{policy.severity_name(value)} ({value})"
    if spec is not None and spec.type is FieldType.PROBABILITY and isinstance(value, int):
        return f"{policy.probability_name(value)} ({value})"
    if spec is not None and spec.type is FieldType.RESIDUAL and isinstance(value, Mapping):
        severity, probability = value.get("severity"), value.get("probability")
        parts = []
        if isinstance(severity, int):
            parts.append(f"severity {policy.severity_name(severity)}")
        if isinstance(probability, int):
            parts.append(f"probability {policy.probability_name(probability)}")
        return ", ".join(parts)
    if isinstance(value, tuple) and value and isinstance(value[0], Mapping):
        return "\n".join(": ".join(str(v) for v in entry.values()) for entry in value)
    if isinstance(value, (tuple, list)):
        return ", ".join(str(entry) for entry in value)
    return str(value).rstrip()


def _tree_lines(nodes: tuple[TraceNode, ...], depth: int = 1) -> list[str]:
    lines = []
    for node in nodes:
        relation = node.relation
        suffix = " (see above)" if node.repeated else ""
        indent = "  " * depth
        lines.append(f"{indent}{relation.label:<20} {relation.item.id:<12} {relation.item.title}{suffix}")
        lines.extend(_tree_lines(node.children, depth + 1))
    return lines


#: where field values start in ``qms show``: after the longest usual label and at least one space
_VALUE_COLUMN = 18


def render_item(project: Project, item: Item, status: ItemStatus | None = None) -> str:
    kind = item.kind.replace("_", " ")
    lines = [f"{item.id}  ({kind}, {item.location()})", item.title, ""]
    spec = KINDS.get(item.kind)
    names = [name for name in (spec.field_names if spec else ()) if name in item.fields and name != "title"]
    names += [name for name in item.fields if name not in names and name != "title"]
    for name in names:
        if spec and spec.field(name) and spec.field(name).is_link:  # type: ignore[union-attr]
            continue
        value = item.fields[name]
        if isinstance(value, tuple) and value and all(isinstance(entry, str) for entry in value):
            text = "\n".join(f"- {entry}" for entry in value)  # a list reads as a list, one entry a line
        else:
            text = display_value(project, item, name, value)
        body = text.replace("\n", "\n" + " " * _VALUE_COLUMN)
        label = f"{name}:"
        lines.append(f"  {label:<{_VALUE_COLUMN - 3}} {body}")
    if status is not None:
        lines += ["", "Verification (as `qms status` decides it)", *(f"  {line}" for line in status_lines(status))]
    up, down = trace(project, item.id, upward=True), trace(project, item.id, upward=False)
    lines += ["", "Trace up"] + (_tree_lines(up) or ["  (nothing: this is a design input)"])
    lines += ["", "Trace down"] + (_tree_lines(down) or ["  (nothing)"])
    return "\n".join(lines) + "\n"


def item_json(project: Project, item: Item, status: ItemStatus | None = None) -> dict[str, Any]:
    return {
        **({"status": status.to_json()["status"], "results": status.to_json()["results"]} if status else {}),
        "id": item.id,
        "kind": item.kind,
        "file": item.file,
        "line": item.location().line,
        "fields": _thaw(dict(item.fields)),
        "relations": [
            {
                "relation": relation.label,
                "id": relation.item.id,
                "kind": relation.item.kind,
                "direction": "up" if relation.upward else "down",
            }
            for relation in relations(project, item.id)
        ],
    }


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _thaw(entry) for key, entry in value.items()}
    if isinstance(value, (tuple, list)):
        return [_thaw(entry) for entry in value]
    return value


_IMPACT_HEADINGS = {"test": "Tests to re-run", "hazard": "Hazards to re-evaluate"}


def render_impact(result: Impact) -> str:
    """The items a change puts in question, by kind, each with the link that reaches it."""
    item = result.item
    if not result.entries:
        return f"Nothing links to {item.id}: a change to it puts no other item in question.\n"
    lines = [f"Impact of a change to {item.id} ({item.title}): {plural(len(result.entries), 'item')} in question"]
    kinds = [kind for kind in KIND_ORDER if result.of_kind(kind)]
    kinds += sorted({entry.item.kind for entry in result.entries} - set(kinds))
    for kind in kinds:
        entries = result.of_kind(kind)
        heading = _IMPACT_HEADINGS.get(kind, KINDS[kind].title if kind in KINDS else kind)
        lines += ["", f"{heading} ({len(entries)})"]
        for entry in entries:
            reason = f"{entry.label} {entry.link.target}"
            lines.append(f"  {entry.item.id:<12} {reason:<32} {entry.item.title}")
    return "\n".join(lines) + "\n"


def impact_json(result: Impact) -> dict[str, Any]:
    return {
        "id": result.item.id,
        "impact": [
            {
                "id": entry.item.id,
                "kind": entry.item.kind,
                "title": entry.item.title,
                "relation": entry.label,
                "field": entry.link.field,
                "target": entry.link.target,
                "depth": entry.depth,
            }
            for entry in result.entries
        ],
    }


@click.command()
@click.argument("item_id")
@project_option
@click.option("--format", "output_format", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option(
    "--impact",
    "show_impact",
    is_flag=True,
    help="List what a change to the item puts in question: derived items, implementing items, tests, hazards.",
)
def show(item_id: str, project_dir: Path | None, output_format: str, show_impact: bool) -> None:
    """Show one item with its trace up (what it derives from) and down (what implements and verifies it)."""
    project = load(project_dir)
    item = project.items.get(item_id)
    if item is None:
        matches = sorted(candidate for candidate in project.items if candidate.casefold() == item_id.casefold())
        hint = f" (did you mean {matches[0]}?)" if matches else ""
        fail(f"no item with id {item_id}{hint}", code=1)
        return
    if show_impact:
        result = impact(project, item.id)
        if output_format == "json":
            say(json_text(impact_json(result)))
        else:
            say(render_impact(result), nl=False)
    elif output_format == "json":
        status = project_statuses(project).of(item.id)
        say(json_text(item_json(project, item, status)))
    else:
        say(render_item(project, item, project_statuses(project).of(item.id)), nl=False)


commands = (show,)
