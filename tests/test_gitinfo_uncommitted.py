"""Which result files and records differ from the last commit: the site labels their results."""

from __future__ import annotations

from pathlib import Path

from fixtures.change.gitrepo import git

from qms.gitinfo import uncommitted


def test_untracked_ignored_and_changed_files_are_uncommitted(tmp_path: Path) -> None:
    folder = tmp_path / "repo"
    project = folder / "device"
    (project / "reports").mkdir(parents=True)
    (project / "records").mkdir()
    git(folder, "init", "-q", "-b", "main")
    (folder / ".gitignore").write_text("ignored/\n", encoding="utf-8")
    (project / "records" / "run.yaml").write_text("a\n", encoding="utf-8")
    (project / "records" / "edited.yaml").write_text("b\n", encoding="utf-8")
    git(folder, "add", ".")
    git(folder, "commit", "-q", "-m", "records", author="Alice Example", date="2025-03-01T10:00:00+01:00")
    (project / "records" / "edited.yaml").write_text("b, changed\n", encoding="utf-8")
    (project / "reports" / "unit.xml").write_text("<testsuite/>\n", encoding="utf-8")
    (project / "ignored").mkdir()
    (project / "ignored" / "old.xml").write_text("<testsuite/>\n", encoding="utf-8")
    paths = ["records/run.yaml", "records/edited.yaml", "reports/unit.xml", "ignored/old.xml"]
    assert uncommitted(project, paths) == {"records/edited.yaml", "reports/unit.xml", "ignored/old.xml"}
    assert uncommitted(project, []) == frozenset()


def test_outside_git_every_file_is_uncommitted(tmp_path: Path) -> None:
    (tmp_path / "unit.xml").write_text("<testsuite/>\n", encoding="utf-8")
    assert uncommitted(tmp_path, ["unit.xml"]) == {"unit.xml"}
