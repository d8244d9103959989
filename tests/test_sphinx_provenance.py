"""What an item's block says about the results behind its status: read from the status function,
with results from uncommitted files and dirty trees labelled."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import qms.sphinx.downloads  # noqa: F401  (registers the evidence-files query the item view reads)
from qms.gitinfo import NOT_UNDER_VERSION_CONTROL
from qms.project import load_project
from qms.sphinx.queries import QUERIES
from qms.sphinx.views.build import BuildData
from qms.status import ItemStatus, ResultRef, Status, StatusIndex

ITEMS = """\
kind: software_requirement
items:
  - id: SWR-1
    title: Limit the rate
    text: The rate shall be limited.
  - id: TST-1
    kind: test
    title: Rate limit
    method: test
    verifies: [SWR-1]
"""


def _data(root: Path, result: ResultRef, uncommitted: frozenset[str]) -> BuildData:
    project = load_project(root)
    statuses = StatusIndex(
        project,
        {
            "TST-1": ItemStatus("TST-1", "test", result.outcome, (result,)),
            "SWR-1": ItemStatus("SWR-1", "software_requirement", result.outcome, (result,), ("TST-1",)),
        },
    )
    return BuildData(
        project, (), NOT_UNDER_VERSION_CONTROL, queries=QUERIES, statuses=statuses, uncommitted=uncommitted
    )


def test_a_result_from_a_dirty_tree_and_an_uncommitted_file_says_so(make_project: Callable[..., Path]) -> None:
    root = make_project({"items/swr.yaml": ITEMS, "reports/unit.xml": "<testsuite/>\n"})
    result = ResultRef(
        "TST-1", "reports/unit.xml", "tests.test_rate.test_limit", Status.PASSED, at="2026-12-01T10:00:00+00:00",
        version="2.1.0", commit="0123456789abcdef0123+dirty",
    )  # fmt: skip
    view = _data(root, result, frozenset({"reports/unit.xml"})).answer(("item", "SWR-1"))
    assert view.status == "passed"
    (shown,) = view.verification.results
    assert shown.commit == "0123456789ab (uncommitted changes in the tree it ran on)"
    assert shown.uncommitted is True
    assert (shown.test, shown.case, shown.at, shown.version) == (
        "TST-1", "tests.test_rate.test_limit", "2026-12-01T10:00:00+00:00", "2.1.0",
    )  # fmt: skip


def test_a_committed_result_is_not_labelled(make_project: Callable[..., Path]) -> None:
    root = make_project({"items/swr.yaml": ITEMS})
    result = ResultRef(
        "TST-1", "records/run.yaml", "RUN-1", Status.FAILED, by="Sam", commit="0123456789abcdef", record=True
    )
    view = _data(root, result, frozenset()).answer(("item", "TST-1"))
    (shown,) = view.verification.results
    assert (shown.commit, shown.uncommitted, shown.record, shown.by) == ("0123456789ab", False, True, "Sam")
    assert view.status == "failed"
