"""The audit trail on each item's block: its committed changes, newest first, collapsed.

The history of every item is read once per build, in one pass (:func:`qms.history.project_history`),
and each block takes its item's part; ``qms log ID`` shows the same changes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

from qms.history import AuditTrail, ItemChange, project_history, shown, whereabouts

if TYPE_CHECKING:
    from qms.sphinx.views.build import BuildData

#: where the build keeps every item's trail (the build's cache of query answers)
_TRAILS = ("audit-trails",)

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
    trails: dict[str, AuditTrail] | None = data.cache.get(_TRAILS)
    if trails is None:
        trails = data.cache[_TRAILS] = project_history(data.project)
    trail = trails.get(item_id)
    if trail is None:
        return AuditView()
    return AuditView(tuple(_change_view(change) for change in reversed(trail.changes)), tuple(trail.notes))


def leave_out_audit_trails(data: BuildData) -> None:
    """Show no audit trail on this build's blocks (``qms_audit_trail = False`` in conf.py)."""
    data.cache[_TRAILS] = {}


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
