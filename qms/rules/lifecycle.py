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
from qms.rules import CheckContext, Hit, rule, written
from qms.schema import SAFETY_CLASSES


def _missing(item: Item, names: tuple[str, ...]) -> list[str]:
    return [name for name in names if not written(item, name)]


@rule(
    "L701",
    "problem-report-incomplete",
    "closed problem report without investigation, safety relevance, resolution or verification",
    """
IEC 62304 9.2 asks that each problem is investigated, its relevance to safety evaluated through
the risk management process, and either a change request raised or the decision to take no
action justified; 9.7 asks that the resolution is verified. Once a problem report's `status` is
resolved or closed it needs `investigation`, `safety_relevance`, a change request that
`resolves` it or a `no_action_rationale`, and, when a change request resolves it, the
`verification` of the fix.
""",
)
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


@rule(
    "L702",
    "change-request-incomplete",
    "change request without impact or risk analysis, or carried out without approval",
    """
IEC 62304 6.2.3 asks for the effect of each change request on the organisation, the released
software and the systems it interfaces with (`impact`); 7.4.1 and 7.4.2 for its safety
analysis: new causes of hazardous situations and its effect on existing risk controls
(`risk_analysis`, with the `hazards` and `controls_changed` it names); 6.2.4 and ISO 13485 7.3.9
for its approval before it is carried out (`approved_by`, `approved_on`). A change request whose
`status` is approved, implemented or verified needs all of these; a proposed one needs the
impact and risk analysis only once it is put up for approval, so it is not reported.
""",
)
def change_request_incomplete(context: CheckContext) -> Iterator[Hit]:
    for request in context.project.of_kind("change_request"):
        status = request.get("status")
        if status not in ("approved", *CARRIED_OUT_CHANGE):
            continue
        missing = _missing(request, ("impact", "risk_analysis", "approved_by", "approved_on"))
        if missing:
            lacks = ", ".join(f"`{name}`" for name in missing)
            yield Hit.at(request, f"is {status} but lacks {lacks} (IEC 62304 6.2.3, 6.2.4, 7.4)", ("status",))


@rule(
    "L703",
    "change-without-request",
    "item changed since the previous release that no change request lists (class B, C)",
    """
IEC 62304 8.2.1 lets a configuration item change only through an approved change request, and
8.2.4 asks that each change can be traced to its request. With `release: {previous: TAG}` in
qms.yaml, every item added, changed or removed since that tag (what `qms diff` lists) must be
named by a change request: in its `changes` (added or changed items) or `retires` (removed
items). Problem reports, change requests and design reviews are records of the process and need
none. Fix: list the item in the change request that changed it, or raise one.

The check needs git and the previous release's tag; without them (or without `release:
previous`) it reports nothing, and when the tag cannot be read it says so here.
""",
    classes=("B", "C"),
)
def change_without_request(context: CheckContext) -> Iterator[Hit]:
    diff = context.release_diff
    if diff is None:
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


@rule(
    "L704",
    "design-stage-not-reviewed",
    "release with a design stage that no design review closed",
    """
ISO 13485 7.3.2 asks the design plan to name the stages of design and development and the review
at each; 7.3.5 asks for a record of each review. The stages are `design_stages` in qms.yaml; a
`design_review` item with `stage: NAME` and an outcome of approved or approved_with_actions
closes one. A stage no such review closes is reported for a release check (`qms check
--release`, or a commit tagged with `device.version`): during development, later stages are
naturally still open.
""",
)
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


@rule(
    "L705",
    "design-review-unknown-stage",
    "design review of a stage the design plan does not declare",
    """
A design review closes a stage of the design plan (ISO 13485 7.3.2, 7.3.5): its `stage` must
name one of `design_stages` in qms.yaml, or the review closes nothing. Fix the stage name, or
declare the stage in qms.yaml.
""",
)
def design_review_unknown_stage(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    names = [stage.name for stage in design_stages(project.config)]
    declared = f"one of {', '.join(names)}" if names else "declared in qms.yaml `design_stages` (none is)"
    for review in project.of_kind("design_review"):
        stage = review.get("stage")
        if isinstance(stage, str) and stage not in names:
            yield Hit.at(review, f"stage '{stage}' is not a design stage: it must be {declared}", ("stage",))


@rule(
    "L706",
    "unit-not-verified",
    "software unit that no test verifies (class B, C)",
    """
IEC 62304 5.5.3 and 5.5.5 (classes B and C) ask that each software unit meets its acceptance
criteria and that its verification is recorded. A `software_unit` needs a test item that
`verifies` it, or a test result that names it (`@pytest.mark.verifies("SU-...")`).
""",
    classes=("B", "C"),
)
def unit_not_verified(context: CheckContext) -> Iterator[Hit]:
    for unit in context.project.of_kind("software_unit"):
        status = context.statuses.of(unit.id)
        if status is None or not (status.tests or status.results):
            yield Hit.at(unit, "no test verifies it: its acceptance criteria are not shown to be met (IEC 62304 5.5.5)")


@rule(
    "L707",
    "no-detailed-design",
    "release with a class C software item that has neither sub-items nor software units (class C)",
    """
IEC 62304 5.4.2 and 5.4.3 ask, for class C, for a detailed design of each software unit and of
its interfaces. A class C software item at the bottom of the architecture (no item names it as
`parent`) needs at least one `software_unit` with `parent` naming it. The item's class is its own
`safety_class`, else its parent's, else the system's.

It is reported for a release check (`qms check --release`, or a commit tagged with
`device.version`; IEC 62304 5.8.6: every planned activity complete): while the design is worked
out, items without units yet are normal.
""",
    classes=("C",),
)
def no_detailed_design(context: CheckContext) -> Iterator[Hit]:
    if not context.release:
        return
    project = context.project
    for item in project.of_kind("software_item"):
        if effective_class(project, item) != "C" or project.incoming(item.id, "parent"):
            continue
        yield Hit.at(item, "is class C but has no software unit: add its detailed design (IEC 62304 5.4.2)")


@rule(
    "L708",
    "segregation-not-declared",
    "software item classed below its parent without declared segregation (class C)",
    """
A software item may have a lower safety class than the item it belongs to only when it is
segregated from the items that could make it contribute to a hazardous situation (IEC 62304
4.3, 5.3.5): record the segregation it relies on in `segregation` (the mechanism that makes it
effective) and the items it is separated from in `segregated_from`. The architecture's
segregation section lists exactly the items that declare one.
""",
    classes=("C",),
)
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
