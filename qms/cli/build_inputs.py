"""What an HTML build read, as one digest: a build whose inputs digest as the last one's leaves the site as it is.

Like make or ninja, but by content: every file the build reads (found again the way the build
finds it, so an added file counts), the git state its pages show, the tools' versions and the
output folder go into one SHA-256 fingerprint, kept with the build's state in the doctree folder.
``qms build`` compares it before running Sphinx. What cannot be fingerprinted safely (a conf.py
that computes its settings, a page showing the day it was built, a git revision relative to the
reflog or the clock) makes the record say so, and the next build runs in full.

A file's digest is read again only when its size, times, inode or device changed: a file changed
within :data:`RACY` of being digested is not trusted that way (file times are coarse) and read
again next time.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qms import __version__
from qms.atomic import OUTPUT_MARKER, write_text
from qms.config import PROJECT_FILE, load_config
from qms.documents import default_templates
from qms.parsecache import cache_folder
from qms.paths import allowed_roots, project_files
from qms.project import source_files

if TYPE_CHECKING:
    from sphinx.application import Sphinx

    from qms.model import Project

#: ``qms.approvals.APPROVALS_FILE``, named here: importing that module loads the whole checker.
APPROVALS_FILE = "approvals.yaml"
#: The record of the last HTML build, in the doctree folder.
RECORD = "qms-build-inputs.json"
_FORMAT = 1
#: A file whose times are this recent when digested is read again next time (nanoseconds).
RACY = 2_000_000_000
#: Folder names never read as pages at any depth (qms's exclude patterns), nor by qms unless configured.
_PRUNED = frozenset({"_build", "__pycache__", "site-packages"})
#: Top-level names never read as pages (qms's exclude patterns), nor by qms unless configured.
_PRUNED_AT_TOP = frozenset({"venv", "env", "node_modules", "qms", "tests", "benchmarks", "templates"})
_PRUNED_PREFIXES_AT_TOP = ("README.", "CHANGELOG.", "LICENSE", "CONTRIBUTING.")
#: Environment variables that change what git, Sphinx or qms write.
_ENVIRONMENT_PREFIXES = ("GIT_", "SPHINX", "QMS", "SOURCE_DATE_EPOCH", "LANG", "LC_", "TZ", "GNUPGHOME")
#: How git names a revision through the reflog, which may mean the clock (``main@{yesterday}``).
_REFLOG = "@{"


@dataclass(slots=True)
class Digests:
    """Content digests of files, read again only where the file's stat differs from the cached one."""

    cache: dict[str, list[Any]]
    now: int = field(default_factory=time.time_ns)
    kept: dict[str, list[Any]] = field(default_factory=dict)

    def of(self, path: str | Path) -> str:
        """The SHA-256 of the file at ``path``, ``missing`` or ``not a file``."""
        name = str(path)
        try:
            status = os.stat(path)
        except OSError:
            return "missing"
        if not stat.S_ISREG(status.st_mode):
            return "not a file"
        key = [status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns]
        cached = self.cache.get(name)
        if cached is not None and cached[:5] == key:
            self.kept[name] = cached
            return str(cached[5])
        try:
            with open(path, "rb") as file:
                digest = hashlib.sha256(file.read()).hexdigest()
        except OSError:
            return "unreadable"
        if max(status.st_mtime_ns, status.st_ctime_ns) < self.now - RACY:
            self.kept[name] = [*key, digest]
        return digest


def changed_since(files: Iterable[str], moment: int) -> bool:
    """Whether one of ``files`` changed at ``moment`` (nanoseconds since the epoch) or later (folders aside)."""
    for name in files:
        try:
            status = os.stat(name)
        except OSError:
            continue
        if stat.S_ISREG(status.st_mode) and max(status.st_mtime_ns, status.st_ctime_ns) >= moment:
            return True
    return False


@dataclass(slots=True)
class Reads:
    """What the last build read beyond what is found again each time: Sphinx's sources and their
    dependencies, its static and template folders, extension code; or why it cannot be skipped."""

    files: list[str] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    unsafe: str | None = None


@dataclass(slots=True)
class Record:
    """The last successful HTML build: its inputs' fingerprint, its output and what it printed."""

    fingerprint: str
    target: str
    site: str
    pages: int
    warnings: str
    warning_count: int
    errors: str | None
    reads: Reads
    digests: dict[str, list[Any]]

    def to_json(self) -> str:
        data = {
            "format": _FORMAT,
            "fingerprint": self.fingerprint,
            "target": self.target,
            "site": self.site,
            "pages": self.pages,
            "warnings": self.warnings,
            "warning_count": self.warning_count,
            "errors": self.errors,
            "reads": {"files": self.reads.files, "folders": self.reads.folders, "unsafe": self.reads.unsafe},
            "digests": self.digests,
        }
        return json.dumps(data, sort_keys=True) + "\n"


def read_record(doctrees: Path) -> Record | None:
    """The record of the last HTML build; None when there is none this version can read."""
    try:
        data = json.loads((doctrees / RECORD).read_text(encoding="utf-8"))
        if data.get("format") != _FORMAT:
            return None
        reads = data["reads"]
        return Record(
            str(data["fingerprint"]),
            str(data["target"]),
            str(data["site"]),
            int(data["pages"]),
            str(data["warnings"]),
            int(data["warning_count"]),
            None if data["errors"] is None else str(data["errors"]),
            Reads([str(f) for f in reads["files"]], [str(f) for f in reads["folders"]], reads["unsafe"]),
            {str(name): list(entry) for name, entry in data["digests"].items()},
        )
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def write_record(doctrees: Path, record: Record) -> None:
    write_text(doctrees / RECORD, record.to_json())


def forget_record(doctrees: Path) -> None:
    """Before a build runs: until it succeeds, no record may say the site is up to date."""
    (doctrees / RECORD).unlink(missing_ok=True)


# ------------------------------------------------------------------------------ the fingerprint


@dataclass(frozen=True, slots=True)
class Inputs:
    """The inputs of an HTML build: the project's files as found, the files the last build read
    besides, the git state, tools, environment and output folders."""

    found: dict[str, str]
    read: dict[str, str]
    git: list[str] | None
    rest: dict[str, Any]

    @property
    def fingerprint(self) -> str:
        state = {"found": self.found, "read": self.read, "git": self.git, **self.rest}
        return hashlib.sha256(json.dumps(state, sort_keys=True).encode("utf-8")).hexdigest()


def inputs(root: Path, target: Path, doctrees: Path, reads: Reads, digests: Digests) -> Inputs | None:
    """Every input of an HTML build of ``root`` into ``target``; None when the project's own
    settings cannot be read (then the build runs and reports them)."""
    config, _ = load_config(root)
    if config is None:
        return None
    # the parse cache holds what the build read from its inputs, whatever it holds: no input itself
    cache, _ = cache_folder(root, config)
    outputs = (target, doctrees, *([cache] if cache else []), target.parent / f".{target.name}.building-")
    names = tuple(map(str, outputs))
    found = {name: digests.of(name) for name in _project_files(root, config, names)}
    # A result without a time ran when its file was written (the site shows when): its time counts.
    found.update((str(path), f"{digests.of(path)} {_modified(path)}") for path in _result_files(root, config))
    items = source_files(root, config, "sources")[0]
    found.update((str(path), digests.of(path)) for path in (*items, *source_files(root, config, "records")[0]))
    read = {name: digests.of(name) for name in reads.files}
    for folder in dict.fromkeys([*reads.folders, *map(str, own_folders())]):
        read.update((name, digests.of(name)) for name in _files_below(folder, names, top=None))
    environment = {name: value for name, value in os.environ.items() if name.startswith(_ENVIRONMENT_PREFIXES)}
    rest = {"tools": tools(), "environment": environment, "output": [str(target), str(doctrees)]}
    git = git_state(root, outputs, [*found, *read])
    # An item changed when its file was where git holds no commit of the change (the staleness of the
    # results that verify it): the time of an item file git lists as changed, new or ignored counts.
    # Outside git, and for a file as committed, the time shows nowhere: touching it builds nothing.
    listed = _listed_by_git(git) if git is not None else set()
    for path in items:
        if path.resolve() in listed:
            found[str(path)] += f" {_modified(path)}"
    return Inputs(found, read, git, rest)


def _project_files(root: Path, config: Any, outputs: tuple[str, ...]) -> Iterator[str]:
    """The project's files: the whole folder but what is never read unless configured (``outputs``
    left out, see :func:`_files_below`), the files the loader finds from ``qms.yaml`` wherever they
    lie (item files, execution records, result files: :func:`inputs`), and the templates folder."""
    yield from _files_below(str(root), outputs, top=str(root))  # qms.lock and approvals.yaml among them
    for name in (PROJECT_FILE, "conf.py", ".mailmap", ".gitattributes"):
        yield str(root / name)
    yield from _files_below(str(root / config.templates), outputs, top=None)


def _result_files(root: Path, config: Any) -> Iterator[Path]:
    """The result files, found as the loader finds them."""
    roots = allowed_roots(root, config.allow_outside)
    for pattern in config.evidence:
        yield from project_files(root, pattern, roots).files


def _modified(path: Path) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def _files_below(folder: str, outputs: tuple[str, ...], top: str | None) -> Iterator[str]:
    """The files below ``folder`` (following links, each real folder once), leaving out the build's
    outputs (the last one a prefix: the build's workspaces) and, below the project root ``top``,
    what Sphinx never reads as a page. Names, not paths: a build walks some two thousand files twice
    (its inputs when it starts and when it ends), and making a path of each took most of that."""
    seen: set[tuple[int, int]] = set()
    pending = [folder]
    workspaces = outputs[-1] if outputs else None
    while pending:
        current = pending.pop()
        try:
            status = os.stat(current)
            entries = list(os.scandir(current))
        except OSError:
            continue
        if (status.st_dev, status.st_ino) in seen:
            continue
        seen.add((status.st_dev, status.st_ino))
        yield current  # a folder's entry ("not a file") marks that it exists; its files follow
        for entry in entries:
            path = entry.path
            if entry.name == "__pycache__" or (top is not None and _pruned(entry.name, current == top)):
                continue
            if path in outputs or (workspaces is not None and path.startswith(workspaces)):
                continue
            if _is_folder(entry):
                pending.append(path)
            else:
                yield path


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir(follow_symlinks=True)
    except OSError:  # a symbolic link loop: a file that cannot be read (the check reports it)
        return False


def _pruned(name: str, at_top: bool) -> bool:
    """Whether Sphinx never reads ``name`` as a page (qms's exclude patterns) and qms only where configured."""
    if name.startswith(".") or name in _PRUNED:
        return True
    return at_top and (name in _PRUNED_AT_TOP or name.startswith(_PRUNED_PREFIXES_AT_TOP) or name.endswith(".egg-info"))


def tools() -> dict[str, Any]:
    """Python and every distribution installed where it imports from, with its version (the names
    of their ``.dist-info`` folders): Sphinx, docutils, the theme and any extension among them."""
    installed = []
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except OSError:
            continue
        installed += [name for name in names if name.endswith((".dist-info", ".egg-info", ".egg-link", ".pth"))]
    return {"python": sys.version, "executable": sys.executable, "qms": __version__, "installed": sorted(installed)}


def own_folders() -> tuple[Path, Path]:
    """The code and static files of the qms that runs, and its shipped templates (beside it in a checkout)."""
    return Path(__file__).resolve().parents[1], default_templates()


# ------------------------------------------------------------------------------ git


def git_state(root: Path, outputs: tuple[Path, ...], files: Iterable[str]) -> list[str] | None:
    """What git says about the project, as the site shows it: HEAD, every ref and tag, the status of
    every file (untracked ones too, and ignored ones among ``files``, which the site marks as not
    committed), the configuration, the signatures of the commits of the approvals file; None outside git."""
    folder = root.resolve()
    if not any((candidate / ".git").exists() for candidate in (folder, *folder.parents)):
        return None
    excluded = [f":(exclude,literal){path}" for path in outputs[:2] if path.is_relative_to(folder)]
    workspace = outputs[2]
    if workspace.parent.is_relative_to(folder):
        excluded.append(f":(exclude,glob){_glob_escape(workspace)}*/**")
    commands = [
        ["rev-parse", "--show-toplevel", "HEAD", "--symbolic-full-name", "HEAD", "--is-shallow-repository"],
        ["for-each-ref", "--format=%(objectname) %(refname) %(*objectname)"],
        ["status", "--porcelain", "-z", "--untracked-files=all", "--ignored=matching", "--", str(folder), *excluded],
        ["config", "--list", "--show-origin", "-z"],
        ["log", "--format=%H %G? %GK %GS %GF", "--", str(folder / APPROVALS_FILE)],
    ]
    state = [_git(folder, arguments) for arguments in commands]
    top = state[0].split("\n", 1)[0].partition(" ")[2]
    state[2] = _ignored_among(state[2], top, files)
    for name in (".mailmap", ".gitattributes"):  # who blame names, and how git reads the files
        state.append(_digest_of(Path(top) / name))
    return state


def _digest_of(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "missing"


def _git(folder: Path, arguments: list[str]) -> str:
    """The exit status and output of a git command."""
    try:
        completed = subprocess.run(
            ["git", *arguments], cwd=folder, capture_output=True, check=False, stdin=subprocess.DEVNULL
        )
    except OSError as error:
        return f"git unavailable: {error}"
    return f"{completed.returncode} {completed.stdout.decode('utf-8', 'surrogateescape')}"


def _listed_by_git(state: list[str]) -> set[Path]:
    """The files git's status lists in ``state`` (:func:`git_state`): changed, new, or ignored."""
    top = state[0].split("\n", 1)[0].partition(" ")[2]
    entries = state[2].partition(" ")[2].split("\0")
    listed: set[Path] = set()
    renamed = False
    for entry in entries:
        if renamed:  # the path a renamed or copied file had, which git writes after its new one
            renamed = False
            continue
        if len(entry) > 3 and entry[2] == " ":
            listed.add(Path(top, entry[3:]).resolve())
            renamed = entry[0] in "RC"
    return listed


def _ignored_among(status: str, top: str, files: Iterable[str]) -> str:
    """git's status with the ignored entries (``!!``) that hold none of ``files`` left out: what else
    git ignores (caches, build outputs) the site does not show."""
    code, _, output = status.partition(" ")
    entries = output.split("\0")
    ignored = [entry for entry in entries if entry.startswith("!! ")]
    if not ignored:
        return status
    inside = [os.path.join(top, entry[3:]) for entry in ignored]
    wanted = set()
    for name in files:
        for index, path in enumerate(inside):
            if name == path or (path.endswith("/") and name.startswith(path)):
                wanted.add(index)
    kept = {ignored[index] for index in wanted}
    return f"{code} " + "\0".join(entry for entry in entries if not entry.startswith("!! ") or entry in kept)


def _glob_escape(path: Path) -> str:
    return "".join(f"[{char}]" if char in "*?[]\\" else char for char in str(path))


# ------------------------------------------------------------------------------ what a build read


def build_reads(app: Sphinx, root: Path, doctrees: Path) -> Reads:
    """What the Sphinx build ``app`` of the project at ``root`` read beyond the project's files."""
    from qms.sphinx.settings import settings
    from qms.sphinx.state import build_data

    env = app.env
    srcdir = Path(app.srcdir)
    files: set[Path] = {srcdir / "conf.py"}
    folders: set[Path] = set()
    for docname in env.found_docs:
        files.add(Path(env.doc2path(docname)))
    for dependencies in env.dependencies.values():
        files.update(srcdir / str(dependency) for dependency in dependencies)
    confdir = Path(app.confdir)
    for setting in ("templates_path", "html_static_path", "html_extra_path", "html_theme_path", "locale_dirs"):
        for entry in getattr(app.config, setting, None) or ():
            folders.add(confdir / str(entry))
    for setting in ("html_logo", "html_favicon"):
        value = getattr(app.config, setting, None)
        if value and "://" not in str(value):
            files.add(confdir / str(value))
    clause_table = settings(app.config).clause_table
    if clause_table:
        files.add(root / clause_table)
    data = build_data(env)
    records = data.records
    for record in records.records if records is not None else ():
        files.update(root / attachment.path for attachment in record.attachments)
    for name in app.extensions:
        module = sys.modules.get(name)
        location = Path(getattr(module, "__file__", None) or "")
        if location.name == "__init__.py":
            folders.add(location.parent)
        elif location.name:
            files.add(location)
    pages = {Path(env.doc2path(docname)) for docname in env.found_docs}
    pages.update(srcdir / str(dependency) for dependencies in env.dependencies.values() for dependency in dependencies)
    pages.update(map(Path, _files_below(str(root / data.project.config.templates), (), None)))
    unsafe = _unsafe(app, root, data.project, pages)
    generated = doctrees.resolve()
    return Reads(
        sorted(str(path) for path in files if not path.resolve().is_relative_to(generated)),
        sorted(str(path) for path in folders),
        unsafe,
    )


def _unsafe(app: Sphinx, root: Path, project: Project, pages: Iterable[Path]) -> str | None:
    """Why what this build showed cannot be known from its files; None when it can."""
    if project.root.resolve() != root.resolve():
        return f"conf.py loads the project in {project.root} (qms_project), not the one built"
    if app.config.html_last_updated_fmt is not None:
        return "html_last_updated_fmt shows the day of the build"
    conf = Path(app.confdir) / "conf.py"
    if conf.is_file() and not literal_settings(conf):
        return "conf.py computes its settings (only literal assignments can be fingerprinted)"
    if _REFLOG in (project.config.previous_release or ""):
        return f"the previous release is named through the reflog ({project.config.previous_release})"
    for path in pages:
        try:
            text = path.read_bytes()
        except OSError:
            continue
        if b"|today|" in text and not app.config.today:
            return f"a page shows |today|, the day it was read: {path}"
        if b"release-changes" in text and _REFLOG.encode() in text:
            return f"a page may name a git revision through the reflog ({_REFLOG}...}}): {path}"
    return None


def literal_settings(conf: Path) -> bool:
    """Whether conf.py only assigns literal values (and has docstrings): its settings are its text."""
    try:
        tree = ast.parse(conf.read_bytes())
    except (OSError, SyntaxError, ValueError):
        return False
    for node in tree.body:
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            continue
        value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if value is None or not all(isinstance(target, ast.Name) for target in targets):
            return False
        try:
            ast.literal_eval(value)
        except ValueError:
            return False
    return True


# ------------------------------------------------------------------------------ the site


def site_digest(site: Path) -> str | None:
    """A digest of the site's files as they are on disk (name, size, modification time); None without
    the marker qms writes, or when the folder cannot be read."""
    if not (site / OUTPUT_MARKER).is_file():
        return None
    listing = []
    for folder, folders, files in os.walk(site):
        folders.sort()
        for name in sorted(files):
            path = os.path.join(folder, name)
            try:
                status = os.lstat(path)
            except OSError:
                return None
            listing.append(f"{os.path.relpath(path, site)}\0{status.st_size}\0{status.st_mtime_ns}\0{status.st_mode}")
    return hashlib.sha256("\n".join(listing).encode("utf-8", "surrogateescape")).hexdigest()
