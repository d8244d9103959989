"""Fuzzing ``qms import xlsx``: random cell values in an exported workbook, and damaged workbooks.

Whatever the workbook holds, the import ends with exit 0, 1 or 2 and never a traceback, within the
profile's deadline; nothing outside the project changes; a refused import changes no byte of the
project; and every item an import reports as added is read back by qms from the file it named.
"""

from __future__ import annotations

import gc
import io
import re
import shutil
import tempfile
import warnings
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import pytest
from conftest import invoke_qms
from fixtures.excel.workbooks import FIXTURE, add_row, snapshot
from hypothesis import example, given
from hypothesis import strategies as st
from openpyxl import load_workbook

from qms.project import load_project

pytestmark = pytest.mark.fuzz

#: the item sheets and the columns a person may type into (ids and files included)
SHEETS = ("User needs", "System requirements", "Software requirements", "Tests", "Hazards", "Risk register")
#: text a spreadsheet user may type (no control characters: a cell cannot hold them)
TYPED = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=40)
YAML_LOOKALIKES = st.sampled_from(
    [
        "a: &a [x, x]\nb: [*a, *a, *a]",
        "&a [*a]",
        "[" * 300 + "]" * 300,
        "{a: 1, a: 2}",
        "!!python/object/apply:os.system [id]",
        "1" * 5000,
        "1:" * 2000 + "1",
        "- ref: A\n  evaluation: B",
        "- ref: A\n  evaluation: B\n- [",
        "=1+1",
        "~",
        "0x1F",
        ".inf",
        "2024-01-01",
    ]
)
FILES = st.sampled_from(
    [
        "items/tests.yaml",
        "items/new.yaml",
        "items/new/deeper.yaml",
        "items/tests.yaml/x.yaml",
        "items/elsewhere/x.yaml",
        "items/qms.yaml",
        "qms.yaml",
        ".git/x.yaml",
        "../outside/x.yaml",
        "/tmp/x.yaml",
        "results/x.yaml",
        "items/anomaly-7.yaml",
        "items\\windows.yaml",
        "items/./dot.yaml",
        "items/x.txt",
    ]
)
IDS = st.one_of(st.sampled_from(["TST-9", "NEED-9", "SWR-1", "TST-1", "", "9-bad", "A" * 200]), TYPED)
#: ids and titles a new row most often has: a new item, then and again an odd one
NEW_IDS = st.one_of(st.from_regex(r"TST-[1-9][0-9]{1,2}", fullmatch=True), IDS)
TITLES = st.text(st.characters(codec="utf-8", categories=("L", "N")), min_size=1, max_size=20)
VALUES = st.one_of(
    TYPED, YAML_LOOKALIKES, FILES, IDS, st.integers(), st.integers(32_000, 33_000).map(lambda size: "x" * size)
)


@cache
def exported() -> bytes:
    """The fixture project's workbook (exported once)."""
    with sandbox() as project:
        result = invoke_qms("export", "xlsx", project.parent / "records.xlsx", cwd=project)
        assert result.exit_code == 0, result.output
        return (project.parent / "records.xlsx").read_bytes()


@contextmanager
def sandbox() -> Iterator[Path]:
    """A fresh copy of the fixture project, beside a folder ``outside`` it must never write into
    (reachable from the project through the symlink ``items/elsewhere``)."""
    with tempfile.TemporaryDirectory(prefix="qms-fuzz-") as folder:
        root = Path(folder)
        project = root / "project"
        shutil.copytree(FIXTURE, project)
        (root / "outside").mkdir()
        (root / "outside" / "x.yaml").write_text("kind: test\nitems: []\n")
        (project / "items" / "elsewhere").symlink_to(root / "outside", target_is_directory=True)
        yield project
    # a refused workbook leaves reference cycles (its parser's objects, held by tracebacks) that only
    # a full collection frees: thousands of examples in one process would otherwise pile them up
    gc.collect()


def import_and_check(project: Path, workbook: bytes) -> None:
    """Import ``workbook`` and assert the properties of the module docstring."""
    path = project.parent / "edited.xlsx"
    path.write_bytes(workbook)
    around = project.parent
    before = snapshot(around)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = invoke_qms("import", "xlsx", path, cwd=project)  # a traceback fails the test
    assert not [str(warning.message) for warning in caught if "openpyxl" in warning.filename]  # no library's warning

    assert result.exit_code in (0, 1, 2), result.output
    after = snapshot(around)
    outside = {name: data for name, data in after.items() if not name.startswith("project/")}
    assert outside == {name: data for name, data in before.items() if not name.startswith("project/")}
    assert not list(project.glob(".qms-import*"))
    if result.exit_code != 0:
        assert after == before, result.output
        return
    items = load_project(project).items
    for item_id, file in re.findall(r"^added (\S+) \((.+)\)$", result.stdout, re.MULTILINE):
        assert item_id in items, result.stdout
        assert items[item_id].file == file


@given(
    edits=st.lists(
        st.tuples(st.sampled_from(SHEETS), st.integers(2, 6), st.integers(1, 14), VALUES), min_size=1, max_size=4
    )
)
def test_any_typed_cells_import_whole_or_not_at_all(edits: list[tuple[str, int, int, object]]) -> None:
    book = load_workbook(io.BytesIO(exported()))
    for title, row, column, value in edits:
        book[title].cell(row, column).value = value
    buffer = io.BytesIO()
    book.save(buffer)
    with sandbox() as project:
        import_and_check(project, buffer.getvalue())


@given(
    rows=st.lists(
        st.fixed_dictionaries(
            {"id": NEW_IDS, "title": st.one_of(TITLES, TYPED, YAML_LOOKALIKES), "file": st.one_of(FILES, FILES, TYPED)},
            optional={"verifies": st.sampled_from(["SWR-1", "SYS-1, SWR-1", "NEED-1", "TST-9"])},
        ),
        min_size=1,
        max_size=3,
    )
)
@example([{"id": "TST-50", "title": "x", "file": "items/elsewhere/x.yaml"}])  # a symlink out of the project
@example([{"id": "TST-50", "title": "x", "file": "items/tests.yaml/x.yaml"}])  # under a file
@example([{"id": "TST-50", "title": "x", "file": "items/qms.yaml"}])  # never read as an item file
def test_any_new_rows_land_where_qms_reads_them_or_nowhere(rows: list[dict[str, str]]) -> None:
    book = load_workbook(io.BytesIO(exported()))
    for values in rows:
        add_row(book["Tests"], {"method": "test", **values})
    buffer = io.BytesIO()
    book.save(buffer)
    with sandbox() as project:
        import_and_check(project, buffer.getvalue())


@given(
    member=st.integers(0, 100),
    cut=st.floats(0, 1),
    noise=st.binary(min_size=1, max_size=8),
    how=st.sampled_from(["truncate", "insert", "overwrite", "drop", "truncate-zip"]),
)
def test_any_damaged_workbook_is_refused_or_read_never_a_traceback(
    member: int, cut: float, noise: bytes, how: str
) -> None:
    original = exported()
    if how == "truncate-zip":
        damaged = original[: int(len(original) * cut)]
    else:
        damaged = _mutated(original, member, cut, noise, how)
    with sandbox() as project:
        import_and_check(project, damaged)


def _mutated(original: bytes, member: int, cut: float, noise: bytes, how: str) -> bytes:
    """The workbook with one of its parts cut, grown or overwritten at ``cut``, or left out."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(original)) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        parts = source.infolist()
        chosen = parts[member % len(parts)]
        for info in parts:
            data = source.read(info)
            if info is chosen:
                at = int(len(data) * cut)
                if how == "drop":
                    continue
                data = {
                    "truncate": data[:at],
                    "insert": data[:at] + noise + data[at:],
                    "overwrite": data[:at] + noise + data[at + len(noise) :],
                }[how]
            target.writestr(info, data)
    return buffer.getvalue()


def test_parts_openpyxl_leaves_out_give_no_library_warning() -> None:
    # a workbook edited elsewhere can hold what openpyxl does not read (here the filter of a sheet
    # taken out of the workbook): the import reads the rest, and the person sees no warning of openpyxl's
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(exported())) as source, zipfile.ZipFile(buffer, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/workbook.xml":
                data, taken = re.subn(rb'<sheet [^>]*name="Risk trace"[^>]*/>', b"", data)
                assert taken == 1
            target.writestr(info, data)
    with sandbox() as project:
        import_and_check(project, buffer.getvalue())
