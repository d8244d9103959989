"""Running the checks: load evidence, execution records and review stamps where the project has
them, then the rules."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from pathlib import Path

from qms import gitinfo
from qms.causes import Folded, fold
from qms.evidence import load_evidence
from qms.model import Finding, Project
from qms.records import load_records
from qms.review import read_lock
from qms.rules import CheckContext, ordered_rules, run_rules
from qms.status import project_statuses as project_statuses  # where the commands have found it


def check_context(project: Project, results: Iterable[Path] = (), release: bool = False) -> CheckContext:
    """The context the rules need: the project, plus its evidence, execution records, review state
    and git history where present. A release check (every document approved) when ``release`` says
    so or the checked-out commit carries the tag of the device's version."""
    reviews = read_lock(project.root, history=partial(gitinfo.latest_changes, project.root))
    evidence, evidence_findings = load_evidence(project, results)
    records = load_records(project)
    return CheckContext(
        project,
        evidence=evidence,
        reviews=reviews,
        findings=(*evidence_findings, *records.findings),
        records=records,
        history=gitinfo.git_history(project.root),
        release=release or is_release(project),
    )


def is_release(project: Project) -> bool:
    """Whether the checked-out commit carries the tag of ``device.version`` (``2.1.0`` or ``v2.1.0``)."""
    version = project.config.device.version
    if not version or gitinfo.git_history(project.root) is None:
        return False
    return bool({version, f"v{version}"} & gitinfo.head_tags(project.root))


def check_project(project: Project, results: Iterable[Path] = (), release: bool = False) -> list[Finding]:
    """Every finding of the project, sorted by file, line and column."""
    return run_rules(check_context(project, results, release))


def root_causes(project: Project, findings: Iterable[Finding]) -> Folded:
    """The findings in root-cause order (the order of the rules), each that follows from another with its cause."""
    return fold(project, findings, [code for code, _ in ordered_rules()])
