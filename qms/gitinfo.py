"""What git knows about the project: the commit a document was built from, whether the tree was
dirty, the revision history of item files, and who last changed a block of lines.

Read with GitPython; outside a repository (or without git) it says so instead of failing, and in a
shallow clone it marks the commits where the available history stops. Blame's answers are kept
between runs in the project's cache folder (:class:`KeptBlames`).
"""

from __future__ import annotations

import datetime
import hashlib
import itertools
import os
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from qms.parsecache import FileCache, cache_folder, key_bytes
from qms.review import LineHistory, classifying_lines, item_blocks

if TYPE_CHECKING:
    import git

    from qms.model import Project


@dataclass(frozen=True, slots=True)
class DocumentControl:
    """The version-control state a rendered document or export is stamped with."""

    commit: str | None  # full hash, None outside git
    short: str | None
    date: str | None  # committer date of the commit: ISO 8601, or git's raw form (see :func:`git_date`)
    dirty: bool
    describe: str | None  # `git describe --tags --always`
    under_version_control: bool
    shallow: bool = False  # a shallow clone: history before its oldest commits is not available

    @property
    def summary(self) -> str:
        if not self.under_version_control:
            return "not under version control"
        if self.commit is None:
            return "git repository without commits"
        state = ", with uncommitted changes" if self.dirty else ""
        return f"commit {self.short} of {self.date}{state}"


NOT_UNDER_VERSION_CONTROL = DocumentControl(None, None, None, False, None, False)


@dataclass(frozen=True, slots=True)
class Revision:
    """One commit as a revision history lists it."""

    hash: str
    short: str
    date: str  # author date: ISO 8601, or git's raw form (see :func:`git_date`)
    author: str
    subject: str
    #: the clone is shallow and this is one of its oldest commits: it stands for itself and for
    #: every earlier change that the clone does not hold
    boundary: bool = False


@dataclass(frozen=True, slots=True)
class LineChange:
    """The latest change to a block of lines: its commit, or None while it is not committed yet."""

    revision: Revision | None

    @property
    def summary(self) -> str:
        """Who changed the lines and when, in a few words for a message."""
        revision = self.revision
        if revision is None:
            return "changed in the working tree, not committed yet"
        when = day(revision.date)
        if revision.boundary:
            return (
                f"last changed in or before commit {revision.short} ({when}); "
                "this shallow clone holds no earlier history"
            )
        return f'last changed by {revision.author} on {when} in commit {revision.short} "{revision.subject}"'


_SHORT = 10
#: git blame processes run at once for one question about many files (two or more: most of a
#: blame's time is git's own, waited for while another runs)
BLAMES_AT_ONCE = min(8, 2 * (os.cpu_count() or 1))
_UNCOMMITTED = "0" * 40


@contextmanager
def open_repository(root: Path) -> Iterator[git.Repo | None]:
    """The repository holding ``root``, or None outside git (or when git is not installed)."""
    if not _may_be_in_git(root):
        yield None  # GitPython not even imported: a twentieth of a second of every build outside git
        return
    try:
        import git
    except ImportError:  # GitPython present but no git executable
        yield None
        return
    try:
        repository = git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, git.GitCommandError):
        yield None
        return
    with repository:
        yield repository


def _may_be_in_git(root: Path) -> bool:
    """Whether ``root`` may be in a git repository: a ``.git`` folder or file in it or a folder above
    it, or git told where its repository is (``GIT_DIR``). False only where GitPython would find none."""
    if os.environ.get("GIT_DIR"):
        return True
    folder = root.resolve()
    return any((place / ".git").exists() for place in (folder, *folder.parents))


def _has_commits(repository: git.Repo) -> bool:
    try:
        return repository.head.commit is not None
    except ValueError:
        return False


def shallow_boundaries(repository: git.Repo) -> frozenset[str]:
    """The commits where a shallow clone's history was cut (empty for a full clone). A linked
    worktree (``git worktree add``) shares the cut of the repository it belongs to."""
    shallow = Path(repository.common_dir) / "shallow"
    if not shallow.is_file():
        return frozenset()
    lines = shallow.read_text(encoding="ascii", errors="replace").split("\n")
    return frozenset(line.strip() for line in lines if line.strip())


def repository_path(repository: git.Repo, root: Path, path: str = "") -> str:
    """``path`` (relative to the project root) relative to the repository's top folder, with ``/``."""
    top = Path(repository.working_tree_dir or ".").resolve()
    relative = (root.resolve() / path).relative_to(top).as_posix()
    return "" if relative == "." else relative


def document_control(root: Path) -> DocumentControl:
    """The commit, its date and the dirty flag of the repository holding ``root``."""
    with open_repository(root) as repository:
        if repository is None:
            return NOT_UNDER_VERSION_CONTROL
        import git

        if not _has_commits(repository):
            return DocumentControl(None, None, None, True, None, True)
        head = repository.head.commit
        try:
            dirty = repository.is_dirty(untracked_files=False, path=str(root))
            describe = repository.git.describe("--tags", "--always")
        except git.GitCommandError:
            dirty, describe = True, head.hexsha[:_SHORT]
        try:
            timestamp, zone = repository.git.show("-s", "--date=raw", "--format=%cd", head.hexsha).split(" ")
            date = git_date(int(timestamp), zone)
        except (git.GitCommandError, ValueError):
            date = None
        return DocumentControl(
            head.hexsha,
            head.hexsha[:_SHORT],
            date,
            dirty,
            describe,
            True,
            bool(shallow_boundaries(repository)),
        )


_FIELD, _RECORD = "\x1f", "\x1e"


def revision_history(
    root: Path, paths: Iterable[str | Path], max_count: int | None = None, commits: Iterable[str] = ()
) -> list[Revision]:
    """The commits that changed any of ``paths`` (relative to ``root``, or absolute), and the
    ``commits`` named besides (such as those holding a document's approvals), newest first.

    Only those: a commit that changed other files of the same repository (a tool kept beside the
    project) is not listed. Paths outside the repository and commits git does not hold are left
    out. Empty outside git, in a repository without commits, and for files git never held. In a
    shallow clone the list stops at the clone's oldest commits, which are marked ``boundary``.
    """
    wanted = sorted({str(path) for path in paths})
    named = sorted(set(commits))
    with open_repository(root) as repository:
        if repository is None or not _has_commits(repository) or not (wanted or named):
            return []
        relative = []
        for path in wanted:
            try:
                inside = repository_path(repository, root, path)
            except ValueError:  # outside the repository: git holds no history of it here
                continue
            if inside:  # "" is the whole repository, never one of a document's files
                relative.append(inside)
        limit = [f"--max-count={max_count}"] if max_count is not None else []
        # Merges are left out: the commits they bring are listed themselves, and a merge of a branch
        # that changed toolkit files beside the records would read as a change of the document.
        paths_log = ("--no-merges", *limit, "--", *(f":(literal){path}" for path in relative))
        found = _log(repository, *paths_log) if relative else []
        known = [commit for commit in named if _is_commit(repository, commit)]
        found += _log(repository, "--no-walk", *known) if known else []
    newest_first = sorted({revision.hash: (time, revision) for time, revision in found}.values(), key=_newest_first)
    return [revision for _, revision in newest_first][:max_count]


def _newest_first(entry: tuple[int, Revision]) -> int:
    return -entry[0]


def _is_commit(repository: git.Repo, name: str) -> bool:
    import git

    try:
        repository.git.rev_parse("--verify", "--quiet", f"{name}^{{commit}}")
    except git.GitCommandError:
        return False
    return True


def _log(repository: git.Repo, *arguments: str) -> list[tuple[int, Revision]]:
    """``git log`` with ``arguments``: per commit, its commit time and the revision."""
    import git

    options = ["--date=raw", f"--format=%H{_FIELD}%ct{_FIELD}%ad{_FIELD}%an{_FIELD}%s{_RECORD}"]
    try:
        output = repository.git.log(*options, *arguments)
    except git.GitCommandError:
        return []
    boundaries = shallow_boundaries(repository)
    history = []
    for record in output.split(_RECORD):
        fields = record.strip("\n").split(_FIELD, 4)
        if len(fields) != 5:
            continue
        commit, committed, raw_date, author, subject = fields
        timestamp, _, zone = raw_date.partition(" ")
        date = git_date(_number(timestamp), zone)
        history.append(
            (_number(committed), Revision(commit, commit[:_SHORT], date, author, subject, commit in boundaries))
        )
    return history


def latest_changes(
    root: Path,
    file: str,
    blocks: Sequence[tuple[int, int | None]],
    *,
    skip: frozenset[int] = frozenset(),
    kept: KeptBlames | None = None,
) -> list[LineChange | None]:
    """The latest change to each block of lines (first, last; last None: to the end) of ``file``,
    leaving out the lines in ``skip``.

    One ``git blame`` of the working-tree file for all blocks, ignoring whitespace-only changes.
    None for a block git knows nothing about (outside git, file never committed, lines gone).
    ``kept``: the answer is taken from there when it holds it, and kept there when git gave one.
    """
    return blame_files(root, [(file, blocks, skip)], kept)[0]


def blame_files(
    root: Path,
    asked: Sequence[tuple[str, Sequence[tuple[int, int | None]], frozenset[int]]],
    kept: KeptBlames | None = None,
) -> list[list[LineChange | None]]:
    """:func:`latest_changes` of many files (file, blocks, lines to skip), in order: the answers
    ``kept`` holds first, then ``git blame`` of the others, :data:`BLAMES_AT_ONCE` at a time (each
    blame is a git process of its own, and a cold check of 10,000 items blames some 200 files)."""
    answers: list[list[LineChange | None]] = [[] for _ in asked]
    questions: dict[int, _Question | None] = {}
    for number, (file, blocks, skip) in enumerate(asked):
        if not blocks:
            continue
        question = kept.question(root / file, blocks, skip) if kept is not None else None
        known = kept.answer(question) if kept is not None and question is not None else None
        if known is not None:
            answers[number] = known
        else:
            questions[number] = question

    def blame(numbers: list[int]) -> list[tuple[list[LineChange | None], bool]]:
        with open_repository(root) as repository:  # one per thread: opening one reads git's files
            return [_blamed(repository, root, *asked[number]) for number in numbers]

    asking = list(questions)
    shares = [asking[start::BLAMES_AT_ONCE] for start in range(min(BLAMES_AT_ONCE, len(asking)))]
    if len(shares) > 1:
        with ThreadPoolExecutor(max_workers=len(shares)) as pool:
            blamed = dict(zip(itertools.chain(*shares), itertools.chain(*pool.map(blame, shares)), strict=True))
    else:
        blamed = dict(zip(asking, blame(asking), strict=True))
    for number, question in questions.items():
        changes, answered = blamed[number]
        answers[number] = changes
        if kept is not None and question is not None and answered:
            kept.keep(question, changes)
    return answers


def _blamed(
    repository: git.Repo | None, root: Path, file: str, blocks: Sequence[tuple[int, int | None]], skip: frozenset[int]
) -> tuple[list[LineChange | None], bool]:
    """:func:`latest_changes` asked of git, and whether it is git blame's answer (not a refusal)."""
    unknown: list[LineChange | None] = [None] * len(blocks)
    if repository is None:
        return unknown, False
    import git

    try:
        path = repository_path(repository, root, file)
    except ValueError:  # a file outside the repository
        return unknown, False
    arguments = ["--porcelain", "-w"]
    for first, last in blocks:
        arguments += ["-L", f"{first},{last if last is not None else ''}"]
    try:
        output = repository.git.blame(*arguments, "--", path)
    except git.GitCommandError:  # a file git does not hold yet, or lines beyond its end
        if _tracked(repository, path):
            return unknown, False
        return [LineChange(None) for _ in blocks], False
    boundaries = shallow_boundaries(repository)
    lines, commits = _parse_blame(output, boundaries)
    changes: list[LineChange | None] = []
    for first, last in blocks:
        candidates = {
            commit for line, commit in lines if line >= first and (last is None or line <= last) and line not in skip
        }
        newest = _newest(repository, candidates, commits)
        changes.append(None if newest is None else commits[newest][1])
    return changes, True


def _newest(repository: git.Repo, candidates: set[str], commits: dict[str, tuple[int, LineChange]]) -> str | None:
    """The latest of the commits: by commit time, and by history where times are equal."""
    if not candidates:
        return None
    latest = max(commits[commit][0] for commit in candidates)
    tied = sorted(commit for commit in candidates if commits[commit][0] == latest)
    if len(tied) == 1:
        return tied[0]
    import git

    try:  # the first in topological order is one no other candidate descends from
        return str(repository.git.rev_list("--topo-order", "--max-count=1", *tied)) or tied[0]
    except git.GitCommandError:
        return tied[0]


def _tracked(repository: git.Repo, path: str) -> bool:
    """Whether git holds ``path`` (repository-relative) in its index."""
    import git

    try:
        return bool(repository.git.ls_files("--", path))
    except git.GitCommandError:
        return False


#: blame output read: (final line, commit) per line, and per commit its (commit time, change)
_Blame = tuple[list[tuple[int, str]], dict[str, tuple[int, LineChange]]]


def _parse_blame(output: str, boundaries: frozenset[str]) -> _Blame:
    """Blame porcelain to (final line, commit) pairs and, per commit, (commit time, its change).

    Rows are split at ``\\n`` only: git ends lines there, and the text of a line may hold any
    other line separator (U+2028, U+0085, a form feed) that ``str.splitlines`` would split at.
    """
    lines: list[tuple[int, str]] = []
    headers: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    for row in output.split("\n"):
        if row.startswith("\t"):
            current = None
            continue
        if current is None:
            commit, _, final, *_ = row.split(" ")
            lines.append((int(final), commit))
            current = headers.setdefault(commit, {})
            continue
        key, _, value = row.partition(" ")
        current.setdefault(key, value)
    commits: dict[str, tuple[int, LineChange]] = {}
    for commit, header in headers.items():
        committed = _number(header.get("committer-time", "0"))
        if commit == _UNCOMMITTED:
            commits[commit] = (2**62, LineChange(None))  # newer than anything committed
            continue
        date = git_date(_number(header.get("author-time", "0")), header.get("author-tz", "+0000"))
        revision = Revision(
            commit, commit[:_SHORT], date, header.get("author", ""), header.get("summary", ""), commit in boundaries
        )
        commits[commit] = (committed, LineChange(revision))
    return lines, commits


#: the git settings that change what ``git blame`` answers: its own (revisions it passes over), the
#: mailmap's (names), ``core`` (line endings, the attributes file, encodings), ``diff`` (drivers and
#: their text conversion, the diff heuristics), ``filter`` (clean filters make the working-tree file
#: into what is blamed) and ``i18n`` (the encoding of names and subjects)
_BLAME_SETTINGS = r"^(blame|core|diff|filter|i18n|mailmap)\."
#: the environment variables that change which repository, objects, history, settings or attributes git reads
_BLAME_ENVIRONMENT = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_COMMON_DIR",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_REPLACE_REF_BASE",
    "GIT_GRAFT_FILE",
    "GIT_SHALLOW_FILE",
    "GIT_ATTR_NOSYSTEM",
    "GIT_ATTR_SOURCE",
    "HOME",
    "XDG_CONFIG_HOME",
)
#: settings whose value names a file that blame reads
_SETTING_FILES = ("blame.ignorerevsfile", "mailmap.file", "core.attributesfile")


@dataclass(frozen=True, slots=True)
class _Question:
    """One question to :func:`latest_changes` as :class:`KeptBlames` keeps its answer."""

    name: str  # the entry: the repository's state, the file, and the blocks and lines asked
    data: bytes  # what else the answer depends on: the file's bytes and attributes, the blocks, the lines
    file: Path
    content: bytes  # the digest of the file's bytes when asked


class KeptBlames:
    """The answers of :func:`latest_changes` for the project at ``root``, kept between runs in the
    cache ``blame`` of its cache folder (:mod:`qms.parsecache`), so that a file whose answer cannot
    have changed is not blamed again.

    An answer is kept under everything it depends on: the commit checked out (and the other heads
    of a merge in progress), the cut of a shallow clone, replaced commits and grafts, the git
    settings that change blame (:data:`_BLAME_SETTINGS`) and the files they name (revisions to pass
    over, a mailmap, attributes), the ``.mailmap``, git's version and the environment variables that
    change what it reads (:data:`_BLAME_ENVIRONMENT`); the file's path, its bytes in the working tree
    (lines not committed yet) and the ``.gitattributes`` above it; the blocks and lines asked; qms's
    code and Python (the cache's own key). What the repository holds is read once, at the first
    question, not per file. A refusal of git is not kept, nor an answer whose file changed while
    git read it. Answers of another state of the repository are dropped when the cache is written.
    """

    def __init__(self, root: Path, folder: Path) -> None:
        self.root = root
        self._folder = folder
        self._cache: FileCache[list[LineChange | None]] | None = None
        self._state = ""
        self._top = Path()
        self._opened = False
        self._attributes: dict[Path, bytes] = {}

    def question(self, file: Path, blocks: Sequence[tuple[int, int | None]], skip: frozenset[int]) -> _Question | None:
        """The question of the blocks and lines of ``file``; None where no answer can be kept
        (outside git, a repository without commits, a file outside it or not readable)."""
        if not self._opened:
            self._opened = True
            found = _repository_state(self.root)
            if found is not None:
                self._top, state = found
                self._state = state.hex()
                self._cache = FileCache(self._folder, "blame", b"", _encode_changes, _decode_changes)
        if self._cache is None:
            return None
        try:
            path = file.resolve()
            relative = path.relative_to(self._top).as_posix()
            content = _digest(path.read_bytes())
        except (OSError, ValueError):
            return None
        asked = key_bytes(([tuple(block) for block in blocks], sorted(skip)))
        name = f"{self._state}:{relative}:{_digest(asked).hex()}"
        return _Question(name, b"\0".join((content, self._attributes_above(path.parent), asked)), path, content)

    def answer(self, question: _Question) -> list[LineChange | None] | None:
        """The answer kept for ``question``; None where none is."""
        if self._cache is None:
            return None
        found = self._cache.cached(question.name, question.data)
        return found[0] if found is not None else None

    def keep(self, question: _Question, changes: list[LineChange | None]) -> None:
        """Keep the answer git gave to ``question``, unless its file changed in the meantime."""
        try:
            unchanged = _digest(question.file.read_bytes()) == question.content
        except OSError:
            return
        if self._cache is not None and unchanged:
            self._cache.keep(question.name, question.data, changes)

    def save(self) -> None:
        """Write the answers kept, with those other commands asked of the same state of the repository."""
        if self._cache is not None:
            prefix = f"{self._state}:"
            self._cache.save(shared=lambda name: name.startswith(prefix))

    def _attributes_above(self, folder: Path) -> bytes:
        """The ``.gitattributes`` of ``folder`` and of each folder above it up to the repository's top."""
        if folder not in self._attributes:
            own = _content(folder / ".gitattributes")
            above = self._attributes_above(folder.parent) if folder != self._top and folder != folder.parent else b""
            self._attributes[folder] = _digest(own + b"\0" + above)
        return self._attributes[folder]


def _repository_state(root: Path) -> tuple[Path, bytes] | None:
    """The top folder of the repository holding ``root`` and the digest of what blame's answers
    depend on besides a file and the lines asked (see :class:`KeptBlames`); None outside git, in a
    repository without commits or a bare one, or where git does not answer."""
    with open_repository(root) as repository:
        if repository is None or repository.working_tree_dir is None:
            return None
        import git

        top = Path(repository.working_tree_dir).resolve()
        common, own = Path(repository.common_dir), Path(repository.git_dir)
        base = os.environ.get("GIT_REPLACE_REF_BASE", "refs/replace/")
        try:
            head = repository.git.rev_parse("--verify", "HEAD")
            status, settings, _ = repository.git.config(
                "--get-regexp", _BLAME_SETTINGS, with_extended_output=True, with_exceptions=False
            )
            replaced = repository.git.for_each_ref("--format=%(refname) %(objectname)", base)
            version = repository.git.version_info
        except git.GitCommandError:
            return None
        if status not in (0, 1):  # 1: no such setting
            return None
        named = []
        for line in settings.split("\n"):
            key, _, value = line.partition(" ")
            if key.lower() in _SETTING_FILES:
                named.append(_content(top / Path(value).expanduser()))
            elif key.lower() == "mailmap.blob":
                try:
                    named.append(repository.git.rev_parse("--verify", "--quiet", value).encode())
                except git.GitCommandError:
                    named.append(b"")
    configuration = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "git"
    files = (
        own / "MERGE_HEAD",
        common / "shallow",
        common / "info" / "grafts",
        common / "info" / "attributes",
        top / ".mailmap",
        configuration / "attributes",
        Path("/etc/gitattributes"),
    )
    state = (
        head,
        settings,
        replaced,
        str(version),
        named,
        [_content(path) for path in files],
        [os.environ.get(variable) for variable in _BLAME_ENVIRONMENT],
    )
    return top, _digest(key_bytes(state))


def _content(path: Path) -> bytes:
    """The bytes of a file, marked so that an absent one differs from an empty one."""
    try:
        return b"=" + path.read_bytes()
    except OSError:
        return b"-"


def _digest(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=32).digest()


def _encode_changes(changes: list[LineChange | None]) -> list[tuple[str | bool, ...] | None]:
    """An answer as plain data: None, ``()`` for lines not committed yet, or the revision's fields
    (one tuple per revision, which :mod:`marshal` then writes once)."""
    made: dict[LineChange, tuple[str | bool, ...]] = {}
    return [None if change is None else made.setdefault(change, _encoded_change(change)) for change in changes]


def _encoded_change(change: LineChange) -> tuple[str | bool, ...]:
    revision = change.revision
    if revision is None:
        return ()
    return (revision.hash, revision.date, revision.author, revision.subject, revision.boundary)


def _decode_changes(data: object, _: str) -> list[LineChange | None]:
    """The answer :func:`_encode_changes` made plain data of (ValueError where it is not one)."""
    if type(data) is not list:
        raise ValueError("not a list of changes")
    made: dict[object, LineChange | None] = {}  # one change per revision, as git's answer has it
    return [made[entry] if entry in made else made.setdefault(entry, _decoded_change(entry)) for entry in data]


def _decoded_change(entry: object) -> LineChange | None:
    if entry is None:
        return None
    if entry == ():
        return LineChange(None)
    if type(entry) is not tuple or len(entry) != 5:
        raise ValueError("not a change")
    commit, date, author, subject, boundary = entry
    if not all(type(field) is str for field in (commit, date, author, subject)) or type(boundary) is not bool:
        raise ValueError("not a change")
    return LineChange(Revision(commit, commit[:_SHORT], date, author, subject, boundary))


def _number(text: str) -> int:
    """A number git wrote (a time in seconds); 0 where it is not one."""
    return int(text) if text.isascii() and text.lstrip("-").isdigit() and len(text) < 30 else 0


def git_date(timestamp: int, zone: str) -> str:
    """ISO 8601 date and time of a git timestamp in its own time zone (``+0130`` style offset).

    git stores any number of seconds and any four-digit offset; where Python cannot represent
    the moment (after the year 9999, an offset of a day or more), the date is given as git
    stores it, ``@SECONDS +ZONE``, so it is shown as it is instead of failing.
    """
    raw = f"@{timestamp} {zone}"
    digits = zone.lstrip("+-")
    if not (digits.isascii() and digits.isdigit() and len(digits) == 4):
        return raw
    sign = -1 if zone.startswith("-") else 1
    try:
        offset = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        moment = datetime.datetime.fromtimestamp(timestamp, datetime.timezone(sign * offset))
    except (ValueError, OverflowError, OSError):
        return raw
    return moment.isoformat()


def day(date: str) -> str:
    """The day of a date :func:`git_date` gave (``2026-11-29``), or the raw date as it is."""
    return date if date.startswith("@") else date[:10]


class GitHistory:
    """Who last changed each item and which commits contain which: for judging staleness
    (:class:`qms.status.ChangeHistory`). Answers are kept for the life of the object."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._contains: dict[tuple[str, str], bool | None] = {}
        self._changed: dict[str, frozenset[str] | None] = {}
        self._kept: dict[Path, KeptBlames] = {}

    def last_changes(
        self, project: Project, item_ids: Iterable[str], *, verified_only: bool = False
    ) -> dict[str, LineChange]:
        """The latest change of each item's lines: one ``git blame`` per file (``verified_only``:
        leaving out the lines of fields that do not bear on verification), or its answer kept from
        an earlier run (:class:`KeptBlames`) where the project was read through the parse cache."""
        kept = self._kept_blames(project)
        asked: list[tuple[str, Sequence[tuple[int, int | None]], frozenset[int]]] = []
        ids_asked: list[list[str]] = []
        for file, blocks in item_blocks(project, item_ids).items():
            ids = list(blocks)
            skip = classifying_lines(project, ids) if verified_only else frozenset()
            asked.append((file, [blocks[i] for i in ids], skip))
            ids_asked.append(ids)
        found: dict[str, LineChange] = {}
        for ids, changes in zip(ids_asked, blame_files(self.root, asked, kept), strict=True):
            for item_id, change in zip(ids, changes, strict=True):
                if change is not None:
                    found[item_id] = change
        if kept is not None:
            kept.save()
        return found

    def line_history(self, project: Project) -> LineHistory:
        """:func:`latest_changes` of the project's files, its answers kept as :meth:`last_changes` keeps them."""
        kept = self._kept_blames(project)

        def changes(file: str, blocks: Sequence[tuple[int, int | None]]) -> list[LineChange | None]:
            found = latest_changes(self.root, file, blocks, kept=kept)
            if kept is not None:
                kept.save()
            return found

        return changes

    def _kept_blames(self, project: Project) -> KeptBlames | None:
        folder = kept_folder(project)
        if folder is None:
            return None
        if folder not in self._kept:
            self._kept[folder] = KeptBlames(self.root, folder)
        return self._kept[folder]

    def contains(self, commit: str, change: str) -> bool | None:
        """Whether ``change`` is ``commit`` or one of its ancestors; None when git does not know ``commit``."""
        key = (commit, change)
        if key not in self._contains:
            self._contains[key] = _is_ancestor(self.root, change, commit)
        return self._contains[key]

    def changed_files(self, commit: str) -> frozenset[str] | None:
        """Project files (relative to the root, with ``/``) that differ now from ``commit``,
        untracked ones included; None when git does not know ``commit``."""
        if commit not in self._changed:
            self._changed[commit] = _changed_files(self.root, commit)
        return self._changed[commit]


def kept_folder(project: Project) -> Path | None:
    """Where what qms works out for ``project`` is kept between runs (blame's answers,
    :class:`KeptBlames`; the exported workbook's sheets): its cache folder; None where it was not
    read through the parse cache (``qms check --no-cache``) or that folder is refused."""
    if project.fingerprint is None:
        return None
    folder, _ = cache_folder(project.root, project.config)
    return folder


def _changed_files(root: Path, commit: str) -> frozenset[str] | None:
    with open_repository(root) as repository:
        if repository is None:
            return None
        import git

        try:
            repository.git.rev_parse("--verify", "--quiet", f"{commit}^{{commit}}")
            prefix = repository_path(repository, root)
            folder = prefix or "."
            changed = repository.git.diff("--name-only", "--no-renames", commit, "--", folder).split("\n")
            untracked = repository.git.ls_files("--others", "--exclude-standard", "--", folder).split("\n")
        except (git.GitCommandError, ValueError):
            return None
    start = len(prefix) + 1 if prefix else 0
    return frozenset(path[start:] for path in (*changed, *untracked))


def _is_ancestor(root: Path, older: str, newer: str) -> bool | None:
    with open_repository(root) as repository:
        if repository is None:
            return None
        import git

        try:
            repository.git.rev_parse("--verify", "--quiet", f"{newer}^{{commit}}")
        except git.GitCommandError:
            return None
        try:
            repository.git.merge_base("--is-ancestor", older, newer)
        except git.GitCommandError as error:
            return False if error.status == 1 else None
        return True


def git_history(root: Path) -> GitHistory | None:
    """The history of the repository holding ``root``; None outside git. Looks for ``.git`` in
    ``root`` and the folders above it, so that a check outside git does not load GitPython."""
    folder = root.resolve()
    if not any((candidate / ".git").exists() for candidate in (folder, *folder.parents)):
        return None
    return GitHistory(root)


def uncommitted(root: Path, paths: Iterable[str]) -> frozenset[str]:
    """Which of ``paths`` (relative to ``root``) differ from the last commit: untracked, ignored,
    added or changed since. Outside git every path counts as uncommitted."""
    wanted = sorted(set(paths))
    if not wanted:
        return frozenset()
    with open_repository(root) as repository:
        if repository is None or not _has_commits(repository):
            return frozenset(wanted)
        import git

        inside = {repository_path(repository, root, path): path for path in wanted}
        try:
            output = repository.git.status(
                "--porcelain", "-z", "--untracked-files=all", "--ignored=matching", "--", *inside
            )
        except git.GitCommandError:
            return frozenset(wanted)
    changed = [entry[3:] for entry in output.split("\0") if len(entry) > 3]
    folders = tuple(entry for entry in changed if entry.endswith("/"))  # an ignored folder, whole
    return frozenset(path for full, path in inside.items() if full in changed or full.startswith(folders))


def user_name(root: Path) -> str | None:
    """git's ``user.name`` for the repository holding ``root``; None outside git or when unset."""
    return user_setting(root, "user.name")


def user_setting(root: Path, key: str) -> str | None:
    """A git setting (``user.name``, ``user.email``) for the repository holding ``root``; None
    outside git or when unset."""
    with open_repository(root) as repository:
        if repository is None:
            return None
        import git

        try:
            value = repository.git.config("--get", key).strip()
        except git.GitCommandError:
            return None
        return value or None


def head_tags(root: Path) -> frozenset[str]:
    """The tags of the checked-out commit; empty outside git."""
    with open_repository(root) as repository:
        if repository is None or not _has_commits(repository):
            return frozenset()
        import git

        try:
            output = repository.git.tag("--points-at", "HEAD")
        except git.GitCommandError:
            return frozenset()
    return frozenset(line.strip() for line in output.split("\n") if line.strip())


def signer(root: Path, commit: str) -> str | None:
    """The identity of the key that signed ``commit`` when ``git verify-commit`` accepts its
    signature; None when it is unsigned, the signature is bad or cannot be checked, or outside git."""
    with open_repository(root) as repository:
        if repository is None:
            return None
        import git

        try:
            status, _, raw = repository.git.verify_commit(
                "--raw", commit, with_extended_output=True, with_exceptions=False
            )
        except git.GitCommandError:
            return None
    if status != 0:
        return None
    for line in raw.splitlines():
        parts = line.split(" ", 3)
        if len(parts) == 4 and parts[:2] == ["[GNUPG:]", "GOODSIG"]:
            return str(parts[3])
    return None
