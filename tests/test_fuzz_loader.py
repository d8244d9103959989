"""Fuzzing the loader and ``qms.yaml``: whatever the bytes, the result is findings, never a traceback.

Inputs: random bytes, text assembled from YAML's own tokens (tags, anchors, flow and block
collections, odd line breaks), deep nesting, huge scalars (numbers past Python's digit limit,
sexagesimal runs) and odd Unicode. Each example runs through the real loader (item files) or
the whole check (``qms.yaml`` in a project folder); the profile's deadline bounds its time, and
the project folder must hold exactly the files written into it afterwards.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qms.checking import check_project
from qms.loading import read_items
from qms.project import load_project
from qms.risk import DEFAULT_POLICY
from qms.yamlfile import parse_bytes

pytestmark = pytest.mark.fuzz

PATH = "items/fuzz.yaml"
NEED = "kind: need\nitems:\n  - id: NEED-1\n    title: t\n    text: t\n"
CONFIG = "device: {name: D, software_safety_class: C}\nsources: [items]\n"

#: pieces of YAML that exercise the parser's and the converter's corners
TOKENS = [
    "kind: need\n", "items:\n", "  - id: ", "NEED-1", "SWR-1", "\n", "    ", "  ", "title: ", "text: ",
    "derives_from: ", "severity: ", "probability: ", "residual: ", "x-n: ", "sources: ", "evidence: ",
    "device: ", "name: ", "software_safety_class: ", "risk_policy: ", "acceptability: ", "rules: ",
    "allow_outside: ", "level: ", "[", "]", "{", "}", ", ", ": ", "- ", "? ", "&a ", "*a", "&b ", "*b",
    "!!int ", "!!float ", "!!bool ", "!!null ", "!!str ", "!!timestamp ", "!!binary ", "!!set ", "!!omap ",
    "!!python/object:os.system ", "!local ", "<<: ", "---\n", "...\n", "|\n", ">-\n", "|+2\n", '"', "'",
    "# c\n", "1:1:1", "0x1F", "0b101", "0o17", "1e+3", ".inf", "-.nan", "~", "null", "yes", "off", "2026-12-02",
    "\u2028", "\u2029", "\x85", "\ufeff", "\t", "\r\n", "\\", "\\e", "\\x9b", "\\u202e", "%YAML 1.1\n", "%TAG ! !x\n",
    "..", "/etc/passwd", "**", "*.yaml", "\U0001f600", "\u0301", "\ud7ff", "A", "R", "U", "AARRU", "C", "0", "3",
]  # fmt: skip
YAMLISH = st.lists(st.one_of(st.sampled_from(TOKENS), st.text(max_size=4)), max_size=60).map("".join)


@st.composite
def huge_scalars(draw: st.DrawFn) -> str:
    """A long number-like or odd scalar in a field or list: past every size a converter handles cheaply."""
    unit = draw(st.sampled_from(["1", "9", "1:", "1:1", "0x", "0.", "1e+", "-", "_", "é", "\u202e", " ", "'", "\\"]))
    body = unit * draw(st.integers(min_value=100, max_value=60_000))
    key = draw(st.sampled_from(["x-n", "title", "severity", "derives_from", "id", "level"]))
    shape = draw(
        st.sampled_from(["{key}: {body}\n", "{key}: [{body}]\n", '{key}: "{body}"\n', "{key}: !!int {body}\n"])
    )
    return NEED + "    " + shape.format(key=key, body=body)


@st.composite
def deep_nesting(draw: st.DrawFn) -> str:
    depth = draw(st.integers(min_value=50, max_value=5_000))
    opener, closer = draw(st.sampled_from([("[", "]"), ("{a: ", "}"), ("- ", ""), ("? ", "")]))
    closed = draw(st.booleans())
    return NEED + "    x-deep: " + opener * depth + "1" + (closer * depth if closed else "") + "\n"


def load_item_file(data: bytes) -> None:
    """The loader's contract: items and findings, every finding a loader code inside the file."""
    document = parse_bytes(data, PATH)
    items = read_items(document, DEFAULT_POLICY)
    for finding in document.findings:
        assert finding.rule in {"Q001", "Q002", "Q004"}, finding
        assert finding.location.file == PATH and finding.location.line >= 1 and finding.location.column >= 1
    for item in items:
        assert item.file == PATH


@given(st.binary(max_size=2_000))
def test_random_bytes(data: bytes) -> None:
    load_item_file(data)


@given(YAMLISH)
def test_yaml_ish_text(text: str) -> None:
    load_item_file(text.encode("utf-8", "surrogatepass"))


@given(st.one_of(huge_scalars(), deep_nesting()))
def test_huge_scalars_and_deep_nesting(text: str) -> None:
    load_item_file(text.encode("utf-8", "surrogatepass"))


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_odd_unicode_in_a_text_field(text: str) -> None:
    quoted = '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
    load_item_file((NEED + f"    x-u: {quoted}\n    rationale: {text}\n").encode("utf-8", "surrogatepass"))


def check_config(config: bytes) -> None:
    """``qms.yaml`` of ``config`` beside a valid item file: loaded and checked; only findings, nothing written."""
    with tempfile.TemporaryDirectory(prefix="qms-fuzz-") as folder:
        root = Path(folder) / "project"
        (root / "items").mkdir(parents=True)
        (root / "items" / "needs.yaml").write_text(NEED, encoding="utf-8")
        (root / "qms.yaml").write_bytes(config)
        before = sorted(Path(folder).rglob("*"))
        findings = check_project(load_project(root))
        assert all(finding.rule and finding.message for finding in findings)
        assert sorted(Path(folder).rglob("*")) == before


@given(YAMLISH)
def test_project_file_from_yaml_ish_text(text: str) -> None:
    check_config(text.encode("utf-8", "surrogatepass"))


@given(YAMLISH)
def test_project_file_fields_with_yaml_ish_values(text: str) -> None:
    check_config((CONFIG + text).encode("utf-8", "surrogatepass"))


@given(st.binary(max_size=1_000))
def test_project_file_from_random_bytes(data: bytes) -> None:
    check_config(data)


@given(huge_scalars())
def test_project_file_with_huge_scalars(text: str) -> None:
    body = text[len(NEED) + 4 :]
    check_config((CONFIG + body).encode("utf-8", "surrogatepass"))
