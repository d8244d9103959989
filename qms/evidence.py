"""Verification evidence: test results read from JUnit XML files, matched to the project's tests.

Result files come from the ``evidence:`` globs of ``qms.yaml`` and from ``qms check --results``.
They are untrusted input: XML is parsed with defusedxml (no DTD, no entities, no external
references) into elements that junitparser reads; anything unreadable becomes a Q001 finding
with its file and line. A result names what it proves in two ways, and both count:

- a test item lists result ids under ``evidence:`` (both sides compared in the form of
  :func:`qms.resultid.normalise`);
- a result carries ``<property name="verifies" value="ID"/>`` (pytest's ``record_property``,
  or ``@pytest.mark.verifies`` through :mod:`qms.pytest_plugin`) naming a test item, a
  requirement, a software item or a need.

When several files hold the same test case, only the newest file's result counts.
"""

from __future__ import annotations

import email.utils
import enum
import functools
import hashlib
import re
import stat
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser

from qms.model import Finding, Location, Project, Severity
from qms.parsecache import FileCache, findings_data, findings_from, project_cache
from qms.paths import allowed_roots, project_files
from qms.resultid import evidence_key as evidence_key  # this module's interface since before qms.resultid
from qms.resultid import is_blank
from qms.resultid import result_key as result_key
from qms.schema import REQUIREMENT_KINDS

#: The property a result uses to name the items it verifies.
VERIFIES_PROPERTY = "verifies"
#: Kinds a result's ``verifies`` property may name.
VERIFIABLE_KINDS = ("test", *REQUIREMENT_KINDS, "software_item", "software_unit", "need")

_SEPARATORS = re.compile(r"[\s,]+")
_MESSAGE_LENGTH = 300


class Outcome(enum.StrEnum):
    """The outcome of one test case as its result file states it (an item's status: :mod:`qms.status`)."""

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"

    @property
    def is_failure(self) -> bool:
        """Failed or errored: the result disproves what it was meant to prove."""
        return self in (Outcome.FAILED, Outcome.ERROR)


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One ``<testcase>`` of a result file, with its outcome and where it was read."""

    case_id: str  # ``classname.name``, or ``name`` when the classname is empty or the same (see result_key)
    name: str
    classname: str
    outcome: Outcome
    message: str  # first line of the failure, error or skip message; empty when passed
    time: float | None  # seconds, as written
    timestamp: str | None  # the run's timestamp, as written on the enclosing <testsuite(s)>
    file: str  # result file, relative to the project root, with /
    verifies: tuple[str, ...]  # ids from <property name="verifies">
    line: int = 0  # line of the <testcase> element in ``file``
    commit: str | None = None  # ``qms:commit`` property of the case or an enclosing suite
    version: str | None = None  # ``qms:version`` property of the case or an enclosing suite

    @property
    def location(self) -> Location:
        return Location(self.file, self.line, 1 if self.line else 0)

    @property
    def at(self) -> datetime | None:
        """``timestamp`` read as an instant in UTC; None when there is none or it cannot be read."""
        return timestamp_instant(self.timestamp)


# ------------------------------------------------------------------------------ id matching


def _bases(key: str) -> Iterator[str]:
    """A parametrized result's id without its ``[parameters]``, then also without its
    ``(argument types)`` (JUnit 5 writes ``roundsDown(double, double)[1]``)."""
    if key.endswith("]") and "[" in key:
        key = key[: key.index("[")]
        yield key
    if key.endswith(")") and "(" in key:
        yield key[: key.index("(")]


def _groups(classname_key: str) -> Iterator[str]:
    """A normalised classname and each of its dotted prefixes: module, package, ..."""
    parts = classname_key.split(".")
    for end in range(1, len(parts) + 1):
        yield ".".join(parts[:end])


def _keys(case: CaseResult, groups: dict[str, tuple[str, ...]]) -> Iterator[str]:
    """The ids an ``evidence:`` entry may name ``case`` by (``groups`` caches classname prefixes).

    A case with an empty classname is named only by its own id: nothing else of it is known. A
    blank id is never indexed, so a blank entry can match nothing.
    """
    if not case.classname.strip():
        keys: dict[str, None] = {case.case_id: None}
    else:
        keys = dict.fromkeys((case.case_id, *_bases(case.case_id)))
        if case.classname != case.name:
            known = groups.get(case.classname)
            if known is None:
                known = groups[case.classname] = tuple(_groups(result_key(case.classname, "")))
            keys.update(dict.fromkeys(known))
    return (key for key in keys if not is_blank(key))


# ----------------------------------------------------------------------------- the evidence


class Evidence:
    """The newest result of every test case read, indexed for matching against the project.

    Build it with :func:`load_evidence`; :mod:`qms.status` turns it into each item's status.
    """

    def __init__(self, project: Project, files: Sequence[str], cases: Sequence[CaseResult]) -> None:
        self.project = project
        self.files = tuple(files)
        self.cases = tuple(cases)
        self._by_key: dict[str, list[CaseResult]] = defaultdict(list)
        self._by_verifies: dict[str, list[CaseResult]] = defaultdict(list)
        groups: dict[str, tuple[str, ...]] = {}
        for case in self.cases:
            for key in _keys(case, groups):
                self._by_key[key].append(case)
            for item_id in dict.fromkeys(case.verifies):
                self._by_verifies[item_id].append(case)

    def match(self, evidence_id: str) -> tuple[CaseResult, ...]:
        """The results an ``evidence:`` id names: one case, a parametrized family, or a class,
        module or package (a classname or a dotted prefix of one). A blank id names nothing."""
        return tuple(self._by_key.get(evidence_key(evidence_id), ()))

    def naming(self, item_id: str) -> tuple[CaseResult, ...]:
        """The results whose ``verifies`` property names ``item_id``."""
        return tuple(self._by_verifies.get(item_id, ()))


# -------------------------------------------------------------------------------- reading

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Result files larger than this are refused before a byte is read: the run is to be split.
MAX_RESULT_FILE_BYTES = 50_000_000
#: Characters of text kept per element (a stack trace, a case's output): its first line is what is shown.
_MAX_TEXT = 64 * 1024
_SUITES = frozenset({"testsuite", "testsuites"})
#: a bare number of at least 9 digits is epoch seconds, or milliseconds from 10**11 on
_EPOCH_NUMBER = re.compile(r"[0-9]{9,16}(?:\.[0-9]+)?")
_MILLISECONDS = 10**11
_UTC_NAMES = frozenset({"UTC", "GMT"})


@functools.lru_cache(maxsize=1024)
def timestamp_instant(timestamp: str | None) -> datetime | None:
    """A result timestamp as an instant in UTC, or None when there is none or it cannot be read.

    Read: ISO 8601 (with an offset, ``Z``, a trailing ``UTC``/``GMT``, or no zone: UTC), RFC 2822
    as mail and HTTP write it (``Sat, 03 Dec 2022 23:10:07 GMT``, ``26 Jun 2018 13:51:32 GMT``),
    and epoch seconds or milliseconds.
    """
    text = (timestamp or "").strip()
    if not text:
        return None
    instant = _epoch(text) if _EPOCH_NUMBER.fullmatch(text) else _iso(text) or _rfc2822(text)
    if instant is None:
        return None
    try:
        return (instant if instant.tzinfo else instant.replace(tzinfo=UTC)).astimezone(UTC)
    except (OverflowError, ValueError):  # an offset that takes it out of datetime's range
        return None


def _epoch(text: str) -> datetime | None:
    number = float(text)
    try:
        return datetime.fromtimestamp(number / 1000 if number >= _MILLISECONDS else number, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _iso(text: str) -> datetime | None:
    head, space, zone = text.rpartition(" ")
    named_utc = bool(space) and zone.upper() in _UTC_NAMES
    try:
        instant = datetime.fromisoformat(head if named_utc else text)
    except ValueError:
        return None
    return instant.replace(tzinfo=UTC) if named_utc and instant.tzinfo is None else instant


def _rfc2822(text: str) -> datetime | None:
    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _unreadable(name: str, message: str, line: int = 0, column: int = 0) -> Finding:
    return Finding("Q001", Severity.ERROR, message, Location(name, line, column))


def _shown(text: str, length: int = 60) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"


_FORBIDDEN: Mapping[type[DefusedXmlException], str] = MappingProxyType(
    {
        DTDForbidden: "a DOCTYPE declaration",
        EntitiesForbidden: "an entity declaration",
        ExternalReferenceForbidden: "an external entity reference",
    }
)


def first_line(text: str | None) -> str:
    """The first line of ``text`` that is not blank, stripped and cut to a message's length."""
    for line in (text or "").splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= _MESSAGE_LENGTH else line[: _MESSAGE_LENGTH - 1] + "…"
    return ""


def _verifies(case: ET.Element) -> tuple[str, ...]:
    """The ids of the case's ``verifies`` properties; one value may list several."""
    properties = case.find("properties")
    if properties is None:
        return ()
    ids: list[str] = []
    for prop in properties:
        value = prop.get("value")
        if prop.tag == "property" and prop.get("name") == VERIFIES_PROPERTY and value:
            ids.extend(part for part in _SEPARATORS.split(value) if part)
    return tuple(ids)


class _NotJUnit(Exception):
    """The root element is not a test suite: the file holds something else."""

    def __init__(self, tag: str, line: int) -> None:
        super().__init__(tag)
        self.tag = tag
        self.line = line


@dataclass(slots=True)
class _Suite:
    """A ``<testsuite>`` (or the ``<testsuites>`` root) being read."""

    element: ET.Element
    name: str
    timestamp: str | None  # its own, else the enclosing suite's
    first_case: int  # index of its first test case among those read
    #: ``<failure>`` and ``<error>`` directly under the suite (a class that failed to load)
    problems: list[tuple[Outcome, str, int]] = field(default_factory=list)
    #: the revision its results ran on: ``qms:commit``/``qms:version``, its own else the enclosing suite's
    run: dict[str, str] = field(default_factory=dict)


#: Properties that say which revision a result ran on (written by :mod:`qms.pytest_plugin`).
COMMIT_PROPERTY, VERSION_PROPERTY = "qms:commit", "qms:version"
_RUN_PROPERTIES = (COMMIT_PROPERTY, VERSION_PROPERTY)


def _run_properties(element: ET.Element, inherited: dict[str, str]) -> dict[str, str]:
    """``inherited`` updated with the element's own ``qms:commit`` and ``qms:version`` properties."""
    properties = element.find("properties")
    if properties is None:
        return inherited
    own = {
        prop.get("name", ""): (prop.get("value") or "").strip()
        for prop in properties
        if prop.tag == "property" and prop.get("name") in _RUN_PROPERTIES and (prop.get("value") or "").strip()
    }
    return {**inherited, **own} if own else inherited


#: the outcomes a suite-level problem gives, worst first
_WORST_FIRST = (Outcome.FAILED, Outcome.ERROR)


class _Reader(ET.TreeBuilder):
    """Reads a result file as it is parsed: each ``<testcase>`` becomes a :class:`CaseResult`
    when it ends and is dropped, so memory holds one test case at a time however large the file."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.parser: DefusedXMLParser | None = None
        self.cases: list[CaseResult] = []
        self.findings: list[Finding] = []
        self._open: list[tuple[ET.Element, int]] = []  # elements started and not yet ended, with their line
        self._suites: list[_Suite] = []
        self._stamps: set[str] = set()
        self._text = 0  # characters of text kept for the element being read

    def _position(self) -> tuple[int, int]:
        expat = self.parser.parser if self.parser is not None else None
        return (expat.CurrentLineNumber, expat.CurrentColumnNumber + 1) if expat is not None else (0, 0)

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        line, column = self._position()
        if not self._open and tag not in _SUITES:
            raise _NotJUnit(tag, line)
        element = super().start(tag, attrs)
        if tag in _SUITES and (not self._open or self._open[-1][0].tag in _SUITES):
            own = attrs.get("timestamp")
            if own:
                self._check_timestamp(own, line, column)
            enclosing = self._suites[-1] if self._suites else None
            inherited = enclosing.timestamp if enclosing else None
            suite = _Suite(element, attrs.get("name", ""), own or inherited, len(self.cases))
            suite.run = enclosing.run if enclosing else {}
            self._suites.append(suite)
        self._open.append((element, line))
        self._text = 0
        return element

    def data(self, data: str) -> None:
        if self._text < _MAX_TEXT:
            data = data[: _MAX_TEXT - self._text]
            self._text += len(data)
            super().data(data)

    def end(self, tag: str) -> ET.Element:
        element = super().end(tag)
        _, line = self._open.pop()
        self._text = 0
        if self._suites and self._suites[-1].element is element:
            self._close_suite()
        parent = self._open[-1][0] if self._open else None
        if parent is None or parent.tag not in _SUITES:
            return element  # the root, or part of a test case: kept until the case ends
        if tag == "properties":
            self._suites[-1].run = _run_properties(parent, self._suites[-1].run)
        elif tag == "testcase":
            self.cases.append(self._case(element, line))
        elif tag in ("failure", "error"):
            outcome = Outcome.FAILED if tag == "failure" else Outcome.ERROR
            said = (element.get("message"), element.text, element.get("type"))
            message = next((first for first in map(first_line, said) if first), "")
            self._suites[-1].problems.append((outcome, message, line))
        if tag != "properties":
            parent.remove(element)
        return element

    def _case(self, element: ET.Element, line: int) -> CaseResult:
        from qms.junitcase import JUnitCase, outcome_of, seconds_of  # junitparser (and lxml): with a file read

        case = JUnitCase.fromelem(element)  # type: ignore[no-untyped-call]
        name = case.name or ""
        classname = case.classname or ""
        outcome, message = outcome_of(case)
        suite = self._suites[-1]
        run = _run_properties(element, suite.run)
        return CaseResult(
            case_id=result_key(classname, name),
            name=name,
            classname=classname,
            outcome=outcome,
            message=message,
            time=seconds_of(case),
            timestamp=suite.timestamp,
            file=self.name,
            verifies=_verifies(element),
            line=line,
            commit=run.get(COMMIT_PROPERTY),
            version=run.get(VERSION_PROPERTY),
        )

    def _close_suite(self) -> None:
        """Count a suite's own failure or error against each of its cases, or as one case."""
        suite = self._suites.pop()
        if not suite.problems:
            return
        outcome, message, line = min(suite.problems, key=lambda problem: _WORST_FIRST.index(problem[0]))
        if len(self.cases) == suite.first_case:
            self.cases.append(
                CaseResult(
                    case_id=result_key(suite.name, ""),
                    name="",
                    classname=suite.name,
                    outcome=outcome,
                    message=message,
                    time=None,
                    timestamp=suite.timestamp,
                    file=self.name,
                    verifies=(),
                    line=line,
                    commit=suite.run.get(COMMIT_PROPERTY),
                    version=suite.run.get(VERSION_PROPERTY),
                )
            )
            return
        what = "failure" if outcome is Outcome.FAILED else "error"
        noted = f"{what} of suite {suite.name}: {message}" if suite.name else f"{what} of its suite: {message}"
        for index in range(suite.first_case, len(self.cases)):
            case = self.cases[index]
            if case.outcome not in _WORST_FIRST[: _WORST_FIRST.index(outcome) + 1]:
                self.cases[index] = replace(case, outcome=outcome, message=_shown(noted, _MESSAGE_LENGTH))

    def _check_timestamp(self, timestamp: str, line: int, column: int) -> None:
        if timestamp in self._stamps:
            return
        self._stamps.add(timestamp)
        if timestamp_instant(timestamp) is None:
            self.findings.append(
                _unreadable(
                    self.name,
                    f"timestamp '{_shown(timestamp)}' is not a date and time qms reads (ISO 8601 such as "
                    "2021-03-07T10:36:56Z, RFC 2822 such as 'Sat, 03 Dec 2022 23:10:07 GMT', or epoch "
                    "milliseconds): its results are read, but which file holds a test's newest result is "
                    "decided by the order the files are read; correct or remove the attribute",
                    line,
                    column,
                )
            )


#: a result file read: its test cases, and what is wrong in it
_Results = tuple[tuple[CaseResult, ...], tuple[Finding, ...]]


def read_results(
    path: Path, name: str, store: FileCache[_Results] | None = None
) -> tuple[list[CaseResult], list[Finding]]:
    """The test cases of one JUnit XML file, with Q001 findings for what cannot be read.

    XML is parsed safely (no DTD, no entities, no external references) and as a stream: a file
    over :data:`MAX_RESULT_FILE_BYTES` is refused before it is read, and memory holds one test
    case at a time. A malformed file gives a finding and no results. With ``store``, a file read
    before with the same bytes is taken from that cache (:mod:`qms.parsecache`).
    """
    try:
        info = path.stat()
    except OSError as error:
        return [], [_unreadable(name, f"cannot read the result file: {error.strerror or error}")]
    if not stat.S_ISREG(info.st_mode):
        return [], [
            _unreadable(name, "cannot read the result file: it is not a regular file (a folder, pipe or device)")
        ]
    if info.st_size > MAX_RESULT_FILE_BYTES:
        return [], [_too_large(name, info.st_size)]
    if store is None:
        return _streamed(path, name)
    try:
        with path.open("rb") as stream:
            digest = hashlib.file_digest(stream, "blake2b").digest()
    except OSError as error:
        return [], [_unreadable(name, f"cannot read the result file: {error.strerror or error}")]
    cases, findings = store.read(name, digest, lambda: _as_read(_streamed(path, name)))
    return list(cases), list(findings)


def _as_read(read: tuple[list[CaseResult], list[Finding]]) -> _Results:
    return tuple(read[0]), tuple(read[1])


def _streamed(path: Path, name: str) -> tuple[list[CaseResult], list[Finding]]:
    """The test cases of a result file read as a stream (see :func:`read_results`)."""
    reader = _Reader(name)
    parser = DefusedXMLParser(target=reader, forbid_dtd=True)
    reader.parser = parser
    size = 0
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 16):
                size += len(chunk)
                if size > MAX_RESULT_FILE_BYTES:  # grew while being read, or a size the system does not report
                    return [], [_too_large(name, size)]
                parser.feed(chunk)
        parser.close()
    except OSError as error:
        return [], [_unreadable(name, f"cannot read the result file: {error.strerror or error}")]
    except ET.ParseError as error:
        line, column = error.position
        reason = str(error).split(":")[0].removeprefix("not well-formed").strip(" ()")
        message = f"not well-formed XML: {reason}; fix or regenerate the result file"
        return [], [_unreadable(name, message, line, column + 1)]
    except DefusedXmlException as error:
        expat = parser.parser
        what = _FORBIDDEN.get(type(error), "a construct qms does not read")
        message = (
            f"the result file holds {what}: JUnit XML needs none, and qms neither loads nor expands "
            "them (a guard against entity expansion attacks); regenerate the file with the test runner"
        )
        return [], [_unreadable(name, message, expat.CurrentLineNumber, expat.CurrentColumnNumber + 1)]
    except (LookupError, ValueError) as error:  # an encoding expat cannot decode (unknown, or multi-byte)
        expat = parser.parser
        message = f"the result file's encoding cannot be read ({error}): regenerate it as UTF-8"
        return [], [_unreadable(name, message, expat.CurrentLineNumber, expat.CurrentColumnNumber + 1)]
    except _NotJUnit as error:
        message = (
            f"not a JUnit XML result file: the root element is <{_shown(error.tag)}>, "
            "expected <testsuites> or <testsuite>"
        )
        return [], [_unreadable(name, message, error.line, 1)]
    return reader.cases, reader.findings


def _too_large(name: str, size: int) -> Finding:
    return _unreadable(
        name,
        f"the result file is {size / 1e6:.1f} MB, more than the {MAX_RESULT_FILE_BYTES / 1e6:.0f} MB qms reads "
        "from one file; nothing of it was read: split the test run into several result files (one per CI job, "
        "module or package) and list them under `evidence:` in qms.yaml",
    )


def result_files(project: Project, extra: Iterable[Path] = ()) -> list[Path]:
    """The result files to read, each once: the ``evidence:`` globs of ``qms.yaml`` in order
    (each glob's matches sorted by name), then ``extra`` in the order given."""
    found: dict[Path, Path] = {}
    roots = allowed_roots(project.root, project.config.allow_outside)  # outside them: Q001 when loading
    for pattern in project.config.evidence:
        for path in project_files(project.root, pattern, roots).files:
            found.setdefault(path, path)
    for path in extra:
        found.setdefault(Path(path).resolve(), Path(path))
    return list(found.values())


def _display_name(root: Path, path: Path) -> str:
    resolved = path.resolve()
    try:
        return resolved.relative_to(root.resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def newest(results: Sequence[Sequence[CaseResult]]) -> list[CaseResult]:
    """Of the results of several files (in reading order), keep for each test case only those
    of the newest file that holds it.

    Newest means the latest ``timestamp`` when every file holding the case gives one, else the
    file read last. Within one file, every result of a case is kept (a runner may run a case
    twice, e.g. the same test title twice in one Jest suite).
    """
    holders: dict[str, list[int]] = defaultdict(list)
    stamps: list[dict[str, datetime | None]] = []
    for index, cases in enumerate(results):
        stamps.append(_case_instants(cases))
        for key in stamps[index]:
            holders[key].append(index)
    winner: dict[str, int] = {}
    for key, indexes in holders.items():
        if len(indexes) == 1:
            continue
        instants = [stamps[index][key] for index in indexes]
        if all(instant is not None for instant in instants):
            winner[key] = max(zip(instants, indexes, strict=True))[1]
        else:
            winner[key] = indexes[-1]
    return [case for index, cases in enumerate(results) for case in cases if winner.get(case.case_id, index) == index]


def _case_instants(cases: Sequence[CaseResult]) -> dict[str, datetime | None]:
    """Per test case of one file: its latest timestamp, or None if one of its results has none."""
    instants: dict[str, datetime | None] = {}
    for case in cases:
        instant = case.at
        if case.case_id not in instants:
            instants[case.case_id] = instant
            continue
        known = instants[case.case_id]
        instants[case.case_id] = None if known is None or instant is None else max(known, instant)
    return instants


def load_evidence(
    project: Project, extra: Iterable[Path] = (), *, cache: bool = False
) -> tuple[Evidence, list[Finding]]:
    """Read every result file of the project (``evidence:`` globs, then ``extra``; ``cache``:
    through the parse cache of :mod:`qms.parsecache`, which ``qms check`` uses).

    Unreadable or malformed files give Q001 findings and no results; results whose
    ``verifies`` property names an unknown item, or an item no result can verify, are
    reported by rule E404 (:mod:`qms.rules.evidence`).
    """
    files: list[str] = []
    per_file: list[list[CaseResult]] = []
    findings: list[Finding] = []
    paths = result_files(project, extra)
    store = project_cache(project, "results", b"", _encode_results, _decode_results) if cache and paths else None
    for path in paths:
        name = _display_name(project.root, path)
        files.append(name)
        cases, problems = read_results(path, name, store)
        per_file.append(cases)
        findings.extend(problems)
    if store is not None:
        store.save()
    return Evidence(project, files, newest(per_file)), findings


def _encode_results(read: _Results) -> tuple[Any, ...]:
    fields = ("case_id", "name", "classname", "message", "time", "timestamp", "verifies", "line", "commit", "version")
    cases = [(case.outcome.value, *(getattr(case, name) for name in fields)) for case in read[0]]
    return cases, findings_data(read[1])


def _decode_results(data: Any, path: str) -> _Results:
    cases, findings = data
    return (
        tuple(
            CaseResult(
                case_id, name, classname, Outcome(outcome), message, time, stamp, path, verifies, line, commit, version
            )
            for outcome, case_id, name, classname, message, time, stamp, verifies, line, commit, version in cases
        ),
        findings_from(findings),
    )
