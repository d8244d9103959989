"""The ``qms_*`` settings of conf.py are one typed object, registered with Sphinx from its fields and
read through Sphinx's public configuration only."""

from __future__ import annotations

import ast
from dataclasses import fields
from pathlib import Path
from typing import Any

from sphinx.config import Config

from qms.sphinx.settings import Settings, register, settings

REPOSITORY = Path(__file__).parent.parent


class Registry:
    """What ``register`` needs of a Sphinx application: ``add_config_value``, into a real Config."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def add_config_value(self, name: str, default: Any, rebuild: str, types: Any) -> None:
        self.config.add(name, default, rebuild, types)  # what Sphinx.add_config_value does


def configured(conf_py: dict[str, Any]) -> Config:
    config = Config(conf_py, {})
    register(Registry(config))  # type: ignore[arg-type]
    return config


def test_every_setting_is_registered_with_its_default_and_type() -> None:
    config = configured({})

    for field in fields(Settings):
        assert f"qms_{field.name}" in config
        assert config.values[f"qms_{field.name}"].default == field.default
    assert settings(config) == Settings()


def test_what_conf_py_sets_is_what_the_build_reads() -> None:
    config = configured({"qms_document_id_prefix": "AID", "qms_audit_trail": False, "qms_iec62304_edition": "2006"})

    assert settings(config) == Settings(document_id_prefix="AID", audit_trail=False, iec62304_edition="2006")


def test_no_module_reads_a_qms_setting_but_through_the_typed_object() -> None:
    found = []
    for path in sorted((REPOSITORY / "qms").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr.startswith("qms_") and isinstance(node.ctx, ast.Load):
                found.append(f"{path.relative_to(REPOSITORY)}:{node.lineno}: .{node.attr}")
    assert found == []
