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
from qms.rules.registry import CheckContext, Hit, rule

#: How many changed items a finding names before "and N more".
_NAMED = 8


def _where(state: DocumentState) -> Location:
    """An approval of the document, the newest, or the approvals file."""
    return state.approvals[-1].location if state.approvals else Location(APPROVALS_FILE)


def _approve(state: DocumentState) -> str:
    roles = " / ".join(state.missing_roles)
    return f"review it, then `qms approve {state.id} --role ROLE` for {roles}"


@rule("A601", at_release=True)
def document_not_approved(context: CheckContext) -> Iterator[Hit]:
    if not context.release:
        return
    for state in context.documents.values():
        if state.status == "draft":
            yield Hit(f"{state.id} {state.title} is not approved: {_approve(state)}", _where(state))


@rule("A602", at_release=True)
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


@rule("A603")
def approval_entry_invalid(context: CheckContext) -> Iterator[Hit]:
    for problem in context.approvals.problems:
        yield Hit(problem.message, problem.location)
