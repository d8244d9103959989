"""The bundled example's evidence, end to end: its pytest suite runs, writes JUnit XML, and
``qms check`` reads it; a defect in the dosing limits fails the check on the right test item."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import invoke_qms
from sphinx_support import copy_example

from qms.checking import project_statuses
from qms.evidence import Outcome, load_evidence
from qms.project import load_project
from qms.schema import REQUIREMENT_KINDS
from qms.status import Status

REPOSITORY = Path(__file__).parent.parent
REPORT = "reports/aid-controller.xml"


def _run_example_tests(root: Path) -> subprocess.CompletedProcess[str]:
    """The README's command: ``python -m pytest examples/aid_controller --junitxml=reports/aid-controller.xml``."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "examples/aid_controller",
            "-q",
            "-p",
            "no:cacheprovider",
            f"--junitxml={REPORT}",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )


def _evidence_findings(root: Path) -> list[dict[str, object]]:
    result = invoke_qms("check", "--format", "json", cwd=root)
    findings = json.loads(result.output)["findings"]
    return [f for f in findings if str(f["rule"]).startswith("E4") or f["file"] == REPORT]


@pytest.mark.slow
def test_example_tests_are_the_example_evidence(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "example")
    completed = _run_example_tests(root)
    assert completed.returncode == 0, completed.stdout[-3000:]
    assert _evidence_findings(root) == []
    project = load_project(root)
    evidence, findings = load_evidence(project)
    assert findings == [] and evidence.files == (REPORT,)
    assert all(case.outcome is Outcome.PASSED for case in evidence.cases) and len(evidence.cases) > 50
    assert {case.version for case in evidence.cases} == {"2.1.0"}  # written by qms.pytest_plugin
    named = {item_id for case in evidence.cases for item_id in case.verifies}
    assert named <= set(project.items), "every id a marker names is an item of the example"
    statuses = project_statuses(project)
    for test in ("TST-U003", "TST-U015", "TST-U020", "TST-U021"):
        status = statuses.of(test)
        assert status is not None and status.status is Status.PASSED, test
        assert {result.source for result in status.results} == {REPORT}, test
    # with the execution records, every test and every requirement is verified
    assert statuses.counts("test") == {**dict.fromkeys(Status, 0), Status.PASSED: len(project.of_kind("test"))}
    requirements = statuses.counts(*REQUIREMENT_KINDS)
    assert requirements[Status.PASSED] == sum(requirements.values()) > 100


@pytest.mark.slow
def test_a_defect_in_the_dosing_limits_fails_the_check_on_its_test(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "example")
    dosing = root / "examples" / "aid_controller" / "dosing.py"
    source = dosing.read_text(encoding="utf-8")
    assert source.count("4 * scheduled_rate") == 1
    dosing.write_text(source.replace("4 * scheduled_rate", "5 * scheduled_rate"), encoding="utf-8")
    completed = _run_example_tests(root)
    assert completed.returncode == 1, completed.stdout[-3000:]
    assert "test_maximum_temporary_basal_rate[4x-current]" in completed.stdout

    project = load_project(root)
    test, unit = project.items["TST-U015"], project.items["SU-06"].location()  # the test also names its unit
    place = test.location(("evidence", 0)) if test.links("evidence") else test.location()
    findings = _evidence_findings(root)
    item = test.location()
    assert [(f["rule"], f["item"], f["file"], f["line"], f["column"]) for f in findings] == [
        ("E401", "SU-06", unit.file, unit.line, unit.column),
        ("E401", "TST-U015", place.file, place.line, place.column),
        ("E406", "TST-U015", item.file, item.line, item.column),  # no anomaly records the failure yet
    ]
    assert str(findings[1]["message"]).startswith(
        "latest result failed: examples.aid_controller.tests.test_dosing.test_maximum_temporary_basal_rate[4x-current] "
        f"({REPORT}, "
    )
    assert invoke_qms("check", cwd=root).exit_code == 1
