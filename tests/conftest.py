"""Shared test helpers: tiny projects written to tmp folders, and the real ``qms`` command line.

- ``make_project(files, ...)`` writes a project (``qms.yaml`` + item files) and returns its root;
- ``run_qms(*args, cwd=...)`` runs a ``qms`` command through click's runner in that folder and
  returns click's ``Result`` (``exit_code``, ``stdout``, ``stderr``); an unexpected exception is
  raised, not swallowed, so a traceback fails the test.

A test skips where a tool it drives is missing (Chromium, LibreOffice, gpg, an optional package);
in CI (``CI`` set, as ``.ci/run`` does) every tool is installed, so a skip there is a failure.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Generator, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, settings

from qms.cli import main

# Fuzzing (tests marked ``fuzz``) runs briefly by default, so CI runs it on every change, and
# longer on demand: ``python -m pytest -m fuzz --hypothesis-profile=fuzz-long``. Fuzz tests set no
# ``max_examples`` of their own: the profile decides. The deadline bounds each example's time.
settings.register_profile(
    "fuzz-ci", max_examples=40, deadline=5000, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
settings.register_profile("fuzz-long", max_examples=5000, deadline=5000, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("fuzz-ci")

#: the smallest valid ``qms.yaml``: items under ``items/``, the default 5x5 risk policy
MINIMAL_CONFIG = """\
device:
  name: Test Device
  software_safety_class: {safety_class}
sources: [items]
"""

ProjectFiles = Mapping[str, str | bytes]


def write_files(root: Path, files: ProjectFiles) -> Path:
    """Write ``files`` (relative path -> text or bytes) under ``root``; returns ``root``."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return root


@contextmanager
def working_directory(folder: Path | None) -> Iterator[None]:
    """Run the body in ``folder`` (the current one when None), then come back."""
    previous = Path.cwd()
    if folder is not None:
        os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)


def invoke_qms(*args: str | os.PathLike[str], cwd: Path | None = None) -> Result:
    """``qms ARGS`` run in ``cwd`` through click's runner (exceptions propagate)."""
    with working_directory(cwd):
        return CliRunner().invoke(main, [os.fspath(arg) for arg in args], catch_exceptions=False)


@pytest.fixture
def make_project(tmp_path: Path) -> Callable[..., Path]:
    """A factory: ``make_project(files, safety_class="C", name="project")`` -> project root.

    ``qms.yaml`` is :data:`MINIMAL_CONFIG` unless ``files`` holds its own (or
    ``with_config=False`` leaves it out).
    """

    def make(
        files: ProjectFiles | None = None,
        *,
        safety_class: str = "C",
        name: str = "project",
        with_config: bool = True,
    ) -> Path:
        root = tmp_path / name
        root.mkdir(parents=True, exist_ok=True)
        files = dict(files or {})
        if with_config and "qms.yaml" not in files:
            files["qms.yaml"] = MINIMAL_CONFIG.format(safety_class=safety_class)
        return write_files(root, files)

    return make


@pytest.fixture
def another_thread() -> Iterator[threading.Thread]:
    """A thread running beside the test (as a server's do) until the test ends."""
    waiting = threading.Event()
    thread = threading.Thread(target=waiting.wait)
    thread.start()
    try:
        yield thread
    finally:
        waiting.set()
        thread.join()


@pytest.fixture
def run_qms() -> Callable[..., Result]:
    """``run_qms(*args, cwd=root)``: the ``qms`` command line, in-process (see :func:`invoke_qms`)."""
    return invoke_qms


def in_ci() -> bool:
    """Whether the tests run in CI: ``CI`` set to anything but empty, 0 or false."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false")


def _skip_fails_in_ci(report: pytest.TestReport | pytest.CollectReport) -> None:
    """In CI, turn a skip (a missing browser, LibreOffice, gpg, package) into a failure that says why."""
    if in_ci() and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every tool the tests drive must be installed: {reason}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    _skip_fails_in_ci(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    _skip_fails_in_ci(report)
    return report
