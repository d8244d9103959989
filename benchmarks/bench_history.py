"""Time reading the audit trails of generated projects with a git history.

    python benchmarks/bench_history.py [--sizes 1000 10000] [--commits 100] [--workdir DIR]

For each N, :mod:`generate` writes a project and commits it; then ``--commits`` commits each
change the text of one software requirement (a different file each time), and one more moves
a file to another folder. Measured: the one pass over the history that gives every item its
trail (what ``qms build`` does once per build), the HTML of every item's trail on the site, and
``qms log ID`` for one item (the files that ever held it only). Figures are wall-clock seconds.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from generate import generate

from qms.history import item_history, project_history
from qms.project import load_project
from qms.sphinx.audit import audit_html, audit_view
from qms.sphinx.queries import QUERIES
from qms.sphinx.views.build import BuildData

_ENVIRONMENT = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.org",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.org",
}


def git(root: Path, *arguments: str) -> None:
    subprocess.run(["git", *arguments], cwd=root, env=_ENVIRONMENT, check=True, capture_output=True)


def make_history(root: Path, commits: int) -> str:
    """Commit the project, then ``commits`` one-item changes and a moved file; the changed item's id."""
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Generated project")
    files = sorted((root / "traceability" / "software_requirements").glob("*.yaml"))
    changed = ""
    for number in range(commits):
        path = files[number % len(files)]
        text = path.read_text(encoding="utf-8")
        marker = "    text: |\n      "
        start = text.index(marker) + len(marker)
        path.write_text(text[:start] + f"Revision {number}: " + text[start:], encoding="utf-8")
        changed = changed or text[text.index("- id: ") + 6 : text.index("\n", text.index("- id: "))]
        git(root, "commit", "-q", "-am", f"Revise item text {number}")
    moved = files[0]
    (root / "moved").mkdir()
    git(root, "mv", str(moved.relative_to(root)), "moved/" + moved.name)
    git(root, "commit", "-q", "-m", "Move a file")
    return changed


def measure(size: int, commits: int, workdir: Path) -> None:
    root = workdir / f"project-{size}"
    generate(size, root)
    item_id = make_history(root, commits)
    project = load_project(root)
    started = time.perf_counter()
    trails = project_history(project)
    one_pass = time.perf_counter() - started
    data = BuildData(project=project, findings=(), control=None, queries=QUERIES)  # type: ignore[arg-type]
    data.cache[("audit-trails",)] = trails
    started = time.perf_counter()
    html = sum(len(audit_html(audit_view(data, item.id))) for item in project)
    rendering = time.perf_counter() - started
    started = time.perf_counter()
    trail = item_history(project, item_id)
    one_item = time.perf_counter() - started
    changes = sum(len(found.changes) for found in trails.values())
    print(
        f"{size:>6} items, {commits + 2:>4} commits: one pass {one_pass:6.2f} s ({changes} changes), "
        f"HTML of every trail {rendering:5.2f} s ({html / 1e6:.1f} MB), "
        f"qms log {item_id} {one_item:5.2f} s ({len(trail.changes)} changes)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--commits", type=int, default=100)
    parser.add_argument("--workdir", type=Path)
    arguments = parser.parse_args()
    if arguments.workdir is not None:
        arguments.workdir.mkdir(parents=True, exist_ok=True)
        for size in arguments.sizes:
            measure(size, arguments.commits, arguments.workdir)
        return
    with tempfile.TemporaryDirectory(prefix="qms-bench-history-") as folder:
        for size in arguments.sizes:
            measure(size, arguments.commits, Path(folder))


if __name__ == "__main__":
    main()
