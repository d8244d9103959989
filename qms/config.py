"""The project file ``qms.yaml``: device, sources, evidence, records, risk policy and rule overrides.

Its JSON Schema (:func:`project_schema`) is the one definition: ``qms.yaml`` is validated
against it here and it is published for editors as ``qms/schemas/qms-project.schema.json``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from qms.documents import DOCUMENTS, FRONT_PAGE
from qms.elements import FieldPath, Finding, Location, Severity
from qms.project_sections import plans_schema, regulatory_schema
from qms.risk import (
    DEFAULT_POLICY,
    InformationSource,
    Level,
    PostProduction,
    Responsibility,
    RiskPlan,
    RiskPolicy,
)
from qms.rulebook import SPECS
from qms.validation import validate
from qms.yamlfile import BOOL, position, read_yaml

PROJECT_FILE = "qms.yaml"
#: where ``qms check`` keeps parsed files unless ``cache`` in qms.yaml says otherwise
DEFAULT_CACHE = "_build/qms-cache"
#: a file, folder or glob named in qms.yaml: a NUL character is in no file name, and the system refuses it
PATH_SCHEMA: dict[str, Any] = {
    "type": "string",
    "minLength": 1,
    "pattern": "^[^\\u0000]*$",
    "description": "a file, folder or glob: it cannot hold a NUL character (\\0)",
}


def _level_list(what: str) -> dict[str, Any]:
    return {
        "type": "array",
        "minItems": 2,
        "description": f"The {what} scale, lowest level first.",
        "items": {
            "type": "object",
            "required": ["level", "name"],
            "additionalProperties": False,
            "properties": {
                "level": {"type": "integer", "minimum": 1},
                "name": {"type": "string", "minLength": 1},
                "description": {"type": "string"},
            },
        },
    }


_ROLE = {
    "type": "string",
    "pattern": "^[a-z][a-z0-9_-]*$",
    "description": "a role name: lowercase letters, digits, - and _",
}


def _role_list(description: str) -> dict[str, Any]:
    return {"type": "array", "minItems": 1, "items": _ROLE, "description": description}


def _roles_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "description": "Who approves the documents (ISO 13485 4.2.4): the roles each document needs and the people "
        "who hold them; `qms approve` records the approvals.",
        "properties": {
            "required": _role_list(
                "The roles every document needs an approval from (default: author, reviewer, approver)."
            ),
            "documents": {
                "type": "object",
                "description": "The roles of one document, by document id, instead of `required`.",
                "propertyNames": {"title": "document id", "enum": [spec.id for spec in (FRONT_PAGE, *DOCUMENTS)]},
                "additionalProperties": _role_list("The roles this document needs an approval from."),
            },
            "people": {
                "type": "array",
                "description": "The people who may approve, with the roles they hold. When empty, anyone may "
                "approve in any role.",
                "items": {
                    "type": "object",
                    "required": ["name", "email", "roles"],
                    "additionalProperties": False,
                    "properties": {
                        "name": {"type": "string", "minLength": 1},
                        "email": {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+$"},
                        "roles": _role_list("The roles this person may approve in."),
                    },
                },
            },
        },
    }


def _design_stages_schema() -> dict[str, Any]:
    """The stages of the design plan (ISO 13485 7.3.2), each closed by a design review (7.3.5)."""
    return {
        "type": "array",
        "description": "The stages of design and development, in order; a design review item with "
        "`stage: NAME` closes each (ISO 13485 7.3.2, 7.3.5).",
        "items": {
            "type": "object",
            "required": ["name", "title", "review"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "pattern": "^[a-z][a-z0-9_-]*$", "description": "The stage's name."},
                "title": {"type": "string", "minLength": 1},
                "review": {"type": "string", "minLength": 1, "description": "What the review closing it establishes."},
                "clauses": {"type": "string", "description": "The clauses the stage's review answers."},
            },
        },
    }


def _split_probability_schema() -> dict[str, Any]:
    """The unit of probability and the optional P1 x P2 scales of ``risk_policy``."""
    return {
        "probability_unit": {
            "type": "string",
            "minLength": 1,
            "description": "What a probability is counted against (per use, per day of use, per patient-year); "
            "shown next to every scale.",
        },
        "p1": _level_list("P1 (probability that the hazardous situation occurs)"),
        "p2": _level_list("P2 (probability that the hazardous situation leads to harm)"),
        "combination": {
            "type": "array",
            "description": "P1 x P2 to the overall probability: one row per P1 level (lowest first), one digit per "
            "P2 level (lowest first), each the overall probability level.",
            "items": {"type": "string", "pattern": "^[1-9]+$"},
        },
    }


def _risk_management_schema() -> dict[str, Any]:
    """The ``risk_management`` section: the risk management plan's elements as data (ISO 14971 4.4)."""
    text = {"type": "string", "minLength": 1}
    texts = {"type": "array", "items": text}
    return {
        "type": "object",
        "additionalProperties": False,
        "description": "The risk management plan (ISO 14971 4.4) besides the scales: responsibilities, reviews, "
        "the overall residual risk method, verification and post-production information.",
        "properties": {
            "responsibilities": {
                "type": "array",
                "description": "Roles, the people who hold them and their authority (4.4 b).",
                "items": {
                    "type": "object",
                    "required": ["role", "people"],
                    "additionalProperties": False,
                    "properties": {"role": text, "people": {**texts, "minItems": 1}, "authority": text},
                },
            },
            "reviews": {**texts, "description": "Requirements for review of risk management activities (4.4 c)."},
            "overall_residual_risk": {
                **text,
                "description": "Method and criteria for the overall residual risk (4.4 e).",
            },
            "verification": {
                "type": "object",
                "additionalProperties": False,
                "description": "How risk control measures are verified (4.4 f, 7.2).",
                "properties": {"implementation": text, "effectiveness": text},
            },
            "post_production": {
                "type": "object",
                "additionalProperties": False,
                "description": "Collection and review of production and post-production information (4.4 g, 10).",
                "properties": {
                    "sources": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["source"],
                            "additionalProperties": False,
                            "properties": {"source": text, "description": text},
                        },
                    },
                    "reviewed_by": text,
                    "frequency": text,
                    "reopen_criteria": texts,
                },
            },
        },
    }


def project_schema() -> dict[str, Any]:
    """JSON Schema of ``qms.yaml``."""
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "qms project file (qms.yaml)",
        "type": "object",
        "required": ["device"],
        "additionalProperties": False,
        "patternProperties": {"^x-": {}},
        "properties": {
            "device": {
                "type": "object",
                "required": ["name", "software_safety_class"],
                "additionalProperties": False,
                "patternProperties": {"^x-": {}},
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "manufacturer": {"type": "string"},
                    "version": {"type": "string"},
                    "intended_use": {"type": "string"},
                    "software_safety_class": {
                        "enum": ["A", "B", "C"],
                        "description": "IEC 62304 software safety class of the software system.",
                    },
                },
            },
            "sources": {
                "type": "array",
                "items": PATH_SCHEMA,
                "description": "Folders or globs of item files, relative to qms.yaml.",
            },
            "evidence": {
                "type": "array",
                "items": PATH_SCHEMA,
                "description": "Globs of JUnit XML result files, relative to qms.yaml.",
            },
            "records": {
                "type": "array",
                "items": PATH_SCHEMA,
                "description": "Folders or globs of test execution record files (YAML), relative to qms.yaml; "
                "`qms record` writes into the first folder.",
            },
            "risk_policy": {
                "type": "object",
                "required": ["severity", "probability", "acceptability"],
                "additionalProperties": False,
                "properties": {
                    "severity": _level_list("severity"),
                    "probability": _level_list("probability"),
                    "acceptability": {
                        "type": "array",
                        "description": "One row per severity level (lowest first), one letter per probability "
                        "level (lowest first): A acceptable, R acceptable only with benefit-risk justification, "
                        "U unacceptable.",
                        "items": {
                            "type": "string",
                            "pattern": "^[ARU]+$",
                            "description": "one letter A, R or U per probability level",
                        },
                    },
                    **_split_probability_schema(),
                },
            },
            "risk_management": _risk_management_schema(),
            "rules": {
                "type": "object",
                "description": "Severity overrides per rule code.",
                "propertyNames": {
                    "title": "rule code",
                    "description": "`qms check --list-rules` lists them",
                    "enum": sorted(SPECS),
                },
                "additionalProperties": {"enum": ["error", "warning", "off"]},
            },
            "release": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "previous": {
                        "type": "string",
                        "description": "Git revision (tag) of the previous release, for release notes.",
                    },
                    "no_baseline": {
                        "type": "string",
                        "description": "Why no previous release can be compared with (the history holds no "
                        "state of it): printed by the release notes, and what a release check accepts "
                        "instead of `previous` (L703).",
                    },
                },
            },
            "roles": _roles_schema(),
            "design_stages": _design_stages_schema(),
            "templates": {
                **PATH_SCHEMA,
                "description": "Folder of Jinja templates that override the defaults (default: _templates); "
                "it cannot hold a NUL character.",
            },
            "change_control": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "review_new_links": {
                        "type": "boolean",
                        "description": "Report each link never reviewed (C501) until `qms review` stamps it. "
                        "Default false: new links are reviewed with the change that adds them and stamped by "
                        "`qms review --all` in the release process.",
                    },
                },
            },
            "allow_outside": {
                "type": "array",
                "items": PATH_SCHEMA,
                "description": "Folders outside the project (relative to qms.yaml, or absolute) that sources and "
                "evidence may read from; nothing outside the project is read otherwise.",
            },
            # plans as data (IEC 62304 5.1, 6.1, 8.1)
            "plans": plans_schema(),
            # regulatory submissions (MDR Annex II, GSPR, FDA documentation level)
            "regulatory": regulatory_schema(),
            # where `qms check` keeps parsed files
            "cache": {
                "type": "string",
                "minLength": 1,
                "description": "Folder, relative to qms.yaml, where `qms check` keeps each parsed item file "
                f"to skip parsing it again while it is unchanged (default: {DEFAULT_CACHE}). Never inside a "
                "folder of `sources` or `records`; `qms check --no-cache` bypasses it.",
            },
        },
    }


@dataclass(frozen=True, slots=True)
class Device:
    name: str
    software_safety_class: str
    manufacturer: str = ""
    version: str = ""
    intended_use: str = ""


#: The roles a document needs when ``qms.yaml`` names none.
DEFAULT_ROLES = ("author", "reviewer", "approver")


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    email: str
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Roles:
    """The ``roles`` section: the roles each document needs and who holds them."""

    required: tuple[str, ...] = DEFAULT_ROLES
    documents: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    people: tuple[Person, ...] = ()

    def of(self, document: str) -> tuple[str, ...]:
        """The roles document ``document`` (its id) needs."""
        return self.documents.get(document, self.required)

    @property
    def known(self) -> tuple[str, ...]:
        """Every role some document needs."""
        return tuple(dict.fromkeys((*self.required, *(role for roles in self.documents.values() for role in roles))))

    def person(self, name_or_email: str) -> Person | None:
        wanted = name_or_email.strip().casefold()
        return next((p for p in self.people if wanted in (p.name.casefold(), p.email.casefold())), None)


@dataclass(frozen=True)
class ProjectConfig:
    """The contents of ``qms.yaml`` after validation."""

    device: Device
    sources: tuple[str, ...] = (".",)
    evidence: tuple[str, ...] = ()
    allow_outside: tuple[str, ...] = ()
    records: tuple[str, ...] = ()
    risk_policy: RiskPolicy = DEFAULT_POLICY
    risk_plan: RiskPlan = field(default_factory=RiskPlan)
    rules: Mapping[str, Severity] = field(default_factory=lambda: MappingProxyType({}))
    previous_release: str | None = None
    roles: Roles = Roles()
    templates: str = "_templates"
    #: ``change_control: review_new_links``: a link never reviewed is a C501 finding until stamped
    review_new_links: bool = False
    #: ``release: no_baseline``: why no previous release can be compared with (None: not stated)
    no_baseline: str | None = None
    raw: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    positions: Mapping[FieldPath, tuple[int, int]] = field(default_factory=lambda: MappingProxyType({}))
    #: ``cache``: the folder of the parse cache, relative to the root
    cache: str = DEFAULT_CACHE

    @property
    def safety_class(self) -> str:
        return self.device.software_safety_class

    def location(self, path: FieldPath = ()) -> Location:
        while path not in self.positions and path:
            path = path[:-1]
        line, column = self.positions.get(path, (1, 1))
        return Location(PROJECT_FILE, line, column)


def find_root(start: Path) -> Path | None:
    """The nearest folder, upward from ``start``, that holds ``qms.yaml``."""
    start = start.resolve()
    for folder in (start, *start.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    return None


def _positions(
    node: yaml.Node, path: FieldPath, out: dict[FieldPath, tuple[int, int]], seen: set[int] | None = None
) -> None:
    """The position of every node by its path; an aliased node is walked once (alias bombs)."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        return
    seen.add(id(node))
    out.setdefault(path, position(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                _positions(value_node, (*path, str(key_node.value)), out, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            _positions(child, (*path, index), out, seen)


def load_config(root: Path) -> tuple[ProjectConfig | None, list[Finding]]:
    """Read and validate ``qms.yaml``; None when it is too broken to go on."""
    document = read_yaml(root / PROJECT_FILE, PROJECT_FILE)
    if document.root is None:
        if not document.findings:
            document.report("Q002", "qms.yaml is empty: it needs at least a `device` section (see `qms init`)", None)
        return None, document.findings
    data = document.value(document.root)
    positions: dict[FieldPath, tuple[int, int]] = {}
    _positions(document.root, (), positions)
    findings = document.findings

    def report(path: FieldPath, message: str) -> None:
        while path not in positions and path:
            path = path[:-1]
        findings.append(Finding("Q002", Severity.ERROR, message, Location(PROJECT_FILE, *positions.get(path, (1, 1)))))

    if not isinstance(data, dict):
        report((), "qms.yaml must be a mapping with a `device` section (see `qms init`)")
        return None, findings
    _rules_as_written(document.root, data)
    issues = validate(data, project_schema())
    for path, message in issues:
        report(path, message)
    device_data: dict[str, Any] = data["device"] if isinstance(data.get("device"), dict) else {}
    safety_class = device_data.get("software_safety_class")
    device = Device(
        name=str(device_data.get("name") or "Unnamed device"),
        software_safety_class=safety_class if safety_class in ("A", "B", "C") else "C",
        manufacturer=str(device_data.get("manufacturer") or ""),
        version=str(device_data.get("version") or ""),
        intended_use=str(device_data.get("intended_use") or ""),
    )
    policy_invalid = any(path[:1] == ("risk_policy",) for path, _ in issues)  # reported once, above
    policy = DEFAULT_POLICY if policy_invalid else _policy(data.get("risk_policy"), report)
    rules: dict[str, Any] = data["rules"] if isinstance(data.get("rules"), dict) else {}
    release: dict[str, Any] = data["release"] if isinstance(data.get("release"), dict) else {}
    config = ProjectConfig(
        device=device,
        sources=_strings(data.get("sources"), (".",)),
        evidence=_strings(data.get("evidence"), ()),
        allow_outside=_strings(data.get("allow_outside"), ()),
        records=_strings(data.get("records"), ()),
        risk_policy=policy,
        risk_plan=RiskPlan() if any(path[:1] == ("risk_management",) for path, _ in issues) else _plan(data),
        rules=MappingProxyType(
            {code: Severity(value) for code, value in rules.items() if value in ("error", "warning", "off")}
        ),
        previous_release=release.get("previous") if isinstance(release.get("previous"), str) else None,
        roles=Roles() if any(path[:1] == ("roles",) for path, _ in issues) else _roles(data.get("roles")),
        templates=_path(data.get("templates"), "_templates"),
        review_new_links=_change_control(data).get("review_new_links") is True,
        no_baseline=release.get("no_baseline") if isinstance(release.get("no_baseline"), str) else None,
        raw=MappingProxyType(data),
        positions=MappingProxyType(positions),
        cache=data["cache"] if isinstance(data.get("cache"), str) and data["cache"] else DEFAULT_CACHE,
    )
    return config, findings


def _change_control(data: dict[str, Any]) -> dict[str, Any]:
    section = data.get("change_control")
    return section if isinstance(section, dict) else {}


def _roles(data: Any) -> Roles:
    """The ``roles`` section (valid: checked against the schema before)."""
    if not isinstance(data, dict):
        return Roles()
    return Roles(
        required=tuple(data.get("required") or DEFAULT_ROLES),
        documents=MappingProxyType({key: tuple(value) for key, value in (data.get("documents") or {}).items()}),
        people=tuple(
            Person(entry["name"], entry["email"], tuple(entry["roles"])) for entry in data.get("people") or ()
        ),
    )


def _strings(value: Any, default: tuple[str, ...]) -> tuple[str, ...]:
    """The paths of a list setting; an entry no file could have (reported by the schema) is not used."""
    if not isinstance(value, list):
        return default
    return tuple(entry for entry in value if _is_path(entry))


def _path(value: Any, default: str) -> str:
    """A path setting, or its default where it is missing or no file could have it (reported by the schema)."""
    return value if _is_path(value) else default


def _is_path(value: Any) -> bool:
    return isinstance(value, str) and bool(value) and "\0" not in value


def _rules_as_written(root: yaml.Node, data: dict[str, Any]) -> None:
    """Put back each ``rules`` severity as the user wrote it: YAML 1.1 reads ``off`` as false."""
    rules = data.get("rules")
    if not isinstance(rules, dict) or not isinstance(root, yaml.MappingNode):
        return
    for key_node, value_node in root.value:
        if key_node.value != "rules" or not isinstance(value_node, yaml.MappingNode):
            continue
        for code_node, severity_node in value_node.value:
            if severity_node.tag == BOOL and isinstance(rules.get(code_node.value), bool):
                rules[code_node.value] = severity_node.value
        return


def _policy(data: Any, report: Any) -> RiskPolicy:
    """The risk policy, checked for consistent scales and matrix; the default when absent or broken."""
    if not isinstance(data, dict):
        return DEFAULT_POLICY
    scales: dict[str, tuple[Level, ...]] = {}
    for scale in ("severity", "probability"):
        entries = data.get(scale)
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            return DEFAULT_POLICY
        levels = _levels(entries)
        if [level.level for level in levels] != list(range(1, len(entries) + 1)):
            report(("risk_policy", scale), f"risk_policy.{scale}: levels must be numbered 1, 2, 3... lowest first")
            return DEFAULT_POLICY
        names = [level.name.casefold() for level in levels]
        if len(set(names)) != len(names):
            report(("risk_policy", scale), f"risk_policy.{scale}: level names must be unique")
            return DEFAULT_POLICY
        scales[scale] = levels
    matrix = data.get("acceptability")
    if not isinstance(matrix, list) or not all(isinstance(row, str) for row in matrix):
        return DEFAULT_POLICY
    rows, columns = len(scales["severity"]), len(scales["probability"])
    if len(matrix) != rows:
        report(
            ("risk_policy", "acceptability"),
            f"risk_policy.acceptability: needs {rows} rows, one per severity level; has {len(matrix)}",
        )
        return DEFAULT_POLICY
    for index, row in enumerate(matrix):
        if len(row) != columns or set(row) - set("ARU"):
            report(
                ("risk_policy", "acceptability", index),
                f"risk_policy.acceptability row {index + 1}: needs {columns} letters (A, R or U), "
                "one per probability level",
            )
            return DEFAULT_POLICY
    unit = data.get("probability_unit")
    policy = RiskPolicy(scales["severity"], scales["probability"], tuple(matrix), unit if isinstance(unit, str) else "")
    return _split(data, policy, report)


def _levels(entries: Any) -> tuple[Level, ...]:
    if not isinstance(entries, list):
        return ()
    return tuple(
        Level(e["level"], str(e["name"]), str(e.get("description") or ""))
        for e in entries
        if isinstance(e, dict) and isinstance(e.get("level"), int) and isinstance(e.get("name"), str)
    )


def _split(data: dict[str, Any], policy: RiskPolicy, report: Any) -> RiskPolicy:
    """The policy with its P1 x P2 scales and combination table, when all three are given and agree."""
    named = [name for name in ("p1", "p2", "combination") if name in data]
    if not named:
        return policy
    if len(named) < 3:
        missing = ", ".join(name for name in ("p1", "p2", "combination") if name not in data)
        report(("risk_policy", named[0]), f"risk_policy: P1 x P2 mode needs p1, p2 and combination; missing {missing}")
        return policy
    p1, p2, table = _levels(data["p1"]), _levels(data["p2"]), data["combination"]
    for name, levels in (("p1", p1), ("p2", p2)):
        if [level.level for level in levels] != list(range(1, len(levels) + 1)):
            report(("risk_policy", name), f"risk_policy.{name}: levels must be numbered 1, 2, 3... lowest first")
            return policy
    top = len(policy.probability)
    if len(table) != len(p1) or any(len(row) != len(p2) or any(int(digit) > top for digit in row) for row in table):
        report(
            ("risk_policy", "combination"),
            f"risk_policy.combination: needs {len(p1)} rows (one per P1 level) of {len(p2)} digits (one per P2 "
            f"level), each a probability level from 1 to {top}",
        )
        return policy
    combination = tuple(tuple(int(digit) for digit in row) for row in table)
    return replace(policy, p1=p1, p2=p2, combination=combination)


def _plan(data: dict[str, Any]) -> RiskPlan:
    """The ``risk_management`` section (valid: checked against the schema before)."""
    section = data.get("risk_management")
    if not isinstance(section, dict):
        return RiskPlan()
    verification = section.get("verification") or {}
    post = section.get("post_production") or {}
    return RiskPlan(
        responsibilities=tuple(
            Responsibility(entry["role"], tuple(entry["people"]), entry.get("authority", ""))
            for entry in section.get("responsibilities") or ()
        ),
        reviews=tuple(section.get("reviews") or ()),
        overall_method=section.get("overall_residual_risk", ""),
        implementation_verification=verification.get("implementation", ""),
        effectiveness_verification=verification.get("effectiveness", ""),
        post_production=PostProduction(
            sources=tuple(
                InformationSource(entry["source"], entry.get("description", "")) for entry in post.get("sources") or ()
            ),
            reviewed_by=post.get("reviewed_by", ""),
            frequency=post.get("frequency", ""),
            reopen_criteria=tuple(post.get("reopen_criteria") or ()),
        ),
    )
