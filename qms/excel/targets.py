"""Where an import may write: item files inside the project that qms's own source discovery reads.

Every file an import would write is checked before anything is written: a relative ``.yaml`` path
with no ``..``, not under ``.git``, not ``qms.yaml``, whose folders are folders (or can be made),
that resolves inside the project through any symlink, and that :func:`qms.project.source_files`
finds. A new file is looked for in a scratch copy of its folders, so that the one matcher of
``sources`` decides, never a second one (``fnmatch``'s ``*`` matches ``/``; ``glob``'s does not).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path, PurePosixPath

from qms.config import PROJECT_FILE
from qms.model import Project
from qms.project import source_files

_SUFFIXES = (".yaml", ".yml")


class TargetRefused(Exception):
    """The file cannot be written by an import; the message says why and what to do."""


def checked_target(project: Project, named: str) -> str:
    """``named`` as the path qms reads it by, once it is safe to write: relative to the project
    root, with ``/``, through no symlink (the way :func:`qms.project.source_files` names files).

    Raises :class:`TargetRefused` otherwise.
    """
    root = project.root.resolve()
    real = _real_path(root, _relative(named))
    path = real.relative_to(root).as_posix()
    if path in project.files:
        return path
    if real.exists():
        files, _ = source_files(project.root, project.config)
        if real not in files:
            raise TargetRefused(
                f"{path} is not read by qms (no `sources` entry of qms.yaml takes it): {_hint(project)}"
            )
        return path
    if not _discovered(project, path):
        raise TargetRefused(
            f"{path} would not be read by qms (no `sources` entry of qms.yaml takes it): {_hint(project)}"
        )
    return path


def real_target(project: Project, path: str) -> Path:
    """The file that writing ``path`` (already checked) changes: symlinks resolved."""
    return _real_path(project.root.resolve(), path)


def _relative(named: str) -> str:
    text = named.replace("\\", "/").strip()
    if not text or text.startswith("/") or (len(text) > 1 and text[1] == ":"):
        raise TargetRefused(f"'{named}' is not a path inside the project: name a file like traceability/tests.yaml")
    parts = [part for part in PurePosixPath(text).parts if part != "."]
    if ".." in parts or not parts:
        raise TargetRefused(f"'{named}' leaves the project folder: name a file like traceability/tests.yaml")
    if not parts[-1].endswith(_SUFFIXES) or parts[-1] in _SUFFIXES:
        raise TargetRefused(f"'{named}' is not a YAML file: name a .yaml file like traceability/tests.yaml")
    if any(part.casefold() == ".git" for part in parts):
        raise TargetRefused(f"'{named}' is inside .git, git's own folder: name an item file of the project")
    if parts[-1].casefold() == PROJECT_FILE:
        raise TargetRefused(f"'{named}' is the project file, not an item file: name an item file of the project")
    return "/".join(parts)


def _real_path(root: Path, path: str) -> Path:
    """Walk ``path`` down from ``root``: each folder must be a folder (or not exist yet), every
    symlink must stay inside the project, and the file must be a file (or not exist yet)."""
    current = root
    parts = path.split("/")
    for index, part in enumerate(parts):
        current = current / part
        shown = "/".join(parts[: index + 1])
        last = index == len(parts) - 1
        if current.is_symlink():
            resolved = current.resolve()
            if not resolved.is_relative_to(root):
                raise TargetRefused(
                    f"{shown} is a symbolic link to {resolved}, outside the project: qms writes only inside "
                    "the project; name a file in one of its own folders"
                )
            current = resolved
        if not current.exists():
            _writable(root, current.parent, shown)
            return current.joinpath(*parts[index + 1 :])
        if not last and not current.is_dir():
            raise TargetRefused(f"{shown} is a file, not a folder: name a file in a folder of the project")
        if last and not current.is_file():
            raise TargetRefused(f"{shown} is a folder, not a file: name a .yaml file in it")
    _writable(root, current.parent, path)
    return current


def _writable(root: Path, folder: Path, shown: str) -> None:
    if not os.access(folder, os.W_OK | os.X_OK):
        where = folder.relative_to(root).as_posix() if folder != root else "the project folder"
        raise TargetRefused(f"{shown} cannot be written: {where} is not writable")


def _discovered(project: Project, path: str) -> bool:
    """Whether qms's source discovery would find a new file at ``path``: asked of a scratch
    folder holding only that file (discovery reads names and folders, not contents)."""
    try:
        with tempfile.TemporaryDirectory(prefix="qms-target-") as scratch:
            root = Path(scratch)
            probe = root / path
            probe.parent.mkdir(parents=True, exist_ok=True)
            probe.touch()
            files, _ = source_files(root, project.config)
            return probe.resolve() in files
    except OSError as error:
        raise TargetRefused(
            f"cannot find out whether qms would read {path} ({error}): name an existing item file"
        ) from error


def _hint(project: Project) -> str:
    sources = ", ".join(project.config.sources) or "none"
    return f"name a file under the project's sources ({sources}), or add its folder to `sources`"
