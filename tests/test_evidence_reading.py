"""Reading JUnit results right: GoogleTest skips, suite-level errors, timestamp forms, and the
size and memory bounds."""

from __future__ import annotations

import os
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from evidence_support import JUNIT, project_with_evidence, read_evidence

from qms import evidence as evidence_module
from qms.evidence import MAX_RESULT_FILE_BYTES, Outcome, read_results
from qms.status import Status, compute_statuses

P, F, E, S = Outcome.PASSED, Outcome.FAILED, Outcome.ERROR, Outcome.SKIPPED


def _read(tmp_path: Path, xml: str, name: str = "run.xml") -> list[tuple[str, Outcome, str]]:
    path = tmp_path / name
    path.write_text(xml, encoding="utf-8")
    cases, findings = read_results(path, name)
    assert findings == []
    return [(case.case_id, case.outcome, case.message) for case in cases]


# ----------------------------------------------------------------------------- GoogleTest


@pytest.mark.parametrize(
    ("attributes", "child", "outcome", "message"),
    [
        ('status="run" result="skipped"', "", S, ""),  # GoogleTest 1.10: GTEST_SKIP, no <skipped>
        ('status="run" result="suppressed"', "", S, "suppressed"),
        ('status="notrun" result="suppressed"', "", S, "notrun"),  # DISABLED_
        ('status="run" result="completed"', "", P, ""),
        # GoogleTest 1.11 on: the <skipped> element too
        (
            'status="run" result="skipped"',
            '<skipped message="t.cpp:5&#x0A;not yet"><![CDATA[t.cpp:5]]></skipped>',
            S,
            "t.cpp:5",
        ),
        ('status="run" result="completed"', '<failure message="t.cpp:3&#x0A;Expected" type=""/>', F, "t.cpp:3"),
    ],
)
def test_googletest_outcomes(tmp_path: Path, attributes: str, child: str, outcome: Outcome, message: str) -> None:
    xml = (
        '<testsuites name="AllTests"><testsuite name="Rectangle">'
        f'<testcase name="Area" {attributes} time="0" classname="Rectangle">{child}</testcase>'
        "</testsuite></testsuites>"
    )
    assert _read(tmp_path, xml) == [("Rectangle.Area", outcome, message)]


def test_a_googletest_skip_does_not_verify_a_requirement(make_project: Callable[..., Path]) -> None:
    root = project_with_evidence(make_project, "DoseLimits.PumpOnTheBench")
    evidence = read_evidence(root, JUNIT / "googletest-1.10.xml")
    statuses = compute_statuses(evidence.project, evidence)
    assert statuses.status("TST-1") is Status.SKIPPED
    assert statuses.status("SWR-1") is Status.SKIPPED


# ------------------------------------------------------------------- suite-level failures


def test_a_class_that_failed_to_load_is_one_errored_case_with_its_message(make_project: Callable[..., Path]) -> None:
    cases, findings = read_results(JUNIT / "ant-class-load-error.xml", "TEST-AlarmTest.xml")
    assert findings == []
    assert [(c.case_id, c.classname, c.outcome, c.message, c.line) for c in cases] == [
        ("org.example.aid.AlarmTest", "org.example.aid.AlarmTest", E, "org/example/aid/AlarmSink", 7)
    ]
    assert cases[0].timestamp == "2018-06-26T13:51:32"
    for entry in ("org.example.aid.AlarmTest", "org.example.aid"):  # the class, its package
        root = project_with_evidence(make_project, entry, name=entry)
        evidence = read_evidence(root, JUNIT / "ant-class-load-error.xml")
        assert compute_statuses(evidence.project, evidence).status("TST-1") is Status.ERROR, entry  # not "not run"


SUITE_PROBLEM = """\
<testsuites>
  <testsuite name="org.example.aid.PumpDriverTest" tests="3" errors="1">
    <testcase classname="org.example.aid.PumpDriverTest" name="commandIds" time="0.1"/>
    <testcase classname="org.example.aid.PumpDriverTest" name="bolus"><failure message="retried"/></testcase>
    <testcase classname="org.example.aid.PumpDriverTest" name="bench"><skipped/></testcase>
    {problem}
  </testsuite>
  <testsuite name="org.example.aid.UnitsTest" tests="1">
    <testcase classname="org.example.aid.UnitsTest" name="roundsDown"/>
  </testsuite>
</testsuites>
"""


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        (
            '<error message="port closed" type="java.io.IOException">java.io.IOException: port closed</error>',
            [E, F, E],  # the case that failed stays failed
        ),
        ('<failure message="teardown left the pump running"/>', [F, F, F]),
    ],
)
def test_a_suite_level_problem_counts_against_every_case_of_its_suite(
    tmp_path: Path, problem: str, expected: list[Outcome]
) -> None:
    read = _read(tmp_path, SUITE_PROBLEM.format(problem=problem))
    assert [outcome for _, outcome, _ in read] == [*expected, P]  # the next suite is untouched
    what = "error" if expected[0] is E else "failure"
    reason = "port closed" if expected[0] is E else "teardown left the pump running"
    assert read[0][2] == f"{what} of suite org.example.aid.PumpDriverTest: {reason}"
    assert read[1][2] == "retried"  # a case's own failure is kept


def test_a_suite_without_name_or_cases_still_counts(tmp_path: Path) -> None:
    read = _read(tmp_path, '<testsuites><testsuite tests="1" errors="1"><error type="Boom"/></testsuite></testsuites>')
    assert read == [("", E, "Boom")]  # counted in the summary, matched by no entry


# ----------------------------------------------------------------------------- timestamps


@pytest.mark.parametrize(
    ("name", "instant"),
    [
        ("gmt-date.xml", datetime(2018, 6, 26, 13, 51, 32, tzinfo=UTC)),
        ("rfc1123.xml", datetime(2022, 12, 3, 23, 10, 7, tzinfo=UTC)),
        ("iso-utc-name.xml", datetime(2021, 3, 7, 10, 36, 56, tzinfo=UTC)),
        ("epoch-milliseconds.xml", datetime(2022, 12, 3, 23, 0, 7, tzinfo=UTC)),
    ],
)
def test_timestamp_forms_are_read(name: str, instant: datetime) -> None:
    cases, findings = read_results(JUNIT / "timestamps" / name, name)
    assert findings == []
    assert [case.at for case in cases] == [instant]


@pytest.mark.parametrize("stamp", ["yesterday", "31 Feb 2021 10:00:00 GMT", "99999999999999999"])
def test_an_unreadable_timestamp_is_reported_and_its_results_kept(tmp_path: Path, stamp: str) -> None:
    path = tmp_path / "run.xml"
    path.write_text(
        f'<testsuites>\n  <testsuite name="s" timestamp="{stamp}">\n    <testcase classname="c" name="a"/>\n'
        f'  </testsuite>\n  <testsuite name="t" timestamp="{stamp}"><testcase classname="c" name="b"/></testsuite>\n'
        "</testsuites>\n",
        encoding="utf-8",
    )
    cases, findings = read_results(path, "reports/run.xml")
    assert [(case.case_id, case.outcome, case.timestamp, case.at) for case in cases] == [
        ("c.a", P, stamp, None),
        ("c.b", P, stamp, None),
    ]
    assert [(f.rule, str(f.location)) for f in findings] == [("Q001", "reports/run.xml:2:3")]  # once per value
    assert findings[0].message.startswith(f"timestamp '{stamp}' is not a date and time qms reads")


# ------------------------------------------------------------------------- size and memory


def test_a_result_file_over_the_limit_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.xml"
    with path.open("wb") as stream:  # sparse: costs no disk, and would be all NULs if read
        stream.truncate(MAX_RESULT_FILE_BYTES + 1)
    cases, findings = read_results(path, "reports/huge.xml")
    assert cases == []
    assert [(f.rule, str(f.location)) for f in findings] == [("Q001", "reports/huge.xml")]
    assert findings[0].message.startswith("the result file is 50.0 MB, more than the 50 MB qms reads from one file")
    assert "split the test run into several result files" in findings[0].message


def test_a_file_growing_past_the_limit_while_read_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "run.xml"
    path.write_text("<testsuite>" + "<testcase name='a'/>" * 10_000 + "</testsuite>", encoding="utf-8")
    real_stat = Path.stat

    def small(self: Path, *, follow_symlinks: bool = True) -> os.stat_result:
        info = real_stat(self, follow_symlinks=follow_symlinks)
        return os.stat_result((info.st_mode, *info[1:6], 10, *info[7:]))  # reports 10 bytes

    monkeypatch.setattr(Path, "stat", small)
    monkeypatch.setattr(evidence_module, "MAX_RESULT_FILE_BYTES", 100_000)
    cases, findings = read_results(path, "run.xml")
    assert cases == [] and findings[0].message.startswith("the result file is 0.1 MB, more than the 0 MB")


def test_a_pipe_is_not_read(tmp_path: Path) -> None:
    pipe = tmp_path / "results.xml"
    os.mkfifo(pipe)  # reading it would wait forever
    cases, findings = read_results(pipe, "results.xml")
    assert cases == [] and findings[0].message == (
        "cannot read the result file: it is not a regular file (a folder, pipe or device)"
    )


def test_memory_holds_one_test_case_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    output = "x" * 1000 + "\n"
    with path.open("w", encoding="utf-8") as stream:
        stream.write("<testsuites><testsuite name='s' timestamp='2025-01-01T00:00:00Z'>")
        for index in range(1_000):  # 20 KB of captured output per case, 20 MB in all
            stream.write(f"<testcase classname='c' name='t{index}'><system-out>{output * 20}</system-out></testcase>")
        stream.write("<testcase classname='c' name='last'><failure/><system-out>")
        stream.write(output * 20_000)  # 20 MB in one element: only its start is kept
        stream.write("</system-out></testcase></testsuite></testsuites>")
    tracemalloc.start()
    try:
        cases, findings = read_results(path, "big.xml")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert findings == [] and len(cases) == 1_001 and cases[-1].outcome is F
    assert path.stat().st_size > 40_000_000
    assert peak < 8_000_000  # for a file of over 40 MB


# ----------------------------------------------------------------------------- what is imported


def test_junitparser_is_imported_when_a_result_file_is_read_not_with_qms(tmp_path: Path) -> None:
    """A command whose results all come from the parse cache never imports junitparser (nor lxml)."""
    import subprocess
    import sys
    import textwrap

    (tmp_path / "run.xml").write_text(
        '<testsuite name="s"><testcase classname="c" name="t" time="0.5"/></testsuite>', encoding="utf-8"
    )
    code = textwrap.dedent(
        f"""
        import sys
        from pathlib import Path
        import qms.checking, qms.cli.check, qms.evidence, qms.status
        print("junitparser" in sys.modules)
        cases, findings = qms.evidence.read_results(Path({str(tmp_path / "run.xml")!r}), "run.xml")
        print("junitparser" in sys.modules, [(case.case_id, case.outcome.value, case.time) for case in cases], findings)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["False", "True [('c.t', 'passed', 0.5)] []"]
