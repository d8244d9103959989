"""The rules of ``qms check``: each rule of :mod:`qms.rulebook` (code, name, summary, explanation,
default severity) with a small check function over the project graph.

Rules are data with a face: ``qms check --list-rules`` lists them, ``qms rule CODE`` explains
one, and ``rules:`` in ``qms.yaml`` sets a severity (error, warning, off) per code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict

from qms.model import Finding, Project, Severity
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


def run_rules(context: CheckContext, codes: Iterable[str] | None = None, *, beside: bool = True) -> list[Finding]:
    """All findings of a project: the loader's, then every enabled rule's, sorted by place.

    ``beside``: the rules of the project alone may run in a second process while this one runs the
    others (:meth:`CheckContext.project_hits_beside`); False where that process has no core to run
    on (a build writes its workbook in the second process meanwhile)."""
    project = context.project
    selected = set(codes) if codes is not None else None
    findings: list[Finding] = []
    for finding in (*project.load_findings, *context.findings):
        severity = _severity(finding.rule, project)
        if severity is not Severity.OFF and (selected is None or finding.rule in selected):
            findings.append(Finding(finding.rule, severity, finding.message, finding.location, finding.item))
    later: Callable[[], dict[str, list[Hit]]] | None = None
    if selected is None:
        later = context.project_hits_beside() if beside else lambda: context.project_hits
    enabled: list[tuple[str, CheckFunction, Severity]] = []
    for code, registered in ordered_rules():
        if registered.check is not None and (selected is None or code in selected):
            severity = registered.severity_for(project)
            if severity is not Severity.OFF:
                enabled.append((code, registered.check, severity))
    # the other rules run while the project's own are found (beside, on a cold run of a large project)
    hits = {code: list(check(context)) for code, check, _ in enabled if later is None or code not in PROJECT_RULES}
    kept = later() if later is not None else {}
    for code, check, severity in enabled:
        found = kept[code] if code in kept else hits[code] if code in hits else check(context)
        findings.extend(Finding(code, severity, hit.message, hit.location, hit.item) for hit in found)
    findings.sort(key=Finding.sort_key)
    return findings


def _severity(code: str, project: Project) -> Severity:
    registered = RULES.get(code)
    return registered.severity_for(project) if registered else Severity.ERROR
