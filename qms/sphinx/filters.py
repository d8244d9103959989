"""Filters of item tables (``:filter: residual_risk=R|U``), checked against the schema before use.

A filter that cannot match anything (an unknown field, a value outside a field's choices or
outside what a computed column ever takes) is refused with a message, never run silently:
"No items match" under such a filter would claim something the records do not say.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from qms.model import Item
from qms.risk import RiskClass
from qms.rules import RULES
from qms.schema import KINDS, FieldType
from qms.status import Status

#: Values a computed column takes, besides the item's own fields.
RISK_CLASSES = frozenset(risk_class.value for risk_class in RiskClass)
STATUSES = frozenset(status.value for status in Status)


def _computed_values(name: str) -> frozenset[str] | None:
    """The values a computed column can take; None when any value is possible (ids, titles, files)."""
    if name in ("risk", "residual_risk"):
        return RISK_CLASSES
    if name == "status":
        return STATUSES
    if name == "kind":
        return frozenset(KINDS)
    if name == "findings":
        return frozenset(RULES)
    return None


#: Columns computed from the graph, the risk policy or the evidence, filterable like fields
#: (a field of the same name, such as an anomaly's ``status``, comes first).
COMPUTED = ("id", "title", "kind", "file", "status", "findings", "risk", "residual_risk")


class FilterError(ValueError):
    """A filter that names no field of the kinds, or a value the field never takes."""


@dataclass(frozen=True, slots=True)
class Condition:
    """One condition of a filter: ``name=a|b``, ``name!=a``, ``name`` (present) or ``!name`` (absent)."""

    name: str
    values: frozenset[str]  # empty: a presence test
    negated: bool

    def holds(self, values: Iterable[str]) -> bool:
        present = list(values)
        found = any(value in self.values for value in present) if self.values else bool(present)
        return found != self.negated


def _parse_condition(text: str) -> Condition:
    text = text.strip()
    for operator, negated in (("!=", True), ("=", False)):
        if operator in text:
            name, _, values = text.partition(operator)
            allowed = frozenset(value.strip() for value in values.split("|") if value.strip())
            if not allowed:
                raise FilterError(f"'{text}': no value after '{operator}'")
            return Condition(name.strip(), allowed, negated)
    if text.startswith("!"):
        return Condition(text[1:].strip(), frozenset(), True)
    return Condition(text, frozenset(), False)


def _possible_values(name: str, kinds: tuple[str, ...]) -> tuple[bool, frozenset[str] | None]:
    """Whether ``name`` is a column of ``kinds``, and the values it can take (None: any)."""
    if name.startswith("x-"):
        return True, None
    specs = [spec for kind in kinds if (spec := KINDS[kind].field(name)) is not None]
    if not specs and name in COMPUTED:
        return True, _computed_values(name)
    if any(spec.type is not FieldType.CHOICE or not spec.choices for spec in specs):
        return bool(specs), None
    return bool(specs), frozenset(choice for spec in specs for choice in spec.choices)


def parse_filter(text: str, kinds: tuple[str, ...]) -> tuple[Condition, ...]:
    """The conditions of a filter (separated by ``,`` or ``;``, all must hold), checked against ``kinds``."""
    conditions = tuple(_parse_condition(part) for part in text.replace(";", ",").split(",") if part.strip())
    for condition in conditions:
        known, possible = _possible_values(condition.name, kinds)
        if not condition.name or not known:
            names = sorted({*COMPUTED, *(name for kind in kinds for name in KINDS[kind].field_names)})
            raise FilterError(
                f"filter field '{condition.name}' is no field of {', '.join(kinds)}; fields: {', '.join(names)}"
            )
        impossible = sorted(condition.values - possible) if possible is not None else []
        if impossible:
            raise FilterError(
                f"filter '{condition.name}' never takes {', '.join(repr(v) for v in impossible)}; "
                f"its values: {', '.join(sorted(possible or ()))}"
            )
    return conditions


def matching(
    items: Iterable[Item], conditions: tuple[Condition, ...], values: Callable[[Item, str], list[str]]
) -> list[Item]:
    """The items for which every condition holds; ``values`` gives an item's values of a column."""
    return [item for item in items if all(condition.holds(values(item, condition.name)) for condition in conditions)]


def is_computed(name: str, kinds: tuple[str, ...]) -> bool:
    """Whether a column of ``kinds`` is computed rather than read from a field of that name."""
    return name in COMPUTED and not any(KINDS[kind].field(name) for kind in kinds)


def field_values(item: Item, name: str) -> list[str]:
    """An item's values of a field as strings (a list field gives each entry)."""
    if name in ("id", "kind", "file", "title"):
        return [str(getattr(item, name))]
    value: Any = item.get(name)
    if isinstance(value, (list, tuple)):
        return [str(entry) for entry in value]
    return [] if value is None else [str(value)]
