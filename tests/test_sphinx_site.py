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
    return [text_of(heading).rstrip("¶").strip() for heading in parse_html(html).find_all(level)]


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
    literals = [text_of(code) for code in tree.find_all("code")]
    assert ", ".join(sources) in literals
    assert "a_b, *c* `d`" in literals
    assert not [literal for literal in literals if "\\" in literal]


TEXT_PROBLEMS = """\
kind: software_requirement
items:
  - id: SWR-910
    title: Text with problems
    text: |
      Refers to :item:`NOPE-1` here.

      Has *unclosed emphasis here.
    derives_from: [SYS-001]
"""


def _warnings(output: str) -> list[str]:
    return sorted(line for line in output.splitlines() if "WARNING" in line or "ERROR" in line)


def test_warnings_about_item_text_name_the_yaml_line_on_every_build(tmp_path: Path) -> None:
    """Parse-time and link-time warnings are placed at the YAML file and line, and a rebuild gives them again."""
    root = new_project(tmp_path / "device", files={"traceability/extra.yaml": TEXT_PROBLEMS})
    source = root / "traceability" / "extra.yaml"
    first = build(root)
    assert first.exit_code == 0, first.output
    warnings = _warnings(first.output)
    assert any(f"{source}:6: WARNING: unknown item id 'NOPE-1'" in line for line in warnings), warnings
    assert any(f"{source}:8: WARNING: Inline emphasis start-string" in line for line in warnings), warnings
    assert not [line for line in warnings if "qms-sources" in line]
    again = build(root)
    assert _warnings(again.output) == warnings
    assert build(root, "--strict").exit_code != 0
    source.write_text(TEXT_PROBLEMS.replace(":item:`NOPE-1`", "nothing").replace("*unclosed", "closed"), "utf-8")
    fixed = build(root)
    assert _warnings(fixed.output) == []
    assert _warnings(build(root).output) == []


TWO_TARGETS = """\
kind: software_requirement
items:
  - id: SWR-920
    title: First
    text: |
      See `rustdoc`_ and `guide <https://example.com/guide>`__.

      .. _rustdoc: https://example.com/first
    derives_from: [SYS-001]
  - id: SWR-921
    title: Second
    text: |
      See `rustdoc`_ as well.

      .. _rustdoc: https://example.com/second
    derives_from: [SYS-001]
"""


def test_each_item_has_its_own_link_targets(tmp_path: Path) -> None:
    """Two items defining the same target name with different addresses each link to their own."""
    root = new_project(tmp_path / "device", files={"traceability/extra.yaml": TWO_TARGETS})
    result = build(root)
    assert result.exit_code == 0 and not _warnings(result.output), result.output
    tree = parse_html(page(root / "_build" / "html", "software-requirements.html"))
    links = {
        section.get("id"): [
            link.get("href") for link in section.find_all("a") if link.get("href", "").startswith("https")
        ]
        for section in tree.find_all("section")
        if section.get("id") in ("SWR-920", "SWR-921")
    }
    assert links == {
        "SWR-920": ["https://example.com/first", "https://example.com/guide"],
        "SWR-921": ["https://example.com/second"],
    }
    ids = [element.get("id") for element in tree.find_all(True) if element.get("id")]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("directive", ["code::", "code-block:: python", "sourcecode::"])
def test_code_takes_number_lines(tmp_path: Path, directive: str) -> None:
    """docutils' ``:number-lines: [start]`` numbers the lines of every code directive; the code is kept."""
    text = (
        "kind: software_requirement\nitems:\n  - id: SWR-930\n    title: Code\n    text: |\n"
        f"      .. {directive}\n         :number-lines: 7\n\n         first = 1\n         second = 2\n"
        "    derives_from: [SYS-001]\n"
    )
    root = new_project(tmp_path / "device", files={"traceability/extra.yaml": text})
    result = build(root)
    assert result.exit_code == 0 and not _warnings(result.output), result.output
    tree = parse_html(page(root / "_build" / "html", "software-requirements.html"))
    (section,) = [section for section in tree.find_all("section") if section.get("id") == "SWR-930"]
    assert [text_of(number) for number in section.find_all("span") if number.get("class") == ["linenos"]] == ["7", "8"]
    assert "first = 1" in text_of(section)


EXTENSIONS = """\
kind: software_requirement
items:
  - id: SWR-940
    title: Extension fields
    text: The software shall do it.
    derives_from: [SYS-001]
    x-notes: |
      First paragraph.

      Second paragraph with ``code``.
    x-sources: ["S: one ``project_grammar`` two", "T: second"]
    x-table: {a: 1}
"""


def test_extension_fields_render_as_paragraphs_and_lists(tmp_path: Path) -> None:
    """Multi-line ``x-`` text is paragraphs (with its markup), an ``x-`` list a list, never JSON."""
    root = new_project(tmp_path / "device", files={"traceability/extra.yaml": EXTENSIONS})
    result = build(root)
    assert result.exit_code == 0 and not _warnings(result.output), result.output
    tree = parse_html(page(root / "_build" / "html", "software-requirements.html"))
    (section,) = [section for section in tree.find_all("section") if section.get("id") == "SWR-940"]
    fields = section.find("dl").find_all(["dt", "dd"], recursive=False)
    values = {text_of(term).rstrip(":"): definition for term, definition in zip(fields[::2], fields[1::2], strict=True)}
    notes = [text_of(paragraph) for paragraph in values["Notes"].find_all("p")]
    assert notes == ["First paragraph.", "Second paragraph with code."]
    sources = [text_of(entry) for entry in values["Sources"].find_all("li")]
    assert sources == ["S: one project_grammar two", "T: second"]
    assert [text_of(code) for code in values["Sources"].find_all("code")] == ["project_grammar"]
    assert text_of(values["Table"]) == '{"a": 1}'


def test_a_test_shows_its_method_and_level_as_such(tmp_path: Path) -> None:
    """A test's badges say which is the method and which the level (no "test test")."""
    root = new_project(tmp_path / "device")
    assert build(root).exit_code == 0
    tree = parse_html(page(root / "_build" / "html", "verification.html"))
    badges = [text_of(badge) for badge in tree.find_all("span") if "qms-badge-method" in badge.get("class", [])]
    assert badges and all(badge.split()[0] in ("method", "level") for badge in badges)
