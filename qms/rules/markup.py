"""Q rules on item text: what it asks of the site's renderer (links written in maths, sizes in directive options)."""

from __future__ import annotations

from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

from qms.markup import directive_options, option_refusal, unsafe_math_links
from qms.model import FieldPath, Item, Location
from qms.rules import CheckContext, Hit, rule


@rule("Q010")
def unsafe_math_link(context: CheckContext) -> Iterator[Hit]:
    for item in context.project.items.values():
        for path, text in _marked(item, "\\"):
            for link in unsafe_math_links(text):
                yield Hit(
                    f"\\{link.command} to '{link.target}' in {path[0]}: maths may link only to http or https "
                    "addresses; write the link in the text instead",
                    _located(item, path, text, link.offset),
                    item.id,
                )


def _texts(value: Any, path: FieldPath) -> Iterator[tuple[FieldPath, str]]:
    """Every string in a field value, with its path (texts, steps, anomaly evaluations, ``x-`` fields...)."""
    if isinstance(value, str):
        if path:
            yield path, value
    elif isinstance(value, dict | MappingProxyType):
        for key, entry in value.items():
            yield from _texts(entry, (*path, str(key)))
    elif isinstance(value, list | tuple):
        for index, entry in enumerate(value):
            yield from _texts(entry, (*path, index))


def _marked(item: Item, mark: str, also: str = "") -> Iterator[tuple[FieldPath, str]]:
    """The texts of an item holding ``mark`` and ``also`` (most texts hold no markup, and are passed over fast)."""
    for name, value in item.fields.items():
        if isinstance(value, str):
            if mark in value and also in value:
                yield (name,), value
        elif isinstance(value, dict | MappingProxyType) or (
            isinstance(value, list | tuple) and any(not isinstance(entry, str) or mark in entry for entry in value)
        ):
            for path, text in _texts(value, (name,)):
                if mark in text and also in text:
                    yield path, text


def _located(item: Item, path: FieldPath, text: str, offset: int) -> Location:
    """The line of ``offset`` within a text field: the field's own line for one-line text, else counted from it.

    Block scalars (``|``, text ending in a line break) start on the line after the field's.
    """
    start = item.location(path)
    lines_before = text.count("\n", 0, offset)
    if not lines_before and not text.endswith("\n"):
        return start
    first = start.line + 1 if text.endswith("\n") and start.line else start.line
    line_start = text.rfind("\n", 0, offset) + 1
    return Location(start.file, first + lines_before, offset - line_start + 1 + _indent(item, path))


def _indent(item: Item, path: FieldPath) -> int:
    """The column where a block scalar's lines start: one level in from the field's key."""
    key = item.positions.get(path[:-1] if len(path) > 1 else ())
    return (key[1] if key else 0) + 1


@rule("Q011")
def option_out_of_bounds(context: CheckContext) -> Iterator[Hit]:
    for item in context.project.items.values():
        for path, text in _marked(item, "..", "::"):
            for written in directive_options(text):
                refusal = option_refusal(written.directive, written.option, written.value, written.lines)
                if refusal is not None:
                    yield Hit(refusal, _located(item, path, text, written.offset), item.id)
