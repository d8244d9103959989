"""The workbook holds what it held when ``readback.json`` was recorded: every sheet's cells, formats,
styles, links, comments, column widths, panes, filters and validations, as openpyxl reads them back,
for the fixture project, the example device and a generated project."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures.excel.readback import PROJECTS, RECORDED, read_back, workbook_of


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_the_workbook_reads_back_as_recorded(name: str, tmp_path: Path) -> None:
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))[name]
    found = read_back(workbook_of(name, tmp_path))
    differing = sorted(key for key in recorded.keys() | found.keys() if recorded.get(key) != found.get(key))
    assert not differing, (
        f"the {name} workbook reads back differently in {differing}; if the project (the example's items, "
        "the generator) changed on purpose, re-record with "
        "`PYTHONPATH=$PWD:$PWD/tests python tests/fixtures/excel/readback.py --record` and read the diff"
    )
