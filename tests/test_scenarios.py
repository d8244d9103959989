"""End-to-end scenarios: a tiny project per folder, the real command line, the exact output.

Each folder under ``tests/scenarios/`` (see its README) holds project files and an
``expected.txt`` transcript: ``$ qms ...`` lines, the exact output of each command, and its exit
code in brackets. A folder without its own ``qms.yaml`` is laid over ``tests/scenarios/_base``,
a small class C project that checks clean, so that the seeded defect is the only finding.

``QMS_UPDATE_SCENARIOS=1 pytest tests/test_scenarios.py`` rewrites the transcripts from the
actual output (review the diff before committing it).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import invoke_qms

SCENARIOS = Path(__file__).parent / "scenarios"
BASE = SCENARIOS / "_base"
TRANSCRIPT = "expected.txt"


@dataclass
class Step:
    """One command of a transcript, the output it must print and the exit code it must return."""

    command: str
    output: list[str]
    exit_code: int


def read_transcript(path: Path) -> tuple[list[str], list[Step]]:
    """The leading comment lines and the steps of an ``expected.txt``."""
    comments: list[str] = []
    steps: list[Step] = []
    current: Step | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if current is None:
            if line.startswith("$ "):
                current = Step(line[2:], [], 0)
            elif line.startswith("#") or not line.strip():
                comments.append(line)
            else:
                raise ValueError(f"{path}: text outside a command: {line!r}")
        elif line.startswith("[") and line.endswith("]") and line[1:-1].isdigit():
            current.exit_code = int(line[1:-1])
            steps.append(current)
            current = None
        else:
            current.output.append(line)
    if current is not None:
        raise ValueError(f"{path}: the last command has no [exit code] line")
    return comments, steps


def write_transcript(path: Path, comments: list[str], steps: list[Step]) -> None:
    lines = list(comments)
    for step in steps:
        lines += [f"$ {step.command}", *step.output, f"[{step.exit_code}]"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def lay_out(scenario: Path, root: Path) -> Path:
    """Copy the scenario (over the base project unless it has its own qms.yaml) to ``root``."""
    if not (scenario / "qms.yaml").exists() and not (scenario / "STANDALONE").exists():
        shutil.copytree(BASE, root)
    shutil.copytree(scenario, root, dirs_exist_ok=True, ignore=shutil.ignore_patterns(TRANSCRIPT, "STANDALONE"))
    return root


#: A scenario's git commits are made by one fixed person at one fixed time, so that their hashes
#: (which findings such as E407 print) are the same on every machine.
GIT_ENVIRONMENT = {
    "GIT_AUTHOR_NAME": "Scenario Author",
    "GIT_AUTHOR_EMAIL": "author@example.invalid",
    "GIT_AUTHOR_DATE": "2030-01-01T12:00:00+00:00",
    "GIT_COMMITTER_NAME": "Scenario Author",
    "GIT_COMMITTER_EMAIL": "author@example.invalid",
    "GIT_COMMITTER_DATE": "2030-01-01T12:00:00+00:00",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
}


def run_step(step: Step, root: Path) -> Step:
    """Run one ``$ qms ...`` (or, to give a scenario a history, ``$ git ...``) line in ``root``."""
    arguments = shlex.split(step.command)
    assert arguments[0] in ("qms", "git"), f"a scenario runs qms or git, not {arguments[0]}"
    if arguments[0] == "git":
        environment = {**os.environ, **GIT_ENVIRONMENT}
        ran = subprocess.run(
            ["git", "-c", "init.defaultBranch=main", *arguments[1:]],
            cwd=root,
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        output = (ran.stdout + ran.stderr).rstrip("\n")
        return Step(step.command, output.split("\n") if output else [], ran.returncode)
    result = invoke_qms(*arguments[1:], cwd=root)
    output = result.output.rstrip("\n")
    return Step(step.command, output.split("\n") if output else [], result.exit_code)


def scenario_names() -> list[str]:
    return sorted(path.name for path in SCENARIOS.iterdir() if path.is_dir() and not path.name.startswith("_"))


@pytest.mark.parametrize("name", scenario_names())
def test_scenario(name: str, tmp_path: Path) -> None:
    scenario = SCENARIOS / name
    comments, expected = read_transcript(scenario / TRANSCRIPT)
    assert expected, f"{name}: the transcript runs no command"
    root = lay_out(scenario, tmp_path / "project")
    actual = [run_step(step, root) for step in expected]
    if os.environ.get("QMS_UPDATE_SCENARIOS") == "1":
        write_transcript(scenario / TRANSCRIPT, comments, actual)
        return
    for want, got in zip(expected, actual, strict=True):
        assert got.output == want.output, f"{name}: output of `{want.command}`"
        assert got.exit_code == want.exit_code, f"{name}: exit code of `{want.command}`"


def test_transcripts_round_trip(tmp_path: Path) -> None:
    """The transcript reader keeps comments, commands, output lines and exit codes."""
    path = tmp_path / TRANSCRIPT
    path.write_text("# about\n$ qms check\na: b\n\nsummary\n[1]\n$ qms rule T101\n[0]\n", encoding="utf-8")
    comments, steps = read_transcript(path)
    assert comments == ["# about"]
    assert steps == [Step("qms check", ["a: b", "", "summary"], 1), Step("qms rule T101", [], 0)]
    write_transcript(tmp_path / "again.txt", comments, steps)
    assert (tmp_path / "again.txt").read_text(encoding="utf-8") == path.read_text(encoding="utf-8")


def test_base_project_checks_clean(tmp_path: Path) -> None:
    result = invoke_qms("check", cwd=lay_out(BASE, tmp_path / "base"))
    assert (result.exit_code, result.output) == (0, "11 items in 5 files: no findings\n")
