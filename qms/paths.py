"""The files a ``sources`` or ``evidence`` entry of ``qms.yaml`` names: inside the project only.

One walk for both: a folder (every file below it) or a glob (``*``, ``?``, ``[...]`` within a
name, ``**`` across folders). It never leaves the project, unless ``allow_outside`` in
``qms.yaml`` names the folder it goes to, so that neither ``/etc/*.yaml`` nor a symbolic link
out of the tree puts someone else's files into the technical file. Each real folder is walked
once, so symbolic links that point back into the tree end the walk instead of looping, and each
real file is named once. Names starting with ``.`` (``.git``, ``.venv``) are skipped unless the
pattern spells them. A site qms built (a folder holding its ``.qms-output`` marker) is never
walked: it publishes copies of the result files and records, and a copy read back would count as
evidence, and keep counting after its file changed or went.
"""

from __future__ import annotations

import errno
import fnmatch
import glob
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from qms.atomic import OUTPUT_MARKER


@dataclass(frozen=True)
class Matches:
    """What one entry names: the files (resolved, each once, sorted), and what it may not read."""

    files: list[Path] = field(default_factory=list)
    #: the entry itself points outside the project (``/abs``, ``../..``): nothing was read
    outside: bool = False
    #: files it matched that resolve outside the project (through symbolic links), not read
    refused: list[Path] = field(default_factory=list)
    #: the entry names no folder, file or glob base that exists
    missing: bool = False
    #: symbolic links it matched that lead nowhere (a missing file, a loop): not read, each a finding
    broken: list[Path] = field(default_factory=list)
    #: the entry names a site qms built, or a folder in one: nothing was read (its files are copies)
    site: bool = False


def allowed_roots(root: Path, allow_outside: Sequence[str]) -> tuple[Path, ...]:
    """The folders files may come from: the project, and each ``allow_outside`` folder (resolved)."""
    return (root.resolve(), *((root / folder).resolve() for folder in allow_outside))


def within(path: Path, roots: Sequence[Path]) -> bool:
    """Whether the resolved ``path`` is one of ``roots`` or below one."""
    return any(path == top or path.is_relative_to(top) for top in roots)


def project_files(root: Path, entry: str, roots: Sequence[Path], suffixes: tuple[str, ...] = ()) -> Matches:
    """The files ``entry`` (a folder, file or glob relative to ``root``) names, inside ``roots``;
    only those ending in one of ``suffixes`` when given."""
    parts = Path(entry).parts
    fixed = next((index for index, part in enumerate(parts) if glob.has_magic(part)), len(parts))
    base = root.joinpath(*parts[:fixed])
    if not within(base.resolve(), roots):
        return Matches(outside=True)
    if any((folder / OUTPUT_MARKER).is_file() for folder in (base, *base.parents) if folder.is_relative_to(root)):
        return Matches(site=True)
    if fixed == len(parts):  # a folder or a file
        if base.is_file():
            found: Iterator[Path] = iter([base])
        elif base.is_dir():
            found = _walk(base, ("**",), set())
        else:
            return Matches(missing=True)
    else:
        found = _walk(base, parts[fixed:], set())
    files: dict[Path, None] = {}
    refused: dict[Path, None] = {}
    broken: dict[Path, None] = {}
    folders: dict[Path, Path] = {}  # each folder resolved once: a file that is no link is where its folder is
    for path in found:
        if suffixes and not path.name.endswith(suffixes):
            continue
        if path.is_symlink():
            if not path.exists():  # to a file that is not there, or a loop
                broken[path] = None
                continue
            resolved = path.resolve()
        else:
            folder = folders.get(path.parent)
            if folder is None:
                folder = folders[path.parent] = path.parent.resolve()
            resolved = folder / path.name
        (files if within(resolved, roots) else refused)[resolved] = None
    return Matches(sorted(files), refused=sorted(refused), broken=sorted(broken))


def broken_link(path: Path) -> str:
    """What is wrong with a symbolic link that leads nowhere, for a finding."""
    try:
        target = os.readlink(path)
        path.resolve(strict=True)
    except RuntimeError:
        return "it is a symbolic link that leads back to itself (a loop)"
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "it is a symbolic link that leads back to itself (a loop)"
        return f"it is a symbolic link to {target}, which does not exist"
    return "it is a symbolic link that cannot be followed"


def _walk(folder: Path, segments: Sequence[str], seen: set[tuple[int, int, int]]) -> Iterator[Path]:
    """The files below ``folder`` that the pattern ``segments`` matches; each real folder once per segment."""
    try:
        status = folder.stat()
    except OSError:
        return
    visit = (status.st_dev, status.st_ino, len(segments))
    if visit in seen:  # reached again through a symbolic link: already walked
        return
    seen.add(visit)
    if (folder / OUTPUT_MARKER).is_file():  # a site qms built: its copies are no records
        return
    segment, rest = segments[0], segments[1:]
    if segment == "**":
        if rest:
            yield from _walk(folder, rest, seen)
        for entry in _entries(folder, hidden=False):
            if _is_dir(entry):
                yield from _walk(Path(entry.path), segments, seen)
            elif not rest and (_is_file(entry) or entry.is_symlink()):
                yield Path(entry.path)  # a broken link too: reading it says what is wrong, where
        return
    if not glob.has_magic(segment):
        candidates = [folder / segment]
    else:
        hidden = segment.startswith(".")
        candidates = [Path(e.path) for e in _entries(folder, hidden) if fnmatch.fnmatchcase(e.name, segment)]
    for candidate in candidates:
        if rest:
            if candidate.is_dir():
                yield from _walk(candidate, rest, seen)
        elif candidate.is_file() or candidate.is_symlink():
            yield candidate


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # a symbolic link loop
        return False


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False


def _entries(folder: Path, hidden: bool) -> list[os.DirEntry[str]]:
    """The entries of ``folder`` by name; names starting with ``.`` only when ``hidden``."""
    try:
        with os.scandir(folder) as scan:
            entries = [entry for entry in scan if hidden or not entry.name.startswith(".")]
    except OSError:
        return []
    return sorted(entries, key=lambda entry: entry.name)
