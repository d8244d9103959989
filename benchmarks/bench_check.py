"""Time loading and ``qms check`` on generated projects of N items.

    python benchmarks/bench_check.py [--sizes 1000 10000 50000] [--repeat 5] [--git] [--workdir DIR]

For each N, :mod:`generate` writes a project that checks clean (with JUnit results, execution
records and ``qms.lock``; with ``--git`` committed to a new git repository, dated before the
results ran so that they are not stale, and every result is judged against ``git blame``), then
this script times

- ``qms check``: the real command in a new process (``python -m qms check``), interpreter start
  and imports included, as CI runs it, three ways: cold (the parse cache removed before each run,
  as in a fresh clone: every file parsed and the cache written), ``--no-cache`` (parsed, nothing
  written) and warm (the cache in place, nothing changed). Wall-clock time, and the CPU time the
  process used (user and system), which other work on a shared machine disturbs less. Python's
  bytecode is compiled once beforehand, as ``pip install`` does (``PYTHONDONTWRITEBYTECODE`` would
  otherwise compile every module on every run);
- loading in-process (``load_project``), cold and from the cache, and the phases of a check one
  by one: configuration and file discovery, YAML parsing, item validation, the link graph, the
  rules, the text report; and those of a warm check: loading from the cache, reading evidence,
  records and ``qms.lock``, the rules (what the project alone decides taken from the cache), the
  report.

Each figure is measured ``--repeat`` times; the table gives the minimum (the least disturbed by
other work on the machine) and the median, in seconds. Tests never assert on wall time: this is
the place the figures come from.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from bench_build import compiled_environment
from generate import generate

from qms.checking import check_context, root_causes
from qms.config import DEFAULT_CACHE, load_config
from qms.loading import read_items
from qms.project import _relative, build_project, load_project, source_files
from qms.reporting import format_text
from qms.rules import run_rules
from qms.yamlfile import collection_paused, read_yaml

PHASES = ("config", "parse", "validate", "graph", "rules", "report")
WARM_PHASES = ("load", "context", "rules", "report")
#: commits of the generated project are dated before its results ran (2025-06-02)
COMMITTED = "2025-01-01T00:00:00Z"


def timed(action: Callable[[], Any], repeat: int) -> list[float]:
    """Wall-clock seconds of ``repeat`` runs of ``action``."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return times


def check_command(root: Path, bytecode: Path, *options: str) -> float:
    """Run ``python -m qms check OPTIONS`` in ``root`` (it must pass); the CPU seconds it took."""
    environment = compiled_environment(bytecode)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    completed = subprocess.run(
        [sys.executable, "-m", "qms", "check", *options],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env=environment,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise SystemExit(f"qms check failed on {root}:\n{completed.stdout}{completed.stderr}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def timed_check(root: Path, bytecode: Path, repeat: int, *options: str, cold: bool = False) -> tuple[list[float], ...]:
    """Wall and CPU seconds of ``repeat`` runs of ``qms check``; ``cold`` removes the parse cache before each."""
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(repeat):
        if cold:
            shutil.rmtree(root / DEFAULT_CACHE, ignore_errors=True)
        started = time.perf_counter()
        cpu.append(check_command(root, bytecode, *options))
        wall.append(time.perf_counter() - started)
    return wall, cpu


def clocking(spent: dict[str, float], timer: Callable[[], float]) -> Callable[[str, Callable[[], Any]], Any]:
    """A function that runs an action and notes in ``spent``, under the phase's name, what ``timer`` says it took."""

    def clock(phase: str, action: Callable[[], Any]) -> Any:
        started = timer()
        result = action()
        spent[phase] = timer() - started
        return result

    return clock


def phase_times(root: Path) -> dict[str, float]:
    """Seconds per phase of one check, run the way ``load_project`` and ``qms check`` run them."""
    spent: dict[str, float] = {}
    clock = clocking(spent, time.perf_counter)
    with collection_paused():
        config, _ = clock("config", lambda: load_config(root))
        assert config is not None
        paths, _ = source_files(root, config)
        documents = clock("parse", lambda: [read_yaml(path, _relative(root, path)) for path in paths])

        def validate() -> dict[str, Any]:
            items: dict[str, Any] = {}
            for document in documents:
                for item in read_items(document, config.risk_policy):
                    items.setdefault(item.id, item)
            return items

        items = clock("validate", validate)
        project = clock("graph", lambda: build_project(root, config, items, tuple(), []))
        findings = clock("rules", lambda: run_rules(check_context(project)))
        clock("report", lambda: format_text(project, root_causes(project, findings)))
    return spent


def warm_phase_times(root: Path) -> dict[str, float]:
    """CPU seconds per phase of one check with the parse cache in place, as ``qms check`` runs them."""
    spent: dict[str, float] = {}
    clock = clocking(spent, time.process_time)
    project = clock("load", lambda: load_project(root, cache=True))
    with collection_paused():
        context = clock("context", lambda: check_context(project, cache=True))
        findings = clock("rules", lambda: run_rules(context))
        clock("report", lambda: format_text(project, root_causes(project, findings)))
    return spent


def commit(root: Path) -> None:
    """Make the project a git repository with one commit of everything in it, dated :data:`COMMITTED`."""
    (root / ".gitignore").write_text("_build/\n", encoding="utf-8")
    environment = {**os.environ, "GIT_AUTHOR_DATE": COMMITTED, "GIT_COMMITTER_DATE": COMMITTED}
    identity = ["-c", "user.name=Benchmark", "-c", "user.email=benchmark@example.org", "-c", "commit.gpgsign=false"]
    for arguments in (
        ["init", "-q"],
        ["add", "-A"],
        [*identity, "commit", "-q", "--allow-empty", "-m", "Generated project"],
    ):
        subprocess.run(["git", *arguments], cwd=root, check=True, capture_output=True, env=environment)


def seconds(values: Sequence[float]) -> str:
    return f"{min(values):7.3f} {statistics.median(values):7.3f}"


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} CPUs, Python {platform.python_version()} ({platform.python_implementation()})"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 50_000], help="project sizes (items)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per figure (default 5)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated projects")
    parser.add_argument("--git", action="store_true", help="commit each generated project to a git repository")
    parser.add_argument("--workdir", type=Path, help="where to write the projects (default: a temporary folder)")
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="qms-bench-") as scratch:
        workdir = arguments.workdir or Path(scratch)
        bytecode = Path(scratch) / "bytecode"
        print(f"machine: {machine()}")
        startup = timed(
            lambda: subprocess.run([sys.executable, "-m", "qms", "--version"], check=True, capture_output=True),
            arguments.repeat,
        )
        print(
            f"start-up (python -m qms --version): min {min(startup):.3f} s, median {statistics.median(startup):.3f} s"
        )
        print(f"{arguments.repeat} runs per figure; seconds, minimum and median\n")
        columns = ("cold", "cold CPU", "--no-cache CPU", "warm", "warm CPU", "load", "load, cached")
        print(f"{'items':>7} {'files':>6} | " + " | ".join(f"{column:^15}" for column in columns))
        rows = []
        for size in arguments.sizes:
            root = generate(size, workdir / f"project-{size}", arguments.seed)
            if arguments.git:
                commit(root)
            files = len(list(root.rglob("*.yaml"))) - 1
            check_command(root, bytecode, "--no-cache")  # compiles the bytecode once
            cold = timed_check(root, bytecode, arguments.repeat, cold=True)
            _, uncached = timed_check(root, bytecode, arguments.repeat, "--no-cache")
            warm = timed_check(root, bytecode, arguments.repeat)
            load = timed(lambda root=root: load_project(root), arguments.repeat)  # type: ignore[misc]
            cached = timed(lambda root=root: load_project(root, cache=True), arguments.repeat)  # type: ignore[misc]
            phases = [phase_times(root) for _ in range(arguments.repeat)]
            warm_phases = [warm_phase_times(root) for _ in range(arguments.repeat)]
            rows.append((size, phases, warm_phases))
            figures = (*cold, uncached, *warm, load, cached)
            print(f"{size:>7} {files:>6} | " + " | ".join(seconds(figure) for figure in figures))
        print(f"\nphases of a check without the cache, in-process (minimum of {arguments.repeat}), seconds")
        print(f"{'items':>7} " + " ".join(f"{phase:>9}" for phase in PHASES))
        for size, phases, _ in rows:
            print(f"{size:>7} " + " ".join(f"{min(run[phase] for run in phases):9.3f}" for phase in PHASES))
        print(f"\nphases of a warm check, in-process (minimum of {arguments.repeat}), CPU seconds")
        print(f"{'items':>7} " + " ".join(f"{phase:>9}" for phase in WARM_PHASES))
        for size, _, warm_phases in rows:
            print(f"{size:>7} " + " ".join(f"{min(run[phase] for run in warm_phases):9.3f}" for phase in WARM_PHASES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
