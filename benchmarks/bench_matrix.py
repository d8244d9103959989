"""Time the traceability matrix on generated projects of N items and on dense ones, where paths multiply.

    python benchmarks/bench_matrix.py [--sizes 1000 10000] [--dense 12 25 40] [--repeat 3]

For each N, :mod:`generate` writes a realistic project; for each D, :func:`dense_project` writes
D items per level of the design chain (need, system and software requirement, software item,
test), each linking to all D items one level up: D**5 paths from a few kilobytes of YAML. This
script prints, per project, the rows of the design and risk matrices (made, and in all), the
seconds to count them (what ``qms check`` does for T107), the seconds to make both matrices
(what ``qms matrix`` and the site do) and the peak memory of making them. Tests never assert on
wall time: this is the place the figures come from.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import tracemalloc
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_check import timed
from generate import generate

from qms.matrix import DESIGN, RISK, default_matrices, matrix_size
from qms.project import load_project

#: the design chain's kinds, each with its id prefix, the field linking it one level up and a required field
LEVELS = (
    ("need", "N", "", "text: t"),
    ("system_requirement", "S", "derives_from", "text: t"),
    ("software_requirement", "W", "derives_from", "text: t"),
    ("software_item", "I", "implements", "description: d"),
    ("test", "T", "verifies", "method: test"),
)


def dense_items(per_level: int) -> str:
    """An item file of ``per_level`` items of each kind of the design chain, each linking to every item one level up."""
    lines = ["items:"]
    above = ""
    for kind, prefix, field, required in LEVELS:
        link = f", {field}: [{above}]" if field else ""
        for number in range(1, per_level + 1):
            lines.append(f"  - {{kind: {kind}, id: {prefix}-{number}, title: {prefix} {number}, {required}{link}}}")
        above = ", ".join(f"{prefix}-{number}" for number in range(1, per_level + 1))
    return "\n".join(lines) + "\n"


def dense_project(root: Path, per_level: int) -> Path:
    """A project of :func:`dense_items` only, in ``root`` (created)."""
    (root / "items").mkdir(parents=True)
    (root / "qms.yaml").write_text("device: {name: Dense, software_safety_class: C}\nsources: [items]\n")
    (root / "items" / "dense.yaml").write_text(dense_items(per_level))
    return root


def measure(name: str, root: Path, repeat: int) -> None:
    project = load_project(root)
    count = timed(lambda: [matrix_size(project, chain) for chain in (DESIGN, RISK)], repeat)
    make = timed(lambda: default_matrices(project), repeat)
    tracemalloc.start()
    matrices = default_matrices(project)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rows = " + ".join(f"{len(matrix.rows):,} of {matrix.total_rows:,}" for matrix in matrices)
    print(
        f"{name:>12} | {rows:>34} | {min(count):7.3f} {statistics.median(count):7.3f} "
        f"| {min(make):7.3f} {statistics.median(make):7.3f} | {peak / 1e6:8.1f}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[1_000, 10_000], help="generated project sizes")
    parser.add_argument("--dense", type=int, nargs="*", default=[12, 25, 40], help="items per level, dense projects")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (default 3)")
    arguments = parser.parse_args(argv)
    print(f"{arguments.repeat} runs per figure; seconds, minimum and median; peak memory of making both matrices\n")
    print(f"{'project':>12} | {'design + risk rows: made of all':>34} | {'count':^15} | {'make':^15} | {'peak MB':>8}")
    with tempfile.TemporaryDirectory(prefix="qms-bench-matrix-") as scratch:
        for size in arguments.sizes:
            measure(f"{size:,} items", generate(size, Path(scratch) / f"project-{size}"), arguments.repeat)
        for per_level in arguments.dense:
            root = dense_project(Path(scratch) / f"dense-{per_level}", per_level)
            measure(f"dense {per_level}", root, arguments.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
