"""What an item's block says about the results behind its status: read from the status function,
with results from uncommitted files and dirty trees labelled."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from bs4 import BeautifulSoup
from conftest import invoke_qms
from sphinx_support import build, new_project

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


def test_a_record_that_passed_with_deviations_shows_them_and_the_anomalies_it_raised(tmp_path: Path) -> None:
    """The tester's outcome stands, but what they wrote beside it is never dropped: the deviations
    from the procedure and the anomalies the run raised are on the item's page and in ``qms status``."""
    root = new_project(
        tmp_path / "device",
        files={
            "traceability/anomalies.yaml": (
                "kind: anomaly\nitems:\n"
                "  - id: ANOM-001\n    title: Slow banner on a second phone\n"
                "    severity: 2\n    status: open\n"
                "    evaluation: The alarm still sounds at 60 s.\n"
            )
        },
    )
    config = root / "qms.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "records: [verification_records]\n", encoding="utf-8")
    deviation = "Also run on a second phone: the banner appeared after 90 s instead of 60 s."
    recorded = invoke_qms(
        "record", "TST-001", "--project", root, "--outcome", "passed", "--by", "Tess Tester",
        "--note", "Steps 1-2 executed as written on the reference phone.",
        "--deviation", deviation, "--anomaly", "ANOM-001", "--commit", "0123456789abcdef",
    )  # fmt: skip
    assert recorded.exit_code == 0, recorded.output

    status = invoke_qms("status", "--project", root, "TST-001")
    assert f"; deviations: {deviation}; raised ANOM-001" in status.output
    listed = json.loads(invoke_qms("status", "--project", root, "--format", "json", "TST-001").output)
    (result,) = listed["items"][0]["results"]
    assert (result["outcome"], result["deviations"], result["anomalies"]) == ("passed", deviation, ["ANOM-001"])

    assert build(root).exit_code == 0
    html = BeautifulSoup((root / "_build/html/verification.html").read_text(encoding="utf-8"), "html.parser")
    block = html.find(id="TST-001")
    assert block is not None
    (table,) = block.find_all("table", class_="qms-provenance")
    outcome = table.find("tbody").find_all("td")[-1]
    assert outcome.find(class_="qms-badge-result-passed").get_text() == "passed"  # the tester's outcome
    assert deviation in outcome.get_text(" ", strip=True)
    assert outcome.find(string="Steps 1-2 executed as written on the reference phone.") is not None
    anomaly = outcome.find("a", class_="reference")
    assert anomaly is not None and anomaly.get_text() == "ANOM-001"
    assert anomaly["href"].endswith("#ANOM-001")


def test_a_passed_requirement_an_open_anomaly_affects_is_said_so_beside_the_coverage(tmp_path: Path) -> None:
    """The count of requirements whose tests all passed is what the tests say; a requirement a known
    residual anomaly still affects is said so beside it, linking to the release notes' anomalies, and
    no longer once the anomaly is closed. The measure stays complete: residual anomalies are evaluated
    for a release, not a gap of the file."""
    anomaly = (
        "kind: anomaly\nitems:\n  - id: ANOM-001\n    title: Slow banner\n    severity: 2\n"
        "    status: open\n    evaluation: The alarm still sounds.\n    affects: [SWR-001]\n"
    )
    root = new_project(tmp_path / "device", files={"traceability/anomalies.yaml": anomaly})
    config = root / "qms.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "records: [verification_records]\n", encoding="utf-8")
    for test in ("TST-001", "VAL-01"):
        recorded = invoke_qms(
            "record", test, "--project", root, "--outcome", "passed", "--by", "Tess", "--commit", "abcdef1"
        )
        assert recorded.exit_code == 0, recorded.output

    def row() -> BeautifulSoup:
        assert build(root).exit_code == 0
        index = BeautifulSoup((root / "_build/html/index.html").read_text(encoding="utf-8"), "html.parser")
        rows = index.select("table.qms-coverage tr")
        (found,) = [tr for tr in rows if tr.get_text(" ", strip=True).startswith("Requirements whose tests all passed")]
        return found

    passed = row()
    assert "complete" in passed.get_text() and "1 of them affected by an open anomaly" in passed.get_text()
    assert (
        passed.find("a", string="1 of them affected by an open anomaly")["href"] == "release-notes.html#rel-anomalies"
    )
    anomalies = root / "traceability/anomalies.yaml"
    anomalies.write_text(anomalies.read_text(encoding="utf-8").replace("status: open", "status: closed"), "utf-8")
    assert "anomaly" not in row().get_text()
