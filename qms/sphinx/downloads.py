"""Files the site offers for download: the traceability matrix as CSV, the Excel workbook of
every record (the same bytes ``qms matrix --format csv`` and ``qms export xlsx`` give), and the
evidence itself: result files, execution records and their attachments, with their sha256.

A workbook of ten thousand items takes seconds to write, so it is written by a second process
while Sphinx builds the pages, with the CSV matrix, and only when the records they hold changed
since the last build (a fingerprint of the item files, the results, the execution records, the git
state and the code, kept in the build cache); then only its sheets whose contents changed are
written again, the others taken from the build cache (:mod:`qms.excel.sheetcache`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import re
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

from qms.atomic import remove_empty_folders, write_bytes
from qms.excel.sheetcache import writers
from qms.matrix import Matrix
from qms.model import Project
from qms.parsecache import forkable
from qms.sphinx.build_warnings import BuildWarning, warn
from qms.sphinx.settings import settings
from qms.sphinx.views.build import BuildData, Query
from qms.sphinx.views.tables import MATRICES_FILE
from qms.status import StatusIndex

logger = logging.getLogger(__name__)

FOLDER = "downloads"
MATRIX_CSV = "traceability-matrix.csv"
FINGERPRINTS = "qms-downloads.json"
#: the workbook's sheets, kept between builds (see :mod:`qms.excel.sheetcache`)
SHEETS = "qms-workbook-sheets"


def workbook_name(project: Project) -> str:
    """``<device>-records.xlsx``, the device name in lowercase words joined by ``-``."""
    slug = re.sub(r"[^a-z0-9]+", "-", project.config.device.name.lower()).strip("-") or "device"
    return f"{slug}-records.xlsx"


def fingerprint(data: BuildData) -> str:
    """What the workbook is made of: the project's files and the result files, with their modification
    times (a result without a timestamp ran when its file was written, an item change git holds no
    commit of when its file was), the execution records (the statuses it shows count them), the git
    state, and the code that writes it (:func:`qms.excel.sheetcache.writers`).
    Read once per build: the workbook and the CSV matrix are both keyed by it."""
    key = ("downloads-fingerprint",)
    if key not in data.cache:
        data.cache[key] = _fingerprint(data)
    found: str = data.cache[key]
    return found


def _fingerprint(data: BuildData) -> str:
    project = data.project
    digest = hashlib.sha256(writers() + b"\0")
    results = data.evidence.files if data.evidence is not None else ()
    records = data.records.files if data.records is not None else ()
    for name in ("qms.yaml", *project.files, *results, *records):
        digest.update(name.encode("utf-8") + b"\0")
        try:
            digest.update((project.root / name).read_bytes())
        except OSError:
            digest.update(b"(unreadable)")
    # when a result without a time ran, and when an item changed that git holds no commit of (the
    # staleness of the results verifying it), are read from their files' times
    for name in (*project.files, *results):
        try:
            digest.update(f"{name}\0{(project.root / name).stat().st_mtime}\0".encode())
        except OSError:
            digest.update(b"(no time)")
    digest.update(f"{data.control.summary}\0{data.control.commit}".encode())
    return digest.hexdigest()


#: how much lower the priority of the workbook's process is than the build's (``nice``)
WORKBOOK_NICENESS = 10


def _write_workbook(data: BuildData, path: str, sheets: Path, matrix: str = "", kept: Path | None = None) -> None:
    """The workbook's bytes into ``path``, its sheets reused from and kept in ``sheets``, and the CSV
    matrix of the build's statuses into ``matrix``. The default matrices are made as the site makes
    them (:func:`qms.sphinx.views.tables.default_traces`), or taken as the build made them before the
    second process started; a second process that started before the build loaded the rows the last
    builds kept (the build runs the rules itself) loads them from ``kept``."""
    if kept is not None:
        # the second process only: it yields the cores to the build's own processes where they want
        # both (pages changed in place by a second one, :func:`qms.sphinx.sources.rewritten`), and
        # takes one where they leave it; the build waits for it only at its end. A system that refuses
        # (a sandbox may) leaves it at the build's priority: the same workbook, written as before
        with contextlib.suppress(OSError):
            os.nice(WORKBOOK_NICENESS)
        # the workbook holds no numpy value, and openpyxl imports numpy wherever it is installed (a
        # tenth of a second of every build); this process ends with it
        sys.modules.setdefault("numpy", None)  # type: ignore[arg-type]
        from qms.sphinx.sources import keep_matrices
        from qms.sphinx.views.tables import KEPT_MATRICES

        if KEPT_MATRICES not in data.cache:
            keep_matrices(data, kept)
    from qms.excel.export import workbook_bytes
    from qms.excel.sheetcache import SheetCache
    from qms.matrix import verified
    from qms.sphinx.views.tables import default_traces
    from qms.status import project_statuses

    project = data.project
    statuses = project_statuses(project) if data.statuses is None else data.statuses
    matrices = verified(project, default_traces(data), statuses)  # made once for the workbook and the CSV
    write_bytes(Path(path), workbook_bytes(project, statuses, SheetCache(sheets), matrices))
    if matrix:
        write_bytes(Path(matrix), _matrix_bytes(project, statuses, matrices))


def _matrix_bytes(project: Project, statuses: StatusIndex | None, matrices: Sequence[Matrix] | None = None) -> bytes:
    """The CSV matrix, as ``qms matrix --format csv`` writes it."""
    from qms.matrix import combined_matrix
    from qms.matrix_formats import matrix_csv

    return matrix_csv(combined_matrix(project, statuses, matrices)).encode("utf-8")


@dataclass
class WorkbookJob:
    """A workbook being written beside the build, and where it goes."""

    name: str
    fingerprint: str
    temporary: Path
    process: Any  # multiprocessing.Process, or None when written in this process
    matrix: Path | None = None  # the CSV matrix, written by the same process


def may_fork() -> bool:
    """Whether the workbook is written by a forked process: where multiprocessing forks and this
    process may (:func:`qms.parsecache.forkable`: the preview's fallback builds run beside its
    server's threads)."""
    return sys.platform != "win32" and "fork" in multiprocessing.get_all_start_methods() and forkable()


def start_workbook(app: Sphinx, data: BuildData) -> WorkbookJob | None:
    """Start writing the workbook unless the previous site holds it for the same records."""
    if app.builder.format != "html" or not settings(app.config).workbook_download:
        return None
    name = workbook_name(data.project)
    current = fingerprint(data)
    if _kept(app, name, current):
        return None
    handle, temporary = tempfile.mkstemp(prefix=".qms-workbook-", suffix=".xlsx", dir=app.doctreedir)
    os.close(handle)
    if may_fork():
        # the matrices' findings walk every link of the project, which the second process would
        # copy page by page as it touched them (each a count of references): found here, for both
        from qms.sphinx.views.tables import kind_rule_findings

        kind_rule_findings(data)
        handle, matrix = tempfile.mkstemp(prefix=".qms-matrix-", suffix=".csv", dir=app.doctreedir)
        os.close(handle)
        kept = Path(app.doctreedir) / MATRICES_FILE
        arguments = (data, temporary, Path(app.doctreedir) / SHEETS, matrix, kept)
        process = multiprocessing.get_context("fork").Process(target=_write_workbook, args=arguments)
        process.start()
        return WorkbookJob(name, current, Path(temporary), process, Path(matrix))
    return WorkbookJob(name, current, Path(temporary), None)  # no fork: written here, after the pages


def finish_workbook(app: Sphinx, data: BuildData, job: WorkbookJob | None) -> None:
    """Wait for the workbook and put it into the site."""
    if job is None:
        return
    try:
        if job.process is None:
            _write_workbook(data, str(job.temporary), Path(app.doctreedir) / SHEETS)
        else:
            job.process.join()
            if job.process.exitcode != 0 or not job.temporary.is_file():
                warn(
                    logger,
                    BuildWarning.DOWNLOAD,
                    f"qms: the Excel workbook could not be written (exit status {job.process.exitcode}); "
                    "run `qms export xlsx FILE` to see why",
                )
                # the previous build's workbook holds older records: the site does not offer it as these
                (Path(app.outdir) / FOLDER / job.name).unlink(missing_ok=True)
                return
        content = job.temporary.read_bytes()
        write_bytes(Path(app.outdir) / FOLDER / job.name, content)
        _remember(app, job.name, job.fingerprint, content)
    finally:
        job.temporary.unlink(missing_ok=True)


def _remember(app: Sphinx, name: str, key: str, content: bytes) -> None:
    """Keep the key of the download ``name``, with the digest of the ``content`` written for it: the
    next build keeps the file while the key holds and the site still has that file."""
    entry: list[str | None] = [key, hashlib.sha256(content).hexdigest()]
    stored = _fingerprints(app)
    if stored.get(name) != entry:
        stored[name] = entry
        write_bytes(Path(app.doctreedir) / FINGERPRINTS, json.dumps(stored, sort_keys=True).encode("utf-8"))


def _kept(app: Sphinx, name: str, key: str) -> bool:
    """Whether the site holds the download ``name`` as a build wrote it for ``key``. The digest of the
    file tells a site this build started from apart from one whose build never put it in place."""
    stored = _fingerprints(app).get(name)
    return stored == [key, _file_digest(Path(app.outdir) / FOLDER / name)] and stored[1] is not None


def _file_digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _fingerprints(app: Sphinx) -> dict[str, list[str | None]]:
    try:
        stored = json.loads((Path(app.doctreedir) / FINGERPRINTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return stored if isinstance(stored, dict) else {}


def downloads_query(config: Config) -> Query:
    """The query of the files the site offers (:func:`downloads_view`), as the configuration sets them."""
    return ("downloads", "yes" if settings(config).workbook_download else "no")


def remove_withdrawn(app: Sphinx, data: BuildData) -> None:
    """Remove from the site's downloads every file this build does not offer (:func:`downloads_view`):
    a workbook under the device's former name, or one kept after the workbook was turned off. A
    build starts from the previous site, and the site holds no records it does not list."""
    listed: tuple[Download, ...] = data.answer(downloads_query(app.config))
    offered = {PurePosixPath(download.path).name for download in listed}
    folder = Path(app.outdir) / FOLDER
    for path in sorted(folder.iterdir()) if folder.is_dir() else ():
        if path.is_file() and path.name not in offered:
            path.unlink()


def write_matrix_csv(app: Sphinx, data: BuildData, job: WorkbookJob | None) -> None:
    """The design and risk matrices with results as one CSV (what ``qms matrix --format csv`` prints):
    taken from the workbook's process when one ran (it was written there, beside the pages), else
    made here unless the previous site holds it for the same records (the workbook's key: the
    matrix reads nothing the workbook does not)."""
    target = Path(app.outdir) / FOLDER / MATRIX_CSV
    if job is not None and job.matrix is not None:
        finished = job.process is not None and job.process.exitcode == 0 and job.matrix.is_file()
        encoded = job.matrix.read_bytes() if finished else _matrix_bytes(data.project, data.statuses)
        job.matrix.unlink(missing_ok=True)
        key = job.fingerprint
    else:
        key = job.fingerprint if job is not None else fingerprint(data)
        if _kept(app, MATRIX_CSV, key):
            return
        encoded = _matrix_bytes(data.project, data.statuses)
    if not target.is_file() or target.read_bytes() != encoded:
        write_bytes(target, encoded)
    _remember(app, MATRIX_CSV, key, encoded)


@dataclass(frozen=True, slots=True)
class Download:
    """A file the site offers: its path in the site, its label, and what it holds."""

    path: str
    label: str
    description: str


def downloads_view(data: BuildData, workbook: str) -> tuple[Download, ...]:
    """The files the site offers, with what each holds."""
    matrix = "the design and risk chains with test results, one row per path"
    files = [Download(f"{FOLDER}/{MATRIX_CSV}", "Traceability matrix (CSV)", matrix)]
    if workbook == "yes":
        records = "every item, the risk register and the matrices"
        files.append(Download(f"{FOLDER}/{workbook_name(data.project)}", "All records (Excel workbook)", records))
    return tuple(files)


#: Where the result files, execution records and their attachments are published, under their own paths.
EVIDENCE_FOLDER = f"{FOLDER}/evidence"


def evidence_files(data: BuildData) -> list[tuple[str, str]]:
    """(path, what it holds) of every result file, record file and attachment behind a status, each once."""
    files: dict[str, str] = {}
    for path in data.evidence.files if data.evidence is not None else ():
        files.setdefault(path, "JUnit test results")
    records = data.records.records if data.records is not None else ()
    for path in data.records.files if data.records is not None else ():
        files.setdefault(path, "test execution records")
    for record in records:
        for attachment in record.attachments:
            files.setdefault(attachment.path, f"attachment of record {record.id}")
    return [(path, what) for path, what in files.items() if _inside(path)]


def _inside(path: str) -> bool:
    parts = PurePosixPath(path).parts
    return bool(parts) and not PurePosixPath(path).is_absolute() and ".." not in parts


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    """A published evidence file: its project path, its copy in the site, what it holds, its sha256 ("" when
    missing: listed without a copy, ``qms check`` reports it), and whether it differs from the last commit."""

    path: str
    target: str
    what: str
    sha256: str
    uncommitted: bool


def evidence_files_view(data: BuildData) -> tuple[EvidenceFile, ...]:
    """The published evidence: path, where the copy is, what it holds, its sha256, whether it is uncommitted."""
    rows = []
    for path, what in evidence_files(data):
        try:
            sha256 = hashlib.sha256((data.project.root / path).read_bytes()).hexdigest()
        except OSError:
            sha256 = ""
        rows.append(EvidenceFile(path, f"{EVIDENCE_FOLDER}/{path}", what, sha256, path in data.uncommitted))
    return tuple(rows)


def write_evidence_files(app: Sphinx, data: BuildData) -> None:
    """Copy the listed evidence into the site, byte for byte; remove copies of files no longer listed
    (and the folders they leave empty)."""
    outdir = Path(app.outdir)
    written = set()
    published: tuple[EvidenceFile, ...] = data.answer(("evidence-files",))
    for file in published:
        if not file.sha256:
            continue
        content = (data.project.root / file.path).read_bytes()
        if hashlib.sha256(content).hexdigest() != file.sha256:
            warn(
                logger,
                BuildWarning.DOWNLOAD,
                f"qms: {file.path} changed during the build: the site lists the sha256 it had when the build started",
            )
        destination = outdir / file.target
        written.add(destination)
        if not destination.is_file() or destination.read_bytes() != content:
            write_bytes(destination, content)
    folder = outdir / EVIDENCE_FOLDER
    for leftover in sorted(folder.rglob("*")) if folder.is_dir() else ():
        if leftover.is_file() and leftover not in written:
            leftover.unlink()
            remove_empty_folders(leftover.parent, outdir)
