"""The audit trail on each item's block: its committed changes, newest first, collapsed.

The history of every item is read once per build, in one pass (:func:`qms.history.project_history`),
and each block takes its item's part; ``qms log ID`` shows the same changes.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any

from qms.history import AuditTrail, ItemChange, project_history, shown, whereabouts

if TYPE_CHECKING:
    from qms.sphinx.views import BuildData

#: where the build keeps every item's trail (the build's cache of query answers)
_TRAILS = ("audit-trails",)

#: the class prefix of the site's elements (:data:`qms.sphinx.html.P`, which imports the Sphinx domain)
P = "qms"


def audit_view(data: BuildData, item_id: str) -> dict[str, Any]:
    """What an item's audit trail shows: its changes, newest first, as plain data."""
    trails: dict[str, AuditTrail] | None = data.cache.get(_TRAILS)
    if trails is None:
        trails = data.cache[_TRAILS] = project_history(data.project)
    trail = trails.get(item_id)
    if trail is None:
        return {"changes": [], "notes": []}
    return {"changes": [_change_view(change) for change in reversed(trail.changes)], "notes": list(trail.notes)}


def leave_out_audit_trails(data: BuildData) -> None:
    """Show no audit trail on this build's blocks (``qms_audit_trail = False`` in conf.py)."""
    data.cache[_TRAILS] = {}


def _change_view(change: ItemChange) -> dict[str, Any]:
    commit = change.commit
    where = whereabouts(change)
    if change.change in ("added", "present"):  # the values: the next change's old ones, or the block's
        where += " with " + ", ".join(dict.fromkeys(field.field for field in change.fields))
        differences = []
    else:
        differences = [[field.field, field.change, shown(field.old), shown(field.new)] for field in change.fields]
    return {
        "commit": commit.hash,
        "author": commit.author,
        "email": commit.email,
        "date": commit.date,
        "committed": commit.committed or "",
        "subject": commit.subject,
        "where": where,
        "note": change.note,
        "fields": differences,
    }


def esc(text: str) -> str:
    return escape(text, quote=True)


def audit_html(view: dict[str, Any]) -> str:
    """The trail as a collapsed ``<details>`` element; nothing when git holds no change of the item."""
    changes = view["changes"]
    if not changes:
        return ""
    count = len(changes)
    entries = "".join(_change_html(change) for change in changes)
    notes = "".join(f'<p class="{P}-muted">{esc(note)}</p>' for note in view["notes"])
    return (
        f'<details class="{P}-audit"><summary>Audit trail: {count} change{"s" if count != 1 else ""}, '
        f'newest first</summary>{notes}<ol class="{P}-audit-changes">{entries}</ol></details>'
    )


def _change_html(change: dict[str, Any]) -> str:
    when = change["date"] + (f" (committed {change['committed']})" if change["committed"] else "")
    head = (
        f"<p><strong>{esc(change['where'])}</strong> · {esc(when)} · {esc(change['author'])} "
        f'&lt;{esc(change["email"])}&gt; · commit <code class="docutils literal notranslate">'
        f"{esc(change['commit'][:10])}</code> “{esc(change['subject'])}”</p>"
    )
    lines = [f"<li>{esc(change['note'])}</li>"] if change["note"] else []
    for name, what, old, new in change["fields"]:
        if what == "added":
            lines.append(f"<li>{esc(name)} added: {esc(new)}</li>")
        elif what == "removed":
            lines.append(f"<li>{esc(name)} removed: {esc(old)}</li>")
        else:
            lines.append(f"<li>{esc(name)}: <del>{esc(old)}</del> → <ins>{esc(new)}</ins></li>")
    listed = f'<ul class="simple">{"".join(lines)}</ul>' if lines else ""
    return f'<li class="{P}-audit-change" data-commit="{esc(change["commit"])}">{head}{listed}</li>'
