"""Finished worksheet XML kept between builds, so that a build after a one-item edit writes again
only the sheets whose contents changed (the rest of a workbook of ten thousand items is reused).

A sheet is kept in a file of its own, named by its key: the digest of everything its XML is made
of (its cells, as planned, with their styles' indexes; the sheet's XML outside its rows, as
openpyxl writes it) and of the code that writes it (qms's, openpyxl's and the XML library it
writes with). A sheet is reused only under the same key, and only when its file holds what its
name promises; files no longer used are removed when the workbook is written.

Working out a sheet's cells costs most of writing it, so a sheet of items is also found by what its
cells are made of (:meth:`SheetCache.by_inputs`): the items as their files' parse-cache keys
vouch for them, the layout, the risk policy and the rows every link jumps to. A small file named
by the digest of those inputs holds the key of the sheet they made; a build after a one-item edit
works out the cells of the edited item's sheets only.

A long sheet that changed is put together from runs of its rows, each kept here too under the key of
its cells (:class:`qms.excel.export._StreamedSheet`): an edited title writes again the few runs of a
matrix that show it, not the matrix's ten thousand rows.

A sheet put together from runs names its runs in a file of its own (:meth:`SheetCache.put_runs`): a
build that reuses the whole sheet keeps its runs with it, for the next build that changes a few of its
rows (else the runs, unused by the builds that reused the sheet whole, were removed with the files no
longer used, and a title edit after a text edit wrote the whole trace matrix again).

A sheet's XML is also kept compressed as the workbook's archive holds it (:meth:`SheetCache.deflated`),
so that a sheet reused is not compressed again: deflating the twenty megabytes of XML of a workbook of
ten thousand items took most of the time of writing it after a one-item edit. The compressed bytes are
those zlib made of the sheet's XML when it was last written into a workbook, with the settings Python's
``zipfile`` compresses with; they are kept under the sheet's key with the version of the zlib that
made them, and with the digest of the XML they were made of, which must be the XML now reused.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import zlib
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from qms.atomic import write_bytes
from qms.parsecache import code_digest

#: the end of a kept sheet's file name (its key before it)
SUFFIX = ".sheet"
#: the end of the file naming, by the digest of a sheet's inputs, the key of the sheet they made
INPUTS_SUFFIX = ".inputs"
#: the end of the file holding a kept sheet's XML compressed, as the workbook's archive holds it
DEFLATED_SUFFIX = ".deflated"
#: the end of the file naming the runs a kept sheet was put together from (their keys, one a line)
RUNS_SUFFIX = ".runs"
#: what compressed bytes are kept with: the zlib that made them (another one may compress otherwise)
_DEFLATER = f"zlib {zlib.ZLIB_RUNTIME_VERSION} default level, raw".encode("ascii")
_NAME = re.compile(r"[0-9a-f]{64}")
_DIGEST = hashlib.sha256().digest_size


def writers() -> bytes:
    """The code a workbook's XML comes from: qms's, openpyxl's and the XML library openpyxl writes
    with. openpyxl chooses that library when it is imported: lxml (a dependency of qms) where it is
    installed, unless the environment variable ``OPENPYXL_LXML`` is set to anything but ``True``;
    et_xmlfile else. The two write other bytes for the same cells. This finds the choice as openpyxl
    makes it, without importing openpyxl: a build asks in its first process, and leaves openpyxl to
    the process that writes the workbook."""
    with_lxml = importlib.util.find_spec("lxml") is not None and os.environ.get("OPENPYXL_LXML", "True") == "True"
    versions = []
    for name in ("openpyxl", "lxml" if with_lxml else "et_xmlfile"):
        try:
            versions.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            versions.append(f"{name} (no version)")
    return code_digest() + "\0".join(versions).encode("utf-8")


class SheetCache:
    """The worksheets of the last workbook written, in ``folder``, each under its key."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.used: set[str] = set()
        #: the digest of the XML of each sheet read or kept by this cache, by key
        self.digests: dict[str, bytes] = {}
        self.code = writers()

    def key(self, contents: Iterable[bytes]) -> str:
        """The key of a sheet made of ``contents`` by the code installed."""
        digest = hashlib.sha256(self.code)
        for part in contents:
            digest.update(len(part).to_bytes(8, "big") + part)
        return digest.hexdigest()

    def get(self, key: str, *, whole: bool = False) -> bytes | None:
        """The XML kept under ``key``, if any and intact; for a ``whole`` sheet, the runs it was put
        together from (:meth:`put_runs`) are kept for the next workbook too."""
        self.used.add(key)
        if whole:
            self._keep_runs(key)
        try:
            stored = (self.folder / f"{key}{SUFFIX}").read_bytes()
        except OSError:
            return None
        digest, xml = stored[:_DIGEST], stored[_DIGEST:]
        if hashlib.sha256(xml).digest() != digest:
            return None
        self.digests[key] = digest
        return xml

    def put(self, key: str, xml: bytes) -> None:
        self.used.add(key)
        digest = hashlib.sha256(xml).digest()
        self.digests[key] = digest
        write_bytes(self.folder / f"{key}{SUFFIX}", digest + xml)

    def put_runs(self, key: str, runs: Iterable[str]) -> None:
        """The sheet of key ``key`` is put together from the runs of keys ``runs``."""
        listed = "".join(f"{run}\n" for run in runs).encode("ascii")
        path = self.folder / f"{key}{RUNS_SUFFIX}"
        try:
            if path.read_bytes() == listed:
                return
        except OSError:
            pass
        write_bytes(path, listed)

    def _keep_runs(self, key: str) -> None:
        """Keep the runs the sheet of key ``key`` was put together from, where it names them."""
        try:
            listed = (self.folder / f"{key}{RUNS_SUFFIX}").read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError):
            return
        self.used.update(run for run in listed.split() if _NAME.fullmatch(run))

    def deflated(self, key: str) -> bytes | None:
        """The compressed bytes kept of the sheet of key ``key``, read or kept by this cache; None where
        none are kept, they were made by another zlib or of other XML, or the file is not intact."""
        xml = self.digests.get(key)
        if xml is None:
            return None
        try:
            stored = (self.folder / f"{key}{DEFLATED_SUFFIX}").read_bytes()
        except OSError:
            return None
        made_by, deflated = stored[: len(_DEFLATER)], stored[len(_DEFLATER) : -2 * _DIGEST]
        made_of, check = stored[-2 * _DIGEST : -_DIGEST], stored[-_DIGEST:]
        if made_by != _DEFLATER or made_of != xml or hashlib.sha256(deflated).digest() != check:
            return None
        return deflated

    def put_deflated(self, key: str, deflated: bytes) -> None:
        """Keep ``deflated``, the XML of the sheet of key ``key`` (read or kept by this cache) as the
        workbook's archive holds it."""
        xml = self.digests.get(key)
        if xml is not None:
            kept = _DEFLATER + deflated + xml + hashlib.sha256(deflated).digest()
            write_bytes(self.folder / f"{key}{DEFLATED_SUFFIX}", kept)

    def by_inputs(self, inputs: str) -> tuple[str, bytes] | None:
        """The key and XML of the sheet made last from the inputs whose key is ``inputs``, if kept and intact."""
        self.used.add(inputs)
        try:
            key = (self.folder / f"{inputs}{INPUTS_SUFFIX}").read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError):
            return None
        if not _NAME.fullmatch(key):
            return None
        xml = self.get(key, whole=True)
        return (key, xml) if xml is not None else None

    def note_inputs(self, inputs: str, key: str) -> None:
        """The sheet of key ``key`` is made from the inputs whose key is ``inputs``."""
        self.used.add(inputs)
        path = self.folder / f"{inputs}{INPUTS_SUFFIX}"
        try:
            if path.read_text(encoding="ascii") == key:
                return
        except (OSError, UnicodeDecodeError):
            pass
        write_bytes(path, key.encode("ascii"))

    def prune(self) -> None:
        """Remove the kept sheets and inputs this workbook did not use (only files this cache names)."""
        for suffix in (SUFFIX, INPUTS_SUFFIX, DEFLATED_SUFFIX, RUNS_SUFFIX):
            for path in self.folder.glob(f"*{suffix}") if self.folder.is_dir() else ():
                name = path.name.removesuffix(suffix)
                if _NAME.fullmatch(name) and name not in self.used:
                    path.unlink(missing_ok=True)
