"""The plans as data: development (IEC 62304 5.1), maintenance (6.1) and configuration management
(8.1) plans kept under ``plans`` in ``qms.yaml``, their schema, and the release checklist whose
steps are evidenced by records.

The plans are rendered by the documents of the technical file; what the checklist claims is
computed from the records here, so that a step is shown done only when its evidence exists.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qms.documents import find_document
from qms.evidence import VERIFIABLE_KINDS as VERIFIABLE
from qms.model import Project
from qms.project_sections import plans_schema as plans_schema
from qms.schema import REQUIREMENT_TYPES
from qms.status import Status, StatusIndex, StepStatus

if TYPE_CHECKING:
    from qms.approvals import DocumentState


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


def resolve_reference(
    project: Project, statuses: StatusIndex, ref: str, states: Mapping[str, DocumentState] | None = None
) -> Evidence:
    """An item id, a document id or ``kind:NAME``, resolved against the records.

    A document of the technical file is evidence of a step once it is approved at its current
    content (``states``, :func:`qms.approvals.document_states`): its approval is the people's
    record that what it says was done. A draft, or one changed since its approval, is not, and
    neither is a document whose state is not at hand (``states`` None)."""
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
        state = states.get(spec.id) if states is not None else None
        named = f"document {spec.id} {spec.title}"
        if state is None:
            return Evidence(ref, False, f"{named}: its approval state is not known here")
        if state.status == "approved":
            return Evidence(ref, True, f"{named}, approved (revision {state.revision})")
        shown = "a draft" if state.status == "draft" else "changed since its approval"
        return Evidence(ref, False, f"{named} is {shown}: approve it with `qms approve {spec.id} --role ROLE`")
    return Evidence(ref, False, "no item, document or kind of that name")


def release_checklist(
    project: Project, statuses: StatusIndex, states: Mapping[str, DocumentState] | None = None
) -> tuple[Step, ...]:
    """The release checklist of the development plan, each step's evidence resolved (``states``: the
    documents' approval states, for the steps a document evidences)."""
    steps = plan_value(project, "development.release_checklist") or []
    resolved = []
    for index, entry in enumerate(steps):
        if not isinstance(entry, dict):
            continue
        refs = [ref for ref in entry.get("evidence") or [] if isinstance(ref, str)]
        evidence = tuple(resolve_reference(project, statuses, ref, states) for ref in refs)
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


def plan_variables(
    project: Project, statuses: StatusIndex, states: Mapping[str, DocumentState] | None = None
) -> dict[str, Any]:
    """What the document templates see of the plans (``states``: the documents' approval states)."""
    return {
        "plans": filled(plans_schema(), plans(project), sections=True),
        "plans_declared": tuple(plans(project)),
        "release_checklist": release_checklist(project, statuses, states),
        "configuration_items": tuple(configuration_items(project)),
        "type_coverage": lambda kind="software_requirement": type_coverage(project, statuses, kind),
        "requirement_types": REQUIREMENT_TYPES,
    }
