"""The regulatory submission views as data: the EU MDR Annex II device description, the GSPR
checklist of Annex I with its evidence resolved to document, revision and section, the Annex II
index, and the FDA 2023 premarket software documentation elements.

The GSPR numbers, the Annex II sections and the FDA elements ship as data in ``qms/data`` (our
own short titles, never the texts); what applies to a device and its evidence is the
``regulatory`` section of ``qms.yaml``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from qms.clauses import parse_conditions
from qms.compliance import States, evaluate
from qms.documents import DOCUMENTS, FRONT_PAGE, document_id, document_sections, find_document
from qms.model import Project
from qms.plans import filled
from qms.project_sections import FDA_LEVELS as FDA_LEVELS
from qms.project_sections import gspr_table, shipped
from qms.project_sections import regulatory_schema as regulatory_schema
from qms.status import ClauseStatus


@functools.cache
def annex_ii_sections() -> tuple[Mapping[str, Any], ...]:
    """The sections of MDR Annex II (and Annex III) with where the software file holds each."""
    return tuple(shipped("annex-ii.yaml")["sections"])


@functools.cache
def fda_elements() -> tuple[Mapping[str, Any], ...]:
    """The FDA 2023 premarket software documentation elements."""
    return tuple(shipped("fda-2023.yaml")["elements"])


def regulatory(project: Project) -> Mapping[str, Any]:
    value = project.config.raw.get("regulatory")
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True, slots=True)
class Reference:
    """A document reference resolved: which document, its revision and section, or why not."""

    ref: str
    document: str  # document id as shown ("" when unresolved)
    title: str
    revision: str
    section: str
    docname: str  # page of the technical file; "" for an external document
    label: str
    problem: str = ""

    @property
    def cited(self) -> str:
        """The reference as the checklist cites it: document id, revision and section."""
        if self.problem:
            return f"{self.ref}: {self.problem}"
        section = f", section {self.section}" if self.section else ""
        return f"{self.document} {self.title}, {self.revision or 'revision not recorded'}{section}"


def resolve_document(project: Project, ref: str, revisions: Mapping[str, str], prefix: str = "") -> Reference:
    """``DOC-ID`` or ``DOC-ID#label`` of the technical file, or an external document's id; the
    document is named by its id with the project's prefix (``AID-SRS``) when one is given."""
    name, _, label = ref.partition("#")
    spec = find_document(name)
    if spec is not None:
        revision = revisions.get(spec.id, "")
        shown = document_id(spec, prefix)
        if not label:
            return Reference(ref, shown, spec.title, revision, "", spec.docname, "")
        sections = document_sections(project.root / project.config.templates, spec)
        if label not in sections:
            known = ", ".join(sorted(sections)) or "none"
            return Reference(
                ref,
                shown,
                spec.title,
                revision,
                "",
                spec.docname,
                label,
                f"{spec.id} has no section '{label}'; its sections: {known}",
            )
        return Reference(ref, shown, spec.title, revision, sections[label], spec.docname, label)
    for entry in regulatory(project).get("external_documents") or []:
        if isinstance(entry, dict) and entry.get("id") == name:
            return Reference(ref, name, str(entry["title"]), str(entry["revision"]), label, "", "")
    documents = ", ".join(spec.id for spec in (FRONT_PAGE, *DOCUMENTS))
    return Reference(
        ref,
        "",
        "",
        "",
        "",
        "",
        "",
        f"no document '{name}': documents are {documents}, or an id of regulatory.external_documents",
    )


@dataclass(frozen=True, slots=True)
class GsprRow:
    index: int
    number: str
    title: str
    applies: bool
    justification: str
    method: str
    standards: tuple[str, ...]
    evidence: tuple[Reference, ...]

    @property
    def status(self) -> str:
        """ "not applicable", "evidenced", or "open" (applicable with no or unresolved evidence)."""
        if not self.applies:
            return "not applicable"
        return "evidenced" if self.evidence and not any(ref.problem for ref in self.evidence) else "open"


def gspr_rows(project: Project, revisions: Mapping[str, str], prefix: str = "") -> tuple[GsprRow, ...]:
    """The device's GSPR checklist, each evidence reference resolved."""
    titles = dict(gspr_table())
    rows = []
    for index, entry in enumerate(regulatory(project).get("gspr") or []):
        if not isinstance(entry, dict) or str(entry.get("gspr")) not in titles:
            continue
        number = str(entry["gspr"])
        rows.append(
            GsprRow(
                index,
                number,
                titles[number],
                entry.get("applies") is True,
                str(entry.get("justification") or ""),
                str(entry.get("method") or ""),
                tuple(str(s) for s in entry.get("standards") or []),
                tuple(resolve_document(project, str(ref), revisions, prefix) for ref in entry.get("evidence") or []),
            )
        )
    return tuple(rows)


def section_links(places: list[str]) -> str:
    """reStructuredText links to ``document#label`` places (shipped data: names checked here)."""
    links = []
    for place in places:
        docname, _, label = place.partition("#")
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", docname) or (label and not re.fullmatch(r"[a-z0-9-]+", label)):
            raise ValueError(f"not a document#label place: {place!r}")
        links.append(f":ref:`{label}`" if label else f":doc:`{docname}`")
    return ", ".join(links) or "—"


def revision_text(status: str, revision: int) -> str:
    """A document's revision as a GSPR checklist cites it (from its approval state)."""
    if not revision:
        return "draft (not approved)"
    return f"rev. {revision}" + (", changed since (not re-approved)" if status == "changed" else "")


def regulatory_variables(
    project: Project, revisions: Mapping[str, str], states: States, prefix: str = ""
) -> dict[str, Any]:
    """What the document templates see of the regulatory section."""
    section = regulatory(project)
    described = section.get("device_description")
    external = [entry for entry in section.get("external_documents") or [] if isinstance(entry, dict)]
    annex = []
    for entry in annex_ii_sections():
        held = [doc for doc in external if entry["section"] in (doc.get("annex_ii") or [])]
        if held:
            outside = "; ".join(f"{doc['id']} {doc['title']} (rev. {doc['revision']})" for doc in held)
        elif entry.get("outside"):
            outside = f"{entry['outside']}: kept outside the software file; no external document named"
        else:
            outside = "—"
        annex.append({**entry, "links": section_links(entry.get("where") or []), "outside_text": outside})
    level = section.get("fda")
    return {
        "regulatory": section,
        "device_description": (
            filled(regulatory_schema()["properties"]["device_description"], described)
            if isinstance(described, dict)
            else None
        ),
        "gspr_rows": gspr_rows(project, revisions, prefix),
        "annex_ii": annex,
        "fda_level": level,
        "fda_elements": [
            fda_element(project, element, states)
            for element in fda_elements()
            if not level or level in element.get("levels", FDA_LEVELS)
        ],
    }


def fda_element(project: Project, element: Mapping[str, Any], states: States) -> dict[str, Any]:
    """One FDA documentation element with where it is and whether its records are there."""
    conditions = parse_conditions(element.get("evidence"), f"fda-2023.yaml: {element['element']}")
    checks = [evaluate(project, condition, None, states) for condition in conditions]
    status = ClauseStatus.of(sum(check.level for check in checks), 2 * len(checks))
    return {
        **element,
        "links": section_links(element.get("where") or []),
        "status": status.value,
        "why": "; ".join(check.found for check in checks),
    }
