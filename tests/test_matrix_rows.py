"""What a matrix row claims, in every format: each item next to one it links to, rows in natural
order, and links that break a kind rule (Q006) shown like any other link, marked as findings."""

from __future__ import annotations

import csv
import io
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import invoke_qms, write_files
from openpyxl import load_workbook
from sphinx_support import build, new_project, page

from qms.matrix import DESIGN, Chain, parse_chain, trace_matrix
from qms.project import load_project

#: Shaped like Doorstop's own requirements: REQ003 and REQ004 have a tutorial step with its own
#: test and a test of their own; REQ007's tutorial step is verified by nothing, its test verifies
#: REQ007 only.
SHAPED = {
    "traceability/needs.yaml": "kind: need\nitems:\n  - {id: NEED-1, title: Use it, text: t}\n",
    "traceability/requirements.yaml": """\
kind: system_requirement
items:
  - {id: REQ003, title: Import, text: t, derives_from: [NEED-1]}
  - {id: REQ004, title: Export, text: t, derives_from: [NEED-1]}
  - {id: REQ007, title: Publish, text: t, derives_from: [NEED-1]}
""",
    "traceability/tutorials.yaml": """\
kind: software_requirement
items:
  - {id: TUT005, title: Import tutorial, text: t, derives_from: [REQ003]}
  - {id: TUT006, title: Export tutorial, text: t, derives_from: [REQ004]}
  - {id: TUT020, title: Publish tutorial, text: t, derives_from: [REQ007]}
""",
    "traceability/tests.yaml": """\
kind: test
items:
  - {id: LLT001, title: Import test, method: test, verifies: [REQ003]}
  - {id: LLT002, title: Export test, method: test, verifies: [REQ004]}
  - {id: LLT003, title: Publish test, method: test, verifies: [REQ007]}
  - {id: LLT009, title: Import tutorial test, method: test, verifies: [TUT005]}
  - {id: LLT010, title: Export tutorial test, method: test, verifies: [TUT006]}
""",
}
SHAPED_CHAIN = "system_requirement,software_requirement,test"
SHAPED_ROWS = [
    ["REQ003", "TUT005", "LLT009"],
    ["REQ003", "", "LLT001"],
    ["REQ004", "TUT006", "LLT010"],
    ["REQ004", "", "LLT002"],
    ["REQ007", "TUT020", ""],  # TUT020 is verified by nothing: no test next to it
    ["REQ007", "", "LLT003"],
]
#: the Verification column of SHAPED_ROWS: each row's test has no result yet; no test, no status
SHAPED_VERIFICATION = ["not-run", "not-run", "not-run", "not-run", "", "not-run"]

#: Three links that break a kind rule: a test that verifies a need (it validates needs), a
#: software requirement that derives from a need (past the system requirements), and a system
#: requirement that derives from another (both in one column).
WRONG_KINDS = {
    "traceability/needs.yaml": "kind: need\nitems:\n  - {id: NEED-1, title: Use it, text: t}\n",
    "traceability/requirements.yaml": """\
kind: system_requirement
items:
  - {id: SYS-1, title: Parent, text: t, derives_from: [NEED-1]}
  - {id: SYS-2, title: Child, text: t, derives_from: [SYS-1]}
""",
    "traceability/software.yaml": """\
kind: software_requirement
items:
  - {id: SWR-5, title: Straight from the need, text: t, derives_from: [NEED-1]}
""",
    "traceability/tests.yaml": """\
kind: test
items:
  - {id: TST-9, title: Verifies a need, method: test, verifies: [NEED-1, SYS-1, SYS-2, SWR-5]}
""",
}
Q006_TST = (
    "TST-9: verifies links to NEED-1, a need; verifies takes system_requirement or software_requirement or "
    "software_item or software_unit"
)
Q006_SWR = "SWR-5: derives_from links to NEED-1, a need; derives_from takes system_requirement"
Q006_SYS = "SYS-2: derives_from links to SYS-1, a system_requirement; derives_from takes need"
#: design matrix rows of WRONG_KINDS, with the Q006 findings each shows (items after their codes)
WRONG_KIND_ROWS = [
    (["NEED-1", "SYS-1", "", "", "TST-9"], [Q006_SYS]),
    (["NEED-1", "", "SWR-5", "", "TST-9"], [Q006_SWR]),
    (["NEED-1", "", "", "", "TST-9"], [Q006_TST]),
    (["", "SYS-2", "", "", "TST-9"], [Q006_SYS]),
]


def standalone(root: Path, files: dict[str, str]) -> Path:
    """A project as ``qms init`` writes it, with ``files`` as its only items."""
    new_project(root)
    for folder in ("traceability", "risk_register"):
        shutil.rmtree(root / folder)
        (root / folder).mkdir()
    return write_files(root, files)


def rows_of(marked: list[tuple[list[str], list[str]]]) -> list[list[str]]:
    return [row for row, _ in marked]


def ids(rows: object) -> list[list[str]]:
    return [[item.id if item else "" for item in row] for row in rows]  # type: ignore[attr-defined]


def arrows(rows: list[list[str]]) -> list[list[str]]:
    """``rows`` as Markdown and the site show them: ``→`` in a column a link passes by."""
    shown = []
    for row in rows:
        filled = [index for index, cell in enumerate(row) if cell]
        shown.append([cell or ("→" if filled[0] < index < filled[-1] else "") for index, cell in enumerate(row)])
    return shown


def first_words(cells: list[str]) -> list[str]:
    """The id of each ``ID title`` cell of a text format."""
    return [cell.split(" ")[0] if cell else "" for cell in cells]


def without_severity(findings: str, separator: str = "\n") -> list[str]:
    """``error Q006 TST-9: ...`` and more, one a line, as ``["TST-9: ...", ...]`` (every one Q006)."""
    found = [finding.split(" ", 2) for finding in findings.split(separator)] if findings else []
    assert {rule for _, rule, _ in found} <= {"Q006"}
    return [text for _, _, text in found]


# --------------------------------------------------------------------------- each cell links to its row's item


def test_a_cell_shows_only_what_links_to_its_rows_item_and_rows_keep_natural_order(tmp_path: Path) -> None:
    root = standalone(tmp_path / "shaped", SHAPED)

    matrix = trace_matrix(load_project(root), Chain("Shaped", parse_chain(SHAPED_CHAIN)))

    assert ids(matrix.rows) == SHAPED_ROWS


def test_every_text_format_shows_the_same_rows(tmp_path: Path) -> None:
    root = standalone(tmp_path / "shaped", SHAPED)

    markdown = invoke_qms("matrix", "--chain", SHAPED_CHAIN, cwd=root).stdout
    lines = markdown.splitlines()
    assert lines[2].endswith("| Tests | Verification |")
    table = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines[4:]]
    assert [first_words(row[:3]) for row in table] == arrows(SHAPED_ROWS)
    assert [row[3] for row in table] == SHAPED_VERIFICATION

    text = invoke_qms("matrix", "--chain", SHAPED_CHAIN, "--format", "csv", cwd=root).stdout
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][-1] == "Verification"
    assert [row[:6:2] for row in table[1:]] == SHAPED_ROWS
    assert [row[6] for row in table[1:]] == SHAPED_VERIFICATION

    document = json.loads(invoke_qms("matrix", "--chain", SHAPED_CHAIN, "--format", "json", cwd=root).stdout)
    (shown,) = document["matrices"]
    assert [[cell["id"] if cell else "" for cell in row["cells"]] for row in shown["rows"]] == SHAPED_ROWS
    assert [row["verification"] or "" for row in shown["rows"]] == SHAPED_VERIFICATION


def test_the_workbook_shows_the_same_rows(tmp_path: Path) -> None:
    root = standalone(tmp_path / "shaped", SHAPED)
    path = tmp_path / "matrix.xlsx"

    assert invoke_qms("matrix", "--chain", SHAPED_CHAIN, "--format", "xlsx", "-o", path, cwd=root).exit_code == 0

    (sheet,) = load_workbook(path).worksheets
    assert [cell.value for cell in sheet[1]][-1] == "Verification"
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [first_words([cell or "" for cell in row[:3]]) for row in values] == SHAPED_ROWS
    assert [row[3] or "" for row in values] == SHAPED_VERIFICATION


def test_the_design_chain_passes_software_items_by_for_tests_of_requirements(tmp_path: Path) -> None:
    files = dict(SHAPED)
    files["traceability/architecture.yaml"] = (
        "kind: software_item\nitems:\n  - {id: SI-1, title: Publisher, description: d, implements: [TUT020]}\n"
    )
    root = standalone(tmp_path / "shaped", files)

    rows = ids(trace_matrix(load_project(root), DESIGN).rows)

    assert rows == [
        ["NEED-1", "REQ003", "TUT005", "", "LLT009"],
        ["NEED-1", "REQ003", "", "", "LLT001"],
        ["NEED-1", "REQ004", "TUT006", "", "LLT010"],
        ["NEED-1", "REQ004", "", "", "LLT002"],
        ["NEED-1", "REQ007", "TUT020", "SI-1", ""],  # SI-1 implements TUT020; no test verifies either
        ["NEED-1", "REQ007", "", "", "LLT003"],
    ]


# --------------------------------------------------------------------------- links that break a kind rule


def test_links_that_break_a_kind_rule_are_rows_marked_with_their_finding(tmp_path: Path) -> None:
    root = standalone(tmp_path / "kinds", WRONG_KINDS)
    project = load_project(root)

    matrix = trace_matrix(project, DESIGN)

    found = [[f"{finding.item}: {finding.message}" for finding in row] for row in matrix.findings]
    shown = list(zip(ids(matrix.rows), found, strict=True))
    assert shown == WRONG_KIND_ROWS
    checked = invoke_qms("check", "--format", "json", cwd=root)
    q006 = {f"{f['item']}: {f['message']}" for f in json.loads(checked.stdout)["findings"] if f["rule"] == "Q006"}
    assert q006 == {finding for _, found in shown for finding in found}  # every Q006 link is in the matrix


def test_every_format_marks_the_findings_of_the_links_a_row_shows(tmp_path: Path) -> None:
    root = standalone(tmp_path / "kinds", WRONG_KINDS)
    rows = [row for row, _ in WRONG_KIND_ROWS]
    marks = [found for _, found in WRONG_KIND_ROWS]

    markdown = invoke_qms("matrix", "--format", "md", cwd=root).stdout.split("\n\n## ")[0]
    lines = markdown.splitlines()
    assert lines[2].endswith("| Tests | Verification | Findings |")
    table = [[cell.strip() for cell in line.strip("|").split(" | ")] for line in lines[4:]]
    assert [first_words(row[:5]) for row in table] == arrows(rows)
    assert [row[5] for row in table] == ["not-run"] * len(rows)  # TST-9 has no result
    assert [without_severity(row[6], "<br>") for row in table] == marks

    text = invoke_qms("matrix", "--format", "csv", cwd=root).stdout
    table = list(csv.reader(io.StringIO(text)))
    assert table[0][-1] == "Findings"
    assert [(row[2:12:2], without_severity(row[-1])) for row in table[1:]] == WRONG_KIND_ROWS

    document = json.loads(invoke_qms("matrix", "--format", "json", cwd=root).stdout)
    design = document["matrices"][0]
    assert [[f"{f['item']}: {f['message']}" for f in row["findings"]] for row in design["rows"]] == marks
    assert {f["rule"] for row in design["rows"] for f in row["findings"]} == {"Q006"}

    path = tmp_path / "matrix.xlsx"
    assert invoke_qms("matrix", "--format", "xlsx", "-o", path, cwd=root).exit_code == 0
    sheet = load_workbook(path).worksheets[0]
    assert [cell.value for cell in sheet[1]][-1] == "Findings"
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [(first_words([c or "" for c in row[:5]]), without_severity(row[-1] or "")) for row in values] == (
        WRONG_KIND_ROWS
    )


def test_a_finding_switched_off_is_no_mark(tmp_path: Path) -> None:
    root = standalone(tmp_path / "kinds", WRONG_KINDS)
    config = root / "qms.yaml"
    text = config.read_text(encoding="utf-8")
    assert text.count("\nrules:\n") == 1
    config.write_text(text.replace("\nrules:\n", "\nrules:\n  Q006: off\n"), encoding="utf-8")

    matrix = trace_matrix(load_project(root), DESIGN)

    assert [row for row, _ in WRONG_KIND_ROWS] == ids(matrix.rows) and matrix.findings == ()


# --------------------------------------------------------------------------- the site


class MatrixTables(HTMLParser):
    """The matrix tables of a page: per table, rows of cells (the item id of a cell, "" for a gap,
    else its text)."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.depth = 0  # inside a matrix table
        self.in_id = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        classes = (dict(attrs).get("class") or "").split()
        if tag == "table" and "qms-matrix" in classes:
            self.tables.append([])
            self.depth = 1
        elif self.depth and tag == "tr" and not self.in_head:
            self.tables[-1].append([])
        elif self.depth and tag == "td":
            self.tables[-1][-1].append("")
        self.in_id = self.depth > 0 and "qms-id" in classes
        if tag == "thead":
            self.in_head = True

    in_head = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.depth = 0
        if tag == "thead":
            self.in_head = False
        self.in_id = False

    def handle_data(self, data: str) -> None:
        if self.depth and not self.in_head and self.tables[-1] and self.tables[-1][-1]:
            row = self.tables[-1][-1]
            if self.in_id:
                row[-1] = data
            elif data.strip() not in ("", "—") and not row[-1]:
                row[-1] = data.strip()


def matrix_tables(html: str) -> list[list[list[str]]]:
    parser = MatrixTables()
    parser.feed(html)
    return parser.tables


@pytest.mark.slow
def test_the_sites_matrix_page_shows_the_same_rows_and_marks(tmp_path: Path) -> None:
    files = {
        **{path.replace("traceability/", "traceability/shaped-"): text for path, text in SHAPED.items()},
        **{path: text for path, text in WRONG_KINDS.items()},
        "rows.rst": f"Rows\n====\n\n.. qms:matrix::\n   :chain: {SHAPED_CHAIN}\n",
    }
    files["traceability/shaped-needs.yaml"] = "kind: need\nitems:\n  - {id: NEED-2, title: Use it, text: t}\n"
    for name in ("requirements", "tutorials"):
        key = f"traceability/shaped-{name}.yaml"
        files[key] = files[key].replace("NEED-1", "NEED-2")
    root = standalone(tmp_path / "site", files)

    result = build(root)

    assert result.exit_code == 0, result.output
    site = root / "_build" / "html"
    (rows_table,) = matrix_tables(page(site, "rows.html"))
    shaped = [row for row in rows_table if row[0].startswith("REQ")]
    assert [row[:3] for row in shaped] == arrows(SHAPED_ROWS)
    # the Verification column: no test of this project has a result, so a row ending in a test is not-run
    assert [row[3] for row in shaped] == SHAPED_VERIFICATION
    assert {tuple(row[4:]) for row in shaped} == {("",)}  # a findings column (for SYS-2), empty on these rows
    html = page(site, "traceability-matrix.html")
    design = matrix_tables(html)[0]  # no hazards: no risk matrix
    assert [row for row in design if "TST-9" in row] == [
        [*row, "not-run", "Q006"] for row in arrows(rows_of(WRONG_KIND_ROWS))
    ]
    for finding in (Q006_TST, Q006_SWR, Q006_SYS):
        assert f" {finding}</p>" in html
