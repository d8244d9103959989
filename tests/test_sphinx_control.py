"""The document-control block and revision history of each page, read from real builds of projects
in real git repositories: the history of a document lists only the commits that changed what it
shows (its items, its template, the project's configuration), never other files kept beside them."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import write_files
from fixtures.change.gitrepo import edit, git
from sphinx_support import (
    REPOSITORY,
    build,
    control_fields,
    history_rows,
    new_project,
    page,
    run_example_tests,
    site_files,
)

from qms.approvals import (
    APPROVALS_FILE,
    Approval,
    ChangedInput,
    DocumentState,
    all_documents,
    document_digest,
    document_states,
    meaning_of,
)
from qms.checking import check_context
from qms.gitinfo import LineChange, Revision
from qms.project import load_project
from qms.sphinx.control import control_rows

ALARMS = """\
kind: software_requirement
items:
  - id: SWR-100
    title: Low glucose alarm
    text: The software shall raise an alarm below 3.9 mmol/L.
    derives_from: [SYS-001]
"""
OWN_TEMPLATE = '{% extends "default/risk-register.rst.jinja" %}\n'
FAR_FUTURE = "@253402300800 +0000"  # 10000-01-01: beyond Python's dates, shown as git stores it


def _commit(root: Path, subject: str, author: str, date: str) -> None:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", subject, author=author, date=date)


@pytest.fixture(scope="module")
def histories(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A device kept in one repository with a tool's code (``qms/``), as the example is."""
    root = new_project(
        tmp_path_factory.mktemp("control") / "device",
        files={"traceability/alarms.yaml": ALARMS, "qms/tool.py": "VERSION = 1\n"},
    )
    git(root, "init", "-q")
    _commit(root, "Device records", "Alice Example", "2025-03-01T10:00:00+01:00")
    edit(root, "qms/tool.py", "1", "2")
    _commit(root, "Toolkit code only", "Bob Builder", "2025-04-01T10:00:00+00:00")
    write_files(root, {"_templates/risk-register.rst.jinja": OWN_TEMPLATE})
    _commit(root, "Own risk register template", "Dana Designer", "2025-05-01T10:00:00+00:00")
    edit(root, "risk_register/hazards.yaml", "Wrong treatment decision.", "A wrong treatment decision.")
    _commit(root, "Reword a harm", "Erin Engineer", "2025-06-01T10:00:00+00:00")
    edit(root, "traceability/alarms.yaml", "3.9", "4.0")
    _commit(root, "Tighten the alarm limit", "Carol Checker", FAR_FUTURE)
    result = build(root)
    assert result.exit_code == 0, result.output
    return root


def _history(root: Path, name: str) -> list[list[str]]:
    return history_rows(page(root / "_build" / "html", name))


def _changes(root: Path, name: str) -> list[str]:
    return [change for *_, change in _history(root, name)]


def test_a_document_lists_the_commits_of_its_own_items(histories: Path) -> None:
    rows = _history(histories, "software-requirements.html")
    assert [[date, author, change] for date, _commit, author, change in rows] == [
        [FAR_FUTURE, "Carol Checker", "Tighten the alarm limit"],  # the raw date whole, not cut at 10 characters
        ["2025-03-01", "Alice Example", "Device records"],
    ]
    assert _changes(histories, "design-inputs.html") == ["Device records"]  # shows no software requirement


def test_a_document_lists_the_commits_of_its_own_template(histories: Path) -> None:
    # the risk register shows the hazards and the software requirements that control them
    assert _changes(histories, "risk-register.html") == [
        "Tighten the alarm limit",
        "Reword a harm",
        "Own risk register template",
        "Device records",
    ]
    assert "Own risk register template" not in _changes(histories, "risk-management-report.html")


def test_no_document_lists_a_commit_that_changed_only_other_files(histories: Path) -> None:
    site = histories / "_build" / "html"
    pages = sorted(path.name for path in site.glob("*.html") if _history(histories, path.name))
    assert "index.html" in pages and "gaps.html" in pages
    for name in pages:
        assert "Toolkit code only" not in _changes(histories, name), name


def test_the_block_names_the_document_and_the_commit(histories: Path) -> None:
    fields = control_fields(page(histories / "_build" / "html", "software-requirements.html"))
    commit = git(histories, "rev-parse", "HEAD")
    assert fields["Document"] == "SRS Software requirements specification"
    assert fields["Source revision"] == f"{commit} ({FAR_FUTURE}), clean working tree"


PEOPLE = {
    "author": ("Alice Example", "alice@example.org", "2026-01-10T09:00:00+01:00"),
    "reviewer": ("Bob Builder", "bob@example.org", "2026-01-11T09:00:00+01:00"),
    "approver": ("Carol Checker", "carol@example.org", "2026-01-12T09:00:00+01:00"),
    "risk_manager": ("Carol Checker", "carol@example.org", "2026-01-12T09:00:00+01:00"),
}
ROLES = ("author", "reviewer", "risk_manager")


def _approve(root: Path, document: str, *roles: str) -> None:
    """Approvals of the document's current content, appended to approvals.yaml as ``qms approve`` writes them."""
    project = load_project(root)
    spec = next(spec for spec in all_documents() if spec.id == document)
    digest = document_digest(project, spec, check_context(project).statuses)
    entries = [
        {
            "document": document,
            "digest": digest,
            "role": role,
            "name": PEOPLE[role][0],
            "email": PEOPLE[role][1],
            "at": PEOPLE[role][2],
            "meaning": meaning_of(role),
        }
        for role in roles
    ]
    with (root / APPROVALS_FILE).open("a", encoding="utf-8") as approvals:
        approvals.write(yaml.safe_dump(entries, sort_keys=False))


def _read_pages(output: str) -> list[str]:
    return re.findall(r"reading sources\.\.\. \[\s*\d+%\] (\S+)", output)


def _fields(root: Path, name: str) -> dict[str, str]:
    return control_fields(page(root / "_build" / "html", name))


@pytest.mark.slow
def test_the_block_follows_a_document_from_draft_to_approved_to_changed(tmp_path: Path) -> None:
    root = new_project(tmp_path / "device")
    git(root, "init", "-q")
    _commit(root, "Device records", "Alice Example", "2025-03-01T10:00:00+01:00")
    assert build(root).exit_code == 0
    draft = _fields(root, "software-requirements.html")
    assert [draft[label] for label in ("Revision", "Status", "Author", "Reviewer", "Approver", "Effective")] == [
        "none approved yet",
        "draft: not approved yet by author, reviewer, approver",
        "not approved yet",
        "not approved yet",
        "not approved yet",
        "not in effect: draft",
    ]

    _approve(root, "SRS", "author", "reviewer", "approver")
    _approve(root, "HA", "author")
    result = build(root, "--verbose")
    assert result.exit_code == 0, result.output
    read = _read_pages(result.stdout)
    assert {"software-requirements", "risk-register"} <= set(read)
    assert "design-inputs" not in read  # its state did not change
    approved = _fields(root, "software-requirements.html")
    assert approved["Revision"] == "1"
    assert approved["Status"] == "approved"
    assert approved["Approver"] == "Carol Checker <carol@example.org>, 2026-01-12, approved for release"
    assert approved["Effective"] == "2026-01-12"
    risk_register = _fields(root, "risk-register.html")
    assert risk_register["Status"] == "draft: not approved yet by reviewer, approver"
    assert risk_register["Author"].startswith("Alice Example <alice@example.org>, 2026-01-10")

    _commit(root, "Approve the SRS; the risk register written", "Carol Checker", "2026-01-12T10:00:00+01:00")
    edit(root, "traceability/requirements.yaml", "whole minutes", "full minutes")
    _commit(root, "Round to full minutes", "Dana Designer", "2026-02-01T10:00:00+00:00")
    result = build(root, "--verbose")
    assert result.exit_code == 0, result.output
    changed = _fields(root, "software-requirements.html")
    assert changed["Revision"] == "1"
    assert changed["Status"].startswith(
        "changed since approval (revision 1): SWR-001 (last changed by Dana Designer on 2026-02-01 in commit "
    )
    assert changed["Status"].endswith("; to approve again: author, reviewer, approver")
    assert changed["Approver"].endswith("approved for release (revision 1, before the content changed)")
    assert changed["Effective"] == "not in effect: changed since approval"
    assert _changes(root, "software-requirements.html") == [
        "Round to full minutes",
        "Approve the SRS; the risk register written",
        "Device records",
    ]
    # the plan shows no item and has no approval (design inputs would list the commit: its system
    # requirements share the file requirements.yaml with the software requirements)
    assert _changes(root, "risk-management-plan.html") == ["Device records"]
    assert site_files(root / "_build" / "html") == _clean_site(root, tmp_path / "clean")


def _clean_site(root: Path, folder: Path) -> dict[str, bytes]:
    result = build(root, "--clean", "-o", str(folder))
    assert result.exit_code == 0, result.output
    return site_files(folder)


def _signed(role: str, digest: str, **extra: Any) -> Approval:
    name, email, at = PEOPLE[role]
    return Approval("RMR", role, name, email, at, meaning_of(role), digest, **extra)


def test_the_rows_say_who_signed_and_what_findings_an_approval_accepted() -> None:
    current = "sha256:" + "1" * 64
    approvals = (
        _signed("author", current, signed=True, signer="Alice Example <alice@example.org>", commit="a" * 40),
        _signed("risk_manager", current, findings=("R201 HAZ-01: residual risk not acceptable",)),
    )
    state = DocumentState("RMR", "Risk management report", "draft", 0, current, approvals, None, ROLES)
    assert dict(control_rows(state)) == {
        "Revision": "none approved yet",
        "Status": "draft: not approved yet by reviewer",
        "Author": "Alice Example <alice@example.org>, 2026-01-10, written and submitted for review; "
        "signed by Alice Example <alice@example.org>",
        "Reviewer": "not approved yet",
        "Risk manager": "Carol Checker <carol@example.org>, 2026-01-12, approved as risk_manager; "
        "with open findings: R201 HAZ-01: residual risk not acceptable",
        "Effective": "not in effect: draft",
    }


def test_a_changed_document_names_what_changed_and_who_approved_before() -> None:
    before, now = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    approvals = tuple(_signed(role, before) for role in ROLES)
    revision = Revision("b" * 40, "b" * 10, "2026-02-01T10:00:00+00:00", "Dana Designer", "Reword")
    state = DocumentState(
        "RMR",
        "Risk management report",
        "changed",
        1,
        now,
        approvals,
        None,
        ROLES,
        (ChangedInput("HAZ-01", LineChange(revision)), ChangedInput("qms.yaml", None)),
        approvals[-1],
    )
    rows = dict(control_rows(state))
    assert rows["Status"] == (
        "changed since approval (revision 1): "
        'HAZ-01 (last changed by Dana Designer on 2026-02-01 in commit bbbbbbbbbb "Reword"); '
        "qms.yaml; to approve again: author, reviewer, risk_manager"
    )
    assert (
        rows["Reviewer"]
        == "Bob Builder <bob@example.org>, 2026-01-11, reviewed (revision 1, before the content changed)"
    )
    assert rows["Effective"] == "not in effect: changed since approval"


DEVICE_FILES = ("traceability/", "risk_register/", "templates/", "qms.yaml", "approvals.yaml")


@pytest.mark.slow
def test_the_example_shows_its_approvals_and_only_its_own_history(tmp_path: Path) -> None:
    """The example lives in the toolkit's repository: its documents list no commit that changed
    only the toolkit (its code, tests, benchmarks, CI), and show the approvals it records."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPOSITORY), str(clone)], check=True)
    run_example_tests(clone)
    site = tmp_path / "site"
    result = build(clone, "-o", str(site))
    assert result.exit_code == 0, result.output
    states = document_states(load_project(clone))
    shown = {"approved": "approved", "changed": "changed since approval", "draft": "draft"}
    for spec in all_documents():
        html = page(site, f"{spec.docname}.html")
        fields, state = control_fields(html), states[spec.id]
        assert fields["Status"].startswith(shown[state.status]), spec.id
        assert fields["Revision"] == str(state.revision), spec.id
        assert fields["Approver"].startswith("Quinn Example (quality) <quinn.quality@example.com>, "), spec.id
        rows = history_rows(html)
        assert rows, spec.id
        for _date, commit, _author, change in rows:
            files = git(clone, "show", "--name-only", "--format=", commit).split("\n")
            assert any(file.startswith(DEVICE_FILES) for file in files), (spec.id, change, files)


def test_a_draft_changed_after_a_partial_approval_claims_no_revision() -> None:
    before, now = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    author = _signed("author", before)
    state = DocumentState("RMR", "Risk management report", "changed", 0, now, (author,), None, ROLES, (), author)
    rows = dict(control_rows(state))
    assert rows["Revision"] == "none approved yet"
    assert rows["Status"] == "changed since approval; to approve again: author, reviewer, risk_manager"
    assert rows["Author"].endswith("written and submitted for review (an earlier draft, before the content changed)")
    assert rows["Effective"] == "not in effect: changed since approval"
