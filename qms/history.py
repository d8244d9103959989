"""The audit trail of items: every committed change of an item, field by field, from git history.

An item is its id: each historical version of an item file is read by the project's own loader
and the item is found in it by id, so it is followed through list files holding many items,
from one file to another and across renamed files. Each commit is compared with its parent
(the change its author made); a version that cannot be parsed is noted, and the next readable
one is compared with the last readable one. Only files under the project's current ``sources``
are read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from qms.config import PROJECT_FILE
from qms.diff import field_changes, plain_value
from qms.gitinfo import git_date, open_repository, repository_path, shallow_boundaries
from qms.loading import read_items
from qms.model import Item, Project
from qms.schema import KINDS
from qms.yamlfile import parse_bytes

if TYPE_CHECKING:
    import git

#: the version of the JSON shape ``qms log --format json`` prints
JSON_VERSION = 1

#: what happened to an item in a commit; ``present``: the item as the oldest commit of a shallow
#: clone holds it (whether it was added there or earlier is not known)
ChangeKind = Literal["added", "changed", "moved", "removed", "unreadable", "present"]
FieldChangeKind = Literal["added", "removed", "changed"]

_ITEM_SUFFIXES = (".yaml", ".yml")
_ABSENT = ""  # the blob of a file that is not there (git writes zeros)
_FILE_MODES = frozenset({"100644", "100755"})
_FIELD, _RECORD = "\x1f", "\x1e"
_FORMAT = f"{_RECORD}%H{_FIELD}%an{_FIELD}%ae{_FIELD}%ad{_FIELD}%cd{_FIELD}%B{_FIELD}"


class HistoryError(Exception):
    """The history cannot be read: not a git repository, or git failed."""


@dataclass(frozen=True, slots=True)
class Commit:
    """Who made a change, when, and why."""

    hash: str
    author: str
    email: str
    date: str  # author date, ISO 8601 (see :func:`qms.gitinfo.git_date`)
    committed: str | None  # commit date where it differs from the author date
    message: str
    #: one of a shallow clone's oldest commits: the history before it is not available
    boundary: bool = False

    @property
    def short(self) -> str:
        return self.hash[:10]

    @property
    def subject(self) -> str:
        return self.message.split("\n", 1)[0]


@dataclass(frozen=True, slots=True)
class FieldDifference:
    """One field that differs; for a link field, one linked id added or removed."""

    field: str
    change: FieldChangeKind
    old: Any  # None where absent
    new: Any


@dataclass(frozen=True, slots=True)
class ItemChange:
    """What one commit did to an item."""

    commit: Commit
    change: ChangeKind
    file: str  # where the item is after the commit (before, for removed)
    fields: tuple[FieldDifference, ...] = ()
    previous_file: str | None = None  # moved: where it was
    note: str = ""  # unreadable: what was wrong with the file


@dataclass(frozen=True, slots=True)
class AuditTrail:
    """Every committed change of one item, oldest first, and what limits the history read."""

    item: str
    changes: tuple[ItemChange, ...]
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _FileChange:
    path: str  # relative to the project root
    old: str  # blob ids; all zeros where the file is absent
    new: str


@dataclass(frozen=True, slots=True)
class _Version:
    """An item file as one blob holds it: its items by id, or why it cannot be read."""

    items: Mapping[str, Item]
    problem: str | None = None


_EMPTY = _Version({})


# --------------------------------------------------------------------------- field differences


def field_differences(old: Item | None, new: Item | None) -> tuple[FieldDifference, ...]:
    """The fields that differ between two versions of an item (None: the item is absent).

    Values are plain data (lists and dicts); a link field gives one difference per id added or
    removed; a link list only reordered is a change of the whole list.
    """
    if old is None and new is None:
        return ()
    if old is None or new is None:
        return _all_fields(old, new)
    if old.kind == new.kind and old.fields == new.fields:
        return ()
    differences: list[FieldDifference] = []
    for change in field_changes(old, new):
        if _is_link(new.kind, change.field):
            differences += _link_differences(change.field, change.old, change.new)
            continue
        before, after = plain_value(change.old), plain_value(change.new)
        what: FieldChangeKind = "added" if before is None else "removed" if after is None else "changed"
        differences.append(FieldDifference(change.field, what, before, after))
    return tuple(differences)


def _all_fields(old: Item | None, new: Item | None) -> tuple[FieldDifference, ...]:
    """Every field of an item added (``new``) or removed (``old``), in its kind's field order."""
    item = new if new is not None else old
    assert item is not None
    what: FieldChangeKind = "added" if new is not None else "removed"
    spec = KINDS.get(item.kind)
    names = [name for name in (spec.field_names if spec else ()) if name in item.fields]
    names += [name for name in item.fields if name not in names]
    differences = [FieldDifference("kind", what, *_sides(what, item.kind))]
    for name in names:
        value = item.fields[name]
        if _is_link(item.kind, name) and isinstance(value, tuple):
            differences += [FieldDifference(name, what, *_sides(what, str(target))) for target in value]
        else:
            differences.append(FieldDifference(name, what, *_sides(what, plain_value(value))))
    return tuple(differences)


def _sides(what: FieldChangeKind, value: Any) -> tuple[Any, Any]:
    """(old, new) of a field added or removed."""
    return (None, value) if what == "added" else (value, None)


def _is_link(kind: str, name: str) -> bool:
    spec = KINDS.get(kind)
    found = spec.field(name) if spec is not None else None
    return found is not None and found.is_link


def _link_differences(name: str, old: Any, new: Any) -> list[FieldDifference]:
    before = [str(target) for target in old] if isinstance(old, tuple) else []
    after = [str(target) for target in new] if isinstance(new, tuple) else []
    removed = [target for target in before if target not in after]
    added = [target for target in after if target not in before]
    if not removed and not added:  # reordered: the list as a whole
        return [FieldDifference(name, "changed", before, after)]
    return [FieldDifference(name, "removed", target, None) for target in removed] + [
        FieldDifference(name, "added", None, target) for target in added
    ]


# --------------------------------------------------------------------------- reading history


class _HistoryReader:
    """Walks the commits that changed item files, reading each version of a file once."""

    def __init__(self, project: Project, repository: git.Repo, wanted: frozenset[str] | None) -> None:
        self.project = project
        self.repository = repository
        self.prefix = repository_path(repository, project.root)
        self.boundaries = shallow_boundaries(repository)
        self._latest: dict[str, tuple[str, _Version]] = {}  # path -> its last version read
        self._needles = tuple(item_id.encode("utf-8") for item_id in wanted) if wanted else ()

    # ------------------------------------------------------------------ git

    def pathspecs(self) -> list[str]:
        """The project's ``sources`` as git pathspecs (relative to the repository's top)."""
        specs = []
        for source in self.project.config.sources:
            try:
                relative = repository_path(self.repository, self.project.root, source)
            except ValueError:  # outside the repository: git holds no history of it
                continue
            magic = any(character in source for character in "*?[")
            specs.append(f":(glob){relative}" if magic else (relative or "."))
        return specs

    def files_holding(self, item_id: str, pathspecs: list[str]) -> set[str]:
        """Every item file (repository-relative) that a commit added ``item_id``'s `id:` line to
        or removed it from: the files that ever held the item."""
        pattern = r"(^|[^A-Za-z0-9_-])id[[:space:]]*:[[:space:]]*[\"']?" + re.escape(item_id).replace("\\-", "-")
        pattern += r"[\"']?([^A-Za-z0-9_.-]|$)"
        output = self._git("--no-renames", "--format=", "--name-only", "-z", f"-G{pattern}", "--", *pathspecs)
        return {path for path in output.split("\0") if path.strip("\n")}

    def commits(self, pathspecs: list[str]) -> Iterator[tuple[Commit, list[_FileChange]]]:
        """The commits that changed item files under ``pathspecs``, oldest first, with those files."""
        output = self._git(
            "--reverse",
            "--topo-order",
            "--no-renames",
            "--raw",
            "--no-abbrev",
            "-z",
            "--date=raw",
            f"--format={_FORMAT}",
            "--",
            *pathspecs,
        )
        for record in output.split(_RECORD)[1:]:
            header, _, raw = record.rpartition(_FIELD)
            fields = header.split(_FIELD, 5)
            if len(fields) != 6:
                continue
            files = self._files(raw)
            if files:
                yield self._commit(fields), files

    def _commit(self, fields: list[str]) -> Commit:
        hexsha, author, email, authored, committed, message = fields
        date, commit_date = _date(authored), _date(committed)
        return Commit(
            hexsha,
            author,
            email,
            date,
            None if commit_date == date else commit_date,
            message.strip("\n"),
            hexsha in self.boundaries,
        )

    def _files(self, raw: str) -> list[_FileChange]:
        tokens = raw.lstrip("\0\n").split("\0")
        start = len(self.prefix) + 1 if self.prefix else 0
        files = []
        for meta, path in zip(tokens[::2], tokens[1::2], strict=False):
            parts = meta.lstrip(":").split(" ")
            if len(parts) != 5 or not path.endswith(_ITEM_SUFFIXES) or path.rsplit("/", 1)[-1] == PROJECT_FILE:
                continue
            old_mode, new_mode, old, new = parts[:4]  # symbolic links and submodules hold no items
            old = old if old_mode in _FILE_MODES and old.strip("0") else _ABSENT
            new = new if new_mode in _FILE_MODES and new.strip("0") else _ABSENT
            if old != new:
                files.append(_FileChange(path[start:], old, new))
        return files

    def _git(self, *arguments: str) -> str:
        import git

        try:
            return str(self.repository.git.log(*arguments))
        except git.GitCommandError as error:
            lines = str(error.stderr or error).strip().splitlines()
            raise HistoryError(f"git cannot read the history: {lines[-1].strip() if lines else error}") from error

    # ------------------------------------------------------------------ file versions

    def version(self, path: str, blob: str) -> _Version:
        """The items of ``path`` as ``blob`` holds it (read once per version and path)."""
        if blob == _ABSENT:
            return _EMPTY
        latest = self._latest.get(path)
        if latest is not None and latest[0] == blob:
            return latest[1]
        import git

        try:
            data = self.repository.git.get_object_data(blob)[3]
        except (git.GitCommandError, ValueError) as error:  # an object a broken or partial clone lacks
            return _Version({}, f"{path}: git cannot read this version ({error})")
        if self._needles and not any(needle in data for needle in self._needles):
            version = _EMPTY  # none of the wanted items is in it: not worth parsing
        else:
            version = self._parse(path, data)
        self._latest[path] = (blob, version)
        return version

    def _parse(self, path: str, data: bytes) -> _Version:
        document = parse_bytes(data, path)
        items = read_items(document, self.project.config.risk_policy)
        if document.root is None:
            unreadable = [finding for finding in document.findings if finding.rule == "Q001"]
            if unreadable:
                first = unreadable[0]
                return _Version({}, f"{first.location}: {first.message}")
        found: dict[str, Item] = {}
        for item in items:
            found.setdefault(item.id, item)  # a duplicate id: the first definition, as the loader keeps it
        return _Version(found)


def _date(raw: str) -> str:
    timestamp, _, zone = raw.partition(" ")
    try:
        return git_date(int(timestamp), zone)
    except ValueError:
        return raw


class _Trails:
    """The changes of every item, built one commit at a time (see :func:`_walk`)."""

    def __init__(self, wanted: frozenset[str] | None) -> None:
        self.wanted = wanted
        self.changes: dict[str, list[ItemChange]] = {}
        #: every item that exists, as last read: what a version after an unreadable one is compared with
        self.present: dict[str, Item] = {}

    def apply(self, commit: Commit, files: list[_FileChange], reader: _HistoryReader) -> None:
        before: dict[str, Item] = {}
        after: dict[str, Item] = {}
        unreadable_before: set[str] = set()
        unreadable_after: dict[str, str] = {}
        for file in files:
            old, new = reader.version(file.path, file.old), reader.version(file.path, file.new)
            if old.problem is not None:
                unreadable_before.add(file.path)
            if new.problem is not None:
                unreadable_after[file.path] = new.problem
            for item_id, item in old.items.items():
                before.setdefault(item_id, item)
            for item_id, item in new.items.items():
                after.setdefault(item_id, item)
        if unreadable_before:  # items in versions that could not be read: as last read
            for item_id, item in self.present.items():
                if item.file in unreadable_before and item_id not in before:
                    before[item_id] = item
        for item_id in dict.fromkeys([*before, *after]):
            if self.wanted is None or item_id in self.wanted:
                self._change(commit, item_id, before.get(item_id), after.get(item_id), unreadable_after)

    def _change(
        self, commit: Commit, item_id: str, old: Item | None, new: Item | None, unreadable: Mapping[str, str]
    ) -> None:
        found = self._found(commit, item_id, old, new, unreadable)
        if found is not None:
            self.changes.setdefault(item_id, []).append(found)

    def _found(
        self, commit: Commit, item_id: str, old: Item | None, new: Item | None, unreadable: Mapping[str, str]
    ) -> ItemChange | None:
        if new is None:
            assert old is not None
            if old.file in unreadable:
                return ItemChange(commit, "unreadable", old.file, note=unreadable[old.file])
            self.present.pop(item_id, None)
            return ItemChange(commit, "removed", old.file, field_differences(old, None))
        self.present[item_id] = new
        if old is None:
            return ItemChange(commit, "present" if commit.boundary else "added", new.file, field_differences(None, new))
        differences = field_differences(old, new)
        if old.file != new.file:
            return ItemChange(commit, "moved", new.file, differences, previous_file=old.file)
        return ItemChange(commit, "changed", new.file, differences) if differences else None


def _walk(project: Project, wanted: frozenset[str] | None) -> tuple[dict[str, list[ItemChange]], list[str]]:
    """The changes of the ``wanted`` items (None: all), and notes on what limits the history."""
    with open_repository(project.root) as repository:
        if repository is None:
            raise HistoryError(
                f"{project.root} is not in a git repository (or git is not installed): there is no history to read"
            )
        if not repository.head.is_valid():
            return {}, ["the repository has no commits yet"]
        reader = _HistoryReader(project, repository, wanted)
        pathspecs = reader.pathspecs()
        if not pathspecs:
            return {}, ["no `sources` folder of qms.yaml is inside the git repository"]
        if wanted is not None and len(wanted) == 1:
            (item_id,) = wanted
            held = reader.files_holding(item_id, pathspecs)
            current = project.items.get(item_id)
            if current is not None:
                held.add(repository_path(repository, project.root, current.file))
            if not held:
                return {}, []
            pathspecs = [f":(literal){path}" for path in sorted(held)]
        trails = _Trails(wanted)
        for commit, files in reader.commits(pathspecs):
            trails.apply(commit, files, reader)
        notes = []
        if reader.boundaries:
            notes.append(
                "this is a shallow clone: changes before its oldest commits are not available "
                "(`git fetch --unshallow` fetches them)"
            )
    return trails.changes, notes


def item_history(project: Project, item_id: str) -> AuditTrail:
    """The audit trail of one item (present or deleted): only the files that ever held it are read.

    Raises :class:`HistoryError` outside git or when git fails.
    """
    changes, notes = _walk(project, frozenset({item_id}))
    return AuditTrail(item_id, tuple(changes.get(item_id, ())), tuple(notes))


def project_history(project: Project) -> dict[str, AuditTrail]:
    """The audit trail of every item that ever was in the project, in one pass over the history.

    Outside git, an empty mapping.
    """
    try:
        changes, notes = _walk(project, None)
    except HistoryError:
        return {}
    return {item_id: AuditTrail(item_id, tuple(found), tuple(notes)) for item_id, found in changes.items()}


# --------------------------------------------------------------------------- output


def shown(value: Any) -> str:
    """A field value for people: text as written, lists comma-separated, mappings as ``key: value``."""
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return ", ".join(shown(entry) for entry in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}: {shown(entry)}" for key, entry in value.items())
    return str(value).rstrip("\n")


_VERBS: dict[ChangeKind, str] = {
    "added": "added in",
    "changed": "changed in",
    "moved": "moved to",
    "removed": "removed from",
    "unreadable": "could not be read in",
    "present": "present (oldest commit of this shallow clone) in",
}


def whereabouts(change: ItemChange) -> str:
    """What happened where, in words: ``moved to b.yaml from a.yaml``."""
    text = f"{_VERBS[change.change]} {change.file}"
    return text if change.previous_file is None else f"{text} from {change.previous_file}"


def trail_json(trail: AuditTrail, newest_first: bool = False) -> dict[str, Any]:
    """The trail as the JSON document ``qms log --format json`` prints (``version`` 1)."""
    return {
        "version": JSON_VERSION,
        "item": trail.item,
        "order": "newest first" if newest_first else "oldest first",
        "notes": list(trail.notes),
        "changes": [_change_json(change) for change in ordered(trail, newest_first)],
    }


def ordered(trail: AuditTrail, newest_first: bool) -> Iterable[ItemChange]:
    return reversed(trail.changes) if newest_first else trail.changes


def _change_json(change: ItemChange) -> dict[str, Any]:
    commit = change.commit
    return {
        "commit": commit.hash,
        "author": commit.author,
        "email": commit.email,
        "date": commit.date,
        "committed": commit.committed,
        "message": commit.message,
        "boundary": commit.boundary,
        "file": change.file,
        "previous_file": change.previous_file,
        "change": change.change,
        "note": change.note or None,
        "fields": [
            {"field": field.field, "change": field.change, "old": field.old, "new": field.new}
            for field in change.fields
        ],
    }
