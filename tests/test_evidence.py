"""Verification evidence: reading JUnit XML from each runner, matching ids, newest result, statuses."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from qms.evidence import (
    Evidence,
    Outcome,
    evidence_key,
    load_evidence,
    read_results,
    result_files,
)
from qms.project import load_project
from qms.status import Status, compute_statuses

JUNIT = Path(__file__).parent / "fixtures" / "junit"
P, F, E, S = Outcome.PASSED, Outcome.FAILED, Outcome.ERROR, Outcome.SKIPPED

PROJECT = {
    "items/requirements.yaml": """\
kind: software_requirement
items:
  - id: SWR-1
    title: Maximum temporary basal
    text: The maximum temporary basal rate shall be the lowest of four limits.
    derived: example
  - id: SWR-2
    title: Round down
    text: Rates shall be rounded down.
    derived: example
  - id: SWR-3
    title: Maximum insulin on board
    text: Insulin on board shall not exceed its maximum.
    derived: example
  - id: SWR-4
    title: Pump hardware
    text: The pump shall be checked on the bench.
    derived: example
  - id: SWR-5
    title: Nothing run
    text: Not yet tested.
    derived: example
""",
    "items/tests.yaml": """\
kind: test
items:
  - id: TST-1
    title: Maximum temporary basal
    method: test
    verifies: [SWR-1]
    evidence: [tests/test_dosing.py::test_max_basal_limit]
  - id: TST-2
    title: Rounding
    method: test
    verifies: [SWR-2]
    evidence: [tests/test_dosing.py::test_round_down]
  - id: TST-3
    title: Maximum insulin on board
    method: test
    verifies: [SWR-3]
    evidence: [tests.test_dosing.TestMaxIob]
  - id: TST-4
    title: Bench
    method: test
    verifies: [SWR-4]
    evidence: ["tests.test_dosing::test_pump_hardware"]
  - id: TST-5
    title: Half run
    method: test
    verifies: [SWR-1]
    evidence: [tests/test_dosing.py::test_max_basal_limit, tests/test_dosing.py::test_not_written_yet]
  - id: TST-6
    title: Inspection
    method: inspection
    verifies: [SWR-5]
""",
}


@pytest.fixture
def project(make_project: Callable[..., Path]) -> Path:
    return make_project(PROJECT)


def _outcomes(name: str) -> dict[str, Outcome]:
    cases, findings = read_results(JUNIT / name, name)
    assert findings == []
    return {case.case_id: case.outcome for case in cases}


# ------------------------------------------------------------------------- runner dialects

RUNNERS = {
    "pytest.xml": {
        "tests.test_dosing.test_max_basal_limit": P,
        "tests.test_dosing.test_round_down[1.049-1.0]": P,
        "tests.test_dosing.test_round_down[2.349-2.3]": P,
        "tests.test_dosing.TestMaxIob.test_room_under_max_iob": F,
        "tests.test_dosing.TestMaxIob.test_recorded_by_hand": P,
        "tests.test_dosing.test_lost_acknowledgement": E,
        "tests.test_dosing.test_pump_hardware": S,
        "tests.test_dosing.test_known_anomaly": S,  # xfail
    },
    "surefire-junit5.xml": {
        "org.example.aid.DoseLimitsTest.maxIob": F,
        "org.example.aid.DoseLimitsTest.roundsDown(double, double)[1]": P,
        "org.example.aid.DoseLimitsTest.roundsDown(double, double)[2]": P,
        "org.example.aid.DoseLimitsTest.maxTempBasalIsLowestTerm": P,
        "org.example.aid.DoseLimitsTest.pumpHardware": S,
        "org.example.aid.DoseLimitsTest.journalUnavailable": E,
    },
    "surefire-junit4.xml": {
        "org.example.aid.PumpDriverTest.commandIdsIncreaseByOne": P,
        "org.example.aid.PumpDriverTest.bolusIsNeverRetried": F,
        "org.example.aid.PumpDriverTest.lostAckEntersUncertainState": P,  # flaky: passed on rerun
        "org.example.aid.PumpDriverTest.roundsDown[0]": P,
        "org.example.aid.PumpDriverTest.roundsDown[1]": P,
        "org.example.aid.PumpDriverTest.pumpOnTheBench": S,
    },
    "jest-junit.xml": {
        "Dose limits max temp basal is the lowest term": P,
        "Dose limits rounds 1.049 down to 1": P,
        "Dose limits rounds 2.349 down to 2.3": P,
        "Dose limits insulin on board max IOB is respected": F,
        "Dose limits pump hardware on the bench": S,
    },
    "vitest.xml": {
        "src/limits.test.js.Dose limits > max temp basal is the lowest term": P,
        "src/limits.test.js.Dose limits > rounds %p down to %p": P,
        "src/limits.test.js.Dose limits > insulin on board > max IOB is respected": F,
        "src/limits.test.js.Dose limits > pump hardware on the bench": S,
    },
    "ctest.xml": {"max_temp_basal": P, "round_down": P, "max_iob": F, "pump_hardware": S, "flaky_link": S},
    "go-junit-report.xml": {
        "example.org/aid/limits.TestMaxTempBasal": P,
        "example.org/aid/limits.TestMaxIOB": F,
        "example.org/aid/limits.TestMaxIOB/room_0.5_U": F,
        "example.org/aid/limits.TestMaxIOB/room_4_U": P,
        "example.org/aid/pump.TestCommandIDs": P,
        "example.org/aid/pump.TestPumpOnTheBench": S,
    },
}


@pytest.mark.parametrize("name", sorted(RUNNERS))
def test_every_runner_dialect_reads_with_ids_and_outcomes(name: str) -> None:
    assert _outcomes(name) == RUNNERS[name]


def test_case_details_from_the_file() -> None:
    cases, _ = read_results(JUNIT / "pytest.xml", "reports/pytest.xml")
    failed = next(case for case in cases if case.outcome is F)
    assert (failed.name, failed.classname, failed.message) == (
        "test_room_under_max_iob",
        "tests.test_dosing.TestMaxIob",
        "assert (3.5 + 1.5) <= 4.0",
    )
    assert failed.verifies == ("TST-U017", "SWR-018")
    assert (failed.file, failed.timestamp, failed.time) == (
        "reports/pytest.xml",
        "2026-11-29T02:05:09.351329+00:00",
        0.002,
    )
    skipped = next(case for case in cases if case.name == "test_pump_hardware")
    assert (skipped.verifies, skipped.message) == (("TST-U030",), "needs the pump on the bench")
    ctest, _ = read_results(JUNIT / "ctest.xml", "ctest.xml")
    assert {case.name: (case.message, case.line) for case in ctest if case.outcome is not P} == {
        "max_iob": ("iob after 5.00 exceeds 4.00", 19),  # no failure message: the output's first line
        "pump_hardware": ("SKIP_RETURN_CODE=77", 24),
        "flaky_link": ("disabled", 29),
    }


# ------------------------------------------------------------------------------ id matching


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("tests/test_dosing.py::test_max_basal_limit", "tests.test_dosing.test_max_basal_limit"),
        ("tests/test_dosing.py::TestMaxIob::test_room", "tests.test_dosing.TestMaxIob.test_room"),
        ("tests/test_dosing.py::test_round_down[1.049-1.0]", "tests.test_dosing.test_round_down[1.049-1.0]"),
        ("tests/test_dosing.py::test_x[a::b/c.py]", "tests.test_dosing.test_x[a::b/c.py]"),
        ("tests/test_dosing.py", "tests.test_dosing"),
        ("tests.test_dosing.test_max_basal_limit", "tests.test_dosing.test_max_basal_limit"),
        ("tests.test_dosing::test_max_basal_limit", "tests.test_dosing.test_max_basal_limit"),
        ("org.example.aid.DoseLimitsTest.maxIob", "org.example.aid.DoseLimitsTest.maxIob"),
        ("src/limits.test.js::Dose limits > max IOB", "src/limits.test.js.Dose limits > max IOB"),
        ("  example.org/aid/limits::TestMaxIOB/room_4_U ", "example.org/aid/limits.TestMaxIOB/room_4_U"),
    ],
)
def test_evidence_key_forms(written: str, key: str) -> None:
    assert evidence_key(written) == key


def _evidence(project: Path, *names: str) -> Evidence:
    evidence, findings = load_evidence(load_project(project), [JUNIT / name for name in names])
    assert findings == []
    return evidence


@pytest.mark.parametrize(
    ("written", "matched"),
    [
        ("tests/test_dosing.py::test_max_basal_limit", ["tests.test_dosing.test_max_basal_limit"]),
        (
            "tests/test_dosing.py::test_round_down",  # every parametrization
            ["tests.test_dosing.test_round_down[1.049-1.0]", "tests.test_dosing.test_round_down[2.349-2.3]"],
        ),
        ("tests/test_dosing.py::test_round_down[2.349-2.3]", ["tests.test_dosing.test_round_down[2.349-2.3]"]),
        (
            "tests/test_dosing.py::TestMaxIob",  # a class
            [
                "tests.test_dosing.TestMaxIob.test_room_under_max_iob",
                "tests.test_dosing.TestMaxIob.test_recorded_by_hand",
            ],
        ),
        ("tests/test_dosing.py::test_max_basal", []),  # no prefix matching inside a name
        ("tests.test_dosing.TestMaxIob::test_recorded_by_hand", ["tests.test_dosing.TestMaxIob.test_recorded_by_hand"]),
        (
            "org.example.aid.DoseLimitsTest.roundsDown",  # JUnit 5: without (argument types) and [index]
            [
                "org.example.aid.DoseLimitsTest.roundsDown(double, double)[1]",
                "org.example.aid.DoseLimitsTest.roundsDown(double, double)[2]",
            ],
        ),
        ("org.example.aid.PumpDriverTest::bolusIsNeverRetried", ["org.example.aid.PumpDriverTest.bolusIsNeverRetried"]),
        ("Dose limits insulin on board max IOB is respected", ["Dose limits insulin on board max IOB is respected"]),
        (
            "src/limits.test.js::Dose limits > rounds %p down to %p",  # Vitest: the title twice in one file
            ["src/limits.test.js.Dose limits > rounds %p down to %p"] * 2,
        ),
        ("max_iob", ["max_iob"]),  # CTest: classname is the name
        ("example.org/aid/limits.TestMaxIOB", ["example.org/aid/limits.TestMaxIOB"]),
        ("example.org/aid/limits::TestMaxIOB/room_4_U", ["example.org/aid/limits.TestMaxIOB/room_4_U"]),
        ("example.org/aid/pump", ["example.org/aid/pump.TestCommandIDs", "example.org/aid/pump.TestPumpOnTheBench"]),
    ],
)
def test_evidence_ids_match_results(project: Path, written: str, matched: list[str]) -> None:
    evidence = _evidence(project, *sorted(RUNNERS))
    assert [case.case_id for case in evidence.match(written)] == matched


# ------------------------------------------------------------------------------- statuses


def test_test_statuses(project: Path) -> None:
    statuses = compute_statuses(load_project(project), _evidence(project, "pytest.xml"))
    found = {test: statuses.of(test) for test in ("TST-1", "TST-2", "TST-3", "TST-4", "TST-5", "TST-6")}
    assert {test: entry.status for test, entry in found.items() if entry is not None} == {
        "TST-1": Status.PASSED,
        "TST-2": Status.PASSED,  # both parametrizations passed
        "TST-3": Status.FAILED,  # one case of the class failed
        "TST-4": Status.SKIPPED,
        "TST-5": Status.NOT_RUN,  # one of its two evidence ids was not run
        "TST-6": Status.NOT_RUN,  # an inspection: no automated result, no record
    }
    tst5, tst1, tst6, tst3 = found["TST-5"], found["TST-1"], found["TST-6"], found["TST-3"]
    assert tst5 is not None and tst5.missing == ("tests/test_dosing.py::test_not_written_yet",)
    assert [result.case for result in tst5.results] == ["tests.test_dosing.test_max_basal_limit"]
    assert tst1 is not None and [(result.source, result.at) for result in tst1.results] == [
        (JUNIT.joinpath("pytest.xml").as_posix(), "2026-11-29T02:05:09.351329+00:00")  # outside the project: absolute
    ]
    assert tst6 is not None and tst6.results == () and tst6.reasons == ("no test result and no execution record",)
    assert tst3 is not None
    assert [result.case for result in tst3.failures] == ["tests.test_dosing.TestMaxIob.test_room_under_max_iob"]


def test_a_requirement_takes_the_worst_status_of_its_tests(project: Path) -> None:
    statuses = compute_statuses(load_project(project), _evidence(project, "pytest.xml"))
    found = {req: statuses.status(req) for req in ("SWR-1", "SWR-2", "SWR-3", "SWR-4", "SWR-5")}
    # SWR-1: TST-1 passed but TST-5 was not run: one passing test cannot hide an unrun one
    assert found == {
        "SWR-1": Status.NOT_RUN,
        "SWR-2": Status.PASSED,
        "SWR-3": Status.FAILED,
        "SWR-4": Status.SKIPPED,
        "SWR-5": Status.NOT_RUN,
    }
    swr1 = statuses.of("SWR-1")
    assert swr1 is not None and swr1.tests == ("TST-1", "TST-5")
    assert statuses.counts("software_requirement") == {
        Status.FAILED: 1,
        Status.ERROR: 0,
        Status.STALE: 0,
        Status.NOT_RUN: 2,
        Status.SKIPPED: 1,
        Status.PASSED: 1,
    }


def test_results_naming_items_directly(make_project: Callable[..., Path]) -> None:
    root = make_project(
        {
            "items/requirements.yaml": PROJECT["items/requirements.yaml"],
            "items/tests.yaml": "kind: test\nitems:\n  - id: TST-U017\n    title: IOB\n    method: test\n"
            "    verifies: [SWR-3]\n",
        }
    )
    # pytest.xml: test_room_under_max_iob verifies TST-U017 and SWR-018 and failed;
    # test_recorded_by_hand (record_property) verifies TST-U017 and passed
    evidence = _evidence(root, "pytest.xml")
    statuses = compute_statuses(load_project(root), evidence)
    assert statuses.status("TST-U017") is Status.FAILED
    assert [case.name for case in evidence.naming("TST-U017")] == ["test_room_under_max_iob", "test_recorded_by_hand"]
    assert statuses.status("SWR-3") is Status.FAILED  # through TST-U017
    assert evidence.naming("SWR-018") and statuses.of("SWR-018") is None  # not an item of this project


# ---------------------------------------------------------------------- newest result wins


def _write(path: Path, outcome: str, timestamp: str | None) -> Path:
    stamp = f' timestamp="{timestamp}"' if timestamp else ""
    body = {"passed": "", "failed": '<failure message="boom"/>', "skipped": "<skipped/>"}[outcome]
    path.write_text(
        f'<testsuite name="s"{stamp}><testcase classname="tests.test_a" name="test_x">{body}</testcase></testsuite>',
        encoding="utf-8",
    )
    return path


@pytest.mark.parametrize(
    ("first", "second", "winner"),
    [
        (("failed", "2025-06-03T10:00:00+02:00"), ("passed", "2025-06-03T07:59:59Z"), F),  # zones compared
        (("passed", "2025-06-03T10:00:00"), ("failed", "2025-06-03T09:00:00"), P),  # no zone: UTC
        (("passed", "2025-06-03T10:00:00"), ("failed", "2025-06-03T10:00:00"), F),  # a tie: the later file
        (("failed", "2025-06-03T10:00:00"), ("passed", None), P),  # one without: the later file
        (("passed", None), ("failed", "2025-06-03T10:00:00"), F),
        (("failed", "yesterday"), ("passed", "2025-06-03T10:00:00"), P),  # unreadable stamp: as none
    ],
)
def test_newest_result_wins(
    tmp_path: Path, project: Path, first: tuple[str, str | None], second: tuple[str, str | None], winner: Outcome
) -> None:
    files = [_write(tmp_path / "a.xml", *first), _write(tmp_path / "b.xml", *second)]
    evidence, findings = load_evidence(load_project(project), files)
    assert findings == []
    assert [case.outcome for case in evidence.match("tests.test_a.test_x")] == [winner]
    assert len(evidence.cases) == 1


def test_result_files_from_globs_then_extra(make_project: Callable[..., Path], tmp_path: Path) -> None:
    config = "device: {name: D, software_safety_class: C}\nsources: [items]\nevidence: [reports/*.xml, more/**/*.xml]\n"
    root = make_project({"qms.yaml": config, "items/none.yaml": "kind: test\nitems: []\n"})
    for name in ("reports/b.xml", "reports/a.xml", "more/deep/c.xml", "reports/notes.txt"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        _write(root / name, "passed", None)
    extra = _write(tmp_path / "extra.xml", "passed", None)
    files = result_files(load_project(root), [extra, root / "reports" / "a.xml"])
    assert [path.resolve() for path in files] == [
        root / "reports/a.xml",
        root / "reports/b.xml",
        root / "more/deep/c.xml",
        extra,
    ]
    evidence, _ = load_evidence(load_project(root), [extra])
    assert evidence.files == ("reports/a.xml", "reports/b.xml", "more/deep/c.xml", extra.as_posix())


# --------------------------------------------------------------------------- untrusted XML


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        (b"", 1, "not well-formed XML: no element found; fix or regenerate the result file"),
        (
            b'<?xml version="1.0"?>\n<testsuites>\n  <testsuite>\n</testsuites>\n',
            4,
            "not well-formed XML: mismatched tag; fix or regenerate the result file",
        ),
        (
            b'<?xml version="1.0"?>\n<!DOCTYPE t [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]>\n<t>&b;</t>',
            2,
            "the result file holds a DOCTYPE declaration: JUnit XML needs none, and qms neither loads nor expands "
            "them (a guard against entity expansion attacks); regenerate the file with the test runner",
        ),
        (
            b"<testsuites><testsuite><testcase name='&nbsp;'/></testsuite></testsuites>",
            1,
            "not well-formed XML: undefined entity; fix or regenerate the result file",
        ),
        (
            b'<?xml version="1.0" encoding="latin-1"?>\n<html/>',
            2,
            "not a JUnit XML result file: the root element is <html>, expected <testsuites> or <testsuite>",
        ),
    ],
    ids=["empty", "mismatched", "entity-bomb", "undefined-entity", "not-junit"],
)
def test_untrusted_xml_gives_a_finding_with_its_line(tmp_path: Path, content: bytes, line: int, message: str) -> None:
    path = tmp_path / "bad.xml"
    path.write_bytes(content)
    cases, findings = read_results(path, "reports/bad.xml")
    assert cases == []
    assert [(f.rule, f.location.file, f.location.line, f.message) for f in findings] == [
        ("Q001", "reports/bad.xml", line, message)
    ]


def test_unreadable_file_gives_a_finding(tmp_path: Path) -> None:
    folder = tmp_path / "reports.xml"
    folder.mkdir()  # a folder where a file was expected
    _, findings = read_results(folder, "reports.xml")
    assert [(f.rule, f.location.line) for f in findings] == [("Q001", 0)]
    assert findings[0].message.startswith("cannot read the result file: ")


def test_utf16_result_file_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "utf16.xml"
    text = '<?xml version="1.0" encoding="UTF-16"?>\n<testsuite><testcase classname="c" name="tëst"/></testsuite>'
    path.write_bytes(text.encode("utf-16"))
    cases, findings = read_results(path, "utf16.xml")
    assert findings == [] and [case.case_id for case in cases] == ["c.tëst"]


def test_nested_suites_inherit_the_timestamp(tmp_path: Path) -> None:
    path = tmp_path / "nested.xml"
    path.write_text(
        '<testsuites timestamp="2025-01-01T00:00:00Z"><testsuite name="outer">'
        '<testsuite name="inner" timestamp="2025-02-02T00:00:00Z"><testcase classname="c" name="deep"/></testsuite>'
        '<testcase classname="c" name="shallow" time="abc"/></testsuite></testsuites>',
        encoding="utf-8",
    )
    cases, _ = read_results(path, "nested.xml")
    assert [(case.name, case.timestamp, case.time) for case in cases] == [
        ("shallow", "2025-01-01T00:00:00Z", None),  # an unreadable time is left out
        ("deep", "2025-02-02T00:00:00Z", None),
    ]
