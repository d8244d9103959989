"""The documents of the technical file as data: id, title, the clauses each answers, and what each
renders (its inputs).

The Sphinx adapter renders them (:mod:`qms.sphinx.documents`); :mod:`qms.approvals` digests the
same inputs to bind an approval to a document's content. One definition, so that what a document
shows and what its approval covers cannot drift apart.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

from qms.schema import KIND_ORDER

TEMPLATE_SUFFIX = ".rst.jinja"

#: Every item kind (for documents that render the whole graph: matrices, findings, coverage).
ALL_KINDS = KIND_ORDER


@dataclass(frozen=True, slots=True)
class Inputs:
    """What a document renders besides its template: the digest of an approval covers exactly this.

    ``kinds``: item kinds shown with their fields and links (the document's own ``kinds`` always
    are). ``listed``: the ids of every item (counts, lists of items). ``config``: the sections of
    ``qms.yaml`` shown (``device`` always: the control block shows it). ``statuses``: the
    verification status of the items shown. Findings a document lists are computed from items,
    configuration and statuses, so they are covered by these.
    """

    kinds: tuple[str, ...] = ()
    listed: bool = False
    config: tuple[str, ...] = ()
    statuses: bool = False


@dataclass(frozen=True, slots=True)
class DocumentSpec:
    """One document of the technical file."""

    docname: str
    id: str  # short document id, shown in the document-control block
    title: str
    purpose: str
    clauses: str  # the clauses it answers, for the document list
    kinds: tuple[str, ...] = ()  # item kinds whose home (anchor) is this document
    group: str = ""  # navigation group
    #: What the document renders, beyond its own kinds (see :class:`Inputs`).
    inputs: Inputs = Inputs()

    @property
    def shows(self) -> tuple[str, ...]:
        """Every item kind whose items (fields and links) the document renders."""
        return tuple(dict.fromkeys((*self.kinds, *self.inputs.kinds)))

    @property
    def template(self) -> str:
        return f"{self.docname}{TEMPLATE_SUFFIX}"


FRONT_PAGE = DocumentSpec(
    "index",
    "TF",
    "Technical file",
    "Device description, document list and coverage summary.",
    "ISO 13485 4.2.3",
    inputs=Inputs(listed=True, statuses=True),
)

DOCUMENTS: tuple[DocumentSpec, ...] = (
    DocumentSpec(
        "software-development-plan",
        "SDP",
        "Software development plan",
        "How the software is developed, verified, configured, maintained and released.",
        "IEC 62304 5.1, 6.1, 8, 9",
        group="Plans",
        inputs=Inputs(listed=True, config=("*",)),
    ),
    DocumentSpec(
        "risk-management-plan",
        "RMP",
        "Risk management plan",
        "Scope of risk management, the software safety class and the risk acceptability policy.",
        "ISO 14971 4.2, 4.4; IEC 62304 4.2, 4.3",
        group="Plans",
        inputs=Inputs(config=("risk_policy", "rules")),
    ),
    DocumentSpec(
        "design-inputs",
        "DIR",
        "Design input requirements",
        "User needs and system requirements: the design inputs the software is developed against.",
        "ISO 13485 7.3.3; IEC 62304 5.1.3",
        ("need", "system_requirement"),
        group="Design",
        inputs=Inputs(listed=True, statuses=True),
    ),
    DocumentSpec(
        "software-requirements",
        "SRS",
        "Software requirements specification",
        "The software requirements, including the risk control measures implemented in software.",
        "IEC 62304 5.2, 7.2.2",
        ("software_requirement",),
        group="Design",
        inputs=Inputs(listed=True, statuses=True),
    ),
    DocumentSpec(
        "software-architecture",
        "SAD",
        "Software architecture and SOUP list",
        "The software items, their interfaces and segregation, and the SOUP they use.",
        "IEC 62304 5.3, 5.4.1, 7.1.3, 8.1.2",
        ("software_item", "soup"),
        group="Design",
        inputs=Inputs(listed=True),
    ),
    DocumentSpec(
        "risk-register",
        "HA",
        "Hazard analysis and risk register",
        "Each hazard with its sequence of events, harm, initial risk, controls and residual risk.",
        "ISO 14971 5-7; IEC 62304 7",
        ("hazard",),
        group="Risk management",
        inputs=Inputs(kinds=("software_requirement", "software_item", "test"), config=("risk_policy",)),
    ),
    DocumentSpec(
        "risk-management-report",
        "RMR",
        "Risk management report",
        "Counts of risks before and after controls, completeness, and the overall residual risk.",
        "ISO 14971 7.6, 8, 9",
        group="Risk management",
        inputs=Inputs(
            kinds=("hazard", "software_requirement", "test", "soup"),
            listed=True,
            config=("risk_policy", "rules"),
            statuses=True,
        ),
    ),
    DocumentSpec(
        "verification",
        "SVR",
        "Software verification: test specification and report",
        "The tests at every level, their status, and the results and records behind it.",
        "IEC 62304 5.5-5.7; ISO 13485 7.3.6, 7.3.7",
        ("test",),
        group="Verification and release",
        inputs=Inputs(kinds=("need", "system_requirement", "software_requirement", "software_item"), statuses=True),
    ),
    DocumentSpec(
        "release-notes",
        "REL",
        "Release notes",
        "The released version, its configuration, verification status and known residual anomalies.",
        "IEC 62304 5.8, 8.1.3",
        ("anomaly",),
        group="Verification and release",
        inputs=Inputs(kinds=("soup", "change_request"), listed=True, config=("release",), statuses=True),
    ),
    DocumentSpec(
        "design-traceability",
        "DDT",
        "Design and development traceability",
        "Design inputs to outputs to verification and validation, and design changes.",
        "ISO 13485 7.3",
        group="Traceability",
        inputs=Inputs(kinds=ALL_KINDS, statuses=True),
    ),
    DocumentSpec(
        "traceability-matrix",
        "RTM",
        "Traceability matrix",
        "Needs to system and software requirements, software items and tests; hazards to controls and tests.",
        "IEC 62304 5.1.1, 5.7.4, 7.3.3; ISO 14971 4.5",
        group="Traceability",
        inputs=Inputs(kinds=ALL_KINDS, statuses=True),
    ),
    DocumentSpec(
        "clause-index",
        "CI",
        "Clause index",
        "Each clause that asks for a record, and the page and section that holds it.",
        "IEC 62304, ISO 14971, ISO 13485",
        group="Traceability",
        inputs=Inputs(),
    ),
    DocumentSpec(
        "gaps",
        "GAP",
        "Open findings",
        "Everything qms check reports, and every item that keeps a coverage measure open.",
        "all",
        group="Traceability",
        inputs=Inputs(kinds=ALL_KINDS, listed=True, config=("*",), statuses=True),
    ),
    # plans as data (IEC 62304 6.1, 8.1) and the regulatory submission views (MDR Annex II, FDA)
    DocumentSpec(
        "software-maintenance-plan",
        "SMP",
        "Software maintenance plan",
        "How feedback is received and evaluated, what counts as a problem, and how SOUP is monitored.",
        "IEC 62304 6.1",
        group="Plans",
        inputs=Inputs(kinds=("soup",), config=("plans",)),
    ),
    DocumentSpec(
        "configuration-management-plan",
        "CMP",
        "Configuration management plan",
        "The configuration items, including the toolchain and SOUP, and how they are identified and changed.",
        "IEC 62304 5.1.9, 5.1.10, 8",
        group="Plans",
        inputs=Inputs(kinds=("soup",), config=("plans",)),
    ),
    DocumentSpec(
        "annex-ii-index",
        "AII",
        "EU MDR Annex II index and device description",
        "The device description, and each section of the technical documentation with the documents holding it.",
        "EU MDR Annex II, III",
        group="Regulatory submissions",
        inputs=Inputs(config=("regulatory",)),
    ),
    DocumentSpec(
        "gspr-checklist",
        "GSPR",
        "General safety and performance requirements checklist",
        "Each GSPR of MDR Annex I: whether it applies, how conformity is shown, and the evidence documents.",
        "EU MDR Annex I, Annex II 4",
        group="Regulatory submissions",
        inputs=Inputs(config=("regulatory",)),
    ),
    DocumentSpec(
        "fda-documentation",
        "FDA",
        "FDA premarket software documentation",
        "The elements of FDA's 2023 premarket software guidance for the device's level, and where each is.",
        "FDA premarket software guidance (2023)",
        group="Regulatory submissions",
        inputs=Inputs(listed=True, config=("regulatory", "plans")),
    ),
)

#: The documents of the life-cycle records: detailed design, design reviews, problems and changes
#: (IEC 62304 5.4, 6.2, 8.2, 9; ISO 13485 7.3.2, 7.3.5, 7.3.9).
DOCUMENTS += (
    DocumentSpec(
        "software-detailed-design",
        "SDD",
        "Software detailed design",
        "The software units of each item: design, interfaces and acceptance criteria, and their verification.",
        "IEC 62304 5.4, 5.5.3",
        ("software_unit",),
        group="Design",
        inputs=Inputs(kinds=("software_item", "test"), listed=True, statuses=True),
    ),
    DocumentSpec(
        "design-reviews",
        "DRV",
        "Design reviews",
        "The stages of the design plan and the review that closed each.",
        "ISO 13485 7.3.2, 7.3.5; IEC 62304 5.2.6, 5.3.6, 5.4.4",
        ("design_review",),
        group="Design",
        inputs=Inputs(kinds=("change_request", "problem_report"), config=("design_stages",)),
    ),
    DocumentSpec(
        "problem-reports",
        "PRL",
        "Problem reports and trends",
        "Each problem with its investigation, safety evaluation and resolution, and the trend of problems.",
        "IEC 62304 6.2.1, 6.2.2, 9",
        ("problem_report",),
        group="Verification and release",
        inputs=Inputs(kinds=("change_request", "hazard", "test"), listed=True),
    ),
    DocumentSpec(
        "change-requests",
        "CRL",
        "Change requests",
        "Each change with its reason, the items it changes, its risk analysis, approval and release.",
        "IEC 62304 6.2.3-6.2.5, 7.4, 8.2; ISO 13485 7.3.9",
        ("change_request",),
        group="Verification and release",
        inputs=Inputs(kinds=("problem_report", "hazard"), listed=True),
    ),
)

#: Where an item's anchor lives: its kind's home document.
HOME: dict[str, str] = {kind: spec.docname for spec in DOCUMENTS for kind in spec.kinds}

DOCUMENT_GROUPS = (
    "Plans",
    "Design",
    "Risk management",
    "Verification and release",
    "Traceability",
    "Regulatory submissions",
)


def document_spec(docname: str) -> DocumentSpec | None:
    """The document a page belongs to: its own, or the one it is a part of (see :func:`part_name`)."""
    name = document_of(docname)
    return next((spec for spec in (FRONT_PAGE, *DOCUMENTS) if spec.docname == name), None)


#: Joins a document's name and the number of one of its further pages: ``verification-part-2``.
PART = "-part-"


def part_name(docname: str, number: int) -> str:
    """The page name of a long document's ``number``-th page (from 2; the first keeps the document's name)."""
    return f"{docname}{PART}{number}"


@functools.cache
def document_of(docname: str) -> str:
    """The document a page is a part of (``verification-part-2``: ``verification``), else the page itself."""
    name, mark, number = docname.rpartition(PART)
    if mark and number.isdigit() and any(spec.docname == name for spec in DOCUMENTS):
        return name
    return docname


def document_id(spec: DocumentSpec, prefix: str) -> str:
    return f"{prefix}-{spec.id}" if prefix else spec.id


def default_templates() -> Path:
    """The templates shipped with qms: the package ``qms.templates`` (``templates/`` of the repository).

    ``qms.templates`` is a namespace package (the folder has no ``__init__.py``), so its folder
    is read from the import spec: ``importlib.resources`` would give a MultiplexedPath there.
    """
    try:
        spec = importlib.util.find_spec("qms.templates")
    except ModuleNotFoundError:
        spec = None
    for location in (spec.submodule_search_locations or []) if spec is not None else []:
        if (Path(location) / "index.rst.jinja").is_file():
            return Path(location)
    return Path(__file__).resolve().parents[1] / "templates"  # running from a source checkout


def find_document(name: str) -> DocumentSpec | None:
    """The document a person names: its id (``SRS``), its id with the project's prefix
    (``AID-SRS``) or its page name (``software-requirements``); any letter case."""
    wanted = name.strip().casefold()
    for spec in (FRONT_PAGE, *DOCUMENTS):
        if wanted in (spec.id.casefold(), spec.docname) or wanted.endswith(f"-{spec.id.casefold()}"):
            return spec
    return None


# ------------------------------------------------------------------------------ document sections

_LABEL = re.compile(r"^\.\. _([a-z0-9][a-z0-9-]*):\s*$")
_HEADING = re.compile(r"""heading\(\s*"([^"{}]+)"\s*,\s*\d\s*(?:,\s*"([a-z0-9][a-z0-9-]*)"\s*)?\)""")


def template_sections(source: str) -> dict[str, str]:
    """The labelled sections of a document template: label -> heading text."""
    sections: dict[str, str] = {}
    pending: list[str] = []  # labels waiting for the heading they stand before
    for line in source.splitlines():
        label = _LABEL.match(line.strip())
        if label:
            pending.append(label.group(1))
            continue
        heading = _HEADING.search(line)
        if heading:
            for name in (*pending, *([heading.group(2)] if heading.group(2) else [])):
                sections[name] = heading.group(1)
            pending = []
    return sections


def document_sections(templates: Path, spec: DocumentSpec) -> dict[str, str]:
    """The labelled sections of a document, from its template in the project's ``templates`` or the shipped one."""
    own = templates / spec.template
    path = own if own.is_file() else default_templates() / spec.template
    try:
        return template_sections(Path(path).read_text(encoding="utf-8"))
    except OSError:
        return {}
