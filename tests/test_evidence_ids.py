"""Result ids read the same on both sides: nextest's ``crate::binary``, titles ending in a space,
and blank ``evidence:`` entries, which are refused and match nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from evidence_support import JUNIT, project_with_evidence, read_evidence
from hypothesis import given
from hypothesis import strategies as st

from qms.evidence import Outcome
from qms.resultid import evidence_key, result_key
from qms.status import Status, compute_statuses

F = Outcome.FAILED


# ------------------------------------------------------------------------- ids both sides


names = st.text(alphabet=st.sampled_from("ab:./[] \t_-"), max_size=12)


@given(classname=names, name=names)
def test_an_entry_written_as_the_runner_wrote_it_names_the_result(classname: str, name: str) -> None:
    written = f"{classname}::{name}" if classname.strip() and classname != name else name
    assert evidence_key(written) == result_key(classname, name)


@pytest.mark.parametrize(
    ("entry", "matched"),
    [
        ("aid-controller::dosing::max_iob_is_respected", ["aid-controller.dosing.max_iob_is_respected"]),
        ("aid-controller.dosing.max_iob_is_respected", ["aid-controller.dosing.max_iob_is_respected"]),
        (
            "aid-controller::dosing",
            ["aid-controller.dosing.max_temp_basal", "aid-controller.dosing.max_iob_is_respected"],
        ),
        (
            "aid-controller::limits::tests::max_temp_basal_is_lowest_term",
            ["aid-controller.limits.tests.max_temp_basal_is_lowest_term"],
        ),
        ("aid-controller::dosing::max_iob", []),
    ],
)
def test_nextest_ids_are_named_by_entries(make_project: Callable[..., Path], entry: str, matched: list[str]) -> None:
    evidence = read_evidence(project_with_evidence(make_project, "x"), JUNIT / "nextest.xml")
    assert [case.case_id for case in evidence.match(entry)] == matched


def test_titles_ending_in_a_space_are_matched(make_project: Callable[..., Path], tmp_path: Path) -> None:
    jest = tmp_path / "jest.xml"  # jest-junit's default: classname and name both the full title
    title = "Dose limits max IOB is respected "
    jest.write_text(
        f'<testsuites><testsuite name="Dose limits"><testcase classname="{title}" name="{title}">'
        '<failure message="expected 5 to be at most 4"/></testcase></testsuite></testsuites>',
        encoding="utf-8",
    )
    root = project_with_evidence(make_project, f'"{title}"', "Dose limits max IOB is respected")
    evidence = read_evidence(root, jest, JUNIT / "mocha-junit-reporter.xml")
    assert [case.name for case in evidence.match(f"{title}")] == [title]
    status = compute_statuses(evidence.project, evidence).of("TST-1")
    assert status is not None and status.status is Status.FAILED and status.missing == ()
    mocha = evidence.match("max IOB is respected ::Dose limits max IOB is respected ")
    assert [(case.classname, case.outcome) for case in mocha] == [("max IOB is respected ", F)]


# ------------------------------------------------------------------ blank evidence entries


BLANK_ENTRIES = ['"::"', '".py"', '"  "', '""', '"/.py"', '" :: "']


def test_blank_evidence_entries_are_q002_at_their_place(
    make_project: Callable[..., Path], run_qms: Callable[..., Result]
) -> None:
    root = project_with_evidence(make_project, *BLANK_ENTRIES, "tests/test_a.py::test_x")
    result = run_qms("check", "--format", "json", cwd=root)
    found = [(f["rule"], f["line"], f["message"]) for f in json.loads(result.output)["findings"]]
    q002 = [(line, message) for rule, line, message in found if rule == "Q002"]
    assert [line for line, _ in q002] == [8, 9, 10, 11, 12, 13]  # each at its own line
    assert q002[0][1].startswith("evidence entry '::' names no test result")
    assert q002[3][1] == "each entry of evidence must be text"


def test_a_blank_entry_never_passes_a_test_on_an_unrelated_result(
    make_project: Callable[..., Path], tmp_path: Path
) -> None:
    results = tmp_path / "ctest.xml"  # CTest-like: no classname at all
    results.write_text(
        '<testsuite name="ctest"><testcase name="unrelated"/><testcase name="[1]"/></testsuite>', encoding="utf-8"
    )
    evidence = read_evidence(project_with_evidence(make_project, "tests/test_a.py::test_x"), results)
    for entry in ("::", ".py", "  ", "", "/.py", " :: ", "[", "."):
        assert evidence.match(entry) == (), entry
    # a result without a classname is named only by its own name: no family, no prefix
    assert [case.name for case in evidence.match("unrelated")] == ["unrelated"]
    assert [case.name for case in evidence.match("[1]")] == ["[1]"]
