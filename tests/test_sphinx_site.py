"""What a reader sees on the site: headings from the data, values shown as written, item text at its YAML line."""

from __future__ import annotations

from pathlib import Path

import pytest
from sphinx_support import build, new_project, page, parse_html, text_of

REQUIREMENTS = """\
kind: software_requirement
{title}items:
  - id: {id}
    title: Requirement {id}
    text: The software shall do {id}.
    derives_from: [SYS-001]
"""


def _headings(html: str, level: str) -> list[str]:
    return [text_of(heading).rstrip("¶").strip() for heading in parse_html(html).iter(level)]


def test_section_titles_come_from_the_file_or_the_kind(tmp_path: Path) -> None:
    """A file's own ``title:`` heads its items; without one, its kind's title (a file name only to tell two apart)."""
    root = new_project(
        tmp_path / "device",
        files={
            "traceability/cgm_input.yaml": REQUIREMENTS.format(title="title: Readings from the CGM\n", id="SWR-901"),
            "traceability/pump_comm.yaml": REQUIREMENTS.format(title="", id="SWR-902"),
        },
    )
    result = build(root)
    assert result.exit_code == 0, result.output
    headings = _headings(page(root / "_build" / "html", "software-requirements.html"), "h3")
    assert "Readings from the CGM" in headings
    assert "Software requirements (pump_comm.yaml)" in headings
    assert not [heading for heading in headings if heading in ("Cgm input", "Pump comm", "Requirements")]


def test_an_empty_file_title_is_reported_at_its_line(tmp_path: Path) -> None:
    from conftest import invoke_qms

    root = new_project(
        tmp_path / "device",
        files={"traceability/extra.yaml": REQUIREMENTS.format(title="title: ''\n", id="SWR-903")},
    )
    result = invoke_qms("check", "--project", root)
    assert "traceability/extra.yaml:2:8: error Q002" in result.output.replace("  ", " ")


@pytest.mark.parametrize("sources", [["traceability", "risk_register"], ["my_records"]])
def test_a_value_written_as_a_literal_shows_its_text(tmp_path: Path, sources: list[str]) -> None:
    """``{{ value }}`` between two backquotes shows the value, not the escapes that protect it elsewhere."""
    root = new_project(tmp_path / "device")
    config = root / "qms.yaml"
    text = config.read_text(encoding="utf-8")
    if sources == ["my_records"]:
        (root / "traceability").rename(root / "my_records")
        (root / "risk_register").rename(root / "my_records" / "risk_register")
    config.write_text(
        "\n".join(
            f"sources: [{', '.join(sources)}]" if line.startswith("sources:") else line for line in text.splitlines()
        )
        + "\n",
        encoding="utf-8",
    )
    templates = root / "_templates"
    templates.mkdir(exist_ok=True)
    (templates / "software-development-plan.rst.jinja").write_text(
        '{% extends "default/software-development-plan.rst.jinja" %}\n'
        "{% block body %}\n{{ super()|rst }}\n\nMarker ``{{ 'a_b, *c* `d`' }}`` end.\n{% endblock %}\n",
        encoding="utf-8",
    )
    result = build(root)
    assert result.exit_code == 0, result.output
    tree = parse_html(page(root / "_build" / "html", "software-development-plan.html"))
    literals = [text_of(code) for code in tree.iter("code")]
    assert ", ".join(sources) in literals
    assert "a_b, *c* `d`" in literals
    assert not [literal for literal in literals if "\\" in literal]
