"""T rules: every design input traced down to verification, every need to validation."""

from __future__ import annotations

from collections.abc import Iterator

from qms.matrix import DESIGN, MAX_ROWS, RISK, matrix_size
from qms.rules.registry import CheckContext, Hit, rule, written
from qms.schema import REQUIREMENT_KINDS


def controls(context: CheckContext) -> set[str]:
    """Ids of the requirements that some hazard names as a risk control."""
    return {link.target for link in context.project.links if link.field == "controls"}


@rule("T101", of_project=True)
def need_not_refined(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    for need in project.of_kind("need"):
        if not project.incoming(need.id, "derives_from", "system_requirement"):
            yield Hit.at(need, "not refined by any system requirement (no system requirement derives_from it)")


@rule("T102", of_project=True)
def requirement_without_parent(context: CheckContext) -> Iterator[Hit]:
    for requirement in context.project.of_kind(*REQUIREMENT_KINDS):
        if not written(requirement, "derives_from") and not requirement.get("derived"):
            yield Hit.at(requirement, "has no derives_from and no `derived` rationale")


@rule("T103")
def requirement_not_verified(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    control_ids = controls(context)
    for requirement in project.of_kind(*REQUIREMENT_KINDS):
        if requirement.id not in control_ids and not verified_by_a_test(context, requirement.id):
            yield Hit.at(requirement, "not verified by any test")


def verified_by_a_test(context: CheckContext, item_id: str) -> bool:
    """Whether a test item verifies ``item_id``, or a test result names it directly."""
    if context.project.incoming(item_id, "verifies", "test"):
        return True
    return context.evidence is not None and bool(context.evidence.naming(item_id))


@rule("T104", of_project=True)
def need_not_validated(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    for need in project.of_kind("need"):
        if not project.incoming(need.id, "validates", "test"):
            yield Hit.at(need, "not validated by any test")


@rule("T105", of_project=True)
def requirement_not_implemented(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    for requirement in project.of_kind("software_requirement"):
        if requirement.get("safety_class") == "A":
            continue
        if not project.incoming(requirement.id, "implements", "software_item"):
            yield Hit.at(requirement, "not implemented by any software item")


@rule("T106", of_project=True)
def test_without_target(context: CheckContext) -> Iterator[Hit]:
    for test in context.project.of_kind("test"):
        shows_effectiveness = bool(context.project.incoming(test.id, "effectiveness", "hazard"))
        if not written(test, "verifies") and not written(test, "validates") and not shows_effectiveness:
            yield Hit.at(test, "verifies and validates nothing")


@rule("T107", of_project=True)
def matrix_cut(context: CheckContext) -> Iterator[Hit]:
    for chain in (DESIGN, RISK):
        size = matrix_size(context.project, chain)
        if size.total > MAX_ROWS and size.largest is not None:
            yield Hit.at(
                size.largest,
                f"the {chain.title.lower()} matrix has {size.total:,} rows, more than the {MAX_ROWS:,} a matrix "
                f"shows (the rest are left out and said so); {size.largest_rows:,} of them start at this item, "
                "whose links multiply the paths through it",
            )
