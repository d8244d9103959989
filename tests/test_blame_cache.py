"""git blame's answers kept between runs (:class:`qms.gitinfo.KeptBlames`): the same answers as git
gives, no blame for a file whose answer cannot have changed, and a new answer after any change of
what it depends on (the commit, the file, the mailmap, blame's settings and the files they name, a
shallow clone's cut, the lines asked); ``qms check`` says the same with and without them."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import git as gitpython
import pytest
from fixtures.change.gitrepo import git, qms

from qms.gitinfo import KeptBlames, LineChange, latest_changes

CACHE = "_build/qms-cache"
BLOCKS: Sequence[tuple[int, int | None]] = [(1, 1), (2, 2), (3, None)]
REPOSITORY_ROOT = Path(__file__).resolve().parent.parent


def commit(folder: Path, text: str, subject: str, author: str, date: str, name: str = "a.yaml") -> str:
    (folder / name).write_text(text, encoding="utf-8")
    git(folder, "add", name)
    git(folder, "commit", "-q", "-m", subject, author=author, date=date)
    return git(folder, "rev-parse", "HEAD")


@pytest.fixture
def repository(tmp_path: Path) -> tuple[Path, list[str]]:
    """a.yaml in three commits: written, its line 1 changed, then its line 3."""
    folder = tmp_path / "repo"
    folder.mkdir()
    git(folder, "init", "-q", "-b", "main")
    (folder / ".gitignore").write_text("_build/\n", encoding="utf-8")
    first = commit(folder, "one\ntwo\nthree\n", "Write a", "Alice Example", "2025-03-01T10:00:00+01:00")
    second = commit(folder, "ONE\ntwo\nthree\n", "Capitalise one", "Bob Builder", "2025-04-02T11:30:00+00:00")
    third = commit(folder, "ONE\ntwo\nTHREE\n", "Capitalise three", "Carol Checker", "2025-05-03T12:00:00-05:00")
    return folder, [first, second, third]


@pytest.fixture
def blames(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files git blame is run on, in order, from here on."""
    run: list[str] = []
    execute = gitpython.cmd.Git.execute

    def counting(self: gitpython.cmd.Git, command: Any, *arguments: Any, **options: Any) -> Any:
        if isinstance(command, list) and "blame" in command:
            run.append(str(command[-1]))
        return execute(self, command, *arguments, **options)

    monkeypatch.setattr(gitpython.cmd.Git, "execute", counting)
    return run


def asked(
    folder: Path, blocks: Sequence[tuple[int, int | None]] = BLOCKS, skip: frozenset[int] = frozenset()
) -> list[LineChange | None]:
    """One run's answer for a.yaml, kept in the cache folder, as a check asks and keeps it."""
    kept = KeptBlames(folder, folder / CACHE)
    found = latest_changes(folder, "a.yaml", blocks, skip=skip, kept=kept)
    kept.save()
    return found


def commits(changes: Sequence[LineChange | None]) -> list[str | None]:
    return [change.revision.hash if change and change.revision else None for change in changes]


def authors(changes: Sequence[LineChange | None]) -> list[str | None]:
    return [change.revision.author if change and change.revision else None for change in changes]


def test_kept_answers_are_git_blames_and_a_second_run_blames_nothing(
    repository: tuple[Path, list[str]], blames: list[str]
) -> None:
    folder, (_, second, third) = repository
    (folder / "a.yaml").write_text("ONE\ntwo\nTHREE\nfour\n", encoding="utf-8")  # line 4 not committed yet
    blocks: Sequence[tuple[int, int | None]] = [(1, 1), (2, 3), (4, None), (1, None)]
    fresh = latest_changes(folder, "a.yaml", blocks)

    assert asked(folder, blocks) == fresh
    assert len(blames) == 2 and (folder / CACHE / "blame.bin").is_file()
    assert asked(folder, blocks) == fresh
    assert len(blames) == 2, "the second run took the answer kept"
    assert commits(fresh) == [second, third, None, None]
    assert fresh[2] == fresh[3] == LineChange(None)


def test_a_new_commit_is_a_new_answer(repository: tuple[Path, list[str]]) -> None:
    folder, _ = repository
    (folder / "a.yaml").write_text("ONE\ntwo\nTHREE, edited\n", encoding="utf-8")
    assert asked(folder)[2] == LineChange(None)

    edited = commit(folder, "ONE\ntwo\nTHREE, edited\n", "Edit three", "Dan Editor", "2025-06-01T09:00:00+00:00")

    assert commits(asked(folder))[2] == edited, "the same bytes, committed now"


def test_an_edit_in_the_working_tree_is_a_new_answer(repository: tuple[Path, list[str]]) -> None:
    folder, (first, second, third) = repository
    assert commits(asked(folder)) == [second, first, third]

    (folder / "a.yaml").write_text("ONE\ntwo, edited\nTHREE\n", encoding="utf-8")

    assert commits(asked(folder)) == [second, None, third]
    assert asked(folder)[1] == LineChange(None)


def test_the_lines_asked_are_part_of_the_question(repository: tuple[Path, list[str]]) -> None:
    folder, (_, second, third) = repository
    assert commits(asked(folder, [(1, None)])) == [third]
    assert commits(asked(folder, [(1, None)], skip=frozenset({3}))) == [second]
    assert commits(asked(folder, [(1, 2)])) == [second]


def test_a_mailmap_is_a_new_answer(repository: tuple[Path, list[str]]) -> None:
    folder, _ = repository
    assert authors(asked(folder)) == ["Bob Builder", "Alice Example", "Carol Checker"]

    (folder / ".mailmap").write_text("Robert Builder <author@example.org> Bob Builder <author@example.org>\n")

    assert authors(asked(folder)) == ["Robert Builder", "Alice Example", "Carol Checker"]


def test_a_setting_of_git_is_a_new_answer(repository: tuple[Path, list[str]]) -> None:
    folder, _ = repository
    commit(folder, "ONE\ntwo\nTHREE\nfour\n", "Añadir cuatro", "Zoë Ünicode", "2025-06-01T09:00:00+00:00")
    (fourth,) = asked(folder, [(4, 4)])
    assert fourth is not None and fourth.revision is not None and fourth.revision.author == "Zoë Ünicode"

    git(folder, "config", "i18n.logOutputEncoding", "ISO-8859-1")  # names and subjects as Latin-1 bytes

    (recoded,) = asked(folder, [(4, 4)])
    assert recoded is not None and recoded.revision is not None
    assert recoded.revision.hash == fourth.revision.hash and recoded.revision.author != "Zoë Ünicode"
    assert recoded == latest_changes(folder, "a.yaml", [(4, 4)])[0]


def test_the_file_a_setting_names_is_part_of_the_question(repository: tuple[Path, list[str]]) -> None:
    folder, (first, second, _) = repository
    (folder / "passed-over").write_text("", encoding="utf-8")
    git(folder, "config", "blame.ignoreRevsFile", "passed-over")
    assert commits(asked(folder))[0] == second

    (folder / "passed-over").write_text(f"{second}\n", encoding="utf-8")

    assert commits(asked(folder))[0] == first


def test_the_cut_of_a_shallow_clone_is_part_of_the_question(repository: tuple[Path, list[str]], tmp_path: Path) -> None:
    origin, (_, second, third) = repository
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", "--depth", "1", f"file://{origin}", str(clone))
    shallow = asked(clone)
    assert commits(shallow) == [third, third, third]
    assert all(change and change.revision and change.revision.boundary for change in shallow)

    git(clone, "fetch", "-q", "--unshallow")

    full = asked(clone)
    assert commits(full)[0] == second
    assert not any(change and change.revision and change.revision.boundary for change in full)


def test_answers_of_an_earlier_commit_are_dropped_and_those_of_another_command_kept(
    repository: tuple[Path, list[str]],
) -> None:
    folder, _ = repository
    stored = folder / CACHE / "blame.bin"
    asked(folder, [(1, 1)])
    asked(folder, [(2, 2)])  # another question of the same state: both kept
    size = stored.stat().st_size
    asked(folder, [(1, 1)])
    assert stored.stat().st_size == size

    commit(folder, "ONE\ntwo\nTHREE\n", "Add b", "Alice Example", "2025-06-01T09:00:00+00:00", name="b.yaml")
    asked(folder, [(1, 1)])

    assert stored.stat().st_size < size, "the answers of the earlier commit went"


def test_outside_git_and_for_files_git_does_not_hold_nothing_is_kept(tmp_path: Path, blames: list[str]) -> None:
    (tmp_path / "a.yaml").write_text("one\n", encoding="utf-8")
    assert asked(tmp_path) == [None, None, None]
    assert not (tmp_path / CACHE).exists()

    git(tmp_path, "init", "-q")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "Start")
    assert asked(tmp_path) == [LineChange(None)] * 3  # not committed yet: git refuses, nothing kept
    assert asked(tmp_path) == [LineChange(None)] * 3
    assert len(blames) == 2


# ------------------------------------------------------------------------------ qms check


def checked(root: Path, *options: str) -> str:
    code, output = qms("check", "--project", str(root), *options)
    assert code in (0, 1), output
    return output


def same_check_with_and_without(root: Path, blames: list[str]) -> str:
    """``qms check`` of ``root`` without the cache, cold and warm: the same output; the warm run blames nothing."""
    stored = root / CACHE / "blame.bin"
    uncached = checked(root, "--no-cache")
    assert not stored.exists(), "--no-cache writes nothing"
    assert blames, "the project's check asks git blame"
    cold = checked(root)
    assert stored.is_file()
    before = len(blames)
    warm = checked(root)
    assert len(blames) == before, "a warm check blames no file"
    assert uncached == cold == warm
    return warm


@pytest.mark.slow
def test_the_example_checks_the_same_with_the_answers_kept(tmp_path: Path, blames: list[str]) -> None:
    clone = tmp_path / "example"
    git(tmp_path, "clone", "-q", "--local", str(REPOSITORY_ROOT), str(clone))
    output = same_check_with_and_without(clone, blames)
    assert "items in" in output


@pytest.fixture
def generated(tmp_path: Path) -> Iterator[Callable[[int], Path]]:
    sys.path.insert(0, str(REPOSITORY_ROOT / "benchmarks"))
    from generate import generate

    yield lambda size: generate(size, tmp_path / "generated", 0)
    sys.path.remove(str(REPOSITORY_ROOT / "benchmarks"))


@pytest.mark.slow
def test_a_generated_project_checks_the_same_with_the_answers_kept(
    generated: Callable[[int], Path], blames: list[str]
) -> None:
    root = generated(600)
    (root / ".gitignore").write_text("_build/\n", encoding="utf-8")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Generated project", date="2025-01-01T00:00:00Z")
    edited, *_, uncommitted = sorted((root / "traceability" / "software_requirements").glob("*.yaml"))
    for path in (edited, uncommitted):
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace("The software shall", "The software must", 1), encoding="utf-8")
    git(root, "add", str(edited.relative_to(root)))
    git(root, "commit", "-q", "-m", "Edit a requirement", author="Dan Editor", date="2026-01-01T00:00:00Z")

    output = same_check_with_and_without(root, blames)

    assert "Dan Editor" in output and "not committed yet" in output
