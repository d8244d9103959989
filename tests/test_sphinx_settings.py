"""The ``qms_*`` settings of conf.py are one typed object, registered with Sphinx from its fields and
read through Sphinx's public configuration only; what the project sets of Sphinx's own values is read
in one place, and qms's defaults never replace it (in conf.py or with ``-D``)."""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

from sphinx.config import Config
from sphinx_support import new_project, site_page

from qms.sphinx.settings import Settings, register, set_by_project, settings

REPOSITORY = Path(__file__).parent.parent


class Registry:
    """What ``register`` needs of a Sphinx application: ``add_config_value``, into a real Config."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def add_config_value(self, name: str, default: Any, rebuild: str, types: Any) -> None:
        self.config.add(name, default, rebuild, types)  # what Sphinx.add_config_value does


def configured(conf_py: dict[str, Any], overrides: dict[str, Any] | None = None) -> Config:
    config = Config(conf_py, overrides or {})
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


def test_what_the_project_sets_is_what_conf_py_or_the_command_line_set() -> None:
    config = configured({"html_theme": "basic", "qms_audit_trail": False}, {"language": "de"})

    assert set_by_project(config) >= {"html_theme", "qms_audit_trail", "language"}
    assert not set_by_project(config) & {"copyright", "html_title", "smartquotes", "qms_project"}


def test_only_the_settings_module_reads_sphinx_private_configuration() -> None:
    found = [
        f"{path.relative_to(REPOSITORY)}:{node.lineno}"
        for path in sorted((REPOSITORY / "qms").rglob("*.py"))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr == "_raw_config"
    ]
    assert len(found) == 1 and found[0].startswith("qms/sphinx/settings.py:"), found


def test_a_theme_given_on_the_command_line_is_the_theme_of_the_site(tmp_path: Path) -> None:
    """qms's default theme (furo) is for projects that name none: ``-D html_theme=basic`` wins."""
    root = new_project(tmp_path / "device")
    site = tmp_path / "site"
    command = [sys.executable, "-m", "sphinx", "-q", "-b", "html", "-D", "html_theme=basic", str(root), str(site)]
    subprocess.run(command, check=True, capture_output=True, cwd=root)

    page = site_page(site, "index.html")
    stylesheets = [str(link["href"]).split("?")[0] for link in page.find_all("link", rel="stylesheet")]
    assert "_static/basic.css" in stylesheets
    assert not [href for href in stylesheets if "furo" in href]
