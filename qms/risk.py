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

    def probability_name(self, level: int) -> str:
        return _name(self.probability, level)


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


def _estimate(policy: RiskPolicy, values: Mapping[str, Any] | None) -> RiskEstimate | None:
    if not values:
        return None
    severity, probability = values.get("severity"), values.get("probability")
    if not isinstance(severity, int) or not isinstance(probability, int):
        return None
    risk_class = policy.classify(severity, probability)
    return RiskEstimate(severity, probability, risk_class) if risk_class else None


def hazard_risk(policy: RiskPolicy, hazard: Item) -> HazardRisk:
    """Initial and residual risk of a hazard item under the policy."""
    residual = hazard.get("residual")
    return HazardRisk(
        hazard,
        _estimate(policy, hazard.fields),
        _estimate(policy, residual if isinstance(residual, Mapping) else None),
    )
