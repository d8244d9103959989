"""The risk views: the register, the heat maps, the counts per risk class, the policy's scales and control types."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from qms.model import Item
from qms.reprs import plain_reprs
from qms.risk import RiskClass, RiskEstimate, RiskPolicy, hazard_risk
from qms.sphinx.views.build import BuildData, digest
from qms.sphinx.views.cells import Cell, Gap, ItemRef, Join, Lines, Risk, Status, TableView, Text
from qms.sphinx.views.items import project_inputs
from qms.sphinx.views.tables import plain


def risk_register(data: BuildData) -> TableView:
    """One row per hazard: harm, initial risk, controls with their evidence, residual risk."""
    return _risk_register(data, None)


def risk_register_part(data: BuildData, first: int, last: int) -> TableView:
    """The rows ``first`` to ``last`` of :func:`risk_register` (:class:`TableRows` ``part``), made alone."""
    return _risk_register(data, (first, last))


def _risk_register(data: BuildData, part: tuple[int, int] | None) -> TableView:
    policy = data.project.config.risk_policy
    hazards = data.project.of_kind("hazard")
    rows = []
    for hazard in hazards if part is None else hazards[part[0] - 1 : part[1]]:
        risk = hazard_risk(policy, hazard)
        controls = [data.project.items[t] for t in hazard.links("controls") if t in data.project.items]
        rows.append(
            (
                ItemRef(hazard.id, hazard.title),
                Text(plain(hazard.get("harm", ""))),
                _estimate_cell(policy, risk.initial),
                _controls_cell(data, controls),
                _controls_verified(data, controls),
                _estimate_cell(policy, risk.residual),
            )
        )
    columns = ("Hazard", "Harm", "Initial risk", "Risk controls", "Controls verified", "Residual risk")
    return TableView(columns, tuple(rows), "" if hazards else "No hazards recorded.")


def risk_register_inputs(data: BuildData) -> list[str]:
    """What the register reads: every hazard as written (its title, harm, estimates and controls), the
    project file (the risk policy), and of each control its title, its status and whether a test
    verifies it. A requirement's text, a test's title or an item no hazard names leaves it as it is."""
    project = data.project
    named = sorted({target for hazard in project.of_kind("hazard") for target in hazard.links("controls")})
    controls = [
        [name, item.title, data.verdict(name), bool(project.incoming(name, "verifies", "test"))]
        if (item := project.items.get(name)) is not None
        else [name]
        for name in named
    ]
    return [data.kind_content(("hazard",)), project_inputs(data), digest(controls)]


def risk_register_count(data: BuildData) -> int:
    """How many rows the register has (:class:`TableRows` ``count``): one a hazard."""
    return len(data.project.of_kind("hazard"))


def risk_register_made_of(data: BuildData, first: int, last: int) -> tuple[str, list[str]] | None:
    """What the rows ``first`` to ``last`` of the register are made of (:class:`TableRows` ``made_of``): its
    hazards, and their controls."""
    hazards = data.project.of_kind("hazard")
    if not hazards:
        return None  # the range says there is no hazard
    shown = hazards[first - 1 : last]
    return digest([hazard.id for hazard in shown]), [
        *(hazard.id for hazard in shown),
        *(control for hazard in shown for control in hazard.links("controls")),
    ]


def _estimate_cell(policy: RiskPolicy, estimate: RiskEstimate | None) -> Cell:
    if estimate is None:
        return Gap()
    severity = f"S{estimate.severity} {policy.severity_name(estimate.severity)}"
    text = f"{severity} / P{estimate.probability} {policy.probability_name(estimate.probability)}"
    return Risk(estimate.risk_class.value, text)


def _controls_cell(data: BuildData, controls: list[Item]) -> Cell:
    """A hazard's controls, each with its verification status."""
    if not controls:
        return Gap()
    lines: list[Cell] = []
    for control in controls:
        status = data.verdict(control.id)
        parts: tuple[Cell, ...] = (ItemRef(control.id, control.title),)
        if status is not None:
            parts += (Text(" "), Status(control.id, status))
        lines.append(Join(parts))
    return Lines(tuple(lines))


def _controls_verified(data: BuildData, controls: list[Item]) -> Cell:
    """How many of a hazard's controls a test verifies (and, with statuses, how many passed)."""
    if not controls:
        return Gap()
    verified = [c for c in controls if data.project.incoming(c.id, "verifies", "test")]
    text = f"{len(verified)} of {len(controls)} with a test"
    statuses = [data.verdict(control.id) for control in controls]
    if any(status is not None for status in statuses):
        text += f", {statuses.count('passed')} passed"
    return Text(text)


@dataclass(frozen=True, slots=True)
class HeatCell:
    """One cell of a heat map: its risk class letter, how many hazards it holds, and their ids."""

    letter: str
    count: int
    ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class HeatRow:
    level: int
    name: str
    cells: tuple[HeatCell, ...]


@dataclass(frozen=True, slots=True)
class RiskMatrixView:
    """A heat map ``when`` initial, residual or policy: severity rows (highest first), probability columns."""

    when: str
    probability: tuple[tuple[int, str], ...]
    rows: tuple[HeatRow, ...]
    total: int
    unevaluated: tuple[str, ...]

    @property
    def title(self) -> str:
        return {"initial": "Before risk control", "residual": "After risk control", "policy": "Acceptability policy"}[
            self.when
        ]

    @property
    def note(self) -> str:
        """The sentence under the map: how many hazards it places, and those it cannot (none for the policy)."""
        if self.when == "policy":
            return ""
        text = f"{self.total} hazard{'s' if self.total != 1 else ''} placed"
        if self.unevaluated:
            text += f"; not evaluated: {', '.join(self.unevaluated)}"
        return text + "."

    def shows_ids(self, option: str) -> bool:
        """Whether the cells list their hazards' ids: as the ``:ids:`` option says, else where the map
        places 40 hazards or fewer."""
        return (option or ("yes" if self.total <= 40 else "no")) == "yes"


def risk_matrix_view(data: BuildData, when: str) -> RiskMatrixView:
    """Hazard counts per (severity, probability) cell of the policy's matrix, before or after controls."""
    if when not in ("initial", "residual", "policy"):
        raise ValueError(f"unknown risk matrix '{when}': initial, residual or policy")
    policy = data.project.config.risk_policy
    counts: Counter[tuple[int, int]] = Counter()
    ids: dict[tuple[int, int], list[str]] = {}
    unevaluated = []
    if when != "policy":
        for hazard in data.project.of_kind("hazard"):
            risk = hazard_risk(policy, hazard)
            estimate = risk.initial if when == "initial" else risk.residual
            if estimate is None:
                if when == "initial" or hazard.links("controls"):
                    unevaluated.append(hazard.id)
                continue
            key = (estimate.severity, estimate.probability)
            counts[key] += 1
            ids.setdefault(key, []).append(hazard.id)
    rows = []
    for severity in reversed(policy.severity):  # highest severity at the top
        cells = []
        for probability in policy.probability:
            key = (severity.level, probability.level)
            risk_class = policy.classify(severity.level, probability.level)
            cells.append(HeatCell(risk_class.value if risk_class else "?", counts.get(key, 0), tuple(ids.get(key, []))))
        rows.append(HeatRow(severity.level, severity.name, tuple(cells)))
    return RiskMatrixView(
        when=when,
        probability=tuple((level.level, level.name) for level in policy.probability),
        rows=tuple(rows),
        total=sum(counts.values()),
        unevaluated=tuple(unevaluated),
    )


@dataclass(frozen=True, slots=True)
class RiskClassCount:
    """Hazards in one risk class (``?``: not evaluated) before and after risk control."""

    letter: str
    label: str
    initial: int
    residual: int


@dataclass(frozen=True, slots=True)
class RiskClassesView:
    rows: tuple[RiskClassCount, ...]
    total: int


def risk_classes(data: BuildData) -> RiskClassesView:
    """Hazards per risk class before and after controls (the risk management report's counts)."""
    policy = data.project.config.risk_policy
    initial: Counter[str] = Counter()
    residual: Counter[str] = Counter()
    for hazard in data.project.of_kind("hazard"):
        risk = hazard_risk(policy, hazard)
        initial[risk.initial.risk_class.value if risk.initial else "?"] += 1
        if risk.residual:
            residual[risk.residual.risk_class.value] += 1
        elif risk.initial and not hazard.links("controls"):
            residual[risk.initial.risk_class.value] += 1  # no controls: the initial risk remains
        else:
            residual["?"] += 1
    rows = tuple(
        RiskClassCount(
            letter,
            RiskClass(letter).label if letter != "?" else "not evaluated",
            initial.get(letter, 0),
            residual.get(letter, 0),
        )
        for letter in ("A", "R", "U", "?")
    )
    return RiskClassesView(rows, len(data.project.of_kind("hazard")))


@dataclass(frozen=True, slots=True)
class ScaleLevel:
    level: int
    name: str
    description: str


@dataclass(frozen=True, slots=True)
class PolicyScalesView:
    """The risk policy's severity and probability scales."""

    severity: tuple[ScaleLevel, ...]
    probability: tuple[ScaleLevel, ...]


def policy_scales(data: BuildData) -> PolicyScalesView:
    policy = data.project.config.risk_policy
    return PolicyScalesView(
        tuple(ScaleLevel(level.level, level.name, level.description) for level in policy.severity),
        tuple(ScaleLevel(level.level, level.name, level.description) for level in policy.probability),
    )


@dataclass(frozen=True, slots=True)
class ControlTypesView:
    """Risk control measures per type (``rows``: type and count), in ISO 14971 7.1 priority order."""

    rows: tuple[tuple[str, int], ...]
    total: int


def control_types(data: BuildData) -> ControlTypesView:
    """Risk control measures by type, in the ISO 14971 7.1 priority order."""
    controls = {link.target for link in data.project.links if link.field == "controls"}
    counts: Counter[str] = Counter()
    for control_id in controls:
        counts[str(data.project.items[control_id].get("control_type") or "unspecified")] += 1
    order = ("inherent_safety", "protective_measure", "information_for_safety", "unspecified")
    return ControlTypesView(tuple((name.replace("_", " "), counts.get(name, 0)) for name in order), len(controls))


plain_reprs(globals())  # their text is fingerprinted: see qms.reprs
