"""R rules: every hazard evaluated, controlled where its risk is not acceptable, controls verified."""

from __future__ import annotations

from collections.abc import Iterator

from qms.documents import DOCUMENTS, FRONT_PAGE
from qms.model import Project
from qms.risk import RiskClass, RiskEstimate, RiskPolicy
from qms.risk_file import controls_of, item_class
from qms.rules.registry import CheckContext, Hit, rule, written
from qms.rules.trace import verified_by_a_test


def _describe(policy: RiskPolicy, estimate: RiskEstimate) -> str:
    severity = policy.severity_name(estimate.severity)
    probability = policy.probability_name(estimate.probability)
    return f"{estimate.risk_class.value} ({severity} x {probability})"


@rule("R201", of_project=True)
def risk_not_evaluable(context: CheckContext) -> Iterator[Hit]:
    split = context.project.config.risk_policy.split
    for hazard in context.project.of_kind("hazard"):
        by_split = split and written(hazard, "p1") and written(hazard, "p2")
        missing = [name for name in ("severity", "probability") if not written(hazard, name)]
        if by_split:
            missing = [name for name in missing if name != "probability"]
        if missing:
            yield Hit.at(hazard, f"initial risk cannot be evaluated: no {' and no '.join(missing)}")


@rule("R202", of_project=True)
def uncontrolled_risk(context: CheckContext) -> Iterator[Hit]:
    policy = context.project.config.risk_policy
    for hazard in context.project.of_kind("hazard"):
        initial = context.hazard_risks[hazard.id].initial
        if initial and initial.risk_class is not RiskClass.ACCEPTABLE and not written(hazard, "controls"):
            yield Hit.at(
                hazard, f"initial risk {_describe(policy, initial)} is not acceptable and the hazard has no controls"
            )


@rule("R203", of_project=True)
def no_residual_risk(context: CheckContext) -> Iterator[Hit]:
    for hazard in context.project.of_kind("hazard"):
        if written(hazard, "controls") and not written(hazard, "residual"):
            yield Hit.at(
                hazard, "has controls but no residual risk: add residual: {severity, probability}", ("controls",)
            )


@rule("R204", of_project=True)
def residual_risk_not_acceptable(context: CheckContext) -> Iterator[Hit]:
    policy = context.project.config.risk_policy
    for hazard in context.project.of_kind("hazard"):
        residual = context.hazard_risks[hazard.id].residual
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
    for control_id, hazards in sorted(controls_of(project).items()):
        if not verified_by_a_test(context, control_id):
            yield Hit.at(
                project.items[control_id], f"risk control for {', '.join(hazards)} is not verified by any test"
            )


# ------------------------------------------------------------------------------ verification twice (7.2)


@rule("R206", of_project=True)
def control_effectiveness_not_verified(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    for hazard in project.of_kind("hazard"):
        if written(hazard, "controls") and not written(hazard, "effectiveness"):
            yield Hit.at(
                hazard,
                "no test or analysis shows its risk control measures effective: name one under `effectiveness`",
                ("controls",),
            )


# ------------------------------------------------------------------------------ residual risk (7.3, 7.4)


@rule("R207", of_project=True)
def residual_severity_lowered(context: CheckContext) -> Iterator[Hit]:
    for hazard in context.project.of_kind("hazard"):
        risk = context.hazard_risks[hazard.id]
        if risk.initial is None or risk.residual is None or hazard.get("residual_rationale"):
            continue
        if risk.residual.severity < risk.initial.severity:
            yield Hit.at(
                hazard,
                f"residual severity {risk.residual.severity}, initial severity {risk.initial.severity}",
                ("residual", "severity"),
            )


@rule("R208", of_project=True)
def software_control_lowest_probability(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    policy = project.config.risk_policy
    for hazard in project.of_kind("hazard"):
        residual = context.hazard_risks[hazard.id].residual
        controls = [project.items[target] for target in hazard.links("controls") if target in project.items]
        if residual is None or residual.probability != 1 or hazard.get("residual_rationale") or not controls:
            continue
        if all(control.kind == "software_requirement" for control in controls):
            yield Hit.at(
                hazard,
                f"residual probability {policy.probability_name(1)} rests on software controls only and has no "
                "residual_rationale",
                ("residual", "probability"),
            )


@rule("R209")
def benefit_risk_without_evidence(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    documents = {spec.id for spec in (FRONT_PAGE, *DOCUMENTS)}
    for hazard in project.of_kind("hazard"):
        entries: tuple[str, ...] = hazard.get("benefit_risk_evidence") or ()
        for index, entry in enumerate(entries):
            if not _resolves(project, documents, entry):
                yield Hit.at(
                    hazard,
                    f"benefit_risk_evidence '{entry}' is no item id, document id or project file",
                    ("benefit_risk_evidence", index),
                )
        residual = context.hazard_risks[hazard.id].residual
        justified = residual is not None and residual.risk_class is RiskClass.REDUCE and hazard.get("benefit_risk")
        if justified and not entries:
            yield Hit.at(hazard, "benefit_risk references no evidence: add benefit_risk_evidence", ("benefit_risk",))


def _resolves(project: Project, documents: set[str], entry: str) -> bool:
    if entry in project.items or entry in documents:
        return True
    path = (project.root / entry).resolve()
    return path.is_relative_to(project.root.resolve()) and path.is_file()


# ------------------------------------------------------------------------------ risks from controls (7.5)


@rule("R210", of_project=True)
def control_not_reviewed(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    for control_id, hazards in sorted(controls_of(project).items()):
        if not project.incoming(control_id, "reviews", "control_review"):
            yield Hit.at(
                project.items[control_id],
                f"risk control for {', '.join(hazards)} is reviewed for new hazards in no control_review",
            )


# ------------------------------------------------------------------------------ information for safety (7.1, 8)


@rule("R211", of_project=True)
def safety_information_not_in_labeling(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    for control_id in sorted(controls_of(project)):
        control = project.items[control_id]
        if control.get("control_type") == "information_for_safety" and not project.incoming(
            control_id, "carries", "labeling"
        ):
            yield Hit.at(control, "information for safety carried by no labeling item", ("control_type",))


@rule("R212", of_project=True)
def residual_risk_not_disclosed(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    for hazard in project.of_kind("hazard"):
        residual = context.hazard_risks[hazard.id].residual
        if residual is None or residual.risk_class is not RiskClass.REDUCE:
            continue
        if not project.incoming(hazard.id, "discloses", "labeling"):
            yield Hit.at(hazard, "residual risk in R is disclosed in no labeling item", ("residual",))


# ------------------------------------------------------------------------------ analysis inputs (5.2, 5.3)


@rule("R213", of_project=True)
def characteristic_not_analysed(context: CheckContext) -> Iterator[Hit]:
    for answer in context.project.of_kind("safety_characteristic"):
        if not answer.links("leads_to") and not answer.get("not_applicable"):
            yield Hit.at(answer, "leads to no hazard and gives no not_applicable reason")


@rule("R214", of_project=True)
def hazard_without_characteristic(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    for hazard in project.of_kind("hazard"):
        if not project.incoming(hazard.id, "leads_to", "safety_characteristic"):
            yield Hit.at(hazard, "no intended use, misuse or safety characteristic leads to it")


# ------------------------------------------------------------------------------ causes (IEC 62304 7.1)


@rule("R215", of_project=True)
def hazard_without_cause(context: CheckContext) -> Iterator[Hit]:
    for hazard in context.project.of_kind("hazard"):
        if not written(hazard, "causes"):
            yield Hit.at(hazard, "names no cause: list its causes under `causes`")


@rule("R216", of_project=True)
def cause_without_item(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    for cause in project.of_kind("cause"):
        items = project.outgoing(cause.id, "items")
        if cause.get("type") == "misuse":
            continue
        if not written(cause, "items"):
            yield Hit.at(cause, "names no contributing software item or SOUP under `items`")
        elif cause.get("type") == "soup_failure" and items and not any(item.kind == "soup" for item in items):
            yield Hit.at(cause, "a soup_failure cause names no SOUP item", ("items",))


@rule("R217", of_project=True)
def item_contributes_to_no_hazard(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    named = {link.target for link in project.links if link.field == "items"}
    contributing = set(named)
    for item_id in named:  # a parent contributes through the items it contains
        contributing.update(_ancestors(project, item_id))
    for item in project.of_kind("software_item"):
        if item.id in contributing or item.get("no_hazard_rationale"):
            continue
        if item_class(project, item) in ("B", "C"):
            yield Hit.at(item, "no cause names it and it has no no_hazard_rationale")


def _ancestors(project: Project, item_id: str) -> set[str]:
    found: set[str] = set()
    pending = [item_id]
    while pending:
        for parent in project.outgoing(pending.pop(), "parent"):
            if parent.id not in found:
                found.add(parent.id)
                pending.append(parent.id)
    return found


# ------------------------------------------------------------------------------ P1 x P2 (5.5)


@rule("R218", of_project=True)
def probability_not_on_split_scale(context: CheckContext) -> Iterator[Hit]:
    policy = context.project.config.risk_policy
    for hazard in context.project.of_kind("hazard"):
        for name, find, scale in (("p1", policy.p1_level, policy.p1), ("p2", policy.p2_level, policy.p2)):
            value = hazard.get(name)
            if value is None:
                continue
            if not policy.split:
                yield Hit.at(hazard, f"{name} needs p1, p2 and combination in risk_policy", (name,))
            elif find(value) is None:
                levels = ", ".join(str(level) for level in scale)
                extra = " or 'not estimated'" if name == "p1" else ""
                yield Hit.at(
                    hazard, f"{name} '{value}' is not a level of risk_policy.{name} ({levels}{extra})", (name,)
                )
        initial = context.hazard_risks[hazard.id].initial
        written_probability = hazard.get("probability")
        if (
            policy.split
            and initial is not None
            and isinstance(written_probability, int)
            and written(hazard, "p1")
            and written_probability != initial.probability
        ):
            yield Hit.at(
                hazard,
                f"probability {written_probability} disagrees with p1 x p2 = {initial.probability}",
                ("probability",),
            )


# ------------------------------------------------------------------------------ SOUP anomalies (7.1.3)


@rule("R219", of_project=True)
def soup_anomaly_hazard_not_named(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    for soup in project.of_kind("soup"):
        causes = sorted(link.source for link in project.incoming(soup.id, "items", "cause"))
        anomalies = soup.get("known_anomalies") or ()
        if not written(soup, "hazards"):
            if causes and anomalies:
                named = f"{', '.join(causes)} {'names' if len(causes) == 1 else 'name'}"
                listed = f"{len(anomalies)} known {'anomaly' if len(anomalies) == 1 else 'anomalies'}"
                yield Hit.at(
                    soup,
                    f"{named} it as contributing and it lists {listed}, but it names no hazard "
                    "its anomalies contribute to under `hazards` ([] when none does)",
                )
            continue
        untraced = [
            hazard.id
            for hazard in project.outgoing(soup.id, "hazards")
            if not any(soup.id in cause.links("items") for cause in project.outgoing(hazard.id, "causes"))
        ]
        if untraced:
            yield Hit.at(
                soup,
                f"its anomalies contribute to {', '.join(untraced)}, but no cause of "
                f"{'that hazard' if len(untraced) == 1 else 'those hazards'} names it under `items`",
                ("hazards",),
            )
