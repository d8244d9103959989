"""Q rules on item text: its markup as the site parses it, and what it asks of the site's renderer
(links written in maths, sizes in directive options)."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any, Protocol

from qms.causes import closest_id
from qms.markup import directive_options, is_prose, item_texts, option_refusal, unsafe_math_links
from qms.model import FieldPath, Item, Location, Project
from qms.rules.registry import CheckContext, Hit, ItemHit, item_rule, rule


@rule("Q010", of_project=True)
def unsafe_math_link(context: CheckContext) -> Iterator[Hit]:
    return context.item_hits.of("Q010")


@item_rule("Q010")
def _unsafe_math_links_in(item: Item) -> Iterator[ItemHit]:
    for path, text in _marked(item, "\\"):
        for link in unsafe_math_links(text):
            yield (
                f"\\{link.command} to '{link.target}' in {path[0]}: maths may link only to http or https "
                "addresses; write the link in the text instead",
                _located(item, path, text, link.offset),
                "",
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
    return context.item_hits.of("Q011")


@item_rule("Q011")
def _options_out_of_bounds_in(item: Item) -> Iterator[ItemHit]:
    for path, text in _marked(item, "..", "::"):
        for written in directive_options(text):
            refusal = option_refusal(written.directive, written.option, written.value, written.lines)
            if refusal is not None:
                yield refusal, _located(item, path, text, written.offset), ""


@rule("Q009", of_project=True)
def text_markup(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    config = project.config
    intended_use = config.device.intended_use
    if intended_use:
        for message, location, target in _markup_in(config, ("device", "intended_use"), intended_use):
            found = _unknown(project, message, target) if target else message
            if found is not None:
                yield Hit(found, location)
    yield from context.item_hits.of("Q009", functools.partial(_unknown, project))


@item_rule("Q009")
def _item_markup(item: Item) -> Iterator[ItemHit]:
    for path, text in item_texts(item):
        yield from _markup_in(item, path, text)


def _markup_in(where: _Placed, path: FieldPath, text: str) -> Iterator[ItemHit]:
    """The markup errors of a text and its ``:item:`` roles (each naming its id, which the rule looks up
    among the project's items), in the order of their lines."""
    if is_prose(text):
        return  # most requirement text: nothing to parse
    for line, message, target in _markup_problems(text):
        yield f"{_field_name(path)}: {message}", _located(where, path, text, _line_start(text, line)), target


def _markup_problems(text: str) -> list[tuple[int, str, str]]:
    """The markup errors of a text and its ``:item:`` roles, each with its line in the text (and the id
    a role names: "" for an error)."""
    from qms.rst import read_text  # docutils is loaded only when some text holds markup

    problems, references = read_text(text)
    found = [(problem.line, problem.message, "") for problem in problems]
    found += [(ref.line, f"unknown item id '{ref.target}'", ref.target) for ref in references]
    return sorted(found, key=lambda problem: problem[0])


def _unknown(project: Project, message: str, target: str) -> str | None:
    """The finding of an ``:item:`` role naming ``target``: None when the project has the item."""
    if target in project.items:
        return None
    closest = closest_id(project, target)
    return message + (f" (did you mean '{closest}'?)" if closest is not None else "")


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
