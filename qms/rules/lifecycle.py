"""L rules: the life-cycle records are complete: problem reports, change requests, design reviews,
detailed design and segregation (IEC 62304 5.3.5, 5.4, 5.5.3, 6.2, 8.2, 9; ISO 13485 7.3.5, 7.3.9)."""

from __future__ import annotations

from collections.abc import Iterator

from qms.diff import DiffError
from qms.lifecycle import (
    CARRIED_OUT_CHANGE,
    SETTLED_PROBLEM,
    closing_reviews,
    design_stages,
    effective_class,
    inherited_class,
)
from qms.model import Item
from qms.rules.registry import CheckContext, Hit, rule, written
from qms.schema import SAFETY_CLASSES


def _missing(item: Item, names: tuple[str, ...]) -> list[str]:
    return [name for name in names if not written(item, name)]


@rule("L701")
def problem_report_incomplete(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    for problem in project.of_kind("problem_report"):
        if problem.get("status") not in SETTLED_PROBLEM:
            continue
        missing = [f"`{name}`" for name in _missing(problem, ("investigation", "safety_relevance"))]
        resolved_by = project.incoming(problem.id, "resolves", "change_request")
        if not resolved_by and not written(problem, "no_action_rationale"):
            missing.append("a change request that `resolves` it or a `no_action_rationale`")
        if resolved_by and not written(problem, "verification"):
            missing.append("the `verification` of the fix")
        if missing:
            status = problem.get("status")
            yield Hit.at(problem, f"is {status} but lacks {'; '.join(missing)} (IEC 62304 9.2, 9.7)", ("status",))


@rule("L702")
def change_request_incomplete(context: CheckContext) -> Iterator[Hit]:
    for request in context.project.of_kind("change_request"):
        status = request.get("status")
        if status not in ("approved", *CARRIED_OUT_CHANGE):
            continue
        missing = _missing(request, ("impact", "risk_analysis", "approved_by", "approved_on"))
        if missing:
            lacks = ", ".join(f"`{name}`" for name in missing)
            yield Hit.at(request, f"is {status} but lacks {lacks} (IEC 62304 6.2.3, 6.2.4, 7.4)", ("status",))


@rule("L703", at_release=True)
def change_without_request(context: CheckContext) -> Iterator[Hit]:
    diff = context.release_diff
    if diff is None:
        yield from _baseline_not_named(context)
        return
    config = context.project.config
    if isinstance(diff, DiffError):
        yield Hit(f"cannot compare with the previous release: {diff}", config.location(("release", "previous")))
        return
    previous = diff.base.label
    for item_id in diff.without_request:
        item = context.project.items.get(item_id)
        if item is None:
            yield Hit(
                f"{item_id} was removed since {previous} but no change request lists it in `retires`",
                config.location(("release", "previous")),
                item_id,
            )
        else:
            verb = "added" if item_id not in diff.base.project.items else "changed"
            yield Hit.at(item, f"{verb} since {previous} but no change request lists it in `changes` (IEC 62304 8.2)")


def _baseline_not_named(context: CheckContext) -> Iterator[Hit]:
    """At a release whose change requests carry changes into it: no previous release to compare
    with, and no statement why there is none."""
    project = context.project
    config = project.config
    if not context.release or config.previous_release is not None or config.no_baseline is not None:
        return
    version = config.device.version
    carried = [request.id for request in project.of_kind("change_request") if request.get("release") == version]
    if not carried:
        return
    named = ", ".join(carried[:3]) + (f" and {len(carried) - 3} more" if len(carried) > 3 else "")
    where = ("release",) if ("release",) in config.positions else ("device", "version")
    yield Hit(
        f"change requests carry changes into {version} ({named}) but no previous release is named to compare "
        "them with: set `release: {previous: TAG}` to check that every change has its request, or state in "
        "`release: {no_baseline: ...}` why the history holds no previous release (IEC 62304 8.2.4)",
        config.location(where),
    )


@rule("L704", at_release=True)
def design_stage_not_reviewed(context: CheckContext) -> Iterator[Hit]:
    if not context.release:
        return
    project = context.project
    for stage in design_stages(project.config):
        if not closing_reviews(project, stage.name):
            yield Hit(
                f"design stage '{stage.name}' ({stage.title}) has no design review that approved it: "
                f"record one with `stage: {stage.name}` (ISO 13485 7.3.5)",
                stage.location,
            )


@rule("L705")
def design_review_unknown_stage(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    names = [stage.name for stage in design_stages(project.config)]
    declared = f"one of {', '.join(names)}" if names else "declared in qms.yaml `design_stages` (none is)"
    for review in project.of_kind("design_review"):
        stage = review.get("stage")
        if isinstance(stage, str) and stage not in names:
            yield Hit.at(review, f"stage '{stage}' is not a design stage: it must be {declared}", ("stage",))


@rule("L706")
def unit_not_verified(context: CheckContext) -> Iterator[Hit]:
    for unit in context.project.of_kind("software_unit"):
        status = context.statuses.of(unit.id)
        if status is None or not (status.tests or status.results):
            yield Hit.at(unit, "no test verifies it: its acceptance criteria are not shown to be met (IEC 62304 5.5.5)")


@rule("L707", at_release=True)
def no_detailed_design(context: CheckContext) -> Iterator[Hit]:
    if not context.release:
        return
    project = context.project
    for item in project.of_kind("software_item"):
        if effective_class(project, item) != "C" or project.incoming(item.id, "parent"):
            continue
        yield Hit.at(item, "is class C but has no software unit: add its detailed design (IEC 62304 5.4.2)")


@rule("L708")
def segregation_not_declared(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    for item in project.of_kind("software_item"):
        own = item.get("safety_class")
        if own not in SAFETY_CLASSES:
            continue
        above = inherited_class(project, item)
        if own >= above:
            continue
        missing = _missing(item, ("segregation", "segregated_from"))
        if missing:
            yield Hit.at(
                item,
                f"claims class {own} below the class {above} it would inherit, without "
                f"{' and '.join(f'`{name}`' for name in missing)} (IEC 62304 5.3.5)",
                ("safety_class",),
            )
