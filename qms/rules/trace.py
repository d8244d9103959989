"""T rules: every design input traced down to verification, every need to validation."""

from __future__ import annotations

from collections.abc import Iterator

from qms.matrix import DESIGN, MAX_ROWS, RISK, matrix_size
from qms.model import Severity
from qms.rules import CheckContext, Hit, rule, written
from qms.schema import REQUIREMENT_KINDS


def controls(context: CheckContext) -> set[str]:
    """Ids of the requirements that some hazard names as a risk control."""
    return {link.target for link in context.project.links if link.field == "controls"}


@rule(
    "T101",
    "need-not-refined",
    "need not refined by any system requirement",
    """
Every user need is a design input (ISO 13485 7.3.3) that must be refined into system
requirements; a need that no system requirement derives from is not designed for.
""",
)
def need_not_refined(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    for need in project.of_kind("need"):
        if not project.incoming(need.id, "derives_from", "system_requirement"):
            yield Hit.at(need, "not refined by any system requirement (no system requirement derives_from it)")


@rule(
    "T102",
    "requirement-without-parent",
    "requirement with no derives_from and no `derived` rationale",
    """
A requirement must trace up to what it refines (IEC 62304 5.2.6, 5.1.1 traceability). If it
has no parent on purpose (a derived requirement, e.g. from a design decision), say why in
`derived: <rationale>`.
""",
)
def requirement_without_parent(context: CheckContext) -> Iterator[Hit]:
    for requirement in context.project.of_kind(*REQUIREMENT_KINDS):
        if not written(requirement, "derives_from") and not requirement.get("derived"):
            yield Hit.at(requirement, "has no derives_from and no `derived` rationale")


@rule(
    "T103",
    "requirement-not-verified",
    "requirement not verified by any test",
    """
Every system and software requirement must be verified (IEC 62304 5.7.1, 5.7.4; ISO 13485
7.3.6): some test must list it under `verifies`, or an automated test result must name it
(`@pytest.mark.verifies("SWR-014")`, a JUnit `verifies` property). (Risk control requirements
are reported by R205 instead, so that one gap gives one finding.)
""",
)
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


@rule(
    "T104",
    "need-not-validated",
    "need not validated by any test",
    """
Every user need must be validated under the intended use (ISO 13485 7.3.7): some test (usually
of level validation) must list it under `validates`.
""",
)
def need_not_validated(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    for need in project.of_kind("need"):
        if not project.incoming(need.id, "validates", "test"):
            yield Hit.at(need, "not validated by any test")


@rule(
    "T105",
    "requirement-not-implemented",
    "software requirement not implemented by any software item (class B, C)",
    """
For software safety classes B and C the architecture must show which software item implements
each software requirement (IEC 62304 5.3.1, 5.3.6, 7.3.3). A requirement with its own
`safety_class: A` is exempt.
""",
    classes=("B", "C"),
)
def requirement_not_implemented(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    for requirement in project.of_kind("software_requirement"):
        if requirement.get("safety_class") == "A":
            continue
        if not project.incoming(requirement.id, "implements", "software_item"):
            yield Hit.at(requirement, "not implemented by any software item")


@rule(
    "T106",
    "test-without-target",
    "test that verifies and validates nothing",
    """
A test that lists nothing under `verifies` or `validates`, and that no hazard names under
`effectiveness`, proves nothing in the technical file: link it to what it verifies, or remove it.
""",
    default=Severity.WARNING,
)
def test_without_target(context: CheckContext) -> Iterator[Hit]:
    for test in context.project.of_kind("test"):
        shows_effectiveness = bool(context.project.incoming(test.id, "effectiveness", "hazard"))
        if not written(test, "verifies") and not written(test, "validates") and not shows_effectiveness:
            yield Hit.at(test, "verifies and validates nothing")


@rule(
    "T107",
    "matrix-cut",
    "traceability matrix with more rows than a matrix shows",
    f"""
The traceability matrix has a row per path along its chain of kinds, so paths multiply where
items link to many items on both sides: 25 items per level, each linking to all 25 above, give
millions of rows. A matrix makes at most {MAX_ROWS:,} rows (on the site's page, in `qms matrix`,
the CSV download and the workbooks); the rows beyond are counted, and every format says how many
were left out and where they start. Nothing of the trace is lost (each item's page
and `qms show ID` show its links both ways), but an auditor cannot read it as one matrix: link
each item to what it refines, implements or verifies, rather than to everything of a level, or
read the trace per item.
""",
    default=Severity.WARNING,
)
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
