"""The clause table: shipped as data, consistent with the templates, applicable per class and edition."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from docutils import nodes
from docutils.core import publish_doctree
from hypothesis import example, given
from hypothesis import strategies as st

from qms.clauses import ClauseTableError, load_clause_table, parse_clause_table
from qms.sphinx.documents import DOCUMENTS, FRONT_PAGE, default_templates, escape, heading

TABLE = load_clause_table()


def _template_labels() -> dict[str, set[str]]:
    """Labels each shipped template defines: ``heading(..., "label")`` and ``.. _label:``."""
    labels: dict[str, set[str]] = {}
    for template in default_templates().glob("*.rst.jinja"):
        text = template.read_text(encoding="utf-8")
        found = set(re.findall(r'heading\([^)]*?,\s*\d\s*,\s*"([a-z0-9-]+)"\)', text))
        found |= set(re.findall(r"^\.\. _([a-z0-9-]+):$", text, re.MULTILINE))
        labels[template.name.removesuffix(".rst.jinja")] = found
    return labels


def test_every_place_of_the_table_is_a_labelled_section_of_its_document() -> None:
    labels = _template_labels()
    documents = {spec.docname for spec in (FRONT_PAGE, *DOCUMENTS)}
    for clause in TABLE.clauses:
        for place in clause.where:
            docname, _, label = place.partition("#")
            assert docname in documents, f"{clause.key}: no document {docname}"
            assert label in labels[docname], f"{clause.key}: {docname} has no section labelled {label}"


def test_the_three_standards_and_their_records() -> None:
    assert [standard.id for standard in TABLE.standards] == ["iec62304", "iso14971", "iso13485"]
    assert len(TABLE.of("iec62304")) == 91
    assert TABLE.find("iso14971", "7.4") is not None
    assert TABLE.find("iso13485", "7.3.7") is not None


@pytest.mark.parametrize(
    ("number", "safety_class", "edition", "applies"),
    [
        ("5.3.1", "A", "2006+A1:2015", False),
        ("5.3.1", "B", "2006+A1:2015", True),
        ("5.3.5", "B", "2006+A1:2015", False),
        ("5.3.5", "C", "2006+A1:2015", True),
        ("5.7.1", "A", "2006+A1:2015", True),
        ("5.7.1", "A", "2006", False),
        ("5.1.12", "C", "2006", False),
        ("5.1.12", "B", "2006+A1:2015", True),
        ("7.1.5", "C", "2006+A1:2015", False),
        ("7.1.5", "C", "2006", True),
    ],
)
def test_class_applicability_per_edition(number: str, safety_class: str, edition: str, applies: bool) -> None:
    clause = TABLE.find("iec62304", number)
    assert clause is not None
    assert clause.applies(safety_class, edition) is applies


def test_a_project_table_is_checked(tmp_path: Path) -> None:
    bad = tmp_path / "clauses.yaml"
    bad.write_text(
        "standards: [{id: iec62304, name: IEC 62304}]\n"
        "clauses:\n  - {standard: iec62304, clause: '5.1', topic: T, record: R, classes: ABD}\n",
        encoding="utf-8",
    )
    with pytest.raises(ClauseTableError) as raised:
        load_clause_table(bad)
    assert str(raised.value) == f"{bad}: clauses[0] (iec62304 5.1): classes must be letters from A, B, C; got 'ABD'"
    with pytest.raises(ClauseTableError, match=r"clauses\[0\]: unknown standard 'iec60601'"):
        parse_clause_table(
            "standards: [{id: iec62304, name: IEC 62304}]\n"
            "clauses: [{standard: iec60601, clause: '1', topic: T, record: R}]\n"
        )
    with pytest.raises(ClauseTableError, match="unknown field wherever"):
        parse_clause_table(
            "standards: [{id: x, name: X}]\nclauses: [{standard: x, clause: '1', topic: T, record: R, wherever: []}]\n"
        )


def test_template_values_are_escaped_for_restructuredtext() -> None:
    assert escape("*bold* `x` <a> |s| _t_\n.. raw:: html") == r"\*bold\* \`x\` \<a\> \|s\| \_t\_ \.\. raw\:\: html"
    assert (
        heading("Dose *limits*", 2, "dose-limits") == "\n.. _dose-limits:\n\nDose \\*limits\\*\n" + "-" * 15
    )  # as long as the escaped title
    with pytest.raises(ValueError, match="use lowercase letters"):
        heading("x", 2, "Bad Label")


@pytest.mark.fuzz
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40))
@example("")
@example("SWR-001_ see http://example.org/a_b or a@b.c")
@example("1. first - second #. third (a) |s| [1]_ `x`_ :role:`y` **z** \\ end\\")
def test_an_escaped_value_reads_back_as_its_text_on_one_line(text: str) -> None:
    tree = publish_doctree(f"Value: {escape(text)}", settings_overrides={"report_level": 5, "halt_level": 5})
    assert len(tree.children) == 1 and isinstance(tree.children[0], nodes.paragraph), tree.pformat()
    (paragraph,) = tree.children
    assert all(isinstance(child, nodes.Text) for child in paragraph.children), paragraph.pformat()  # no markup
    assert paragraph.astext() == ("Value: " + " ".join(text.split())).rstrip()
