"""Approvals of the documents of the technical file, bound to what each document renders
(ISO 13485 4.2.4: documents reviewed and approved before issue, changes re-approved, the current
revision identified; ISO 14971 9: the risk management report signed off).

An approval is an entry of ``approvals.yaml`` (under version control, append-only, written by
``qms approve``): the document id, the document's content digest, the role, who (name, email),
when (date-time with zone) and what the signature means. The digest covers everything the
document renders (:func:`document_digest`): its templates, the items of the kinds it shows with
their fields and links, the configuration it shows and the verification statuses it prints. So a
document is *approved* while every role it needs approved its current digest, *changed* once its
content moved on from an approved digest, and *draft* before that.

When the commit holding an approval is signed, the approval reads as signed with the key's
identity (``git verify-commit``). Who changed what since an approval comes from ``git blame``.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import yaml

from qms import atomic, gitinfo
from qms.config import PROJECT_FILE, Roles
from qms.documents import DOCUMENTS, FRONT_PAGE, DocumentSpec, default_templates, find_document
from qms.gitinfo import LineChange
from qms.model import Finding, Item, Location, Project, Severity
from qms.parsecache import FileCache, ItemTexts, project_cache
from qms.review import normalized
from qms.status import ChangeHistory, StatusIndex, project_statuses
from qms.yamlfile import YamlDocument, parse_yaml, read_yaml, text_of

APPROVALS_FILE = "approvals.yaml"

#: What a signature means when ``--meaning`` does not say.
DEFAULT_MEANINGS: Mapping[str, str] = {
    "author": "written and submitted for review",
    "reviewer": "reviewed",
    "approver": "approved for release",
}

_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_FIELDS = ("document", "digest", "role", "name", "email", "at", "meaning")

_FILE_START = Location(APPROVALS_FILE)

DocumentStatus = Literal["draft", "approved", "changed"]


def meaning_of(role: str) -> str:
    return DEFAULT_MEANINGS.get(role, f"approved as {role}")


# ------------------------------------------------------------------------------ data


@dataclass(frozen=True, slots=True)
class Approval:
    """One approval as ``approvals.yaml`` records it, with what git says about its commit.

    ``findings``: the open error findings the approver accepted (``--with-findings``).
    ``commit``: the commit that last changed the entry (None while it is not committed).
    ``signed``/``signer``: that commit carries a good signature, and the key's identity.
    """

    document: str
    role: str
    name: str
    email: str
    at: str
    meaning: str
    digest: str
    findings: tuple[str, ...] = ()
    signed: bool = False
    signer: str | None = None
    commit: str | None = None
    location: Location = _FILE_START


@dataclass(frozen=True, slots=True)
class ChangedInput:
    """An item (by id) or a file a document renders that changed since its approval, and who changed it."""

    id: str
    change: LineChange | None  # None: git cannot tell

    @property
    def who(self) -> str | None:
        return self.change.revision.author if self.change is not None and self.change.revision else None

    @property
    def summary(self) -> str:
        if self.change is None:
            return self.id
        return f"{self.id} ({self.change.summary})"


@dataclass(frozen=True, slots=True)
class DocumentState:
    """Where a document stands: draft, approved (every role approved its current digest) or
    changed (its content moved on from what was approved).

    ``revision`` counts the digests that were ever fully approved (0: never); ``effective`` is the
    date of the approval that completed the current revision (None unless approved);
    ``changed_items`` the items and files it renders that changed since the approval ``basis``.
    """

    id: str
    title: str
    status: DocumentStatus
    revision: int
    #: the digest of its content now; None where it was not taken: no one approved the document, so
    #: there was nothing to compare it with (see :func:`document_states`)
    digest: str | None
    approvals: tuple[Approval, ...]
    effective: str | None
    required_roles: tuple[str, ...]
    changed_items: tuple[ChangedInput, ...] = ()
    basis: Approval | None = None

    @property
    def missing_roles(self) -> tuple[str, ...]:
        """The roles that have not approved the current digest."""
        done = {approval.role for approval in self.approvals if approval.digest == self.digest}
        return tuple(role for role in self.required_roles if role not in done)


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong in ``approvals.yaml``: what, and where."""

    message: str
    location: Location


@dataclass(frozen=True)
class ApprovalLog:
    """The approvals of ``approvals.yaml`` that read well, and the problems of the others."""

    approvals: tuple[Approval, ...] = ()
    problems: tuple[Problem, ...] = ()
    exists: bool = False

    def of(self, document: str) -> tuple[Approval, ...]:
        return tuple(approval for approval in self.approvals if approval.document == document)


def all_documents() -> tuple[DocumentSpec, ...]:
    return (FRONT_PAGE, *DOCUMENTS)


# ------------------------------------------------------------------------------ digest


def _templates(project: Project, spec: DocumentSpec) -> dict[str, tuple[Path | None, str]]:
    """Every template the document renders from (its own, and those it extends or includes; the
    project's templates folder first, the shipped ones second): its file and source by name."""
    user = project.root / project.config.templates
    shipped = default_templates()
    found: dict[str, tuple[Path | None, str]] = {}
    pending = [spec.template]
    references = _references_cache(project)
    while pending:
        name = pending.pop()
        if name in found:
            continue
        folders = [shipped] if name.startswith("default/") else [user, shipped]
        relative = name.removeprefix("default/")
        path = next((folder / relative for folder in folders if (folder / relative).is_file()), None)
        try:
            source = path.read_text(encoding="utf-8", errors="replace") if path is not None else ""
        except OSError:  # the build reports an unreadable template
            source = ""
        found[name] = (path, source)
        pending += _references(references, name, source)
    if references is not None:
        references.save(shared=lambda name: True)  # the templates of the other documents stay
    return found


def templates_named(project: Project, sources: Mapping[str, str]) -> set[str]:
    """The templates that the templates ``sources`` (name: source) extend, include or import by
    name, read as the digests read them (through the same cache)."""
    references = _references_cache(project)
    named = {found for name, source in sources.items() for found in _references(references, name, source)}
    if references is not None:
        references.save(shared=lambda name: True)  # the templates of the documents stay
    return named


def _references_cache(project: Project) -> FileCache[tuple[str, ...]] | None:
    """Where the templates each template names are kept between runs, by the template's name and
    source, Jinja's version and qms's code (parsing them took half a second of every build), for a
    project read through the parse cache (:mod:`qms.parsecache`)."""
    if project.fingerprint is None:
        return None
    import jinja2  # only for approval digests: a check without approvals does not load the template engine

    return project_cache(project, "templates", jinja2.__version__.encode(), list, _template_names)


def _references(cache: FileCache[tuple[str, ...]] | None, name: str, source: str) -> tuple[str, ...]:
    """The templates the template ``name`` extends or includes, from ``cache`` where it has them."""
    if cache is None:
        return _referenced_templates(source)
    return cache.read(name, source.encode("utf-8", "surrogatepass"), lambda: _referenced_templates(source))


def _template_names(data: Any, _: str) -> tuple[str, ...]:
    if not isinstance(data, list) or not all(isinstance(name, str) for name in data):
        raise ValueError("not a list of template names")
    return tuple(data)


def _referenced_templates(source: str) -> tuple[str, ...]:
    """The templates a template's source extends or includes by name."""
    import jinja2
    import jinja2.meta

    try:
        referenced = jinja2.meta.find_referenced_templates(jinja2.Environment().parse(source))
    except jinja2.TemplateSyntaxError:
        return ()  # the build reports it, located
    return tuple(reference for reference in referenced if reference is not None)


def template_sources(project: Project, spec: DocumentSpec) -> dict[str, str]:
    """The source of every template the document renders from, by template name."""
    return {name: source for name, (_, source) in _templates(project, spec).items()}


def template_files(project: Project, spec: DocumentSpec) -> tuple[str, ...]:
    """The template files the document renders from that lie in the project (relative to the root):
    its own overrides, and the shipped ones when the project is qms's own repository."""
    root = project.root.resolve()
    files = []
    for path, _ in _templates(project, spec).values():
        resolved = path.resolve() if path is not None else None
        if resolved is not None and resolved.is_relative_to(root):
            files.append(resolved.relative_to(root).as_posix())
    return tuple(dict.fromkeys(files))


def shown_items(project: Project, spec: DocumentSpec) -> tuple[str, ...]:
    """The ids of the items whose fields and links the document renders."""
    return tuple(item.id for item in project.of_kind(*spec.shows)) if spec.shows else ()


def rendered_items(project: Project, spec: DocumentSpec) -> tuple[str, ...]:
    """The items shown, then the items they link to (whose titles the document shows)."""
    shown = shown_items(project, spec)
    targets = (link.target for item_id in shown for link in project.links_from(item_id))
    return tuple(dict.fromkeys((*shown, *targets)))


def _item_inputs(project: Project, item_id: str) -> dict[str, Any]:
    """What a document renders of one item: its kind, its fields (without ``x-`` notes) and the
    titles of the items it links to."""
    item = project.items[item_id]
    return {"kind": item.kind, "fields": _shown_fields(item), "targets": _target_titles(project, item_id)}


def _shown_fields(item: Item) -> dict[str, Any]:
    return {name: normalized(value) for name, value in item.fields.items() if not name.startswith("x-")}


def _target_titles(project: Project, item_id: str) -> dict[str, str]:
    return {link.target: project.items[link.target].title for link in project.links_from(item_id)}


def _document_frame(project: Project, spec: DocumentSpec, statuses: StatusIndex) -> dict[str, Any]:
    """:func:`document_inputs` but for its items."""
    return {
        "document": spec.id,
        "templates": template_sources(project, spec),
        "config": _config_inputs(project, spec),
        "listed": [item.id for item in project] if spec.inputs.listed else [],
        "statuses": _shown_statuses(project, spec, statuses) if spec.inputs.statuses else {},
    }


def _config_inputs(project: Project, spec: DocumentSpec) -> dict[str, Any]:
    raw = project.config.raw
    sections = sorted(raw) if "*" in spec.inputs.config else ["device", *spec.inputs.config]
    return {section: normalized(raw.get(section)) for section in sections}


def _shown_statuses(project: Project, spec: DocumentSpec, statuses: StatusIndex) -> dict[str, str]:
    """The status of each item the document shows, and of every item where it lists them all."""
    shown = project.items if spec.inputs.listed else shown_items(project, spec)
    return _statuses_of(shown, statuses)


def _statuses_of(item_ids: Iterable[str], statuses: StatusIndex) -> dict[str, str]:
    """The status of each of ``item_ids`` that has one, in the order of their ids."""
    return {item_id: str(status) for item_id in sorted(item_ids) if (status := statuses.status(item_id)) is not None}


def document_inputs(project: Project, spec: DocumentSpec, statuses: StatusIndex) -> dict[str, Any]:
    """Everything the document renders, as plain data: what its digest is taken over."""
    items = {item_id: _item_inputs(project, item_id) for item_id in shown_items(project, spec)}
    return {**_document_frame(project, spec, statuses), "items": items}


def _canonical(value: Any) -> str:
    """The one JSON text a digest is taken over: keys sorted, no spaces, characters as they are."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class DigestCache:
    """The canonical text of each item's part of :func:`document_inputs`, made once for every
    document that shows the item (each item is shown by several documents), and of what every
    document listing all items has alike.

    What an item states (its kind and fields) is kept between runs by its file's key in the parse
    cache (:class:`~qms.parsecache.ItemTexts`): the same bytes, the same text; call :meth:`save`
    once the digests are taken. The titles of the items it links to are read afresh every time.
    """

    def __init__(self, project: Project) -> None:
        self.project = project
        self._items: dict[str, str] = {}
        self._listing: tuple[StatusIndex, str, str] | None = None
        self._stated: ItemTexts | None = None  # read at the first digest taken: a check may take none

    def listing(self, statuses: StatusIndex) -> tuple[str, str]:
        """The canonical texts of ``listed`` and of ``statuses`` (every item's) of a document that
        lists every item, made once for every such document with these ``statuses``."""
        if self._listing is None or self._listing[0] is not statuses:
            every = [item.id for item in self.project]
            self._listing = (statuses, _canonical(every), _canonical(_statuses_of(every, statuses)))
        return self._listing[1:]

    def member(self, item_id: str) -> str:
        """The item's ``"id":{...}`` member of the documents' ``items`` object."""
        text = self._items.get(item_id)
        if text is None:
            project = self.project
            if self._stated is None:
                self._stated = ItemTexts(project, "document-items", _stated_text)
            stated = self._stated.text(project.items[item_id])
            targets = _canonical(_target_titles(project, item_id))
            text = f'{_canonical(item_id)}:{{{stated},"targets":{targets}}}'
            self._items[item_id] = text
        return text

    def save(self) -> None:
        """Keep what the items state for the next run (:class:`~qms.parsecache.ItemTexts`)."""
        if self._stated is not None:
            self._stated.save()


def _stated_text(item: Item) -> str:
    """The ``"fields":...,"kind":...`` members of the item's :func:`_item_inputs` (the keys in sorted
    order, as :func:`_canonical` writes them): what the item states, from its file alone."""
    return f'"fields":{_canonical(_shown_fields(item))},"kind":{_canonical(item.kind)}'


def document_digest(
    project: Project, spec: DocumentSpec, statuses: StatusIndex, cache: DigestCache | None = None
) -> str:
    """``sha256:`` and the hex digest of the canonical JSON of :func:`document_inputs`: equal exactly
    when the document renders the same (for the same qms version).

    The JSON is hashed piece by piece, each item's piece from ``cache``: the same bytes as
    ``_canonical(document_inputs(...))`` (a test holds them equal), without building the text of
    every document whole.
    """
    cache = DigestCache(project) if cache is None else cache
    if spec.inputs.listed:
        listed, every_status = cache.listing(statuses)
        shown_statuses = every_status if spec.inputs.statuses else "{}"
    else:
        listed = "[]"
        shown_statuses = _canonical(_shown_statuses(project, spec, statuses) if spec.inputs.statuses else {})
    hashing = hashlib.sha256()
    # the keys in sorted order, as json.dumps(sort_keys=True) writes them
    hashing.update(f'{{"config":{_canonical(_config_inputs(project, spec))},"document":{_canonical(spec.id)}'.encode())
    hashing.update(b',"items":{')
    for number, item_id in enumerate(sorted(set(shown_items(project, spec)))):
        hashing.update(f"{',' if number else ''}{cache.member(item_id)}".encode())
    hashing.update(
        f'}},"listed":{listed},"statuses":{shown_statuses}'
        f',"templates":{_canonical(template_sources(project, spec))}}}'.encode()
    )
    return "sha256:" + hashing.hexdigest()


# ------------------------------------------------------------------------------ reading


def parse_time(value: Any) -> datetime | None:
    """A date-time with zone, from the text an approval holds; None when it has no zone or is not one."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else None
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def read_approvals(project: Project, history: bool = True) -> ApprovalLog:
    """The approvals of the project's ``approvals.yaml``; what is wrong in it, as problems.

    ``history``: ask git which commit holds each entry and whether it is signed.
    """
    path = project.root / APPROVALS_FILE
    if not path.exists():
        return ApprovalLog()
    document = read_yaml(path, APPROVALS_FILE)
    problems = [Problem(finding.message, finding.location) for finding in document.findings]
    root = document.root
    if root is None:
        return ApprovalLog((), tuple(problems), True)
    if not isinstance(root, yaml.SequenceNode):
        problems.append(Problem("approvals.yaml must be a list of approvals (see `qms approve`)", document.at(root)))
        return ApprovalLog((), tuple(problems), True)
    entries: list[tuple[yaml.Node, Approval]] = []
    seen: dict[tuple[str, str, str, str], Approval] = {}
    roles = project.config.roles
    for node in root.value:
        approval = _approval(document, node, roles, problems)
        if approval is None:
            continue
        key = (approval.document, approval.role, approval.email.casefold(), approval.digest)
        first = seen.get(key)
        if first is not None:
            problems.append(
                Problem(
                    f"{approval.document}: {approval.name} approved this content as {approval.role} before "
                    f"(line {first.location.line}); remove the repeated entry",
                    approval.location,
                )
            )
            continue
        seen[key] = approval
        entries.append((node, approval))
    approvals = tuple(approval for _, approval in entries)
    if history and approvals:
        approvals = _with_commits(project, [node for node, _ in entries], approvals)
    return ApprovalLog(approvals, tuple(problems), True)


def _approval(document: YamlDocument, node: yaml.Node, roles: Roles, problems: list[Problem]) -> Approval | None:
    where = document.at(node)
    if not isinstance(node, yaml.MappingNode):
        problems.append(Problem("each approval is a mapping (document, digest, role, name, email, at, meaning)", where))
        return None
    values: dict[str, Any] = {}
    nodes: dict[str, yaml.Node] = {}
    for key_node, value_node in node.value:
        key = text_of(key_node)
        if key is None:
            continue
        nodes[key] = value_node
        values[key] = document.value(value_node)
    missing = [name for name in _FIELDS if values.get(name) in (None, "")]
    if missing:
        problems.append(
            Problem(f"approval without {', '.join(missing)}: every approval needs {', '.join(_FIELDS)}", where)
        )
        return None
    unknown = sorted(set(values) - {*_FIELDS, "findings"})
    if unknown:
        problems.append(
            Problem(
                f"approval with unknown field {', '.join(unknown)}: fields are {', '.join(_FIELDS)}, findings", where
            )
        )
        return None

    def at(name: str) -> Location:
        return document.at(nodes[name])

    spec = find_document(str(values["document"]))
    if spec is None or spec.id != values["document"]:
        known = ", ".join(spec.id for spec in all_documents())
        problems.append(
            Problem(f"approval of unknown document {values['document']!r}: documents are {known}", at("document"))
        )
        return None
    role = str(values["role"])
    required = roles.of(spec.id)
    if role not in required:
        problems.append(
            Problem(
                f"{spec.id} needs no role {role!r}: its roles are {', '.join(required)} (roles in qms.yaml)", at("role")
            )
        )
        return None
    if roles.people:
        person = roles.person(str(values["email"]))
        if person is None:
            problems.append(
                Problem(f"{values['email']} is not one of the people in roles.people of qms.yaml", at("email"))
            )
            return None
        if role not in person.roles:
            problems.append(
                Problem(f"{person.name} does not hold the role {role} (roles.people in qms.yaml)", at("role"))
            )
            return None
    if not isinstance(values["digest"], str) or not _DIGEST.fullmatch(values["digest"]):
        problems.append(Problem("digest must be sha256: and 64 hex digits, as `qms approve` writes it", at("digest")))
        return None
    when = parse_time(values["at"])
    if when is None:
        problems.append(
            Problem(
                f"at: {values['at']} is not a date-time with a time zone (e.g. 2026-01-31T14:05:00+01:00)", at("at")
            )
        )
        return None
    findings = values.get("findings") or []
    if not isinstance(findings, list) or not all(isinstance(entry, str) for entry in findings):
        problems.append(Problem("findings must be a list of texts (the findings accepted)", at("findings")))
        return None
    return Approval(
        document=spec.id,
        role=role,
        name=str(values["name"]),
        email=str(values["email"]),
        at=when.isoformat(),
        meaning=str(values["meaning"]),
        digest=values["digest"],
        findings=tuple(findings),
        location=where,
    )


def _with_commits(
    project: Project, nodes: Sequence[yaml.Node], approvals: tuple[Approval, ...]
) -> tuple[Approval, ...]:
    """Each approval with the commit that last changed its lines (its answer kept between runs, see
    :class:`qms.gitinfo.KeptBlames`), and that commit's signature."""
    root = project.root
    blocks = [(node.start_mark.line + 1, node.end_mark.line + (1 if node.end_mark.column else 0)) for node in nodes]
    folder = gitinfo.kept_folder(project)
    kept = gitinfo.KeptBlames(root, folder) if folder is not None else None
    changes = gitinfo.latest_changes(
        root, APPROVALS_FILE, [(first, max(first, last)) for first, last in blocks], kept=kept
    )
    if kept is not None:
        kept.save()
    signatures: dict[str, str | None] = {}
    found = []
    for approval, change in zip(approvals, changes, strict=True):
        revision = change.revision if change is not None else None
        if revision is None:
            found.append(approval)
            continue
        if revision.hash not in signatures:
            signatures[revision.hash] = gitinfo.signer(root, revision.hash)
        signer = signatures[revision.hash]
        found.append(replace(approval, commit=revision.hash, signed=signer is not None, signer=signer))
    return tuple(found)


# ------------------------------------------------------------------------------ states


def document_states(
    project: Project,
    statuses: StatusIndex | None = None,
    history: ChangeHistory | None = None,
    log: ApprovalLog | None = None,
    *,
    unapproved_digests: bool = True,
) -> Mapping[str, DocumentState]:
    """The state of every document, by document id.

    ``statuses`` and ``history`` default to those of the project's results and git; ``log`` to
    its ``approvals.yaml``. ``unapproved_digests=False`` leaves out the digest of each document no
    one approved (None): its state is a draft whatever its content, and a check or a site, which
    show no digest of a draft, need not take one (at 10,000 items that is a quarter of a second).
    """
    statuses = project_statuses(project) if statuses is None else statuses
    history = gitinfo.git_history(project.root) if history is None else history
    log = read_approvals(project) if log is None else log
    states: dict[str, DocumentState] = {}
    cache = DigestCache(project)
    for spec in all_documents():
        approvals = log.of(spec.id)
        digest = document_digest(project, spec, statuses, cache) if approvals or unapproved_digests else None
        states[spec.id] = _state(project, spec, digest, approvals)
    cache.save()
    changed = [state for state in states.values() if state.status == "changed"]
    if changed and history is not None:
        wanted = {item_id for state in changed for item_id in rendered_items(project, _spec(state.id))}
        last = history.last_changes(project, wanted)
        for state in changed:
            states[state.id] = _with_changes(project, state, last, history)
    return states


def _spec(document: str) -> DocumentSpec:
    return next(spec for spec in all_documents() if spec.id == document)


def _state(project: Project, spec: DocumentSpec, digest: str | None, approvals: tuple[Approval, ...]) -> DocumentState:
    required = project.config.roles.of(spec.id)
    approved: dict[str, set[str]] = {}
    completed: dict[str, Approval] = {}  # digest -> the approval that completed it
    for approval in approvals:
        roles = approved.setdefault(approval.digest, set())
        roles.add(approval.role)
        if approval.digest not in completed and roles >= set(required):
            completed[approval.digest] = approval
    basis = None
    if digest in completed:
        status: DocumentStatus = "approved"
        revision = list(completed).index(digest) + 1
    else:
        older = [approval for approval in approvals if approval.digest != digest]
        status = "changed" if older else "draft"
        revision = len(completed)
        basis = list(completed.values())[-1] if completed else (older[-1] if older else None)
    effective = completed[digest].at if digest is not None and status == "approved" else None
    return DocumentState(spec.id, spec.title, status, revision, digest, approvals, effective, required, (), basis)


def _with_changes(
    project: Project, state: DocumentState, last: Mapping[str, LineChange], history: ChangeHistory
) -> DocumentState:
    """The state with the items and files it renders that changed since its basis approval."""
    basis = state.basis
    if basis is None or basis.commit is None:
        return state
    commit = basis.commit
    spec = _spec(state.id)
    changed: list[ChangedInput] = []
    for item_id in rendered_items(project, spec):
        change = last.get(item_id)
        if change is None:
            continue
        revision = change.revision
        if revision is None or history.contains(commit, revision.hash) is False:
            changed.append(ChangedInput(item_id, change))
    files = history.changed_files(commit) or frozenset()
    for file in (PROJECT_FILE, *template_files(project, spec)):
        if file in files:
            newest = gitinfo.revision_history(project.root, [file], max_count=1)
            changed.append(ChangedInput(file, LineChange(newest[0]) if newest else LineChange(None)))
    return replace(state, changed_items=tuple(changed))


def open_findings(spec: DocumentSpec, project: Project, findings: Iterable[Finding]) -> list[Finding]:
    """The error findings on what the document renders (not those about approvals themselves)."""
    shown = set(shown_items(project, spec))
    everything = spec.inputs.listed and "*" in spec.inputs.config
    return [
        finding
        for finding in findings
        if finding.severity is Severity.ERROR
        and not finding.rule.startswith("A")
        and (
            everything
            or (finding.item in shown)
            or (finding.location.file == PROJECT_FILE and bool(spec.inputs.config))
        )
    ]


# ------------------------------------------------------------------------------ writing

_HEADER = (
    "# Approvals of the technical file's documents, written by `qms approve`: append-only.\n"
    "# Each entry binds a role's approval to the document's content digest; commit it (signed: git commit -S).\n"
)


class ApprovalsFileError(Exception):
    """``approvals.yaml`` cannot take new entries: the message says why."""


def append_approvals(root: Path, approvals: Sequence[Approval]) -> Path:
    """Add ``approvals`` at the end of ``root/approvals.yaml`` (created when missing), leaving every
    line already there as it is (comments, layout): the file is only ever appended to."""
    path = root / APPROVALS_FILE
    existing, indent = "", 0
    if path.exists():
        document = read_yaml(path, APPROVALS_FILE)
        if document.findings:
            raise ApprovalsFileError(f"{document.findings[0].location}: {document.findings[0].message}")
        if document.root is not None:
            if not isinstance(document.root, yaml.SequenceNode) or document.root.flow_style:
                raise ApprovalsFileError(f"{APPROVALS_FILE} is not a block list of approvals: fix it by hand first")
            indent = document.root.start_mark.column
        existing = path.read_text(encoding="utf-8")
    from ruamel.yaml import YAML  # only when writing: `qms check` does not pay for it

    rendered = io.StringIO()
    writer = YAML()
    writer.indent(mapping=2, sequence=2, offset=0)
    writer.width = 1_000_000
    writer.dump([_entry(approval) for approval in approvals], rendered)
    added = "".join(" " * indent + line for line in rendered.getvalue().splitlines(keepends=True))
    prefix = existing or _HEADER
    text = prefix + ("" if prefix.endswith("\n") else "\n") + added
    combined = parse_yaml(text, APPROVALS_FILE)
    if combined.findings or not isinstance(combined.root, yaml.SequenceNode):
        raise ApprovalsFileError(f"{APPROVALS_FILE} would not read as a list after appending: fix its layout first")
    atomic.write_text(path, text)
    return path


def _entry(approval: Approval) -> dict[str, Any]:
    entry: dict[str, Any] = {name: getattr(approval, name) for name in _FIELDS}
    if approval.findings:
        entry["findings"] = list(approval.findings)
    return entry
