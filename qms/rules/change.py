"""C rules: change control of the trace links (IEC 62304 5.1.9, 6.2, 7.4, 8.2; ISO 13485 7.3.9)."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from qms.model import Link, Location, Project
from qms.parsecache import project_memo
from qms.review import LOCK_FILE, target_digests
from qms.rules.registry import PROJECT_MEMOS, CheckContext, Hit, rule
from qms.terminal import plural


@rule("C501", at_release=True)
def suspect_link(context: CheckContext) -> Iterator[Hit]:
    reviews = context.reviews
    if reviews is None or not reviews.exists:
        return
    for problem in reviews.problems:
        yield Hit(problem.message, problem.location())
    project = context.project
    suspects = reviews.suspect_links(project, _target_digests(project))
    yield from _changed_targets(context, [suspect.link for suspect in suspects if not suspect.never_reviewed])
    new = [suspect.link for suspect in suspects if suspect.never_reviewed]
    if project.config.review_new_links:
        yield from _unreviewed_sources(new)
    elif context.release and new:
        yield Hit(
            f"{plural(len(new), 'link')} never reviewed ({_some(new)}): a release stamps every link; "
            "review them, then run `qms review --all`",
            Location(LOCK_FILE, 1, 1),
        )


def _target_digests(project: Project) -> dict[str, str]:
    """The digest of each link target, kept by the project's fingerprint."""
    return project_memo(project, "digests", partial(target_digests, project), dict, _digests)


def _lock_digests(project: Project) -> None:
    """:func:`_target_digests` where the project has a ``qms.lock`` (the only case that asks)."""
    if (project.root / LOCK_FILE).is_file():
        _target_digests(project)


PROJECT_MEMOS.append(_lock_digests)


def _digests(data: object, _: str) -> dict[str, str]:
    """The digests a cache entry holds (ValueError where it holds anything else)."""
    if not isinstance(data, dict) or not all(type(key) is str and type(value) is str for key, value in data.items()):
        raise ValueError("not a table of digests")
    return data


def _changed_targets(context: CheckContext, links: list[Link]) -> Iterator[Hit]:
    """One finding per changed target: the items linking to it and the one command that clears them."""
    project = context.project
    by_target: dict[str, list[Link]] = {}
    for link in links:
        by_target.setdefault(link.target, []).append(link)
    changes = context.reviews.latest_changes(project, by_target) if context.reviews is not None else {}
    for target, linking in by_target.items():
        change = changes.get(target)
        when = f" ({change.summary})" if change is not None else ""
        sources = _join(sorted({link.source for link in linking}))
        yield Hit(
            f"suspect links: {target} changed since the links to it were last reviewed{when}; "
            f"check that {sources} still {'hold' if ' and ' in sources else 'holds'}, then run `qms review {target}`",
            project.items[target].location(),
            target,
        )


def _unreviewed_sources(links: list[Link]) -> Iterator[Hit]:
    """With ``review_new_links``: one finding per item whose links were never reviewed."""
    by_source: dict[str, list[Link]] = {}
    for link in links:
        by_source.setdefault(link.source, []).append(link)
    for source, own in by_source.items():
        written = _join([f"{link.field} {link.target}" for link in own])
        yield Hit(
            f"{plural(len(own), 'link')} not reviewed yet ({written}): check, then run `qms review {source}`",
            own[0].location,
            source,
        )


def _join(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _some(links: list[Link], shown: int = 3) -> str:
    """The first few links, as ``SOURCE FIELD TARGET``."""
    names = [f"{link.source} {link.field} {link.target}" for link in links[:shown]]
    return ", ".join(names) + (f" and {len(links) - shown} more" if len(links) > shown else "")
