"""What git knows about the project: the commit a document was built from, and whether the tree
was dirty. Read with GitPython; outside a repository (or without git) it says so instead of failing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class DocumentControl:
    """The version-control state a rendered document or export is stamped with."""

    commit: str | None  # full hash, None outside git
    short: str | None
    date: str | None  # ISO 8601 committer date of the commit
    dirty: bool
    describe: str | None  # `git describe --tags --always`
    under_version_control: bool

    @property
    def summary(self) -> str:
        if not self.under_version_control:
            return "not under version control"
        if self.commit is None:
            return "git repository without commits"
        state = ", with uncommitted changes" if self.dirty else ""
        return f"commit {self.short} of {self.date}{state}"


NOT_UNDER_VERSION_CONTROL = DocumentControl(None, None, None, False, None, False)


def document_control(root: Path) -> DocumentControl:
    """The commit, its date and the dirty flag of the repository holding ``root``."""
    try:
        import git
    except ImportError:  # GitPython present but no git executable
        return NOT_UNDER_VERSION_CONTROL
    try:
        repository = git.Repo(root, search_parent_directories=True)
    except (git.InvalidGitRepositoryError, git.NoSuchPathError, git.GitCommandError):
        return NOT_UNDER_VERSION_CONTROL
    with repository:
        try:
            head = repository.head.commit
        except ValueError:  # no commits yet
            return DocumentControl(None, None, None, True, None, True)
        try:
            dirty = repository.is_dirty(untracked_files=False, path=str(root))
            describe = repository.git.describe("--tags", "--always")
        except git.GitCommandError:
            dirty, describe = True, head.hexsha[:10]
        return DocumentControl(
            head.hexsha,
            head.hexsha[:10],
            head.committed_datetime.isoformat(),
            dirty,
            describe,
            True,
        )
