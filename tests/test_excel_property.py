"""Properties of the Excel round trip, for generated projects written in many YAML styles:

- export then import with no edit is the identity on bytes;
- export, edit cells, import: the project then holds exactly the edited values, and the files of
  items nobody edited are untouched.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

from fixtures.excel.workbooks import column, row, snapshot
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString, SingleQuotedScalarString

from qms.excel.export import export_workbook
from qms.excel.import_ import import_workbook
from qms.excel.layout import normalize_cell
from qms.project import load_project

CONFIG = "device:\n  name: Generated\n  software_safety_class: B\nsources: [items]\n"
SEVERITIES = ("Negligible", "Minor", "Serious", "Critical", "Catastrophic")
PROBABILITIES = ("Improbable", "Remote", "Occasional", "Probable", "Frequent")
#: what a spreadsheet user may type: any printable text, formulas, YAML look-alikes
LETTERS = st.characters(codec="utf-8", categories=("L", "M", "N", "P", "S", "Zs"))
WORDS = st.text(LETTERS, min_size=1, max_size=30).filter(lambda text: text.strip() != "")
TRICKY = st.sampled_from(
    ["=1+1", "+1", "-x", "@SUM(1)", "yes", "no", "on", "1.0", "12:30", "~", "null", "- a", "a: b", "# c", "'q'", '"d"']
)
TITLES = st.one_of(WORDS, TRICKY)
PROSE = st.one_of(TITLES, st.lists(WORDS, min_size=2, max_size=4).map("\n".join))
SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def styled(draw: st.DrawFn, text: str) -> Any:
    """A string as a file might write it: plain, single or double quoted, or a block."""
    style = draw(st.sampled_from(["plain", "single", "double", "literal"]))
    if style == "literal" or "\n" in text:
        return LiteralScalarString(text + "\n") if style != "double" else DoubleQuotedScalarString(text)
    return {"plain": text, "single": SingleQuotedScalarString(text), "double": DoubleQuotedScalarString(text)}[style]


@st.composite
def links(draw: st.DrawFn, targets: list[str]) -> CommentedSeq:
    chosen = draw(st.lists(st.sampled_from(targets), min_size=1, max_size=3, unique=True))
    sequence = CommentedSeq(chosen)
    if draw(st.booleans()):
        sequence.fa.set_flow_style()
    return sequence


@st.composite
def projects(draw: st.DrawFn) -> dict[str, str]:
    """Item files of needs, system requirements, hazards and tests, in a drawn layout."""
    needs = [f"NEED-{number}" for number in range(1, draw(st.integers(1, 3)) + 1)]
    requirements = [f"SYS-{number}" for number in range(1, draw(st.integers(1, 3)) + 1)]
    files: dict[str, list[CommentedMap]] = {"needs": [], "requirements": [], "risks": []}
    for need in needs:
        files["needs"].append(CommentedMap(id=need, title=draw(styled(draw(TITLES))), text=draw(styled(draw(PROSE)))))
    for requirement in requirements:
        item = CommentedMap(id=requirement, title=draw(styled(draw(TITLES))), text=draw(styled(draw(PROSE))))
        item["derives_from"] = draw(links(needs))
        if draw(st.booleans()):
            item["x-owner"] = draw(styled(draw(WORDS)))
        files["requirements"].append(item)
    for number in range(1, draw(st.integers(0, 2)) + 1):
        hazard = CommentedMap(id=f"HAZ-{number}", kind="hazard", title=draw(styled(draw(TITLES))))
        for name in ("hazard", "hazardous_situation", "harm"):
            hazard[name] = draw(styled(draw(PROSE)))
        as_number = draw(st.booleans())
        severity, probability = draw(st.integers(1, 5)), draw(st.integers(1, 5))
        hazard["severity"] = severity if as_number else SEVERITIES[severity - 1]
        hazard["probability"] = probability if as_number else PROBABILITIES[probability - 1]
        hazard["controls"] = draw(links(requirements))
        files["risks"].append(hazard)
    layout = draw(st.sampled_from([(2, 4, 2), (2, 2, 0)]))
    blank_lines, comments = draw(st.booleans()), draw(st.booleans())
    kinds = {"needs": "need", "requirements": "system_requirement", "risks": "system_requirement"}
    return {
        f"items/{name}.yaml": _render(kinds[name], items, layout, blank_lines, comments)
        for name, items in files.items()
        if items
    }


def _render(kind: str, items: list[CommentedMap], layout: tuple[int, int, int], blank: bool, comments: bool) -> str:
    writer = YAML()
    writer.width = 4096
    writer.indent(mapping=layout[0], sequence=layout[1], offset=layout[2])
    stream = io.StringIO()
    writer.dump(CommentedMap(kind=kind, items=CommentedSeq(items)), stream)
    lines = stream.getvalue().split("\n")
    dash = " " * layout[2] + "- id:"
    out: list[str] = []
    for line in lines:
        if line.startswith(dash) and out and out[-1] != "items:":
            if blank:
                out.append("")
            if comments:
                out.append(" " * layout[2] + "# next item")
        out.append(line)
    return "# generated\n" + "\n".join(out)


def _write(root: Path, files: dict[str, str]) -> None:
    (root / "items").mkdir(parents=True)
    (root / "qms.yaml").write_text(CONFIG)
    for relative, text in files.items():
        (root / relative).write_text(text, encoding="utf-8")


@SETTINGS
@given(projects())
def test_export_then_import_without_edits_is_the_identity_on_bytes(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "project"
        _write(root, files)
        project = load_project(root)
        assert not project.load_findings, project.load_findings
        before = snapshot(root)
        workbook = Path(folder) / "book.xlsx"
        export_workbook(project, workbook)

        result = import_workbook(project, workbook)

        assert result.ok, [str(refusal) for refusal in result.refusals]
        assert (result.files, result.changes, result.new_items) == ({}, [], [])
        assert snapshot(root) == before


@SETTINGS
@given(projects(), st.data())
def test_edited_cells_come_back_as_exactly_the_values_typed(files: dict[str, str], data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "project"
        _write(root, files)
        project = load_project(root)
        workbook, edited = Path(folder) / "book.xlsx", Path(folder) / "edited.xlsx"
        export_workbook(project, workbook)
        book = load_workbook(workbook)
        sheet = book["System requirements"]
        requirements = sorted(item.id for item in project.of_kind("system_requirement"))
        targets = data.draw(st.lists(st.sampled_from(requirements), unique=True, min_size=1))
        typed: dict[tuple[str, str], str] = {}
        for item_id in targets:
            for header in data.draw(st.lists(st.sampled_from(["title", "text", "x-owner"]), unique=True, min_size=1)):
                if header == "x-owner" and "x-owner" not in [cell.value for cell in sheet[1]]:
                    continue
                text = data.draw(PROSE if header == "text" else TITLES)
                sheet.cell(row(sheet, item_id), column(sheet, header)).value = text
                typed[(item_id, header)] = text
        book.save(edited)
        before = snapshot(root)

        result = import_workbook(project, edited)

        assert result.ok, [str(refusal) for refusal in result.refusals]
        after = load_project(root)
        assert not after.load_findings, after.load_findings
        for (item_id, name), text in typed.items():
            assert normalize_cell(after.items[item_id].fields[name]) == normalize_cell(text)
        for item in project:
            if item.kind != "system_requirement" or item.id not in targets:
                assert dict(after.items[item.id].fields) == dict(item.fields)
        untouched = [path for path in before if path != "items/requirements.yaml"]
        assert {path: snapshot(root)[path] for path in untouched} == {path: before[path] for path in untouched}
