"""Time what test results and execution records add to ``qms check`` at 10,000 items.

    python benchmarks/bench_status.py [--items 10000] [--results 20000] [--records 5000] [--repeat 3]

Generates a project (:mod:`generate`), then checks it twice in-process, the project already
loaded: once with neither result files nor records, once with ``--results`` JUnit test cases (in
files of 5,000, each naming a test through its ``verifies`` property) and ``--records`` execution
records (one per test, then re-runs). The difference is what reading, validating and matching
them and computing every item's status (:mod:`qms.status`) costs. No git: staleness is not judged.
Tests never assert on wall time: this is the place the figure comes from.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from generate import generate, write_records, write_results

from qms.checking import check_context
from qms.project import load_project
from qms.rules import run_rules


def check_seconds(root: Path, repeat: int) -> tuple[float, int]:
    """Minimum seconds of evidence and records loading plus every rule, and the findings count."""
    project = load_project(root)
    best, count = float("inf"), 0
    for _ in range(repeat):
        started = time.perf_counter()
        findings = run_rules(check_context(project))
        best = min(best, time.perf_counter() - started)
        count = len(findings)
    return best, count


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--results", type=int, default=20_000)
    parser.add_argument("--records", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=3)
    arguments = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="qms-bench-status-") as scratch:
        root = generate(arguments.items, Path(scratch) / "project")
        project = load_project(root)
        tests = [test.id for test in project.of_kind("test")]
        for path in [*(root / "records").iterdir(), *(root / "reports").iterdir()]:
            path.unlink()
        config = (root / "qms.yaml").read_text(encoding="utf-8")
        bare_config = config.replace("records: [records]\n", "").replace("evidence: [reports/*.xml]\n", "")
        (root / "qms.yaml").write_text(bare_config, encoding="utf-8")
        bare, bare_findings = check_seconds(root, arguments.repeat)
        write_results(root / "reports", tests, arguments.results)
        written = write_records(root / "records", tests[: arguments.records], max(0, arguments.records - len(tests)))
        (root / "qms.yaml").write_text(config, encoding="utf-8")
        full, full_findings = check_seconds(root, arguments.repeat)
    print(f"{arguments.items} items, {len(tests)} tests; minimum of {arguments.repeat} runs, project loaded")
    print(f"  check without results or records: {bare:6.3f} s ({bare_findings} findings)")
    print(f"  with {arguments.results} JUnit results and {written} records: {full:6.3f} s ({full_findings} findings)")
    print(f"  extra: {full - bare:6.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
