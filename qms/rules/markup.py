"""Q rules on item text: its markup as the site parses it, and what it asks of the site's renderer
(links written in maths, sizes in directive options)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any, Protocol

from qms.causes import closest_id
from qms.markup import directive_options, is_prose, item_texts, option_refusal, unsafe_math_links
from qms.model import FieldPath, Item, Location, Project
from qms.rules.registry import CheckContext, Hit, rule


@rule("Q010", of_project=True)
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
        elif isinstance(value, dict | MappingProxyType) or (isinstance(value, list | tuple) and _may_hold(value, mark)):
            for path, text in _texts(value, (name,)):
                if mark in text and also in text:
                    yield path, text


def _may_hold(entries: list[Any] | tuple[Any, ...], mark: str) -> bool:
    """Whether an entry of a list is not text or holds ``mark`` (no line break in it): one scan of
    the entries joined, for the lists of ids and texts of every item."""
    try:
        return mark in "\n".join(entries)
    except TypeError:  # an entry that is not text: looked into
        return True


class _Placed(Protocol):
    """What a text is read from, with the place of each field: an item, or the project file's settings."""

    @property
    def positions(self) -> Mapping[FieldPath, tuple[int, int]]: ...

    def location(self, path: FieldPath = ()) -> Location: ...


def _located(item: _Placed, path: FieldPath, text: str, offset: int) -> Location:
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


def _indent(item: _Placed, path: FieldPath) -> int:
    """The column where a block scalar's lines start: one level in from the field's key."""
    key = item.positions.get(path[:-1] if len(path) > 1 else ())
    return (key[1] if key else 0) + 1


@rule("Q011", of_project=True)
def option_out_of_bounds(context: CheckContext) -> Iterator[Hit]:
    for item in context.project.items.values():
        for path, text in _marked(item, "..", "::"):
            for written in directive_options(text):
                refusal = option_refusal(written.directive, written.option, written.value, written.lines)
                if refusal is not None:
                    yield Hit(refusal, _located(item, path, text, written.offset), item.id)


@rule("Q009", of_project=True)
def text_markup(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    intended_use = project.config.device.intended_use
    texts: Iterator[tuple[_Placed, str | None, FieldPath, str]] = itertools.chain(
        [(project.config, None, ("device", "intended_use"), intended_use)] if intended_use else [],
        ((item, item.id, path, text) for item in project.items.values() for path, text in item_texts(item)),
    )
    for where, item_id, path, text in texts:
        if is_prose(text):
            continue  # most requirement text: nothing to parse
        for line, message in _markup_problems(project, text):
            location = _located(where, path, text, _line_start(text, line))
            yield Hit(f"{_field_name(path)}: {message}", location, item_id)


def _markup_problems(project: Project, text: str) -> list[tuple[int, str]]:
    """The markup errors of a text and its ``:item:`` roles naming no item, each with its line in the text."""
    from qms.rst import read_text  # docutils is loaded only when some text holds markup

    problems, references = read_text(text)
    found = [(problem.line, problem.message) for problem in problems]
    for reference in references:
        if reference.target not in project.items:
            closest = closest_id(project, reference.target)
            hint = f" (did you mean '{closest}'?)" if closest is not None else ""
            found.append((reference.line, f"unknown item id '{reference.target}'{hint}"))
    return sorted(found, key=lambda problem: problem[0])


def _line_start(text: str, line: int) -> int:
    """The offset where line ``line`` (1 for the first) of a text starts; the last line's for a line beyond it."""
    offset = 0
    for _ in range(line - 1):
        following = text.find("\n", offset)
        if following < 0 or following + 1 >= len(text):
            break
        offset = following + 1
    return offset


def _field_name(path: FieldPath) -> str:
    """A field as written in the item: ``text``, ``steps[2]``, ``known_anomalies[0].evaluation``."""
    name = str(path[0])
    for part in path[1:]:
        name += f"[{part}]" if isinstance(part, int) else f".{part}"
    return name
