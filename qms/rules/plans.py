"""L rules on the plans kept as data: the release checklist evidenced by records (IEC 62304 5.8)
and the requirement types the development plan commits to (5.2.2)."""

from __future__ import annotations

from collections.abc import Iterator

from qms.plans import plans, release_checklist
from qms.rules.registry import CheckContext, Hit, rule, written
from qms.status import StepStatus


@rule("L761", at_release=True)
def release_step_not_evidenced(context: CheckContext) -> Iterator[Hit]:
    if not context.release:
        return
    config = context.project.config
    for step in release_checklist(context.project, context.statuses, context.documents):
        if step.status is StepStatus.EVIDENCED:
            continue
        where = config.location(("plans", "development", "release_checklist", step.index))
        problems = [f"{found.ref}: {found.detail}" for found in step.evidence if not found.found]
        why = "; ".join(problems) if problems else "it names no evidence"
        yield Hit(f"release step '{step.step}' is not evidenced: {why}", where)


@rule("L762")
def requirement_without_type(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    if "development" not in plans(project):
        return
    for item in project.of_kind("system_requirement", "software_requirement"):
        if not written(item, "type"):
            yield Hit.at(item, "states no requirement type (IEC 62304 5.2.2): add `type:` after its title")
