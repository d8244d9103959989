"""C rules: change control of the trace links (IEC 62304 5.1.9, 6.2, 7.4, 8.2; ISO 13485 7.3.9)."""

from __future__ import annotations

from collections.abc import Iterator

from qms.rules import CheckContext, Hit, rule


@rule("C501")
def suspect_link(context: CheckContext) -> Iterator[Hit]:
    reviews = context.reviews
    if reviews is None or not reviews.exists:
        return
    for problem in reviews.problems:
        yield Hit(problem.message, problem.location())
    project = context.project
    suspects = reviews.suspect_links(project)
    changed_targets = {suspect.link.target for suspect in suspects if not suspect.never_reviewed}
    changes = reviews.latest_changes(project, changed_targets)
    for suspect in suspects:
        link = suspect.link
        if suspect.never_reviewed:
            message = (
                f"link {link.field} {link.target} has not been reviewed yet: "
                f"check it, then run `qms review {link.source}`"
            )
        else:
            change = changes.get(link.target)
            when = f" ({change.summary})" if change is not None else ""
            message = (
                f"suspect link: {link.target} changed since this {link.field} link was last reviewed{when}; "
                f"check that {link.source} still holds, then run `qms review {link.source}`"
            )
        yield Hit(message, link.location, link.source)
