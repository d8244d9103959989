"""Fuzzing the JUnit reader: random, generated and mutated result files never raise, give only Q001
findings, read in bounded time (the profile's deadline) and write nothing."""

from __future__ import annotations

import email.utils
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pytest
from conftest import MINIMAL_CONFIG, invoke_qms, write_files
from hypothesis import given
from hypothesis import strategies as st

from qms.evidence import Evidence, Outcome, read_results, timestamp_instant
from qms.project import load_project
from qms.resultid import evidence_key, is_blank

pytestmark = pytest.mark.fuzz

JUNIT = Path(__file__).parent / "fixtures" / "junit"
SAMPLES = sorted(path for path in JUNIT.rglob("*.xml"))

TAGS = (
    "testsuites", "testsuite", "testcase", "failure", "error", "skipped", "properties", "property",
    "system-out", "system-err", "rerunFailure", "flakyFailure", "flakyError", "rerunError", "other",
)  # fmt: skip
ATTRIBUTES = ("name", "classname", "timestamp", "time", "status", "result", "message", "type", "value", "tests")
VALUES = (
    "", " ", "::", ".py", "/.py", "a::b", "a.b", "t[1]", "[", "skipped", "suppressed", "notrun", "disabled", "run",
    "completed", "verifies", "SWR-1, TST-1", "nan", "inf", "-1", "1e309", "9" * 40, "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59-23:59", "Sat, 03 Dec 2022 23:10:07 GMT", "26 Jun 2018 13:51:32 GMT",
    "2021-03-07T10:36:56 UTC", "1670108407000", "253402300800000", "Mon, 99 Foo 99999 99:99:99 +9999",
)  # fmt: skip

values = st.one_of(st.sampled_from(VALUES), st.text(max_size=24))
attributes = st.dictionaries(st.sampled_from(ATTRIBUTES), values, max_size=5)


def _element(tag: str, attrs: dict[str, str], text: str, children: list[str]) -> str:
    written = "".join(f" {name}={quoteattr(value)}" for name, value in attrs.items())
    return f"<{tag}{written}>{escape(text)}{''.join(children)}</{tag}>"


elements = st.recursive(
    st.builds(_element, st.sampled_from(TAGS), attributes, values, st.just([])),
    lambda children: st.builds(_element, st.sampled_from(TAGS), attributes, values, st.lists(children, max_size=5)),
    max_leaves=15,
)
documents = st.builds(
    _element, st.sampled_from(("testsuites", "testsuite", "testsuite", "other")), attributes, values,
    st.lists(elements, max_size=6),
)  # fmt: skip
ENCODINGS = ("utf-8", "utf-16", "utf-16-le", "latin-1", "ascii", "koi8-r", "no-such-encoding")


@contextmanager
def _folder() -> Iterator[Path]:
    """A fresh folder, checked to hold only what the test put there when the test is done."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        yield folder
        assert sorted(path.name for path in folder.iterdir()) == ["run.xml"]


def _read(content: bytes) -> None:
    with _folder() as folder:
        path = folder / "run.xml"
        path.write_bytes(content)
        before = path.stat().st_mtime_ns
        cases, findings = read_results(path, "reports/run.xml")
        assert path.stat().st_mtime_ns == before
    assert all(finding.rule == "Q001" and finding.location.file == "reports/run.xml" for finding in findings)
    for case in cases:
        assert case.outcome in Outcome and case.file == "reports/run.xml"
        assert case.at is None or case.at.tzinfo is UTC


@given(st.binary(max_size=2000))
def test_random_bytes(content: bytes) -> None:
    _read(content)


@given(documents, st.sampled_from(ENCODINGS), st.sampled_from(ENCODINGS), st.booleans())
def test_generated_result_files(document: str, declared: str, actual: str, declare: bool) -> None:
    head = f'<?xml version="1.0" encoding="{declared}"?>\n' if declare else ""
    try:
        content = (head + document).encode(actual, errors="xmlcharrefreplace")
    except LookupError:
        content = (head + document).encode("utf-8")
    _read(content)


@given(
    st.sampled_from(SAMPLES),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 40), st.binary(max_size=12)), min_size=1, max_size=6),
)
def test_mutated_samples(sample: Path, mutations: list[tuple[int, int, bytes]]) -> None:
    content = bytearray(sample.read_bytes())
    for position, deleted, inserted in mutations:
        at = position % (len(content) + 1)
        content[at : at + deleted] = inserted
    _read(bytes(content))


@given(st.text(max_size=60))
def test_any_timestamp_text_reads_or_is_none(text: str) -> None:
    instant = timestamp_instant(text)
    assert instant is None or instant.tzinfo is UTC


# From 1974 on, epoch milliseconds (10**11 and more) cannot be mistaken for epoch seconds, which
# reach 10**11 only in the year 5138.
@given(st.datetimes(min_value=datetime(1974, 1, 1), max_value=datetime(9999, 1, 1)))
def test_timestamps_read_back_in_every_form(moment: datetime) -> None:
    moment = moment.replace(microsecond=0, tzinfo=UTC)
    written = (
        moment.isoformat(),
        moment.replace(tzinfo=None).isoformat() + " UTC",
        email.utils.format_datetime(moment, usegmt=True),
        str(int(moment.timestamp() * 1000)),
        *([str(int(moment.timestamp()))] if moment.year < 5138 else []),
    )
    assert [timestamp_instant(text) for text in written] == [moment] * len(written)


@pytest.fixture(scope="module")
def project_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    items = "kind: test\nitems:\n  - id: TST-1\n    title: T\n    method: test\n    evidence: [a.b]\n"
    root = tmp_path_factory.mktemp("fuzz-project")
    return write_files(root, {"qms.yaml": MINIMAL_CONFIG.format(safety_class="C"), "items/tests.yaml": items})


@given(document=documents, entries=st.lists(st.one_of(st.sampled_from(VALUES), st.text(max_size=12)), max_size=8))
def test_blank_entries_never_match_and_every_read_case_is_matchable(
    project_root: Path, document: str, entries: list[str]
) -> None:
    with _folder() as folder:
        path = folder / "run.xml"
        path.write_text(document, encoding="utf-8")
        cases, _ = read_results(path, "run.xml")
    evidence = Evidence(load_project(project_root), ["run.xml"], cases)
    for entry in entries:
        if is_blank(evidence_key(entry)):
            assert evidence.match(entry) == ()
    for case in cases:
        if not is_blank(case.case_id):
            assert case in evidence.match(case.case_id)


@given(documents)
def test_qms_check_reads_any_result_file_without_a_traceback(project_root: Path, document: str) -> None:
    with _folder() as folder:
        path = folder / "run.xml"
        path.write_text(document, encoding="utf-8")
        before = sorted(os.listdir(project_root))
        # an exception fails the test; without the parse cache, reading results must write nothing
        result = invoke_qms("check", "--no-cache", "--results", path, cwd=project_root)
        assert result.exit_code in (0, 1), result.output
        assert sorted(os.listdir(project_root)) == before
