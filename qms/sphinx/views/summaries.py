"""Summaries of the project: open findings, counts, the device, the documents, clauses, rules and release changes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from qms.approvals import DocumentState
from qms.clauses import Clause
from qms.compliance import clause_result
from qms.documents import DOCUMENTS, document_id, document_spec
from qms.model import Item, Severity
from qms.reprs import plain_reprs
from qms.risk import RiskClass
from qms.rules import RULES, ordered_rules
from qms.schema import KINDS
from qms.sphinx.views.build import BuildData
from qms.sphinx.views.items import FindingView, finding_view


def rule_prefixes(text: str) -> tuple[str, ...]:
    """Rule codes or code prefixes (``T, R2``); ValueError for one that no rule's code starts with."""
    prefixes = tuple(prefix.strip() for prefix in text.split(",") if prefix.strip())
    unknown = [prefix for prefix in prefixes if not any(code.startswith(prefix) for code in RULES)]
    if unknown:
        raise ValueError(f"no rule code starts with {', '.join(unknown)}; rules: {', '.join(sorted(RULES))}")
    return prefixes


@dataclass(frozen=True, slots=True)
class FindingsView:
    """Open findings, the rules checked here, and the rules switched off for this device."""

    rows: tuple[FindingView, ...]
    checked: tuple[str, ...]
    off: tuple[str, ...]


def findings_read(view: FindingsView) -> object:
    """What reading a page takes of its open findings (:attr:`QuerySpec.read`): the rules that are off
    (said as the page is read); the findings, or the sentence saying there is none, fill a block
    when the page is written."""
    return view.off


def findings_view(data: BuildData, prefixes: str = "") -> FindingsView:
    """Open findings of ``qms check``, optionally only rules starting with one of ``prefixes``."""
    wanted = rule_prefixes(prefixes)
    rows = tuple(finding_view(finding) for finding in data.findings if not wanted or finding.rule.startswith(wanted))
    rules = [code for code in sorted(RULES) if not wanted or code.startswith(wanted)]
    off = tuple(code for code in rules if RULES[code].severity_for(data.project) is Severity.OFF)
    return FindingsView(rows, tuple(code for code in rules if code not in off), off)


@dataclass(frozen=True, slots=True)
class CountsView:
    """Items per kind, for the templates' conditions and sentences: ``{{ counts.need }}`` (Jinja looks a
    name that is no attribute up with ``counts["need"]``; a name that is no kind is undefined)."""

    kinds: tuple[tuple[str, int], ...]

    def __getitem__(self, kind: str) -> int:
        for name, count in self.kinds:
            if name == kind:
                return count
        raise KeyError(kind)


def counts(data: BuildData) -> CountsView:
    """Items per kind, in the order of the kinds."""
    return CountsView(tuple((kind, len(data.project.of_kind(kind))) for kind in KINDS))


@dataclass(frozen=True, slots=True)
class Place:
    """Where the technical file holds a clause's record: a page, its title, and a section label ("" for the page)."""

    docname: str
    title: str
    label: str


@dataclass(frozen=True, slots=True)
class ClauseRow:
    """A clause asking for a record, the classes it applies to, and its status for the device's class."""

    clause: str
    topic: str
    record: str
    note: str
    classes: str
    status: str  # required, not required, or not in the edition; present, partial or missing once computed
    where: tuple[Place, ...] = ()
    why: str = ""  # the records the computed status rests on


@dataclass(frozen=True, slots=True)
class ClausesView:
    standard: str
    edition: str
    safety_class: str
    clauses: tuple[ClauseRow, ...]


def clause_row(clause: Clause, safety_class: str, edition: str, where: tuple[Place, ...] = ()) -> ClauseRow:
    classes = clause.classes_in(edition) if clause.standard == "iec62304" else "ABC"
    if classes is None:
        status = f"not in {edition}"
    elif safety_class in classes:
        status = "required"
    else:
        status = "not required"
    return ClauseRow(clause.clause, clause.topic, clause.record, clause.note, classes or "", status, where)


@dataclass(frozen=True, slots=True)
class DocumentRow:
    docname: str
    id: str
    title: str
    purpose: str
    clauses: str


def documents_view(data: BuildData) -> tuple[DocumentRow, ...]:
    """The documents of the technical file, with their ids and the clauses they answer."""
    return tuple(
        DocumentRow(spec.docname, document_id(spec, data.document_prefix), spec.title, spec.purpose, spec.clauses)
        for spec in DOCUMENTS
    )


@dataclass(frozen=True, slots=True)
class DeviceView:
    """The device as ``qms.yaml`` describes it: facts (label, value) and its intended use with its line."""

    facts: tuple[tuple[str, str], ...]
    name: str
    version: str
    safety_class: str
    intended_use: str
    intended_use_line: int


def device_view(data: BuildData) -> DeviceView:
    config = data.project.config
    device = config.device
    facts = [("Device", device.name)]
    if device.manufacturer:
        facts.append(("Manufacturer", device.manufacturer))
    facts.append(("Version", device.version or "not stated in qms.yaml"))
    facts.append(("Software safety class", f"{device.software_safety_class} (IEC 62304:{data.edition})"))
    return DeviceView(
        facts=tuple(facts),
        name=device.name,
        version=device.version,
        safety_class=device.software_safety_class,
        intended_use=device.intended_use,
        intended_use_line=config.location(("device", "intended_use")).line + 1,
    )


def _standard_name(data: BuildData, standard: str) -> str:
    assert data.clauses is not None
    try:
        return data.clauses.standard(standard).name
    except StopIteration:
        raise ValueError(
            f"unknown standard {standard!r}; standards: {', '.join(s.id for s in data.clauses.standards)}"
        ) from None


def clauses_view(data: BuildData, standard: str, numbers: str) -> ClausesView:
    """Some clauses of a standard with their applicability to the device's class."""
    assert data.clauses is not None
    name = _standard_name(data, standard)
    safety_class = data.project.config.safety_class
    rows = []
    for number in numbers.split():
        clause = data.clauses.find(standard, number)
        if clause is None:
            raise ValueError(f"{name} has no clause {number} in the clause table")
        rows.append(clause_row(clause, safety_class, data.edition))
    return ClausesView(name, data.edition, safety_class, tuple(rows))


def clause_index_view(data: BuildData, standard: str) -> ClausesView:
    """Every clause of a standard asking for a record, whether it applies, and the sections holding it."""
    assert data.clauses is not None
    name = _standard_name(data, standard)
    safety_class = data.project.config.safety_class
    rows = []
    findings = Counter(finding.rule for finding in data.findings)

    def states() -> Mapping[str, DocumentState]:
        answer: Mapping[str, DocumentState] = data.answer(("document-states",))
        return answer

    for clause in sorted(data.clauses.of(standard), key=lambda c: c.sort_key):
        places = []
        for place in clause.where:
            docname, _, label = place.partition("#")
            spec = document_spec(docname)
            places.append(Place(docname, spec.title if spec else docname, label))
        row = clause_row(clause, safety_class, data.edition, tuple(places))
        if clause.classes_in(data.edition) is not None:  # computed from the records, as `qms clauses`
            result = clause_result(data.project, clause, findings, states, data.edition)
            row = replace(row, status=result.status.value, why=result.why)
        rows.append(row)
    return ClausesView(name, data.edition, safety_class, tuple(rows))


@dataclass(frozen=True, slots=True)
class RuleRow:
    code: str
    summary: str
    severity: str  # in this project


def rules_view(data: BuildData) -> tuple[RuleRow, ...]:
    return tuple(RuleRow(code, rule.summary, str(rule.severity_for(data.project))) for code, rule in ordered_rules())


#: How an item differs from the base.
Change = Literal["added", "changed", "removed"]


@dataclass(frozen=True, slots=True)
class ChangedItem:
    """An item added, changed or removed since the base, with the change requests naming it."""

    id: str
    title: str
    change: Change
    fields: tuple[str, ...]  # the fields that differ, for a changed item
    change_requests: tuple[str, ...] | None  # None: a record that needs none (IEC 62304 8.2.4)


@dataclass(frozen=True, slots=True)
class RiskClassChange:
    """A hazard whose initial or residual risk class differs from the base's ("" where not evaluable)."""

    hazard: str
    title: str
    initial: tuple[str, str]  # (base, now)
    residual: tuple[str, str]


@dataclass(frozen=True, slots=True)
class ReleaseChangesView:
    """What ``qms diff`` reports since the previous release, or why it cannot (``error``)."""

    base_commit: str = ""
    items: tuple[ChangedItem, ...] = ()  # added, then changed, then removed
    links_added: int = 0
    links_removed: int = 0
    risk_changes: tuple[RiskClassChange, ...] = ()
    error: str = ""

    def count(self, change: Change) -> int:
        return sum(1 for item in self.items if item.change == change)


def release_changes(data: BuildData, base: str) -> ReleaseChangesView:
    """Items, links and risk classes changed since the previous release (``release: previous``)."""
    from qms.diff import DiffError, release_diff

    try:
        diff = release_diff(data.project.root, base)
    except DiffError as error:
        return ReleaseChangesView(error=str(error))

    def changed(
        item: Item, change: Literal["added", "changed", "removed"], fields: tuple[str, ...] = ()
    ) -> ChangedItem:
        requests = diff.requests.get(item.id)
        return ChangedItem(item.id, item.title, change, fields, tuple(requests) if requests is not None else None)

    def letters(pair: tuple[RiskClass | None, RiskClass | None]) -> tuple[str, str]:
        return (pair[0].value if pair[0] else "", pair[1].value if pair[1] else "")

    return ReleaseChangesView(
        base_commit=diff.base.commit or "",
        items=(
            *(changed(item, "added") for item in diff.added),
            *(changed(change.new, "changed", tuple(f.field for f in change.fields)) for change in diff.changed),
            *(changed(item, "removed") for item in diff.removed),
        ),
        links_added=len(diff.links_added),
        links_removed=len(diff.links_removed),
        risk_changes=tuple(
            RiskClassChange(change.hazard.id, change.hazard.title, letters(change.initial), letters(change.residual))
            for change in diff.risk_changes
        ),
    )


plain_reprs(globals())  # their text is fingerprinted: see qms.reprs
