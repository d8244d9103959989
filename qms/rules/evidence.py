"""E rules: the results of the last test runs and the execution records back up the verification
the project claims. Every rule reads the one status of :mod:`qms.status`."""

from __future__ import annotations

from collections.abc import Iterator

from qms.evidence import VERIFIABLE_KINDS
from qms.model import Item, Project
from qms.records import attachment_problems
from qms.rules.registry import CheckContext, Hit, rule
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


@rule("E401")
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


@rule("E402")
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


@rule("E403")
def only_skipped(context: CheckContext) -> Iterator[Hit]:
    for entry in context.statuses.items():
        if entry.kind != "test" and entry.status is Status.SKIPPED:
            item = context.project.items[entry.id]
            yield Hit.at(item, _skipped_message(item, entry))


@rule("E404")
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


@rule("E405")
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


@rule("E406")
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


@rule("E407")
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


@rule("E408")
def record_attachment(context: CheckContext) -> Iterator[Hit]:
    if context.records is None:
        return
    for problem in attachment_problems(context.project.root, context.records.records):
        yield Hit(problem.message, problem.attachment.location, problem.record.test)
