"""Where a command may write the file it was asked to write (``-o FILE``, ``qms export xlsx FILE``).

A report, matrix or workbook is written atomically: a new file takes the place of the old one.
That must never be a file the project is made of (an item file, ``qms.yaml``, the lock, a result
file), a file it would read as one the next time (a YAML file in a sources folder), or something
that is not a plain file (a folder, a device, a pipe): the command refuses and says why, before
it does any work.
"""

from __future__ import annotations

import fnmatch
import glob
import os
import stat
from pathlib import Path

from qms.approvals import APPROVALS_FILE
from qms.config import PROJECT_FILE
from qms.model import Project
from qms.review import LOCK_FILE

#: the files at the root of a project that qms or Sphinx read, with what each is
PROJECT_FILES = {
    PROJECT_FILE: "project file",
    "conf.py": "Sphinx configuration",
    LOCK_FILE: "change control lock",
    APPROVALS_FILE: "approvals file",
}
#: what qms reads as item and record files in their folders
_YAML = (".yaml", ".yml")


def output_refusal(target: Path, project: Project | None = None) -> str | None:
    """Why a command must not write its output to ``target``; None where it may."""
    if not target.name or target.name in (".", ".."):
        return "name a file to write"
    try:
        mode: int | None = os.stat(target).st_mode
    except OSError:  # not there yet (or not reachable: writing it says why)
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        what = "a folder" if stat.S_ISDIR(mode) else "not a regular file (a device, pipe or socket)"
        return f"it is {what}; name a file"
    return _project_part(target, project) if project is not None else None


def _project_part(target: Path, project: Project) -> str | None:
    """What ``target`` is of the project, if the project reads it (or would read it once written)."""
    root = project.root.resolve()
    path = target.resolve()
    if not path.is_relative_to(root):
        return None
    relative = path.relative_to(root).as_posix()
    fix = "write it elsewhere, such as _build/ or outside the project"
    if relative.split("/")[0] == ".git":
        return f"it is inside the project's git folder; {fix}"
    if relative in PROJECT_FILES:
        return f"it is the project's {PROJECT_FILES[relative]} {relative}; {fix}"
    if relative in project.files:
        return f"it is the item file {relative} of the project; {fix}"
    config = project.config
    for setting, what in (("sources", "an item file"), ("records", "a file of execution records")):
        patterns: tuple[str, ...] = getattr(config, setting)
        if path.suffix in _YAML and any(_within(relative, pattern) for pattern in patterns):
            return f"qms would read it as {what} (`{setting}` in {PROJECT_FILE}); {fix}"
    if any(_within(relative, pattern) for pattern in config.evidence):
        return f"qms would read it as a test result file (`evidence` in {PROJECT_FILE}); {fix}"
    if _within(relative, config.templates):
        return f"it is in the project's templates folder {config.templates}; {fix}"
    return None


def _within(relative: str, pattern: str) -> bool:
    """Whether the project-relative path ``relative`` is ``pattern``, matches it (a glob), or lies in it (a folder)."""
    pattern = pattern.strip().strip("/")
    if not pattern:
        return False
    if not glob.has_magic(pattern):
        return relative == pattern or relative.startswith(f"{pattern}/")
    return fnmatch.fnmatchcase(relative, pattern) or fnmatch.fnmatchcase(relative, f"{pattern}/*")
