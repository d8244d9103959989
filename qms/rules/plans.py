"""L rules on the plans kept as data: the release checklist evidenced by records (IEC 62304 5.8)
and the requirement types the development plan commits to (5.2.2)."""

from __future__ import annotations

from collections.abc import Iterator

from qms.model import Severity
from qms.plans import plans, release_checklist
from qms.rules import CheckContext, Hit, rule, written
from qms.status import StepStatus


@rule(
    "L761",
    "release-step-not-evidenced",
    "release with a release-checklist step whose evidence is missing or not met",
    """
The development plan's release procedure (`plans.development.release_checklist` in qms.yaml,
IEC 62304 5.8) lists the steps of a release, each with the records that evidence it: item ids (a
test or requirement must have passed), document ids (SDP, SVR...) or `kind:NAME` (at least one
record of that kind). This finding names each step whose evidence is absent, unknown, or not
passed, so that the checklist rendered in the development plan never shows a step done that the
records do not show.

Reported only for a release check (`qms check --release`, or a commit tagged with
`device.version`): during development open steps are normal. Give the step its evidence, or
produce the record it names. Default severity is error for every class (5.8.1, 5.8.6).
""",
)
def release_step_not_evidenced(context: CheckContext) -> Iterator[Hit]:
    if not context.release:
        return
    config = context.project.config
    for step in release_checklist(context.project, context.statuses):
        if step.status is StepStatus.EVIDENCED:
            continue
        where = config.location(("plans", "development", "release_checklist", step.index))
        problems = [f"{found.ref}: {found.detail}" for found in step.evidence if not found.found]
        why = "; ".join(problems) if problems else "it names no evidence"
        yield Hit(f"release step '{step.step}' is not evidenced: {why}", where)


@rule(
    "L762",
    "requirement-without-type",
    "requirement without a type while the development plan is kept as data (IEC 62304 5.2.2)",
    """
IEC 62304 5.2.2 lists what software requirements must cover: functional and performance,
inputs and outputs, interfaces, alarms, security, usability, data, installation, operation,
IT network, user maintenance and regulatory requirements. With `type:` on each requirement, the
software requirements specification shows a coverage table per type, so an empty category is
visible.

Reported for each system or software requirement without `type` once the project keeps its
development plan as data (`plans.development` in qms.yaml): the plan commits to typed
requirements. Add `type:` (one of the values `qms schema` lists) after the requirement's title.
Default severity is warning for every class.
""",
    default=Severity.WARNING,
)
def requirement_without_type(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    if "development" not in plans(project):
        return
    for item in project.of_kind("system_requirement", "software_requirement"):
        if not written(item, "type"):
            yield Hit.at(item, "states no requirement type (IEC 62304 5.2.2): add `type:` after its title")
