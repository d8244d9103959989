"""Property tests of the loader: arbitrary input never raises, and items survive a round trip.

- arbitrary text, bytes and YAML-shaped data always give findings (never an exception) whose
  locations lie inside the file;
- an item generated from the kind specs of :mod:`qms.schema`, written as YAML, loads without a
  finding and with exactly the values written; written back from what was loaded and loaded
  again, it is the same item (parse, dump, parse is the identity).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qms.loading import read_items
from qms.model import Item
from qms.risk import DEFAULT_POLICY
from qms.schema import ID_PATTERN, KINDS, FieldSpec, FieldType
from qms.yamlfile import parse_bytes, parse_yaml

PATH = "items/generated.yaml"
#: what YAML (and so every location) counts as a line break
YAML_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
LOADER_CODES = {"Q001", "Q002", "Q004"}
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check_findings(source: str | bytes) -> list[Item]:
    """Load ``source``; assert every finding is a loader finding placed inside the file."""
    document = parse_bytes(source, PATH) if isinstance(source, bytes) else parse_yaml(source, PATH)
    items = read_items(document, DEFAULT_POLICY)
    text = source.decode("utf-8", "replace") if isinstance(source, bytes) else source
    lines = len(YAML_LINE_BREAK.split(text))
    for finding in document.findings:
        assert finding.rule in LOADER_CODES, finding
        assert finding.location.file == PATH
        assert 1 <= finding.location.line <= lines + 1, finding
        assert finding.location.column >= 1, finding
        assert finding.message and "\n" not in finding.message
    for item in items:
        for line, column in item.positions.values():
            assert 1 <= line <= lines and column >= 1
    return items


# --------------------------------------------------------------------------- arbitrary input

YAML_TOKENS = st.text(alphabet=st.sampled_from(list(":-[]{},#&*!|>'\"\n \t%@`?~abcXY019é\r\\")), max_size=200)


@PROPERTY_SETTINGS
@given(st.text(max_size=500))
def test_arbitrary_text_gives_findings_not_exceptions(text: str) -> None:
    check_findings(text)


@PROPERTY_SETTINGS
@given(YAML_TOKENS)
def test_text_made_of_yaml_punctuation_gives_findings_not_exceptions(text: str) -> None:
    check_findings(text)


@PROPERTY_SETTINGS
@given(st.binary(max_size=300))
def test_arbitrary_bytes_give_findings_not_exceptions(data: bytes) -> None:
    check_findings(data)


FIELD_NAMES = sorted({spec.name for kind in KINDS.values() for spec in kind.fields} | {"id", "kind", "items", "x-a"})
KEYS = st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=8))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.text(max_size=20),
    st.sampled_from(list(KINDS)),
    st.from_regex(ID_PATTERN, fullmatch=True),
    st.sampled_from(["Serious", "remote", "3", "test", "A"]),
)
YAMLISH = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=5), st.dictionaries(KEYS, children, max_size=6)),
    max_leaves=30,
)


@PROPERTY_SETTINGS
@given(YAMLISH, st.sampled_from(["block", "flow"]))
def test_arbitrary_yaml_structures_give_findings_not_exceptions(data: Any, style: str) -> None:
    check_findings(yaml.safe_dump(data, default_flow_style=style == "flow", allow_unicode=True))


SMALL_YAMLISH = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(KEYS, children, max_size=3)),
    max_leaves=6,
)


@PROPERTY_SETTINGS
@given(st.lists(st.dictionaries(KEYS, SMALL_YAMLISH, max_size=8), max_size=4), st.sampled_from([None, *KINDS, "bogus"]))
def test_arbitrary_list_files_give_findings_not_exceptions(entries: list[dict[str, Any]], kind: str | None) -> None:
    data: dict[str, Any] = {"items": entries}
    if kind is not None:
        data["kind"] = kind
    check_findings(yaml.safe_dump(data, allow_unicode=True))


# --------------------------------------------------------------------------- round trip

IDS = st.from_regex(ID_PATTERN, fullmatch=True).filter(lambda text: len(text) <= 20)
#: text without the line breaks PyYAML's emitter mishandles in keys (NEL, LS, PS, lone CR)
CHARACTERS = st.characters(blacklist_characters="\x85\u2028\u2029\r", blacklist_categories=("Cs",))
TEXT = st.text(CHARACTERS, min_size=1, max_size=40).filter(lambda text: text.strip() != "")
LEVEL_NAMES = {
    FieldType.SEVERITY: [level.name for level in DEFAULT_POLICY.severity],
    FieldType.PROBABILITY: [level.name for level in DEFAULT_POLICY.probability],
}
EXTENSION_VALUES = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-1000, 1000), st.text(CHARACTERS, max_size=20)),
    lambda children: st.one_of(st.lists(children, max_size=3), st.dictionaries(TEXT, children, max_size=3)),
    max_leaves=8,
)


def level(kind: FieldType) -> st.SearchStrategy[int | str]:
    names = LEVEL_NAMES[kind]
    by_name = st.sampled_from(names).flatmap(lambda name: st.sampled_from([name, name.lower(), name.upper()]))
    return st.one_of(st.integers(1, len(names)), by_name)


def field_value(spec: FieldSpec) -> st.SearchStrategy[Any]:
    """Values a user may write for a field, as YAML data."""
    match spec.type:
        case FieldType.TEXT | FieldType.STRING:
            return TEXT
        case FieldType.STRINGS | FieldType.TEXTS:
            return st.lists(TEXT, max_size=3)
        case FieldType.LINKS:
            return st.lists(IDS, max_size=3)
        case FieldType.CHOICE:
            return st.sampled_from(spec.choices)
        case FieldType.SEVERITY | FieldType.PROBABILITY:
            return level(spec.type)
        case FieldType.RESIDUAL:
            return st.fixed_dictionaries(
                {"severity": level(FieldType.SEVERITY), "probability": level(FieldType.PROBABILITY)}
            )
        case FieldType.ANOMALY_REVIEWS:
            return st.lists(st.fixed_dictionaries({"ref": TEXT, "evaluation": TEXT}), max_size=2)
    raise AssertionError(spec.type)


@st.composite
def items(draw: st.DrawFn, kind_name: str) -> dict[str, Any]:
    kind = KINDS[kind_name]
    data: dict[str, Any] = {"id": draw(IDS)}
    for spec in kind.fields:
        if spec.required or draw(st.booleans()):
            data[spec.name] = draw(field_value(spec))
    for name in draw(st.lists(st.from_regex(r"x-[a-z]{1,6}", fullmatch=True), max_size=2, unique=True)):
        data[name] = draw(EXTENSION_VALUES)
    return data


@st.composite
def item_files(draw: st.DrawFn) -> tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]]:
    """A list file of items of one kind (some naming their kind themselves), and its items."""
    kind = draw(st.sampled_from(list(KINDS)))
    entries = draw(st.lists(items(kind), min_size=1, max_size=4, unique_by=lambda entry: entry["id"]))
    for entry in entries:
        if draw(st.booleans()):
            entry["kind"] = kind
    return {"kind": kind, "items": entries}, [(kind, entry) for entry in entries]


def expected_value(spec: FieldSpec | None, value: Any) -> Any:
    """What the loader keeps of a written value: levels as numbers, lists as tuples."""
    if spec is None:
        return value
    if spec.type is FieldType.SEVERITY:
        return DEFAULT_POLICY.severity_level(value).level  # type: ignore[union-attr]
    if spec.type is FieldType.PROBABILITY:
        return DEFAULT_POLICY.probability_level(value).level  # type: ignore[union-attr]
    if spec.type is FieldType.RESIDUAL:
        return {
            "severity": DEFAULT_POLICY.severity_level(value["severity"]).level,  # type: ignore[union-attr]
            "probability": DEFAULT_POLICY.probability_level(value["probability"]).level,  # type: ignore[union-attr]
        }
    if isinstance(value, list):
        return tuple(value)
    return value


def thawed(value: Any) -> Any:
    """Loaded values as plain YAML data (tuples to lists, read-only mappings to dicts)."""
    if isinstance(value, Mapping):
        return {key: thawed(entry) for key, entry in value.items()}
    if isinstance(value, (tuple, list)):
        return [thawed(entry) for entry in value]
    return value


def dump_items(loaded: list[Item]) -> str:
    """Write loaded items back as one item file."""
    entries = [{"id": item.id, "kind": item.kind, **thawed(dict(item.fields))} for item in loaded]
    return yaml.safe_dump({"items": entries}, allow_unicode=True, sort_keys=False)


def comparable(item: Item) -> tuple[str, str, Any]:
    return item.id, item.kind, thawed(dict(item.fields))


@PROPERTY_SETTINGS
@given(item_files(), st.sampled_from(["block", "flow"]))
def test_generated_items_load_exactly_and_round_trip(
    generated: tuple[dict[str, Any], list[tuple[str, dict[str, Any]]]], style: str
) -> None:
    data, entries = generated
    text = yaml.safe_dump(data, default_flow_style=style == "flow", allow_unicode=True, sort_keys=False)
    document = parse_yaml(text, PATH)
    loaded = read_items(document, DEFAULT_POLICY)
    assert document.findings == []
    assert [item.id for item in loaded] == [entry["id"] for _, entry in entries]
    for item, (kind, entry) in zip(loaded, entries, strict=True):
        assert item.kind == kind
        written = {name: value for name, value in entry.items() if name not in ("id", "kind")}
        assert set(item.fields) == set(written)
        for name, value in written.items():
            expected = expected_value(KINDS[kind].field(name), value)
            assert thawed(item.fields[name]) == thawed(expected), name
            assert (name,) in item.positions
    again = parse_yaml(dump_items(loaded), PATH)
    reloaded = read_items(again, DEFAULT_POLICY)
    assert again.findings == []
    assert [comparable(item) for item in reloaded] == [comparable(item) for item in loaded]
