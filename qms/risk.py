"""ISO 14971 risk policy: severity and probability scales, the acceptability matrix, risk classes."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from qms.matrix import natural_key
from qms.model import Item, Project


class RiskClass(enum.StrEnum):
    """Where a (severity, probability) pair falls in the acceptability matrix."""

    ACCEPTABLE = "A"
    REDUCE = "R"  # reduce as far as possible; acceptable only with a benefit-risk justification
    UNACCEPTABLE = "U"

    @property
    def label(self) -> str:
        return _LABELS[self]

    def __str__(self) -> str:
        return self.value


_LABELS = {
    RiskClass.ACCEPTABLE: "acceptable",
    RiskClass.REDUCE: "reduce as far as possible; accept only with benefit-risk justification",
    RiskClass.UNACCEPTABLE: "unacceptable",
}


@dataclass(frozen=True, slots=True)
class Level:
    level: int
    name: str
    description: str = ""

    def __str__(self) -> str:
        return f"{self.level} {self.name}"


@dataclass(frozen=True, slots=True)
class RiskPolicy:
    """Scales (lowest first) and the matrix: ``acceptability[severity - 1][probability - 1]``."""

    severity: tuple[Level, ...]
    probability: tuple[Level, ...]
    acceptability: tuple[str, ...]
    #: what one probability is counted against ("per day of use"), shown next to every scale
    probability_unit: str = ""
    #: P1 x P2 mode (ISO 14971 Annex C): the probability of the hazardous situation (P1), of the
    #: situation leading to harm (P2), and ``combination[p1 - 1][p2 - 1]``, the overall level
    p1: tuple[Level, ...] = ()
    p2: tuple[Level, ...] = ()
    combination: tuple[tuple[int, ...], ...] = ()

    def severity_level(self, value: Any) -> Level | None:
        return _find(self.severity, value)

    def probability_level(self, value: Any) -> Level | None:
        return _find(self.probability, value)

    def classify(self, severity: int, probability: int) -> RiskClass | None:
        """The risk class of a pair of level numbers, or None when either is off the scales."""
        if not (1 <= severity <= len(self.acceptability)):
            return None
        row = self.acceptability[severity - 1]
        if not (1 <= probability <= len(row)):
            return None
        return RiskClass(row[probability - 1])

    def severity_name(self, level: int) -> str:
        return _name(self.severity, level)

    @property
    def split(self) -> bool:
        """Whether the policy estimates probability as P1 x P2."""
        return bool(self.p1 and self.p2 and self.combination)

    def p1_level(self, value: Any) -> Level | None:
        """A P1 level; "not estimated" (a software cause, IEC 62304 4.3) is the highest one, assumed."""
        if isinstance(value, str) and value.strip().casefold() == NOT_ESTIMATED:
            return Level(0, NOT_ESTIMATED, "worst case assumed") if self.p1 else None
        return _find(self.p1, value)

    def p2_level(self, value: Any) -> Level | None:
        return _find(self.p2, value)

    def combine(self, p1: Level, p2: Level) -> int | None:
        """The overall probability level of a P1 and a P2 level ("not estimated" counts as the highest P1)."""
        row = len(self.p1) if p1.level == 0 else p1.level
        if not (1 <= row <= len(self.combination)) or not (1 <= p2.level <= len(self.combination[row - 1])):
            return None
        return self.combination[row - 1][p2.level - 1]

    def probability_name(self, level: int) -> str:
        return _name(self.probability, level)


#: the P1 value of a software cause whose probability of failure is not estimated
NOT_ESTIMATED = "not estimated"


def _find(levels: tuple[Level, ...], value: Any) -> Level | None:
    if isinstance(value, bool):
        return None
    digits = value.strip() if isinstance(value, str) else ""
    if isinstance(value, int) or (digits.isascii() and digits.isdigit() and len(digits) < 10):
        number = int(value)
        return next((level for level in levels if level.level == number), None)
    if isinstance(value, str):
        folded = value.strip().casefold()
        return next((level for level in levels if level.name.casefold() == folded), None)
    return None


def _name(levels: tuple[Level, ...], number: int) -> str:
    return next((level.name for level in levels if level.level == number), str(number))


def _default_policy() -> RiskPolicy:
    """The typical 5x5 policy (used by ``qms init`` and when a project states none)."""
    severity = (
        Level(1, "Negligible", "Inconvenience or temporary discomfort; no medical attention."),
        Level(2, "Minor", "Temporary injury or impairment not needing professional medical intervention."),
        Level(3, "Serious", "Injury or impairment needing professional medical intervention."),
        Level(4, "Critical", "Permanent impairment or life-threatening injury."),
        Level(5, "Catastrophic", "Death."),
    )
    probability = (
        Level(1, "Improbable", "Fewer than 1 in 1,000,000 uses."),
        Level(2, "Remote", "1 in 1,000,000 to 1 in 10,000 uses."),
        Level(3, "Occasional", "1 in 10,000 to 1 in 1,000 uses."),
        Level(4, "Probable", "1 in 1,000 to 1 in 100 uses."),
        Level(5, "Frequent", "1 in 100 uses or more."),
    )
    return RiskPolicy(severity, probability, ("AAAAR", "AARRU", "ARRUU", "RRUUU", "RUUUU"))


DEFAULT_POLICY = _default_policy()


@dataclass(frozen=True, slots=True)
class RiskEstimate:
    severity: int
    probability: int
    risk_class: RiskClass


@dataclass(frozen=True, slots=True)
class HazardRisk:
    """A hazard's risk before and after its controls (None where it cannot be evaluated)."""

    hazard: Item
    initial: RiskEstimate | None
    residual: RiskEstimate | None


def split_probability(policy: RiskPolicy, hazard: Item) -> int | None:
    """A hazard's initial probability from its ``p1`` and ``p2`` (P1 x P2 mode), or None."""
    if not policy.split:
        return None
    p1, p2 = policy.p1_level(hazard.get("p1")), policy.p2_level(hazard.get("p2"))
    return policy.combine(p1, p2) if p1 is not None and p2 is not None else None


def _estimate(policy: RiskPolicy, values: Mapping[str, Any] | None, probability: Any = None) -> RiskEstimate | None:
    if not values:
        return None
    severity = values.get("severity")
    probability = values.get("probability") if probability is None else probability
    if not isinstance(severity, int) or not isinstance(probability, int):
        return None
    risk_class = policy.classify(severity, probability)
    return RiskEstimate(severity, probability, risk_class) if risk_class else None


def hazard_risk(policy: RiskPolicy, hazard: Item) -> HazardRisk:
    """Initial and residual risk of a hazard item under the policy."""
    residual = hazard.get("residual")
    return HazardRisk(
        hazard,
        _estimate(policy, hazard.fields, split_probability(policy, hazard)),
        _estimate(policy, residual if isinstance(residual, Mapping) else None),
    )


# ------------------------------------------------------------------------------ the plan as data


@dataclass(frozen=True, slots=True)
class Responsibility:
    """A role of the risk management plan, who holds it and what it may decide (ISO 14971 4.4 b)."""

    role: str
    people: tuple[str, ...]
    authority: str = ""


@dataclass(frozen=True, slots=True)
class InformationSource:
    """A source of production and post-production information (ISO 14971 10.2)."""

    source: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class PostProduction:
    """How production and post-production information is collected and reviewed (ISO 14971 4.4 g, 10)."""

    sources: tuple[InformationSource, ...] = ()
    reviewed_by: str = ""
    frequency: str = ""
    reopen_criteria: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RiskPlan:
    """The ``risk_management`` section of ``qms.yaml``: the parts of the plan that are not scales."""

    responsibilities: tuple[Responsibility, ...] = ()
    reviews: tuple[str, ...] = ()
    overall_method: str = ""
    implementation_verification: str = ""
    effectiveness_verification: str = ""
    post_production: PostProduction = PostProduction()

    @property
    def missing(self) -> tuple[str, ...]:
        """The elements of ISO 14971 4.4 the plan does not state (b, c, e, f, g)."""
        stated = {
            "responsibilities (4.4 b)": bool(self.responsibilities),
            "review requirements (4.4 c)": bool(self.reviews),
            "method for the overall residual risk (4.4 e)": bool(self.overall_method),
            "verification of implementation (4.4 f)": bool(self.implementation_verification),
            "verification of effectiveness (4.4 f)": bool(self.effectiveness_verification),
            "production and post-production information (4.4 g)": bool(self.post_production.sources),
        }
        return tuple(name for name, present in stated.items() if not present)


def controls_of(project: Project) -> dict[str, list[str]]:
    """Each risk control measure (a requirement some hazard lists under ``controls``) and its hazards."""
    found: dict[str, list[str]] = {}
    for link in project.links:
        if link.field == "controls" and link.target in project.items:
            found.setdefault(link.target, []).append(link.source)
    return {control: sorted(set(hazards)) for control, hazards in found.items()}


def item_class(project: Project, item: Item) -> str:
    """A software item's safety class: its own, else its nearest parent's, else the device's (IEC 62304 4.3 d)."""
    seen: set[str] = set()
    current: Item | None = item
    while current is not None and current.id not in seen:
        seen.add(current.id)
        own = current.get("safety_class")
        if isinstance(own, str):
            return own
        parents = project.outgoing(current.id, "parent")
        current = parents[0] if parents else None
    return project.config.safety_class


# ------------------------------------------------------------------------------ the risk file, for documents


@dataclass(frozen=True, slots=True)
class Linked:
    """An item as a document lists it: id, title and, for verifiable items, its status."""

    id: str
    title: str
    status: str | None = None


@dataclass(frozen=True, slots=True)
class ControlRecord:
    """A risk control measure with both verifications, its 7.5 review and where its information is."""

    id: str
    title: str
    control_type: str
    hazards: tuple[str, ...]
    implementation: tuple[Linked, ...]
    status: str | None
    reviews: tuple[Linked, ...]
    introduces: tuple[str, ...]
    labeling: tuple[Linked, ...]


@dataclass(frozen=True, slots=True)
class CauseRecord:
    id: str
    title: str
    type: str
    items: tuple[Linked, ...]


@dataclass(frozen=True, slots=True)
class HazardRecord:
    """One row of the register: hazard -> causes -> items -> controls -> tests, and its risk."""

    id: str
    title: str
    initial: RiskEstimate | None
    residual: RiskEstimate | None
    p1: str
    p2: str
    causes: tuple[CauseRecord, ...]
    controls: tuple[ControlRecord, ...]
    effectiveness: tuple[Linked, ...]
    effectiveness_status: str | None
    identified_from: tuple[Linked, ...]
    disclosed_in: tuple[Linked, ...]
    residual_rationale: str
    benefit_risk: str
    benefit_risk_evidence: tuple[str, ...]


@dataclass(frozen=True)
class RiskFile:
    """What the risk management plan, register and report say, computed from the records."""

    policy: RiskPolicy
    plan: RiskPlan
    hazards: tuple[HazardRecord, ...]
    controls: tuple[ControlRecord, ...]
    characteristics: tuple[Item, ...]
    labeling: tuple[Item, ...]

    @property
    def residual_r(self) -> tuple[HazardRecord, ...]:
        """Hazards whose residual risk is in R: each needs a benefit-risk justification (7.4)."""
        return tuple(h for h in self.hazards if h.residual and h.residual.risk_class is RiskClass.REDUCE)

    @property
    def residual_u(self) -> tuple[HazardRecord, ...]:
        return tuple(h for h in self.hazards if h.residual and h.residual.risk_class is RiskClass.UNACCEPTABLE)

    @property
    def unreviewed(self) -> tuple[ControlRecord, ...]:
        """Controls with no 7.5 review."""
        return tuple(control for control in self.controls if not control.reviews)

    @property
    def introducing(self) -> tuple[ControlRecord, ...]:
        """Controls whose review found hazards they introduce."""
        return tuple(control for control in self.controls if control.introduces)

    @property
    def unimplemented(self) -> tuple[ControlRecord, ...]:
        """Controls whose implementation is verified by no test."""
        return tuple(control for control in self.controls if not control.implementation)

    @property
    def not_passed(self) -> tuple[ControlRecord, ...]:
        """Controls with verifying tests that did not all pass."""
        return tuple(c for c in self.controls if c.implementation and c.status != "passed")

    @property
    def ineffective(self) -> tuple[HazardRecord, ...]:
        """Controlled hazards whose effectiveness no test or analysis shows."""
        return tuple(h for h in self.hazards if h.controls and not h.effectiveness)

    @property
    def effectiveness_not_passed(self) -> tuple[HazardRecord, ...]:
        return tuple(h for h in self.hazards if h.effectiveness and h.effectiveness_status != "passed")

    @property
    def undisclosed(self) -> tuple[HazardRecord, ...]:
        return tuple(h for h in self.residual_r if not h.disclosed_in)

    @property
    def disclosed(self) -> tuple[HazardRecord, ...]:
        return tuple(h for h in self.hazards if h.disclosed_in)

    @property
    def without_cause(self) -> tuple[HazardRecord, ...]:
        return tuple(h for h in self.hazards if not h.causes)

    @property
    def without_origin(self) -> tuple[HazardRecord, ...]:
        return tuple(h for h in self.hazards if not h.identified_from)

    def by_type(self, control_type: str) -> tuple[ControlRecord, ...]:
        return tuple(control for control in self.controls if control.control_type == control_type)


class _Statuses(Protocol):
    def status(self, item_id: str) -> Any: ...


def _linked(project: Project, ids: Iterable[str], statuses: _Statuses | None) -> tuple[Linked, ...]:
    found = []
    for item_id in dict.fromkeys(ids):
        item = project.items.get(item_id)
        if item is not None:
            status = statuses.status(item_id) if statuses is not None else None
            found.append(Linked(item_id, str(item.get("title") or ""), str(status) if status is not None else None))
    return tuple(found)


def risk_file(project: Project, statuses: _Statuses | None = None) -> RiskFile:
    """The risk file of ``project``; ``statuses`` (a :class:`qms.status.StatusIndex`) gives verification states."""
    policy = project.config.risk_policy

    def sources(item_id: str, field_name: str, kind: str) -> list[str]:
        return [link.source for link in project.incoming(item_id, field_name, kind)]

    def status_of(item_id: str) -> str | None:
        status = statuses.status(item_id) if statuses is not None else None
        return str(status) if status is not None else None

    controls: dict[str, ControlRecord] = {}
    for control_id, controlled in controls_of(project).items():
        control = project.items[control_id]
        controls[control_id] = ControlRecord(
            control_id,
            str(control.get("title") or ""),
            str(control.get("control_type") or ""),
            tuple(controlled),
            _linked(project, sources(control_id, "verifies", "test"), statuses),
            status_of(control_id),
            _linked(project, sources(control_id, "reviews", "control_review"), None),
            tuple(sources(control_id, "arising_from", "hazard")),
            _linked(project, sources(control_id, "carries", "labeling"), statuses),
        )
    hazards: list[HazardRecord] = []
    for hazard in project.of_kind("hazard"):
        risk = hazard_risk(policy, hazard)
        causes = tuple(
            CauseRecord(
                cause.id,
                str(cause.get("title") or ""),
                str(cause.get("type") or ""),
                _linked(project, cause.links("items"), statuses),
            )
            for cause in project.outgoing(hazard.id, "causes")
        )
        hazards.append(
            HazardRecord(
                hazard.id,
                str(hazard.get("title") or ""),
                risk.initial,
                risk.residual,
                str(hazard.get("p1") or ""),
                str(hazard.get("p2") or ""),
                causes,
                tuple(controls[target] for target in hazard.links("controls") if target in controls),
                _linked(project, hazard.links("effectiveness"), statuses),
                status_of(hazard.id),
                _linked(project, sources(hazard.id, "leads_to", "safety_characteristic"), None),
                _linked(project, sources(hazard.id, "discloses", "labeling"), None),
                str(hazard.get("residual_rationale") or ""),
                str(hazard.get("benefit_risk") or ""),
                tuple(hazard.get("benefit_risk_evidence") or ()),
            )
        )
    return RiskFile(
        policy,
        project.config.risk_plan,
        tuple(hazards),
        tuple(controls[key] for key in sorted(controls, key=natural_key)),
        project.of_kind("safety_characteristic"),
        project.of_kind("labeling"),
    )
