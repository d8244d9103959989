"""The rules of ``qms check``: each rule of :mod:`qms.rulebook` (code, name, summary, explanation,
default severity) with a small check function over the project graph.

Rules are data with a face: ``qms check --list-rules`` lists them, ``qms rule CODE`` explains
one, and ``rules:`` in ``qms.yaml`` sets a severity (error, warning, off) per code.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, astuple
from typing import Any

from qms.model import Finding, Location, Project, Severity
from qms.parsecache import project_memo
from qms.rulebook import GROUPS, SPECS
from qms.rules import (
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
from qms.rules.registry import CHECKS, PROJECT_RULES, CheckContext, CheckFunction, Hit, Rule, rule, written

#: What the package offers: the rule table, how rules run, what a rule module is made of, and the rule
#: modules themselves (one per family; importing each attaches its check functions).
__all__ = [
    "RULES", "CheckContext", "CheckFunction", "Hit", "Rule", "change", "documents", "evidence", "integrity",
    "lifecycle", "markup", "ordered_rules", "plans", "regulatory", "risk", "rule", "run_rules", "soup", "trace",
    "written",
]  # fmt: skip

#: Every rule of the rulebook, with its check function.
RULES: dict[str, Rule] = {code: Rule(**asdict(spec), check=CHECKS.get(code)) for code, spec in SPECS.items()}


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
    kept = context.project_hits if selected is None else {}
    for code, registered in ordered_rules():
        if registered.check is None or (selected is not None and code not in selected):
            continue
        severity = registered.severity_for(project)
        if severity is Severity.OFF:
            continue
        for hit in kept[code] if code in kept else registered.check(context):
            findings.append(Finding(code, severity, hit.message, hit.location, hit.item))
    findings.sort(key=Finding.sort_key)
    return findings


def project_hits(context: CheckContext) -> dict[str, list[Hit]]:
    """What the enabled rules that look at the project alone find, kept by the project's fingerprint."""
    project = context.project
    codes = sorted(code for code in PROJECT_RULES if RULES[code].severity_for(project) is not Severity.OFF)
    return project_memo(
        project, "rules", lambda: {code: list(CHECKS[code](context)) for code in codes}, _hits_data, _hits_from
    )


def _hits_data(hits: dict[str, list[Hit]]) -> dict[str, list[tuple[Any, ...]]]:
    return {code: [(hit.message, *astuple(hit.location), hit.item) for hit in found] for code, found in hits.items()}


def _hits_from(data: dict[str, list[tuple[Any, ...]]], _: str) -> dict[str, list[Hit]]:
    """The hits :func:`_hits_data` made plain data of (ValueError where the entry holds anything else)."""
    hits: dict[str, list[Hit]] = {}
    for code, found in data.items():
        hits[code] = []
        for message, file, line, column, item in found:
            if (
                {type(message), type(file)} != {str}
                or {type(line), type(column)} != {int}
                or type(item) not in (str, type(None))
            ):
                raise ValueError(f"not a finding of {code}")
            hits[code].append(Hit(message, Location(file, line, column), item))
    return hits


def _severity(code: str, project: Project) -> Severity:
    registered = RULES.get(code)
    return registered.severity_for(project) if registered else Severity.ERROR
