"""The schemas of the ``plans`` and ``regulatory`` sections of ``qms.yaml``.

They sit below the project settings (:mod:`qms.config` validates ``qms.yaml`` with them); what the
plans and the regulatory data mean for the records is in :mod:`qms.plans` and :mod:`qms.regulatory`.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

from qms.yamlfile import load_shipped

FDA_LEVELS = ("basic", "enhanced")

_TEXT = {"type": "string", "minLength": 1}


_TEXTS = {"type": "array", "items": {"type": "string", "minLength": 1}}


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


def shipped(name: str) -> Any:
    return load_shipped((resources.files("qms") / "data" / name).read_text(encoding="utf-8"))


@functools.cache
def gspr_table() -> tuple[tuple[str, str], ...]:
    """The GSPR numbers of MDR Annex I with our short titles, in order."""
    return tuple((str(entry["number"]), str(entry["title"])) for entry in shipped("gspr.yaml")["gspr"])


def regulatory_schema() -> dict[str, Any]:
    """JSON Schema of the ``regulatory`` section of ``qms.yaml``."""
    gspr_entry = {
        "type": "object",
        "required": ["gspr", "applies"],
        "additionalProperties": False,
        "properties": {
            "gspr": {"enum": [number for number, _ in gspr_table()], "description": "The GSPR number (MDR Annex I)."},
            "applies": {"type": "boolean"},
            "justification": {**_TEXT, "description": "Why the GSPR does not apply (required when it does not)."},
            "method": {**_TEXT, "description": "How conformity is shown."},
            "standards": {**_TEXTS, "description": "Harmonised standards, common specifications or other solutions."},
            "evidence": {
                **_TEXTS,
                "description": "Documents holding the evidence: DOC-ID or DOC-ID#section-label, or the id of an "
                "external document.",
            },
        },
    }
    return {
        "type": "object",
        "additionalProperties": False,
        "description": "Regulatory submissions: MDR Annex II device description and GSPR checklist, FDA level.",
        "properties": {
            "fda": {"enum": list(FDA_LEVELS), "description": "FDA 2023 premarket software documentation level."},
            "device_description": {
                "type": "object",
                "additionalProperties": False,
                "description": "MDR Annex II 1.1 device description.",
                "required": ["basic_udi_di", "risk_class", "classification_rules"],
                "properties": {
                    "basic_udi_di": {**_TEXT, "description": "Basic UDI-DI."},
                    "risk_class": {"enum": ["I", "IIa", "IIb", "III"], "description": "MDR risk class."},
                    "classification_rules": {**_TEXTS, "minItems": 1, "description": "MDR Annex VIII rules applied."},
                    "classification_rationale": _TEXT,
                    "intended_users": _TEXT,
                    "patient_population": _TEXT,
                    "indications": _TEXT,
                    "contraindications": _TEXTS,
                    "warnings": _TEXTS,
                    "principles_of_operation": _TEXT,
                    "novel_features": _TEXT,
                    "variants": _TEXTS,
                    "accessories": _TEXTS,
                },
            },
            "external_documents": {
                "type": "array",
                "description": "Documents of the technical documentation kept outside the software file.",
                "items": {
                    "type": "object",
                    "required": ["id", "title", "revision"],
                    "additionalProperties": False,
                    "properties": {
                        "id": _TEXT,
                        "title": _TEXT,
                        "revision": _TEXT,
                        "annex_ii": {**_TEXTS, "description": "Annex II sections it holds."},
                    },
                },
            },
            "gspr": {"type": "array", "description": "The GSPR checklist (MDR Annex II 4).", "items": gspr_entry},
        },
    }
