"""S rules: SOUP identified, its anomalies evaluated, and actually used (IEC 62304 8.1.2, 7.1.3)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from qms.rules.registry import CheckContext, Hit, rule, written


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


#: Ways a version names more than one release: a range (11-14, 1.2 to 1.4), a comparison (>=2.0,
#: ^1.2, ~1.2), a wildcard (1.x, 2.*), "2.0+", or words such as "or later" and "latest".
_NOT_UNIQUE = re.compile(
    r"(?<![\d.-])\d+(?:\.\d+)*\s*(?:-|\u2013|\bto\b)\s*\d+(?:\.\d+)*(?![\d.-])"
    r"|[<>]=?\s*\d[\w.]*|[~^]\s*\d[\w.]*|\d\.[x*](?![a-z])|(?<=\d)\+|(?<![\w.])\*(?![\w.])"
    r"|\b(?:or|and)\s+(?:later|newer|above|higher|up)\b|\blatest\b",
    re.IGNORECASE,
)


def version_ranges(version: str) -> list[str]:
    """The parts of a SOUP version that name more than one release (a date such as 2024-01-15 names one)."""
    return [found.group(0) for found in _NOT_UNIQUE.finditer(version)]


@rule("S304")
def soup_version_not_unique(context: CheckContext) -> Iterator[Hit]:
    for soup in context.project.of_kind("soup"):
        version = soup.get("version")
        if not isinstance(version, str):
            continue
        parts = version_ranges(version)
        if parts:
            named = ", ".join(f"'{part}'" for part in parts)
            yield Hit.at(soup, f"version names more than one release ({named}): pin one release", ("version",))
