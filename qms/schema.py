"""The one definition of every item kind and of ``qms.yaml``.

Validation (:mod:`qms.validate`), the published JSON Schemas (``qms schema``), documentation
tables and Excel column headers are all derived from the specs below.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from qms.resultid import entry_problem

ID_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")
EXTENSION_PREFIX = "x-"


class FieldType(enum.Enum):
    TEXT = "text"  # reStructuredText prose
    STRING = "string"  # a short single value (version, reference)
    STRINGS = "strings"  # a list of short values
    TEXTS = "texts"  # a list of prose entries (test steps)
    LINKS = "links"  # a list of ids
    CHOICE = "choice"  # one of ``choices``
    SEVERITY = "severity"  # a severity level of the risk policy (number or name)
    PROBABILITY = "probability"  # a probability level of the risk policy (number or name)
    RESIDUAL = "residual"  # {severity, probability}
    ANOMALY_REVIEWS = "anomaly_reviews"  # list of {ref, evaluation}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    type: FieldType
    description: str
    required: bool = False
    choices: tuple[str, ...] = ()
    #: for LINKS: the kinds a link may point at (empty: any kind)
    targets: tuple[str, ...] = ()
    #: a required field whose absence a dedicated rule reports instead of Q002
    missing_rule: str | None = None
    #: for LINKS: the link's meaning read forward ("verifies") and backward ("verified by")
    label: str = ""
    reverse: str = ""
    #: for LINKS: True when the link points up the trace, toward design inputs
    upward: bool = True
    #: for STRINGS: what is wrong with one entry (a Q002 at the entry), or None when it is fine; left
    #: out of the spec's ``repr``, which keys what is made of a layout (a function's names its address,
    #: another in every process: a workbook's sheet of tests was never found by its inputs)
    entry_check: Callable[[str], str | None] | None = field(default=None, repr=False)

    @property
    def is_link(self) -> bool:
        return self.type is FieldType.LINKS


@dataclass(frozen=True, slots=True)
class KindSpec:
    name: str
    title: str  # plural, for headings
    prefix: str  # suggested id prefix
    description: str
    fields: tuple[FieldSpec, ...]

    def field(self, name: str) -> FieldSpec | None:
        for spec in self.fields:
            if spec.name == name:
                return spec
        return None

    @property
    def link_fields(self) -> tuple[FieldSpec, ...]:
        return tuple(spec for spec in self.fields if spec.is_link)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(spec.name for spec in self.fields)


REQUIREMENT_KINDS = ("system_requirement", "software_requirement")
CONTROL_TYPES = ("inherent_safety", "protective_measure", "information_for_safety")
SAFETY_CLASSES = ("A", "B", "C")

_TITLE = FieldSpec("title", FieldType.STRING, "Short name of the item.", required=True)
_RATIONALE = FieldSpec("rationale", FieldType.TEXT, "Why the item exists or is worded as it is.")
_DERIVED = FieldSpec("derived", FieldType.TEXT, "Rationale for a requirement that has no parent on purpose.")
_CONTROL_TYPE = FieldSpec(
    "control_type",
    FieldType.CHOICE,
    "Marks the requirement as a risk control measure, in the ISO 14971 7.1 priority order.",
    choices=CONTROL_TYPES,
)
_SAFETY_CLASS = FieldSpec(
    "safety_class",
    FieldType.CHOICE,
    "IEC 62304 software safety class, where it differs from the device's.",
    choices=SAFETY_CLASSES,
)

#: Requirement types of IEC 62304 5.2.2 (our names) with their labels, in the clause's order.
REQUIREMENT_TYPES: Mapping[str, str] = {
    "functional": "Functional and capability",
    "performance": "Performance",
    "inputs_outputs": "Inputs and outputs (ranges, limits, defaults)",
    "interface": "Interfaces",
    "alarm": "Alarms, warnings and operator messages",
    "security": "Security",
    "usability": "User interface and usability",
    "data": "Data definition and database",
    "installation": "Installation and acceptance",
    "operation": "Operation and maintenance methods",
    "network": "IT network",
    "user_maintenance": "User maintenance",
    "regulatory": "Regulatory",
}
_REQUIREMENT_TYPE = FieldSpec(
    "type",
    FieldType.CHOICE,
    "The kind of requirement, by the categories of IEC 62304 5.2.2 (the SRS covers each type).",
    choices=tuple(REQUIREMENT_TYPES),
)

#: The fields that only classify an item: the requirement type (IEC 62304 5.2.2), the control
#: type (ISO 14971 7.1) and the safety class (IEC 62304 4.3). None states a behaviour a test
#: observes, so changing one leaves test results current (E407), as changing the text does not.
CLASSIFYING_FIELDS: frozenset[FieldSpec] = frozenset({_REQUIREMENT_TYPE, _CONTROL_TYPE, _SAFETY_CLASS})


def _requirement_text() -> FieldSpec:
    return FieldSpec("text", FieldType.TEXT, "The requirement, as a 'shall' statement.", required=True)


KINDS: dict[str, KindSpec] = {
    spec.name: spec
    for spec in (
        KindSpec(
            "need",
            "User needs",
            "NEED",
            "A user need or intended-use statement: a design input validated with users (ISO 13485 7.3.3, 7.3.7).",
            (
                _TITLE,
                FieldSpec("text", FieldType.TEXT, "The need, in the user's terms.", required=True),
                _RATIONALE,
                FieldSpec(
                    "source", FieldType.STRING, "Where the need comes from (user research, standard, regulation)."
                ),
            ),
        ),
        KindSpec(
            "system_requirement",
            "System requirements",
            "SYS",
            "A requirement on the whole system, refined from user needs (IEC 62304 5.1.3, ISO 13485 7.3.3).",
            (
                _TITLE,
                _requirement_text(),
                _RATIONALE,
                _DERIVED,
                _CONTROL_TYPE,
                FieldSpec(
                    "derives_from",
                    FieldType.LINKS,
                    "The user needs this requirement refines.",
                    targets=("need",),
                    label="derives from",
                    reverse="refined by",
                ),
                _REQUIREMENT_TYPE,
            ),
        ),
        KindSpec(
            "software_requirement",
            "Software requirements",
            "SWR",
            "A software requirement, derived from system requirements (IEC 62304 5.2).",
            (
                _TITLE,
                _requirement_text(),
                _RATIONALE,
                _DERIVED,
                _CONTROL_TYPE,
                _SAFETY_CLASS,
                FieldSpec(
                    "derives_from",
                    FieldType.LINKS,
                    "The system requirements this requirement refines.",
                    targets=("system_requirement",),
                    label="derives from",
                    reverse="refined by",
                ),
                _REQUIREMENT_TYPE,
            ),
        ),
        KindSpec(
            "software_item",
            "Software items",
            "SI",
            "A software item of the architecture (IEC 62304 5.3, 5.4).",
            (
                _TITLE,
                FieldSpec("description", FieldType.TEXT, "What the item does and how.", required=True),
                _SAFETY_CLASS,
                FieldSpec(
                    "interfaces", FieldType.TEXT, "Interfaces to other items and to external hardware and software."
                ),
                FieldSpec(
                    "parent",
                    FieldType.LINKS,
                    "The software item this one is part of.",
                    targets=("software_item",),
                    label="part of",
                    reverse="contains",
                ),
                FieldSpec(
                    "implements",
                    FieldType.LINKS,
                    "The software requirements this item implements.",
                    targets=("software_requirement",),
                    label="implements",
                    reverse="implemented by",
                ),
                FieldSpec(
                    "uses",
                    FieldType.LINKS,
                    "The SOUP items this item uses.",
                    targets=("soup",),
                    label="uses",
                    reverse="used by",
                    upward=False,
                ),
                FieldSpec(
                    "segregation",
                    FieldType.TEXT,
                    "The segregation this item relies on and the mechanism that makes it effective (IEC 62304 5.3.5).",
                ),
                FieldSpec(
                    "segregated_from",
                    FieldType.LINKS,
                    "The software items this item is segregated from.",
                    targets=("software_item",),
                    label="segregated from",
                    reverse="segregated from",
                    upward=False,
                ),
            ),
        ),
        KindSpec(
            "soup",
            "SOUP",
            "SOUP",
            "Software of unknown provenance: third-party software the device includes (IEC 62304 8.1.2, 5.3.3, 7.1.3).",
            (
                _TITLE,
                FieldSpec(
                    "version",
                    FieldType.STRING,
                    "Unique designator: version, date or patch.",
                    required=True,
                    missing_rule="S301",
                ),
                FieldSpec(
                    "supplier", FieldType.STRING, "Manufacturer or maintainer.", required=True, missing_rule="S301"
                ),
                FieldSpec("purpose", FieldType.TEXT, "Why the device uses it."),
                FieldSpec("license", FieldType.STRING, "Licence (SPDX identifier)."),
                FieldSpec(
                    "requirements",
                    FieldType.TEXT,
                    "Functional, performance and platform requirements it must meet (5.3.3, 5.3.4).",
                ),
                FieldSpec(
                    "known_anomalies",
                    FieldType.ANOMALY_REVIEWS,
                    "Published anomalies reviewed for this version, each with its evaluation (7.1.3).",
                ),
                FieldSpec("anomaly_list_url", FieldType.STRING, "Where the supplier publishes its anomaly list."),
                FieldSpec(
                    "hazards",
                    FieldType.LINKS,
                    "The hazards its known anomalies, as evaluated, contribute to (7.1.3); [] when none does.",
                    targets=("hazard",),
                    label="anomalies contribute to",
                    reverse="SOUP anomalies contributing",
                ),
            ),
        ),
        KindSpec(
            "hazard",
            "Hazards",
            "HAZ",
            "A hazard with its hazardous situation, harm and risk before and after controls (ISO 14971 5-7).",
            (
                _TITLE,
                FieldSpec("hazard", FieldType.TEXT, "The potential source of harm (or software cause).", required=True),
                FieldSpec("sequence_of_events", FieldType.TEXT, "How the hazard leads to the hazardous situation."),
                FieldSpec(
                    "hazardous_situation",
                    FieldType.TEXT,
                    "The circumstance in which people are exposed.",
                    required=True,
                ),
                FieldSpec("harm", FieldType.TEXT, "The injury or damage that may result.", required=True),
                FieldSpec(
                    "severity",
                    FieldType.SEVERITY,
                    "Severity of the harm (risk policy level).",
                    required=True,
                    missing_rule="R201",
                ),
                FieldSpec(
                    "probability",
                    FieldType.PROBABILITY,
                    "Probability of the harm before controls (risk policy level).",
                    required=True,
                    missing_rule="R201",
                ),
                FieldSpec("residual", FieldType.RESIDUAL, "Severity and probability after controls."),
                FieldSpec(
                    "benefit_risk",
                    FieldType.TEXT,
                    "Benefit-risk justification for a residual risk that stays high (ISO 14971 7.4).",
                ),
                FieldSpec("category", FieldType.STRING, "Grouping for the risk register."),
                FieldSpec(
                    "controls",
                    FieldType.LINKS,
                    "The requirements that are this hazard's risk control measures.",
                    targets=REQUIREMENT_KINDS,
                    label="controlled by",
                    reverse="controls hazard",
                    upward=False,
                ),
                FieldSpec(
                    "arising_from",
                    FieldType.LINKS,
                    "Risk control measures that introduce this hazard (ISO 14971 7.5).",
                    targets=REQUIREMENT_KINDS,
                    label="arises from control",
                    reverse="introduces hazard",
                ),
            ),
        ),
        KindSpec(
            "test",
            "Tests",
            "TST",
            "A verification or validation activity and its procedure (IEC 62304 5.5-5.7, ISO 13485 7.3.6-7.3.7).",
            (
                _TITLE,
                FieldSpec(
                    "method",
                    FieldType.CHOICE,
                    "How the item is verified.",
                    required=True,
                    choices=("test", "inspection", "analysis", "demonstration"),
                ),
                FieldSpec(
                    "level", FieldType.CHOICE, "Test level.", choices=("unit", "integration", "system", "validation")
                ),
                FieldSpec("steps", FieldType.TEXTS, "Procedure, one step per entry."),
                FieldSpec("expected", FieldType.TEXT, "Expected outcome and pass criteria."),
                FieldSpec(
                    "evidence",
                    FieldType.STRINGS,
                    "JUnit test ids whose results prove this test (file::name or classname.name).",
                    entry_check=entry_problem,
                ),
                FieldSpec(
                    "verifies",
                    FieldType.LINKS,
                    "The requirements, software items and software units this test verifies.",
                    targets=(*REQUIREMENT_KINDS, "software_item", "software_unit"),
                    label="verifies",
                    reverse="verified by",
                ),
                FieldSpec(
                    "validates",
                    FieldType.LINKS,
                    "The user needs this test validates.",
                    targets=("need",),
                    label="validates",
                    reverse="validated by",
                ),
            ),
        ),
        KindSpec(
            "anomaly",
            "Anomalies",
            "ANOM",
            "A known software anomaly (problem report) and its evaluation (IEC 62304 5.8.2, 5.8.3, 9).",
            (
                _TITLE,
                FieldSpec(
                    "status",
                    FieldType.CHOICE,
                    "Whether the anomaly is still present.",
                    required=True,
                    choices=("open", "closed"),
                ),
                FieldSpec(
                    "severity",
                    FieldType.SEVERITY,
                    "Severity of the harm it could contribute to (risk policy level).",
                    required=True,
                ),
                FieldSpec("evaluation", FieldType.TEXT, "Why it does not cause an unacceptable risk (5.8.3)."),
                FieldSpec("fixed_in", FieldType.STRING, "Version that fixes it."),
                FieldSpec(
                    "affects",
                    FieldType.LINKS,
                    "Items the anomaly affects.",
                    label="affects",
                    reverse="affected by anomaly",
                ),
            ),
        ),
    )
}

# --------------------------------------------------------------------------- lifecycle records
# Problem reports, change requests, design reviews (IEC 62304 6.2, 8.2, 9; ISO 13485 7.3.5,
# 7.3.9) and detailed design (IEC 62304 5.4, 5.5.3).

#: Kinds that record the life cycle (problems, changes, reviews) rather than the design itself:
#: a change to one of them needs no change request.
LIFECYCLE_RECORD_KINDS = ("problem_report", "change_request", "design_review")
_DATE = FieldSpec("date", FieldType.STRING, "When it happened (YYYY-MM-DD).", required=True)

KINDS.update(
    (spec.name, spec)
    for spec in (
        KindSpec(
            "software_unit",
            "Software units",
            "SU",
            "A software unit and its detailed design: interfaces, design, acceptance criteria (IEC 62304 5.4, 5.5.3).",
            (
                _TITLE,
                FieldSpec("design", FieldType.TEXT, "The unit's detailed design (5.4.2).", required=True),
                FieldSpec("interfaces", FieldType.TEXT, "The unit's interfaces (5.4.3).", required=True),
                FieldSpec(
                    "acceptance_criteria",
                    FieldType.TEXTS,
                    "Unit acceptance criteria, one per entry, that the tests verifying the unit show met (5.5.3).",
                    required=True,
                ),
                FieldSpec("source", FieldType.STRINGS, "Where the unit is implemented: module or module::function."),
                _SAFETY_CLASS,
                FieldSpec(
                    "parent",
                    FieldType.LINKS,
                    "The software item this unit is part of.",
                    required=True,
                    targets=("software_item",),
                    label="part of",
                    reverse="detailed by unit",
                ),
            ),
        ),
        KindSpec(
            "problem_report",
            "Problem reports",
            "PR",
            "A problem in the software, its investigation and resolution (IEC 62304 6.2.1, 9).",
            (
                _TITLE,
                FieldSpec("description", FieldType.TEXT, "What was observed, and where.", required=True),
                FieldSpec(
                    "source",
                    FieldType.CHOICE,
                    "Where the problem came from.",
                    required=True,
                    choices=("complaint", "field", "test", "review"),
                ),
                _DATE,
                FieldSpec(
                    "type",
                    FieldType.CHOICE,
                    "Type of the problem (9.1).",
                    required=True,
                    choices=("corrective", "preventive", "adaptive"),
                ),
                FieldSpec(
                    "criticality",
                    FieldType.CHOICE,
                    "What the problem affects at worst (9.1).",
                    required=True,
                    choices=("safety", "security", "performance", "none"),
                ),
                FieldSpec(
                    "status",
                    FieldType.CHOICE,
                    "Where the problem stands.",
                    required=True,
                    choices=("open", "investigating", "resolved", "closed"),
                ),
                FieldSpec("investigation", FieldType.TEXT, "The investigation and its outcome (9.2)."),
                FieldSpec("root_cause", FieldType.TEXT, "The root cause found."),
                FieldSpec(
                    "safety_relevance",
                    FieldType.TEXT,
                    "The risk re-evaluation: whether the problem is relevant to safety, and why (9.2).",
                ),
                FieldSpec("releases", FieldType.STRINGS, "The released versions the problem affects."),
                FieldSpec("parties_advised", FieldType.STRINGS, "Who was advised of the problem, and when (9.3)."),
                FieldSpec(
                    "no_action_rationale",
                    FieldType.TEXT,
                    "Why no change is made, for a problem no change request resolves (9.2).",
                ),
                FieldSpec("verification", FieldType.TEXT, "How the resolution was verified (9.7)."),
                FieldSpec(
                    "affects",
                    FieldType.LINKS,
                    "The items the problem affects.",
                    label="affects",
                    reverse="affected by problem",
                ),
                FieldSpec(
                    "hazards",
                    FieldType.LINKS,
                    "The hazards re-assessed because of the problem (9.2).",
                    targets=("hazard",),
                    label="re-assesses",
                    reverse="re-assessed by problem",
                ),
                FieldSpec(
                    "verified_by",
                    FieldType.LINKS,
                    "The tests that verify the fix (9.7).",
                    targets=("test",),
                    label="fix verified by",
                    reverse="verifies fix of",
                ),
            ),
        ),
        KindSpec(
            "change_request",
            "Change requests",
            "CR",
            "A change to the software: why, what it changes, its risk analysis and approval (IEC 62304 6.2.3, "
            "6.2.4, 7.4, 8.2; ISO 13485 7.3.9).",
            (
                _TITLE,
                FieldSpec("rationale", FieldType.TEXT, "Why the change is made.", required=True),
                FieldSpec(
                    "status",
                    FieldType.CHOICE,
                    "Where the change stands.",
                    required=True,
                    choices=("proposed", "approved", "implemented", "verified", "rejected"),
                ),
                FieldSpec(
                    "impact",
                    FieldType.TEXT,
                    "Effect on the organisation, released software and interfacing systems (6.2.3).",
                ),
                FieldSpec(
                    "risk_analysis",
                    FieldType.TEXT,
                    "Safety impact: new causes of hazardous situations, effect on existing risk controls (7.4).",
                ),
                FieldSpec("approved_by", FieldType.STRING, "Who approved the change (6.2.4)."),
                FieldSpec("approved_on", FieldType.STRING, "When the change was approved (YYYY-MM-DD)."),
                FieldSpec("release", FieldType.STRING, "The release that carries the change."),
                FieldSpec("verification", FieldType.TEXT, "How the change was verified (8.2.3)."),
                FieldSpec("retires", FieldType.STRINGS, "Ids of the items the change removes."),
                FieldSpec(
                    "resolves",
                    FieldType.LINKS,
                    "The problem reports the change resolves.",
                    targets=("problem_report",),
                    label="resolves",
                    reverse="resolved by",
                ),
                FieldSpec(
                    "changes",
                    FieldType.LINKS,
                    "The items the change adds or modifies.",
                    label="changes",
                    reverse="changed by",
                ),
                FieldSpec(
                    "hazards",
                    FieldType.LINKS,
                    "The hazards the change affects or introduces (7.4.1).",
                    targets=("hazard",),
                    label="affects hazard",
                    reverse="affected by change",
                ),
                FieldSpec(
                    "controls_changed",
                    FieldType.LINKS,
                    "The risk control measures the change alters (7.4.2).",
                    targets=REQUIREMENT_KINDS,
                    label="alters control",
                    reverse="altered by change",
                ),
            ),
        ),
        KindSpec(
            "design_review",
            "Design reviews",
            "DR",
            "A design review closing a stage of the design plan (ISO 13485 7.3.5; IEC 62304 5.2.6, 5.3.6, 5.4.4).",
            (
                _TITLE,
                FieldSpec(
                    "stage", FieldType.STRING, "The stage of `design_stages` in qms.yaml it closes.", required=True
                ),
                _DATE,
                FieldSpec("participants", FieldType.STRINGS, "Who took part, with their function.", required=True),
                FieldSpec(
                    "independent_reviewer",
                    FieldType.STRING,
                    "The participant with no direct responsibility for the stage under review.",
                    required=True,
                ),
                FieldSpec(
                    "outcome",
                    FieldType.CHOICE,
                    "The decision of the review.",
                    required=True,
                    choices=("approved", "approved_with_actions", "rejected"),
                ),
                FieldSpec(
                    "documents",
                    FieldType.STRINGS,
                    "The documents reviewed, each with its revision (for example `SRS 2.1.0 @ 1a2b3c4`).",
                ),
                FieldSpec("summary", FieldType.TEXT, "What the review found."),
                FieldSpec("actions", FieldType.TEXTS, "Actions decided, one per entry."),
                FieldSpec(
                    "reviewed",
                    FieldType.LINKS,
                    "The items reviewed.",
                    label="reviews",
                    reverse="reviewed in",
                ),
                FieldSpec(
                    "raised",
                    FieldType.LINKS,
                    "The change requests and problem reports its actions raised.",
                    targets=("change_request", "problem_report"),
                    label="raised",
                    reverse="raised by review",
                ),
            ),
        ),
    )
)

# --------------------------------------------------------------------------- risk analysis records
# ISO 14971 5.2-5.5, 7.1-7.5 and 8, IEC 62304 7.1-7.3: causes and contributing items, foreseeable
# misuse and characteristics related to safety, labelling, the reviews of controls for new
# risks, and the fields that record a control's effectiveness and a residual risk's reasons.

CAUSE_TYPES = ("specification", "software_defect", "soup_failure", "hardware_failure", "other_software", "misuse")
LABELING_TYPES = ("ifu", "warning", "label", "training")
SAFETY_ASPECTS = ("intended_use", "foreseeable_misuse", "characteristic")


def _with(kind: str, *fields: FieldSpec) -> KindSpec:
    spec = KINDS[kind]
    return KindSpec(spec.name, spec.title, spec.prefix, spec.description, (*spec.fields, *fields))


KINDS.update(
    {
        "software_item": _with(
            "software_item",
            FieldSpec(
                "no_hazard_rationale",
                FieldType.TEXT,
                "For a class B or C item that no cause names: why its failure contributes to no hazardous situation "
                "(IEC 62304 7.1.1).",
            ),
        ),
        "hazard": _with(
            "hazard",
            FieldSpec(
                "p1",
                FieldType.STRING,
                "P1 x P2 mode: probability that the hazardous situation occurs (a P1 level, or 'not estimated' for a "
                "software cause: the worst case is assumed).",
            ),
            FieldSpec(
                "p2", FieldType.STRING, "P1 x P2 mode: probability that the hazardous situation leads to the harm."
            ),
            FieldSpec(
                "residual_rationale",
                FieldType.TEXT,
                "Why the residual severity is lower than the initial one, or why a software-only control earns the "
                "lowest probability (ISO 14971 7.3).",
            ),
            FieldSpec(
                "benefit_risk_evidence",
                FieldType.STRINGS,
                "What the benefit-risk justification rests on: item ids, document ids or project files (7.4).",
            ),
            FieldSpec(
                "effectiveness",
                FieldType.LINKS,
                "The tests and analyses that show this hazard's risk control measures effective (ISO 14971 7.2).",
                targets=("test",),
                label="control effectiveness shown by",
                reverse="shows control effectiveness for",
                upward=False,
            ),
            FieldSpec(
                "causes",
                FieldType.LINKS,
                "The causes whose sequence of events leads to the hazardous situation (IEC 62304 7.1.2, 7.1.4).",
                targets=("cause",),
                label="caused by",
                reverse="leads to hazard",
                upward=False,
            ),
        ),
        "cause": KindSpec(
            "cause",
            "Causes",
            "CAUSE",
            "A cause of a hazardous situation and the software items and SOUP whose failure contributes to it "
            "(IEC 62304 7.1.1-7.1.4).",
            (
                _TITLE,
                FieldSpec("description", FieldType.TEXT, "The cause and its sequence of events.", required=True),
                FieldSpec(
                    "type", FieldType.CHOICE, "The kind of cause (IEC 62304 7.1.2).", required=True, choices=CAUSE_TYPES
                ),
                FieldSpec(
                    "items",
                    FieldType.LINKS,
                    "The software items and SOUP whose failure contributes.",
                    targets=("software_item", "soup"),
                    label="contributing item",
                    reverse="contributes to cause",
                    upward=False,
                ),
            ),
        ),
        "safety_characteristic": KindSpec(
            "safety_characteristic",
            "Safety characteristics",
            "SC",
            "An answer to a safety question (ISO/TR 24971 Annex A): intended use, reasonably foreseeable misuse or "
            "a characteristic related to safety, and the hazards it leads to (ISO 14971 5.2, 5.3).",
            (
                _TITLE,
                FieldSpec("question", FieldType.STRING, "The ISO/TR 24971 Annex A question number (A.2.x)."),
                FieldSpec(
                    "aspect",
                    FieldType.CHOICE,
                    "Intended use, reasonably foreseeable misuse or characteristic related to safety.",
                    required=True,
                    choices=SAFETY_ASPECTS,
                ),
                FieldSpec(
                    "answer", FieldType.TEXT, "The answer for this device, with limits where relevant.", required=True
                ),
                FieldSpec("not_applicable", FieldType.TEXT, "Why the question leads to no hazard for this device."),
                FieldSpec(
                    "leads_to",
                    FieldType.LINKS,
                    "The hazards this answer leads to.",
                    targets=("hazard",),
                    label="leads to",
                    reverse="identified from",
                    upward=False,
                ),
            ),
        ),
        "labeling": KindSpec(
            "labeling",
            "Labelling",
            "LAB",
            "Labelling, instructions for use, warnings or training: where information for safety and the disclosure "
            "of residual risks reach users (ISO 14971 7.1 c, 8).",
            (
                _TITLE,
                FieldSpec("text", FieldType.TEXT, "What users are told.", required=True),
                FieldSpec("type", FieldType.CHOICE, "Where it appears.", required=True, choices=LABELING_TYPES),
                FieldSpec("location", FieldType.STRING, "Document and section (IFU chapter, screen, course)."),
                FieldSpec(
                    "carries",
                    FieldType.LINKS,
                    "The information-for-safety controls this labelling implements.",
                    targets=REQUIREMENT_KINDS,
                    label="carries",
                    reverse="carried by labelling",
                ),
                FieldSpec(
                    "discloses",
                    FieldType.LINKS,
                    "The hazards whose residual risk this labelling discloses (ISO 14971 8).",
                    targets=("hazard",),
                    label="discloses residual risk of",
                    reverse="residual risk disclosed in",
                ),
            ),
        ),
        "control_review": KindSpec(
            "control_review",
            "Reviews of risk controls",
            "RCR",
            "The review of risk control measures for hazards they introduce and risks they change, with its "
            "outcome (ISO 14971 7.5; IEC 62304 7.3.1); a hazard a control introduces names it under arising_from.",
            (
                _TITLE,
                FieldSpec("outcome", FieldType.TEXT, "What the review found: no new hazard, or which.", required=True),
                FieldSpec("reviewed_by", FieldType.STRING, "Who reviewed."),
                FieldSpec("date", FieldType.STRING, "When (ISO date)."),
                FieldSpec(
                    "reviews",
                    FieldType.LINKS,
                    "The risk control measures reviewed.",
                    targets=REQUIREMENT_KINDS,
                    label="reviews",
                    reverse="reviewed in",
                ),
            ),
        ),
    }
)

#: The order kinds appear in documents and matrices: from user needs down to evidence.
KIND_ORDER: tuple[str, ...] = tuple(KINDS)


@functools.cache
def link_spec(kind: str, field_name: str) -> FieldSpec | None:
    """The spec of a link field of a kind, or None (cached: walking a large graph asks it per link)."""
    spec = KINDS.get(kind)
    found = spec.field(field_name) if spec else None
    return found if found is not None and found.is_link else None


# --------------------------------------------------------------------------- JSON Schemas
# Draft 7: the dialect every editor's YAML language server understands.

JSON_SCHEMA_DIALECT = "http://json-schema.org/draft-07/schema#"
#: the published schema files (``qms schema`` writes them; copies ship in ``qms/schemas/``)
ITEMS_SCHEMA_FILE = "qms-items.schema.json"
PROJECT_SCHEMA_FILE = "qms-project.schema.json"


def _level_schema(what: str) -> dict[str, Any]:
    return {
        "description": f"A {what} level of the risk policy: its number or its name.",
        "anyOf": [{"type": "integer", "minimum": 1}, {"type": "string", "minLength": 1}],
    }


def _field_schema(spec: FieldSpec) -> dict[str, Any]:
    schema: dict[str, Any]
    match spec.type:
        case FieldType.TEXT | FieldType.STRING:
            schema = {"type": "string", "minLength": 1}
        case FieldType.STRINGS | FieldType.TEXTS:
            schema = {"type": "array", "items": {"type": "string", "minLength": 1}}
        case FieldType.LINKS:
            schema = {"type": "array", "items": {"type": "string", "pattern": ID_PATTERN.pattern}}
            if spec.targets:
                schema["x-qms-targets"] = list(spec.targets)
        case FieldType.CHOICE:
            schema = {"enum": list(spec.choices)}
        case FieldType.SEVERITY:
            schema = _level_schema("severity")
        case FieldType.PROBABILITY:
            schema = _level_schema("probability")
        case FieldType.RESIDUAL:
            schema = {
                "type": "object",
                "required": ["severity", "probability"],
                "additionalProperties": False,
                "properties": {"severity": _level_schema("severity"), "probability": _level_schema("probability")},
            }
        case FieldType.ANOMALY_REVIEWS:
            text = {"type": "string", "minLength": 1}
            schema = {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["ref", "evaluation"],
                    "additionalProperties": False,
                    "properties": {"ref": text, "evaluation": text},
                },
            }
    schema["description"] = spec.description
    return schema


def _kind_schema(kind: KindSpec, *, in_list: bool) -> dict[str, Any]:
    """One item of ``kind``: standalone it must name its kind; in a list of that kind it may."""
    properties: dict[str, Any] = {
        "id": {"type": "string", "pattern": ID_PATTERN.pattern, "description": "Unique id across the project."},
        "kind": {"const": kind.name, "description": "The item's kind."},
    }
    properties.update({spec.name: _field_schema(spec) for spec in kind.fields})
    required = ["id", *(() if in_list else ("kind",)), *(spec.name for spec in kind.fields if spec.required)]
    return {
        "type": "object",
        "description": kind.description,
        "required": required,
        "properties": properties,
        "patternProperties": {"^x-": {"description": "User extension field, carried through to exports."}},
        "additionalProperties": False,
    }


def _listed_item(default_kind: str | None) -> dict[str, Any]:
    """An entry of ``items``: an item that names its kind, or one of the file's default kind."""
    any_kind = {"oneOf": [{"$ref": f"#/definitions/{name}"} for name in KINDS]}
    if default_kind is None:
        return any_kind
    return {"if": {"required": ["kind"]}, "then": any_kind, "else": {"$ref": f"#/definitions/{default_kind}_in_list"}}


def item_file_json_schema() -> dict[str, Any]:
    """The JSON Schema of an item file: one item, or ``kind`` + ``items``."""
    definitions: dict[str, Any] = {}
    for kind in KINDS.values():
        definitions[kind.name] = _kind_schema(kind, in_list=False)
        definitions[f"{kind.name}_in_list"] = _kind_schema(kind, in_list=True)
    by_default_kind = [
        {
            "if": {"required": ["kind"], "properties": {"kind": {"const": name}}},
            "then": {"properties": {"items": {"items": _listed_item(name)}}},
        }
        for name in KINDS
    ]
    without_default = {
        "if": {"not": {"required": ["kind"]}},
        "then": {"properties": {"items": {"items": _listed_item(None)}}},
    }
    list_file = {
        "type": "object",
        "description": "Several items under `items`; `kind` is the default kind of those that name none.",
        "required": ["items"],
        "properties": {
            "kind": {"enum": list(KINDS), "description": "Default kind of the items below."},
            "title": {"type": "string", "minLength": 1, "description": "Heading the items are shown under."},
            "items": {"type": "array"},
        },
        "patternProperties": {"^x-": {}},
        "additionalProperties": False,
        "allOf": [*by_default_kind, without_default],
    }
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": "qms item file",
        "description": "One item (a mapping with id and kind), or a list of items under `items` with a default `kind`.",
        "if": {"required": ["items"]},
        "then": list_file,
        "else": {"oneOf": [{"$ref": f"#/definitions/{name}"} for name in KINDS]},
        "definitions": definitions,
    }
