"""Baselines and release diffs: what changed in the design records between two git revisions.

A revision (a release tag such as ``v2.0.0``, a branch, a commit) is a baseline: the project as
it was then is loaded from git's objects into a temporary folder by the normal loader, so both
sides are read exactly alike. The comparison lists items added, removed and changed (field by
field), links added and removed, and hazards whose initial or residual risk class changed
(IEC 62304 6.2.5, 8.2; ISO 13485 7.3.9).
"""

from __future__ import annotations

import dataclasses
import functools
import tempfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qms.config import PROJECT_FILE
from qms.gitinfo import open_repository, repository_path, shallow_boundaries
from qms.lifecycle import change_requests_by_item, needs_change_request
from qms.model import Finding, Item, Project
from qms.project import load_project
from qms.review import normalized
from qms.risk import RiskClass, RiskEstimate, hazard_risk
from qms.schema import KINDS

if TYPE_CHECKING:
    import git

_ITEM_SUFFIXES = (".yaml", ".yml")


class DiffError(Exception):
    """A revision cannot be compared: not a git repository, unknown revision, no project there."""


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field of an item that differs: its value at the base and at the head (None: absent)."""

    field: str
    old: Any
    new: Any


@dataclass(frozen=True, slots=True)
class ItemChange:
    """An item present on both sides whose fields differ."""

    old: Item
    new: Item
    fields: tuple[FieldChange, ...]

    @property
    def id(self) -> str:
        return self.new.id


@dataclass(frozen=True, slots=True, order=True)
class LinkChange:
    """A link present on one side only."""

    source: str
    field: str
    target: str


@dataclass(frozen=True, slots=True)
class RiskChange:
    """A hazard whose initial or residual risk class differs between the sides (None: not evaluable)."""

    hazard: Item
    initial: tuple[RiskClass | None, RiskClass | None]
    residual: tuple[RiskClass | None, RiskClass | None]

    @property
    def initial_changed(self) -> bool:
        return self.initial[0] != self.initial[1]

    @property
    def residual_changed(self) -> bool:
        return self.residual[0] != self.residual[1]


@dataclass(frozen=True, slots=True)
class Baseline:
    """One side of a diff: the revision asked for, the commit it names, and the project there.

    ``revision`` and ``commit`` are None for the working tree. A revision's project was loaded
    from a temporary folder that is gone: its ``root`` is set to the real project root, and only
    its items and configuration are meant to be read.
    """

    revision: str | None
    commit: str | None
    project: Project

    @property
    def label(self) -> str:
        """The side as a person names it: ``v2.0.0 (1a2b3c4d5e)`` or ``the working tree``."""
        if self.revision is None or self.commit is None:
            return "the working tree"
        return f"{self.revision} ({self.commit[:10]})"


@dataclass(frozen=True)
class ProjectDiff:
    """What changed from ``base`` to ``head``."""

    base: Baseline
    head: Baseline
    added: tuple[Item, ...]
    removed: tuple[Item, ...]
    changed: tuple[ItemChange, ...]
    links_added: tuple[LinkChange, ...]
    links_removed: tuple[LinkChange, ...]
    risk_changes: tuple[RiskChange, ...]
    #: item files one side could not read (``base`` or ``head``, the finding): their items are left out
    #: of the comparison on both sides, never reported added or removed
    unreadable: tuple[tuple[str, Finding], ...] = ()

    @property
    def empty(self) -> bool:
        return not (
            self.added or self.removed or self.changed or self.links_added or self.links_removed or self.risk_changes
        )

    @functools.cached_property
    def requests(self) -> Mapping[str, tuple[str, ...]]:
        """For each item added, removed or changed whose change needs a change request, the change
        requests of the head that list it in ``changes`` or ``retires`` (IEC 62304 8.2.4)."""
        covered = change_requests_by_item(self.head.project)
        touched = (*self.added, *self.removed, *(change.new for change in self.changed))
        return {item.id: covered.get(item.id, ()) for item in touched if needs_change_request(item)}

    @property
    def without_request(self) -> tuple[str, ...]:
        """The ids of the changed items no change request covers."""
        return tuple(item_id for item_id, requests in self.requests.items() if not requests)


# --------------------------------------------------------------------------- comparing


def _unreadable(project: Project) -> dict[str, Finding]:
    """The item files of a project that could not be read at all (a file-level Q001), by file."""
    return {
        finding.location.file: finding
        for finding in project.load_findings
        if finding.rule == "Q001" and finding.item is None and finding.location.file
    }


def compare(base: Baseline, head: Baseline) -> ProjectDiff:
    """The differences between two loaded projects. The items of a file one side could not read are
    not compared: an item file broken at ``head`` does not remove its items, nor one broken at
    ``base`` add them (the diff names the file and why)."""
    old, new = base.project, head.project
    unread_old, unread_new = _unreadable(old), _unreadable(new)
    unread = {*unread_old, *unread_new}
    added = tuple(item for item in new if item.id not in old.items and item.file not in unread)
    removed = tuple(item for item in old if item.id not in new.items and item.file not in unread)
    changed = []
    for item in new:
        before = old.items.get(item.id)
        if before is not None:
            fields = field_changes(before, item)
            if fields:
                changed.append(ItemChange(before, item, fields))
    old_links, new_links = _links(old, unread), _links(new, unread)
    return ProjectDiff(
        base=base,
        head=head,
        added=added,
        removed=removed,
        changed=tuple(changed),
        links_added=tuple(sorted(new_links - old_links)),
        links_removed=tuple(sorted(old_links - new_links)),
        risk_changes=_risk_changes(old, new),
        unreadable=(
            *(("base", finding) for _, finding in sorted(unread_old.items())),
            *(("head", finding) for _, finding in sorted(unread_new.items())),
        ),
    )


def field_changes(old: Item, new: Item) -> tuple[FieldChange, ...]:
    """The fields that differ, in the kind's field order; layout-only differences do not count."""
    changes = []
    if old.kind != new.kind:
        changes.append(FieldChange("kind", old.kind, new.kind))
    spec = KINDS.get(new.kind)
    order = list(spec.field_names) if spec else []
    names = order + [name for name in (*new.fields, *old.fields) if name not in order]
    for name in dict.fromkeys(names):
        before, after = old.fields.get(name), new.fields.get(name)
        if normalized(before) != normalized(after):
            changes.append(FieldChange(name, before, after))
    return tuple(changes)


def _links(project: Project, unread: Collection[str] = ()) -> set[LinkChange]:
    """The project's links, but those written in the files ``unread`` (not compared)."""
    return {
        LinkChange(link.source, link.field, link.target)
        for link in (*project.links, *project.unresolved)
        if link.source not in project.items or project.items[link.source].file not in unread
    }


def _risk_class(estimate: RiskEstimate | None) -> RiskClass | None:
    return estimate.risk_class if estimate is not None else None


def _risk_changes(old: Project, new: Project) -> tuple[RiskChange, ...]:
    """Hazards on both sides whose risk class moved, each side judged by its own risk policy."""
    changes = []
    for hazard in new.of_kind("hazard"):
        before = old.items.get(hazard.id)
        if before is None or before.kind != "hazard":
            continue
        old_risk = hazard_risk(old.config.risk_policy, before)
        new_risk = hazard_risk(new.config.risk_policy, hazard)
        change = RiskChange(
            hazard,
            (_risk_class(old_risk.initial), _risk_class(new_risk.initial)),
            (_risk_class(old_risk.residual), _risk_class(new_risk.residual)),
        )
        if change.initial_changed or change.residual_changed:
            changes.append(change)
    return tuple(changes)


# --------------------------------------------------------------------------- baselines from git


def release_diff(root: Path, base: str, head: str | None = None) -> ProjectDiff:
    """What changed in the project at ``root`` from revision ``base`` to ``head`` (None: working tree)."""
    with open_repository(root) as repository:
        if repository is None:
            raise DiffError(f"{root} is not in a git repository (or git is not installed): no revisions to compare")
        old = _baseline(repository, root, base)
        new = Baseline(None, None, load_project(root)) if head is None else _baseline(repository, root, head)
    return compare(old, new)


def _baseline(repository: git.Repo, root: Path, revision: str) -> Baseline:
    import git

    try:  # git itself reads the revision: every form it knows (HEAD@{2}, @{yesterday}, v2.0^), never an option
        hexsha = repository.git.rev_parse("--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}")
        commit = repository.commit(hexsha)
    except (git.GitCommandError, git.BadName, git.BadObject, ValueError) as error:
        hint = "`git tag` lists the release tags"
        if shallow_boundaries(repository):
            hint += "; this is a shallow clone: fetch the history with `git fetch --unshallow --tags`"
        raise DiffError(f"unknown git revision '{revision}': {hint}") from error
    folder = repository_path(repository, root)
    tree = commit.tree
    if folder:
        try:
            tree = tree / folder
        except KeyError as error:
            raise DiffError(f"{folder}/ does not exist at {revision}: no project to compare") from error
    if not any(blob.name == PROJECT_FILE for blob in tree.blobs):
        where = f"{folder}/{PROJECT_FILE}" if folder else PROJECT_FILE
        raise DiffError(f"{where} does not exist at {revision}: no project to compare")
    with tempfile.TemporaryDirectory(prefix="qms-baseline-") as temporary:
        _extract(tree, Path(temporary))
        project = load_project(Path(temporary), outside=False)
    return Baseline(revision, commit.hexsha, dataclasses.replace(project, root=root))


def _extract(tree: git.Tree, target: Path) -> None:
    """Write the project's YAML files (items and qms.yaml) of a git tree below ``target``."""
    import git

    for entry in tree.traverse():
        if not isinstance(entry, git.Blob) or entry.mode & 0o170000 != 0o100000:
            continue  # folders, symbolic links and submodules
        path = str(entry.path)
        if not path.endswith(_ITEM_SUFFIXES):
            continue
        relative = Path(path).relative_to(str(tree.path)) if tree.path else Path(path)
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        destination.write_bytes(entry.data_stream.read())


# --------------------------------------------------------------------------- JSON


def plain_value(value: Any) -> Any:
    """A field value as JSON data (tuples and read-only mappings thawed)."""
    if isinstance(value, Mapping):
        return {str(key): plain_value(entry) for key, entry in value.items()}
    if isinstance(value, (tuple, list)):
        return [plain_value(entry) for entry in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def _item_json(item: Item, diff: ProjectDiff) -> dict[str, Any]:
    requests = diff.requests.get(item.id)
    return {
        "id": item.id,
        "kind": item.kind,
        "title": item.title,
        "file": item.file,
        "line": item.location().line,
        "change_requests": list(requests) if requests is not None else None,
    }


def _baseline_json(baseline: Baseline) -> dict[str, Any]:
    return {
        "revision": baseline.revision,
        "commit": baseline.commit,
        "working_tree": baseline.revision is None,
        "device_version": baseline.project.config.device.version or None,
    }


def _risk_json(pair: tuple[RiskClass | None, RiskClass | None]) -> dict[str, str | None]:
    return {"old": pair[0].value if pair[0] else None, "new": pair[1].value if pair[1] else None}


def diff_json(diff: ProjectDiff) -> dict[str, Any]:
    """The diff as the JSON document ``qms diff --format json`` prints (``version`` 1)."""
    return {
        "version": 1,
        "base": _baseline_json(diff.base),
        "head": _baseline_json(diff.head),
        "added": [_item_json(item, diff) for item in diff.added],
        "removed": [_item_json(item, diff) for item in diff.removed],
        "changed": [
            {
                **_item_json(change.new, diff),
                "fields": [
                    {"field": f.field, "old": plain_value(f.old), "new": plain_value(f.new)} for f in change.fields
                ],
            }
            for change in diff.changed
        ],
        "links_added": [dataclasses.asdict(link) for link in diff.links_added],
        "links_removed": [dataclasses.asdict(link) for link in diff.links_removed],
        "risk_changes": [
            {
                "hazard": change.hazard.id,
                "title": change.hazard.title,
                "initial": _risk_json(change.initial),
                "residual": _risk_json(change.residual),
            }
            for change in diff.risk_changes
        ],
        "unreadable": [
            {"side": side, "file": finding.location.file, "line": finding.location.line, "message": finding.message}
            for side, finding in diff.unreadable
        ],
        "summary": {
            "added": len(diff.added),
            "removed": len(diff.removed),
            "changed": len(diff.changed),
            "links_added": len(diff.links_added),
            "links_removed": len(diff.links_removed),
            "risk_changes": len(diff.risk_changes),
            "without_change_request": len(diff.without_request),
        },
    }
