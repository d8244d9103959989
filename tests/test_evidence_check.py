"""``qms check`` with evidence: result files from ``evidence:`` globs and ``--results``."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

ITEMS = {
    "items/requirements.yaml": """\
kind: software_requirement
items:
  - id: SWR-1
    title: Maximum temporary basal
    text: The maximum temporary basal rate shall be the lowest of four limits.
    derived: example
""",
    "items/tests.yaml": """\
kind: test
items:
  - id: TST-1
    title: Maximum temporary basal
    method: test
    verifies: [SWR-1]
    evidence:
      - tests/test_limits.py::test_max_basal
""",
}
CONFIG = "device: {{name: D, software_safety_class: A}}\nsources: [items]\n{evidence}{rules}"
RESULT = """\
<testsuites><testsuite name="pytest" timestamp="2025-06-02T09:15:00+00:00">
  <testcase classname="tests.test_limits" name="test_max_basal" time="0.001">{body}</testcase>
</testsuite></testsuites>
"""


def _project(
    make_project: Callable[..., Path], evidence: str = "", rules: str = "", body: str = "", name: str = "project"
) -> Path:
    files = dict(ITEMS, **{"qms.yaml": CONFIG.format(evidence=evidence, rules=rules)})
    root = make_project(files, name=name)
    (root / "reports").mkdir()
    (root / "reports" / "limits.xml").write_text(RESULT.format(body=body), encoding="utf-8")
    return root


def _lines(result: Result) -> list[str]:
    return result.output.splitlines()


def test_evidence_globs_are_read(make_project: Callable[..., Path], run_qms: Callable[..., Result]) -> None:
    root = _project(make_project, evidence="evidence: [reports/*.xml]\n")
    result = run_qms("check", cwd=root)
    assert (result.exit_code, result.output) == (0, "2 items in 2 files: no findings\n")
    failing = _project(
        make_project, evidence="evidence: [reports/*.xml]\n", body='<failure message="0.9 &gt; 0.8"/>', name="failing"
    )
    result = run_qms("check", cwd=failing)
    assert result.exit_code == 1
    assert _lines(result)[0] == (  # then E406: no anomaly evaluates the failure
        "items/tests.yaml:8:9: error E401 TST-1: latest result failed: tests.test_limits.test_max_basal "
        "(reports/limits.xml, 2025-06-02T09:15:00+00:00): 0.9 > 0.8"
    )


@pytest.mark.parametrize(
    ("evidence", "reason"),
    [
        (
            "evidence: [build/*.xml, out/**/junit.xml]\n",
            "(no result files: `evidence: [build/*.xml, out/**/junit.xml]` in qms.yaml matches no file; "
            "run the tests first)",
        ),
        ("", "(no result files: set `evidence:` in qms.yaml or pass `qms check --results FILE`)"),
    ],
    ids=["globs-match-nothing", "no-evidence-configured"],
)
def test_not_run_when_no_result_file_is_found(
    make_project: Callable[..., Path], run_qms: Callable[..., Result], evidence: str, reason: str
) -> None:
    result = run_qms("check", cwd=_project(make_project, evidence=evidence))
    assert result.exit_code == 1
    assert _lines(result)[0] == (
        f"items/tests.yaml:8:9: error E402 TST-1: evidence 'tests/test_limits.py::test_max_basal' matches no test "
        f"result {reason}"
    )


def test_results_option_adds_files(make_project: Callable[..., Path], run_qms: Callable[..., Result]) -> None:
    root = _project(make_project)
    assert run_qms("check", "--results", "reports/limits.xml", cwd=root).exit_code == 0
    result = run_qms("check", "--results", "reports/missing.xml", cwd=root)
    assert (result.exit_code, result.stderr) == (2, "qms: error: results file reports/missing.xml does not exist\n")


def test_rule_severity_overrides_apply(make_project: Callable[..., Path], run_qms: Callable[..., Result]) -> None:
    root = _project(make_project, rules="rules: {E402: warning}\n")
    result = run_qms("check", cwd=root)
    assert result.exit_code == 0
    assert _lines(result)[0].startswith("items/tests.yaml:8:9: warning E402 TST-1: ")
    assert run_qms("check", "--strict", cwd=root).exit_code == 1
    off = _project(make_project, rules="rules: {E402: off}\n", name="off")
    assert run_qms("check", cwd=off).output == "2 items in 2 files: no findings\n"


def test_json_report_of_a_failed_test(make_project: Callable[..., Path], run_qms: Callable[..., Result]) -> None:
    root = _project(make_project, body="<error message='pump simulator not reachable'/>")
    result = run_qms("check", "--format", "json", "--results", "reports/limits.xml", cwd=root)
    findings = json.loads(result.output)["findings"]
    assert [finding["rule"] for finding in findings] == ["E401", "E406"]  # no anomaly evaluates the failure
    assert findings[:1] == [
        {
            "rule": "E401",
            "severity": "error",
            "item": "TST-1",
            "file": "items/tests.yaml",
            "line": 8,
            "column": 9,
            "message": "latest result errored: tests.test_limits.test_max_basal (reports/limits.xml, "
            "2025-06-02T09:15:00+00:00): pump simulator not reachable",
        }
    ]


@pytest.mark.parametrize("code", ["E401", "E402", "E403", "E404"])
def test_evidence_rules_are_listed_and_explained(run_qms: Callable[..., Result], code: str) -> None:
    listed = [line for line in run_qms("check", "--list-rules").output.splitlines() if line.startswith(code)]
    assert len(listed) == 1 and " error " in listed[0]
    explained = run_qms("rule", code)
    assert explained.exit_code == 0
    assert explained.output.startswith(f"{code} ") and "(evidence)" in explained.output.splitlines()[0]


def test_a_result_naming_a_requirement_verifies_it(
    make_project: Callable[..., Path], run_qms: Callable[..., Result]
) -> None:
    """T103 counts a result whose `verifies` property names the requirement: no hand-kept mapping."""
    files = {
        "qms.yaml": CONFIG.format(evidence="evidence: [reports/*.xml]\n", rules=""),
        "items/requirements.yaml": ITEMS["items/requirements.yaml"],
    }
    root = make_project(files, name="named")
    run = run_qms("check", cwd=root)
    assert _lines(run)[0] == "items/requirements.yaml:3:5: error T103 SWR-1: not verified by any test"
    (root / "reports").mkdir()
    named = '<properties><property name="verifies" value="SWR-1"/></properties>'
    (root / "reports" / "limits.xml").write_text(RESULT.format(body=named), encoding="utf-8")
    result = run_qms("check", cwd=root)
    assert (result.exit_code, result.output) == (0, "1 item in 1 file: no findings\n")
