"""R rules: every hazard evaluated, controlled where its risk is not acceptable, controls verified."""

from __future__ import annotations

from collections.abc import Iterator

from qms.documents import DOCUMENTS, FRONT_PAGE
from qms.model import Project, Severity
from qms.risk import RiskClass, RiskEstimate, RiskPolicy, controls_of, hazard_risk, item_class
from qms.rules import CheckContext, Hit, rule, written
from qms.rules.trace import verified_by_a_test


def _describe(policy: RiskPolicy, estimate: RiskEstimate) -> str:
    severity = policy.severity_name(estimate.severity)
    probability = policy.probability_name(estimate.probability)
    return f"{estimate.risk_class.value} ({severity} x {probability})"


@rule(
    "R201",
    "risk-not-evaluable",
    "hazard whose initial risk cannot be evaluated (unknown severity or probability)",
    """
Risk estimation needs the severity of the harm and its probability (ISO 14971 5.5), written as
`probability` or, where the policy defines P1 x P2, as `p1` and `p2`. A hazard
that lacks either cannot be evaluated against the acceptability matrix. (A value that is not a
level of the policy is reported as Q002 where it was written.)
""",
)
def risk_not_evaluable(context: CheckContext) -> Iterator[Hit]:
    split = context.project.config.risk_policy.split
    for hazard in context.project.of_kind("hazard"):
        by_split = split and written(hazard, "p1") and written(hazard, "p2")
        missing = [name for name in ("severity", "probability") if not written(hazard, name)]
        if by_split:
            missing = [name for name in missing if name != "probability"]
        if missing:
            yield Hit.at(hazard, f"initial risk cannot be evaluated: no {' and no '.join(missing)}")


@rule(
    "R202",
    "uncontrolled-risk",
    "hazard whose initial risk is not acceptable and that has no control",
    """
A hazard whose initial risk falls in R (reduce as far as possible) or U (unacceptable) needs
risk control measures (ISO 14971 6, 7.1): list the requirements that control it in `controls`.
""",
)
def uncontrolled_risk(context: CheckContext) -> Iterator[Hit]:
    policy = context.project.config.risk_policy
    for hazard in context.project.of_kind("hazard"):
        initial = hazard_risk(policy, hazard).initial
        if initial and initial.risk_class is not RiskClass.ACCEPTABLE and not written(hazard, "controls"):
            yield Hit.at(
                hazard, f"initial risk {_describe(policy, initial)} is not acceptable and the hazard has no controls"
            )


@rule(
    "R203",
    "no-residual-risk",
    "hazard with controls but no residual risk",
    """
Once controls are in place, the residual risk must be estimated and evaluated (ISO 14971 7.3):
add `residual: {severity: ..., probability: ...}`.
""",
)
def no_residual_risk(context: CheckContext) -> Iterator[Hit]:
    for hazard in context.project.of_kind("hazard"):
        if written(hazard, "controls") and not written(hazard, "residual"):
            yield Hit.at(
                hazard, "has controls but no residual risk: add residual: {severity, probability}", ("controls",)
            )


@rule(
    "R204",
    "residual-risk-not-acceptable",
    "residual risk R without benefit_risk, or residual risk U",
    """
A residual risk in R is acceptable only with a documented benefit-risk justification
(`benefit_risk`, ISO 14971 7.4); a residual risk in U is not acceptable at all: add controls
until it falls out of U.
""",
)
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


@rule(
    "R205",
    "control-not-verified",
    "risk control (a requirement in some hazard's `controls`) not verified by any test",
    """
Each risk control measure must be verified: its implementation and its effectiveness (ISO 14971
7.2; IEC 62304 7.3.1). Some test must list the control requirement under `verifies`, or an
automated test result must name it.
""",
)
def control_not_verified(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    for control_id, hazards in sorted(controls_of(project).items()):
        if not verified_by_a_test(context, control_id):
            yield Hit.at(
                project.items[control_id], f"risk control for {', '.join(hazards)} is not verified by any test"
            )


# ------------------------------------------------------------------------------ verification twice (7.2)


@rule(
    "R206",
    "control-effectiveness-not-verified",
    "hazard whose risk control measures no test or analysis shows to be effective (class B, C)",
    """
ISO 14971 7.2 asks for two verifications of each risk control measure: that it is implemented
(the tests that verify the control requirement, R205) and that it is effective, i.e. that it
actually reduces the risk of the hazardous situation. Effectiveness is shown by a test, a
validation or usability activity, or an analysis that the hazard names under `effectiveness`.
""",
    classes=("B", "C"),
)
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


@rule(
    "R207",
    "residual-severity-lowered",
    "hazard whose residual severity is lower than its initial severity, with no justification",
    """
Risk control measures usually lower the probability of harm; the harm itself, and so its
severity, usually stays (ISO 14971 7.3). A residual severity lower than the initial one needs a
written reason in `residual_rationale` (for example: a control that bounds the dose, so the
worst possible harm is now a lesser one), or the initial severity kept.
""",
)
def residual_severity_lowered(context: CheckContext) -> Iterator[Hit]:
    policy = context.project.config.risk_policy
    for hazard in context.project.of_kind("hazard"):
        risk = hazard_risk(policy, hazard)
        if risk.initial is None or risk.residual is None or hazard.get("residual_rationale"):
            continue
        if risk.residual.severity < risk.initial.severity:
            yield Hit.at(
                hazard,
                f"residual severity {risk.residual.severity}, initial severity {risk.initial.severity}",
                ("residual", "severity"),
            )


@rule(
    "R208",
    "software-control-lowest-probability",
    "hazard with software-only controls credited with the lowest probability, unjustified (class B, C)",
    """
A software failure's probability cannot be estimated (IEC 62304 4.3; IEC/TR 80002-1): a hazard
whose controls are all software requirements is not, by itself, brought to the lowest
probability level. State in `residual_rationale` why the residual probability is that low (an
independent check, a physical bound), or raise it.
""",
    classes=("B", "C"),
)
def software_control_lowest_probability(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    policy = project.config.risk_policy
    for hazard in project.of_kind("hazard"):
        residual = hazard_risk(policy, hazard).residual
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


@rule(
    "R209",
    "benefit-risk-without-evidence",
    "residual risk R whose benefit-risk justification references no evidence in the file",
    """
A benefit-risk justification (ISO 14971 7.4) must rest on evidence the file holds: list under
`benefit_risk_evidence` the item ids (a validation, a labelling item), document ids (as in the
document-control block) or project files (a clinical evaluation report) it relies on. Each entry
must resolve.
""",
)
def benefit_risk_without_evidence(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    policy = project.config.risk_policy
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
        residual = hazard_risk(policy, hazard).residual
        justified = residual is not None and residual.risk_class is RiskClass.REDUCE and hazard.get("benefit_risk")
        if justified and not entries:
            yield Hit.at(hazard, "benefit_risk references no evidence: add benefit_risk_evidence", ("benefit_risk",))


def _resolves(project: Project, documents: set[str], entry: str) -> bool:
    if entry in project.items or entry in documents:
        return True
    path = (project.root / entry).resolve()
    return path.is_relative_to(project.root.resolve()) and path.is_file()


# ------------------------------------------------------------------------------ risks from controls (7.5)


@rule(
    "R210",
    "control-not-reviewed-for-new-risks",
    "risk control without a record of its review for new hazards (ISO 14971 7.5)",
    """
Each risk control measure must be reviewed for hazards it introduces and for its effect on
risks already identified (ISO 14971 7.5; IEC 62304 7.3.1). Record the review and its outcome as
a `control_review` item that lists the control under `reviews`; a hazard the control introduces
names it under `arising_from`.
""",
)
def control_not_reviewed(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    for control_id, hazards in sorted(controls_of(project).items()):
        if not project.incoming(control_id, "reviews", "control_review"):
            yield Hit.at(
                project.items[control_id],
                f"risk control for {', '.join(hazards)} is reviewed for new hazards in no control_review",
            )


# ------------------------------------------------------------------------------ information for safety (7.1, 8)


@rule(
    "R211",
    "safety-information-not-in-labeling",
    "information-for-safety control that no labelling item carries",
    """
Information for safety (ISO 14971 7.1 c) reaches users only through labelling, the instructions
for use, warnings or training. Each control with `control_type: information_for_safety` must be
carried by a `labeling` item (its `carries` field) that says where users find it.
""",
)
def safety_information_not_in_labeling(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    for control_id in sorted(controls_of(project)):
        control = project.items[control_id]
        if control.get("control_type") == "information_for_safety" and not project.incoming(
            control_id, "carries", "labeling"
        ):
            yield Hit.at(control, "information for safety carried by no labeling item", ("control_type",))


@rule(
    "R212",
    "residual-risk-not-disclosed",
    "residual risk R that no labelling item discloses",
    """
Significant residual risks must be disclosed in the accompanying documents (ISO 14971 8): a
residual risk in R needs a `labeling` item that names the hazard under `discloses`.
""",
)
def residual_risk_not_disclosed(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    policy = project.config.risk_policy
    for hazard in project.of_kind("hazard"):
        residual = hazard_risk(policy, hazard).residual
        if residual is None or residual.risk_class is not RiskClass.REDUCE:
            continue
        if not project.incoming(hazard.id, "discloses", "labeling"):
            yield Hit.at(hazard, "residual risk in R is disclosed in no labeling item", ("residual",))


# ------------------------------------------------------------------------------ analysis inputs (5.2, 5.3)


@rule(
    "R213",
    "characteristic-not-analysed",
    "safety characteristic or misuse that leads to no hazard and is not marked not applicable",
    """
Each answer to a safety question (ISO/TR 24971 Annex A; ISO 14971 5.2, 5.3) either leads to
hazards (`leads_to`) or says why it does not apply to the device (`not_applicable`).
""",
)
def characteristic_not_analysed(context: CheckContext) -> Iterator[Hit]:
    for answer in context.project.of_kind("safety_characteristic"):
        if not answer.links("leads_to") and not answer.get("not_applicable"):
            yield Hit.at(answer, "leads to no hazard and gives no not_applicable reason")


@rule(
    "R214",
    "hazard-without-characteristic",
    "hazard that no intended use, misuse or safety characteristic leads to",
    """
Hazards are identified from the intended use, the reasonably foreseeable misuse and the
characteristics related to safety (ISO 14971 5.2-5.4). A hazard that no `safety_characteristic`
item names under `leads_to` has no recorded origin in that analysis.
""",
)
def hazard_without_characteristic(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    for hazard in project.of_kind("hazard"):
        if not project.incoming(hazard.id, "leads_to", "safety_characteristic"):
            yield Hit.at(hazard, "no intended use, misuse or safety characteristic leads to it")


# ------------------------------------------------------------------------------ causes (IEC 62304 7.1)


@rule(
    "R215",
    "hazard-without-cause",
    "hazard that names no cause (class B, C)",
    """
IEC 62304 7.1.2-7.1.4: the causes of each hazardous situation the software can contribute to,
and their sequences of events, are recorded: list `cause` items under the hazard's `causes`.
""",
    classes=("B", "C"),
)
def hazard_without_cause(context: CheckContext) -> Iterator[Hit]:
    for hazard in context.project.of_kind("hazard"):
        if not written(hazard, "causes"):
            yield Hit.at(hazard, "names no cause: list its causes under `causes`")


@rule(
    "R216",
    "cause-without-item",
    "cause (other than misuse) that names no contributing software item or SOUP (class B, C)",
    """
IEC 62304 7.1.1: the software items (and SOUP, 7.1.2 c) whose failure contributes to a
hazardous situation are identified. A cause of any type but `misuse` lists them under `items`;
a `soup_failure` cause names at least one SOUP item.
""",
    classes=("B", "C"),
)
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


@rule(
    "R217",
    "item-contributes-to-no-hazard",
    "class B or C software item that no cause names, with no statement why (class B, C)",
    """
IEC 62304 7.1.1 asks which software items can contribute to a hazardous situation. A software
item of class B or C that no cause names (itself or an item it contains) states in
`no_hazard_rationale` why its failure contributes to none, or is classified A with a rationale.
""",
    classes=("B", "C"),
    default=Severity.WARNING,
)
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


@rule(
    "R218",
    "probability-not-on-split-scale",
    "hazard whose p1 or p2 is off the policy's P1 or P2 scale, or disagrees with its probability",
    """
In P1 x P2 mode (ISO 14971 Annex C) a hazard writes `p1` (probability of the hazardous
situation; `not estimated` for a software cause, worst case assumed) and `p2` (probability of
harm once in the situation), each a level of the policy's scale; the combination table gives
the probability. A `probability` written beside them must agree; without P1 x P2 scales in the
policy, `p1` and `p2` cannot be evaluated.
""",
)
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
        initial = hazard_risk(policy, hazard).initial
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
