"""``qms approve DOC-ID... --role ROLE``: record an approval of documents, bound to their current
content digest, in ``approvals.yaml`` (ISO 13485 4.2.4, ISO 14971 9)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from qms.approvals import (
    APPROVALS_FILE,
    Approval,
    ApprovalsFileError,
    all_documents,
    append_approvals,
    document_digest,
    meaning_of,
    open_findings,
    read_approvals,
)
from qms.checking import check_context
from qms.cli.common import EXIT_FINDINGS, fail, load, project_option, say, writing
from qms.config import Person
from qms.documents import DocumentSpec, find_document
from qms.gitinfo import user_setting
from qms.model import Project
from qms.rules import run_rules
from qms.terminal import plural

#: How many of a document's open findings a refusal lists.
_SHOWN = 5


def _documents(names: tuple[str, ...]) -> list[DocumentSpec]:
    specs: list[DocumentSpec] = []
    for name in names:
        spec = find_document(name)
        if spec is None:
            known = ", ".join(spec.id for spec in all_documents())
            fail(f"no document {name!r}: the documents are {known}")
        elif spec not in specs:
            specs.append(spec)
    return specs


def _person(project: Project, name: str | None, role: str) -> Person:
    """Who approves: ``--as NAME``, else git's user; one of ``roles.people`` when the project names them."""
    roles = project.config.roles
    email = user_setting(project.root, "user.email")
    if not roles.people:
        who = name or user_setting(project.root, "user.name")
        if not who or not email:
            fail("who approves? set git's user.name and user.email (git config), or name yourself with --as")
        assert who is not None and email is not None
        return Person(who, email, (role,))
    person = roles.person(name) if name else (roles.person(email) if email else None)
    if person is None and not name:
        person = roles.person(user_setting(project.root, "user.name") or "")
    if person is None:
        people = ", ".join(person.name for person in roles.people)
        asked = f"{name!r} is" if name else f"git's user ({email or 'user.email unset'}) is"
        fail(f"{asked} not one of the people in roles.people of qms.yaml ({people}); use --as NAME")
    assert person is not None
    if role not in person.roles:
        fail(
            f"{person.name} does not hold the role {role} (holds: {', '.join(person.roles)}; roles.people in qms.yaml)",
            code=EXIT_FINDINGS,
        )
    return person


@click.command()
@project_option
@click.argument("documents", nargs=-1, required=True, metavar="DOC-ID...")
@click.option("--role", required=True, metavar="ROLE", help="The role you approve in (roles in qms.yaml).")
@click.option("--as", "name", metavar="NAME", help="Who approves (roles.people). Default: git's user.")
@click.option("--meaning", metavar="TEXT", help='What the signature means. Default by role: "approved for release"...')
@click.option(
    "--with-findings",
    is_flag=True,
    help="Approve although the document has open error findings; they are recorded with the approval.",
)
def approve(
    project_dir: Path | None,
    documents: tuple[str, ...],
    role: str,
    name: str | None,
    meaning: str | None,
    with_findings: bool,
) -> None:
    """Approve documents of the technical file in a role: records who, when, the meaning, and the
    document's content digest in approvals.yaml. Commit it (signed: git commit -S)."""
    project = load(project_dir)
    specs = _documents(documents)
    for spec in specs:
        needed = project.config.roles.of(spec.id)
        if role not in needed:
            fail(f"{spec.id} needs no role {role!r}: its roles are {', '.join(needed)} (roles in qms.yaml)")
    person = _person(project, name, role)
    log = read_approvals(project, history=False)
    context = check_context(project)
    findings = run_rules(context)
    now = datetime.now().astimezone().replace(microsecond=0).isoformat()
    new: list[Approval] = []
    for spec in specs:
        digest = document_digest(project, spec, context.statuses)
        earlier = next(
            (
                approval
                for approval in log.of(spec.id)
                if approval.role == role
                and approval.digest == digest
                and approval.email.casefold() == person.email.casefold()
            ),
            None,
        )
        if earlier is not None:
            fail(
                f"{person.name} approved {spec.id} as {role} already, on {earlier.at[:10]} "
                f"({APPROVALS_FILE}:{earlier.location.line}); its content has not changed since",
                code=EXIT_FINDINGS,
            )
        open_ = open_findings(spec, project, findings)
        if open_ and not with_findings:
            listed = "\n".join(f"  {finding.location}: {finding.rule} {finding.message}" for finding in open_[:_SHOWN])
            more = f"\n  ... and {len(open_) - _SHOWN} more (qms check)" if len(open_) > _SHOWN else ""
            fail(
                f"{spec.id} has {plural(len(open_), 'open error finding')}:\n{listed}{more}\n"
                "fix them, or approve with --with-findings to record that you accept them",
                code=EXIT_FINDINGS,
            )
        new.append(
            Approval(
                document=spec.id,
                role=role,
                name=person.name,
                email=person.email,
                at=now,
                meaning=meaning or meaning_of(role),
                digest=digest,
                findings=tuple(f"{finding.rule} {finding.item or finding.location}" for finding in open_),
            )
        )
    try:
        with writing(project.root / APPROVALS_FILE):
            path = append_approvals(project.root, new)
    except ApprovalsFileError as error:
        fail(str(error), code=EXIT_FINDINGS)
        return
    for approval in new:
        accepted = f", accepting {len(approval.findings)} open findings" if approval.findings else ""
        say(
            f"approved {approval.document} as {role}: {approval.name} <{approval.email}>, "
            f"{approval.digest[:19]}{accepted}"
        )
    say(f"recorded in {path.relative_to(project.root)}: commit it (git commit -S to sign the approval)")


commands = (approve,)
