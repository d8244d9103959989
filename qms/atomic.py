"""Writing outputs atomically and replacing only what qms wrote: no half-written site, no lost folder."""

from __future__ import annotations

import glob
import os
import pickle
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

#: What unpickling a damaged or foreign file of a build's own raises: the caller then makes afresh
#: what the file kept.
UNREADABLE_PICKLE = (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError)


#: What reading a damaged or foreign file a build kept (:func:`read_kept`) raises: a damaged pickle
#: can also end the unpickler's stack early.
UNREADABLE_KEPT = (*UNREADABLE_PICKLE, IndexError)


def read_kept(path: Path, key: object) -> object:
    """What a build kept in ``path`` under ``key`` (:func:`write_kept`); None when the file keeps nothing
    for that key (another version of qms, other inputs) or cannot be read: the caller makes it afresh."""
    try:
        with path.open("rb") as stream:
            saved_key, saved = pickle.load(stream)
    except UNREADABLE_KEPT:
        return None
    return saved if saved_key == key else None


def write_kept(path: Path, key: object, value: object) -> None:
    """Keep ``value`` in ``path`` under ``key``, for a later build's :func:`read_kept`."""
    write_bytes(path, pickle.dumps((key, value), protocol=pickle.HIGHEST_PROTOCOL))


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
        os.chmod(temporary, _mode_for(path))  # mkstemp makes the file private (0600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _mode_for(path: Path) -> int:
    """The permissions the written file gets: those of the file it replaces, else 0666 less umask."""
    try:
        return path.stat().st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def write_text(path: Path, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))


#: The file that marks a folder as output qms wrote: only such a folder (or an empty one) is replaced whole.
OUTPUT_MARKER = ".qms-output"
_MARKER_TEXT = "Written by qms: the next build replaces this folder whole. Delete this file to keep qms out of it.\n"

#: The file a build holds locked in its workspace for as long as it runs.
_LOCK = ".qms-lock"


class ForeignFolder(Exception):
    """A folder qms was asked to replace holds files and no marker: qms did not write it."""


def mark_output(folder: Path) -> None:
    """Mark ``folder`` as output qms wrote, which a later build may replace whole."""
    marker = folder / OUTPUT_MARKER
    if not marker.is_file() or marker.read_text(encoding="utf-8") != _MARKER_TEXT:
        write_text(marker, _MARKER_TEXT)


def replaceable(folder: Path) -> bool:
    """Whether qms may replace ``folder`` whole: it does not exist, is empty, or holds the marker."""
    if not folder.exists():
        return True
    if not folder.is_dir() or folder.is_symlink():
        return False
    return (folder / OUTPUT_MARKER).is_file() or next(folder.iterdir(), None) is None


def replace_tree(built: Path, target: Path, aside: Path) -> None:
    """Move the finished folder ``built`` to ``target``, replacing what was there.

    Only output qms wrote is replaced (see :func:`replaceable`); anything else raises
    :class:`ForeignFolder`. The old tree is first renamed to ``aside`` (a free path on the same
    file system, which the caller removes), so ``target`` always holds a complete tree (the old
    one or the new one) and never a mix.
    """
    if not replaceable(target):
        raise ForeignFolder(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    moved = target.exists()
    if moved:
        os.replace(target, aside)
    try:
        os.replace(built, target)
    except BaseException:
        if moved:
            os.replace(aside, target)
        raise


@contextmanager
def workspace(target: Path) -> Iterator[Path]:
    """A new folder beside ``target`` to make its next version in, removed afterwards.

    The folder is locked while this process runs. Workspaces of runs that were killed (their
    lock free again) are removed first; a folder without the lock file is never touched.
    """
    prefix = f".{target.name}.building-"
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned(target.parent, prefix)
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
    try:
        with (folder / _LOCK).open("w", encoding="utf-8") as lock:
            _lock(lock, wait=True)
            yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def held(path: Path, waiting: Callable[[], None]) -> Iterator[None]:
    """Hold the advisory lock of the file ``path`` (made if missing) while the block runs; where another
    process holds it, call ``waiting`` once and wait until it is free. The lock ends with the process
    that holds it, however it ends; without such locks (Windows) the block runs at once."""
    try:
        import fcntl  # noqa: F401  (advisory locks: none on Windows)
    except ImportError:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        if not _lock(handle, wait=False):
            waiting()
            _lock(handle, wait=True)
        yield


def remove_abandoned(parent: Path, prefix: str) -> list[Path]:
    """Remove the workspaces named ``prefix*`` in ``parent`` whose run is over; the folders removed."""
    removed = []
    for candidate in sorted(parent.glob(glob.escape(prefix) + "*")):
        lock_file = candidate / _LOCK
        if candidate.is_symlink() or not candidate.is_dir() or lock_file.is_symlink() or not lock_file.is_file():
            continue
        with lock_file.open("a", encoding="utf-8") as lock:
            if _lock(lock, wait=False):
                shutil.rmtree(candidate, ignore_errors=True)
                removed.append(candidate)
    return removed


def _lock(handle: IO[str], *, wait: bool) -> bool:
    """Take the advisory lock on an open file; False if another process holds it.

    The lock ends with the process that holds it, however it ends (``kill -9`` too). Where
    there are no such locks (Windows) no workspace is ever taken for abandoned.
    """
    try:
        import fcntl
    except ImportError:
        return False
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def replace_through(path: Path, data: bytes, temporary: Path) -> None:
    """Write ``data`` to ``path`` through the named ``temporary`` file (synced), then rename.

    For writers that must find their temporary file again after a kill (a journal names it).
    """
    try:
        with open(temporary, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temporary, _mode_for(path))
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def remove_empty_folders(folder: Path, top: Path, keep: frozenset[Path] = frozenset()) -> None:
    """Remove ``folder`` and the folders above it, below ``top``, while they are empty and not in
    ``keep``: a site built again holds no folder a clean build would not make."""
    while (
        folder != top
        and folder not in keep
        and folder.is_relative_to(top)
        and folder.is_dir()
        and not any(folder.iterdir())
    ):
        folder.rmdir()
        folder = folder.parent
