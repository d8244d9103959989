"""Time qms against sphinx-needs, StrictDoc and Doorstop on the same items, in one run.

    python benchmarks/compare.py [--sizes 1000 10000] [--venv DIR] [--cap SECONDS] [--repeat R [--runs]]
        [--workdir DIR]

The other tools are installed in their own virtual environment (``--venv``, created on first use
from ``benchmarks/compare-requirements.txt``, pinned versions), never into qms's. For each N,
:mod:`generate` writes the class C project (with JUnit results, execution records and a
``qms.lock``, as real projects have them), and the same items (ids, titles, texts and parent
links) are written for each tool in its own format: one ``.. need::`` per item on a page per kind
(sphinx-needs, as :mod:`bench_build` writes it), one ``.sdoc`` document per kind with a
``[REQUIREMENT]`` per item and ``Parent`` relations (StrictDoc), one Doorstop document per kind
with a YAML file per item and its links (Doorstop). Each tool is timed, as a new process, on

- check: ``qms check``, ``strictdoc export --formats json`` (StrictDoc reads, links and validates
  every document: its nearest to a check), ``doorstop`` (its validation); sphinx-needs has none;
- clean build: HTML from nothing (``qms build``, ``sphinx-build``, ``strictdoc export``,
  ``doorstop publish all``);
- no-change rebuild, rebuild after one file is touched (its time stamp only), after one item's
  text is edited, and (qms) after one item's title, one of its links (a parent taken away, or
  added where it has one) and one hazard's severity (one level up) are edited, each edit undone
  and built before the next;
- peak memory (the largest resident set of the command's processes) of the clean build.

qms runs with its bytecode compiled once beforehand, as after ``pip install`` (the other tools are
installed so); ``PYTHONDONTWRITEBYTECODE`` would otherwise have a source checkout compile every
module of qms on every command.

Every command runs with a cap (``--cap``, default 600 s; Doorstop is superlinear): a command
that reaches it is stopped and reported as "> cap". Also reported: the largest page each tool
writes. Figures are wall seconds and the CPU seconds of every process of the command (less
disturbed by other work on a shared machine), one run each unless ``--repeat R`` asks for the median
of R runs of the check and of each rebuild (each check from a clean folder, so each is cold: qms's
parse cache is removed; the clean build runs once): an edit's runs alternate
between making it and undoing it, so that each is a real one-edit rebuild of another state than
the last build's (making the same edit twice would find its file's bytes already parsed); ``--runs``
also prints each run's wall seconds, so that a median can be checked against what it stands for.
Compare only within a run; the load average is printed. Tests never assert on wall time.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_build import changed_requirement, compiled_environment, edit_text, write_needs_project
from generate import generate

from qms.model import Item, Project
from qms.project import load_project
from qms.schema import KINDS

REQUIREMENTS = Path(__file__).parent / "compare-requirements.txt"
TOOLS = ("qms", "sphinx-needs", "StrictDoc", "Doorstop")
STEPS = (
    "check",
    "clean build",
    "no change",
    "one file touched",
    "one text edit",
    "one title edit",
    "one link edit",
    "one severity edit",
)
#: the field holding each kind's text, in the order qms's documents show them
TEXT_FIELDS = ("text", "description", "hazard", "expected", "evaluation", "purpose")


@dataclass(frozen=True)
class Run:
    """One command: wall and CPU seconds (user + system, every process of it), peak resident memory
    in MB; ``capped`` if it was stopped at the cap. A median (:func:`median`) keeps the wall seconds
    of each of its runs, in the order they ran."""

    wall: float
    cpu: float
    memory: float
    capped: bool = False
    runs: tuple[float, ...] = ()

    def shown(self, cap: float) -> str:
        return f"> {cap:.0f} s (cap)" if self.capped else f"{self.wall:.1f} s ({self.cpu:.1f} s)"


def measure(command: Sequence[str], cwd: Path, cap: float, environment: dict[str, str] | None = None) -> Run:
    """Run ``command`` as a new process group, stopped at ``cap`` seconds; it must succeed otherwise."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True, env=environment
    )
    stopped = threading.Event()

    def stop() -> None:
        stopped.set()
        os.killpg(process.pid, signal.SIGKILL)

    timer = threading.Timer(cap, stop)
    timer.start()
    assert process.stderr is not None
    try:
        errors = process.stderr.read()
        _, status, usage = os.wait4(process.pid, 0)
    except BaseException:  # interrupted: leave no build running behind
        os.killpg(process.pid, signal.SIGKILL)
        raise
    finally:
        timer.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    cpu = usage.ru_utime + usage.ru_stime
    if stopped.is_set():
        return Run(cap, cpu, usage.ru_maxrss / 1024, capped=True)
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed in {cwd}:\n{errors.decode(errors='replace')[-3000:]}")
    return Run(wall, cpu, usage.ru_maxrss / 1024)


def largest_page(folder: Path) -> float:
    """The size in MB of the largest HTML page under ``folder``."""
    return max((path.stat().st_size for path in folder.rglob("*.html")), default=0) / 1e6


# ------------------------------------------------------------------------------ the same items for each tool


@dataclass(frozen=True)
class Entry:
    id: str
    kind: str
    title: str
    text: str
    parents: tuple[str, ...]


def entries(root: Path) -> list[Entry]:
    """Every item of the generated project with the text it shows and the items it links to."""
    project = load_project(root)
    result = []
    for kind, spec in KINDS.items():
        for item in project.of_kind(kind):
            text = next((str(item.get(name)) for name in TEXT_FIELDS if item.get(name)), item.title)
            # one link per pair of items: two fields may name the same item (StrictDoc refuses a repeated link)
            linked = (target for field in spec.link_fields for target in item.links(field.name))
            parents = tuple(dict.fromkeys(target for target in linked if target != item.id))
            result.append(Entry(item.id, kind, " ".join(item.title.split()), text.strip(), parents))
    return result


def write_strictdoc(items: list[Entry], target: Path) -> None:
    """One ``.sdoc`` document per kind, a ``[REQUIREMENT]`` per item with its parents as relations."""
    target.mkdir(parents=True)
    for kind, spec in KINDS.items():
        blocks = [f"[DOCUMENT]\nTITLE: {spec.title}\n"]
        for entry in (entry for entry in items if entry.kind == kind):
            lines = ["[REQUIREMENT]", f"UID: {entry.id}", f"TITLE: {entry.title}", "STATEMENT: >>>", entry.text, "<<<"]
            if entry.parents:
                lines.append("RELATIONS:")
                lines += [f"- TYPE: Parent\n  VALUE: {parent}" for parent in entry.parents]
            blocks.append("\n".join(lines) + "\n")
        if len(blocks) > 1:
            (target / f"{kind}.sdoc").write_text("\n".join(blocks), encoding="utf-8")


def write_doorstop(items: list[Entry], target: Path) -> None:
    """A Doorstop tree in a git repository: a document per kind (needs at the root), a YAML file per item."""
    target.mkdir(parents=True)
    subprocess.run(["git", "init", "-q"], cwd=target, check=True)
    root_prefix = KINDS["need"].prefix
    for kind, spec in KINDS.items():
        mine = [entry for entry in items if entry.kind == kind]
        if not mine:
            continue
        folder = target / kind
        folder.mkdir()
        digits = len(mine[0].id.rsplit("-", 1)[1])
        parent = "" if spec.prefix == root_prefix else f"  parent: {root_prefix}\n"
        settings = f"settings:\n  digits: {digits}\n{parent}  prefix: {spec.prefix}\n  sep: '-'\n"
        (folder / ".doorstop.yml").write_text(settings, encoding="utf-8")
        for number, entry in enumerate(mine, 1):
            links = "links:\n" + "".join(f"- {parent_id}: null\n" for parent_id in entry.parents)
            text = "".join(f"  {line}\n" for line in entry.text.splitlines())
            header = entry.title.replace("'", "''")
            (folder / f"{entry.id}.yml").write_text(
                f"active: true\nderived: false\nheader: '{header}'\nlevel: 1.{number}\n"
                f"{links if entry.parents else 'links: []' + chr(10)}normative: true\nref: ''\nreviewed: null\n"
                f"text: |\n{text}",
                encoding="utf-8",
            )


# ------------------------------------------------------------------------------ the tools


@dataclass(frozen=True)
class Tool:
    """How one tool checks and builds a project, and the file and text its edits change."""

    name: str
    folder: Path
    check: list[str] | None
    build: list[str]
    output: Path
    edited: Path
    text: str
    #: the edits timed for this tool alone after the text edit (qms: a title, a link, a severity)
    edits: tuple[Edit, ...] = ()
    #: the environment its commands run in (None: this one's)
    environment: dict[str, str] | None = None


@dataclass(frozen=True)
class Edit:
    """One edit timed as ``step``: ``old`` replaced by ``new`` in ``path`` (``old`` names the item, so
    undoing it changes the same place)."""

    step: str
    path: Path
    old: str
    new: str


def _item_lines(path: Path, item_id: str, field: str) -> str:
    """The lines of ``path`` from the item's ``- id:`` line to its first ``field:`` line, included."""
    text = path.read_text("utf-8")
    start = text.index(f"  - id: {item_id}\n")
    end = text.index("\n", text.index(f"    {field}:", start)) + 1
    return text[start:end]


def _numbered_severity(root: Path, project: Project) -> tuple[Item, str, int]:
    """The first hazard whose severity is written as a level below the highest, its lines up to it, and
    the level (the generator writes every other severity by name, which the edit would leave as it is)."""
    for hazard in project.of_kind("hazard"):
        level = str(hazard.fields.get("severity"))
        if level in {"1", "2", "3", "4"}:
            lines = _item_lines(root / hazard.file, hazard.id, "severity")
            if f"severity: {level}\n" in lines:
                return hazard, lines, int(level)
    raise SystemExit(f"{root}: no hazard's severity is written as a level from 1 to 4: nothing to edit")


def qms_edits(root: Path, edited: Path, item_id: str) -> tuple[Edit, ...]:
    """The title, a link and a hazard's severity edited in the generated project (see the module's text)."""
    project = load_project(root)
    title = _item_lines(edited, item_id, "title")
    links = _item_lines(edited, item_id, "derives_from")
    targets = links.rsplit("[", 1)[1].split("]", 1)[0].split(", ")
    if len(targets) > 1:
        linked = links.replace(f", {targets[-1]}]", "]")
    else:
        other = next(item.id for item in project.of_kind("system_requirement") if item.id not in targets)
        linked = links.replace("]\n", f", {other}]\n")
    hazard, severity, level = _numbered_severity(root, project)
    return (
        Edit("one title edit", edited, title, title.replace("title: ", "title: (edited) ", 1)),
        Edit("one link edit", edited, links, linked),
        Edit(
            "one severity edit",
            root / hazard.file,
            severity,
            severity.replace(f"severity: {level}", f"severity: {level + 1}"),
        ),
    )


def warm_up(workdir: Path, environment: dict[str, str]) -> None:
    """Check and build a small project once, untimed: every module qms's commands import is compiled."""
    root = generate(50, workdir / "warm-up")
    (root / "conf.py").write_text('extensions = ["qms.sphinx"]\n', encoding="utf-8")
    for command in ("check", "build"):
        subprocess.run([sys.executable, "-m", "qms", command], cwd=root, env=environment, capture_output=True)


def prepare(size: int, workdir: Path, venv: Path) -> list[Tool]:
    """The tools' projects of ``size`` items written into ``workdir``, emptied first: what an earlier
    run left there (a built site, a kept cache) would make its clean build no clean build."""
    shutil.rmtree(workdir, ignore_errors=True)
    root = generate(size, workdir / "qms")
    (root / "conf.py").write_text('extensions = ["qms.sphinx"]\n', encoding="utf-8")
    edited, item_id = changed_requirement(root)
    edits = qms_edits(root, edited, item_id)
    items = entries(root)
    write_needs_project(root, workdir / "sphinx-needs")
    write_strictdoc(items, workdir / "strictdoc")
    write_doorstop(items, workdir / "doorstop")
    compiled = compiled_environment(workdir / "bytecode")
    warm_up(workdir, compiled)
    python, binaries = venv / "bin" / "python", venv / "bin"
    strictdoc = [str(binaries / "strictdoc"), "export", "--output-dir", "out", "."]
    text = "The software shall "
    return [
        Tool(
            "qms",
            root,
            [sys.executable, "-m", "qms", "check"],
            [sys.executable, "-m", "qms", "build"],
            root / "_build" / "html",
            edited,
            text,
            edits,
            compiled,
        ),
        Tool(
            "sphinx-needs",
            workdir / "sphinx-needs",
            None,
            [str(python), "-m", "sphinx", "-q", "-b", "html", ".", "_build/html"],
            workdir / "sphinx-needs" / "_build" / "html",
            workdir / "sphinx-needs" / "software_requirement.rst",
            text,
        ),
        Tool(
            "StrictDoc",
            workdir / "strictdoc",
            [*strictdoc[:2], "--formats", "json", *strictdoc[2:]],
            [*strictdoc[:2], "--formats", "html", *strictdoc[2:]],
            workdir / "strictdoc" / "out" / "html",
            workdir / "strictdoc" / "software_requirement.sdoc",
            text,
        ),
        Tool(
            "Doorstop",
            workdir / "doorstop",
            [str(binaries / "doorstop")],
            [str(binaries / "doorstop"), "publish", "all", "out"],
            workdir / "doorstop" / "out",
            next((workdir / "doorstop" / "software_requirement").glob("*.yml")),
            text,
        ),
    ]


def bench(tool: Tool, cap: float, repeat: int = 1) -> dict[str, Run | None]:
    """Every step for one tool, in order, from a clean folder; a capped build skips the rebuilds.
    The check (each run from a clean folder) and each rebuild are the median of ``repeat`` runs (see
    the module's text); the clean build runs once, after the checks, as it would after one."""

    def build() -> Run:
        return measure(tool.build, tool.folder, cap, tool.environment)

    def cold(command: Sequence[str]) -> Run:
        for folder in (tool.folder / "_build", tool.folder / "out"):
            shutil.rmtree(folder, ignore_errors=True)
        return measure(command, tool.folder, cap, tool.environment)

    results: dict[str, Run | None] = dict.fromkeys(STEPS)
    if tool.check:  # each run cold: what the last one kept (qms's parse cache) is removed before it
        checks: list[Run] = []
        while len(checks) < repeat and not any(run.capped for run in checks):  # one capped run is enough
            checks.append(cold(tool.check))
        results["check"] = median(checks)
    clean = results["clean build"] = cold(tool.build)
    if clean.capped:
        return results
    results["no change"] = median([build() for _ in range(repeat)])
    touched = []
    for _ in range(repeat):
        os.utime(tool.edited)
        touched.append(build())
    results["one file touched"] = median(touched)
    text = Edit("one text edit", tool.edited, tool.text, "The software (edited) shall ")
    for edit in (text, *tool.edits):
        runs = []
        for attempt in range(repeat):  # made, undone, made again...: each run a new state
            made = attempt % 2 == 0
            edit_text(edit.path, *((edit.old, edit.new) if made else (edit.new, edit.old)))
            runs.append(build())
        results[edit.step] = median(runs)
        if repeat % 2:  # the last run made the edit: undo it, and build the project as it was
            edit_text(edit.path, edit.new, edit.old)
            build()
    return results


def median(runs: Sequence[Run]) -> Run:
    """The median wall and CPU seconds of ``runs`` (capped if any was), with the largest memory."""
    capped = [run for run in runs if run.capped]
    if capped:
        return capped[0]
    return Run(
        statistics.median(run.wall for run in runs),
        statistics.median(run.cpu for run in runs),
        max(run.memory for run in runs),
        runs=tuple(run.wall for run in runs),
    )


def each_run(figures: dict[str, dict[str, Run | None]]) -> list[str]:
    """A table of each run's wall seconds of every step timed more than once, a column a tool: what a
    median stands for, in the order the runs ran (made, undone, made again... for an edit)."""
    names = list(figures)
    lines = ["| step | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for step in STEPS:
        cells = [figures[name][step] for name in names]
        if any(run is not None and len(run.runs) > 1 for run in cells):
            shown = (" ".join(f"{wall:.2f}" for wall in run.runs) if run and run.runs else "—" for run in cells)
            lines.append(f"| {step} | " + " | ".join(shown) + " |")
    return lines


def ensure_venv(venv: Path) -> dict[str, str]:
    """The virtual environment of the other tools (created from the pinned requirements); their versions."""
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)], check=True)
    freeze = subprocess.run([str(python), "-m", "pip", "freeze"], capture_output=True, text=True, check=True).stdout
    pins = dict(line.split("==", 1) for line in freeze.splitlines() if "==" in line)
    return {name: pins.get(name, "?") for name in ("sphinx-needs", "strictdoc", "doorstop", "Sphinx")}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000])
    parser.add_argument("--venv", type=Path, default=Path.home() / ".cache" / "qms-compare-venv")
    parser.add_argument("--cap", type=float, default=600.0, help="seconds after which a command is stopped")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the generated projects here")
    parser.add_argument("--tools", nargs="+", choices=TOOLS, default=list(TOOLS), help="time only these (qms always)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each rebuild, of which the median is shown")
    parser.add_argument("--runs", action="store_true", help="also show each run's wall seconds (with --repeat)")
    arguments = parser.parse_args(argv)
    if arguments.repeat < 1:
        parser.error("--repeat: at least 1")
    versions = ensure_venv(arguments.venv)
    import sphinx

    from qms import __version__

    print(
        f"{platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"{platform.platform()}; qms {__version__} (Sphinx {sphinx.__version__}), "
        + ", ".join(f"{name} {version}" for name, version in versions.items())
        + f"; load average at start {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    workdir = arguments.workdir or Path(tempfile.mkdtemp(prefix="qms-compare-"))
    for size in arguments.sizes:
        tools = [
            tool
            for tool in prepare(size, workdir / str(size), arguments.venv)
            if tool.name in {"qms", *arguments.tools}
        ]
        figures = {}
        pages = {}
        for tool in tools:
            figures[tool.name] = bench(tool, arguments.cap, arguments.repeat)
            pages[tool.name] = largest_page(tool.output) if tool.output.is_dir() else 0.0
            print(f"  {size} items, {tool.name} done (load {os.getloadavg()[0]:.1f})", file=sys.stderr, flush=True)
        runs = f", the check and each rebuild the median of {arguments.repeat} runs" if arguments.repeat > 1 else ""
        print(f"\n{size:,} items: wall (CPU) seconds{runs}, cap {arguments.cap:.0f} s, [wall ratio to qms]\n")
        print("| step | " + " | ".join(tool.name for tool in tools) + " |")
        print("|---|" + "---:|" * len(tools))
        for step in STEPS:
            cells = []
            for tool in tools:
                result, base = figures[tool.name][step], figures["qms"][step]
                if result is None:
                    cells.append("—")
                    continue
                ratio = (
                    "" if tool.name == "qms" or base is None or result.capped else f" [{result.wall / base.wall:.1f}x]"
                )
                cells.append(result.shown(arguments.cap) + ratio)
            print(f"| {step} | " + " | ".join(cells) + " |")
        memory = [figures[tool.name]["clean build"] for tool in tools]
        print("| peak memory, clean build | " + " | ".join(f"{run.memory:.0f} MB" for run in memory if run) + " |")
        print("| largest page | " + " | ".join(f"{pages[tool.name]:.1f} MB" for tool in tools) + " |", flush=True)
        if arguments.runs and arguments.repeat > 1:
            print(f"\n{size:,} items: each run's wall seconds, in the order they ran\n")
            print("\n".join(each_run({tool.name: figures[tool.name] for tool in tools})))
        print(f"load average at end {os.getloadavg()[0]:.1f}")
    if arguments.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
