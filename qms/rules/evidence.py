"""E rules: the results of the last test runs back up the verification the project claims."""

from __future__ import annotations

from collections.abc import Iterator

from qms.evidence import VERIFIABLE_KINDS, CaseResult, Evidence, Outcome, Verdict
from qms.model import Item
from qms.rules import CheckContext, Hit, rule


def _case(case: CaseResult) -> str:
    where = f"{case.file}, {case.timestamp}" if case.timestamp else case.file
    message = f": {case.message}" if case.message else ""
    return f"{case.case_id} ({where}){message}"


def _failure_message(verdict: Verdict) -> str:
    failures = verdict.failures
    first = failures[0]
    verb = "failed" if first.outcome is Outcome.FAILED else "errored"
    more = f" (and {len(failures) - 1} more failing)" if len(failures) > 1 else ""
    return f"latest result {verb}: {_case(first)}{more}"


def _failing_entry(evidence: Evidence, test: Item) -> tuple[str | int, ...]:
    """Where to point: the first ``evidence:`` entry with a failing result, else the item."""
    for index, evidence_id in enumerate(test.links("evidence")):
        if any(case.outcome.is_failure for case in evidence.match(evidence_id)):
            return ("evidence", index)
    return ()


@rule(
    "E401",
    "test-failed",
    "test whose latest result in the evidence failed or errored",
    """
A test case that proves this test (named under its `evidence:` or naming the item in its
`verifies` property) failed or errored in the newest result file that holds it. The design
output does not meet its input until the failure is fixed and the test run again (IEC 62304
5.5.5, 5.6.7, 5.7.5; ISO 13485 7.3.6). The finding is on the test item; for a result that
names a requirement or software item directly, it is on that item.
""",
)
def test_failed(context: CheckContext) -> Iterator[Hit]:
    evidence = context.evidence
    if evidence is None:
        return
    project = context.project
    for test in project.of_kind("test"):
        verdict = evidence.verdict(test.id)
        if verdict.outcome.is_failure:
            yield Hit.at(test, _failure_message(verdict), _failing_entry(evidence, test))
    for item in project:
        if item.kind == "test" or item.kind not in VERIFIABLE_KINDS:
            continue
        direct = evidence.naming(item.id)
        if any(case.outcome.is_failure for case in direct):
            yield Hit.at(item, _failure_message(Verdict(Outcome.FAILED, direct)))


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
    if evidence is None:
        return
    if evidence.files:
        read = f"{len(evidence.files)} result file{'s' if len(evidence.files) != 1 else ''}"
        reason = f"in the {read} read"
    elif context.project.config.evidence:
        globs = ", ".join(context.project.config.evidence)
        reason = f"(no result files: `evidence: [{globs}]` in qms.yaml matches no file; run the tests first)"
    else:
        reason = "(no result files: set `evidence:` in qms.yaml or pass `qms check --results FILE`)"
    for test in context.project.of_kind("test"):
        ids = test.links("evidence")
        for index, evidence_id in enumerate(ids):
            if not evidence.match(evidence_id):
                yield Hit.at(test, f"evidence '{evidence_id}' matches no test result {reason}", ("evidence", index))


def _skipped_message(item: Item, verdict: Verdict) -> str:
    skipped = [case for case in verdict.cases if case.outcome is Outcome.SKIPPED]
    reason = f": {skipped[0].message}" if skipped and skipped[0].message else ""
    tests = f" of {', '.join(verdict.tests)}" if verdict.tests else ""
    what = "result" if len(skipped) == 1 else f"{len(skipped)} results"
    was = "was" if len(skipped) == 1 else "were"
    state = "validated" if item.kind == "need" else "verified"
    return f"not {state}: the only {what}{tests} {was} skipped{reason}"


@rule(
    "E403",
    "only-skipped",
    "requirement whose only test results were skipped",
    """
Every result behind this requirement (or software item, or need) was skipped: no test that
verifies it passed, and none failed. A skipped test proves nothing, so the item is not
verified (IEC 62304 5.7.4). Find out why the tests were skipped (a missing fixture, a platform
condition, an `xfail`) and run them, or verify the item by another passing test.
""",
)
def only_skipped(context: CheckContext) -> Iterator[Hit]:
    evidence = context.evidence
    if evidence is None:
        return
    for item in context.project:
        if item.kind == "test" or item.kind not in VERIFIABLE_KINDS:
            continue
        verdict = evidence.item_verdict(item.id)
        if verdict.outcome is Outcome.SKIPPED:
            yield Hit.at(item, _skipped_message(item, verdict))


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
