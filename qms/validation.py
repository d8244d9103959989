"""Checking plain data against the JSON Schemas qms publishes, with messages for people.

``qms.yaml`` is validated against :func:`qms.config.project_schema`, the same schema that is
published for editors, so there is one definition. This module interprets the part of JSON Schema
(draft 7) that schema uses; a keyword it does not know raises, so the published schema
cannot grow a rule that validation silently ignores. The tests check it against the
``jsonschema`` package on generated data. (It also keeps ``jsonschema``, a slow import, off the
path of every ``qms check``.)
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Mapping
from typing import Any

from qms.elements import FieldPath
from qms.terminal import excerpt

#: keywords that only describe; they never make data invalid
_ANNOTATIONS = frozenset(
    {"$schema", "$id", "$comment", "$defs", "definitions", "title", "description", "default", "examples"}
)
_SUPPORTED = frozenset(
    {
        "type", "enum", "const", "minLength", "pattern", "minimum", "minItems", "items", "required",
        "properties", "patternProperties", "additionalProperties", "propertyNames", "anyOf", "allOf",
    }
)  # fmt: skip
_TYPE_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "number": "a number",
    "boolean": "true or false",
    "null": "empty",
}

Issue = tuple[FieldPath, str]


class UnsupportedSchema(ValueError):
    """The schema uses a keyword this validator does not implement."""


def describe(path: FieldPath) -> str:
    """A field path as a person reads it: ``risk_policy.severity[2].name`` (entries from 1)."""
    text = ""
    for part in path:
        text += f"[{part + 1}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def validate(instance: Any, schema: Mapping[str, Any], path: FieldPath = ()) -> list[Issue]:
    """Every way ``instance`` breaks ``schema``, each with the path of the offending value."""
    unknown = {key for key in schema if key not in _SUPPORTED and key not in _ANNOTATIONS and not key.startswith("x-")}
    if unknown:
        raise UnsupportedSchema(f"schema keywords not supported: {', '.join(sorted(unknown))}")
    expected = schema.get("type")
    if expected is not None and not _is_type(instance, expected):
        return [(path, f"{_label(path)} must be {_TYPE_NAMES[expected]}, not {_shape(instance)}")]
    issues: list[Issue] = []
    if "const" in schema and not _equal(instance, schema["const"]):
        issues.append((path, f"{_label(path)} must be {schema['const']!r}"))
    if "enum" in schema and not any(_equal(instance, choice) for choice in schema["enum"]):
        choices = ", ".join(str(choice) for choice in schema["enum"])
        suggestion = _suggest(instance, schema["enum"])
        issues.append((path, f"{_label(path)} {_shown(instance)} is not allowed{suggestion}; one of: {choices}"))
    if isinstance(instance, str):
        issues += _string(instance, schema, path)
    number = isinstance(instance, (int, float)) and not isinstance(instance, bool)
    if number and "minimum" in schema and instance < schema["minimum"]:
        issues.append((path, f"{_label(path)} must be at least {schema['minimum']}"))
    if isinstance(instance, list):
        issues += _array(instance, schema, path)
    if isinstance(instance, dict):
        issues += _object(instance, schema, path)
    if "anyOf" in schema and all(validate(instance, option, path) for option in schema["anyOf"]):
        form = schema.get("description", "see the schema")
        issues.append((path, f"{_label(path)} {_shown(instance)} is not valid: {form}"))
    for part in schema.get("allOf", ()):
        issues += validate(instance, part, path)
    return issues


def _string(instance: str, schema: Mapping[str, Any], path: FieldPath) -> list[Issue]:
    issues: list[Issue] = []
    if len(instance) < schema.get("minLength", 0):
        issues.append((path, f"{_label(path)} must not be empty"))
    pattern = schema.get("pattern")
    if pattern is not None and not _pattern(pattern).search(instance):
        form = schema.get("description") or f"the pattern {pattern}"
        issues.append((path, f"{_label(path)} {_shown(instance)} is not in the expected form: {form}"))
    return issues


def _array(instance: list[Any], schema: Mapping[str, Any], path: FieldPath) -> list[Issue]:
    issues: list[Issue] = []
    if len(instance) < schema.get("minItems", 0):
        issues.append((path, f"{_label(path)} needs at least {schema['minItems']} entries, has {len(instance)}"))
    items = schema.get("items")
    if items is not None:
        for index, element in enumerate(instance):
            issues += validate(element, items, (*path, index))
    return issues


def _object(instance: dict[str, Any], schema: Mapping[str, Any], path: FieldPath) -> list[Issue]:
    issues: list[Issue] = []
    properties: Mapping[str, Any] = schema.get("properties", {})
    patterns: Mapping[str, Any] = schema.get("patternProperties", {})
    missing = [name for name in schema.get("required", ()) if name not in instance]
    if missing:
        names = ", ".join(f"'{name}'" for name in missing)
        where = f"{_label(path)} is missing" if path else "missing"
        issues.append((path, f"{where} required field{'s' if len(missing) > 1 else ''} {names}"))
    names_schema = schema.get("propertyNames")
    additional = schema.get("additionalProperties", True)
    for key, value in instance.items():
        if names_schema is not None and validate(key, names_schema):
            what = names_schema.get("title", "name")
            hint = f"; {names_schema['description']}" if "description" in names_schema else ""
            suggestion = _suggest(key, names_schema.get("enum", ()))
            issues.append(((*path, key), f"unknown {what} '{key}'{suggestion}{hint}"))
            continue
        matched = False
        if key in properties:
            issues += validate(value, properties[key], (*path, key))
            matched = True
        for pattern, pattern_schema in patterns.items():
            if _pattern(pattern).search(key):
                issues += validate(value, pattern_schema, (*path, key))
                matched = True
        if matched:
            continue
        if additional is False:
            allowed = ", ".join(properties)
            extension = ", or x-... for your own fields" if "^x-" in patterns else ""
            where = f" in {_label(path)}" if path else ""
            issues.append(
                (
                    (*path, key),
                    f"unknown field '{key}'{where}{_suggest(key, properties)}; allowed: {allowed}{extension}",
                )
            )
        elif isinstance(additional, Mapping):
            issues += validate(value, additional, (*path, key))
    return issues


#: in a pattern: an escape or a character class (kept as written), or ``$``
_PATTERN_PARTS = re.compile(r"(\\.|\[(?:\\.|[^\]])*\])|\$")


@functools.cache
def _pattern(pattern: str) -> re.Pattern[str]:
    """A JSON Schema pattern (ECMA 262) in Python's dialect: ``$`` is the end of the text.

    Python's ``$`` also matches before a final newline, so ``^[ARU]+$`` would take ``"AAR\\n"``.
    """
    return re.compile(_PATTERN_PARTS.sub(lambda part: part.group(1) or r"\Z", pattern))


def _is_type(instance: Any, expected: str) -> bool:
    match expected:
        case "object":
            return isinstance(instance, dict)
        case "array":
            return isinstance(instance, list)
        case "string":
            return isinstance(instance, str)
        case "integer":
            return isinstance(instance, int) and not isinstance(instance, bool)
        case "number":
            return isinstance(instance, (int, float)) and not isinstance(instance, bool)
        case "boolean":
            return isinstance(instance, bool)
        case "null":
            return instance is None
    raise UnsupportedSchema(f"type {expected!r} not supported")


def _equal(instance: Any, expected: Any) -> bool:
    """JSON equality: ``true`` is not ``1``."""
    if isinstance(instance, bool) or isinstance(expected, bool):
        return type(instance) is type(expected) and instance == expected
    return bool(instance == expected)


def _shape(instance: Any) -> str:
    if instance is None:
        return "empty"
    if isinstance(instance, bool):
        return str(instance).lower()
    if isinstance(instance, dict):
        return "a mapping"
    if isinstance(instance, list):
        return "a list"
    if isinstance(instance, str):
        return f"text ('{excerpt(instance)}')"
    return f"the number {instance}"


def _label(path: FieldPath) -> str:
    return describe(path) if path else "the file"


def _shown(instance: Any) -> str:
    return f"'{excerpt(instance)}'" if isinstance(instance, str) else excerpt(repr(instance))


def _suggest(word: Any, choices: Any) -> str:
    if not isinstance(word, str):
        return ""
    close = difflib.get_close_matches(word, [str(choice) for choice in choices], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
