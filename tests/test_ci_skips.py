"""In CI (``CI`` set, as ``.ci/run`` does) a test that would skip for a missing tool fails instead;
on a workstation it skips."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent

SKIPPING = {
    "test_tool.py": """
import shutil
import pytest

@pytest.mark.skipif(shutil.which("no-such-tool-here") is None, reason="needs no-such-tool-here")
def test_drives_the_tool():
    pass

def test_checks_inside():
    pytest.skip("gpg is not installed")

@pytest.mark.xfail(reason="a known gap")
def test_known_gap():
    assert False
""",
    "test_package.py": """
import pytest
pytest.importorskip("no_such_package_here")

def test_uses_it():
    pass
""",
}


def run_pytest(folder: Path, ci: str | None, *files: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key != "CI"}
    if ci is not None:
        environment["CI"] = ci
    environment["PYTHONPATH"] = os.pathsep.join([str(TESTS), str(TESTS.parent)])
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider", "-q", "-rA", *files],
        cwd=folder,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def skipping(tmp_path: Path) -> Path:
    for name, text in SKIPPING.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("ci", ["1"])
def test_in_ci_a_skip_for_a_missing_tool_fails(skipping: Path, ci: str) -> None:
    result = run_pytest(skipping, ci, "test_tool.py")

    assert result.returncode == 1, result.stdout
    failed = "skipped in CI, where every tool the tests drive must be installed:"
    assert f"{failed} Skipped: needs no-such-tool-here" in result.stdout  # at setup: an error
    assert f"{failed} Skipped: gpg is not installed" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("1 failed, 1 xfailed, 1 error")


def test_in_ci_a_module_that_skips_for_a_missing_package_fails(skipping: Path) -> None:
    result = run_pytest(skipping, "1", "test_package.py")

    assert result.returncode == 2, result.stdout
    assert "must be installed: Skipped: could not import 'no_such_package_here'" in result.stdout


@pytest.mark.parametrize("ci", [None, "false"])
def test_outside_ci_a_missing_tool_skips(skipping: Path, ci: str | None) -> None:
    result = run_pytest(skipping, ci, *SKIPPING)

    assert result.returncode == 0, result.stdout
    assert result.stdout.splitlines()[-1].startswith("3 skipped, 1 xfailed")
