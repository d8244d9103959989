"""The rules of ``qms check``: each rule of :mod:`qms.rulebook` (code, name, summary, explanation,
default severity) with a small check function over the project graph.

Rules are data with a face: ``qms check --list-rules`` lists them, ``qms rule CODE`` explains
one, and ``rules:`` in ``qms.yaml`` sets a severity (error, warning, off) per code.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING

from qms.model import Finding, Item, Location, Project, Severity
from qms.rulebook import GROUPS, SPECS, RuleSpec

if TYPE_CHECKING:
    from qms.approvals import ApprovalLog, DocumentState
    from qms.diff import DiffError, ProjectDiff
    from qms.evidence import Evidence
    from qms.records import RecordSet
    from qms.review import ReviewState
    from qms.status import ChangeHistory, StatusIndex


@dataclass(frozen=True)
class CheckContext:
    """What the rules look at: the project graph and, where loaded, test evidence, execution
    records, reviews and version-control history.

    ``findings`` are problems met while gathering the context (an unreadable result file);
    they are reported like the loader's.
    """

    project: Project
    evidence: Evidence | None = None
    reviews: ReviewState | None = None
    findings: tuple[Finding, ...] = ()
    records: RecordSet | None = None
    history: ChangeHistory | None = None
    #: a release check: every document must be approved (``qms check --release``)
    release: bool = False

    @functools.cached_property
    def statuses(self) -> StatusIndex:
        """Every item's verification status (:mod:`qms.status`), computed once per context."""
        from qms.status import compute_statuses

        records = self.records.records if self.records is not None else ()
        return compute_statuses(self.project, self.evidence, records, self.history)

    @functools.cached_property
    def approvals(self) -> ApprovalLog:
        """The approvals of ``approvals.yaml`` (:mod:`qms.approvals`), read once per context."""
        from qms.approvals import read_approvals

        return read_approvals(self.project, history=self.history is not None)

    @functools.cached_property
    def documents(self) -> Mapping[str, DocumentState]:
        """The state of every document, computed once per context."""
        from qms.approvals import document_states

        return document_states(self.project, self.statuses, self.history, self.approvals)

    @functools.cached_property
    def release_diff(self) -> ProjectDiff | DiffError | None:
        """What changed since the previous release (``release: previous``), read once per context:
        None without a previous release or outside git, the error when it cannot be compared."""
        from qms.diff import DiffError, release_diff

        previous = self.project.config.previous_release
        if previous is None or self.history is None:
            return None
        try:
            return release_diff(self.project.root, previous)
        except DiffError as error:
            return error


@dataclass(frozen=True, slots=True)
class Hit:
    """What a rule found: the rule's runner turns it into a finding with the rule's severity."""

    message: str
    location: Location
    item: str | None = None

    @classmethod
    def at(cls, item: Item, message: str, path: tuple[str | int, ...] = ()) -> Hit:
        return cls(message, item.location(path), item.id)


CheckFunction = Callable[[CheckContext], Iterable[Hit]]


@dataclass(frozen=True)
class Rule(RuleSpec):
    """A rule of :mod:`qms.rulebook` with its check function (None: the loader reports it)."""

    check: CheckFunction | None = field(default=None, compare=False)

    def severity_for(self, project: Project) -> Severity:
        override = project.config.rules.get(self.code)
        if override is not None:
            return override
        if project.config.safety_class not in self.classes:
            return Severity.OFF
        return self.default


_CHECKS: dict[str, CheckFunction] = {}


def rule(code: str) -> Callable[[CheckFunction], CheckFunction]:
    """Attach a check function to the rule ``code`` of :mod:`qms.rulebook`."""
    if code not in SPECS:
        raise KeyError(f"rule {code} is not in qms.rulebook: add its name, summary and explanation there")

    def register(check: CheckFunction) -> CheckFunction:
        _CHECKS[code] = check
        return check

    return register


def ordered_rules() -> list[tuple[str, Rule]]:
    """Rules in the order of DESIGN.md (the order of their families in ``GROUPS``), which is also the
    root-cause order: integrity, trace, risk, SOUP, evidence, change control, documents."""
    families = list(GROUPS)
    return sorted(RULES.items(), key=lambda entry: (families.index(entry[0][0]), entry[0]))


def run_rules(context: CheckContext, codes: Iterable[str] | None = None) -> list[Finding]:
    """All findings of a project: the loader's, then every enabled rule's, sorted by place."""
    project = context.project
    selected = set(codes) if codes is not None else None
    findings: list[Finding] = []
    for finding in (*project.load_findings, *context.findings):
        severity = _severity(finding.rule, project)
        if severity is not Severity.OFF and (selected is None or finding.rule in selected):
            findings.append(Finding(finding.rule, severity, finding.message, finding.location, finding.item))
    for code, registered in ordered_rules():
        if registered.check is None or (selected is not None and code not in selected):
            continue
        severity = registered.severity_for(project)
        if severity is Severity.OFF:
            continue
        for hit in registered.check(context):
            findings.append(Finding(code, severity, hit.message, hit.location, hit.item))
    findings.sort(key=Finding.sort_key)
    return findings


def _severity(code: str, project: Project) -> Severity:
    registered = RULES.get(code)
    return registered.severity_for(project) if registered else Severity.ERROR


def written(item: Item, field_name: str) -> bool:
    """Whether the user wrote the field at all (even if its value was refused)."""
    return (field_name,) in item.positions


# Importing the rule modules attaches their check functions.
from qms.rules import (  # noqa: E402,F401
    change,
    documents,
    evidence,
    integrity,
    lifecycle,
    markup,
    plans,
    regulatory,
    risk,
    soup,
    trace,
)

#: Every rule of the rulebook, with its check function.
RULES: dict[str, Rule] = {code: Rule(**asdict(spec), check=_CHECKS.get(code)) for code, spec in SPECS.items()}
