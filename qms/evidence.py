"""Verification evidence: test results read from JUnit XML files, matched to the project's tests.

Result files come from the ``evidence:`` globs of ``qms.yaml`` and from ``qms check --results``.
They are untrusted input: XML is parsed with defusedxml (no DTD, no entities, no external
references) into elements that junitparser reads; anything unreadable becomes a Q001 finding
with its file and line. A result names what it proves in two ways, and both count:

- a test item lists result ids under ``evidence:`` (see :func:`evidence_key` for the forms);
- a result carries ``<property name="verifies" value="ID"/>`` (pytest's ``record_property``,
  or ``@pytest.mark.verifies`` through :mod:`qms.pytest_plugin`) naming a test item, a
  requirement, a software item or a need.

When several files hold the same test case, only the newest file's result counts.
"""

from __future__ import annotations

import enum
import glob
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
from defusedxml.ElementTree import DefusedXMLParser
from junitparser import Attr, Error, Failure, JUnitXmlError, Skipped, TestSuite
from junitparser.xunit2 import JUnitXml, TestCase

from qms.model import Finding, Location, Project, Severity
from qms.schema import REQUIREMENT_KINDS

#: The property a result uses to name the items it verifies.
VERIFIES_PROPERTY = "verifies"
#: Kinds a result's ``verifies`` property may name.
VERIFIABLE_KINDS = ("test", *REQUIREMENT_KINDS, "software_item", "need")

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

    case_id: str  # ``classname.name``, or ``name`` when the classname is empty or the same
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


# ------------------------------------------------------------------------------ id matching


def result_key(classname: str, name: str) -> str:
    """The id of a result: ``classname.name``, or ``name`` when the classname is empty or equal."""
    if not classname or classname == name:
        return name
    return f"{classname}.{name}"


def evidence_key(evidence_id: str) -> str:
    """The result id an ``evidence:`` entry means, in the form of :func:`result_key`.

    Accepted: ``classname.name``; ``classname::name``; and pytest node ids
    (``tests/test_dosing.py::TestLimits::test_max[pump]``), whose file part loses ``.py`` and
    turns ``/`` into ``.``, exactly as pytest's ``--junitxml`` builds its classnames.
    """
    path, bracket, params = evidence_id.strip().partition("[")
    names = path.split("::")
    if names[0].endswith(".py"):
        names[0] = names[0][: -len(".py")].replace("/", ".")
    return ".".join(part for part in names if part) + bracket + params


def _bases(key: str) -> Iterator[str]:
    """A parametrized result's id without its ``[parameters]``, then also without its
    ``(argument types)`` (JUnit 5 writes ``roundsDown(double, double)[1]``)."""
    if key.endswith("]") and "[" in key:
        key = key[: key.index("[")]
        yield key
    if key.endswith(")") and "(" in key:
        yield key[: key.index("(")]


def _groups(classname: str) -> Iterator[str]:
    """A classname and each of its dotted prefixes: module, package, ..."""
    parts = classname.split(".")
    for end in range(1, len(parts) + 1):
        yield ".".join(parts[:end])


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
            keys = dict.fromkeys((case.case_id, *_bases(case.case_id)))
            if case.classname != case.name:
                if case.classname not in groups:
                    groups[case.classname] = tuple(_groups(case.classname))
                keys.update(dict.fromkeys(groups[case.classname]))
            for key in keys:
                self._by_key[key].append(case)
            for item_id in dict.fromkeys(case.verifies):
                self._by_verifies[item_id].append(case)

    def match(self, evidence_id: str) -> tuple[CaseResult, ...]:
        """The results an ``evidence:`` id names: one case, a parametrized family, or a class,
        module or package (a classname or a dotted prefix of one)."""
        return tuple(self._by_key.get(evidence_key(evidence_id), ()))

    def naming(self, item_id: str) -> tuple[CaseResult, ...]:
        """The results whose ``verifies`` property names ``item_id``."""
        return tuple(self._by_verifies.get(item_id, ()))


# -------------------------------------------------------------------------------- reading


def timestamp_instant(timestamp: str | None) -> datetime | None:
    """A result timestamp (ISO 8601) as an aware instant; one without a zone is taken as UTC."""
    if not timestamp:
        return None
    try:
        instant = datetime.fromisoformat(timestamp.strip())
    except ValueError:
        return None
    return instant if instant.tzinfo else instant.replace(tzinfo=UTC)


class _LineTreeBuilder(ET.TreeBuilder):
    """A tree builder that notes the line of every element's start tag."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[ET.Element, int] = {}
        self.parser: DefusedXMLParser | None = None

    def start(self, tag: str, attrs: dict[str, str]) -> ET.Element:
        element = super().start(tag, attrs)
        if self.parser is not None:
            self.lines[element] = self.parser.parser.CurrentLineNumber
        return element


@dataclass(frozen=True)
class _ResultFile:
    """One result file being read: its name, parse tree and what was wrong with it."""

    name: str
    root: ET.Element | None = None
    lines: Mapping[ET.Element, int] = field(default_factory=dict)
    finding: Finding | None = None


def _unreadable(name: str, message: str, line: int = 0, column: int = 0) -> Finding:
    return Finding("Q001", Severity.ERROR, message, Location(name, line, column))


_FORBIDDEN: Mapping[type[DefusedXmlException], str] = MappingProxyType(
    {
        DTDForbidden: "a DOCTYPE declaration",
        EntitiesForbidden: "an entity declaration",
        ExternalReferenceForbidden: "an external entity reference",
    }
)


def _parse(path: Path, name: str) -> _ResultFile:
    """Parse one XML file safely: no DTD, no entities, no external references."""
    builder = _LineTreeBuilder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=True)
    builder.parser = parser
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 16):
                parser.feed(chunk)
        root = parser.close()
    except OSError as error:
        reason = error.strerror or str(error)
        return _ResultFile(name, finding=_unreadable(name, f"cannot read the result file: {reason}"))
    except ET.ParseError as error:
        line, column = error.position
        reason = str(error).split(":")[0].removeprefix("not well-formed").strip(" ()")
        return _ResultFile(
            name,
            finding=_unreadable(
                name, f"not well-formed XML: {reason}; fix or regenerate the result file", line, column + 1
            ),
        )
    except DefusedXmlException as error:
        expat = parser.parser
        what = _FORBIDDEN.get(type(error), "a construct qms does not read")
        return _ResultFile(
            name,
            finding=_unreadable(
                name,
                f"the result file holds {what}: JUnit XML needs none, and qms neither loads nor expands "
                "them (a guard against entity expansion attacks); regenerate the file with the test runner",
                expat.CurrentLineNumber,
                expat.CurrentColumnNumber + 1,
            ),
        )
    return _ResultFile(name, root, builder.lines)


def _first_line(text: str | None) -> str:
    for line in (text or "").splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= _MESSAGE_LENGTH else line[: _MESSAGE_LENGTH - 1] + "…"
    return ""


class _Case(TestCase):
    """A ``<testcase>``, with the ``status`` attribute some runners write (CTest: run, fail,
    notrun, disabled)."""

    status = Attr()

    def __init__(self) -> None:
        """Only ever made by junitparser's ``fromelem``, which sets the element: skip building
        a throw-away one (a large share of the reading time for big result files)."""


#: ``status`` values that mean the case did not run, when it carries no failure or error.
_NOT_RUN_STATUSES = frozenset({"disabled", "notrun", "skipped", "skip"})


def _outcome(case: _Case) -> tuple[Outcome, str]:
    """A case's outcome from its final results (reruns that later passed count as passed)."""
    results = case.result
    for kind, outcome in ((Failure, Outcome.FAILED), (Error, Outcome.ERROR), (Skipped, Outcome.SKIPPED)):
        for result in results:
            if isinstance(result, kind):
                message = _first_line(result.message) or _first_line(result.text)
                if not message and outcome is not Outcome.SKIPPED:
                    message = _first_line(case.system_out)
                return outcome, message
    if (case.status or "").casefold() in _NOT_RUN_STATUSES:
        return Outcome.SKIPPED, case.status or ""
    return Outcome.PASSED, ""


def _time(case: _Case) -> float | None:
    try:
        seconds = case.time
    except ValueError:  # written, but not a number
        return None
    return seconds if isinstance(seconds, float) else None


def _verifies(case: _Case) -> tuple[str, ...]:
    """The ids of the case's ``verifies`` properties; one value may list several."""
    properties = case._elem.find("properties")
    if properties is None:
        return ()
    ids: list[str] = []
    for prop in properties:
        value = prop.get("value")
        if prop.tag == "property" and prop.get("name") == VERIFIES_PROPERTY and value:
            ids.extend(part for part in _SEPARATORS.split(value) if part)
    return tuple(ids)


#: Properties that say which revision a result ran on (written by :mod:`qms.pytest_plugin`).
COMMIT_PROPERTY, VERSION_PROPERTY = "qms:commit", "qms:version"
_RUN_PROPERTIES = (COMMIT_PROPERTY, VERSION_PROPERTY)

#: A case with what its enclosing suites say: its timestamp and its qms:commit/qms:version.
_SuiteCase = tuple[_Case, str | None, dict[str, str]]


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


def _suite_cases(suites: Iterable[TestSuite], default_timestamp: str | None) -> Iterator[_SuiteCase]:
    """Every test case with the timestamp of its nearest enclosing suite (nested suites too), and
    the revision properties the suites state."""
    stack: list[tuple[TestSuite, str | None, dict[str, str]]] = [
        (suite, default_timestamp, {}) for suite in reversed(list(suites))
    ]
    while stack:
        suite, inherited, run = stack.pop()
        timestamp = suite.timestamp or inherited
        run = _run_properties(suite._elem, run)
        # junitparser leaves these two unannotated
        yield from ((case, timestamp, run) for case in suite.iterchildren(_Case))  # type: ignore[no-untyped-call]
        nested = suite.testsuites()  # type: ignore[no-untyped-call]
        stack.extend((child, timestamp, run) for child in reversed(list(nested)))


def read_results(path: Path, name: str) -> tuple[list[CaseResult], list[Finding]]:
    """The test cases of one JUnit XML file, or a Q001 finding saying why it cannot be read."""
    parsed = _parse(path, name)
    if parsed.finding is not None or parsed.root is None:
        return [], [parsed.finding] if parsed.finding else []
    root = parsed.root
    try:
        xml = JUnitXml.fromroot(root)  # type: ignore[arg-type]  # annotated for its own wrapper; takes any element
    except JUnitXmlError:
        return [], [
            _unreadable(
                name,
                f"not a JUnit XML result file: the root element is <{root.tag}>, expected <testsuites> or <testsuite>",
                parsed.lines.get(root, 1),
                1,
            )
        ]
    cases = []
    for case, timestamp, suite_run in _suite_cases(xml, root.get("timestamp") if root.tag == "testsuites" else None):
        run = _run_properties(case._elem, suite_run)
        case_name = case.name or ""
        classname = case.classname or ""
        outcome, message = _outcome(case)
        cases.append(
            CaseResult(
                case_id=result_key(classname, case_name),
                name=case_name,
                classname=classname,
                outcome=outcome,
                message=message,
                time=_time(case),
                timestamp=timestamp,
                file=name,
                verifies=_verifies(case),
                line=parsed.lines.get(case._elem, 0),
                commit=run.get(COMMIT_PROPERTY),
                version=run.get(VERSION_PROPERTY),
            )
        )
    return cases, []


def result_files(project: Project, extra: Iterable[Path] = ()) -> list[Path]:
    """The result files to read, each once: the ``evidence:`` globs of ``qms.yaml`` in order
    (each glob's matches sorted by name), then ``extra`` in the order given."""
    found: dict[Path, Path] = {}
    for pattern in project.config.evidence:
        for match in sorted(glob.glob(str(project.root / pattern), recursive=True)):
            path = Path(match)
            if path.is_file():
                found.setdefault(path.resolve(), path)
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
        instant = timestamp_instant(case.timestamp)
        if case.case_id not in instants:
            instants[case.case_id] = instant
            continue
        known = instants[case.case_id]
        instants[case.case_id] = None if known is None or instant is None else max(known, instant)
    return instants


def load_evidence(project: Project, extra: Iterable[Path] = ()) -> tuple[Evidence, list[Finding]]:
    """Read every result file of the project (``evidence:`` globs, then ``extra``).

    Unreadable or malformed files give Q001 findings and no results; results whose
    ``verifies`` property names an unknown item, or an item no result can verify, are
    reported by rule E404 (:mod:`qms.rules.evidence`).
    """
    files: list[str] = []
    per_file: list[list[CaseResult]] = []
    findings: list[Finding] = []
    for path in result_files(project, extra):
        name = _display_name(project.root, path)
        files.append(name)
        cases, problems = read_results(path, name)
        per_file.append(cases)
        findings.extend(problems)
    return Evidence(project, files, newest(per_file)), findings
