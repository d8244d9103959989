"""Running the checks: load evidence and review stamps where the project has them, then the rules."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path

from qms import gitinfo
from qms.evidence import load_evidence
from qms.model import Finding, Project
from qms.review import read_lock
from qms.rules import CheckContext, run_rules


def check_context(project: Project, results: Iterable[Path] = ()) -> CheckContext:
    """The context the rules need: the project, plus its evidence and review state where present."""
    reviews = read_lock(project.root, history=partial(gitinfo.latest_changes, project.root))
    evidence, evidence_findings = load_evidence(project, results)
    return CheckContext(project, evidence=evidence, reviews=reviews, findings=tuple(evidence_findings))


def check_project(project: Project, results: Iterable[Path] = ()) -> list[Finding]:
    """Every finding of the project, sorted by file, line and column."""
    return run_rules(check_context(project, results))
