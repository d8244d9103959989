"""The risk file as the documents show it: each hazard with its causes, contributing items, controls
and their verifications, and the records of the analysis (ISO 14971 5-8, IEC 62304 7.1-7.3).

Above the model (it reads the project graph), unlike :mod:`qms.risk`, the policy that the project
settings hold.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from qms.elements import Item
from qms.matrix import natural_key
from qms.model import Project
from qms.risk import RiskClass, RiskEstimate, RiskPlan, RiskPolicy, hazard_risk


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
