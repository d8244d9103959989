"""R rules: every hazard evaluated, controlled where its risk is not acceptable, controls verified."""

from __future__ import annotations

from collections.abc import Iterator

from qms.risk import RiskClass, RiskEstimate, RiskPolicy, hazard_risk
from qms.rules import CheckContext, Hit, rule, written
from qms.rules.trace import verified_by_a_test


def _describe(policy: RiskPolicy, estimate: RiskEstimate) -> str:
    severity = policy.severity_name(estimate.severity)
    probability = policy.probability_name(estimate.probability)
    return f"{estimate.risk_class.value} ({severity} x {probability})"


@rule("R201")
def risk_not_evaluable(context: CheckContext) -> Iterator[Hit]:
    for hazard in context.project.of_kind("hazard"):
        missing = [name for name in ("severity", "probability") if not written(hazard, name)]
        if missing:
            yield Hit.at(hazard, f"initial risk cannot be evaluated: no {' and no '.join(missing)}")


@rule("R202")
def uncontrolled_risk(context: CheckContext) -> Iterator[Hit]:
    policy = context.project.config.risk_policy
    for hazard in context.project.of_kind("hazard"):
        initial = hazard_risk(policy, hazard).initial
        if initial and initial.risk_class is not RiskClass.ACCEPTABLE and not written(hazard, "controls"):
            yield Hit.at(
                hazard, f"initial risk {_describe(policy, initial)} is not acceptable and the hazard has no controls"
            )


@rule("R203")
def no_residual_risk(context: CheckContext) -> Iterator[Hit]:
    for hazard in context.project.of_kind("hazard"):
        if written(hazard, "controls") and not written(hazard, "residual"):
            yield Hit.at(
                hazard, "has controls but no residual risk: add residual: {severity, probability}", ("controls",)
            )


@rule("R204")
def residual_risk_not_acceptable(context: CheckContext) -> Iterator[Hit]:
    policy = context.project.config.risk_policy
    for hazard in context.project.of_kind("hazard"):
        residual = hazard_risk(policy, hazard).residual
        if residual is None:
            continue
        if residual.risk_class is RiskClass.UNACCEPTABLE:
            yield Hit.at(hazard, f"residual risk {_describe(policy, residual)} is unacceptable", ("residual",))
        elif residual.risk_class is RiskClass.REDUCE and not hazard.get("benefit_risk"):
            yield Hit.at(
                hazard,
                f"residual risk {_describe(policy, residual)} needs a benefit_risk justification",
                ("residual",),
            )


@rule("R205")
def control_not_verified(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    hazards_by_control: dict[str, list[str]] = {}
    for link in project.links:
        if link.field == "controls":
            hazards_by_control.setdefault(link.target, []).append(link.source)
    for control_id, hazards in sorted(hazards_by_control.items()):
        if not verified_by_a_test(context, control_id):
            yield Hit.at(
                project.items[control_id],
                f"risk control for {', '.join(sorted(hazards))} is not verified by any test",
            )
