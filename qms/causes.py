"""Root causes: which findings follow from another, so that one mistake reads as one finding.

A file that does not parse loses its items, so links to them are unknown and the items they
trace to look untraced; an item whose schema is refused (an unknown kind, a misspelt field)
looks changed and untraced. Those later findings name the earlier one as their cause and are
folded under it (``qms check --all`` shows them): a finding can only follow from one that comes
earlier in the root-cause order of the rules (parse, schema, links, trace, risk, ... change).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from qms.model import Finding, Project, Severity
from qms.schema import ID_PATTERN, KINDS

#: rules that make a file, an item or a field unreliable (unreadable, refused, duplicated)
_ROOT_RULES = frozenset({"Q001", "Q002", "Q004"})
#: rule families judging an item's content as changed: they follow from any refused field of it
_CONTENT_FAMILIES = frozenset({"C"})
_DEFINED_ID = re.compile(r"^[ \t-]*id[ \t]*:[ \t]*['\"]?([A-Za-z][\w.-]*)", re.MULTILINE)
_WORD = re.compile(r"[A-Za-z](?:[\w.-]*\w)?")


@dataclass(frozen=True)
class Folded:
    """The findings of a check in root-cause order, with the cause of each that follows from another."""

    findings: tuple[Finding, ...]
    causes: Mapping[Finding, Finding]

    @property
    def roots(self) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if finding not in self.causes)

    def shown(self, everything: bool = False) -> tuple[Finding, ...]:
        """What a person sees: the root causes, or every finding with ``everything``."""
        return self.findings if everything else self.roots

    def consequences(self, root: Finding) -> tuple[Finding, ...]:
        return tuple(finding for finding in self.findings if self.causes.get(finding) == root)


def unparsed_ids(project: Project) -> dict[str, str]:
    """Ids defined in project files that do not parse (Q001), each with its file: their items are missing."""
    return {item_id: file for file, unread in _unread_files(project).items() for item_id in unread.missing}


def closest_id(project: Project, item_id: str) -> str | None:
    """The id of the project nearest to ``item_id`` (a typo's intent), as ``qms show`` suggests it."""
    lowered = {known.lower(): known for known in project.items}
    if item_id.lower() in lowered:
        return lowered[item_id.lower()]
    close = difflib.get_close_matches(item_id, list(project.items), n=1, cutoff=0.75)
    return close[0] if close else None


@dataclass(frozen=True)
class _Unread:
    """What a file that does not parse (Q001) leaves out of the project."""

    #: ids defined in the file whose items are not in the project
    missing: frozenset[str]
    #: ids of the project the file names (links it would make): only when none of its items was read
    mentioned: frozenset[str]


def _unread_files(project: Project) -> dict[str, _Unread]:
    """Each project file with a file-level Q001 finding, and the items it leaves out."""
    root = project.root.resolve()
    read = {item.file for item in project}
    known = set(project.items) | {link.target for link in project.unresolved}
    unread = {}
    for finding in project.load_findings:
        file = finding.location.file
        if finding.rule != "Q001" or finding.item is not None or file in unread:
            continue
        try:
            path = (root / file).resolve()
        except RuntimeError:  # a symbolic link loop (reported as it is)
            continue
        if not path.is_relative_to(root) or not path.is_file():
            continue
        try:
            text = path.read_bytes().decode("utf-8", errors="replace")
        except OSError:
            continue
        missing = frozenset(_DEFINED_ID.findall(text)) - set(project.items)
        mentioned = frozenset() if file in read else frozenset(_WORD.findall(text)) & known - missing
        unread[file] = _Unread(missing, mentioned)
    return unread


@dataclass(frozen=True)
class _Root:
    """What one root finding makes unreliable."""

    finding: Finding
    #: items missing or of an unknown kind: every later finding about them, or naming them, follows
    owned: frozenset[str] = frozenset()
    #: items a broken file or field links to: later findings of other families about them follow
    mentioned: frozenset[str] = frozenset()
    #: (item, field) pairs the root is about: later findings about the same field follow
    fields: frozenset[tuple[str, str]] = frozenset()


def fold(project: Project, findings: Iterable[Finding], order: Sequence[str]) -> Folded:
    """The findings in root-cause order (errors first, then by rule in ``order``, then by place),
    each one that follows from an earlier root linked to it."""
    rank = {code: position for position, code in enumerate(order)}

    def rank_of(finding: Finding) -> int:
        return rank.get(finding.rule, len(rank))

    ordered = sorted(
        findings, key=lambda finding: (finding.severity is not Severity.ERROR, rank_of(finding), finding.sort_key())
    )
    roots = _roots(project, ordered)
    owned, mentioned, about = _index(roots)
    causes: dict[Finding, Finding] = {}
    for finding in ordered:
        item = finding.item or ""
        names = {item, *_WORD.findall(finding.message)}
        candidates = {index for name in names for index in owned.get(name, ())}
        family = finding.rule[0]
        candidates |= {index for index in mentioned.get(item, ()) if roots[index].finding.rule[0] != family}
        if item in about:
            fields = None if family in _CONTENT_FAMILIES else _field_names(project, finding)
            candidates |= {
                index
                for index in about[item]
                if fields is None or any((item, name) in roots[index].fields for name in fields)
            }
        earlier = [index for index in candidates if rank_of(roots[index].finding) < rank_of(finding)]
        if earlier:
            causes[finding] = roots[min(earlier)].finding
    return Folded(tuple(ordered), MappingProxyType(causes))


def _index(roots: Sequence[_Root]) -> tuple[dict[str, list[int]], dict[str, list[int]], dict[str, list[int]]]:
    """Per item id, the roots (by position) that own it, that mention it, and that are about its fields."""
    owned: dict[str, list[int]] = {}
    mentioned: dict[str, list[int]] = {}
    about: dict[str, list[int]] = {}
    for index, root in enumerate(roots):
        for item_id in root.owned:
            owned.setdefault(item_id, []).append(index)
        for item_id in root.mentioned:
            mentioned.setdefault(item_id, []).append(index)
        for item_id in {item_id for item_id, _ in root.fields}:
            about.setdefault(item_id, []).append(index)
    return owned, mentioned, about


def _roots(project: Project, findings: Sequence[Finding]) -> list[_Root]:
    unread_files = _unread_files(project)
    roots = []
    for finding in findings:
        if finding.rule not in _ROOT_RULES:
            continue
        if finding.item is None and finding.location.file in unread_files:
            unread = unread_files.pop(finding.location.file)
            roots.append(_Root(finding, unread.missing, unread.mentioned))
        elif finding.item is None and finding.rule == "Q002":
            roots.append(_kind_root(project, finding))
        elif (item := project.items.get(finding.item or "")) is not None and item.file == finding.location.file:
            roots.append(_field_root(project, finding, item.id))
    return roots


def _kind_root(project: Project, finding: Finding) -> _Root:
    """A file-level schema finding: the items of that file whose kind it refused."""
    owned = frozenset(
        item.id
        for item in project
        if item.file == finding.location.file and item.kind not in KINDS and f"'{item.kind}'" in finding.message
    )
    return _Root(finding, owned, _linked(project, owned))


def _field_root(project: Project, finding: Finding, item_id: str) -> _Root:
    item = project.items[item_id]
    if item.kind not in KINDS:
        owned = frozenset({item_id})
        return _Root(finding, owned, _linked(project, owned), frozenset({(item_id, "")}))
    names = _field_names(project, finding)
    if not ID_PATTERN.fullmatch(item_id):
        # a refused id: nothing can name the item, so all said of it follows, and so do links to the
        # id it was meant to be (``TST 1`` for ``TST-1``: spaces where a separator belongs)
        meant = {re.sub(r"\s+", separator, item_id.strip()) for separator in ("-", "_", ".", "")}
        owned = frozenset({item_id, *(name for name in meant if name not in project.items)})
        return _Root(finding, owned, _linked(project, frozenset({item_id})), frozenset({(item_id, "")}))
    mentioned = frozenset(entry for name in names for entry in _values(item.fields.get(name)) if entry in project.items)
    return _Root(finding, mentioned=mentioned, fields=frozenset((item_id, name) for name in names) | {(item_id, "")})


def _linked(project: Project, item_ids: frozenset[str]) -> frozenset[str]:
    return frozenset(
        entry
        for item_id in item_ids
        for value in project.items[item_id].fields.values()
        for entry in _values(value)
        if entry in project.items
    )


def _values(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, (tuple, list)):
        for entry in value:
            yield from _values(entry)


def _field_names(project: Project, finding: Finding) -> set[str]:
    """The fields of its item a finding is about: the one at its place, and those its message names."""
    item = project.items.get(finding.item or "")
    if item is None:
        return set()
    names = {path[0] for path, place in item.positions.items() if len(path) == 1 and place == _place(finding)}
    candidates = set(item.fields) | set(KINDS[item.kind].field_names if item.kind in KINDS else ())
    words = set(_WORD.findall(finding.message))
    return {str(name) for name in names} | (candidates & words)


def _place(finding: Finding) -> tuple[int, int]:
    return (finding.location.line, finding.location.column)
