"""The document-control block of every document: which document, its revision and approval
status with who approved it, for which device version, from which source revision, and the
document's own revision history (from git).

Filled when a page is written, not when it is read: a commit changes every page's block but no
page's content, so pages are written again without being read again. The document's approval
state is a query of the page (``document-state``), so a page is read again when its state changes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from html import escape
from pathlib import Path

from docutils import nodes

from qms import __version__
from qms.approvals import Approval, DocumentState, document_states, rendered_items, template_sources
from qms.atomic import write_text
from qms.config import PROJECT_FILE
from qms.documents import DocumentSpec, default_templates, document_spec
from qms.gitinfo import DocumentControl, GitHistory, Revision, day, revision_history
from qms.model import Project
from qms.sphinx.blocks import qms_html
from qms.sphinx.render import P, field, paragraph, table
from qms.sphinx.views.build import BuildData, field_label, repr_digest
from qms.sphinx.views.cells import Literal, Text

#: How many of the latest changes a document lists (the repository holds them all).
HISTORY_LENGTH = 8


def states_view(data: BuildData) -> Mapping[str, DocumentState]:
    """Every document's approval state, by document id (computed once per build, and shared with
    the build's check, whose release check needs it too)."""
    if data.check is not None:
        return data.check.documents
    return document_states(data.project, data.statuses, GitHistory(data.project.root), unapproved_digests=False)


@dataclass(frozen=True, slots=True)
class ControlView:
    """What a document's control block shows of its approval state, as text; the page is read
    again exactly when this changes (a draft edited stays a draft: its page is not read again)."""

    status: str  # draft, approved or changed
    rows: tuple[tuple[str, str], ...]  # label, text
    approval_commits: tuple[str, ...]  # the commits that recorded its approvals, for its history


def state_view(data: BuildData, document: str) -> ControlView | None:
    """One document's approval state; None for a page that is not a document of the technical file."""
    states: Mapping[str, DocumentState] = data.answer(("document-states",))
    state = states.get(document)
    if state is None:
        return None
    rows = control_rows(state)
    commits = tuple(dict.fromkeys(approval.commit for approval in state.approvals if approval.commit))
    return ControlView(state.status, rows, commits)


def control_rows(state: DocumentState) -> tuple[tuple[str, str], ...]:
    """The rows the control block shows of a document's approval state: label, text."""
    return (
        ("Revision", str(state.revision) if state.revision else "none approved yet"),
        ("Status", _status(state)),
        *_roles(state),
        ("Effective", _effective(state)),
    )


def document_paths(data: BuildData, spec: DocumentSpec | None, page_source: str | None) -> list[Path]:
    """The files whose history is the document's revision history: the files of the items it
    renders (as its approval's digest counts them), ``qms.yaml``, and its templates (the
    project's override or the shipped one, and those it extends or includes) or, for a page of the
    project's own, that page. Never other files of the repository, such as a tool kept beside it."""
    project = data.project
    if spec is None:
        files = list(project.files)
    else:
        items = project.items
        files = sorted({items[item_id].file for item_id in rendered_items(project, spec) if item_id in items})
    paths = [project.root / name for name in (PROJECT_FILE, *files)]
    if page_source:
        paths.append(project.root / page_source)
    elif spec is not None:
        paths += template_paths(project, spec)
    return paths


def template_paths(project: Project, spec: DocumentSpec) -> list[Path]:
    """The files of the templates a document renders from (the project's first, then the shipped ones)."""
    user, shipped = project.root / project.config.templates, default_templates()
    paths = []
    for name in template_sources(project, spec):
        relative = name.removeprefix("default/")
        folders = [shipped] if name.startswith("default/") else [user, shipped]
        paths += [folder / relative for folder in folders if (folder / relative).is_file()][:1]
    return paths


def _revision_source(control: DocumentControl) -> list[nodes.Node]:
    """The "Source revision" row for builders other than HTML (see :func:`source_revision_html`)."""
    return [paragraph(*([nodes.literal(code, code)] if code else []), text) for code, text in _revision_lines(control)]


def source_revision_html(control: DocumentControl) -> str:
    """The "Source revision" row of an HTML page: the build's commit, date and working tree.

    The one part of a page that a commit or a first edit after it changes on every page; written
    as one element of its own, so that a build can put the new one into a page it does not write
    again (:func:`patch_source_revision`). Left out of the search index, like the rest of the block.
    """
    classes = f"{P}-source-revision" + (f" {P}-source-revision-dirty" if _dirty(control) else "")
    paragraphs = [
        (f'<code class="docutils literal notranslate"><span class="pre">{escape(code)}</span></code>' if code else "")
        + escape(text)
        for code, text in _revision_lines(control)
    ]
    return f'<div class="{classes}">' + "".join(f"<p>{line}</p>" for line in paragraphs) + "</div>"


#: A page's "Source revision" row as :func:`source_revision_html` writes it (no element inside is a div).
_SOURCE_REVISION = re.compile(rf'<div class="{P}-source-revision[^"]*">.*?</div>', re.DOTALL)


def patch_source_revision(page: Path, control: DocumentControl) -> bool:
    """Put the build's "Source revision" row into a page written by an earlier build; whether the
    page changed. A page without the row (another theme's, or the project's own) is left as it is."""
    try:
        text = page.read_text(encoding="utf-8")
    except OSError:
        return False
    patched = _SOURCE_REVISION.sub(lambda match: source_revision_html(control), text)
    if patched == text:
        return False
    write_text(page, patched)
    return True


def _revision_lines(control: DocumentControl) -> list[tuple[str, str]]:
    """The row's lines: (the commit, shown as code, or ""; the text after it)."""
    if not control.under_version_control:
        return [("", "not under version control")]
    if control.commit is None:
        return [("", "git repository without commits")]
    state = "with uncommitted changes" if control.dirty else "clean working tree"
    lines = [(control.commit, f" ({control.date}), {state}")]
    if control.describe and not control.commit.startswith(control.describe):  # a tag, not the hash again
        lines.append(("", f"git describe: {control.describe}"))
    return lines


def _dirty(control: DocumentControl) -> bool:
    return control.dirty and control.under_version_control


def _history(revisions: list[Revision]) -> nodes.Node:
    rows = [
        (Text(day(revision.date)), Literal(revision.short), Text(revision.author), Text(revision.subject))
        for revision in revisions
    ]
    history = table(
        ["Date", "Commit", "Author", "Change"],
        rows,
        classes=[f"{P}-history"],
        widths=[2, 2, 3, 8],
        caption="Revision history",
    )
    history["ids"] = ["revision-history"]  # a captioned table needs an id when it is written
    container = nodes.container(classes=[f"{P}-history-block"])
    container += history
    note = (
        f"The latest {len(revisions)} commit{'s' if len(revisions) != 1 else ''} that changed the records, "
        "templates or configuration this document renders, or recorded its approvals; "
        "the repository holds the full history."
    )
    if any(revision.boundary for revision in revisions):
        note += " This is a shallow clone: changes before its oldest commit are not available here."
    container += paragraph(note, classes=[f"{P}-history-note"])
    return container


def _status(state: DocumentState) -> str:
    missing = ", ".join(state.missing_roles)
    if state.status == "approved":
        return "approved"
    if state.status == "draft":
        return f"draft: not approved yet by {missing}"
    changed = "".join(f"{'; ' if n else ': '}{change.summary}" for n, change in enumerate(state.changed_items))
    since = f" (revision {state.revision})" if state.revision else ""  # 0: approved in part, never in full
    return f"changed since approval{since}{changed}; to approve again: {missing}"


def _approval(approval: Approval, state: DocumentState) -> str:
    text = f"{approval.name} <{approval.email}>, {day(approval.at)}, {approval.meaning}"
    text += f"; signed by {approval.signer}" if approval.signed and approval.signer else ""
    if approval.findings:
        text += f"; with open findings: {'; '.join(approval.findings)}"
    if approval.digest != state.digest:
        earlier = f"revision {state.revision}" if state.revision else "an earlier draft"
        text += f" ({earlier}, before the content changed)"
    return text


def _roles(state: DocumentState) -> list[tuple[str, str]]:
    """Per role the document needs: who approved its current content (or the last approved one)."""
    basis = state.basis.digest if state.basis is not None else None
    rows = []
    for role in state.required_roles:
        current = [a for a in state.approvals if a.role == role and a.digest == state.digest]
        earlier = [a for a in state.approvals if a.role == role and a.digest == basis]
        shown = (current or earlier)[-1:]
        rows.append((field_label(role), _approval(shown[0], state) if shown else "not approved yet"))
    return rows


def _effective(state: DocumentState) -> str:
    if state.effective is not None:
        return day(state.effective)
    return "not in effect: changed since approval" if state.status == "changed" else "not in effect: draft"


def control_block(data: BuildData, docname: str, doc_id: str, title: str, *, html: bool) -> list[nodes.Node]:
    """The document-control block (``html``: for an HTML page, whose source revision is one fragment)."""
    device = data.project.config.device
    spec = document_spec(docname)
    view: ControlView | None = data.answer(("document-state", spec.id)) if spec is not None else None
    rows: list[tuple[str, list[nodes.Node]]] = [("Document", [paragraph(f"{doc_id} {title}".strip())])]
    if view is not None:
        rows += [(label, [paragraph(text)]) for label, text in view.rows]
    rows += [
        ("Device", [paragraph(f"{device.name} {device.version}".strip())]),
        ("Software safety class", [paragraph(f"{device.software_safety_class} (IEC 62304:{data.edition})")]),
        (
            "Source revision",
            [qms_html("", source_revision_html(data.control))] if html else _revision_source(data.control),
        ),
        ("Generated by", [paragraph(f"qms {__version__}")]),
    ]
    block = nodes.field_list(classes=[f"{P}-document-control"])
    if view is not None:
        block["classes"].append(f"{P}-document-{view.status}")
    for label, body in rows:
        block += field(label, body)
    return [block]


def history_block(data: BuildData, docname: str, page_source: str | None) -> list[nodes.Node]:
    """The document's revision history, where git has one."""
    revisions = page_history(data, docname, page_source)
    return [_history(revisions)] if revisions else []


def page_history(data: BuildData, docname: str, page_source: str | None) -> list[Revision]:
    """The commits a page's revision history lists, newest first (read from git once per build
    for each document: its pages list the same)."""
    if data.control.commit is None:
        return []
    spec = document_spec(docname)
    view: ControlView | None = data.answer(("document-state", spec.id)) if spec is not None else None
    approvals = view.approval_commits if view is not None else ()
    paths = document_paths(data, spec, page_source)
    key = ("revision-history", *map(str, paths), "", *approvals)
    if key not in data.cache:
        data.cache[key] = revision_history(data.project.root, paths, max_count=HISTORY_LENGTH, commits=approvals)
    revisions: list[Revision] = data.cache[key]
    return revisions


def history_digest(revisions: list[Revision]) -> str:
    """Fingerprint of a revision history: a page is written again when its history changed."""
    return repr_digest(revisions)
