"""Cell text to field values: what a person typed into a cell, read as the model holds values.

Cells are untrusted text: the ones read as YAML (extension fields holding a number, list or
mapping; anomaly lists) go through the item-file reader, with its limits on nesting, alias
expansion and tags, never through a converter that expands aliases without bound.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from qms.excel.layout import Column, Role, extension_text, normalize_cell, value_text
from qms.excel.yamledit import REMOVE
from qms.model import Project
from qms.schema import ID_PATTERN, KINDS, FieldSpec, FieldType
from qms.yamlfile import parse_yaml


class CellRefused(Exception):
    """A cell's text cannot be taken as the field's value; the message says why and what to do."""


def _split_ids(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", text) if part]


def parse_cell(project: Project, column: Column, text: str, old: Any) -> Any:
    """A cell's text as the field value the model would hold (None: the field is emptied)."""
    if not text:
        return None
    spec = column.spec
    if spec is None:
        return _extension_value(text, old)
    match spec.type:
        case FieldType.TEXT | FieldType.STRING:
            return text
        case FieldType.CHOICE:
            found = next((choice for choice in spec.choices if choice.casefold() == text.strip().casefold()), None)
            if found is None:
                raise CellRefused(f"'{text}' is not allowed for {spec.name}; one of: {', '.join(spec.choices)}")
            return found
        case FieldType.LINKS:
            ids = _split_ids(text)
            bad = [entry for entry in ids if not ID_PATTERN.fullmatch(entry)]
            if bad:
                raise CellRefused(
                    f"'{bad[0]}' is not an id; write the linked ids separated by commas, e.g. SWR-001, SWR-002"
                )
            return tuple(ids)
        case FieldType.STRINGS:
            return tuple(line.strip() for line in text.split("\n") if line.strip())
        case FieldType.TEXTS:
            separator = r"\n\s*\n" if re.search(r"\n\s*\n", text) else r"\n"
            return tuple(entry.strip() for entry in re.split(separator, text) if entry.strip())
        case FieldType.SEVERITY | FieldType.PROBABILITY | FieldType.RESIDUAL:
            return _level(project, spec, column, text)
        case FieldType.ANOMALY_REVIEWS:
            return _reviews(text)
    return text  # pragma: no cover - every field type is matched above


def _level(project: Project, spec: FieldSpec, column: Column, text: str) -> int:
    policy = project.config.risk_policy
    severity = spec.type is FieldType.SEVERITY or (spec.type is FieldType.RESIDUAL and column.path[1] == "severity")
    level = policy.severity_level(text) if severity else policy.probability_level(text)
    if level is None:
        what = "severity" if severity else "probability"
        scale = policy.severity if severity else policy.probability
        raise CellRefused(
            f"'{text}' is not a {what} level of the risk policy; levels: {', '.join(str(entry) for entry in scale)}"
        )
    return level.level


def _reviews(text: str) -> tuple[Mapping[str, str], ...]:
    example = "write one '- ref: ...' line and one '  evaluation: ...' line per anomaly"
    data = cell_yaml(text, f"cannot read the anomaly list; {example}")
    if not isinstance(data, list) or not all(
        isinstance(entry, dict)
        and set(entry) == {"ref", "evaluation"}
        and all(isinstance(v, str) and v for v in entry.values())
        for entry in data
    ):
        raise CellRefused(f"the anomaly list must be entries of ref and evaluation; {example}")
    return tuple(MappingProxyType({"ref": entry["ref"], "evaluation": entry["evaluation"]}) for entry in data)


def _extension_value(text: str, old: Any) -> Any:
    """Text stays text; a field that held a number, list or mapping is read back as YAML."""
    if old is None or isinstance(old, str):
        return text
    return cell_yaml(text, "cannot read the cell as a value; write it the way its YAML file does")


def cell_yaml(text: str, what: str) -> Any:
    """A cell's text read as YAML, with the limits of the item-file reader (depth, alias expansion,
    tags, duplicate keys); anything it refuses is refused for the cell, with ``what`` to do."""
    document = parse_yaml(text, "cell")
    try:
        value = document.value(document.root) if document.root is not None and not document.findings else None
    except ValueError as error:  # a number with more digits than Python converts
        raise CellRefused(f"{what} ({error})") from error
    if document.findings:
        finding = document.findings[0]
        raise CellRefused(f"{what} (line {finding.location.line}, column {finding.location.column}: {finding.message})")
    return value


def comparable(project: Project, kind: str, name: str, value: Any) -> str:
    """A value's text for comparing two edits of one field."""
    if value is REMOVE or value is None:
        return ""
    spec = KINDS[kind].field(name) if kind in KINDS else None
    if spec is not None and spec.type is FieldType.RESIDUAL:
        return repr(sorted(dict(value).items()))
    column = Column(name, Role.FIELD, (name,), spec)
    return normalize_cell(value_text(project.config.risk_policy, column, value) if spec else extension_text(value))
