"""The published JSON Schemas: generated from the one definition, committed, and in step with it.

The item schema comes from the kind specs of :mod:`qms.schema`, the project schema is the one
``qms.yaml`` is validated against. These tests use the ``jsonschema`` package as the reference.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from test_loader_properties import item_files

from qms.cli.schema import published_schemas, schema_text
from qms.config import project_schema
from qms.loading import read_items
from qms.project import load_project, source_files
from qms.risk import DEFAULT_POLICY
from qms.rules import RULES
from qms.schema import ITEMS_SCHEMA_FILE, PROJECT_SCHEMA_FILE, item_file_json_schema
from qms.validation import UnsupportedSchema, validate
from qms.yamlfile import parse_yaml, read_yaml

REPOSITORY = Path(__file__).parent.parent
COMMITTED = REPOSITORY / "qms" / "schemas"
ITEMS = jsonschema.Draft7Validator(item_file_json_schema())
PROJECT = jsonschema.Draft7Validator(project_schema())


def as_data(text: str) -> Any:
    """YAML text as qms reads it (dates stay text), for the JSON Schema validator."""
    document = parse_yaml(text, "x.yaml")
    assert document.root is not None
    return document.value(document.root)


def schema_errors(validator: jsonschema.Draft7Validator, data: Any) -> list[str]:
    return [error.message for error in validator.iter_errors(data)]


@pytest.mark.parametrize("name", [ITEMS_SCHEMA_FILE, PROJECT_SCHEMA_FILE])
def test_committed_schema_is_what_the_code_generates(name: str) -> None:
    committed = (COMMITTED / name).read_text(encoding="utf-8")
    assert committed == schema_text(published_schemas()[name]), f"run `qms schema -o qms/schemas` to update {name}"


@pytest.mark.parametrize("name", [ITEMS_SCHEMA_FILE, PROJECT_SCHEMA_FILE])
def test_schemas_are_valid_draft_7(name: str) -> None:
    jsonschema.Draft7Validator.check_schema(published_schemas()[name])


def test_qms_schema_writes_the_committed_files(tmp_path: Path, run_qms: Callable[..., Any]) -> None:
    result = run_qms("schema", "--output-dir", "out", cwd=tmp_path)
    assert result.exit_code == 0
    assert result.output == f"wrote out/{ITEMS_SCHEMA_FILE}\nwrote out/{PROJECT_SCHEMA_FILE}\n"
    for name in (ITEMS_SCHEMA_FILE, PROJECT_SCHEMA_FILE):
        assert (tmp_path / "out" / name).read_bytes() == (COMMITTED / name).read_bytes()


def test_every_item_file_of_the_bundled_example_validates() -> None:
    project = load_project(REPOSITORY)
    paths, _ = source_files(REPOSITORY, project.config)
    assert len(paths) > 10
    for path in paths:
        document = read_yaml(path, path.name)
        assert document.root is not None, path
        assert schema_errors(ITEMS, document.value(document.root)) == [], path
    assert schema_errors(PROJECT, as_data((REPOSITORY / "qms.yaml").read_text(encoding="utf-8"))) == []


def test_every_item_file_of_a_new_project_validates(tmp_path: Path, run_qms: Callable[..., Any]) -> None:
    assert run_qms("init", "new", cwd=tmp_path).exit_code == 0
    files = sorted((tmp_path / "new").rglob("*.yaml"))
    for path in files:
        validator = PROJECT if path.name == "qms.yaml" else ITEMS
        assert schema_errors(validator, as_data(path.read_text(encoding="utf-8"))) == [], path


def test_every_item_file_of_a_generated_project_validates(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("generate", REPOSITORY / "benchmarks" / "generate.py")
    assert spec is not None and spec.loader is not None
    generate = importlib.util.module_from_spec(spec)
    sys.modules["generate"] = generate
    spec.loader.exec_module(generate)
    generate.generate(200, tmp_path, seed=1)
    for path in sorted(tmp_path.rglob("*.yaml")):
        if path.parent.name == "records":  # execution records: not item files (qms.records reads them)
            continue
        validator = PROJECT if path.name == "qms.yaml" else ITEMS
        assert schema_errors(validator, as_data(path.read_text(encoding="utf-8"))) == [], path


ITEM = "id: TST-1\nkind: test\ntitle: Alarm silence\nmethod: test\nverifies: [SYS-1]\n"


@pytest.mark.parametrize(
    ("change", "replacement"),
    [
        ("title: Alarm silence\n", ""),  # missing required field
        ("method: test\n", "method: test\npriority: high\n"),  # unknown field
        ("verifies: [SYS-1]", "verifies: SYS-1"),  # link as a string
        ("method: test", "method: testing"),  # value not allowed
        ("id: TST-1", "id: TST 1"),  # id with spaces
        ("verifies: [SYS-1]", "verifies: [SYS-1, [x]]"),  # link entry not an id
        ("kind: test", "kind: tset"),  # unknown kind
        ("title: Alarm silence", "title: [Alarm, silence]"),  # text as a list
        ("title: Alarm silence", "title: ''"),  # empty text
    ],
)
def test_schema_rejects_what_the_loader_rejects(change: str, replacement: str) -> None:
    text = ITEM.replace(change, replacement)
    assert text != ITEM
    document = parse_yaml(text, "x.yaml")
    read_items(document, DEFAULT_POLICY)
    assert [finding.rule for finding in document.findings] == ["Q002"]
    assert schema_errors(ITEMS, as_data(text)) != []


@pytest.mark.parametrize(
    "text",
    [
        "kind: need\nitems:\n  - id: NEED-1\n    title: t\n",  # missing text in a list
        "kind: software_item\nitems:\n  - id: SOUP-1\n    kind: soup\n    title: t\n    colour: red\n",
        "kind: need\nitems: {id: NEED-1}\n",  # items not a list
        "items:\n  - id: NEED-1\n    title: t\n    text: x\n",  # no kind anywhere
        "kind: need\nitem:\n  - id: NEED-1\n",  # unknown top-level field
        "id: HAZ-1\nkind: hazard\ntitle: t\nhazard: h\nhazardous_situation: s\nharm: x\n"
        "severity: [3]\nprobability: 1\n",  # a level that is neither a number nor a name
    ],
)
def test_schema_rejects_malformed_list_files(text: str) -> None:
    assert schema_errors(ITEMS, as_data(text)) != []


def test_schema_accepts_an_item_of_another_kind_in_a_list_file() -> None:
    text = (
        "kind: software_item\nitems:\n  - id: SI-1\n    title: t\n    description: d\n    uses: [SOUP-1]\n"
        "  - id: SOUP-1\n    kind: soup\n    title: t\n    version: '1'\n    supplier: s\n    x-note: kept\n"
    )
    assert schema_errors(ITEMS, as_data(text)) == []


@settings(max_examples=100, deadline=None)
@given(item_files())
def test_schema_accepts_every_item_the_loader_accepts(generated: tuple[dict[str, Any], list[Any]]) -> None:
    data, _ = generated
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
    document = parse_yaml(text, "x.yaml")
    read_items(document, DEFAULT_POLICY)
    assert document.findings == []
    assert schema_errors(ITEMS, as_data(text)) == []


# --------------------------------------------------------------------------- qms.yaml

CONFIG_KEYS = st.sampled_from(
    ["device", "sources", "evidence", "risk_policy", "rules", "release", "templates", "x-a", "bad"]
)
DEVICE_KEYS = st.sampled_from(["name", "software_safety_class", "manufacturer", "version", "intended_use", "colour"])
VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-2, 3),
    st.sampled_from(["", "A", "C", "D", "error", "off", "fatal", "AAR", "ARX", "T101", "Z999", "items"]),
)
ANY_VALUE = st.recursive(
    VALUES,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["level", "name", "T101", "Z9", "x-b", "previous"]), inner, max_size=3)
    ),
    max_leaves=6,
)
LEVELS = st.lists(
    st.fixed_dictionaries(
        {"level": st.integers(0, 3), "name": st.sampled_from(["", "Low", "High"])},
        optional={"description": VALUES, "extra": VALUES},
    ),
    max_size=3,
)
CONFIGS = st.fixed_dictionaries(
    {},
    optional={
        "device": st.dictionaries(DEVICE_KEYS, VALUES, max_size=4) | VALUES,
        "sources": st.lists(VALUES, max_size=2) | VALUES,
        "risk_policy": st.fixed_dictionaries(
            {},
            optional={
                "severity": LEVELS,
                "probability": LEVELS,
                "acceptability": st.lists(VALUES, max_size=2),
                "other": VALUES,
            },
        ),
        "rules": st.dictionaries(st.sampled_from([*sorted(RULES)[:4], "Z999"]), VALUES, max_size=3),
        "release": ANY_VALUE,
        "templates": VALUES,
        "x-a": ANY_VALUE,
        "bad": ANY_VALUE,
    },
)


@settings(max_examples=300, deadline=None)
@given(CONFIGS)
def test_project_validation_agrees_with_jsonschema(config: dict[str, Any]) -> None:
    ours = validate(config, project_schema())
    reference = schema_errors(PROJECT, config)
    assert bool(ours) == bool(reference), (ours, reference)
    for path, message in ours:
        assert message and "\n" not in message
        node: Any = config
        for part in path:  # every issue points at a value that exists
            node = node[part]


def test_validation_refuses_a_schema_keyword_it_does_not_implement() -> None:
    with pytest.raises(UnsupportedSchema, match="uniqueItems"):
        validate([1, 1], {"type": "array", "uniqueItems": True})


def test_project_schema_lists_every_rule_code() -> None:
    assert project_schema()["properties"]["rules"]["propertyNames"]["enum"] == sorted(RULES)
    assert json.loads(schema_text(project_schema())) == project_schema()
