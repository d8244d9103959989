"""Test execution records: the results no JUnit file carries (manual tests, inspections, analyses,
validation studies), kept as YAML in the folders that ``records:`` in ``qms.yaml`` names.

One file records one campaign: the fields every run of it shares (``executed_by``,
``executed_at``, ``version``, ``commit``, ``environment``), then under ``records:`` one entry per
test run with its outcome, observations, deviations, attachments and the anomalies it raised.
A file may also hold a single record as its top-level mapping. A record is never edited after
the fact: a re-run is a new record, and for each test the newest record counts. Files are read
with the item loader's YAML reader (located findings, libyaml); every problem is a located
finding and the rest of the file is still read.
"""

from __future__ import annotations

import datetime
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from qms.model import Finding, Location, Project, Severity
from qms.parsecache import FileCache, findings_data, findings_from, project_cache
from qms.project import source_files
from qms.schema import ID_PATTERN
from qms.yamlfile import YamlDocument, file_bytes, parse_bytes, position, text_of

#: What a run can end in; ``blocked`` and ``not-applicable`` need a ``reason``.
OUTCOMES = ("passed", "failed", "blocked", "not-applicable")
#: Fields a campaign file sets for all its records (a record may set its own).
SHARED_FIELDS = ("executed_by", "executed_at", "version", "commit", "environment")
#: Fields of one record.
RECORD_FIELDS = (
    "id",
    "test",
    "outcome",
    "reason",
    *SHARED_FIELDS,
    "observations",
    "deviations",
    "attachments",
    "anomalies",
)
_FILE_FIELDS = ("campaign", "description", *SHARED_FIELDS, "records")
_ZONED = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: a commit under test, as a record names it (and `qms record --commit` takes it)
COMMIT_PATTERN = re.compile(r"^[0-9a-f]{7,64}$")


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file in the project that a record points to, with the sha256 it had when recorded."""

    path: str  # relative to the project root, with /
    sha256: str
    location: Location


@dataclass(frozen=True, slots=True)
class ExecutionRecord:
    """One execution of one test, as recorded."""

    id: str
    test: str
    outcome: str  # one of OUTCOMES
    at: str  # ISO 8601 date-time with zone
    by: str
    file: str  # the record file, relative to the project root
    line: int
    version: str | None = None
    commit: str | None = None
    environment: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    reason: str = ""
    observations: str = ""
    deviations: str = ""
    attachments: tuple[Attachment, ...] = ()
    anomalies: tuple[str, ...] = ()
    #: where each field was written: field name -> (line, column)
    positions: Mapping[str, tuple[int, int]] = field(default_factory=lambda: MappingProxyType({}))

    def location(self, name: str | None = None) -> Location:
        line, column = self.positions.get(name, (self.line, 1)) if name else (self.line, 1)
        return Location(self.file, line, column)

    @property
    def summary(self) -> str:
        """First line of what was observed (or why it was not run); the deviations are shown apart."""
        text = self.reason or self.observations
        return next((line.strip() for line in text.splitlines() if line.strip()), "")


@dataclass(frozen=True)
class RecordSet:
    """Every execution record of a project, and the problems found reading them."""

    files: tuple[str, ...] = ()
    records: tuple[ExecutionRecord, ...] = ()
    findings: tuple[Finding, ...] = ()


class _Reader:
    """Reads the records of one file, reporting each problem where it was written."""

    def __init__(self, document: YamlDocument, project: Project) -> None:
        self.document = document
        self.project = project
        self.records: list[ExecutionRecord] = []
        #: values of fields a campaign shares, read once: (field, id of the value node) -> value
        self._shared: dict[tuple[str, int], Any] = {}

    def report(self, rule: str, message: str, node: yaml.Node | None, item: str | None = None) -> None:
        self.document.report(rule, message, node, item)

    def read(self) -> list[ExecutionRecord]:
        root = self.document.root
        if root is None:
            if not self.document.findings:
                self.report("Q002", "empty record file: write a campaign with `records:`, or delete the file", None)
            return []
        if not isinstance(root, yaml.MappingNode):
            self.report("Q002", "a record file must be a mapping: a campaign with `records:`, or one record", root)
            return []
        entries = {key: (key_node, value) for key, key_node, value in self.document.mapping(root)}
        if "records" not in entries:
            self._record(root, {})
            return self.records
        shared: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key, (key_node, value) in entries.items():
            if key not in _FILE_FIELDS and not key.startswith("x-"):
                self.report(
                    "Q002", f"unknown field '{key}' in a record file; allowed: {', '.join(_FILE_FIELDS)}", key_node
                )
            elif key in SHARED_FIELDS:
                shared[key] = (key_node, value)
        listing = entries["records"][1]
        if not isinstance(listing, yaml.SequenceNode) or not listing.value:
            self.report("Q002", "`records` must be a list of records, one per test run", listing)
            return []
        for node in listing.value:
            self._record(node, shared)
        return self.records

    def _record(self, node: yaml.Node, shared: Mapping[str, tuple[yaml.Node, yaml.Node]]) -> None:
        if not isinstance(node, yaml.MappingNode):
            self.report("Q002", "a record must be a mapping with id, test, outcome, executed_by, executed_at", node)
            return
        fields: dict[str, tuple[yaml.Node, yaml.Node]] = dict(shared)
        for key, key_node, value in self.document.mapping(node):
            if key not in RECORD_FIELDS and not key.startswith("x-"):
                self.report("Q002", f"unknown field '{key}' in a record; allowed: {', '.join(RECORD_FIELDS)}", key_node)
                continue
            fields[key] = (key_node, value)
        record_id = self._text(fields, "id", node)
        if record_id is not None and not ID_PATTERN.fullmatch(record_id):
            self.report(
                "Q002",
                f"record id '{record_id}' must start with a letter, then letters, digits, '_', '.', '-'",
                fields["id"][1],
            )
            record_id = None
        test = self._test(fields, node, record_id)
        outcome = self._outcome(fields, node, record_id)
        at = self._once(fields, "executed_at", lambda: self._time(fields, node, record_id))
        by = self._once(fields, "executed_by", lambda: self._text(fields, "executed_by", node, record_id))
        version = self._once(fields, "version", lambda: self._text(fields, "version", node, record_id))
        commit = self._once(fields, "commit", lambda: self._commit(fields, record_id))
        reason = self._optional_text(fields, "reason", record_id)
        if outcome in ("blocked", "not-applicable") and not reason:
            self.report(
                "Q002",
                f"outcome {outcome} needs a `reason`: say why the test was not executed",
                fields["outcome"][1],
                record_id,
            )
            outcome = None
        anomalies = self._anomalies(fields, record_id)
        attachments = self._attachments(fields, record_id)
        environment = self._once(fields, "environment", lambda: self._environment(fields, record_id))
        if None in (record_id, test, outcome, at, by, version):
            return
        assert record_id and test and outcome and at and by and version
        positions = {name: position(value) for name, (_, value) in fields.items()}
        self.records.append(
            ExecutionRecord(
                id=record_id,
                test=test,
                outcome=outcome,
                at=at,
                by=by,
                file=self.document.path,
                line=self.document.at(node).line,
                version=version,
                commit=commit,
                environment=MappingProxyType(environment),
                reason=reason,
                observations=self._optional_text(fields, "observations", record_id),
                deviations=self._optional_text(fields, "deviations", record_id),
                attachments=attachments,
                anomalies=anomalies,
                positions=MappingProxyType(positions),
            )
        )

    # ------------------------------------------------------------------ fields

    def _once(self, fields: Mapping[str, tuple[yaml.Node, yaml.Node]], name: str, read: Callable[[], Any]) -> Any:
        """A field's value, read (and its problems reported) once per value written: the fields a
        campaign shares are read once, not once per record."""
        entry = fields.get(name)
        if entry is None:
            return read()
        key = (name, id(entry[1]))
        if key not in self._shared:
            self._shared[key] = read()
        return self._shared[key]

    def _text(
        self, fields: Mapping[str, tuple[yaml.Node, yaml.Node]], name: str, node: yaml.Node, record: str | None = None
    ) -> str | None:
        entry = fields.get(name)
        if entry is None:
            self.report("Q002", f"the record is missing required field '{name}'", node, record)
            return None
        value = text_of(entry[1])
        if not value or not value.strip():
            self.report("Q002", f"'{name}' must be non-empty text", entry[1], record)
            return None
        return value.strip()

    def _optional_text(self, fields: Mapping[str, tuple[yaml.Node, yaml.Node]], name: str, record: str | None) -> str:
        entry = fields.get(name)
        if entry is None:
            return ""
        value = text_of(entry[1])
        if value is None:
            self.report("Q002", f"'{name}' must be text", entry[1], record)
            return ""
        return value.strip()

    def _test(
        self, fields: Mapping[str, tuple[yaml.Node, yaml.Node]], node: yaml.Node, record: str | None
    ) -> str | None:
        test = self._text(fields, "test", node, record)
        if test is None:
            return None
        item = self.project.items.get(test)
        if item is None:
            self.report("Q005", f"record of unknown test '{test}': no item has this id", fields["test"][1], record)
            return None
        if item.kind != "test":
            self.report(
                "Q006",
                f"record of '{test}', a {item.kind.replace('_', ' ')}: records execute tests",
                fields["test"][1],
                record,
            )
            return None
        return test

    def _outcome(
        self, fields: Mapping[str, tuple[yaml.Node, yaml.Node]], node: yaml.Node, record: str | None
    ) -> str | None:
        outcome = self._text(fields, "outcome", node, record)
        if outcome is None:
            return None
        if outcome not in OUTCOMES:
            self.report(
                "Q002",
                f"outcome '{outcome}' is not allowed; one of: {', '.join(OUTCOMES)}",
                fields["outcome"][1],
                record,
            )
            return None
        return outcome

    def _time(
        self, fields: Mapping[str, tuple[yaml.Node, yaml.Node]], node: yaml.Node, record: str | None
    ) -> str | None:
        at = self._text(fields, "executed_at", node, record)
        if at is None:
            return None
        if not _ZONED.fullmatch(at) or zoned_instant(at) is None:
            self.report(
                "Q002",
                f"executed_at '{at}' needs a date, a time and a zone, e.g. 2026-11-20T09:30:00+01:00 or ...Z",
                fields["executed_at"][1],
                record,
            )
            return None
        return at

    def _commit(self, fields: Mapping[str, tuple[yaml.Node, yaml.Node]], record: str | None) -> str | None:
        entry = fields.get("commit")
        if entry is None:
            return None
        value = (text_of(entry[1]) or "").strip().lower()
        if not COMMIT_PATTERN.fullmatch(value):
            self.report("Q002", f"commit '{value}' must be a git commit hash (7 to 64 hex digits)", entry[1], record)
            return None
        return value

    def _anomalies(self, fields: Mapping[str, tuple[yaml.Node, yaml.Node]], record: str | None) -> tuple[str, ...]:
        entry = fields.get("anomalies")
        if entry is None:
            return ()
        node = entry[1]
        if not isinstance(node, yaml.SequenceNode):
            self.report("Q002", "'anomalies' must be a list of anomaly ids", node, record)
            return ()
        found: list[str] = []
        for child in node.value:
            anomaly = text_of(child)
            target = self.project.items.get(anomaly or "")
            if target is None:
                self.report("Q005", f"link to unknown anomaly '{anomaly}'", child, record)
            elif target.kind != "anomaly":
                self.report("Q006", f"'{anomaly}' is a {target.kind.replace('_', ' ')}, not an anomaly", child, record)
            elif anomaly:
                found.append(anomaly)
        return tuple(found)

    def _attachments(
        self, fields: Mapping[str, tuple[yaml.Node, yaml.Node]], record: str | None
    ) -> tuple[Attachment, ...]:
        entry = fields.get("attachments")
        if entry is None:
            return ()
        node = entry[1]
        if not isinstance(node, yaml.SequenceNode):
            self.report("Q002", "'attachments' must be a list of {path, sha256}", node, record)
            return ()
        found: list[Attachment] = []
        for child in node.value:
            value = self.document.value(child, record)
            if not isinstance(value, dict) or set(value) != {"path", "sha256"}:
                self.report("Q002", "an attachment is a mapping with exactly `path` and `sha256`", child, record)
                continue
            path, digest = value["path"], value["sha256"]
            if not isinstance(path, str) or not path.strip():
                self.report("Q002", "attachment `path` must be a file path relative to qms.yaml", child, record)
                continue
            if not isinstance(digest, str) or not _SHA256.fullmatch(digest.strip().lower()):
                self.report("Q002", "attachment `sha256` must be 64 hex digits (`sha256sum FILE`)", child, record)
                continue
            found.append(Attachment(path.strip(), digest.strip().lower(), self.document.at(child)))
        return tuple(found)

    def _environment(self, fields: Mapping[str, tuple[yaml.Node, yaml.Node]], record: str | None) -> dict[str, str]:
        entry = fields.get("environment")
        if entry is None:
            return {}
        value = self.document.value(entry[1], record)
        if not isinstance(value, dict) or not all(isinstance(v, (str, int, float)) for v in value.values()):
            self.report(
                "Q002",
                "'environment' must map each part (phone, os, cgm, pump...) to its model and version",
                entry[1],
                record,
            )
            return {}
        return {str(key): str(part) for key, part in value.items()}


def zoned_instant(text: str) -> datetime.datetime | None:
    """An ISO date-time with a zone as an aware instant; None without a zone or when malformed."""
    try:
        instant = datetime.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return instant if instant.tzinfo is not None else None


def record_files(project: Project) -> tuple[list[Path], list[Finding]]:
    """The record files under ``records:`` of ``qms.yaml``, found as item files are found."""
    if not project.config.records:
        return [], []
    return source_files(project.root, project.config, setting="records")


def load_records(project: Project, *, cache: bool = False) -> RecordSet:
    """Read and validate every execution record of the project (``cache``: through the parse
    cache of :mod:`qms.parsecache`, which ``qms check`` uses)."""
    paths, findings = record_files(project)
    store = _record_cache(project) if cache and paths else None
    files: list[str] = []
    records: list[ExecutionRecord] = []
    first: dict[str, ExecutionRecord] = {}
    item_files = set(project.files)
    top = project.root.resolve()
    for path in paths:
        name = _relative(top, path)
        if name in item_files:
            message = (
                f"{name} is under both `sources` and `records` in qms.yaml: keep execution records out of `sources`"
            )
            findings.append(Finding("Q001", Severity.ERROR, message, project.config.location(("records",))))
            continue
        files.append(name)
        read, problems = _read_file(project, path, name, store)
        for record in read:
            earlier = first.setdefault(record.id, record)
            if earlier is not record:
                message = (
                    f"duplicate record id '{record.id}': already used at {earlier.location()}; "
                    "a re-run is a new record with its own id"
                )
                problems.append(Finding("Q003", Severity.ERROR, message, record.location("id"), record.id))
                continue
            records.append(record)
        findings.extend(problems)
    if store is not None:
        store.save()
    return RecordSet(tuple(files), tuple(records), tuple(findings))


#: a record file read: its records, and what is wrong in it
_Read = tuple[tuple[ExecutionRecord, ...], tuple[Finding, ...]]


def _read_file(
    project: Project, path: Path, name: str, store: FileCache[_Read] | None
) -> tuple[list[ExecutionRecord], list[Finding]]:
    """The records of one file and its findings (a new list, for the caller's own)."""

    def parsed(document: YamlDocument) -> _Read:
        records = _Reader(document, project).read()
        return tuple(records), tuple(document.findings)

    data = file_bytes(path, name)
    if isinstance(data, YamlDocument):
        read = parsed(data)
    elif store is None:
        read = parsed(parse_bytes(data, name))
    else:
        read = store.read(name, data, lambda: parsed(parse_bytes(data, name)))
    return list(read[0]), list(read[1])


def _record_cache(project: Project) -> FileCache[_Read] | None:
    """The cache of record files: a record is read against the project's ids and kinds (its test
    must be a test, its anomalies anomalies), so they are part of the key."""
    kinds = "\n".join(f"{item_id}\0{item.kind}" for item_id, item in project.items.items())
    return project_cache(project, "records", kinds.encode("utf-8", "surrogatepass"), _encode_read, _decode_read)


def _encode_read(read: _Read) -> tuple[Any, ...]:
    records = [
        (
            r.id,
            r.test,
            r.outcome,
            r.at,
            r.by,
            r.line,
            r.version,
            r.commit,
            dict(r.environment),
            r.reason,
            r.observations,
            r.deviations,
            [(a.path, a.sha256, a.location.file, a.location.line, a.location.column) for a in r.attachments],
            r.anomalies,
            dict(r.positions),
        )
        for r in read[0]
    ]
    return records, findings_data(read[1])


def _decode_read(data: Any, path: str) -> _Read:
    records, findings = data
    return (
        tuple(
            ExecutionRecord(
                id=record_id,
                test=test,
                outcome=outcome,
                at=at,
                by=by,
                file=path,
                line=line,
                version=version,
                commit=commit,
                environment=MappingProxyType(environment),
                reason=reason,
                observations=observations,
                deviations=deviations,
                attachments=tuple(
                    Attachment(where, sha256, Location(file, row, column))
                    for where, sha256, file, row, column in attachments
                ),
                anomalies=anomalies,
                positions=MappingProxyType(positions),
            )
            for (
                record_id,
                test,
                outcome,
                at,
                by,
                line,
                version,
                commit,
                environment,
                reason,
                observations,
                deviations,
                attachments,
                anomalies,
                positions,
            ) in records
        ),
        findings_from(findings),
    )


def _relative(top: Path, path: Path) -> str:
    """``path`` relative to ``top``, the resolved project root, with ``/`` (as it is where outside it)."""
    try:
        return path.resolve().relative_to(top).as_posix()
    except ValueError:
        return path.as_posix()


# ------------------------------------------------------------------------------ attachments


@dataclass(frozen=True, slots=True)
class AttachmentProblem:
    """An attachment that no longer backs its record: outside the project, missing or changed."""

    record: ExecutionRecord
    attachment: Attachment
    message: str


def attachment_problems(root: Path, records: Iterable[ExecutionRecord]) -> list[AttachmentProblem]:
    """Every attachment that is outside the project, missing, or whose sha256 changed."""
    problems: list[AttachmentProblem] = []
    base = root.resolve()
    digests: dict[Path, str | None] = {}
    for record in records:
        for attachment in record.attachments:
            message = _attachment_problem(base, attachment, digests)
            if message:
                problems.append(AttachmentProblem(record, attachment, message))
    return problems


def _attachment_problem(base: Path, attachment: Attachment, digests: dict[Path, str | None]) -> str:
    written = Path(attachment.path)
    path = (base / written).resolve()
    if written.is_absolute() or not path.is_relative_to(base):
        return f"attachment '{attachment.path}' is outside the project: attachments must be files in the repository"
    if path not in digests:
        digests[path] = file_sha256(path)
    digest = digests[path]
    if digest is None:
        return f"attachment '{attachment.path}' is missing: restore it from git (records are never edited)"
    if digest != attachment.sha256:
        return (
            f"attachment '{attachment.path}' changed since it was recorded (sha256 {digest[:12]}…, recorded "
            f"{attachment.sha256[:12]}…): restore the recorded file; a new run is a new record"
        )
    return ""


def file_sha256(path: Path) -> str | None:
    """The sha256 of a file's bytes; None when it is not a readable file."""
    try:
        with path.open("rb") as stream:
            return hashlib.file_digest(stream, "sha256").hexdigest()
    except OSError:
        return None


def records_of(records: Sequence[ExecutionRecord], test_id: str) -> list[ExecutionRecord]:
    """A test's records, oldest first."""
    own = [record for record in records if record.test == test_id]
    return sorted(
        own, key=lambda record: zoned_instant(record.at) or datetime.datetime.min.replace(tzinfo=datetime.UTC)
    )
