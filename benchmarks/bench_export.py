"""Time ``qms export xlsx`` on generated projects of N items: wall, CPU and peak memory.

    python benchmarks/bench_export.py [--sizes 10000 50000] [--repeat 2] [--code LABEL=DIR ...] [--workdir DIR]

For each N, :mod:`generate` writes a project (outside git), and ``python -m qms export xlsx`` runs
in a new process, interpreter start and imports included, as a user runs it. ``--code`` names
other checkouts of qms to run the same command with (``before=/tmp/qms-main``: that folder first on
``PYTHONPATH``), so that a change is measured before and after in one run on one machine; without
it, the qms this script imports runs. The table gives, per size and checkout, the minimum over
``--repeat`` runs of the wall-clock and CPU seconds (user and system) and of the peak resident
memory of the process, and the size of the workbook. Tests never assert on these figures.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from generate import generate

import qms


def export_once(root: Path, code: Path, target: Path) -> tuple[float, float, float]:
    """Run ``qms export xlsx`` with ``code`` first on the path; (wall seconds, CPU seconds, peak MB)."""
    environment = {**os.environ, "PYTHONPATH": str(code)}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "qms", "export", "xlsx", str(target)],
        cwd=root,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        assert process.stderr is not None
        raise SystemExit(f"qms export failed with {code}:\n{process.stderr.read().decode()}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 50_000])
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--code", nargs="*", default=[], metavar="LABEL=DIR")
    parser.add_argument("--workdir", type=Path, default=None)
    arguments = parser.parse_args()
    checkouts = {"this": Path(qms.__file__).parents[1]}
    for entry in arguments.code:
        label, _, folder = entry.partition("=")
        checkouts[label] = Path(folder).resolve()
    workdir = arguments.workdir or Path(tempfile.mkdtemp(prefix="qms-bench-export-"))
    print(f"# {platform.platform()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
    print("| items | qms | wall s | CPU s | peak MB | workbook MB |")
    print("|---:|---|---:|---:|---:|---:|")
    for size in arguments.sizes:
        root = workdir / f"p{size}"
        if not (root / "qms.yaml").exists():
            generate(size, root)
        for label, code in checkouts.items():
            target = workdir / f"{label}-{size}.xlsx"
            runs = [export_once(root, code, target) for _ in range(arguments.repeat)]
            wall, cpu, peak = (min(run[index] for run in runs) for index in range(3))
            megabytes = target.stat().st_size / 1e6
            print(f"| {size:,} | {label} | {wall:.1f} | {cpu:.1f} | {peak:.0f} | {megabytes:.1f} |", flush=True)
    print(f"# load average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
