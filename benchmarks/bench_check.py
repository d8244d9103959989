"""Time loading and ``qms check`` on generated projects of N items.

    python benchmarks/bench_check.py [--sizes 1000 10000 50000] [--repeat 5] [--workdir DIR]

For each N, :mod:`generate` writes a project that checks clean, then this script times

- ``qms check``: the real command in a new process (``python -m qms check``), interpreter start
  and imports included, as CI runs it: wall-clock time, and the CPU time the process used (user
  and system), which other work on a shared machine disturbs less;
- loading in-process (``load_project``), and the phases of a check one by one: configuration and
  file discovery, YAML parsing, item validation, the link graph, the rules, the text report.

Each figure is measured ``--repeat`` times; the table gives the minimum (the least disturbed by
other work on the machine) and the median, in seconds. Tests never assert on wall time: this is
the place the figures come from.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))

from generate import generate

from qms.checking import check_context
from qms.config import load_config
from qms.loading import read_items
from qms.project import _relative, build_project, load_project, source_files
from qms.reporting import format_text
from qms.rules import run_rules
from qms.yamlfile import collection_paused, read_yaml

PHASES = ("config", "parse", "validate", "graph", "rules", "report")


def timed(action: Callable[[], Any], repeat: int) -> list[float]:
    """Wall-clock seconds of ``repeat`` runs of ``action``."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return times


def check_command(root: Path) -> float:
    """Run ``python -m qms check`` in ``root`` (it must pass); the CPU seconds it took."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    completed = subprocess.run(
        [sys.executable, "-m", "qms", "check"], cwd=root, capture_output=True, text=True, check=False
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise SystemExit(f"qms check failed on {root}:\n{completed.stdout}{completed.stderr}")
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def phase_times(root: Path) -> dict[str, float]:
    """Seconds per phase of one check, run the way ``load_project`` and ``qms check`` run them."""
    spent: dict[str, float] = {}

    def clock(phase: str, action: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        result = action()
        spent[phase] = time.perf_counter() - started
        return result

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
        clock("report", lambda: format_text(project, findings))
    return spent


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
    parser.add_argument("--workdir", type=Path, help="where to write the projects (default: a temporary folder)")
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="qms-bench-") as scratch:
        workdir = arguments.workdir or Path(scratch)
        print(f"machine: {machine()}")
        startup = timed(
            lambda: subprocess.run([sys.executable, "-m", "qms", "--version"], check=True, capture_output=True),
            arguments.repeat,
        )
        print(
            f"start-up (python -m qms --version): min {min(startup):.3f} s, median {statistics.median(startup):.3f} s"
        )
        print(f"{arguments.repeat} runs per figure; seconds, minimum and median\n")
        print(f"{'items':>7} {'files':>6} | {'qms check':^15} | {'qms check CPU':^15} | {'load':^15}")
        rows = []
        for size in arguments.sizes:
            root = generate(size, workdir / f"project-{size}", arguments.seed)
            files = len(list(root.rglob("*.yaml"))) - 1
            cpu: list[float] = []
            check = timed(lambda root=root, cpu=cpu: cpu.append(check_command(root)), arguments.repeat)  # type: ignore[misc]
            load = timed(lambda root=root: load_project(root), arguments.repeat)  # type: ignore[misc]
            phases = [phase_times(root) for _ in range(arguments.repeat)]
            rows.append((size, phases))
            print(f"{size:>7} {files:>6} | {seconds(check)} | {seconds(cpu)} | {seconds(load)}")
        print(f"\nphases of a check, in-process (minimum of {arguments.repeat}), seconds")
        print(f"{'items':>7} " + " ".join(f"{phase:>9}" for phase in PHASES))
        for size, phases in rows:
            print(f"{size:>7} " + " ".join(f"{min(run[phase] for run in phases):9.3f}" for phase in PHASES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
