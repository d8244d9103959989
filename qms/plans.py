"""The plans as data: development (IEC 62304 5.1), maintenance (6.1) and configuration management
(8.1) plans kept under ``plans`` in ``qms.yaml``, their schema, and the release checklist whose
steps are evidenced by records.

The plans are rendered by the documents of the technical file; what the checklist claims is
computed from the records here, so that a step is shown done only when its evidence exists.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from qms.evidence import VERIFIABLE_KINDS as VERIFIABLE
from qms.model import Project
from qms.schema import REQUIREMENT_TYPES
from qms.status import Status, StatusIndex, StepStatus

_TEXT = {"type": "string", "minLength": 1}


def _entries(description: str, required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "array",
        "description": description,
        "items": {"type": "object", "required": required, "additionalProperties": False, "properties": properties},
    }


def plans_schema() -> dict[str, Any]:
    """JSON Schema of the ``plans`` section of ``qms.yaml``."""
    refs = {
        "type": "array",
        "items": _TEXT,
        "description": "Records that evidence the step: item ids, document ids (SDP, SVR...) or kind:NAME "
        "(at least one item of that kind).",
    }
    development = {
        "type": "object",
        "additionalProperties": False,
        "description": "Software development plan (IEC 62304 5.1; ISO 13485 7.3.2).",
        "properties": {
            "quality_system": {**_TEXT, "description": "The quality management system the plan works under (4.1)."},
            "standards": _entries(
                "Standards applied, with how (5.1.4).", ["name", "use"], {"name": _TEXT, "use": _TEXT}
            ),
            "methods": _entries("Methods used (5.1.4).", ["name", "use"], {"name": _TEXT, "use": _TEXT}),
            "coding_standard": {
                "type": "object",
                "required": ["name", "enforcement"],
                "additionalProperties": False,
                "description": "The coding standard and how it is enforced (5.1.4).",
                "properties": {"name": _TEXT, "reference": _TEXT, "enforcement": _TEXT},
            },
            "toolchain": _entries(
                "Tools that build, check or test the software, each with one version (5.1.4, 5.1.10).",
                ["name", "version", "purpose"],
                {"name": _TEXT, "version": _TEXT, "purpose": _TEXT, "control": _TEXT},
            ),
            "environments": _entries(
                "Development, build, test and release environments.",
                ["name", "description"],
                {"name": _TEXT, "description": _TEXT},
            ),
            "responsibilities": _entries(
                "Who does what: roles with their responsibilities and authority (5.1.1; ISO 13485 7.3.2).",
                ["role", "responsibilities"],
                {"role": _TEXT, "responsibilities": _TEXT, "competence": _TEXT},
            ),
            "deliverables": _entries(
                "Deliverables of each activity, the document holding each, who writes and who approves it (5.1.8).",
                ["name", "document"],
                {"name": _TEXT, "document": _TEXT, "author": _TEXT, "approver": _TEXT},
            ),
            "defect_categories": _entries(
                "Defect categories typical of the technology and how each is kept from causing unacceptable "
                "risk (5.1.12).",
                ["category", "measures"],
                {"category": _TEXT, "measures": _TEXT, "evidence": refs},
            ),
            "integration_strategy": {**_TEXT, "description": "How items (and SOUP) are integrated and tested (5.1.5)."},
            "test_strategy": {**_TEXT, "description": "Verification levels, methods and acceptance criteria (5.1.6)."},
            "release_checklist": _entries(
                "The release procedure (5.8): steps, each evidenced by records.",
                ["step", "evidence"],
                {"step": _TEXT, "clause": _TEXT, "evidence": refs},
            ),
        },
    }
    maintenance = {
        "type": "object",
        "additionalProperties": False,
        "description": "Software maintenance plan (IEC 62304 6.1).",
        "properties": {
            "feedback": {**_TEXT, "description": "How feedback is received and documented (6.1 a)."},
            "evaluation": {**_TEXT, "description": "How feedback is evaluated, including its safety impact (6.1 a)."},
            "problem_criteria": {
                "type": "array",
                "items": _TEXT,
                "description": "What feedback counts as a problem (6.1 b).",
            },
            "soup_monitoring": {
                **_TEXT,
                "description": "How SOUP upgrades, patches, anomalies and obsolescence are tracked (6.1 f).",
            },
            "processes": {**_TEXT, "description": "Use of the risk, problem and change processes (6.1 c-e)."},
        },
    }
    configuration = {
        "type": "object",
        "additionalProperties": False,
        "description": "Configuration management plan (IEC 62304 5.1.9, 8.1).",
        "properties": {
            "items": _entries(
                "Configuration items besides the toolchain and the SOUP (listed from their records).",
                ["name", "identification"],
                {"name": _TEXT, "identification": _TEXT, "location": _TEXT},
            ),
            "identification": {**_TEXT, "description": "Scheme identifying items and their versions (8.1.1)."},
            "change_control": {**_TEXT, "description": "How changes are requested, approved and verified (8.2)."},
            "status_accounting": {**_TEXT, "description": "How the history of the items is kept (8.3)."},
        },
    }
    return {
        "type": "object",
        "additionalProperties": False,
        "description": "The plans as data: development, maintenance and configuration management.",
        "properties": {"development": development, "maintenance": maintenance, "configuration": configuration},
    }


def plans(project: Project) -> Mapping[str, Any]:
    """The ``plans`` section of ``qms.yaml`` (validated against :func:`plans_schema` on loading)."""
    value = project.config.raw.get("plans")
    return value if isinstance(value, dict) else {}


def plan_value(project: Project, path: str) -> Any:
    """A value of the plans by dotted path (``development.toolchain``); None when absent."""
    value: Any = plans(project)
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


@dataclass(frozen=True, slots=True)
class Evidence:
    """One evidence reference of a checklist step, resolved."""

    ref: str
    found: bool
    detail: str  # what it resolved to, or why not


@dataclass(frozen=True, slots=True)
class Step:
    """One step of the release checklist with its evidence and computed status."""

    index: int
    step: str
    clause: str
    evidence: tuple[Evidence, ...]
    status: StepStatus

    @property
    def summary(self) -> str:
        """The evidence in words: each reference and what it resolved to."""
        return "; ".join(f"{found.ref}: {found.detail}" for found in self.evidence) or "none named"


def resolve_reference(project: Project, statuses: StatusIndex, ref: str) -> Evidence:
    """An item id, a document id or ``kind:NAME``, resolved against the records."""
    from qms.documents import find_document

    kind = ref.removeprefix("kind:")
    if kind != ref:
        items = project.of_kind(kind)
        named = kind.replace("_", " ")
        if not items:
            return Evidence(ref, False, f"no {named} record")
        open_ = [item.id for item in items if statuses.status(item.id) not in (None, Status.PASSED)]
        if open_:
            return Evidence(ref, False, f"{len(open_)} of {len(items)} {named} records not passed: {', '.join(open_)}")
        return Evidence(ref, True, f"{len(items)} {named} record(s)" + (", all passed" if kind in VERIFIABLE else ""))
    item = project.items.get(ref)
    if item is not None:
        status = statuses.status(ref)
        if status is None or status is Status.PASSED:
            return Evidence(ref, True, f"{item.kind.replace('_', ' ')} {ref}" + (" (passed)" if status else ""))
        return Evidence(ref, False, f"{item.kind.replace('_', ' ')} {ref} is {status.value}")
    spec = find_document(ref)
    if spec is not None:
        return Evidence(ref, True, f"document {spec.id} {spec.title}")
    return Evidence(ref, False, "no item, document or kind of that name")


def release_checklist(project: Project, statuses: StatusIndex) -> tuple[Step, ...]:
    """The release checklist of the development plan, each step's evidence resolved."""
    steps = plan_value(project, "development.release_checklist") or []
    resolved = []
    for index, entry in enumerate(steps):
        if not isinstance(entry, dict):
            continue
        refs = [ref for ref in entry.get("evidence") or [] if isinstance(ref, str)]
        evidence = tuple(resolve_reference(project, statuses, ref) for ref in refs)
        done = bool(evidence) and all(found.found for found in evidence)
        resolved.append(
            Step(
                index,
                str(entry.get("step", "")),
                str(entry.get("clause", "")),
                evidence,
                StepStatus.EVIDENCED if done else StepStatus.OPEN,
            )
        )
    return tuple(resolved)


@dataclass(frozen=True, slots=True)
class ConfigurationItem:
    name: str
    category: str  # toolchain, SOUP, or the plan's own
    version: str
    location: str


def configuration_items(project: Project) -> Iterator[ConfigurationItem]:
    """Every configuration item: the plan's own, the toolchain and the SOUP (8.1)."""
    for entry in plan_value(project, "configuration.items") or []:
        yield ConfigurationItem(entry["name"], "project", entry["identification"], entry.get("location", ""))
    for tool in plan_value(project, "development.toolchain") or []:
        yield ConfigurationItem(tool["name"], "toolchain", tool["version"], tool.get("control", ""))
    for soup in project.of_kind("soup"):
        yield ConfigurationItem(f"{soup.id} {soup.get('title', '')}", "SOUP", str(soup.get("version", "")), "")


def type_coverage(project: Project, statuses: StatusIndex, kind: str = "software_requirement") -> list[dict[str, Any]]:
    """Per requirement type (5.2.2): how many requirements, how many verified (passed)."""
    rows = []
    items = project.of_kind(kind)
    for name, label in (*REQUIREMENT_TYPES.items(), ("", "No type stated")):
        typed = [item.id for item in items if (item.get("type") or "") == name]
        if name or typed:
            passed = sum(1 for item_id in typed if statuses.status(item_id) is Status.PASSED)
            rows.append({"type": name, "label": label, "count": len(typed), "passed": passed, "ids": typed})
    return rows


def filled(schema: Mapping[str, Any], value: Any, *, sections: bool = False) -> Any:
    """``value`` with every property its schema names present (None when absent), so that a
    template can ask for any of them; with ``sections``, absent objects one level down are
    filled too (the plans a template reads fields of)."""
    if schema.get("type") == "object" and "properties" in schema:
        given = value if isinstance(value, dict) else {}
        return {
            name: filled(spec, given[name])
            if name in given
            else (filled(spec, None) if sections and spec.get("type") == "object" else None)
            for name, spec in schema["properties"].items()
        }
    if schema.get("type") == "array" and isinstance(value, list):
        return [filled(schema["items"], entry) for entry in value]
    return value


def plan_variables(project: Project, statuses: StatusIndex) -> dict[str, Any]:
    """What the document templates see of the plans."""
    return {
        "plans": filled(plans_schema(), plans(project), sections=True),
        "plans_declared": tuple(plans(project)),
        "release_checklist": release_checklist(project, statuses),
        "configuration_items": tuple(configuration_items(project)),
        "type_coverage": lambda kind="software_requirement": type_coverage(project, statuses, kind),
        "requirement_types": REQUIREMENT_TYPES,
    }
