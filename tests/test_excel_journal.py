"""``qms import xlsx`` is all or nothing even when killed: a real import process is killed before
each of its file-system changes in turn, and the next import rolls back what the killed one did."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures.excel.workbooks import add_row, edited, fixture_project, qms_in, set_value, snapshot
from openpyxl import Workbook

import qms.excel.import_ as import_module
from qms import atomic
from qms.excel.journal import JOURNAL, FileWrite, JournalError, apply

WORKTREE = Path(__file__).parents[1]

#: runs ``qms ARGS`` and sends itself SIGNAL just before the LIMIT-th call of the named os functions
KILLER = """
import os, signal, sys

from qms.cli import main

stop, limit, names, arguments = getattr(signal, sys.argv[1]), int(sys.argv[2]), sys.argv[3].split(","), sys.argv[4:]
calls = 0


def counted(function):
    def wrapper(*args, **kwargs):
        global calls
        calls += 1
        if calls == limit:
            os.kill(os.getpid(), stop)
        return function(*args, **kwargs)

    return wrapper


for name in names:
    setattr(os, name, counted(getattr(os, name)))
main(arguments)
"""

#: the writes themselves (fast), and every change an import makes to the file system (slow)
WRITES = "replace,rename"
EVERY_CHANGE = "replace,rename,unlink,mkdir,rmdir"


def three_files_and_a_new_folder(book: Workbook) -> None:
    set_value(book["User needs"], "NEED-1", "title", "A changed need")
    set_value(book["System requirements"], "SYS-1", "title", "A changed requirement")
    add_row(
        book["Tests"],
        {"id": "TST-9", "title": "New", "method": "test", "verifies": "SWR-1", "file": "items/new/tests.yaml"},
    )


def import_process(root: Path, workbook: Path, limit: int, names: str, stop: str = "SIGKILL") -> list[str]:
    """The command line of an import in ``root`` that sends itself ``stop`` before the LIMIT-th change."""
    return [sys.executable, "-c", KILLER, stop, str(limit), names, "import", "xlsx", str(workbook)]


def environment(root: Path) -> dict[str, str]:
    """This qms, and a temporary folder beside ``root``: a process killed while it holds a scratch
    folder (an import asks discovery of a new file's path in one) leaves it in the test's folder."""
    scratch = root.with_name(f"{root.name}-tmp")
    scratch.mkdir(exist_ok=True)
    path = os.pathsep.join([str(WORKTREE), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "TMPDIR": str(scratch)}


def killed_import(root: Path, workbook: Path, limit: int, names: str) -> int:
    process = subprocess.run(
        import_process(root, workbook, limit, names),
        cwd=root,
        env=environment(root),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in process.stderr, process.stderr
    return process.returncode


def item_files(state: dict[str, bytes]) -> dict[str, bytes]:
    return {path: data for path, data in state.items() if path.endswith((".yaml", ".yml"))}


def kill_at_every_step(tmp_path: Path, names: str) -> int:
    """Kill an import before each change in turn; after each kill, check and recover. The kills made."""
    template = fixture_project(tmp_path, "template")
    workbook = edited(template, three_files_and_a_new_folder)
    before = snapshot(template)
    reference = tmp_path / "reference"
    shutil.copytree(template, reference)
    assert qms_in(reference, "import", "xlsx", str(workbook)).exit_code == 0
    after = snapshot(reference)
    assert len([path for path in after if after[path] != before.get(path)]) == 3

    for limit in range(1, 200):
        root = tmp_path / f"kill-{limit}"
        shutil.copytree(template, root)
        code = killed_import(root, workbook, limit, names)
        if code == 0:
            assert snapshot(root) == after
            return limit - 1
        assert code == -9
        state = snapshot(root)
        journal = (root / JOURNAL).is_dir()
        # without a journal the item files are all old or all new; with one, the next run repairs them
        assert journal or item_files(state) in (item_files(before), item_files(after)), limit

        check = qms_in(root, "check", "--no-cache")  # a probe: its parse cache is not part of the snapshot
        assert ("qms: warning: an import was interrupted" in check.stderr) == journal

        again = qms_in(root, "import", "xlsx", str(workbook))
        assert again.exit_code == 0, again.output
        assert ("an interrupted import was rolled back" in again.stderr) == journal
        assert snapshot(root) == after, limit
        assert not list(root.glob(".qms-import*"))
        shutil.rmtree(root)
    raise AssertionError("the import never finished")


def test_an_import_killed_before_any_of_its_writes_is_rolled_back_by_the_next(tmp_path: Path) -> None:
    assert kill_at_every_step(tmp_path, WRITES) == 5  # journal in place, three files, journal removed


@pytest.mark.slow
def test_an_import_killed_before_any_change_to_the_file_system_is_rolled_back_by_the_next(tmp_path: Path) -> None:
    assert kill_at_every_step(tmp_path, EVERY_CHANGE) > 10


def test_a_file_edited_after_the_kill_stops_the_roll_back_and_nothing_is_touched(tmp_path: Path) -> None:
    root = fixture_project(tmp_path)
    workbook = edited(root, three_files_and_a_new_folder)
    assert killed_import(root, workbook, 3, WRITES) == -9  # journal in place, the first file written
    needs = root / "items" / "needs.yaml"
    assert "A changed need" in needs.read_text()
    needs.write_text(needs.read_text() + "# a later edit\n")
    state = snapshot(root)

    result = qms_in(root, "import", "xlsx", str(workbook))

    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"qms: error: an interrupted import left {JOURNAL}/, but items/needs.yaml changed since in a way it "
        "cannot undo: compare each with its old text"
    )
    assert snapshot(root) == state


def test_a_dry_run_does_not_roll_back_and_says_why(tmp_path: Path) -> None:
    root = fixture_project(tmp_path)
    workbook = edited(root, three_files_and_a_new_folder)
    assert killed_import(root, workbook, 3, WRITES) == -9
    state = snapshot(root)

    result = qms_in(root, "import", "xlsx", str(workbook), "--dry-run")

    assert result.exit_code == 1
    assert "a dry run writes nothing: import without --dry-run" in result.stderr
    assert snapshot(root) == state


def test_an_import_never_rolls_back_one_that_is_writing_now(tmp_path: Path) -> None:
    root = fixture_project(tmp_path)
    workbook = edited(root, three_files_and_a_new_folder)
    reference = tmp_path / "reference"
    shutil.copytree(root, reference)
    assert qms_in(reference, "import", "xlsx", str(workbook)).exit_code == 0
    # stopped (not killed) after its journal is in place and its first file is written
    writing = subprocess.Popen(import_process(root, workbook, 3, WRITES, "SIGSTOP"), cwd=root, env=environment(root))
    try:
        _, status = os.waitpid(writing.pid, os.WUNTRACED)
        assert os.WIFSTOPPED(status)
        state = snapshot(root)

        result = qms_in(root, "import", "xlsx", str(workbook))

        assert result.exit_code == 1
        assert f"another qms import is writing {JOURNAL}/ in this project right now" in result.stderr
        assert snapshot(root) == state
    finally:
        os.kill(writing.pid, signal.SIGCONT)
    assert writing.wait(timeout=120) == 0
    assert snapshot(root) == snapshot(reference)


def test_a_write_that_fails_puts_back_the_files_already_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "a.yaml").write_bytes(b"old a")
    (tmp_path / "b.yaml").write_bytes(b"old b")
    before = snapshot(tmp_path)
    written: list[Path] = []
    replace_through = atomic.replace_through

    def disk_full_at_the_second(path: Path, data: bytes, temporary: Path) -> None:
        written.append(path)
        if len(written) == 2:
            raise OSError(28, "No space left on device")
        replace_through(path, data, temporary)

    monkeypatch.setattr(atomic, "replace_through", disk_full_at_the_second)
    writes = [
        FileWrite("a.yaml", tmp_path / "a.yaml", b"old a", b"new a"),
        FileWrite("new/c.yaml", tmp_path / "new" / "c.yaml", None, b"new c"),
        FileWrite("b.yaml", tmp_path / "b.yaml", b"old b", b"new b"),
    ]

    with pytest.raises(JournalError, match=r"writing failed \(.*No space left on device\); every file was put back"):
        apply(tmp_path, writes)

    assert snapshot(tmp_path) == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["a.yaml", "b.yaml"]


def test_a_file_written_since_the_import_read_it_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_bytes(b"written by another import since")
    (tmp_path / "b.yaml").write_bytes(b"old b")
    before = snapshot(tmp_path)
    writes = [
        FileWrite("b.yaml", tmp_path / "b.yaml", b"old b", b"new b"),
        FileWrite("a.yaml", tmp_path / "a.yaml", b"old a", b"new a"),  # planned from the text before
    ]

    with pytest.raises(JournalError, match=r"^a\.yaml changed since this import read it .*nothing was written"):
        apply(tmp_path, writes)

    assert snapshot(tmp_path) == before
    assert not (tmp_path / JOURNAL).exists()


def test_two_imports_at_once_lose_no_edit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two people import their workbooks into one project at once; the second had read the file before
    the first wrote it: it stops, writes nothing, and its edit is imported when it runs again."""
    root = fixture_project(tmp_path)
    title, statement = tmp_path / "title.xlsx", tmp_path / "statement.xlsx"
    shutil.copy(
        edited(root, lambda book: set_value(book["User needs"], "NEED-1", "title", "Glucose at a glance")), title
    )
    shutil.copy(edited(root, lambda book: set_value(book["User needs"], "NEED-2", "title", "Alarms heard")), statement)
    real_apply = import_module.apply

    def the_other_import_first(project_root: Path, writes: list[FileWrite]) -> None:
        monkeypatch.setattr(import_module, "apply", real_apply)
        assert qms_in(root, "import", "xlsx", str(title)).exit_code == 0  # it lands between read and write
        real_apply(project_root, writes)

    monkeypatch.setattr(import_module, "apply", the_other_import_first)
    result = qms_in(root, "import", "xlsx", str(statement))
    assert result.exit_code == 1
    assert "changed since this import read it (another import, or an edit); nothing was written" in result.stderr
    needs = (root / "items/needs.yaml").read_text(encoding="utf-8")
    assert "Glucose at a glance" in needs and "Alarms heard" not in needs

    assert qms_in(root, "import", "xlsx", str(statement)).exit_code == 0  # again: both edits are in
    needs = (root / "items/needs.yaml").read_text(encoding="utf-8")
    assert "Glucose at a glance" in needs and "Alarms heard" in needs
