"""Approvals bound to document content: `qms approve`, document states, A601-A603 and the release
check, on real projects in real git repositories."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from qms import approvals
from qms.approvals import (
    APPROVALS_FILE,
    DigestCache,
    all_documents,
    document_digest,
    document_inputs,
    document_states,
    read_approvals,
    template_sources,
)
from qms.checking import check_context, check_project
from qms.cli import main
from qms.documents import DOCUMENTS, find_document
from qms.project import load_project
from qms.status import compute_statuses

BASE = Path(__file__).parent / "scenarios" / "_base"
REPOSITORY = Path(__file__).resolve().parents[1]
#: before the base project's execution records ran, so that they are not stale
_EARLY = "2025-06-01T10:00:00+00:00"


def git(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    completed = subprocess.run(
        ["git", *args], cwd=root, check=True, capture_output=True, text=True, env={**os.environ, **(env or {})}
    )
    return completed.stdout


def commit(root: Path, message: str, author: str = "Ann Author", date: str | None = None) -> None:
    env = {"GIT_AUTHOR_NAME": author, "GIT_COMMITTER_NAME": author}
    if date:
        env |= {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date}
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message, env=env)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "device"
    shutil.copytree(BASE, root)
    git(root, "init", "-q")
    git(root, "config", "user.name", "Ann Author")
    git(root, "config", "user.email", "ann@example.org")
    git(root, "config", "commit.gpgsign", "false")
    commit(root, "device", date=_EARLY)
    return root


def approve(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["approve", "--project", str(root), *args])


def check(root: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["check", "--project", str(root), *args])


def approve_all_roles(root: Path, document: str) -> None:
    for role in ("author", "reviewer", "approver"):
        result = approve(root, document, "--role", role)
        assert result.exit_code == 0, result.output


def add_roles(root: Path) -> None:
    with (root / "qms.yaml").open("a", encoding="utf-8") as stream:
        stream.write(
            "roles:\n"
            "  people:\n"
            "    - {name: Ann Author, email: ann@example.org, roles: [author]}\n"
            "    - {name: Rob Reviewer, email: rob@example.org, roles: [reviewer, approver]}\n"
        )


def test_an_approval_records_the_digest_the_role_git_user_and_a_zoned_time(repo: Path) -> None:
    result = approve(repo, "srs", "--role", "reviewer", "--meaning", "reviewed for consistency")
    assert result.exit_code == 0, result.output
    project = load_project(repo)
    (approval,) = read_approvals(project).approvals
    spec = find_document("SRS")
    assert spec is not None
    assert approval.document == "SRS"
    assert approval.digest == document_digest(project, spec, check_context(project).statuses)
    assert (approval.role, approval.name, approval.email) == ("reviewer", "Ann Author", "ann@example.org")
    assert approval.meaning == "reviewed for consistency"
    assert approval.at[-6] in "+-" and approval.at[10] == "T"
    assert approval.commit is None and not approval.signed  # not committed yet


def test_a_document_is_draft_then_approved_then_changed_naming_what_changed_and_who(repo: Path) -> None:
    assert document_states(load_project(repo))["SRS"].status == "draft"
    approve_all_roles(repo, "SRS")
    commit(repo, "approve SRS")
    state = document_states(load_project(repo))["SRS"]
    assert (state.status, state.revision, state.missing_roles) == ("approved", 1, ())
    assert state.effective is not None and state.effective == state.approvals[-1].at
    assert check(repo, "--release").output.count("SRS") == 0

    requirements = repo / "items" / "requirements.yaml"
    text = requirements.read_text(encoding="utf-8")
    requirements.write_text(text.replace("older than 15 minutes", "older than 12 minutes"), encoding="utf-8")
    commit(repo, "tighten the freshness limit", author="Carl Changer")
    state = document_states(load_project(repo))["SRS"]
    assert (state.status, state.revision) == ("changed", 1)
    assert [change.id for change in state.changed_items] == ["SWR-1"]
    assert state.changed_items[0].who == "Carl Changer"
    assert "A60" not in check(repo).output  # between releases a changed document fails no check
    released = check(repo, "--release")
    assert released.exit_code == 1
    line = next(line for line in released.output.splitlines() if "A602" in line)
    assert line.startswith("approvals.yaml:") and "SWR-1" in line and "Carl Changer" in line

    approve_all_roles(repo, "SRS")
    state = document_states(load_project(repo))["SRS"]
    assert (state.status, state.revision) == ("approved", 2)


def test_a_check_takes_the_digests_of_approved_documents_only(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A document no one approved is a draft whatever its content: a check and a site show no digest
    of it, so they take none; the states are those with every digest, the digest aside."""
    approve_all_roles(repo, "SRS")
    project = load_project(repo)
    every = document_states(project)
    taken: list[str] = []
    digest = approvals.document_digest
    monkeypatch.setattr(approvals, "document_digest", lambda *args: taken.append(args[1].id) or digest(*args))
    states = check_context(project).documents
    assert taken == ["SRS"]
    assert states["SRS"] == every["SRS"] and states["SRS"].status == "approved"
    for document, state in states.items():
        if document != "SRS":
            assert state.digest is None and every[document].digest is not None
            assert dataclasses.replace(state, digest=every[document].digest) == every[document]
            assert (state.status, state.missing_roles) == ("draft", every[document].missing_roles)


def test_the_digest_covers_what_the_document_renders_and_nothing_else(repo: Path) -> None:
    def digests() -> dict[str, str]:
        return {document: state.digest for document, state in document_states(load_project(repo)).items()}

    before = digests()
    hazards = repo / "items" / "hazards.yaml"
    hazards.write_text(hazards.read_text(encoding="utf-8") + "# a comment only\n", encoding="utf-8")
    assert digests() == before  # layout and comments are not content
    requirements = repo / "items" / "requirements.yaml"
    requirements.write_text(
        requirements.read_text(encoding="utf-8").replace("Display the current reading", "Show the reading"),
        encoding="utf-8",
    )
    after = digests()
    assert after["SRS"] != before["SRS"]  # SYS-1's title is shown beside the requirement deriving from it
    assert after["DIR"] != before["DIR"]
    assert after["SAD"] == before["SAD"] and after["RMP"] == before["RMP"]
    templates = repo / "_templates"
    templates.mkdir()
    (templates / "software-architecture.rst.jinja").write_text(
        '{% extends "default/software-architecture.rst.jinja" %}\n'
    )
    assert digests()["SAD"] != after["SAD"]
    (repo / "records" / "runs.yaml").unlink()  # the statuses it prints change
    assert digests()["SVR"] != after["SVR"]


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["XYZ", "--role", "author"], 2, "no document 'XYZ': the documents are TF, SDP"),
        (["SRS", "--role", "boss"], 2, "SRS needs no role 'boss': its roles are author, reviewer, approver"),
        (["SRS", "--role", "reviewer", "--as", "Ann Author"], 1, "Ann Author does not hold the role reviewer"),
        (["SRS", "--role", "author", "--as", "Nobody"], 2, "'Nobody' is not one of the people in roles.people"),
    ],
)
def test_bad_approvals_are_refused_with_a_message(repo: Path, args: list[str], code: int, message: str) -> None:
    add_roles(repo)
    result = approve(repo, *args)
    assert result.exit_code == code
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (repo / APPROVALS_FILE).exists()


def test_approving_the_same_content_twice_is_refused(repo: Path) -> None:
    add_roles(repo)
    assert approve(repo, "SRS", "--role", "reviewer", "--as", "rob@example.org").exit_code == 0
    written = (repo / APPROVALS_FILE).read_bytes()
    again = approve(repo, "SRS", "--role", "reviewer", "--as", "Rob Reviewer")
    assert again.exit_code == 1
    assert "Rob Reviewer approved SRS as reviewer already" in again.output
    assert (repo / APPROVALS_FILE).read_bytes() == written


def test_open_error_findings_block_an_approval_unless_accepted_and_recorded(repo: Path) -> None:
    tests = repo / "items" / "tests.yaml"
    tests.write_text(tests.read_text(encoding="utf-8") + "\n  - id: TST-9\n    title: Orphan\n", encoding="utf-8")
    assert any(finding.severity == "error" for finding in check_project(load_project(repo)))
    refused = approve(repo, "GAP", "--role", "author")
    assert refused.exit_code == 1 and "open error finding" in refused.output and "--with-findings" in refused.output
    assert not (repo / APPROVALS_FILE).exists()
    accepted = approve(repo, "GAP", "--role", "author", "--with-findings")
    assert accepted.exit_code == 0, accepted.output
    (approval,) = read_approvals(load_project(repo)).approvals
    assert approval.findings and all(entry.split()[0][0] in "QTRSEC" for entry in approval.findings)


def test_approving_appends_and_keeps_what_was_written_by_hand(repo: Path) -> None:
    approve(repo, "SRS", "--role", "author")
    path = repo / APPROVALS_FILE
    hand = path.read_text(encoding="utf-8") + "# reviewed in the design review of 2 March, minutes DR-7\n"
    path.write_text(hand, encoding="utf-8")
    assert approve(repo, "SRS", "--role", "reviewer").exit_code == 0
    text = path.read_text(encoding="utf-8")
    assert text.startswith(hand)
    assert [approval.role for approval in read_approvals(load_project(repo)).approvals] == ["author", "reviewer"]


_ENTRY = """- document: SRS
  digest: sha256:{digest}
  role: author
  name: Ann Author
  email: ann@example.org
  at: '2026-01-31T14:05:00+01:00'
  meaning: written
"""


@pytest.mark.parametrize(
    ("edit", "line", "message"),
    [
        (lambda text: text.replace("  role: author\n", ""), 1, "approval without role"),
        (lambda text: text.replace("+01:00", ""), 6, "is not a date-time with a time zone"),
        (lambda text: text.replace("sha256:" + "a" * 64, "sha256:abc"), 2, "digest must be sha256: and 64 hex"),
        (lambda text: text.replace("SRS", "XYZ"), 1, "approval of unknown document 'XYZ'"),
        (lambda text: text.replace("role: author", "role: boss"), 3, "SRS needs no role 'boss'"),
        (lambda text: text + text, 8, "approved this content as author before (line 1)"),
        (lambda text: text.replace("meaning: written", "meaning: written\n  signature: x"), 1, "unknown field"),
        (lambda text: "document: SRS\n", 1, "must be a list of approvals"),
        (lambda text: text.replace("role: author", "role: [author"), 3, "YAML"),
    ],
)
def test_a_hand_edited_approvals_file_gives_located_findings(
    repo: Path, edit: Callable[[str], str], line: int, message: str
) -> None:
    (repo / APPROVALS_FILE).write_text(edit(_ENTRY.format(digest="a" * 64)), encoding="utf-8")
    result = check(repo)
    assert result.exit_code == 1
    findings = [text for text in result.output.splitlines() if ": error A603" in text]
    assert len(findings) == 1, result.output
    assert findings[0].startswith(f"approvals.yaml:{line}:") and message in findings[0]
    counted = read_approvals(load_project(repo)).approvals
    assert len(counted) == (1 if "before" in message else 0)  # a broken entry never counts, a repeat once


def test_the_release_check_is_implied_by_the_version_tag(repo: Path) -> None:
    with (repo / "qms.yaml").open("a", encoding="utf-8") as stream:
        stream.write("roles:\n  required: [approver]\n")
    config = (repo / "qms.yaml").read_text(encoding="utf-8")
    (repo / "qms.yaml").write_text(
        config.replace("  name: Scenario Device\n", "  name: Scenario Device\n  version: 1.0.0\n")
    )
    commit(repo, "version 1.0.0")
    assert check(repo).exit_code == 0
    git(repo, "tag", "v1.0.0")
    tagged = check(repo)
    assert tagged.exit_code == 1 and tagged.output.count("A601") == len(DOCUMENTS) + 1  # and the front page


def test_roles_are_validated_and_can_differ_per_document(repo: Path) -> None:
    with (repo / "qms.yaml").open("a", encoding="utf-8") as stream:
        stream.write(
            "roles:\n  documents:\n    RMR: [author, risk_manager]\n"
            "  people:\n    - {name: Ann, email: not-an-email, roles: [author]}\n"
        )
    result = check(repo)
    assert result.exit_code == 1
    assert any(line.startswith("qms.yaml:") and "Q002" in line for line in result.output.splitlines())
    (repo / "qms.yaml").write_text(
        (repo / "qms.yaml").read_text(encoding="utf-8").replace("not-an-email", "ann@example.org")
    )
    project = load_project(repo)
    assert project.config.roles.of("RMR") == ("author", "risk_manager")
    assert project.config.roles.of("SRS") == ("author", "reviewer", "approver")
    assert approve(repo, "RMR", "--role", "risk_manager").exit_code == 1  # Ann holds only author


def test_a_signed_commit_makes_the_approval_read_as_signed(repo: Path, tmp_path: Path) -> None:
    if shutil.which("gpg") is None:
        pytest.skip("gpg is not installed")
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    env = {"GNUPGHOME": str(home)}
    subprocess.run(
        ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", "Ann Author <ann@example.org>", "default", "sign"],
        check=True,
        capture_output=True,
        env={**os.environ, **env},
    )
    approve(repo, "SRS", "--role", "author")
    commit(repo, "unsigned approval")
    approve(repo, "SRS", "--role", "reviewer")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-S", "-m", "signed approval", env=env)
    os.environ["GNUPGHOME"] = str(home)
    try:
        author, reviewer = read_approvals(load_project(repo)).approvals
    finally:
        del os.environ["GNUPGHOME"]
    assert not author.signed and author.signer is None
    assert reviewer.signed and reviewer.signer == "Ann Author <ann@example.org>"


def test_the_core_reads_approvals_without_sphinx() -> None:
    script = "import sys, qms.approvals, qms.rules\nprint('sphinx' in sys.modules, 'docutils' in sys.modules)"
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert completed.stdout.split() == ["False", "False"]


def test_the_example_has_roles_and_approvals_of_every_document_and_checks_clean() -> None:
    project = load_project(REPOSITORY)
    log = read_approvals(project, history=False)
    assert log.problems == ()
    states = document_states(project, log=log)
    for document, state in states.items():
        assert {approval.role for approval in state.approvals} >= set(state.required_roles), document
        assert state.status in ("approved", "changed")  # which one depends on later edits and test results
    assert "risk_manager" in states["RMR"].required_roles
    findings = check_project(project)
    assert not [finding for finding in findings if finding.rule.startswith("A")]


def test_appending_follows_the_indentation_the_file_has(repo: Path) -> None:
    indented = "".join(
        f"  {line}" if line.strip() else line for line in _ENTRY.format(digest="a" * 64).splitlines(True)
    )
    (repo / APPROVALS_FILE).write_text(indented, encoding="utf-8")
    assert approve(repo, "SRS", "--role", "reviewer").exit_code == 0
    approvals = read_approvals(load_project(repo)).approvals
    assert [approval.role for approval in approvals] == ["author", "reviewer"]


@pytest.mark.parametrize("text", ["document: SRS\n", "[{document: SRS}]\n", "- document: [SRS\n"])
def test_approving_into_a_file_that_is_not_a_block_list_is_refused(repo: Path, text: str) -> None:
    (repo / APPROVALS_FILE).write_text(text, encoding="utf-8")
    result = approve(repo, "SRS", "--role", "author")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "approvals.yaml" in result.output
    assert (repo / APPROVALS_FILE).read_text(encoding="utf-8") == text


@pytest.mark.parametrize("source", [REPOSITORY, BASE], ids=["example", "base"])
def test_the_digest_is_taken_over_the_canonical_json_of_what_a_document_renders(source: Path, tmp_path: Path) -> None:
    # document_digest hashes the JSON piece by piece, each item's piece once for all documents;
    # it must be the digest of the whole canonical text, or every recorded approval would break
    root = source
    if source == BASE:
        root = tmp_path / "device"
        shutil.copytree(BASE, root)
        notes = root / "items" / "needs.yaml"
        text = notes.read_text(encoding="utf-8")
        notes.write_text(text.replace("title:", 'title: "Ünïcödé ≥ 5 µU/mL “quoted” \\\\ back" #', 1), encoding="utf-8")
    project = load_project(root)
    statuses = check_context(project).statuses
    cache = DigestCache(project)
    for spec in all_documents():
        whole = json.dumps(
            document_inputs(project, spec, statuses), sort_keys=True, ensure_ascii=False, separators=(",", ":")
        )
        expected = "sha256:" + hashlib.sha256(whole.encode("utf-8")).hexdigest()
        assert document_digest(project, spec, statuses, cache) == expected, spec.id
        assert document_digest(project, spec, statuses) == expected, spec.id


def test_the_digests_taken_with_one_cache_follow_the_statuses_they_are_given() -> None:
    # what documents listing every item have alike is made once, for the statuses it was made with
    project = load_project(REPOSITORY)
    verified = check_context(project).statuses
    unverified = compute_statuses(project, None)
    cache = DigestCache(project)
    changed = []
    for spec in all_documents():
        first = document_digest(project, spec, verified, cache)
        second = document_digest(project, spec, unverified, cache)
        assert second == document_digest(project, spec, unverified), spec.id
        if first != second:
            changed.append(spec.id)
    assert {"TF", "SRS", "GAP"} <= set(changed)  # documents listing every item's status among them


def test_the_templates_a_template_names_are_kept_by_its_source_and_jinjas_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import jinja2

    root = tmp_path / "device"
    shutil.copytree(BASE, root)
    spec = next(spec for spec in DOCUMENTS if spec.id == "SRS")
    shipped = template_sources(load_project(root, cache=True), spec)
    assert set(shipped) > {spec.template}  # it extends the shipped base
    parse = approvals._referenced_templates
    parsed: list[str] = []
    monkeypatch.setattr(approvals, "_referenced_templates", lambda source: parsed.append(source) or parse(source))
    assert template_sources(load_project(root, cache=True), spec) == shipped
    assert parsed == []  # kept from the run before
    templates = root / "_templates"
    templates.mkdir()
    (templates / "extra.rst.jinja").write_text("Extra\n", encoding="utf-8")
    (templates / spec.template).write_text(
        shipped[spec.template] + '\n{% include "extra.rst.jinja" %}\n', encoding="utf-8"
    )
    assert "extra.rst.jinja" in template_sources(load_project(root, cache=True), spec)  # its new source is read
    parsed.clear()
    monkeypatch.setattr(jinja2, "__version__", "0.0")
    assert "extra.rst.jinja" in template_sources(load_project(root, cache=True), spec)
    assert parsed  # another Jinja parses them again


def test_what_items_state_is_kept_by_their_files_and_the_digests_stay_those_of_the_whole_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "device"
    shutil.copytree(BASE, root)
    made: list[str] = []
    stated = approvals._stated_text
    monkeypatch.setattr(approvals, "_stated_text", lambda item: made.append(item.id) or stated(item))

    def digests() -> dict[str, str]:
        made.clear()
        project = load_project(root, cache=True)
        statuses = check_context(project).statuses
        cache = DigestCache(project)
        taken = {spec.id: document_digest(project, spec, statuses, cache) for spec in all_documents()}
        cache.save()
        for spec in all_documents():
            whole = json.dumps(
                document_inputs(project, spec, statuses), sort_keys=True, ensure_ascii=False, separators=(",", ":")
            )
            assert taken[spec.id] == "sha256:" + hashlib.sha256(whole.encode("utf-8")).hexdigest(), spec.id
        return taken

    first = digests()
    assert "NEED-1" in made and "SWR-1" in made
    assert digests() == first and made == []  # every item's text kept by its file's bytes

    # one file edited: its items are made again, the others' kept; here another file also writes an
    # item of an id the edited file has, and the first file's (needs.yaml) is shown
    requirements = root / "items" / "requirements.yaml"
    requirements.write_text(requirements.read_text(encoding="utf-8").replace("Display", "Show", 1), encoding="utf-8")
    needs = root / "items" / "needs.yaml"
    original = needs.read_text(encoding="utf-8")
    duplicate = "  - id: SWR-1\n    kind: software_requirement\n    title: Another of that id\n    text: Here.\n"
    needs.write_text(original.replace("items:\n", "items:\n" + duplicate), encoding="utf-8")
    edited = digests()
    assert edited != first and sorted(made) == ["NEED-1", "RCR-1", "SWR-1", "SYS-1"]

    # the other item of that id goes: requirements.yaml's is shown, which its kept texts do not hold
    needs.write_text(original, encoding="utf-8")
    assert digests() != edited and sorted(made) == ["NEED-1", "SWR-1"]
