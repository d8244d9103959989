"""What the technical file says about its own completeness, computed from the records.

The front page's coverage, the lists of open items behind it, the overall residual risk of the
risk management report, the release notes' verification status and the result of the release
check (the findings of ``qms check --release``, from :func:`qms.checking.release_findings`) all come
from here, and
every item's verification status from :meth:`~qms.sphinx.views.build.BuildData.verdict` (one status
function for the whole site). A measure that a rule of ``qms check`` asks for is shown only
when that rule is on for the device's class and settings; one that is open names its items.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from qms.checking import release_beside, release_findings
from qms.matrix import natural_key
from qms.model import Item, Severity
from qms.reprs import plain_reprs
from qms.risk import RiskClass, hazard_risk
from qms.rules import RULES
from qms.schema import KIND_ORDER, REQUIREMENT_KINDS
from qms.sphinx.views.build import BuildData
from qms.sphinx.views.items import FindingView, finding_view
from qms.status import WORST_FIRST

#: The page listing every open item of every measure (anchors ``open-<key>``).
OPEN_PAGE = "gaps"


@dataclass(frozen=True, slots=True)
class Measure:
    """One line of the coverage summary: which items it counts and when one of them is done."""

    key: str
    label: str
    docname: str  # the document that shows the detail
    rule: str | None  # the rule of qms check that asks for it (None: always asked)
    items: Callable[[BuildData], Iterable[Item]]
    done: Callable[[BuildData, Item], bool]
    #: what a done item may still carry, said beside the measure without making it open
    caveat: Caveat | None = None


@dataclass(frozen=True, slots=True)
class Caveat:
    """Items a measure counts as done that still carry something a reader must see, said beside the
    measure ("3 of them affected by an open anomaly") with a link to where they are shown."""

    said: str
    applies: Callable[[BuildData, Item], bool]
    docname: str
    anchor: str


def _passed(data: BuildData, item: Item) -> bool:
    return data.verdict(item.id) == "passed"


def _verified(data: BuildData, item: Item) -> bool:
    return bool(data.project.incoming(item.id, "verifies", "test"))


def open_anomalies(data: BuildData, item: Item) -> list[Item]:
    """The anomalies not closed that name ``item`` as one they affect (a known residual anomaly)."""
    return [
        data.project.items[link.source]
        for link in data.project.incoming(item.id, "affects", "anomaly")
        if data.project.items[link.source].get("status") != "closed"
    ]


def controls(data: BuildData) -> list[Item]:
    """The requirements some hazard names as its risk control measures, in id order."""
    ids = {link.target for link in data.project.links if link.field == "controls"}
    return sorted((data.project.items[i] for i in ids), key=lambda item: natural_key(item.id))


def _hazards(data: BuildData) -> list[Item]:
    return list(data.project.of_kind("hazard"))


def _controlled_or_acceptable(data: BuildData, hazard: Item) -> bool:
    risk = hazard_risk(data.project.config.risk_policy, hazard)
    initially = risk.initial is not None and risk.initial.risk_class is RiskClass.ACCEPTABLE
    return bool(hazard.links("controls")) or initially


def _hazard_controls(data: BuildData, hazard: Item) -> list[str]:
    return [target for target in hazard.links("controls") if target in data.project.items]


def _has_verified_control(data: BuildData, hazard: Item) -> bool:
    """A hazard that needs no control counts as done; else one of its controls must have passed."""
    linked = _hazard_controls(data, hazard)
    if not linked:
        return _controlled_or_acceptable(data, hazard)
    return any(data.verdict(control) == "passed" for control in linked)


def residual_estimate(data: BuildData, hazard: Item) -> Any:
    """The risk that remains: the residual estimate, or the initial one of a hazard without controls."""
    risk = hazard_risk(data.project.config.risk_policy, hazard)
    return risk.residual or (risk.initial if not hazard.links("controls") else None)


def _acceptable(data: BuildData, hazard: Item) -> bool:
    estimate = residual_estimate(data, hazard)
    if estimate is None:
        return False
    return estimate.risk_class is RiskClass.ACCEPTABLE or (
        estimate.risk_class is RiskClass.REDUCE and bool(hazard.get("benefit_risk"))
    )


def _of(*kinds: str) -> Callable[[BuildData], Iterable[Item]]:
    return lambda data: data.project.of_kind(*kinds)


MEASURES: tuple[Measure, ...] = (
    Measure(
        "requirements-traced-to-tests",
        "Requirements verified by a test",
        "traceability-matrix",
        "T103",
        _of(*REQUIREMENT_KINDS),
        _verified,
    ),
    Measure(
        "requirements-passed",
        "Requirements whose tests all passed",
        "verification",
        None,
        _of(*REQUIREMENT_KINDS),
        _passed,
        Caveat(
            "affected by an open anomaly",
            lambda data, item: bool(open_anomalies(data, item)),
            "release-notes",
            "rel-anomalies",
        ),
    ),
    Measure("tests-passed", "Tests with a passing result", "verification", None, _of("test"), _passed),
    Measure(
        "software-requirements-implemented",
        "Software requirements implemented by a software item",
        "software-architecture",
        "T105",
        _of("software_requirement"),
        lambda data, item: bool(data.project.incoming(item.id, "implements")),
    ),
    Measure(
        "needs-validated",
        "User needs validated by a test",
        "design-traceability",
        "T104",
        _of("need"),
        lambda data, item: bool(data.project.incoming(item.id, "validates", "test")),
    ),
    Measure("needs-passed", "User needs whose validation passed", "design-traceability", None, _of("need"), _passed),
    Measure(
        "hazards-controlled",
        "Hazards with risk controls or acceptable initial risk",
        "risk-register",
        "R202",
        _hazards,
        _controlled_or_acceptable,
    ),
    Measure(
        "controls-traced-to-tests", "Risk controls verified by a test", "risk-register", "R205", controls, _verified
    ),
    Measure("controls-passed", "Risk controls whose tests all passed", "risk-register", None, controls, _passed),
    Measure(
        "hazards-with-passed-control",
        "Hazards needing control that have a control whose tests all passed",
        "risk-register",
        None,
        _hazards,
        _has_verified_control,
    ),
    Measure(
        "hazards-acceptable",
        "Hazards with acceptable residual risk",
        "risk-management-report",
        "R204",
        _hazards,
        _acceptable,
    ),
)


def _rule_state(data: BuildData, code: str | None) -> str:
    """``""`` when the measure applies, else why it does not (the rule that asks for it is off)."""
    if code is None or code not in RULES:
        return ""
    rule = RULES[code]
    if rule.severity_for(data.project) is not Severity.OFF:
        return ""
    safety_class = data.project.config.safety_class
    if code in data.project.config.rules:
        return f"not required: {code} is off in qms.yaml"
    return f"not required: {code} applies to class {', '.join(rule.classes)} only, the device is class {safety_class}"


@dataclass(frozen=True, slots=True)
class MeasureRow:
    """One coverage measure: items done of ``total``, the open ones, or why it does not apply ("" if it does)."""

    key: str
    label: str
    docname: str
    done: int
    total: int
    open: tuple[str, ...]
    not_required: str
    #: of the items done, those its caveat names (:class:`Caveat`), what it says of them, and where
    #: they are shown (page, anchor): plain data, so that the row's fingerprint is its content
    caveated: tuple[str, ...] = ()
    caveat: tuple[str, str, str] = ("", "", "")


@dataclass(frozen=True, slots=True)
class CoverageView:
    """The coverage measures, the open findings of ``qms check``, and the page listing every open item."""

    rows: tuple[MeasureRow, ...]
    errors: int
    warnings: int
    items: int
    page: str


def coverage(data: BuildData) -> CoverageView:
    """The coverage summary: per measure, how many items are done, which are open, and whether it applies."""
    rows = []
    for measure in MEASURES:
        items = list(measure.items(data))
        if not items:
            continue
        not_required = _rule_state(data, measure.rule)
        open_ids = [] if not_required else [item.id for item in items if not measure.done(data, item)]
        open_ids.sort(key=natural_key)
        caveat = measure.caveat
        caveated = [] if caveat is None or not_required else [item.id for item in items if caveat.applies(data, item)]
        caveated = sorted(set(caveated) - set(open_ids), key=natural_key)
        rows.append(
            MeasureRow(
                key=measure.key,
                label=measure.label,
                docname=measure.docname,
                done=len(items) - len(open_ids),
                total=len(items),
                open=tuple(open_ids),
                not_required=not_required,
                caveated=tuple(caveated),
                caveat=(caveat.said, caveat.docname, caveat.anchor) if caveat is not None else ("", "", ""),
            )
        )
    errors = sum(1 for finding in data.findings if finding.severity is Severity.ERROR)
    warnings = sum(1 for finding in data.findings if finding.severity is Severity.WARNING)
    return CoverageView(tuple(rows), errors, warnings, len(data.project), OPEN_PAGE)


@dataclass(frozen=True, slots=True)
class OpenItem:
    """An item that keeps a measure open: its status and why it is not passed."""

    id: str
    title: str
    status: str | None
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OpenList:
    """One open measure (``total`` items) with exactly its open items."""

    key: str
    label: str
    total: int
    items: tuple[OpenItem, ...]


def open_items(data: BuildData) -> tuple[OpenList, ...]:
    """Every open measure with exactly its open items: id, title, status and why it is not passed."""
    lists = []
    view: CoverageView = data.answer(("coverage",))
    for row in view.rows:
        if not row.open:
            continue
        entries = []
        for item_id in row.open:
            item = data.project.items[item_id]
            found = data.statuses.of(item_id) if data.statuses is not None else None
            reasons = tuple(found.reasons) if found is not None else ()
            entries.append(OpenItem(item_id, item.title, data.verdict(item_id), reasons))
        lists.append(OpenList(row.key, row.label, row.total, tuple(entries)))
    return tuple(lists)


@dataclass(frozen=True, slots=True)
class RiskProblem:
    """What keeps the overall residual risk open, the items concerned, and whether their statuses are shown."""

    label: str
    ids: tuple[str, ...]
    with_status: bool


@dataclass(frozen=True, slots=True)
class OverallRiskView:
    hazards: int
    controls: int
    controls_passed: int
    acceptable: bool
    problems: tuple[RiskProblem, ...]
    risk_findings: int
    #: whether the plan names its sources of production and post-production information (ISO 14971 10)
    post_production_planned: bool = False


def overall_risk(data: BuildData) -> OverallRiskView:
    """The overall residual risk by the plan's method: what keeps it from being acceptable, if anything."""
    unacceptable, unjustified, unevaluated, uncontrolled = [], [], [], []
    for hazard in sorted(data.project.of_kind("hazard"), key=lambda item: natural_key(item.id)):
        estimate = residual_estimate(data, hazard)
        if estimate is None:
            unevaluated.append(hazard.id)
        elif estimate.risk_class is RiskClass.UNACCEPTABLE:
            unacceptable.append(hazard.id)
        elif estimate.risk_class is RiskClass.REDUCE and not hazard.get("benefit_risk"):
            unjustified.append(hazard.id)
        if not _has_verified_control(data, hazard):
            uncontrolled.append(hazard.id)
    measures = controls(data)
    untested = [control.id for control in measures if not _verified(data, control)]
    by_status: dict[str, list[str]] = {}
    for control in measures:
        status = data.verdict(control.id)
        if status is not None and status != "passed" and control.id not in untested:
            by_status.setdefault(status, []).append(control.id)
    risk_findings = sum(
        1 for finding in data.findings if finding.rule.startswith("R") and finding.severity is Severity.ERROR
    )
    problems = tuple(
        RiskProblem(label, tuple(ids), with_status)
        for label, ids, with_status in (
            ("hazards with an unacceptable residual risk (U)", unacceptable, False),
            ("hazards with a residual risk in R and no benefit-risk justification", unjustified, False),
            ("hazards whose residual risk is not evaluated", unevaluated, False),
            ("hazards needing control with no control whose tests all passed", uncontrolled, False),
            ("risk control measures not verified by any test", untested, False),
            *(
                (f"risk control measures whose verification is {status}", ids, True)
                for status, ids in by_status.items()
            ),
        )
        if ids
    )
    passed = sum(1 for control in measures if data.verdict(control.id) == "passed")
    return OverallRiskView(
        hazards=len(data.project.of_kind("hazard")),
        controls=len(measures),
        controls_passed=passed,
        acceptable=not problems and not risk_findings,
        problems=problems,
        risk_findings=risk_findings,
        post_production_planned=bool(data.project.config.risk_plan.post_production.sources),
    )


@dataclass(frozen=True, slots=True)
class OpenMeasure:
    """A verification measure: ``still_open`` of ``total`` items not passed."""

    key: str
    label: str
    still_open: int
    total: int


@dataclass(frozen=True, slots=True)
class VerificationView:
    """Items per kind by status (``rows``: kind and a count per status, in the order of ``statuses``)."""

    statuses: tuple[str, ...]
    rows: tuple[tuple[str, tuple[int, ...]], ...]
    cases: int
    records: int
    measures: tuple[OpenMeasure, ...]
    page: str


def verification_view(data: BuildData) -> VerificationView:
    """Items by verification status, per kind (the status function's summary), and what was read."""
    summary = data.statuses.summary() if data.statuses is not None else {}
    order = tuple(status.value for status in WORST_FIRST)
    rows = tuple(
        (kind, tuple(summary[kind].get(status, 0) for status in order)) for kind in KIND_ORDER if kind in summary
    )
    coverage_view: CoverageView = data.answer(("coverage",))
    measures = {row.key: row for row in coverage_view.rows}
    open_lists = tuple(
        OpenMeasure(key, measures[key].label, len(measures[key].open), measures[key].total)
        for key in ("tests-passed", "requirements-passed", "needs-passed")
        if key in measures
    )
    return VerificationView(
        statuses=order,
        rows=rows,
        cases=len(data.evidence.cases) if data.evidence is not None else 0,
        records=len(data.records.records) if data.records is not None else 0,
        measures=open_lists,
        page=OPEN_PAGE,
    )


#: Rule families a page cannot state for itself: the approval of the documents it is part of
#: (stating them would change the page, and so its approval); the document-control block shows them.
APPROVAL_RULES = ("A",)


@dataclass(frozen=True, slots=True)
class ReleaseCheckView:
    """The result of the release check at this revision, without the approval findings (``ran``:
    whether the build ran it at all)."""

    ran: bool
    errors: int
    warnings: int
    findings: tuple[FindingView, ...]
    page: str


def release_check(data: BuildData) -> ReleaseCheckView:
    """What ``qms check --release`` reports on the records of this build, apart from the approvals."""
    if data.check is None:
        return ReleaseCheckView(False, 0, 0, (), OPEN_PAGE)
    beside = release_beside(data.project)  # found by the check beside the build, of the same records
    released = beside if beside is not None else release_findings(data.check, data.findings)
    found = [finding for finding in released if not finding.rule.startswith(APPROVAL_RULES)]
    return ReleaseCheckView(
        ran=True,
        errors=sum(1 for finding in found if finding.severity is Severity.ERROR),
        warnings=sum(1 for finding in found if finding.severity is Severity.WARNING),
        findings=tuple(finding_view(finding) for finding in found),
        page=OPEN_PAGE,
    )


plain_reprs(globals())  # their text is fingerprinted: see qms.reprs
