"""C rules: change control of the trace links (IEC 62304 5.1.9, 6.2, 7.4, 8.2; ISO 13485 7.3.9)."""

from __future__ import annotations

from collections.abc import Iterator

from qms.rules import CheckContext, Hit, rule


@rule(
    "C501",
    "suspect-link",
    "suspect link: the linked item changed since the link was last reviewed",
    """
Every trace link is reviewed against what its target said at the time, and the review is
stamped in `qms.lock` (one line per link with a digest of the target's content). When the
target's content changes (its text, title, severity... any field but its own links and `x-`
fields; not whitespace, comments or layout), each link pointing at it becomes suspect: the
requirement derived from it, the software item implementing it, the test verifying it and the
hazard it controls may no longer hold. Check that the linking item still holds against the
changed target (edit it if not), then stamp the review: `qms review SOURCE` for the links from
one item, `qms review TARGET` for every link to the changed item, `qms review --all` for all.
Commit `qms.lock` with the change. The message names who last changed the target and when,
where git can tell. A link added after the last review is reported the same way until it is
reviewed.

A project without `qms.lock` has not started change control and gets no C501 finding:
`qms review --all` starts it (`qms init` does so for new projects).

Default severity is error: a change whose impact nobody reviewed must block a release (IEC 62304
7.4 asks for the safety impact of every change). Set `C501: warning` to see suspect links
without failing the check while a change is in progress.
""",
)
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
