"""The audit trail on each item's block: its committed changes, newest first, collapsed.

The history of every item is read in one pass (:func:`qms.history.project_history`), and each
block takes its item's part; ``qms log ID`` shows the same changes. The trails depend on nothing
but the commits, so a build keeps them beside its saved environment and reads the history again
only after the checked-out commit (or what the history is read with) changed: an edit in the
working tree costs no pass over the history.

A block is fingerprinted by its own item's trail (:func:`trail_digest`), not by the commit checked
out: a commit that changed one item's file leaves every other block as it was.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING

from qms import __version__, history
from qms.atomic import UNREADABLE_KEPT, read_kept, write_kept
from qms.gitinfo import open_repository, shallow_boundaries
from qms.history import AuditTrail, ItemChange, project_history, shown, whereabouts
from qms.sphinx.views.build import repr_digest

if TYPE_CHECKING:
    from qms.sphinx.views.build import BuildData

#: where the build keeps every item's trail (the build's cache of query answers)
_TRAILS = ("audit-trails",)
#: where the build keeps the file holding the trails between builds
_TRAILS_FILE = ("audit-trails-file",)

#: the class prefix of the site's elements (:data:`qms.sphinx.html.P`, which imports the Sphinx domain)
P = "qms"


@dataclass(frozen=True)
class FieldChangeView:
    """One field of a change: ``change`` is added, removed or changed; values as shown to people."""

    field: str
    change: str
    old: str
    new: str

    def described(self, escape: Callable[[str], str], deleted: str = "{}", inserted: str = "{}") -> str:
        """``field added: new``, ``field removed: old`` or ``field: old → new``; values marked with the templates."""
        if self.change == "added":
            return f"{escape(self.field)} added: {escape(self.new)}"
        if self.change == "removed":
            return f"{escape(self.field)} removed: {escape(self.old)}"
        return f"{escape(self.field)}: {deleted.format(escape(self.old))} → {inserted.format(escape(self.new))}"


@dataclass(frozen=True)
class ChangeView:
    """One commit's change of an item, as its block shows it."""

    commit: str
    author: str
    email: str
    date: str
    committed: str  # the commit date where it differs from the author date, else ""
    subject: str
    where: str  # what happened where: "changed in a.yaml"
    note: str  # why the file could not be read, else ""
    fields: tuple[FieldChangeView, ...]

    @property
    def when(self) -> str:
        return self.date + (f" (committed {self.committed})" if self.committed else "")


@dataclass(frozen=True)
class AuditView:
    """An item's audit trail, newest change first: what every writer of its block reads."""

    changes: tuple[ChangeView, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def summary(self) -> str:
        count = len(self.changes)
        return f"Audit trail: {count} change{'s' if count != 1 else ''}, newest first"


def audit_view(data: BuildData, item_id: str) -> AuditView:
    """What an item's audit trail shows: its changes, newest first."""
    trail = _trails(data).get(item_id)
    if trail is None:
        return AuditView()
    return AuditView(tuple(_change_view(change) for change in reversed(trail.changes)), tuple(trail.notes))


def trail_digest(data: BuildData, item_id: str) -> str:
    """Fingerprint of an item's audit trail ("" for none): what its block shows of the history."""
    return _trails(data).digests.get(item_id, "")


def trails_digest(data: BuildData) -> str:
    """Fingerprint of every item's audit trail (of the fingerprint of each)."""
    return repr_digest(sorted(_trails(data).digests.items()))


def leave_out_audit_trails(data: BuildData) -> None:
    """Show no audit trail on this build's blocks (``qms_audit_trail = False`` in conf.py)."""
    data.cache[_TRAILS] = _Trails({}, {})


def keep_trails_in(data: BuildData, path: Path) -> None:
    """Keep the trails in ``path`` between builds (a file of the build's own, beside its environment)."""
    data.cache[_TRAILS_FILE] = path


class _Trails:
    """Every item's trail, and the fingerprint of each (kept with them: the same trails, the same
    fingerprints). Saved trails are kept one pickle an item and read only when a block shows one:
    deciding which pages are stale needs the fingerprints alone, and unpickling every trail took a
    quarter of a second of every build in git at 10,000 items."""

    def __init__(
        self,
        digests: dict[str, str],
        trails: dict[str, AuditTrail] | None = None,
        load: Callable[[], dict[str, bytes] | None] | None = None,
        read_again: Callable[[], dict[str, AuditTrail]] | None = None,
    ) -> None:
        self.digests = digests
        self._trails = trails
        self._load, self._read_again = load, read_again
        self._saved: dict[str, bytes] | None = None

    @classmethod
    def of(cls, trails: dict[str, AuditTrail]) -> _Trails:
        return cls({item_id: repr_digest(trail) for item_id, trail in trails.items()}, trails)

    def get(self, item_id: str) -> AuditTrail | None:
        """The item's trail (None: it has none); from git again where the saved one cannot be read."""
        if self._trails is None and self._saved is None:
            self._saved = self._load() if self._load is not None else {}
            if self._saved is None:
                self._trails = self._again()
        if self._trails is not None:
            return self._trails.get(item_id)
        saved = self._saved.get(item_id) if self._saved is not None else None
        if saved is None:
            return None
        try:
            trail = pickle.loads(saved)
        except UNREADABLE_KEPT:  # a damaged file: the trails are read from git again
            trail = None
        if isinstance(trail, AuditTrail):
            return trail
        self._trails = self._again()
        return self._trails.get(item_id)

    def _again(self) -> dict[str, AuditTrail]:
        return self._read_again() if self._read_again is not None else {}

    @property
    def trails(self) -> dict[str, AuditTrail]:
        """Every trail, as read from git (only a :meth:`of` has them all in hand)."""
        return self._trails if self._trails is not None else {}

    def pickled(self) -> dict[str, bytes]:
        """Each trail pickled on its own, by item id: what is saved."""
        return {
            item_id: pickle.dumps(trail, protocol=pickle.HIGHEST_PROTOCOL) for item_id, trail in self.trails.items()
        }


def _trails(data: BuildData) -> _Trails:
    """The build's trails, read once."""
    trails: _Trails | None = data.cache.get(_TRAILS)
    if trails is None:
        trails = data.cache[_TRAILS] = _saved_or_read(data)
    return trails


def _digests_file(path: Path) -> Path:
    """Where the fingerprints of the trails kept in ``path`` are kept (written after the trails)."""
    return path.with_name(f"{path.stem}-digests{path.suffix}")


def _saved_or_read(data: BuildData) -> _Trails:
    """Every item's trail: as saved by an earlier build from the same inputs, else read from git (and saved)."""
    path: Path | None = data.cache.get(_TRAILS_FILE)
    if path is None:
        return _Trails.of(project_history(data.project))
    code = hashlib.sha256(Path(history.__file__).read_bytes() + Path(__file__).read_bytes()).hexdigest()
    key = (__version__, code, str(data.project.root), dict(data.project.config.raw), trails_inputs(data))
    digests = read_kept(_digests_file(path), key)
    if isinstance(digests, dict):

        def load() -> dict[str, bytes] | None:
            saved = read_kept(path, key)
            return saved if isinstance(saved, dict) else None

        def read_again() -> dict[str, AuditTrail]:  # the trails' file failed
            return _read_and_save(data, path, key).trails

        return _Trails(digests, load=load, read_again=read_again)
    return _read_and_save(data, path, key)


def _read_and_save(data: BuildData, path: Path, key: object) -> _Trails:
    """The trails read from git, kept in ``path`` and their fingerprints beside it (written second:
    fingerprints found for a key promise trails of that key, or none)."""
    trails = _Trails.of(project_history(data.project))
    write_kept(path, key, trails.pickled())
    write_kept(_digests_file(path), key, trails.digests)
    return trails


def trails_inputs(data: BuildData) -> tuple[str | None, ...]:
    """What every item's audit trail is read from, without reading it: the commit checked out and
    where a shallow clone's history is cut (the trail holds committed changes only, of the files
    ``sources`` names, read with the risk policy: the project file is among a block's inputs)."""
    key = ("audit-trails-inputs",)
    if key not in data.cache:
        if data.cache.get(_TRAILS) == {} or not data.control.under_version_control:
            data.cache[key] = ("no trail",)
        else:
            with open_repository(data.project.root) as repository:
                cut = sorted(shallow_boundaries(repository)) if repository is not None else []
            data.cache[key] = (data.control.commit, *cut)
    inputs: tuple[str | None, ...] = data.cache[key]
    return inputs


def _change_view(change: ItemChange) -> ChangeView:
    commit = change.commit
    where = whereabouts(change)
    if change.change in ("added", "present"):  # the values: the next change's old ones, or the block's
        where += " with " + ", ".join(dict.fromkeys(field.field for field in change.fields))
        differences: tuple[FieldChangeView, ...] = ()
    else:
        differences = tuple(
            FieldChangeView(field.field, field.change, shown(field.old), shown(field.new)) for field in change.fields
        )
    return ChangeView(
        commit=commit.hash,
        author=commit.author,
        email=commit.email,
        date=commit.date,
        committed=commit.committed or "",
        subject=commit.subject,
        where=where,
        note=change.note,
        fields=differences,
    )


def esc(text: str) -> str:
    return escape(text, quote=True)


def audit_html(view: AuditView) -> str:
    """The trail as a collapsed ``<details>`` element; nothing when git holds no change of the item."""
    if not view.changes:
        return ""
    entries = "".join(_change_html(change) for change in view.changes)
    notes = "".join(f'<p class="{P}-muted">{esc(note)}</p>' for note in view.notes)
    return (
        f'<details class="{P}-audit"><summary>{view.summary}</summary>'
        f'{notes}<ol class="{P}-audit-changes">{entries}</ol></details>'
    )


def _change_html(change: ChangeView) -> str:
    head = (
        f"<p><strong>{esc(change.where)}</strong> · {esc(change.when)} · {esc(change.author)} "
        f'&lt;{esc(change.email)}&gt; · commit <code class="docutils literal notranslate">'
        f"{esc(change.commit[:10])}</code> “{esc(change.subject)}”</p>"
    )
    lines = [f"<li>{esc(change.note)}</li>"] if change.note else []
    lines += [f"<li>{field.described(esc, '<del>{}</del>', '<ins>{}</ins>')}</li>" for field in change.fields]
    listed = f'<ul class="simple">{"".join(lines)}</ul>' if lines else ""
    return f'<li class="{P}-audit-change" data-commit="{esc(change.commit)}">{head}{listed}</li>'
