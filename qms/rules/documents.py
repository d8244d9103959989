"""A rules: documents and approvals (ISO 13485 4.2.4: documents approved before issue and changes
re-approved; ISO 14971 9: the risk management report signed off).

During development a document is a draft or has changed since its last approval: that is the
normal state of work, which the document-control block shows and no check fails on. At a release
(``qms check --release``, or a commit tagged with ``device.version``) every document must be
approved in every role it needs (A601, A602). A broken ``approvals.yaml`` entry is an error at
any time (A603): an approval that does not read as one must never count.
"""

from __future__ import annotations

from collections.abc import Iterator

from qms.approvals import APPROVALS_FILE, DocumentState
from qms.model import Location
from qms.rules import CheckContext, Hit, rule

#: How many changed items a finding names before "and N more".
_NAMED = 8


def _where(state: DocumentState) -> Location:
    """An approval of the document, the newest, or the approvals file."""
    return state.approvals[-1].location if state.approvals else Location(APPROVALS_FILE)


def _approve(state: DocumentState) -> str:
    roles = " / ".join(state.missing_roles)
    return f"review it, then `qms approve {state.id} --role ROLE` for {roles}"


@rule(
    "A601",
    "document-not-approved",
    "release with a document that was never approved in every role it needs",
    """
A document of the technical file is issued with a release: ISO 13485 4.2.4 asks that it is reviewed
and approved before issue, by the roles the quality system names (`roles` in qms.yaml; by default
author, reviewer and approver), and ISO 14971 9 asks for the risk management report's sign-off.
This finding lists each document that no complete set of roles ever approved (a draft).

It is reported only for a release check: `qms check --release`, or `qms check` on a commit that
carries the tag of `device.version` (2.1.0 or v2.1.0). During development drafts are normal and
the document-control block of each page shows the state.

Approve with `qms approve DOC-ID --role ROLE` (once per role), then commit approvals.yaml
(signed: `git commit -S`). Default severity is error for every class: a release with unapproved
documents has not issued them.
""",
)
def document_not_approved(context: CheckContext) -> Iterator[Hit]:
    if not context.release:
        return
    for state in context.documents.values():
        if state.status == "draft":
            yield Hit(f"{state.id} {state.title} is not approved: {_approve(state)}", _where(state))


@rule(
    "A602",
    "document-changed-since-approval",
    "release with a document whose content changed since it was approved",
    """
An approval covers the document's content digest: its templates, the items it shows with their
fields and links, the configuration it shows and the verification statuses it prints. When any of
these changes, the approval no longer speaks for what the document says (ISO 13485 4.2.4: changes
are reviewed and approved again). The finding names the document, the approval it moved on from,
and the items and files that changed since that approval's commit, with who changed them (from
git); when none of these changed, the verification results it prints did, or the approval's digest
was edited by hand and matches no state the document had.

Reported only for a release check (`qms check --release`, or a commit tagged with
`device.version`): between releases a document changes as work goes on, and its page shows
"changed since approval". Review the changes, then `qms approve DOC-ID --role ROLE` again for each
role. Default severity is error for every class.
""",
)
def document_changed(context: CheckContext) -> Iterator[Hit]:
    if not context.release:
        return
    for state in context.documents.values():
        if state.status != "changed":
            continue
        basis = state.basis
        approval = f"the approval by {basis.name} as {basis.role} on {basis.at[:10]}" if basis else "its approval"
        if state.changed_items:
            named = "; ".join(change.summary for change in state.changed_items[:_NAMED])
            more = len(state.changed_items) - _NAMED
            changes = f"changed: {named}" + (f"; and {more} more" if more > 0 else "")
        elif basis is not None and basis.commit is None:
            changes = "git cannot tell what changed (the approval is not committed, or the project is not in git)"
        else:
            changes = (
                "no item, template or configuration of the project that it shows changed in git since: "
                "the verification results it prints or qms's own templates changed, or the digest was "
                "edited by hand"
            )
        yield Hit(
            f"{state.id} {state.title} changed since {approval}: {changes}; {_approve(state)}",
            basis.location if basis is not None else _where(state),
        )


@rule(
    "A603",
    "approval-entry-invalid",
    "an entry of approvals.yaml that does not read as an approval",
    """
`approvals.yaml` is written by `qms approve` and only ever appended to. An entry that is missing a
field (document, digest, role, name, email, at, meaning), names a document or role that does not
exist, names a person who does not hold the role (`roles.people` in qms.yaml), has a date-time
without a time zone or a digest not in the form `qms approve` writes, or repeats an earlier
approval, does not count as an approval: an approval must say exactly who approved which content,
when, and in which role.

Fix the entry by hand only to repair such a mistake, and record the reason in the commit message;
otherwise remove it and approve again with `qms approve`. Default severity is error for every
class, at any time.
""",
)
def approval_entry_invalid(context: CheckContext) -> Iterator[Hit]:
    for problem in context.approvals.problems:
        yield Hit(problem.message, problem.location)
