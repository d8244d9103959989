"""Whether the records a clause asks for are there: each clause's status (present, partial,
missing, not required for the class) computed from the records its ``evidence`` conditions name.

The conditions are data (``qms/data/clauses.yaml``), so a clause lights up as soon as the records
it names exist: a new kind of record, a plan section in ``qms.yaml``, or a rule that finds nothing.
``qms clauses``, the clause index page and the FDA documentation list all ask here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from qms.approvals import DocumentState
from qms.clauses import DEFAULT_EDITION, Clause, ClauseTable, Condition
from qms.documents import document_sections, document_spec, find_document
from qms.model import Finding, Item, Project, Severity
from qms.rulebook import SPECS
from qms.schema import KINDS
from qms.status import ClauseStatus

#: The standards as ``qms clauses --format json`` names them.
STANDARD_NAMES = {"iec62304": "IEC 62304", "iso14971": "ISO 14971", "iso13485": "ISO 13485"}


@dataclass(frozen=True, slots=True)
class Met:
    """One condition evaluated: met fully, partly or not, and what was found."""

    condition: Condition
    level: int  # 2 met, 1 partly, 0 not
    found: str


def _config_value(project: Project, path: str) -> Any:
    value: Any = project.config.raw
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


#: The documents' approval states, asked for only when a condition names an approval (computing
#: them takes every document's digest): the caller passes what it has already computed.
States = Callable[[], Mapping[str, DocumentState]]


def _by_status(kind: str, items: Sequence[Item]) -> str:
    """For a kind whose records have a status (anomalies, problem reports, change requests): how many
    have each, in the schema's order (``: 3 open, 1 closed``), so that a count of records never
    reads as a count of the open ones."""
    spec = KINDS[kind].field("status") if kind in KINDS else None
    if spec is None or not spec.choices:
        return ""
    counts = Counter(str(item.get("status") or "no status") for item in items)
    order = [*spec.choices, *sorted(set(counts) - set(spec.choices))]
    return ": " + ", ".join(f"{counts[status]} {status}" for status in order if counts[status])


def evaluate(project: Project, condition: Condition, findings: Counter[str] | None, states: States) -> Met:
    """Whether the records meet one condition (``findings``: the count of findings per rule; None
    where the findings are not at hand, so that a rule condition is never taken as met)."""
    kind, value = condition.kind, condition.value
    if kind == "kind":
        items = project.of_kind(value)
        named = value.replace("_", " ")
        if not items:
            return Met(condition, 0, f"no {named} record")
        return Met(condition, 2, f"{len(items)} {named} record(s)" + _by_status(value, items))
    if kind == "config":
        given = _config_value(project, value)
        return Met(condition, 2 if given else 0, f"{value} in qms.yaml" if given else f"no {value} in qms.yaml")
    if kind == "field":
        item_kind, _, name = value.partition(".")
        items = project.of_kind(item_kind)
        named = item_kind.replace("_", " ")
        if not items:
            return Met(condition, 0, f"no {named} record")
        having = sum(1 for item in items if item.get(name) not in (None, "", []))
        level = 0 if not having else 2 if having == len(items) else 1
        return Met(condition, level, f"{having} of {len(items)} {named} records have {name}")
    if kind == "rule":
        rule = SPECS.get(value)
        if rule is None:
            return Met(condition, 0, f"rule {value} is not known to this qms")
        if rule.severity_in(project.config.rules, project.config.safety_class) is Severity.OFF:
            return Met(condition, 1, f"rule {value} ({rule.name}) is off, so nothing checks it")
        if findings is None:
            return Met(condition, 0, f"rule {value}: the findings are not evaluated here")
        count = findings.get(value, 0)
        return Met(condition, 1 if count else 2, f"{count} {value} finding(s)" if count else f"no {value} finding")
    if kind == "approved":
        state = states().get(value)
        if state is None:
            return Met(condition, 0, f"no document {value}")
        if state.status == "approved":
            return Met(condition, 2, f"{value} approved by every role it needs (revision {state.revision})")
        return Met(condition, 0, f"{value} is {state.status}, not approved by every role it needs")
    spec = find_document(value)
    return Met(condition, 2 if spec else 0, f"document {spec.id}" if spec else f"no document {value}")


@dataclass(frozen=True, slots=True)
class ClauseResult:
    """One clause with its computed status and where the technical file holds it."""

    standard: str
    clause: Clause
    status: ClauseStatus
    why: str
    where: tuple[tuple[str, str, str], ...]  # (document id, docname, label)
    checks: tuple[Met, ...] = ()

    def to_json(self, sections: dict[str, dict[str, str]]) -> dict[str, Any]:
        return {
            "standard": self.standard,
            "clause": self.clause.clause,
            "title": self.clause.topic,
            "status": self.status.value,
            "where": [
                {"document": doc_id, "section": sections.get(docname, {}).get(label, label)}
                for doc_id, docname, label in self.where
            ],
            "why": self.why,
        }


def _where(clause: Clause) -> tuple[tuple[str, str, str], ...]:
    places = []
    for place in clause.where:
        docname, _, label = place.partition("#")
        spec = document_spec(docname)
        places.append((spec.id if spec else docname, docname, label))
    return tuple(places)


def clause_result(
    project: Project, clause: Clause, findings: Counter[str], states: States, edition: str = DEFAULT_EDITION
) -> ClauseResult:
    """A clause's status for the project's safety class, from the records."""
    standard = STANDARD_NAMES.get(clause.standard, clause.standard)
    safety_class = project.config.safety_class
    if not clause.applies(safety_class, edition):
        classes = clause.classes_in(edition) or ""
        why = f"not required for class {safety_class} (IEC 62304:{edition}: class {', '.join(classes) or 'none'})"
        return ClauseResult(standard, clause, ClauseStatus.NOT_REQUIRED, why, _where(clause))
    checks = tuple(evaluate(project, condition, findings, states) for condition in clause.evidence)
    if not checks:
        status = ClauseStatus.PRESENT if clause.where else ClauseStatus.MISSING
        why = "held by the documents named" if clause.where else "no record named for this clause"
        return ClauseResult(standard, clause, status, why, _where(clause))
    status = ClauseStatus.of(sum(check.level for check in checks), 2 * len(checks))
    why = "; ".join(check.found for check in checks)
    return ClauseResult(standard, clause, status, why, _where(clause), checks)


def clause_results(
    project: Project,
    table: ClauseTable,
    findings: Iterable[Finding],
    states: States,
    edition: str = DEFAULT_EDITION,
) -> list[ClauseResult]:
    """Every clause of the table in the edition, in standard and clause order, with its status."""
    counted = Counter(finding.rule for finding in findings if finding.severity is not Severity.OFF)
    ordered = sorted(
        table.in_edition(edition),
        key=lambda clause: (
            list(STANDARD_NAMES).index(clause.standard) if clause.standard in STANDARD_NAMES else 9,
            clause.standard,
            clause.sort_key,
        ),
    )
    return [clause_result(project, clause, counted, states, edition) for clause in ordered]


def clauses_json(results: Sequence[ClauseResult], sections: dict[str, dict[str, str]]) -> dict[str, Any]:
    """The ``qms clauses --format json`` document, version 1."""
    return {"version": 1, "clauses": [result.to_json(sections) for result in results]}


def section_titles(project: Project, results: Iterable[ClauseResult]) -> dict[str, dict[str, str]]:
    """The titles of the sections the results name, by document page and label."""
    titles: dict[str, dict[str, str]] = {}
    for docname in {docname for result in results for _, docname, _ in result.where}:
        spec = document_spec(docname)
        titles[docname] = document_sections(project.root / project.config.templates, spec) if spec else {}
    return titles
