"""Loading the project once per build, with every query its pages may ask (:mod:`qms.sphinx.queries`).

The loaded :class:`~qms.sphinx.views.build.BuildData` rides on the Sphinx environment in a holder that
pickles to nothing: the environment is saved between builds, the project is read fresh each time.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sphinx.environment import BuildEnvironment
from sphinx.errors import ExtensionError

from qms.checking import check_context, findings_beside, fingerprints_beside, read_beside
from qms.clauses import IEC62304_EDITIONS, ClauseTableError, load_clause_table
from qms.config import PROJECT_FILE
from qms.fingerprints import FOUND_OF_ITEMS
from qms.gitinfo import document_control, uncommitted
from qms.project import load_project
from qms.rules import run_rules
from qms.sphinx.queries import QUERIES
from qms.sphinx.views.build import BuildData, Query

ATTRIBUTE = "qms_build"


class _Holder:
    """Keeps the build's data on the environment; pickles empty, so the next build loads afresh."""

    __slots__ = ("data",)

    def __init__(self) -> None:
        self.data: BuildData | None = None

    def __reduce__(self) -> tuple[type[_Holder], tuple[()]]:
        return (_Holder, ())


def build_data(env: BuildEnvironment) -> BuildData:
    """The project data of the current build."""
    holder = getattr(env, ATTRIBUTE, None)
    if holder is None or holder.data is None:
        raise ExtensionError("qms: the project is not loaded; is 'qms.sphinx' in the extensions of conf.py?")
    data: BuildData = holder.data
    return data


def project_root(confdir: Path | None, srcdir: Path, setting: str) -> Path:
    """The folder holding ``qms.yaml``: ``qms_project`` relative to conf.py's folder."""
    base = confdir if confdir is not None else srcdir
    return (base / setting).resolve()


def load_build_data(
    env: BuildEnvironment,
    root: Path,
    *,
    edition: str,
    prefix: str,
    clause_table: str,
    before_rules: Callable[[BuildData], None] | None = None,
) -> BuildData:
    """Load the project (through its parse cache, :mod:`qms.parsecache`), check it, read its
    evidence and git state; keep the result on ``env``.

    ``before_rules`` is given the data once the project, its evidence, records, statuses and git
    state are read: work that needs no finding starts there (the workbook, written by a second
    process), beside the rules where this process runs them, else once the findings of the check
    beside the build are taken and the fingerprints it makes of them follow (which that work would
    make again): when the build first needs them (:func:`take_fingerprints`), while that check makes
    them the build goes on."""
    if edition not in IEC62304_EDITIONS:
        raise ExtensionError(f"qms_iec62304_edition = {edition!r}: use one of {', '.join(IEC62304_EDITIONS)}")
    if not (root / PROJECT_FILE).is_file():
        raise ExtensionError(
            f"qms: no {PROJECT_FILE} in {root}; set qms_project in conf.py to the folder holding it "
            "(relative to conf.py), or run `qms init` there"
        )
    try:
        clauses = load_clause_table((root / clause_table) if clause_table else None)
    except (ClauseTableError, OSError) as error:
        raise ExtensionError(f"qms: clause table: {error}") from None
    # through the parse cache, as `qms check` reads: unchanged files are not parsed again, and the
    # rules' findings that depend on the project alone are kept by its fingerprint
    context = read_beside(root)  # read as the build started, where it started the check beside it
    if context is None:
        context = check_context(load_project(root, cache=True), cache=True)
    project = context.project
    evidence = context.evidence
    if evidence is not None and not evidence.files:
        evidence = None  # no result file read: the verification report says so
    records = context.records
    published = [
        *(evidence.files if evidence is not None else ()),
        *(records.files if records is not None else ()),
        *(
            attachment.path
            for record in (records.records if records is not None else ())
            for attachment in record.attachments
        ),
    ]
    data = BuildData(
        project=project,
        findings=(),
        control=document_control(root),
        queries=QUERIES,
        evidence=evidence,
        statuses=context.statuses,
        records=records,
        uncommitted=uncommitted(root, published),
        clauses=clauses,
        check=context,
        edition=edition,
        document_prefix=prefix,
    )
    checked = findings_beside(project)  # the check started beside the build's start, where it read the same
    if checked is not None:
        data.found(tuple(checked.findings))
        data.cache[AFTER_FINGERPRINTS] = before_rules  # once the fingerprints it makes are in (take_fingerprints)
    else:
        if before_rules is not None:
            before_rules(data)
        data.found(tuple(run_rules(context, beside=False)))  # the workbook's process has the second core
    holder = getattr(env, ATTRIBUTE, None)
    if not isinstance(holder, _Holder):
        holder = _Holder()
        setattr(env, ATTRIBUTE, holder)
    holder.data = data
    return data


#: Where a build that took the findings of the check beside it keeps the work that waits for the
#: fingerprints that check makes of them (:func:`take_fingerprints`).
AFTER_FINGERPRINTS: Query = ("after-fingerprints",)


def take_fingerprints(data: BuildData) -> None:
    """Where the build took the findings of the check beside it (:func:`load_build_data`): take the
    fingerprints that check made of them meanwhile (:func:`qms.checking.fingerprints_beside`), made
    by the same functions of the same data as the build would make them, then start the work that
    waited for them (the workbook, whose matrices would make them again). Once, before the first
    page's fingerprints are taken; a build that ran the rules itself has nothing to take."""
    if AFTER_FINGERPRINTS not in data.cache:
        return
    waiting = data.cache.pop(AFTER_FINGERPRINTS)
    made = fingerprints_beside(data.project)
    if made is not None:
        data.digests.update(made.fingerprints)
        if made.found_of_items is not None:
            data.cache[FOUND_OF_ITEMS] = made.found_of_items
    if waiting is not None:
        waiting(data)
