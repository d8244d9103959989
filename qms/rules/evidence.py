"""E rules: the results of the last test runs and the execution records back up the verification
the project claims. Every rule reads the one status of :mod:`qms.status`."""

from __future__ import annotations

from collections.abc import Iterator

from qms.evidence import VERIFIABLE_KINDS
from qms.model import Item, Project
from qms.records import attachment_problems
from qms.rules import CheckContext, Hit, rule
from qms.status import ItemStatus, ResultRef, Status


def _result(result: ResultRef) -> str:
    where = f"{result.source}, {result.at}" if result.at and not result.note else result.source
    by = f", by {result.by}" if result.by else ""
    message = f": {result.message}" if result.message else ""
    return f"{result.case} ({where}{by}){message}"


def _failure_message(failures: tuple[ResultRef, ...]) -> str:
    first = failures[0]
    verb = "failed" if first.outcome is Status.FAILED else "errored"
    more = f" (and {len(failures) - 1} more failing)" if len(failures) > 1 else ""
    return f"latest result {verb}: {_result(first)}{more}"


def _failing_entry(context: CheckContext, test: Item) -> tuple[str | int, ...]:
    """Where to point: the first ``evidence:`` entry with a failing result, else the item."""
    evidence = context.evidence
    if evidence is None:
        return ()
    for index, evidence_id in enumerate(test.links("evidence")):
        if any(case.outcome.is_failure for case in evidence.match(evidence_id)):
            return ("evidence", index)
    return ()


def _direct_failures(status: ItemStatus) -> tuple[ResultRef, ...]:
    """The failing results that name a requirement (or software item, or need) directly."""
    return tuple(result for result in status.failures if result.test == status.id)


@rule(
    "E401",
    "test-failed",
    "test whose latest result failed or errored",
    """
A test case that proves this test (named under its `evidence:` or naming the item in its
`verifies` property), or the test's newest execution record, failed or errored (a blocked
run counts as an error). The design output does not meet its input until the failure is fixed
and the test run again (IEC 62304 5.5.5, 5.6.7, 5.7.5; ISO 13485 7.3.6). The finding is on the
test item; for a result that names a requirement or software item directly, it is on that item.
""",
)
def test_failed(context: CheckContext) -> Iterator[Hit]:
    statuses = context.statuses
    project = context.project
    for test in project.of_kind("test"):
        status = statuses.of(test.id)
        if status is not None and status.failures:
            yield Hit.at(test, _failure_message(status.failures), _failing_entry(context, test))
    evidence = context.evidence
    if evidence is None:
        return
    for item in project:
        if item.kind == "test" or item.kind not in VERIFIABLE_KINDS or not evidence.naming(item.id):
            continue
        entry = statuses.of(item.id)
        failures = _direct_failures(entry) if entry is not None else ()
        if failures:
            yield Hit.at(item, _failure_message(failures))


@rule(
    "E402",
    "evidence-not-run",
    "test whose evidence ids match no result in the evidence files",
    """
An id under a test's `evidence:` matches no test case in the result files: the test was not
run (or was renamed, or its result file was not collected). A test that was not run verifies
nothing. Run it so that its JUnit XML lands where `evidence:` in qms.yaml looks (or pass the
file with `qms check --results FILE`), or correct the id. Ids match as `classname.name`,
`classname::name`, or a pytest node id (`tests/test_dosing.py::test_max_basal`); an id without
`[parameters]` matches every parametrization, and a classname (or dotted prefix of one)
matches every case in it.
""",
)
def evidence_not_run(context: CheckContext) -> Iterator[Hit]:
    evidence = context.evidence
    files = evidence.files if evidence is not None else ()
    if files:
        read = f"{len(files)} result file{'s' if len(files) != 1 else ''}"
        reason = f"in the {read} read"
    elif context.project.config.evidence:
        globs = ", ".join(context.project.config.evidence)
        reason = f"(no result files: `evidence: [{globs}]` in qms.yaml matches no file; run the tests first)"
    else:
        reason = "(no result files: set `evidence:` in qms.yaml or pass `qms check --results FILE`)"
    for test in context.project.of_kind("test"):
        status = context.statuses.of(test.id)
        missing = set(status.missing) if status is not None else set()
        for index, evidence_id in enumerate(test.links("evidence")):
            if evidence_id in missing:
                yield Hit.at(test, f"evidence '{evidence_id}' matches no test result {reason}", ("evidence", index))


def _skipped_message(item: Item, status: ItemStatus) -> str:
    skipped = [result for result in status.results if result.outcome is Status.SKIPPED]
    reason = f": {skipped[0].message}" if skipped and skipped[0].message else ""
    tests = f" of {', '.join(status.tests)}" if status.tests else ""
    what = "result" if len(skipped) == 1 else f"{len(skipped)} results"
    was = "was" if len(skipped) == 1 else "were"
    state = "validated" if item.kind == "need" else "verified"
    return f"not {state}: the only {what}{tests} {was} skipped{reason}"


@rule(
    "E403",
    "only-skipped",
    "requirement whose only test results were skipped",
    """
Every result behind this requirement (or software item, or need) was skipped, or recorded as
not applicable: no test that verifies it passed, and none failed. A skipped test proves
nothing, so the item is not verified (IEC 62304 5.7.4). Find out why the tests were skipped (a
missing fixture, a platform condition, an `xfail`) and run them, or verify the item by another
passing test.
""",
)
def only_skipped(context: CheckContext) -> Iterator[Hit]:
    for entry in context.statuses.items():
        if entry.kind != "test" and entry.status is Status.SKIPPED:
            item = context.project.items[entry.id]
            yield Hit.at(item, _skipped_message(item, entry))


@rule(
    "E404",
    "result-names-unknown-item",
    "test result whose `verifies` property names an unknown item",
    """
A test case in a result file carries `<property name="verifies" value="ID"/>` (written by
`@pytest.mark.verifies` or `record_property`) for an id that is not in the project, or that
names an item a test result cannot verify (only tests, requirements, software items and needs
can be). The result proves nothing until the id is corrected in the test code.
""",
)
def result_names_unknown_item(context: CheckContext) -> Iterator[Hit]:
    evidence = context.evidence
    if evidence is None:
        return
    items = context.project.items
    for case in evidence.cases:
        for item_id in dict.fromkeys(case.verifies):
            item = items.get(item_id)
            if item is None:
                yield Hit(f"{case.case_id} verifies '{item_id}', which is not an item of the project", case.location)
            elif item.kind not in VERIFIABLE_KINDS:
                yield Hit(
                    f"{case.case_id} verifies '{item_id}', a {item.kind.replace('_', ' ')}: a result can verify "
                    "tests, requirements, software items and needs",
                    case.location,
                )


@rule(
    "E405",
    "test-not-run",
    "test with no result: no JUnit result and no execution record",
    """
No result file holds a result for this test and no execution record records a run of it: it
was not executed, or its execution was not recorded. IEC 62304 5.5.5, 5.6.7 and 5.7.5 ask for
the results of every verification, and a requirement whose test was never run is not verified.
Run the test and keep its record: for automated tests, list the JUnit test ids under
`evidence:` (or mark the test code `@pytest.mark.verifies("TST-...")`) and let the result file
land where `evidence:` in qms.yaml looks; for manual tests, inspections, analyses and
validation, record the execution with `qms record TEST-ID --outcome passed` (or write an
execution record under `records:`). A test whose `evidence:` entries match nothing is reported
by E402 instead.
""",
    classes=("B", "C"),
)
def test_not_run(context: CheckContext) -> Iterator[Hit]:
    for test in context.project.of_kind("test"):
        status = context.statuses.of(test.id)
        if status is not None and not status.results and not status.missing:
            yield Hit.at(
                test,
                "not executed: no test result and no execution record; run it and record the result "
                f"(`qms record {test.id} --outcome ...` for a manual test)",
            )


def _anomalies(project: Project, test: Item, raised: tuple[str, ...]) -> list[Item]:
    """Anomalies linked to a failing test: those its record raised, and those that affect the
    test or an item it verifies or validates."""
    targets = {test.id, *test.links("verifies"), *test.links("validates")}
    found = {anomaly: None for anomaly in raised if anomaly in project.items}
    for target in targets:
        for link in project.backlinks.get(target, ()):
            if link.field == "affects" and project.items[link.source].kind == "anomaly":
                found.setdefault(link.source, None)
    return [project.items[anomaly] for anomaly in found]


@rule(
    "E406",
    "failure-without-anomaly",
    "failed test with no anomaly that records and evaluates the failure",
    """
A test whose latest result failed (or errored, or whose run was blocked) has no anomaly item
linked to it with an evaluation. IEC 62304 5.6.8, 5.7.5 and 9.1 ask that anomalies found in
verification are entered in the problem resolution process and evaluated; 5.8.2-5.8.3 that
residual anomalies are evaluated before release. Raise an `anomaly` item that `affects` the
test or the requirement it verifies (or list it under `anomalies:` in the failing execution
record) and write its `evaluation`, then fix and re-run.
""",
)
def failure_without_anomaly(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    records = context.records.records if context.records is not None else ()
    raised = {record.id: record.anomalies for record in records}
    for test in project.of_kind("test"):
        status = context.statuses.of(test.id)
        if status is None or not status.failures:
            continue
        linked = _anomalies(project, test, tuple(a for r in status.failures for a in raised.get(r.case, ())))
        evaluated = [anomaly for anomaly in linked if str(anomaly.get("evaluation") or "").strip()]
        if evaluated:
            continue
        first = status.failures[0]
        if linked:
            names = ", ".join(anomaly.id for anomaly in linked)
            message = f"the failure of {first.case} is linked to {names}, which has no `evaluation`: evaluate it"
        else:
            message = (
                f"the failure of {first.case} ({first.source}) is linked to no anomaly: raise an anomaly item "
                f"that affects {test.id} and evaluate it, or list it under `anomalies:` in the record"
            )
        yield Hit.at(test, message)


@rule(
    "E407",
    "stale-result",
    "result that ran before the last change of its test or of what the test verifies",
    """
The result (a JUnit test case or an execution record) ran on a revision older than the last
change of its test item or of an item that test verifies or validates: it no longer speaks for
what the items say now (IEC 62304 5.7.5 asks for results of the software under release, 7.4.3
and 9.7 for re-verification after a change). The message names the change: who, when, which
commit.

How "before" is judged: a result that names the commit it ran on (`commit:` in a record, the
`qms:commit` property the qms pytest plugin writes) is before the change when the change's
commit is not that commit or one of its ancestors. A result whose commit git does not know,
that ran on a tree with uncommitted changes (`+dirty`), or that names none is judged by time:
it ran before the change when its time (the record's `executed_at`, the result file's suite
timestamp, else the file's modification time) is earlier than the change's author date. A
change not yet committed counts from the file's modification time. Outside git, results are
not checked for staleness (`qms status` says so).

Re-run the test on the current revision and record the new result (a re-run is a new record).
""",
)
def stale_result(context: CheckContext) -> Iterator[Hit]:
    project = context.project
    for test in project.of_kind("test"):
        status = context.statuses.of(test.id)
        if status is None:
            continue
        for result in status.stale:
            assert result.stale is not None
            when = f" on {result.at}" if result.at else ""
            yield Hit.at(
                test,
                f"stale result: {result.case} ({result.source}) ran{when} before {result.stale.item} "
                f"{result.stale.change}; run {test.id} again and record the result",
            )


@rule(
    "E408",
    "record-attachment",
    "execution record attachment outside the project, missing, or changed since recorded",
    """
An execution record lists an attachment (a log, a screenshot, a signed protocol) with the
sha256 it had when the run was recorded. The file must be in the project (the repository keeps
it), and must still have that sha256: a missing or changed attachment no longer backs the
record (IEC 62304 5.7.5, ISO 13485 4.2.5 control of records). Restore the file from git. A new
run is a new record with its own attachments; a record is never edited after the fact.
""",
)
def record_attachment(context: CheckContext) -> Iterator[Hit]:
    if context.records is None:
        return
    for problem in attachment_problems(context.project.root, context.records.records):
        yield Hit(problem.message, problem.attachment.location, problem.record.test)
