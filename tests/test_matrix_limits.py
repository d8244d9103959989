"""Dense projects, where paths multiply: the matrix counts its rows without making them, makes at
most MAX_ROWS, says in every format what it left out, and ``qms check`` reports it (T107)."""

from __future__ import annotations

import csv
import importlib.util
import io
import json
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest
from conftest import invoke_qms
from openpyxl import load_workbook
from sphinx_support import build, new_project, page

from qms.matrix import DESIGN, MAX_ROWS, trace_matrix
from qms.project import load_project
from qms.rulebook import SPECS


def _benchmark() -> ModuleType:
    """``benchmarks/bench_matrix.py``, whose dense projects the tests share."""
    spec = importlib.util.spec_from_file_location(
        "bench_matrix", Path(__file__).parents[1] / "benchmarks/bench_matrix.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BENCHMARK = _benchmark()
dense_items: Callable[[int], str] = BENCHMARK.dense_items
dense_project: Callable[[Path, int], Path] = BENCHMARK.dense_project


@pytest.fixture(scope="module")
def dense(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """25 items per level, each linking to all 25 above: 25**5 = 9,765,625 paths from 64 KB of YAML."""
    return dense_project(tmp_path_factory.mktemp("dense") / "project", 25)


def test_a_dense_matrix_is_counted_not_made(dense: Path) -> None:
    project = load_project(dense)
    assert (dense / "items" / "dense.yaml").stat().st_size < 70_000

    tracemalloc.start()
    matrix = trace_matrix(project, DESIGN)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert len(matrix.rows) == MAX_ROWS and matrix.total_rows == 25**5
    (cut,) = matrix.cuts
    assert (cut.shown, cut.total, cut.resumes_at) == (MAX_ROWS, 25**5, "N-1")
    assert peak < 100_000_000  # 9.7 M rows would take gigabytes


def test_the_command_line_says_what_it_left_out_in_every_format(dense: Path, tmp_path: Path) -> None:
    note = (
        "Design traceability has 9,765,625 rows, more than the 5 a matrix shows: the 9,765,620 rows from row 6 on "
        "(the first starts at N-1) are left out. Each item's page (and qms show ID) shows its whole trace; a chain "
        "of fewer kinds has fewer rows."
    )

    markdown = invoke_qms("matrix", "--max-rows", "5", cwd=dense)
    assert markdown.stderr == f"qms: note: {note}\n"
    design = markdown.stdout.split("\n\n## ")[0].splitlines()
    assert len([line for line in design if line.startswith("| N-")]) == 5
    assert design[-2:] == ["", f"> {note}"]

    rows = list(csv.reader(io.StringIO(invoke_qms("matrix", "--max-rows", "5", "--format", "csv", cwd=dense).stdout)))
    assert len(rows) == 1 + 5 + 1 and rows[-1] == [note] + [""] * (len(rows[0]) - 1)

    document = json.loads(invoke_qms("matrix", "--max-rows", "5", "--format", "json", cwd=dense).stdout)
    shown = document["matrices"][0]
    assert (len(shown["rows"]), shown["total_rows"]) == (5, 25**5)
    assert shown["cuts"] == [{"shown": 5, "total": 25**5, "resumes_at": "N-1", "note": note}]

    path = tmp_path / "dense.xlsx"
    assert invoke_qms("matrix", "--max-rows", "5", "--format", "xlsx", "-o", path, cwd=dense).exit_code == 0
    sheet = load_workbook(path).worksheets[0]
    assert [sheet.cell(row, 1).value for row in range(2, 9)] == ["N-1 N 1"] * 5 + [None, note]
    assert sheet.cell(1, 6).value == "Verification"
    assert sheet.auto_filter.ref == "A1:F6"  # the note stays out of the filtered table


def test_the_default_limit_holds_for_a_whole_csv(dense: Path) -> None:
    result = invoke_qms("matrix", "--format", "csv", cwd=dense)

    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert len(rows) == 1 + MAX_ROWS + 1 and rows[-1][0].startswith("Design traceability has 9,765,625 rows")


def test_check_reports_the_cut_at_the_item_most_rows_start_at(dense: Path) -> None:
    result = invoke_qms("check", "--format", "json", cwd=dense)

    (finding,) = [finding for finding in json.loads(result.stdout)["findings"] if finding["rule"] == "T107"]
    assert finding == {
        "rule": "T107",
        "severity": "warning",
        "item": "N-1",
        "file": "items/dense.yaml",
        "line": 2,
        "column": 5,
        "message": "the design traceability matrix has 9,765,625 rows, more than the 20,000 a matrix shows (the rest "
        "are left out and said so); 390,625 of them start at this item, whose links multiply the paths through it",
    }


@pytest.mark.slow
def test_the_sites_matrix_page_stays_light(tmp_path: Path) -> None:
    root = new_project(tmp_path / "site", files={"traceability/dense.yaml": dense_items(12)})

    result = build(root)

    assert result.exit_code == 0, result.output
    html = page(root / "_build" / "html", "traceability-matrix.html")
    assert len(html.encode()) < 30_000_000  # 12 per level made a 186 MB page before the limit
    assert "Design traceability has 248,8" in html and "are left out." in html
    assert html.count('<tr class="row-') <= 2 * MAX_ROWS + 100  # design and risk, at most MAX_ROWS each


def test_the_rules_explanation_names_the_limit_a_matrix_keeps() -> None:
    assert f"at most {MAX_ROWS:,} rows" in SPECS["T107"].explanation
