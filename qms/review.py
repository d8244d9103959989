"""Review stamps of trace links, kept in ``qms.lock`` beside ``qms.yaml`` (IEC 62304 5.1.9, 8.2).

A link is reviewed against what its target said at the time: ``qms review`` writes one line per
link with a digest of the target's normative content. When the target later says something
else, the digest no longer matches and the link is *suspect* (rule C501) until someone checks the
linking item still holds and stamps it again.

Normative content is what the item states: its kind and every schema field (title, text,
severity, safety class, steps...) except its own link fields (links are reviewed one by one
through their stamps; a target's links changing does not change what it says) and ``x-`` user
fields (metadata such as owners or ticket numbers that qms does not interpret). Values are
compared as loaded, so YAML comments, quoting and layout never count; in text, runs of
whitespace count as one space, so re-wrapping a paragraph does not count either.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from qms import atomic
from qms.model import Item, Link, Location, Project
from qms.parsecache import ItemTexts
from qms.schema import CLASSIFYING_FIELDS, EXTENSION_PREFIX, KINDS

if TYPE_CHECKING:
    from qms.gitinfo import LineChange

LOCK_FILE = "qms.lock"
DIGEST_LENGTH = 16

#: a link as the lock file names it: (source id, link field, target id)
LinkKey = tuple[str, str, str]

#: the latest change to blocks of lines (first, last or None for the end) of a project file:
#: :func:`qms.gitinfo.latest_changes` with the project root bound
LineHistory = Callable[[str, Sequence[tuple[int, int | None]]], Sequence["LineChange | None"]]

_HEADER = """\
# qms.lock: review stamps of the trace links (IEC 62304 5.1.9, 8.2). Written by `qms review`;
# commit it together with the items. One line per link:
#     SOURCE FIELD TARGET DIGEST
# DIGEST is the start of the SHA-256 of the target's normative content when the link was last
# reviewed. When the target changes, `qms check` reports the link as suspect (C501) until it is
# reviewed again: `qms review ID` stamps every link to or from ID, `qms review --all` all links.
"""
#: a stamp line, with the comment a person may write after it (kept when the lock is written again)
_STAMP = re.compile(rf"\s*([^\s#]\S*)\s+(\S+)\s+(\S+)\s+([0-9a-f]{{{DIGEST_LENGTH}}})(\s+#.*?)?\s*")


# --------------------------------------------------------------------------- normative content


def normalized(value: Any) -> Any:
    """A loaded field value with layout-only differences removed, as plain JSON-able data."""
    if isinstance(value, str):
        return " ".join(unicodedata.normalize("NFC", value).split())
    if isinstance(value, Mapping):
        return {str(key): normalized(entry) for key, entry in value.items()}
    if isinstance(value, (tuple, list)):
        return [normalized(entry) for entry in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)  # dates and other scalars YAML may produce in unknown fields


#: per kind, the link fields: not part of what an item states
_LINK_FIELDS = {kind: frozenset(field.name for field in spec.link_fields) for kind, spec in KINDS.items()}


def normative_fields(item: Item) -> dict[str, Any]:
    """The fields that make up what an item states (see the module docstring), normalized."""
    links = _LINK_FIELDS.get(item.kind, frozenset())
    return {
        name: normalized(value)
        for name, value in item.fields.items()
        if name not in links and not name.startswith(EXTENSION_PREFIX)
    }


#: the canonical JSON of what an item states: sorted keys, no spaces, text as written
_CANONICAL = json.JSONEncoder(sort_keys=True, ensure_ascii=False, separators=(",", ":"))
#: a string as :data:`_CANONICAL` writes it
_quoted = encode_basestring


def content_digest(item: Item) -> str:
    """The digest of an item's normative content: equal exactly when the item states the same."""
    fields = normative_fields(item)
    if all(type(value) is str for value in fields.values()):
        # the common case, every field text: the same JSON as _CANONICAL's, written directly
        written = ",".join([f"{_quoted(name)}:{_quoted(value)}" for name, value in sorted(fields.items())])
        canonical = f'{{"fields":{{{written}}},"kind":{_quoted(item.kind)}}}'
    else:
        canonical = _CANONICAL.encode({"kind": item.kind, "fields": fields})
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:DIGEST_LENGTH]


def target_digests(project: Project) -> dict[str, str]:
    """The content digest of every item a link points at, by id; each item's kept between runs by
    its file's key in the parse cache (:class:`~qms.parsecache.ItemTexts`), so that after an edit
    only the edited file's items are digested again."""
    digests = ItemTexts(project, "content-digests", content_digest)
    targets = {link.target for link in project.links}
    found = {target: digests.text(project.items[target]) for target in sorted(targets)}
    digests.save()
    return found


def link_key(link: Link) -> LinkKey:
    return (link.source, link.field, link.target)


# --------------------------------------------------------------------------- the lock file


@dataclass(frozen=True, slots=True)
class LockProblem:
    """A line of ``qms.lock`` that cannot be taken as a stamp (hand edit, merge conflict)."""

    line: int
    message: str
    #: whether writing the lock again may leave the line out: a merge conflict marker, or the second
    #: stamp of a link (the review restamps it); any other line holds what a person wrote
    droppable: bool = False

    def location(self) -> Location:
        return Location(LOCK_FILE, self.line, 1)


@dataclass(frozen=True, slots=True)
class SuspectLink:
    """A link whose target changed since its review (``stamp`` set) or that was never reviewed."""

    link: Link
    stamp: str | None
    digest: str

    @property
    def never_reviewed(self) -> bool:
        return self.stamp is None


@dataclass(frozen=True)
class ReviewState:
    """The review stamps of a project, as read from its ``qms.lock``.

    A project without ``qms.lock`` has not started change control: nothing is suspect until
    ``qms review --all`` writes the first stamps (``qms init`` does so for new projects).
    """

    exists: bool
    stamps: Mapping[LinkKey, str] = field(default_factory=lambda: MappingProxyType({}))
    problems: tuple[LockProblem, ...] = ()
    #: the file exists but could not be read at all: its problem is the one finding, not every link
    unreadable: bool = False
    #: where git is available: who last changed a block of lines, for the C501 messages
    history: LineHistory | None = None
    #: what a person wrote besides the stamps, kept when the lock is written again (:func:`format_lock`)
    comments: LockComments | None = None

    def suspect_links(self, project: Project, digests: Mapping[str, str] | None = None) -> list[SuspectLink]:
        """Every link whose stamp is missing or does not match its target's content now (``digests``:
        :func:`target_digests` of the project, where known already)."""
        if not self.exists or self.unreadable:
            return []
        if digests is None:
            digests = target_digests(project)
        suspects = []
        for link in project.links:
            digest = digests.get(link.target) or content_digest(project.items[link.target])
            stamp = self.stamps.get(link_key(link))
            if stamp != digest:
                suspects.append(SuspectLink(link, stamp, digest))
        return suspects

    def latest_changes(self, project: Project, item_ids: Iterable[str]) -> dict[str, LineChange]:
        """Who last changed each of the items, where git can tell: one blame per file."""
        if self.history is None:
            return {}
        found: dict[str, LineChange] = {}
        for file, blocks in item_blocks(project, item_ids).items():
            ids = list(blocks)
            for item_id, change in zip(ids, self.history(file, [blocks[i] for i in ids]), strict=True):
                if change is not None:
                    found[item_id] = change
        return found


def item_blocks(project: Project, item_ids: Iterable[str]) -> dict[str, dict[str, tuple[int, int | None]]]:
    """Per file, the lines each item spans: from its first line to its last line of content.

    An item's lines run up to the next item, less the blank and comment lines at their end: those
    are layout between items (often a comment introducing the next one), so an item appended after
    another, with its blank line and comment, does not count as a change of the one before.
    """
    wanted = {item_id for item_id in item_ids if item_id in project.items}
    files = {project.items[item_id].file for item_id in wanted}
    starts: dict[str, list[int]] = defaultdict(list)
    for item in project:
        if item.file in files:
            starts[item.file].append(item.location().line)
    texts: dict[str, list[str]] = {}
    blocks: dict[str, dict[str, tuple[int, int | None]]] = defaultdict(dict)
    for item_id in sorted(wanted):
        item = project.items[item_id]
        start = item.location()
        first = max(start.line, 1)
        later = [line for line in starts[item.file] if line > start.line]
        if item.file not in texts:
            texts[item.file] = _file_lines(project.root / item.file)
        lines = texts[item.file]
        last = min(later) - 1 if later else len(lines)
        while last > first and _is_layout(lines[last - 1], start.column):
            last -= 1
        blocks[item.file][item_id] = (first, max(last, first) if later or lines else None)
    return dict(blocks)


def _file_lines(path: Path) -> list[str]:
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return []


def _is_layout(line: str, column: int) -> bool:
    """Whether a line is layout after an item whose first key is at ``column`` (1-based): blank, or a
    comment no deeper than that key (deeper lines may be the content of a block scalar)."""
    text = line.lstrip()
    return not text or (text.startswith("#") and len(line) - len(text) < max(column, 1))


def classifying_lines(project: Project, item_ids: Iterable[str]) -> frozenset[int]:
    """The lines of the items' fields that only classify them (:data:`qms.schema.CLASSIFYING_FIELDS`,
    such as a requirement's type): a change there does not put a test result in question."""
    lines: set[int] = set()
    for item_id in item_ids:
        item = project.items[item_id]
        spec = KINDS.get(item.kind)
        for field_spec in spec.fields if spec else ():
            if field_spec in CLASSIFYING_FIELDS and (field_spec.name,) in item.positions:
                lines.add(item.location((field_spec.name,)).line)
    return frozenset(lines)


def lock_path(root: Path) -> Path:
    return root / LOCK_FILE


def read_lock(root: Path, history: LineHistory | None = None) -> ReviewState:
    """The review state in ``root/qms.lock``; unreadable lines become problems, never exceptions."""
    path = lock_path(root)
    if not os.path.lexists(path):
        return ReviewState(exists=False, history=history)
    if not path.is_file():
        return _unreadable("it is a folder" if path.is_dir() else "it is not a regular file", history)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        return _unreadable(error.strerror or str(error), history)
    except UnicodeDecodeError:
        return _unreadable("it is not UTF-8", history)
    stamps: dict[LinkKey, str] = {}
    problems: list[LockProblem] = []
    comments = LockComments()
    waiting: list[str] = []  # comment lines since the last stamp: they belong to the next one
    for number, line in enumerate(text.split("\n"), start=1):
        stamp = _STAMP.fullmatch(line)
        if stamp is None:
            entry = line.strip()
            if entry.startswith("#"):
                waiting.append(line.rstrip())
            elif entry:
                conflict = entry.startswith(_CONFLICT_MARKERS)
                problems.append(LockProblem(number, _not_a_stamp(entry), droppable=conflict))
            continue
        source, field_name, target, digest, after = stamp.groups()
        key = (source, field_name, target)
        if not stamps:  # the comments above the first stamp: the file's header
            comments.leading, waiting = tuple(waiting), []
        if waiting:
            comments.before[key] = comments.before.get(key, ()) + tuple(waiting)
            waiting = []
        if after:
            comments.after[key] = after.rstrip()
        if stamps.setdefault(key, digest) != digest:
            problems.append(
                LockProblem(
                    number, f"{' '.join(key)} is stamped twice with different digests: keep one line", droppable=True
                )
            )
    if stamps:
        comments.trailing = tuple(waiting)
    else:
        comments.leading = tuple(waiting)
    return ReviewState(
        exists=True, stamps=MappingProxyType(stamps), problems=tuple(problems), history=history, comments=comments
    )


@dataclass
class LockComments:
    """The comment lines of ``qms.lock``: those above the first stamp (its header), those above each
    stamp and after its digest on its line, and those after the last stamp."""

    leading: tuple[str, ...] = ()
    before: dict[LinkKey, tuple[str, ...]] = field(default_factory=dict)
    after: dict[LinkKey, str] = field(default_factory=dict)
    trailing: tuple[str, ...] = ()


_CONFLICT_MARKERS = ("<<<<<<<", "=======", ">>>>>>>", "|||||||")


def _unreadable(reason: str, history: LineHistory | None) -> ReviewState:
    """The state of a ``qms.lock`` that cannot be read: one problem, and change control is not silently off."""
    message = (
        f"{LOCK_FILE} cannot be read ({reason}); no link can be checked against its review until it is "
        f"a readable file: restore it from git, or remove it and run `qms review --all`"
    )
    return ReviewState(exists=True, problems=(LockProblem(1, message),), unreadable=True, history=history)


def _not_a_stamp(entry: str) -> str:
    """What is wrong with a lock line that is neither a stamp nor a comment."""
    if entry.startswith(_CONFLICT_MARKERS):
        return "merge conflict marker in qms.lock: keep the stamps of both sides, or run `qms review` on the items"
    return (
        f"not a review stamp: expected `SOURCE FIELD TARGET DIGEST` with a {DIGEST_LENGTH}-digit hex digest "
        "(and a `# comment` after it if you like); correct the line or restore it from git, or delete it and "
        "run `qms review` on its items"
    )


def format_lock(stamps: Mapping[LinkKey, str], comments: LockComments | None = None) -> str:
    """The text of ``qms.lock``: the header, then one sorted line per stamped link. The comments a
    person wrote are kept (``comments``, as :func:`read_lock` found them): the header as written,
    each comment above its stamp and after its digest; those of a stamp no longer written (its link
    is gone) move to the end, after the comments that were there."""
    comments = comments if comments is not None else LockComments()
    lines = [f"{line}\n" for line in comments.leading] if comments.leading else [_HEADER]
    for key, digest in sorted(stamps.items()):
        lines += [f"{line}\n" for line in comments.before.get(key, ())]
        lines.append(f"{' '.join(key)} {digest}{comments.after.get(key, '')}\n")
    gone = [key for key in sorted({*comments.before, *comments.after}) if key not in stamps]
    lines += [f"{line}\n" for line in comments.trailing]
    for key in gone:
        lines += [f"{line}\n" for line in comments.before.get(key, ())]
        if key in comments.after:
            lines.append(f"# {' '.join(key)} (link removed){comments.after[key]}\n")
    return "".join(lines)


# --------------------------------------------------------------------------- reviewing


@dataclass(frozen=True)
class ReviewUpdate:
    """What ``qms review`` changes in the lock: links stamped anew, stamps of links now gone."""

    stamps: Mapping[LinkKey, str]
    stamped: tuple[Link, ...]
    removed: tuple[LinkKey, ...]

    @property
    def changed(self) -> bool:
        return bool(self.stamped or self.removed)


def review_links(project: Project, state: ReviewState, item_ids: Collection[str] | None = None) -> ReviewUpdate:
    """Stamp every link to or from ``item_ids`` (every link when None) with its target's digest now.

    Stamps of links that no longer exist are dropped, so the lock mirrors the links.
    """
    current = {link_key(link): link for link in project.links}
    stamps = {key: digest for key, digest in state.stamps.items() if key in current}
    removed = tuple(sorted(key for key in state.stamps if key not in current))
    stamped = []
    digests: dict[str, str] = {}
    for key, link in current.items():
        if item_ids is not None and link.source not in item_ids and link.target not in item_ids:
            continue
        digest = digests.get(link.target)
        if digest is None:
            digest = digests[link.target] = content_digest(project.items[link.target])
        if stamps.get(key) != digest:
            stamps[key] = digest
            stamped.append(link)
    return ReviewUpdate(MappingProxyType(stamps), tuple(stamped), removed)


def write_lock(root: Path, stamps: Mapping[LinkKey, str], comments: LockComments | None = None) -> Path:
    """Write ``qms.lock`` atomically, with the ``comments`` it held (:func:`format_lock`); returns its path."""
    path = lock_path(root)
    atomic.write_text(path, format_lock(stamps, comments))
    return path


def stamp_all(project: Project) -> Path:
    """Start change control: stamp every link of the project as reviewed (``qms init``)."""
    update = review_links(project, ReviewState(exists=True))
    return write_lock(project.root, update.stamps)
