"""What git tells about a project: document control, revision history, who changed which lines;
in a full clone, a shallow clone, a repository without commits, and outside git."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from fixtures.change.gitrepo import git

from qms.gitinfo import (
    BLAMES_AT_ONCE,
    LineChange,
    Revision,
    blame_files,
    document_control,
    latest_changes,
    revision_history,
)


def commit(folder: Path, files: dict[str, str], subject: str, author: str, date: str) -> str:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    git(folder, "add", *files)
    git(folder, "commit", "-q", "-m", subject, author=author, date=date)
    return git(folder, "rev-parse", "HEAD")


ALICE_DATE, BOB_DATE, CAROL_DATE = "2025-03-01T10:00:00+01:00", "2025-04-02T11:30:00+00:00", "2025-05-03T12:00:00-05:00"


@pytest.fixture
def repository(tmp_path: Path) -> tuple[Path, list[str]]:
    """A repository with three commits: a.yaml and b.yaml, then a.yaml twice (the last in its line 3)."""
    folder = tmp_path / "repo"
    folder.mkdir()
    git(folder, "init", "-q", "-b", "main")
    first = commit(
        folder, {"a.yaml": "one\ntwo\nthree\n", "b.yaml": "bee\n"}, "Add a and b", "Alice Example", ALICE_DATE
    )
    second = commit(folder, {"a.yaml": "ONE\ntwo\nthree\n"}, "Capitalise one", "Bob Builder", BOB_DATE)
    third = commit(folder, {"a.yaml": "ONE\ntwo\nTHREE\n"}, "Capitalise three", "Carol Checker", CAROL_DATE)
    return folder, [first, second, third]


def test_revision_history_lists_the_commits_that_changed_the_files(repository: tuple[Path, list[str]]) -> None:
    folder, (first, second, third) = repository
    assert revision_history(folder, ["a.yaml"]) == [
        Revision(third, third[:10], CAROL_DATE, "Carol Checker", "Capitalise three"),
        Revision(second, second[:10], BOB_DATE, "Bob Builder", "Capitalise one"),
        Revision(first, first[:10], ALICE_DATE, "Alice Example", "Add a and b"),
    ]
    assert [revision.hash for revision in revision_history(folder, ["b.yaml"])] == [first]
    latest_two = revision_history(folder, ["a.yaml", "b.yaml"], max_count=2)
    assert [revision.hash for revision in latest_two] == [third, second]
    assert revision_history(folder, []) == []
    assert revision_history(folder, ["never-committed.yaml"]) == []


def test_revision_history_of_a_project_in_a_subfolder(tmp_path: Path) -> None:
    folder = tmp_path / "repo"
    folder.mkdir()
    git(folder, "init", "-q")
    made = commit(folder, {"device/items/a.yaml": "x\n", "other.yaml": "y\n"}, "Items", "Alice Example", ALICE_DATE)
    assert [revision.hash for revision in revision_history(folder / "device", ["items/a.yaml"])] == [made]


def test_latest_change_per_block_of_lines(repository: tuple[Path, list[str]]) -> None:
    folder, (first, second, third) = repository
    changes = latest_changes(folder, "a.yaml", [(1, 1), (2, 2), (2, None)])
    hashes = [change.revision.hash if change and change.revision else None for change in changes]
    assert hashes == [second, first, third]
    assert changes[0] is not None and changes[0].revision is not None
    assert changes[0].revision.author == "Bob Builder"
    assert changes[0].revision.date == "2025-04-02T11:30:00+00:00"
    assert changes[0].summary == f'last changed by Bob Builder on 2025-04-02 in commit {second[:10]} "Capitalise one"'


def test_latest_change_ignores_whitespace_only_edits(repository: tuple[Path, list[str]]) -> None:
    folder, (_, second, _) = repository
    commit(folder, {"a.yaml": "ONE   \ntwo\nTHREE\n"}, "Trailing blanks", "Dan Tidy", "2025-06-01T09:00:00+00:00")
    (change,) = latest_changes(folder, "a.yaml", [(1, 1)])
    assert change is not None and change.revision is not None
    assert change.revision.hash == second


def test_uncommitted_and_untracked_lines(repository: tuple[Path, list[str]]) -> None:
    folder, _ = repository
    (folder / "a.yaml").write_text("ONE\nchanged\nTHREE\n", encoding="utf-8")
    (folder / "new.yaml").write_text("fresh\n", encoding="utf-8")
    changes = latest_changes(folder, "a.yaml", [(1, 1), (2, 2)])
    assert changes[1] == LineChange(None)
    assert changes[1].summary == "changed in the working tree, not committed yet"
    assert changes[0] is not None and changes[0].revision is not None
    assert latest_changes(folder, "new.yaml", [(1, None)]) == [LineChange(None)]
    assert latest_changes(folder, "a.yaml", []) == []


def test_lines_beyond_the_file_are_unknown(repository: tuple[Path, list[str]]) -> None:
    folder, _ = repository
    assert latest_changes(folder, "a.yaml", [(40, 50)]) == [None]


def test_many_files_blamed_at_once_answer_as_each_alone(repository: tuple[Path, list[str]]) -> None:
    folder, _ = repository
    extra = {f"c{number}.yaml": f"line {number}\n" * 3 for number in range(2 * BLAMES_AT_ONCE)}
    commit(folder, extra, "Many files", "Dan Tidy", "2025-06-01T09:00:00+00:00")
    (folder / "c0.yaml").write_text("line 0\nedited\nline 0\n", encoding="utf-8")
    (folder / "new.yaml").write_text("fresh\n", encoding="utf-8")
    asked: list[tuple[str, list[tuple[int, int | None]], frozenset[int]]] = [
        ("a.yaml", [(1, 1), (2, 2), (2, None)], frozenset()),
        ("new.yaml", [(1, None)], frozenset()),
        ("b.yaml", [], frozenset()),
        ("a.yaml", [(40, 50)], frozenset()),
        ("a.yaml", [(1, 3)], frozenset({3})),
        *((name, [(1, 1), (2, None)], frozenset()) for name in extra),
        ("b.yaml", [(1, 1)], frozenset()),
    ]
    alone = [latest_changes(folder, file, blocks, skip=skip) for file, blocks, skip in asked]
    assert blame_files(folder, asked) == alone
    assert alone[0][0] != alone[0][2] and alone[1] == [LineChange(None)] and alone[2] == [] and alone[3] == [None]
    assert alone[5][1] == LineChange(None)  # c0.yaml's edited line
    assert len({change for changes in alone for change in changes}) >= 5


def test_shallow_clone_marks_where_history_stops(repository: tuple[Path, list[str]], tmp_path: Path) -> None:
    folder, (_, _, third) = repository
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{folder}", str(clone)], check=True)
    assert revision_history(clone, ["a.yaml"]) == [
        Revision(third, third[:10], CAROL_DATE, "Carol Checker", "Capitalise three", boundary=True)
    ]
    (change,) = latest_changes(clone, "a.yaml", [(1, 1)])
    assert change is not None and change.revision is not None and change.revision.boundary
    assert change.summary == (
        f"last changed in or before commit {third[:10]} (2025-05-03); this shallow clone holds no earlier history"
    )
    control = document_control(clone)
    assert control.shallow and control.commit == third and not control.dirty
    assert not document_control(folder).shallow


def test_a_linked_worktree_of_a_shallow_clone_marks_where_history_stops(
    repository: tuple[Path, list[str]], tmp_path: Path
) -> None:
    folder, (_, _, third) = repository
    clone, linked = tmp_path / "clone", tmp_path / "linked"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{folder}", str(clone)], check=True)
    git(clone, "worktree", "add", "-q", "--detach", str(linked))
    assert revision_history(linked, ["a.yaml"]) == [
        Revision(third, third[:10], CAROL_DATE, "Carol Checker", "Capitalise three", boundary=True)
    ]
    (change,) = latest_changes(linked, "a.yaml", [(1, 1)])
    assert change is not None and change.revision is not None and change.revision.boundary
    assert document_control(linked).shallow


def test_outside_git(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("one\n", encoding="utf-8")
    assert revision_history(tmp_path, ["a.yaml"]) == []
    assert latest_changes(tmp_path, "a.yaml", [(1, 1)]) == [None]
    control = document_control(tmp_path)
    assert not control.under_version_control
    assert control.summary == "not under version control"


def test_outside_git_gitpython_is_not_even_imported(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("one\n", encoding="utf-8")
    program = (
        "import sys; from pathlib import Path; from qms.gitinfo import document_control, revision_history\n"
        "root = Path(sys.argv[1])\n"
        "print(document_control(root).under_version_control, revision_history(root, ['a.yaml']), 'git' in sys.modules)"
    )

    def run() -> str:
        ran = subprocess.run([sys.executable, "-c", program, str(tmp_path)], capture_output=True, text=True, check=True)
        return ran.stdout.strip()

    assert run() == "False [] False"
    git(tmp_path, "init", "-q")  # the same folder in a repository: read with GitPython
    assert run() == "True [] True"


def test_repository_without_commits(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "a.yaml").write_text("one\n", encoding="utf-8")
    assert revision_history(tmp_path, ["a.yaml"]) == []
    assert latest_changes(tmp_path, "a.yaml", [(1, 1)]) == [LineChange(None)]
    assert document_control(tmp_path).summary == "git repository without commits"


# --------------------------------------------------------------------------- what git holds that Python does not expect


def test_blame_splits_only_at_newlines(tmp_path: Path) -> None:
    """Item text may hold U+2028, U+0085, U+2029, form feeds and vertical tabs: they are no line ends for git."""
    folder = tmp_path / "repo"
    folder.mkdir()
    git(folder, "init", "-q")
    text = "one\u2028more\ntwo\x85more\nthree\u2029more\x0c\x0b\x1c\x1d\x1e\rend\nfour\n"
    first = commit(folder, {"a.yaml": text}, "Odd separators", "Alice Example", ALICE_DATE)
    second = commit(folder, {"a.yaml": text.replace("four", "FOUR")}, "Four", "Bob Builder", BOB_DATE)
    changes = latest_changes(folder, "a.yaml", [(1, 3), (4, 4), (1, None)])
    hashes = [change.revision.hash if change and change.revision else None for change in changes]
    assert hashes == [first, second, second]


@pytest.mark.parametrize(
    ("date", "shown"),  # shown: how the date starts
    [
        ("@253402300800 +0000", "@253402300800 +0000"),  # 10000-01-01: past Python's datetime
        ("@1700000000 +9999", "@1700000000 +"),  # an offset of more than a day (git shows it as +10039)
        ("@1700000000 +0130", "2023-11-14T23:43:20+01:30"),
    ],
)
def test_dates_python_cannot_hold_are_shown_as_git_stores_them(tmp_path: Path, date: str, shown: str) -> None:
    folder = tmp_path / "repo"
    folder.mkdir()
    git(folder, "init", "-q")
    made = commit(folder, {"a.yaml": "one\n"}, "Far future", "Alice Example", date)
    (change,) = latest_changes(folder, "a.yaml", [(1, 1)])
    assert change is not None and change.revision is not None
    date = change.revision.date
    assert date.startswith(shown)
    day = date if date.startswith("@") else date[:10]
    assert change.summary == f'last changed by Alice Example on {day} in commit {made[:10]} "Far future"'
    assert [revision.date for revision in revision_history(folder, ["a.yaml"])] == [date]
    control = document_control(folder)
    assert control.date == date
    assert control.summary == f"commit {made[:10]} of {date}"


def test_a_workbook_of_a_commit_dated_past_the_year_9999_carries_the_fixed_date(tmp_path: Path) -> None:
    from qms.excel.export import FIXED_DATE, export_date

    folder = tmp_path / "repo"
    folder.mkdir()
    git(folder, "init", "-q")
    commit(folder, {"a.yaml": "one\n"}, "Far future", "Alice Example", "@253402300800 +0000")
    assert export_date(document_control(folder)) == FIXED_DATE


def test_revision_history_leaves_out_paths_outside_the_repository(repository: tuple[Path, list[str]]) -> None:
    """A document's shipped template installed outside the project's repository has no history
    there: the other files' history is still given."""
    folder, (first, _second, _third) = repository
    outside = folder.parent / "site-packages" / "templates" / "x.rst.jinja"
    outside.parent.mkdir(parents=True)
    outside.write_text("x\n", encoding="utf-8")
    assert [revision.hash for revision in revision_history(folder, ["b.yaml", outside])] == [first]
    assert [revision.hash for revision in revision_history(folder, [folder / "b.yaml"])] == [first]
    assert revision_history(folder, [outside]) == []


def test_revision_history_reads_file_names_literally(tmp_path: Path) -> None:
    """A file named like a pattern (``*.yaml``) is that one file, not every file it would match."""
    folder = tmp_path / "repo"
    folder.mkdir()
    git(folder, "init", "-q")
    starred = commit(folder, {"items/[ab].yaml": "x\n"}, "Starred", "Alice Example", ALICE_DATE)
    commit(folder, {"items/a.yaml": "y\n"}, "Plain", "Bob Builder", BOB_DATE)
    assert [revision.hash for revision in revision_history(folder, ["items/[ab].yaml"])] == [starred]


def test_revision_history_adds_the_commits_named_besides(repository: tuple[Path, list[str]]) -> None:
    """The commits that recorded a document's approvals join its files' history, in time order;
    a commit git does not hold is left out."""
    folder, (first, second, third) = repository
    history = revision_history(folder, ["b.yaml"], commits=[third, "f" * 40, third])
    assert [revision.hash for revision in history] == [third, first]
    assert [revision.hash for revision in revision_history(folder, [], commits=[second])] == [second]
    assert [revision.hash for revision in revision_history(folder, ["b.yaml"], max_count=1, commits=[second])] == [
        second
    ]
