"""Time ``qms build`` through a day's work in git: commits, and the edits between them.

    python benchmarks/bench_commits.py [--sizes 10000] [--workdir DIR]

For each N, :mod:`generate` writes a project, which is committed to a new git repository (dated
in the past: its results ran after it) and built from clean; then, each timed as the real command
in a new process with qms's bytecode compiled beforehand (as ``pip install`` leaves it):

1. one software requirement's text edited and committed, then built (the audit trails are read
   from git again, the edited requirement's pages and every page's source revision change);
2. an empty commit, then built (only the source revision changes);
3. the same requirement's text edited, not committed: the first edit after a commit (every
   document-control block now says "uncommitted changes");
4. edited again: a later edit.

Figures are wall-clock and CPU seconds (user + system, the workbook's process included). Run it
for two versions of qms one after the other to compare them: the machine's speed moves from hour
to hour.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_build import QMS_CONF, Timing, changed_requirement, commit_project, compiled_environment, edit_text
from generate import generate

STEPS = (
    "build after a commit that changed one requirement's text",
    "build after an empty commit",
    "the first edit after a commit",
    "a later edit",
)

_IDENTITY = ("-c", "user.name=Benchmark", "-c", "user.email=benchmark@example.org", "-c", "commit.gpgsign=false")


def _git(root: Path, *arguments: str) -> None:
    subprocess.run(["git", *_IDENTITY, *arguments], cwd=root, check=True, capture_output=True)


def _build(root: Path, environment: dict[str, str]) -> Timing:
    """``qms build`` in a new process (it must succeed): its wall and CPU seconds."""
    command = [sys.executable, "-m", "qms", "build"]
    started = os.times()
    completed = subprocess.run(command, cwd=root, env=environment, capture_output=True, check=False)
    ended = os.times()
    if completed.returncode not in (0, 1):  # 1: built, with findings the generated project may carry
        raise SystemExit(f"qms build failed in {root}:\n{completed.stderr.decode(errors='replace')[-3000:]}")
    cpu = (ended.children_user - started.children_user) + (ended.children_system - started.children_system)
    return Timing(ended.elapsed - started.elapsed, cpu)


def bench(root: Path, environment: dict[str, str]) -> list[Timing]:
    """The four steps, in order, on the committed and built project ``root``."""
    edited, _ = changed_requirement(root)
    timings = []
    edit_text(edited, "The software ", "(committed change) The software ")
    _git(root, "commit", "-q", "-am", "Reword one requirement")
    timings.append(_build(root, environment))
    _git(root, "commit", "-q", "--allow-empty", "-m", "Nothing")
    timings.append(_build(root, environment))
    for attempt in (1, 2):
        edit_text(edited, "The software ", f"(change {attempt}) The software ")
        timings.append(_build(root, environment))
    return timings


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000])
    parser.add_argument("--workdir", type=Path, default=None, help="keep the generated projects here")
    arguments = parser.parse_args(argv)
    workdir = arguments.workdir or Path(tempfile.mkdtemp(prefix="qms-bench-commits-"))
    environment = compiled_environment(workdir / "bytecode")
    print(
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}"
    )
    print()
    print("| items | " + " | ".join(STEPS) + " |")
    print("|---:|" + "---:|" * len(STEPS))
    for size in arguments.sizes:
        root = generate(size, workdir / f"qms-{size}")
        (root / "conf.py").write_text(QMS_CONF, encoding="utf-8")
        commit_project(root)
        _build(root, environment)  # from clean, untimed: it compiles qms's bytecode too
        timings = bench(root, environment)
        print(f"| {size:,} | " + " | ".join(f"{t.wall:.2f} s ({t.cpu:.2f} s)" for t in timings) + " |", flush=True)
    if arguments.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
