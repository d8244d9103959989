"""Each item's verification status, computed once from the test results and execution records.

Every place that shows or checks whether an item is verified (``qms status``, ``qms check``,
``qms show``, the matrices, the workbook, every page of the site) asks :class:`StatusIndex`,
built once by :func:`compute_statuses`, so that they cannot disagree.

A test's status comes from its results: the JUnit test cases its ``evidence:`` entries name or
that name it in a ``verifies`` property (the newest result of each case), and its newest
execution record. Failed beats error beats stale beats not-run; a passing result beats a
skipped one (a parametrized family with one case skipped on this platform still passed), and a
test with no result at all, or an ``evidence:`` entry that matches no result, is not-run.

A requirement (or software item, or need) takes the *worst* status of the tests that verify or
validate it and of the results that name it directly, in the order of :data:`WORST_FIRST`: one
passing unit test cannot hide a system test that was never run. A requirement or need with no
test at all is not-run; a software item that no test verifies has no status.

A passing or skipped result is *stale* when it ran before the last change of its test item or
of an item that test verifies (see :func:`ran_before`): it no longer speaks for what the
items say now.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Protocol

from qms.evidence import VERIFIABLE_KINDS, CaseResult, Evidence, Outcome, load_evidence
from qms.evidence import timestamp_instant as timestamp_instant
from qms.gitinfo import git_history
from qms.model import Location, Project
from qms.records import ExecutionRecord, load_records

if TYPE_CHECKING:
    from qms.gitinfo import LineChange


class Status(enum.StrEnum):
    """The verification status of an item, spelled as ``qms status --format json`` and the site spell it."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    STALE = "stale"
    NOT_RUN = "not-run"
    SKIPPED = "skipped"

    @property
    def is_failure(self) -> bool:
        """Failed or errored: the result disproves what it was meant to prove."""
        return self in (Status.FAILED, Status.ERROR)


#: Kinds that have a status even with no test (then not-run): T103 and T104 ask a test of each.
#: A software item has a status only when a test verifies it or a result names it.
_MUST_BE_VERIFIED = frozenset({"system_requirement", "software_requirement", "need", "software_unit"})

#: Kinds whose status comes only from tests linked to them: a hazard's is that of the tests and
#: analyses it names under ``effectiveness`` (ISO 14971 7.2); none until it names one.
_LINKED_ONLY = frozenset({"hazard"})

#: Worst first: a requirement takes the first of these that any of its tests has.
WORST_FIRST = (Status.FAILED, Status.ERROR, Status.STALE, Status.NOT_RUN, Status.SKIPPED, Status.PASSED)
#: For one test's own results: a passing case is not held back by a skipped one.
_TEST_ORDER = (Status.FAILED, Status.ERROR, Status.STALE, Status.NOT_RUN, Status.PASSED, Status.SKIPPED)

#: What a record's outcome counts as: a blocked run is an error, a test not applicable is skipped.
RECORD_STATUS = MappingProxyType(
    {
        "passed": Status.PASSED,
        "failed": Status.FAILED,
        "blocked": Status.ERROR,
        "not-applicable": Status.SKIPPED,
    }
)
_FROM_OUTCOME = MappingProxyType(
    {
        Outcome.PASSED: Status.PASSED,
        Outcome.FAILED: Status.FAILED,
        Outcome.ERROR: Status.ERROR,
        Outcome.SKIPPED: Status.SKIPPED,
    }
)


@dataclass(frozen=True, slots=True)
class ResultRef:
    """One result behind a status: a JUnit test case or an execution record.

    ``test`` is the test item it counts for (for a result whose ``verifies`` property names a
    requirement, software item or need directly: that item).

    ``source`` is the result file or record file (project-relative, with ``/``), ``case`` the
    JUnit case id or the record id, ``at`` the ISO date-time it ran (None when unknown), ``by``
    who executed it (records), ``version`` and ``commit`` the software under test where known.
    ``note`` says how a time or revision was inferred; ``stale`` names the change it predates.
    An execution record also carries its ``deviations`` from the procedure and the ``anomalies`` it
    raised, as written: its outcome is the tester's, and a page shows them beside it.
    """

    test: str
    source: str
    case: str
    outcome: Status
    at: str | None = None
    by: str | None = None
    version: str | None = None
    commit: str | None = None
    line: int = 0
    message: str = ""
    note: str = ""
    stale: Staleness | None = None
    record: bool = False
    deviations: str = ""
    anomalies: tuple[str, ...] = ()

    @property
    def location(self) -> Location:
        return Location(self.source, self.line, 1 if self.line else 0)

    @property
    def effective(self) -> Status:
        """The outcome as it counts now: a passing or skipped result that is stale counts as stale."""
        if self.stale is not None and not self.outcome.is_failure:
            return Status.STALE
        return self.outcome

    def to_json(self) -> dict[str, Any]:
        return {
            "test": self.test,
            "source": self.source,
            "outcome": self.outcome.value,
            "at": self.at,
            "by": self.by,
            "version": self.version,
            "commit": self.commit,
            **({"deviations": self.deviations} if self.deviations else {}),
            **({"anomalies": list(self.anomalies)} if self.anomalies else {}),
        }


def said_beside(deviations: str, anomalies: Sequence[str]) -> str:
    """What an execution record says beside its outcome, for a line of text (``; deviations: ...;
    raised ANOM-03``); empty for a result that says nothing of it."""
    said = f"; deviations: {' '.join(deviations.split())}" if deviations else ""
    return said + (f"; raised {', '.join(anomalies)}" if anomalies else "")


@dataclass(frozen=True, slots=True)
class Staleness:
    """Why a result no longer counts: the item that changed after it ran, and the change."""

    item: str
    change: str  # who, when, which commit: :attr:`qms.gitinfo.LineChange.summary`

    @property
    def summary(self) -> str:
        return f"{self.item} {self.change}"


@dataclass(frozen=True, slots=True)
class ItemStatus:
    """An item's verification status and what it rests on.

    ``results`` are the results behind it (for a requirement, those of its tests and those
    naming it directly); ``tests`` the test items behind a requirement's status; ``missing``
    the test's ``evidence:`` entries that match no result; ``reasons`` say in words why the
    status is not passed.
    """

    id: str
    kind: str
    status: Status
    results: tuple[ResultRef, ...] = ()
    tests: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED

    @property
    def failures(self) -> tuple[ResultRef, ...]:
        return tuple(result for result in self.results if result.outcome.is_failure)

    @property
    def stale(self) -> tuple[ResultRef, ...]:
        return tuple(result for result in self.results if result.effective is Status.STALE)

    @property
    def newest(self) -> ResultRef | None:
        """The result that ran last (by its time; results without one count as oldest)."""
        return max(self.results, key=lambda result: timestamp_instant(result.at) or _EPOCH, default=None)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status.value,
            "results": [result.to_json() for result in self.results],
        }


class StatusIndex:
    """Every verifiable item's status, computed once; the single answer to "is it verified?"."""

    def __init__(self, project: Project, statuses: Mapping[str, ItemStatus], notes: Sequence[str] = ()) -> None:
        self.project = project
        self._statuses = MappingProxyType(dict(statuses))
        self.notes = tuple(notes)

    def of(self, item_id: str) -> ItemStatus | None:
        """The status of an item; None for unknown ids, kinds that carry no verification status
        (SOUP, anomalies), hazards that name no effectiveness test and software items that no
        test verifies."""
        return self._statuses.get(item_id)

    def status(self, item_id: str) -> Status | None:
        found = self._statuses.get(item_id)
        return found.status if found is not None else None

    def items(self) -> Iterator[ItemStatus]:
        """Every status, kind by kind in the order documents list them (needs first, tests last)."""
        return iter(self._statuses.values())

    def summary(self) -> dict[str, dict[str, int]]:
        """Per kind, how many items have each status (every status listed, zeros included)."""
        counts: dict[str, Counter[Status]] = {}
        for entry in self._statuses.values():
            counts.setdefault(entry.kind, Counter())[entry.status] += 1
        return {
            kind: {status.value: counter.get(status, 0) for status in WORST_FIRST} for kind, counter in counts.items()
        }

    def counts(self, *kinds: str) -> dict[Status, int]:
        """How many items of ``kinds`` (all kinds when none given) have each status, worst first."""
        counter = Counter(entry.status for entry in self._statuses.values() if not kinds or entry.kind in kinds)
        return {status: counter.get(status, 0) for status in WORST_FIRST}

    def to_json(self) -> dict[str, Any]:
        """The ``qms status --format json`` document, version 1."""
        return {
            "version": 1,
            "items": [entry.to_json() for entry in self._statuses.values()],
            "summary": self.summary(),
        }


# ------------------------------------------------------------------------------ staleness


class ChangeHistory(Protocol):
    """What version control knows about changes (:class:`qms.gitinfo.GitHistory`)."""

    def last_changes(
        self, project: Project, item_ids: Iterable[str], *, verified_only: bool = False
    ) -> Mapping[str, LineChange]:
        """The latest change of each item, where known; ``verified_only``: of the lines a test
        speaks for (not those of fields that only classify the item, such as a requirement's type)."""
        ...

    def contains(self, commit: str, change: str) -> bool | None:
        """Whether ``commit`` includes the commit ``change``; None when ``commit`` is unknown."""
        ...

    def changed_files(self, commit: str) -> frozenset[str] | None:
        """Project files (relative, with ``/``) that differ now from ``commit``, untracked ones
        included; None when ``commit`` is unknown."""
        ...


def ran_before(result: ResultRef, change: LineChange, modified: datetime | None, history: ChangeHistory) -> bool:
    """Whether ``result`` ran on a revision older than ``change``.

    Judged by ancestry where the result names a commit the repository holds (the change is in
    that commit's history or not); else by time (the result's time against the change's author
    date); a change not committed yet counts from ``modified``, the file's modification time. A result with
    neither a known commit nor a time cannot be judged and is not called stale.
    """
    revision = change.revision
    if revision is not None and result.commit:
        included = history.contains(result.commit, revision.hash)
        if included is not None:
            return not included
    ran = timestamp_instant(result.at)
    if ran is None:
        return False
    changed = timestamp_instant(revision.date) if revision is not None else modified
    return changed is not None and ran < changed


# ------------------------------------------------------------------------------ computing


def project_statuses(project: Project) -> StatusIndex:
    """Every item's verification status, from the project's result files, records and git history."""
    evidence, _ = load_evidence(project)
    return compute_statuses(project, evidence, load_records(project).records, git_history(project.root))


def compute_statuses(
    project: Project,
    evidence: Evidence | None,
    records: Sequence[ExecutionRecord] = (),
    history: ChangeHistory | None = None,
) -> StatusIndex:
    """The status of every test, requirement, software item and need of ``project``."""
    notes: list[str] = []
    mtimes = _Mtimes(project.root)
    test_results: dict[str, list[ResultRef]] = {}
    missing: dict[str, tuple[str, ...]] = {}
    direct: dict[str, list[ResultRef]] = {}
    tests = project.of_kind("test")
    for test in tests:
        cases, unmatched = _test_cases(evidence, test.id) if evidence is not None else ((), ())
        test_results[test.id] = [_from_case(test.id, case, mtimes) for case in cases]
        missing[test.id] = unmatched
    for record in _newest_records(records):
        if record.test in test_results:
            test_results[record.test].append(_from_record(record))
    if evidence is not None:
        for item in project:
            if item.kind != "test" and item.kind in VERIFIABLE_KINDS:
                named = evidence.naming(item.id)
                if named:
                    direct[item.id] = [_from_case(item.id, case, mtimes) for case in named]
    if history is None:
        if any(test_results.values()):
            notes.append("not under version control: results are not checked for staleness")
    else:
        _mark_stale(project, test_results, history)
    statuses: dict[str, ItemStatus] = {}
    for test in tests:
        results = tuple(test_results[test.id])
        statuses[test.id] = _test_status(test.id, results, missing[test.id])
    for item in project:
        if item.kind == "test" or (item.kind not in VERIFIABLE_KINDS and item.kind not in _LINKED_ONLY):
            continue
        entry = _item_status(project, item.id, item.kind, statuses, tuple(direct.get(item.id, ())))
        if entry.tests or entry.results or item.kind in _MUST_BE_VERIFIED:
            statuses[item.id] = entry
    ordered = {
        item.id: statuses[item.id] for group in project.by_kind.values() for item in group if item.id in statuses
    }
    return StatusIndex(project, ordered, notes)


def _test_cases(evidence: Evidence, test_id: str) -> tuple[tuple[CaseResult, ...], tuple[str, ...]]:
    """The JUnit results of a test item, and its ``evidence:`` entries that match none."""
    item = evidence.project.items.get(test_id)
    cases: list[CaseResult] = []
    unmatched: list[str] = []
    for evidence_id in item.links("evidence") if item is not None else ():
        matched = evidence.match(evidence_id)
        if not matched:
            unmatched.append(evidence_id)
        cases.extend(matched)
    cases.extend(evidence.naming(test_id))
    return tuple({id(case): case for case in cases}.values()), tuple(unmatched)


def _newest_records(records: Iterable[ExecutionRecord]) -> list[ExecutionRecord]:
    """Per test, its newest record: a re-run is a new record, and the newest counts."""
    newest: dict[str, ExecutionRecord] = {}
    for record in records:
        known = newest.get(record.test)
        if known is None or (timestamp_instant(record.at) or _EPOCH) >= (timestamp_instant(known.at) or _EPOCH):
            newest[record.test] = record
    return list(newest.values())


class _Mtimes:
    """File modification times, read once each: the time of results whose file names none."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._known: dict[str, datetime | None] = {}

    def __call__(self, file: str) -> datetime | None:
        if file not in self._known:
            try:
                stamp = (self.root / file).stat().st_mtime
            except OSError:
                self._known[file] = None
            else:
                self._known[file] = datetime.fromtimestamp(stamp, UTC)
        return self._known[file]


def _from_case(test_id: str, case: CaseResult, mtimes: _Mtimes) -> ResultRef:
    at, note = case.timestamp, ""
    if not at:
        modified = mtimes(case.file)
        if modified is not None:
            at = modified.isoformat(timespec="seconds")
            note = "no timestamp in the result file: its modification time is taken"
    return ResultRef(
        test=test_id,
        source=case.file,
        case=case.case_id,
        outcome=_FROM_OUTCOME[case.outcome],
        at=at,
        version=case.version,
        commit=case.commit,
        line=case.line,
        message=case.message,
        note=note,
    )


def _from_record(record: ExecutionRecord) -> ResultRef:
    return ResultRef(
        test=record.test,
        source=record.file,
        case=record.id,
        outcome=RECORD_STATUS[record.outcome],
        at=record.at,
        by=record.by,
        version=record.version,
        commit=record.commit,
        line=record.line,
        message=record.summary,
        record=True,
        deviations=record.deviations.strip(),
        anomalies=record.anomalies,
    )


def _mark_stale(project: Project, test_results: dict[str, list[ResultRef]], history: ChangeHistory) -> None:
    """Replace each passing or skipped result that predates a change of what it verifies.

    A file that has not changed since the commit a result names cannot hold a change after it:
    only the items whose file changed since (or of results judged by time) are looked up in
    the history, so that a run on the current commit costs no ``git blame`` at all.
    """
    pairs: list[tuple[str, int, str]] = []  # (test, index of the result, item it speaks for)
    for test_id, results in test_results.items():
        targets = [link.target for link in project.links_from(test_id) if link.field in ("verifies", "validates")]
        for index, result in enumerate(results):
            if result.outcome.is_failure:
                continue
            changed = history.changed_files(result.commit) if result.commit else None
            pairs.extend(
                (test_id, index, item_id)
                for item_id in (test_id, *targets)
                if changed is None or project.items[item_id].file in changed
            )
    if not pairs:
        return
    changes = history.last_changes(project, {item_id for _, _, item_id in pairs}, verified_only=True)
    mtimes = _Mtimes(project.root)
    for test_id, index, item_id in pairs:
        result, change = test_results[test_id][index], changes.get(item_id)
        if change is None or result.stale is not None:
            continue
        modified = mtimes(project.items[item_id].file) if change.revision is None else None
        if ran_before(result, change, modified, history):
            test_results[test_id][index] = replace(result, stale=Staleness(item_id, change.summary))


def _test_status(test_id: str, results: tuple[ResultRef, ...], missing: tuple[str, ...]) -> ItemStatus:
    found = {result.effective for result in results}
    if missing:
        found.add(Status.NOT_RUN)
    reasons: list[str] = [f"evidence '{entry}' matches no test result" for entry in missing]
    if not results and not missing:
        found.add(Status.NOT_RUN)
        reasons.append("no test result and no execution record")
    status = next(candidate for candidate in _TEST_ORDER if candidate in found)
    return ItemStatus(test_id, "test", status, results, missing=missing, reasons=tuple(reasons))


def _item_status(
    project: Project, item_id: str, kind: str, statuses: Mapping[str, ItemStatus], direct: tuple[ResultRef, ...]
) -> ItemStatus:
    verifying: dict[str, ItemStatus] = {}  # the tests, in order, each once (a loop: every item asks)
    for link in project.backlinks.get(item_id, ()):
        if link.field in ("verifies", "validates") and link.source in statuses:
            verifying[link.source] = statuses[link.source]
    for link in project.links_from(item_id):
        if link.field == "effectiveness" and link.target in statuses:
            verifying[link.target] = statuses[link.target]
    tests = tuple(verifying)
    found = {entry.status for entry in verifying.values()} | {result.effective for result in direct}
    status = next((candidate for candidate in WORST_FIRST if candidate in found), Status.NOT_RUN)
    results = tuple(result for entry in verifying.values() for result in entry.results) + direct
    reasons = tuple(f"{test} is {entry.status.value}" for test, entry in verifying.items() if not entry.passed)
    if not tests and not direct:
        reasons = ("no test verifies it",)
    return ItemStatus(item_id, kind, status, results, tests, reasons=reasons)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class StepStatus(enum.StrEnum):
    """Whether a release checklist step is evidenced by records (:mod:`qms.plans`)."""

    EVIDENCED = "evidenced"
    OPEN = "open"


class ClauseStatus(enum.StrEnum):
    """Whether the records a clause asks for are there (:mod:`qms.clauses`), as ``qms clauses`` spells it."""

    PRESENT = "present"
    PARTIAL = "partial"
    MISSING = "missing"
    NOT_REQUIRED = "not required"

    @staticmethod
    def of(met: int, total: int) -> ClauseStatus:
        """The status of a required clause from how many of its evidence conditions are met."""
        if met == total:
            return ClauseStatus.PRESENT
        return ClauseStatus.PARTIAL if met else ClauseStatus.MISSING
