"""Time ``qms build`` on generated projects, from clean, with nothing changed and after one item
changes; and sphinx-needs on the same data, in the same run.

    python benchmarks/bench_build.py [--sizes 1000 10000] [--repeat 1] [--no-sphinx-needs] [--git]
        [--edit text|title] [--workdir DIR]

For each N, :mod:`generate` writes a project (with ``--git``, committed to a new git repository,
so the site's audit trails and revision histories are read); then

- ``qms build`` runs as the real command in a new process (``python -m qms build``): first from
  clean (no previous site, no saved environment), then again with nothing changed, then after the
  text (``--edit title``: the title) of one software requirement in the middle of the project changed;
- sphinx-needs builds the same items: one ``.. need::`` per item, with its id, type, title, text
  and every link of the project (the same link types, so sphinx-needs shows incoming links too),
  on one page per kind as qms groups them into documents, plus one needtable of all
  requirements and their links standing in for the traceability matrix; the same theme (furo).
  Its one-item change edits the same requirement's text in its page.

Figures are wall-clock seconds and the CPU seconds the build process used (user + system), which
other work on a shared machine disturbs less, the peak memory of the clean build (the largest
resident set of the build or a process it waited for), and the largest page qms wrote; with
``--repeat`` the minimum is kept. Tests never
assert on wall time: this is the place the figures come from.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from generate import generate

from qms.project import load_project
from qms.schema import KINDS


def compiled_environment(bytecode: Path) -> dict[str, str]:
    """The environment a timed qms command runs in: Python's bytecode kept in ``bytecode``, as it is
    after ``pip install``, which compiles every module (the other tools' are, installed by pip).
    With ``PYTHONDONTWRITEBYTECODE`` set and qms run from its source folder, every module of qms
    would be compiled again by every command."""
    environment = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    environment["PYTHONPYCACHEPREFIX"] = str(bytecode)
    return environment


@dataclass(frozen=True)
class Timing:
    wall: float
    cpu: float
    memory: float = 0.0  # MB: the largest resident set of the command or one of the processes it waited for


def run(command: Sequence[str], cwd: Path) -> Timing:
    """Run a build command to completion (it must succeed); its wall and CPU seconds and peak memory."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(command, cwd=cwd, stdout=output, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.perf_counter() - started
        if process.returncode != 0:
            output.seek(0)
            raise SystemExit(f"{' '.join(command)} failed in {cwd}:\n{output.read().decode(errors='replace')}")
    return Timing(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


def best(timings: list[Timing]) -> Timing:
    return Timing(min(t.wall for t in timings), min(t.cpu for t in timings), min(t.memory for t in timings))


def largest_page(site: Path) -> tuple[str, int]:
    """The largest HTML page of a built site: its name and size in bytes."""
    sizes = {path.name: path.stat().st_size for path in site.glob("*.html")}
    name = max(sizes, key=lambda page: sizes[page], default="")
    return name, sizes.get(name, 0)


# ------------------------------------------------------------------------------ qms

QMS_CONF = 'extensions = ["qms.sphinx"]\n'


def changed_requirement(root: Path) -> tuple[Path, str]:
    """A software requirement file in the middle of the project, and the id of its first item."""
    files = sorted((root / "traceability" / "software_requirements").glob("*.yaml"))
    middle = files[len(files) // 2]
    item_id = next(
        line.split("id:", 1)[1].strip() for line in middle.read_text(encoding="utf-8").splitlines() if "- id:" in line
    )
    return middle, item_id


def edit_text(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    if old not in text:
        raise SystemExit(f"{path}: no {old!r} to change")
    if old == new:
        raise SystemExit(f"{path}: the edit of {old!r} changes nothing: a timing of it would time no edit")
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def commit_project(root: Path) -> None:
    """Make the project a git repository with one commit of everything in it."""
    (root / ".gitignore").write_text("_build/\n", encoding="utf-8")
    identity = ["-c", "user.name=Benchmark", "-c", "user.email=benchmark@example.org", "-c", "commit.gpgsign=false"]
    dated = {**os.environ, "GIT_AUTHOR_DATE": COMMIT_DATE, "GIT_COMMITTER_DATE": COMMIT_DATE}
    for arguments in (["init", "-q"], ["add", "-A"], [*identity, "commit", "-q", "-m", "Generated project"]):
        subprocess.run(["git", *arguments], cwd=root, check=True, capture_output=True, env=dated)


#: The generated project's commit is dated in the past: the results in it ran after it, as in a real project.
COMMIT_DATE = "2026-01-01T00:00:00Z"


#: What the one-item change edits (``--edit``): the text after which, and what it writes there.
EDITS = {"text": ("The software ", "(change {attempt}) "), "title": ("    title: ", "(change {attempt}) ")}


def bench_qms(root: Path, repeat: int, edit: str = "text") -> tuple[Timing, Timing, Timing, tuple[str, int]]:
    """The clean build, the build with nothing changed, the build after one item's text (or title)
    changed, and the largest page of the clean build (name and bytes)."""
    (root / "conf.py").write_text(QMS_CONF, encoding="utf-8")
    command = [sys.executable, "-m", "qms", "build", "--project", str(root)]
    clean, unchanged, change = [], [], []
    path, _ = changed_requirement(root)
    for attempt in range(repeat):
        shutil.rmtree(root / "_build", ignore_errors=True)
        clean.append(run(command, root))
        page = largest_page(root / "_build" / "html")
        unchanged.append(run(command, root))
        before, inserted = EDITS[edit]
        edit_text(path, before, before + inserted.format(attempt=attempt))
        change.append(run(command, root))
        edit_text(path, before + inserted.format(attempt=attempt), before)
    return best(clean), best(unchanged), best(change), page


# ------------------------------------------------------------------------------ sphinx-needs

#: sphinx-needs has a ``need`` directive of its own
DIRECTIVE = {"need": "user_need"}
LINK_FIELDS = sorted({spec.name for kind in KINDS.values() for spec in kind.link_fields})


def needs_conf() -> str:
    """sphinx-needs' configuration: a need type per kind, a link type per link field, furo."""
    types = [
        {
            "directive": DIRECTIVE.get(kind, kind),
            "title": spec.title,
            "prefix": f"{spec.prefix}-",
            "color": "#BFD8D2",
            "style": "node",
        }
        for kind, spec in KINDS.items()
    ]
    links = {
        name: {"incoming": f"{name.replace('_', ' ')} (incoming)", "outgoing": name.replace("_", " ")}
        for name in LINK_FIELDS
    }
    return (
        'extensions = ["sphinx_needs"]\n'
        'html_theme = "furo"\n'
        'exclude_patterns = ["_build"]\n'
        'needs_id_regex = r"^[A-Za-z][A-Za-z0-9_.-]*$"\n'
        f"needs_types = {types!r}\n"
        f"needs_links = {links!r}\n"
    )


def _need(item_id: str, kind: str, title: str, text: str, links: dict[str, tuple[str, ...]]) -> str:
    lines = [f".. {DIRECTIVE.get(kind, kind)}:: {' '.join(title.split()) or item_id}", f"   :id: {item_id}"]
    lines += [f"   :{name}: {', '.join(targets)}" for name, targets in links.items() if targets]
    body = [f"   {line}".rstrip() for line in text.strip().splitlines()]
    return "\n".join([*lines, "", *body, "", ""])


def write_needs_project(source: Path, target: Path) -> None:
    """The generated qms project as a sphinx-needs project: a page per kind, and a needtable."""
    project = load_project(source)
    target.mkdir(parents=True, exist_ok=True)
    (target / "conf.py").write_text(needs_conf(), encoding="utf-8")
    pages = []
    for kind, spec in KINDS.items():
        items = project.of_kind(kind)
        if not items:
            continue
        blocks = [f"{spec.title}\n{'=' * len(spec.title)}\n"]
        for item in items:
            text = next(
                (
                    item.get(name)
                    for name in ("text", "description", "hazard", "expected", "evaluation", "purpose")
                    if item.get(name)
                ),
                "",
            )
            links = {name: item.links(name) for name in LINK_FIELDS}
            blocks.append(_need(item.id, kind, item.title, str(text), links))
        (target / f"{kind}.rst").write_text("\n".join(blocks), encoding="utf-8")
        pages.append(kind)
    matrix = (
        "Traceability matrix\n===================\n\n.. needtable::\n"
        "   :types: system_requirement;software_requirement\n"
        f"   :columns: id;title;{';'.join(LINK_FIELDS)}\n   :style: table\n"
    )
    (target / "matrix.rst").write_text(matrix, encoding="utf-8")
    toctree = "\n".join(f"   {page}" for page in [*pages, "matrix"])
    (target / "index.rst").write_text(
        f"Technical file\n==============\n\n.. toctree::\n\n{toctree}\n", encoding="utf-8"
    )


def bench_sphinx_needs(source: Path, target: Path, repeat: int) -> tuple[Timing, Timing, Timing]:
    write_needs_project(source, target)
    command = [sys.executable, "-m", "sphinx", "-q", "-b", "html", ".", "_build/html"]
    _, item_id = changed_requirement(source)
    page = target / "software_requirement.rst"
    clean, unchanged, change = [], [], []
    for attempt in range(repeat):
        shutil.rmtree(target / "_build", ignore_errors=True)
        clean.append(run(command, target))
        unchanged.append(run(command, target))
        text = page.read_text(encoding="utf-8")
        start = text.index(f"   :id: {item_id}\n")
        body = text.index("The software shall ", start)
        page.write_text(
            text[:body] + f"The software (change {attempt}) shall " + text[body + len("The software shall ") :],
            encoding="utf-8",
        )
        change.append(run(command, target))
        page.write_text(text, encoding="utf-8")
    return best(clean), best(unchanged), best(change)


# ------------------------------------------------------------------------------ report


def _figures(clean: Timing, unchanged: Timing, change: Timing) -> str:
    return f"clean {clean.wall:.1f} s, nothing changed {unchanged.wall:.2f} s, one item changed {change.wall:.1f} s"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--no-sphinx-needs", action="store_true", help="time qms build only")
    parser.add_argument("--git", action="store_true", help="commit each generated project to a git repository")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the generated projects here")
    parser.add_argument("--edit", choices=sorted(EDITS), default="text", help="the field the one-item change edits")
    arguments = parser.parse_args(argv)
    workdir = arguments.workdir or Path(tempfile.mkdtemp(prefix="qms-bench-build-"))
    try:
        import sphinx_needs  # noqa: F401

        with_needs = not arguments.no_sphinx_needs
    except ImportError:
        with_needs = False
        print("sphinx-needs is not installed (pip install sphinx-needs): timing qms build only\n")
    print(
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, {platform.platform()}"
    )
    rows = []
    for size in arguments.sizes:
        project = generate(size, workdir / f"qms-{size}")
        if arguments.git:
            commit_project(project)
        clean, unchanged, change, (page, page_size) = bench_qms(project, arguments.repeat, arguments.edit)
        rows.append((size, "qms build", clean, unchanged, change))
        print(
            f"  {size} items, qms build: {_figures(clean, unchanged, change)}, "
            f"peak memory {clean.memory:.0f} MB, largest page {page} {page_size / 1e6:.1f} MB",
            flush=True,
        )
        if with_needs:
            rows.append(
                (size, "sphinx-needs", *bench_sphinx_needs(project, workdir / f"sphinx-needs-{size}", arguments.repeat))
            )
            print(f"  {size} items, sphinx-needs: {_figures(*rows[-1][2:])}", flush=True)
    print()
    print(
        "| items | tool | clean build: wall (CPU) | nothing changed: wall (CPU) | one item changed: wall (CPU) "
        "| peak memory, clean |"
    )
    print("|---:|---|---:|---:|---:|---:|")
    for size, tool, clean, *timings in rows:
        figures = " | ".join(f"{t.wall:.2f} s ({t.cpu:.2f} s)" for t in (clean, *timings))
        print(f"| {size:,} | {tool} | {figures} | {clean.memory:.0f} MB |")
    if arguments.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
