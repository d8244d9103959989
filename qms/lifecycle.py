"""Life-cycle records read together: the design plan's stages and the reviews closing them, each
item's effective safety class, and the change requests behind each change since a release
(IEC 62304 4.3, 5.3.5, 8.2; ISO 13485 7.3.2, 7.3.5, 7.3.9)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from qms.config import ProjectConfig
from qms.model import Item, Location, Project
from qms.schema import LIFECYCLE_RECORD_KINDS, SAFETY_CLASSES

#: Outcomes of a design review that close its stage.
CLOSING_OUTCOMES = ("approved", "approved_with_actions")
#: Statuses of a problem report whose investigation is over.
SETTLED_PROBLEM = ("resolved", "closed")
#: Statuses of a change request that has been carried out.
CARRIED_OUT_CHANGE = ("implemented", "verified")


@dataclass(frozen=True, slots=True)
class DesignStage:
    """One stage of the design plan (``design_stages`` in ``qms.yaml``)."""

    name: str
    title: str
    review: str
    clauses: str
    location: Location


def design_stages(config: ProjectConfig) -> tuple[DesignStage, ...]:
    """The stages the plan declares, in order (entries the schema refused are left out: Q002 names them)."""
    entries = config.raw.get("design_stages")
    if not isinstance(entries, list):
        return ()
    stages = []
    for index, entry in enumerate(entries):
        if isinstance(entry, Mapping) and all(isinstance(entry.get(key), str) for key in ("name", "title", "review")):
            clauses = entry.get("clauses")
            stages.append(
                DesignStage(
                    entry["name"],
                    entry["title"],
                    entry["review"],
                    clauses if isinstance(clauses, str) else "",
                    config.location(("design_stages", index)),
                )
            )
    return tuple(stages)


def closing_reviews(project: Project, stage: str) -> tuple[Item, ...]:
    """The design reviews that close ``stage``: those of the stage whose outcome is not a rejection."""
    return tuple(
        review
        for review in project.of_kind("design_review")
        if review.get("stage") == stage and review.get("outcome") in CLOSING_OUTCOMES
    )


def effective_class(project: Project, item: Item) -> str:
    """An item's software safety class: its own, else its parent's (IEC 62304 4.3 d), else the system's."""
    seen: set[str] = set()
    current: Item | None = item
    while current is not None and current.id not in seen:
        seen.add(current.id)
        own = current.get("safety_class")
        if own in SAFETY_CLASSES:
            return str(own)
        parents = current.links("parent")
        current = project.items.get(parents[0]) if parents else None
    return project.config.safety_class


def inherited_class(project: Project, item: Item) -> str:
    """The class an item would have without its own ``safety_class``: its parent's, else the system's."""
    parents = item.links("parent")
    parent = project.items.get(parents[0]) if parents else None
    return effective_class(project, parent) if parent is not None else project.config.safety_class


def needs_change_request(item: Item) -> bool:
    """Whether a change to the item must be covered by a change request (records about changes need none)."""
    return item.kind not in LIFECYCLE_RECORD_KINDS


def change_requests_by_item(project: Project) -> dict[str, tuple[str, ...]]:
    """For each item id a change request changes or retires, the ids of those change requests."""
    found: dict[str, list[str]] = {}
    for request in project.of_kind("change_request"):
        for item_id in (*request.links("changes"), *_strings(request.get("retires"))):
            found.setdefault(item_id, []).append(request.id)
    return {item_id: tuple(dict.fromkeys(ids)) for item_id, ids in found.items()}


def problem_trend(problems: Iterable[Item]) -> dict[str, Any]:
    """The trend summary of IEC 62304 9.6: problem reports per month, by source, criticality and status."""
    reports = list(problems)
    months = Counter(str(report.get("date") or "")[:7] or "undated" for report in reports)
    return {
        "total": len(reports),
        "by_month": dict(sorted(months.items())),
        "by_source": dict(Counter(str(report.get("source")) for report in reports)),
        "by_criticality": dict(Counter(str(report.get("criticality")) for report in reports)),
        "by_status": dict(Counter(str(report.get("status")) for report in reports)),
    }


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(entry for entry in value if isinstance(entry, str))
    return ()
