"""Every item has a page at every software safety class, and the front page's coverage follows the
rules that apply to the device's class and settings."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sphinx_support import build, copy_example, new_project, parse_html

from qms.project import load_project


def _coverage_row(site: Path, label: str) -> str:
    soup = parse_html((site / "index.html").read_text(encoding="utf-8"))
    for row in soup.select("table.qms-coverage tbody tr"):
        if row.find("td").get_text(" ", strip=True) == label:
            return str(row.get_text(" ", strip=True))
    raise AssertionError(f"no coverage row {label!r}")


@pytest.fixture(scope="module")
def class_a_example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_example(tmp_path_factory.mktemp("class-a") / "device")
    config = root / "qms.yaml"
    config.write_text(
        re.sub(r"software_safety_class: C", "software_safety_class: A", config.read_text(encoding="utf-8")),
        encoding="utf-8",
    )
    result = build(root)
    assert result.exit_code == 0, result.output
    return root


@pytest.mark.slow
def test_every_item_has_a_page_at_class_a(class_a_example: Path) -> None:
    site = class_a_example / "_build" / "html"
    anchors: set[str] = set()
    unresolved = []
    for path in sorted(site.glob("*.html")):
        soup = parse_html(path.read_text(encoding="utf-8"))
        anchors.update(section["id"] for section in soup.select("section.qms-item"))
        unresolved += [f"{path.name}: {span.get_text()}" for span in soup.select(".qms-unresolved")]
    items = {item.id for item in load_project(class_a_example)}
    assert items - anchors == set()
    assert unresolved == []


@pytest.mark.slow
def test_coverage_at_class_a_leaves_out_what_class_a_need_not_do(class_a_example: Path) -> None:
    row = _coverage_row(class_a_example / "_build" / "html", "Software requirements implemented by a software item")
    assert "not required: T105 applies to class B, C only, the device is class A" in row
    assert "open" not in row


@pytest.mark.slow
def test_a_rule_switched_off_takes_its_coverage_row_with_it(tmp_path: Path) -> None:
    root = new_project(tmp_path / "device")
    config = root / "qms.yaml"
    text = config.read_text(encoding="utf-8")
    assert text.count("\nrules:") == 1
    config.write_text(re.sub(r"\nrules:( \{\})?\n", "\nrules:\n  T105: off\n", text), encoding="utf-8")
    result = build(root)
    assert result.exit_code == 0, result.output
    row = _coverage_row(root / "_build" / "html", "Software requirements implemented by a software item")
    assert "not required: T105 is off in qms.yaml" in row
