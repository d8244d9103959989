"""All-or-nothing writing of an import's files: a journal in the project, rolled back after a kill.

Before the first file changes, every planned write is recorded in ``.qms-import/`` at the project
root: each file's old and new bytes (with their SHA-256), the folders to make and the name of the
temporary file it is written through. Each file is then replaced atomically (written whole to
its temporary file, then renamed over the old one), and the journal is removed only once every
file is done. A journal found later means an import was interrupted: :func:`roll_back` puts back
the old bytes of each file it had reached and removes what it had made, and touches nothing when
a file has changed since in a way the journal cannot explain. The journal's folder is locked
(``flock``) while an import writes, so that a second import never rolls back a live one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qms import atomic

if sys.platform != "win32":
    import fcntl

#: the journal folder, at the project root
JOURNAL = ".qms-import"
_RECORD = "journal.json"
#: a journal being written, or one being removed: never applied, always safe to remove
_SCRATCH = ".qms-import."


class JournalError(Exception):
    """The journal cannot be written, applied or rolled back; the message says what to do."""


@dataclass(frozen=True, slots=True)
class FileWrite:
    """One planned write: ``path`` as the user knows it, ``target`` the real file inside the project."""

    path: str
    target: Path
    old: bytes | None  # None: the file does not exist yet
    new: bytes | None  # None: the file is deleted


def interrupted(root: Path) -> str | None:
    """A warning for people when an interrupted import left its journal in ``root``."""
    if not (root / JOURNAL).exists():
        return None
    return (
        f"an import was interrupted: its journal is in {JOURNAL}/ and the YAML files may hold part of it; "
        "`qms import xlsx FILE` rolls it back before it imports FILE"
    )


def apply(root: Path, writes: Sequence[FileWrite]) -> None:
    """Make every write, or (when one fails) none: the journal first, then the files, then no journal.

    The journal's folder stays locked while this runs, so that no other import rolls it back
    under it; a kill releases the lock. Once the journal is in place (one import at a time), each
    file must still hold the bytes the import planned from: a file another import or an editor
    wrote since is never overwritten with a plan made from its older text (nothing is written).
    """
    root = root.resolve()
    journal = root / JOURNAL
    if journal.exists():
        raise JournalError(f"{JOURNAL}/ exists: another import is running, or one was interrupted")
    with ExitStack() as held:
        staging: Path | None = None
        try:
            staging = Path(tempfile.mkdtemp(prefix=_SCRATCH, suffix=".staging", dir=root))
            held.enter_context(_lock(staging))
            entries = [_stage(root, staging, number, write) for number, write in enumerate(writes)]
            _write_synced(staging / _RECORD, json.dumps({"version": 1, "files": entries}, indent=1).encode())
            os.rename(staging, journal)
        except BaseException as error:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            if isinstance(error, OSError):
                message = f"the journal cannot be written in {root} ({error}); nothing was written"
                raise JournalError(message) from error
            raise
        _sync_folder(root)
        moved = [entry["path"] for entry in entries if _digest(root / entry["target"]) != entry["old"]]
        if moved:  # another import or an editor wrote it since this import read it: its change would be lost
            _discard(root, journal)
            raise JournalError(
                f"{moved[0]} changed since this import read it (another import, or an edit); nothing was "
                "written: run the import again"
            )
        try:
            for entry, write in zip(entries, writes, strict=True):
                for folder in entry["folders"]:
                    (root / folder).mkdir(exist_ok=True)
                if write.new is None:
                    write.target.unlink(missing_ok=True)
                else:
                    atomic.replace_through(write.target, write.new, root / entry["temporary"])
        except BaseException as error:  # a failed write, or Ctrl-C: put every file back now
            _undo(root, journal)
            if isinstance(error, OSError):
                raise JournalError(f"writing failed ({error}); every file was put back as it was") from error
            raise
        _discard(root, journal)


def roll_back(root: Path) -> list[str] | None:
    """Undo what an interrupted import wrote; the paths put back (None when there was no journal).

    Leftovers of a journal being written or removed are removed in any case.

    Raises :class:`JournalError`, changing nothing, when another import is writing its journal
    now, when a file holds neither its old nor its new bytes (edited since the interruption), or
    when the journal cannot be read.
    """
    root = root.resolve()
    for scratch in root.glob(f"{_SCRATCH}*"):
        if scratch.is_dir() and not scratch.is_symlink():
            with _lock(scratch) as mine:
                if mine:
                    shutil.rmtree(scratch, ignore_errors=True)
    journal = root / JOURNAL
    if not journal.is_dir():
        return None
    with _lock(journal) as mine:
        if not mine:
            raise JournalError(
                f"another qms import is writing {JOURNAL}/ in this project right now: wait for it to finish, "
                "then import again"
            )
        return _undo(root, journal)


def _undo(root: Path, journal: Path) -> list[str]:
    """Roll back the journal (locked by the caller); the paths put back."""
    entries = _entries(journal)
    reached: list[tuple[int, dict[str, Any]]] = []
    changed: list[str] = []
    for number, entry in enumerate(entries):
        current = _digest(root / entry["target"])
        if current == entry["old"]:
            continue
        if current == entry["new"]:
            reached.append((number, entry))
        else:
            changed.append(entry["path"])
    if changed:
        raise JournalError(
            f"an interrupted import left {JOURNAL}/, but {', '.join(changed)} changed since in a way it cannot "
            f"undo: compare each with its old text ({JOURNAL}/N.old, N as listed in {JOURNAL}/{_RECORD}), "
            f"keep what you want, then delete {JOURNAL}/"
        )
    for number, entry in reached:
        target = root / entry["target"]
        if entry["old"] is None:
            target.unlink()
        else:
            old = (journal / f"{number}.old").read_bytes()
            if _digest_of(old) != entry["old"]:
                raise JournalError(f"{JOURNAL}/{number}.old is damaged: restore {entry['path']} from git")
            atomic.replace_through(target, old, root / entry["temporary"])
    _clean(root, entries)
    _discard(root, journal)
    return [entry["path"] for _, entry in reached]


@contextmanager
def _lock(folder: Path) -> Iterator[bool]:
    """Try to lock ``folder`` for this process (advisory, released at exit or kill); yields whether it did."""
    if sys.platform == "win32":  # pragma: no cover - no flock: one import at a time is the user's to keep
        yield True
        return
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        yield True  # gone already: nobody holds it
        return
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(handle)


def _stage(root: Path, staging: Path, number: int, write: FileWrite) -> dict[str, Any]:
    """Record one write in the journal being written; its entry."""
    folders: list[str] = []
    folder = write.target.parent
    while not folder.exists():
        folders.insert(0, folder.relative_to(root).as_posix())
        folder = folder.parent
    for suffix, data in (("old", write.old), ("new", write.new)):
        if data is not None:
            _write_synced(staging / f"{number}.{suffix}", data)
    temporary = write.target.with_name(f".{write.target.name}.qms-import.tmp")
    return {
        "path": write.path,
        "target": write.target.relative_to(root).as_posix(),
        "old": None if write.old is None else _digest_of(write.old),
        "new": None if write.new is None else _digest_of(write.new),
        "temporary": temporary.relative_to(root).as_posix(),
        "folders": folders,
    }


def _entries(journal: Path) -> list[dict[str, Any]]:
    try:
        record = json.loads((journal / _RECORD).read_bytes())
        entries = record["files"]
        if not isinstance(entries, list):
            raise TypeError("files is not a list")
        for entry in entries:
            for key in ("path", "target", "temporary"):
                _inside(journal.parent, entry[key])
            for folder in entry["folders"]:
                _inside(journal.parent, folder)
        return entries
    except (OSError, ValueError, TypeError, KeyError) as error:
        raise JournalError(
            f"the journal of an interrupted import ({JOURNAL}/{_RECORD}) cannot be read ({error}): "
            f"check the YAML files with git, then delete {JOURNAL}/"
        ) from error


def _inside(root: Path, relative: str) -> None:
    """A path of the journal, refused unless it stays in the project."""
    if not isinstance(relative, str) or not (root / relative).resolve().is_relative_to(root):
        raise ValueError(f"{relative!r} is not a path inside the project")


def _clean(root: Path, entries: list[dict[str, Any]]) -> None:
    """Remove the temporary files the journal names, and the folders it made (when empty)."""
    for entry in entries:
        (root / entry["temporary"]).unlink(missing_ok=True)
    folders = {folder for entry in entries for folder in entry["folders"]}
    for folder in sorted(folders, key=lambda name: name.count("/"), reverse=True):
        try:
            (root / folder).rmdir()
        except OSError:
            continue  # not empty (something else was put there), or already gone


def _discard(root: Path, journal: Path) -> None:
    """Remove the journal: renamed away first, so that it is either whole or gone."""
    finished = root / f"{_SCRATCH}{uuid.uuid4().hex}.done"
    os.rename(journal, finished)
    _sync_folder(root)
    shutil.rmtree(finished, ignore_errors=True)


def _digest(path: Path) -> str | None:
    """The SHA-256 of a file's bytes; None when there is no file (a folder or worse: neither)."""
    try:
        return _digest_of(path.read_bytes())
    except FileNotFoundError:
        return None
    except OSError as error:
        return f"unreadable: {error}"


def _digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as stream:
        stream.write(data)
        stream.flush()
        os.fsync(stream.fileno())


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable (where the platform allows opening a folder)."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(handle)
    finally:
        os.close(handle)
