"""A command asked to write a file (``-o FILE``, ``qms export xlsx FILE``) never writes it over a file
the project is made of or would read, nor over something that is not a plain file: it refuses before
any work, says why, and leaves the file as it was."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import invoke_qms

NEEDS = """\
kind: need
items:
  - id: NEED-1
    title: Readable glucose
    statement: The user reads the glucose value at a glance.
"""

CONFIG = """\
device:
  name: Test Device
  software_safety_class: C
sources: [items]
evidence: [reports/*.xml]
records: [runs]
"""

#: every command that writes a file it is given, as the arguments before the file
WRITERS = {
    "export xlsx": ("export", "xlsx"),
    "check -o": ("check", "--format", "json", "-o"),
    "matrix -o": ("matrix", "--format", "csv", "-o"),
    "log -o": ("log", "NEED-1", "-o"),
}


@pytest.fixture
def project(make_project: Callable[..., Path]) -> Path:
    return make_project(
        {
            "qms.yaml": CONFIG,
            "items/needs.yaml": NEEDS,
            "conf.py": "extensions = ['qms.sphinx']\n",
            "runs/.keep": "",
            "reports/.keep": "",
        }
    )


def _write(project: Path, writer: str, target: str) -> tuple[int, str]:
    result = invoke_qms(*WRITERS[writer], target, cwd=project)  # the project found from where it runs
    return result.exit_code, result.output


@pytest.mark.parametrize("writer", sorted(WRITERS))
@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("items/needs.yaml", "it is the item file items/needs.yaml of the project"),
        ("qms.yaml", "it is the project's project file qms.yaml"),
        ("conf.py", "it is the project's Sphinx configuration conf.py"),
        ("items/report.yaml", "qms would read it as an item file (`sources` in qms.yaml)"),
        ("runs/report.yml", "qms would read it as a file of execution records (`records` in qms.yaml)"),
        ("reports/report.xml", "qms would read it as a test result file (`evidence` in qms.yaml)"),
        (".git/report.json", "it is inside the project's git folder"),
    ],
)
def test_a_file_of_the_project_is_never_written_over(project: Path, writer: str, target: str, reason: str) -> None:
    path = project / target
    before = path.read_bytes() if path.exists() else None
    code, output = _write(project, writer, target)
    assert code == 2, output
    assert f"qms: error: will not write {target}: {reason}; write it elsewhere" in output
    assert (path.read_bytes() if path.exists() else None) == before


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_a_folder_a_pipe_or_no_name_is_refused_without_a_traceback(project: Path, writer: str) -> None:
    (project / "out").mkdir()
    os.mkfifo(project / "pipe")
    for target, reason in (
        ("out", "File 'out' is a directory"),  # click's own refusal
        ("pipe", "will not write pipe: it is not a regular file (a device, pipe or socket); name a file"),
        ("", "will not write .: name a file to write"),  # an empty name is the current folder
    ):
        code, output = _write(project, writer, target)
        assert code == 2 and reason in output, output
        assert "Traceback" not in output
    assert (project / "pipe").exists() and not (project / "pipe").is_file()  # still the pipe


@pytest.mark.parametrize("writer", sorted(set(WRITERS) - {"log -o"}))  # log reads git history: not here
def test_a_new_file_beside_the_records_is_written(project: Path, writer: str) -> None:
    code, output = _write(project, writer, "_build/out.report")
    assert code in (0, 1), output  # check exits 1 on findings; it wrote its report all the same
    assert (project / "_build/out.report").stat().st_size > 0
