"""S rules: SOUP identified, its anomalies evaluated, and actually used (IEC 62304 8.1.2, 7.1.3)."""

from __future__ import annotations

from collections.abc import Iterator

from qms.rules import CheckContext, Hit, rule, written


@rule("S301")
def soup_not_identified(context: CheckContext) -> Iterator[Hit]:
    for soup in context.project.of_kind("soup"):
        missing = [name for name in ("version", "supplier") if not written(soup, name)]
        if missing:
            yield Hit.at(soup, f"has no {' and no '.join(missing)}: IEC 62304 8.1.2 asks for a version and a supplier")


@rule("S302")
def soup_anomalies_not_evaluated(context: CheckContext) -> Iterator[Hit]:
    for soup in context.project.of_kind("soup"):
        if not written(soup, "known_anomalies"):
            yield Hit.at(soup, "has no known_anomalies evaluation for this version")


@rule("S303")
def soup_unused(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    for soup in project.of_kind("soup"):
        if not project.incoming(soup.id, "uses", "software_item"):
            yield Hit.at(soup, "not used by any software item")
