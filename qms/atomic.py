"""Writing outputs atomically: a failed write never leaves a half-written file or site behind."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


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


def replace_tree(built: Path, target: Path) -> None:
    """Move the finished folder ``built`` to ``target``, replacing what was there.

    The old tree is first renamed aside, so ``target`` always holds a complete tree (the old one
    or the new one) and never a mix.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
        os.replace(target, old / "tree")
    try:
        os.replace(built, target)
    except BaseException:
        if old is not None:
            os.replace(old / "tree", target)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


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
