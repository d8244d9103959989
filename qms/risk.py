"""ISO 14971 risk policy: severity and probability scales, the acceptability matrix, risk classes."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from qms.elements import Item


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
