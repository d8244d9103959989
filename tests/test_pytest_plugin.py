"""The pytest plugin: ``@pytest.mark.verifies`` ends up in real ``--junitxml`` output, as qms reads it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from qms import pytest_plugin as plugin
from qms.evidence import VERIFIES_PROPERTY, Outcome, read_results

TESTS = """\
import pytest

pytestmark = pytest.mark.verifies("SWR-7")


@pytest.mark.verifies("TST-1", "SWR-1")
def test_function():
    pass


@pytest.mark.verifies("TST-2")
@pytest.mark.parametrize("rate", [0.5, 4.5])
def test_parametrized(rate):
    assert rate < 4


@pytest.mark.verifies("TST-3")
class TestClass:
    @pytest.mark.verifies("TST-4", "TST-3")
    def test_method(self):
        pass


@pytest.mark.verifies("TST-5")
@pytest.mark.skip(reason="needs the pump")
def test_skipped():
    pass


@pytest.mark.verifies("TST-6")
@pytest.mark.skipif(True, reason="not on this platform")
def test_skipped_if():
    pass


@pytest.fixture
def pump():
    raise ConnectionError("no pump")


@pytest.mark.verifies("TST-7")
def test_setup_error(pump):
    pass


def test_unmarked():
    pass
"""


def run_pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -m pytest ARGS`` in ``folder``, with the plugin loaded the way users get it."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )


EXPECTED = {
    "tests.test_marked.test_function": (Outcome.PASSED, ("TST-1", "SWR-1", "SWR-7")),
    "tests.test_marked.test_parametrized[0.5]": (Outcome.PASSED, ("TST-2", "SWR-7")),
    "tests.test_marked.test_parametrized[4.5]": (Outcome.FAILED, ("TST-2", "SWR-7")),
    "tests.test_marked.TestClass.test_method": (Outcome.PASSED, ("TST-4", "TST-3", "SWR-7")),
    "tests.test_marked.test_skipped": (Outcome.SKIPPED, ("TST-5", "SWR-7")),
    "tests.test_marked.test_skipped_if": (Outcome.SKIPPED, ("TST-6", "SWR-7")),
    "tests.test_marked.test_setup_error": (Outcome.ERROR, ("TST-7", "SWR-7")),
    "tests.test_marked.test_unmarked": (Outcome.PASSED, ("SWR-7",)),
}


@pytest.mark.parametrize(
    "workers", [[], pytest.param(["-n", "2"], marks=pytest.mark.slow)], ids=["one-process", "xdist"]
)
def test_marker_becomes_a_verifies_property(tmp_path: Path, workers: list[str]) -> None:
    if workers:
        pytest.importorskip("xdist")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_marked.py").write_text(TESTS, encoding="utf-8")
    completed = run_pytest(tmp_path, *workers, "--junitxml=reports/run.xml", "tests")
    assert completed.returncode == 1, completed.stdout + completed.stderr  # one failure, one error
    assert "PytestWarning" not in completed.stdout  # unlike record_property under xunit2
    cases, findings = read_results(tmp_path / "reports" / "run.xml", "reports/run.xml")
    assert findings == []
    assert {case.case_id: (case.outcome, case.verifies) for case in cases} == EXPECTED


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("@pytest.mark.verifies()", "@pytest.mark.verifies takes one or more item ids"),
        ('@pytest.mark.verifies("SWR 14")', "@pytest.mark.verifies('SWR 14'): not a qms item id"),
    ],
)
def test_a_wrong_marker_stops_the_run(tmp_path: Path, marker: str, message: str) -> None:
    (tmp_path / "test_wrong.py").write_text(f"import pytest\n\n{marker}\ndef test_x():\n    pass\n", encoding="utf-8")
    completed = run_pytest(tmp_path, "test_wrong.py")
    assert completed.returncode == pytest.ExitCode.USAGE_ERROR
    assert f"ERROR: test_wrong.py::test_x: {message}" in completed.stderr


def test_plugin_writes_the_property_qms_reads() -> None:
    assert plugin.VERIFIES_PROPERTY == VERIFIES_PROPERTY


def test_marker_is_registered(tmp_path: Path) -> None:
    completed = run_pytest(tmp_path, "--markers")
    assert "@pytest.mark.verifies(*ids): the qms items" in completed.stdout


def test_results_name_the_commit_and_version_they_ran_on(tmp_path: Path) -> None:
    from fixtures.change.gitrepo import git

    (tmp_path / "qms.yaml").write_text("device: {name: D, version: 3.1.4, software_safety_class: C}\n")
    (tmp_path / "test_one.py").write_text("def test_x():\n    pass\n", encoding="utf-8")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "tests")
    head = git(tmp_path, "rev-parse", "HEAD")
    completed = run_pytest(tmp_path, "--junitxml=reports/run.xml", "test_one.py")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    (case,), findings = read_results(tmp_path / "reports" / "run.xml", "reports/run.xml")
    assert findings == [] and (case.commit, case.version) == (head, "3.1.4")
    # uncommitted changes to tracked files: the results do not belong to HEAD alone
    (tmp_path / "test_one.py").write_text("def test_x():\n    assert True\n", encoding="utf-8")
    run_pytest(tmp_path, "--junitxml=reports/run.xml", "test_one.py")
    (case,), _ = read_results(tmp_path / "reports" / "run.xml", "reports/run.xml")
    assert case.commit == f"{head}+dirty"
