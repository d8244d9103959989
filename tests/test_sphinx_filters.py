"""Table filters and findings rule lists are checked against the schema: one that cannot match fails."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import pytest

from qms.sphinx import documents
from qms.sphinx.documents import (
    DOCUMENTS,
    FRONT_PAGE,
    TemplateError,
    check_template,
    compiling_options,
    template_environment,
)
from qms.sphinx.filters import FilterError, parse_filter


@pytest.mark.parametrize(
    ("kinds", "text"),
    [
        (("hazard",), "residual_risk=R|U"),
        (("hazard",), "!benefit_risk, risk!=A"),
        (("anomaly",), "status=open"),  # the anomaly's own field, not the computed status
        (("test",), "level=system|validation; method=test"),
        (("software_requirement",), "control_type"),
        (("software_requirement",), "x-anything=1"),
    ],
)
def test_filters_the_schema_allows_are_accepted(kinds: tuple[str, ...], text: str) -> None:
    assert parse_filter(text, kinds)


@pytest.mark.parametrize(
    ("kinds", "text", "message"),
    [
        (("hazard",), "residual_class=R", "filter field 'residual_class' is no field of hazard"),
        (("hazard",), "residual_risk=R|X", "filter 'residual_risk' never takes 'X'"),
        (("test",), "level=manual", "filter 'level' never takes 'manual'"),
        (("anomaly",), "status=passed", "filter 'status' never takes 'passed'"),
        (("need",), "control_type", "filter field 'control_type' is no field of need"),
        (("hazard",), "risk=", "no value after '='"),
    ],
)
def test_filters_that_cannot_match_are_refused(kinds: tuple[str, ...], text: str, message: str) -> None:
    with pytest.raises(FilterError, match=message):
        parse_filter(text, kinds)


def test_every_shipped_template_filters_on_what_the_schema_has() -> None:
    environment = template_environment(None)
    for spec in (FRONT_PAGE, *DOCUMENTS):
        check_template(environment, spec.template)


def test_a_template_whose_filter_cannot_match_fails_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "risk-management-report.rst.jinja").write_text(
        '{% extends "default/risk-management-report.rst.jinja" %}\n'
        "{% block body %}\n"
        "Residual risks:\n\n"
        ".. qms:table::\n"
        "   :kind: hazard\n"
        "   :filter: residual_class=R|U\n"
        "   :columns: id, residual_risk\n\n"
        ".. qms:findings::\n"
        "   :rules: X9\n"
        "{% endblock %}\n",
        encoding="utf-8",
    )
    environment = template_environment(tmp_path)
    expected = r"risk-management-report\.rst\.jinja:5: qms:table: filter field 'residual_class'"
    with pytest.raises(TemplateError, match=expected):
        check_template(environment, "risk-management-report.rst.jinja")


def test_a_findings_list_naming_no_rule_fails_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "gaps.rst.jinja").write_text(
        "{# a comment {% extends 'nothing' %} #}\nOpen:\n\n.. qms:findings::\n   :rules: T, X9\n", encoding="utf-8"
    )
    with pytest.raises(TemplateError, match=r"gaps\.rst\.jinja:4: qms:findings: no rule code starts with X9"):
        check_template(template_environment(tmp_path), "gaps.rst.jinja")


def test_the_status_column_filters_on_the_status_function_s_spelling() -> None:
    assert parse_filter("status=not-run|stale", ("test",))
    with pytest.raises(FilterError, match="filter 'status' never takes 'not run'"):
        parse_filter("status=not run", ("software_requirement",))


def _render(folder: Path, compiled: Path, name: str = "page.rst.jinja") -> str:
    return template_environment(folder, compiled).get_template(name).render(value="a*b")


def test_a_kept_compiled_template_renders_as_a_fresh_one_and_follows_an_edit(tmp_path: Path) -> None:
    templates, compiled = tmp_path / "templates", tmp_path / "compiled"
    templates.mkdir()
    (templates / "page.rst.jinja").write_text("One {{ value }}\n", encoding="utf-8")
    assert _render(templates, compiled) == "One a\\*b\n"
    assert len(list(compiled.iterdir())) == 1  # kept
    assert _render(templates, compiled) == "One a\\*b\n"  # from what was kept
    (templates / "page.rst.jinja").write_text("Two {{ value }}\n", encoding="utf-8")
    assert _render(templates, compiled) == "Two a\\*b\n"


@pytest.mark.parametrize("changed", ["qms", "jinja"])
def test_compiled_templates_are_kept_by_the_code_that_compiled_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, changed: str
) -> None:
    (tmp_path / "page.rst.jinja").write_text("{{ value }}\n", encoding="utf-8")
    _render(tmp_path, tmp_path / "compiled")
    if changed == "qms":
        monkeypatch.setattr(documents, "code_digest", lambda: b"other code")
    else:
        monkeypatch.setattr(jinja2, "__version__", "0.0")
    compiled = list((tmp_path / "compiled").iterdir())
    _render(tmp_path, tmp_path / "compiled")
    assert len(list((tmp_path / "compiled").iterdir())) == len(compiled) + 1  # compiled again, under a new key


@pytest.mark.parametrize(
    "other",
    [
        {"extensions": ["jinja2.ext.loopcontrols"]},
        {"trim_blocks": True},
        {"block_start_string": "<%", "block_end_string": "%>"},
        {"autoescape": True},
        {"finalize": str},
    ],
)
def test_an_environment_that_compiles_otherwise_names_other_compiling_options(other: dict[str, Any]) -> None:
    assert compiling_options(jinja2.Environment()) == compiling_options(jinja2.Environment())
    assert compiling_options(jinja2.Environment(**other)) != compiling_options(jinja2.Environment())


def test_a_folder_that_cannot_hold_compiled_templates_only_compiles_them_each_time(tmp_path: Path) -> None:
    (tmp_path / "page.rst.jinja").write_text("{{ value }}\n", encoding="utf-8")
    (tmp_path / "file").write_text("", encoding="utf-8")
    assert _render(tmp_path, tmp_path / "file" / "compiled") == "a\\*b\n"
