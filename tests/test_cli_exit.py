"""How the ``qms`` command ends: exit handlers run, the standard streams are flushed, the status is
kept, and the process does not free its objects one by one (``qms.cli.run``); with another thread
still running, the ordinary shutdown waits for it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BASE = Path(__file__).parent / "scenarios" / "_base"

#: a script ending the way the ``qms`` command does, with an exit handler, an object that reports
#: being freed, and output still in the stdout buffer
SCRIPT = """
import atexit, sys, threading, time
from pathlib import Path

class Reports:
    def __del__(self):
        Path("freed").write_text("freed")

kept = Reports()
atexit.register(lambda: Path("exit-handler").write_text("ran"))
sys.stdout.write("buffered " * {repeat} + "\\n")
{before}
sys.argv = ["qms", *{arguments!r}]
from qms.cli import run
run()
"""


#: the environment of a user's shell: output to a pipe is buffered, so the exit must flush it
BUFFERED = {name: value for name, value in os.environ.items() if name != "PYTHONUNBUFFERED"}


def _script(*arguments: str, before: str = "", repeat: int = 1000) -> str:
    return textwrap.dedent(SCRIPT).format(arguments=list(arguments), before=before, repeat=repeat)


def _run(folder: Path, *arguments: str, before: str = "") -> subprocess.CompletedProcess[str]:
    script = _script(*arguments, before=before)
    return subprocess.run(
        [sys.executable, "-c", script], cwd=folder, env=BUFFERED, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "device"
    shutil.copytree(BASE, root)
    return root


def test_exit_handlers_run_output_is_flushed_and_nothing_is_freed(tmp_path: Path) -> None:
    completed = _run(tmp_path, "--version")
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("buffered " * 1000 + "\n")
    assert completed.stdout.endswith("qms, version " + completed.stdout.rsplit("version ", 1)[1])
    assert (tmp_path / "exit-handler").read_text() == "ran"
    assert not (tmp_path / "freed").exists()  # the interpreter's teardown was skipped
    assert completed.stderr == ""


@pytest.mark.parametrize(
    ("arguments", "status"),
    [(["check"], 1), (["check", "--bogus"], 2), (["rule", "Q001"], 0), (["rule", "Q999"], 2)],
)
def test_the_exit_status_is_kept(project: Path, arguments: list[str], status: int) -> None:
    (project / "items" / "software.yaml").write_text("requirements:\n  - id: SWR-1\n    title: [unclosed\n")
    completed = _run(project, *arguments)
    assert completed.returncode == status, completed.stderr
    assert "Traceback" not in completed.stderr
    assert not (project / "freed").exists()


def test_findings_reach_a_pipe_in_full(project: Path) -> None:
    files = [f"software-{number}.yaml" for number in range(40)]
    for name in files:
        (project / "items" / name).write_text("requirements:\n  - id: [unclosed\n")
    completed = subprocess.run(
        [sys.executable, "-m", "qms", "check"], cwd=project, env=BUFFERED, capture_output=True, text=True, timeout=120
    )
    assert completed.returncode == 1
    assert all(f"items/{name}:" in completed.stdout for name in files)
    assert "next: `qms rule" in completed.stdout


def test_a_closed_pipe_gives_python_s_status_without_a_traceback(tmp_path: Path) -> None:
    script = _script("check", "--bogus", repeat=10)  # fits in the buffer: written only at exit
    process = subprocess.Popen(
        [sys.executable, "-c", script], cwd=tmp_path, env=BUFFERED, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader went away before the buffered output was flushed: `... | true`
    errors = process.stderr.read().decode()
    assert process.wait(timeout=120) == 120  # what Python gives when it cannot flush stdout at exit
    assert errors.startswith("qms: error: No such option '--bogus'")
    assert "Traceback" not in errors and "Exception ignored" not in errors
    assert (tmp_path / "exit-handler").read_text() == "ran"


def test_a_running_thread_is_waited_for(tmp_path: Path) -> None:
    before = (
        "def late():\n"
        "    time.sleep(0.5)\n"
        "    Path('thread-finished').write_text('done')\n"
        "threading.Thread(target=late).start()\n"
    )
    completed = _run(tmp_path, "--version", before=before)
    assert completed.returncode == 0, completed.stderr
    assert (tmp_path / "thread-finished").read_text() == "done"
    assert (tmp_path / "exit-handler").read_text() == "ran"


def test_a_message_as_exit_status_is_printed_with_status_1(tmp_path: Path) -> None:
    before = "import qms.cli\nqms.cli.main = lambda: sys.exit('qms: error: stopped')\n"
    completed = _run(tmp_path, "--version", before=before)
    assert completed.returncode == 1
    assert completed.stderr == "qms: error: stopped\n"
    assert not (tmp_path / "freed").exists()
