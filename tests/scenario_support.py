"""Scenario transcripts: reading and writing ``expected.txt``, laying a scenario out over the base
project, and running its ``$ qms ...`` and ``$ git ...`` lines (see ``tests/scenarios/README.md``)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

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
        # git only sets the scenario up: a step that fails leaves it showing something else
        assert ran.returncode == 0, f"`{step.command}` failed in the scenario's set-up:\n{output}"
        return Step(step.command, output.split("\n") if output else [], ran.returncode)
    result = invoke_qms(*arguments[1:], cwd=root)
    output = result.output.rstrip("\n")
    return Step(step.command, output.split("\n") if output else [], result.exit_code)


def scenario_names() -> list[str]:
    return sorted(path.name for path in SCENARIOS.iterdir() if path.is_dir() and not path.name.startswith("_"))


def run_scenario(scenario: Path, root: Path) -> tuple[list[str], list[Step], list[Step]]:
    """Lay ``scenario`` out in ``root`` and run its commands: its comments, the expected steps and
    the steps as they ran."""
    comments, expected = read_transcript(scenario / TRANSCRIPT)
    project = lay_out(scenario, root)
    return comments, expected, [run_step(step, project) for step in expected]
