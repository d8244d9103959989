"""The bundled example's technical file shows every item's status exactly as the status function
computes it (``qms status --format json``), on every page, and claims nothing its records do not hold."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import invoke_qms
from sphinx_support import build, copy_example, parse_html, run_example_tests

from qms.checking import check_context
from qms.project import load_project
from qms.risk import RiskClass, hazard_risk
from qms.sphinx.claim_directives import OverallResidualRiskDirective
from qms.sphinx.claims import OverallRiskView


@pytest.fixture(scope="module", params=["as shipped", "with a defect"])
def example(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example built after its tests ran; "with a defect", a dosing limit is wrong and tests fail."""
    root = copy_example(tmp_path_factory.mktemp("statuses") / "device")
    if request.param == "with a defect":
        dosing = root / "examples" / "aid_controller" / "dosing.py"
        source = dosing.read_text(encoding="utf-8")
        assert "4 * scheduled_rate" in source
        dosing.write_text(source.replace("4 * scheduled_rate", "5 * scheduled_rate"), encoding="utf-8")
    run_example_tests(root, expect_failures=request.param == "with a defect")
    result = build(root)
    assert result.exit_code == 0, result.output
    return root


def pages(root: Path) -> Iterator[tuple[str, BeautifulSoup]]:
    for path in sorted((root / "_build" / "html").glob("*.html")):
        yield path.name, parse_html(path.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_every_status_shown_is_the_status_function_s(example: Path) -> None:
    result = invoke_qms("status", "--format", "json", cwd=example)
    expected = {entry["id"]: entry["status"] for entry in json.loads(result.stdout)["items"]}
    shown: dict[str, set[str]] = {}
    wrong = []
    for name, soup in pages(example):
        for element in soup.select("[data-qms-status]"):
            item, status = element["data-qms-item"], element["data-qms-status"]
            shown.setdefault(item, set()).add(name)
            if expected.get(item) != status:
                wrong.append(f"{name}: {item} shown {status}, status function says {expected.get(item)}")
        unlabelled = [
            element for element in soup.select("[class*=qms-badge-outcome]") if not element.has_attr("data-qms-item")
        ]
        assert not unlabelled, f"{name}: a status without its item: {unlabelled[:3]}"
    assert not wrong, "\n".join(wrong[:20])
    assert set(expected) - set(shown) == set(), "every item with a status shows it somewhere"
    assert "passed" in set(expected.values())


@pytest.mark.slow
def test_the_risk_management_report_lists_the_hazards_in_r(example: Path) -> None:
    project = load_project(example)
    policy = project.config.risk_policy
    in_r = sorted(
        hazard.id
        for hazard in project.of_kind("hazard")
        if (risk := hazard_risk(policy, hazard).residual) is not None and risk.risk_class is RiskClass.REDUCE
    )
    assert len(in_r) == 9
    soup = dict(pages(example))["risk-management-report.html"]
    section = soup.find("section", id="residual-risks-that-are-not-broadly-acceptable")
    listed = sorted(row.find("td").select_one(".qms-id").get_text() for row in section.select("tbody tr"))
    assert listed == in_r


@pytest.mark.slow
def test_every_item_names_the_results_behind_its_status(example: Path) -> None:
    statuses = check_context(load_project(example)).statuses
    blocks = {
        section["id"]: section
        for _name, soup in pages(example)
        for section in soup.select("section.qms-item")
        if section.select_one("table.qms-provenance") is not None or section.select_one("[data-qms-status]")
    }
    checked = 0
    for entry in json.loads(invoke_qms("status", "--format", "json", cwd=example).stdout)["items"]:
        rows = [row.find_all("td") for row in blocks[entry["id"]].select("table.qms-provenance tbody tr")]
        cases = [cells[1].find("code").get_text() for cells in rows]
        sources = [cells[2].find("code").get_text() for cells in rows]
        found = statuses.of(entry["id"])
        assert found is not None
        assert cases == [result.case for result in found.results], entry["id"]
        assert sources == [result["source"] for result in entry["results"]], entry["id"]
        checked += bool(rows)
    assert checked > 0
    swr = blocks["SWR-039"]
    assert swr.select_one(".qms-badges [data-qms-status]")["data-qms-status"] == statuses.status("SWR-039").value


@pytest.mark.slow
def test_result_files_are_published_with_their_sha256(example: Path) -> None:
    site = example / "_build" / "html"
    soup = dict(pages(example))["verification.html"]
    rows = soup.select("table.qms-evidence-files tbody tr")
    assert rows
    for row in rows:
        cells = row.find_all("td")
        link = cells[0].find("a")["href"]
        listed = cells[2].get_text(strip=True)
        content = (site / link).read_bytes()
        assert hashlib.sha256(content).hexdigest() == listed
        assert content == (example / cells[0].get_text(strip=True)).read_bytes()
        assert "uncommitted" in cells[3].get_text()  # the copy is no git repository


@pytest.mark.slow
def test_the_front_page_and_the_conclusion_follow_the_statuses(example: Path) -> None:
    statuses = check_context(load_project(example)).statuses
    failed = sorted(entry.id for entry in statuses.items() if entry.status.value == "failed")
    soup = dict(pages(example))
    front = soup["index.html"].select_one("table.qms-coverage").find_previous("p").get_text(" ", strip=True)
    conclusion = soup["risk-management-report.html"].find("section", id="conclusion").get_text(" ", strip=True)
    if not failed:  # the example as shipped: every record complete, and the site says so
        assert front.startswith("Complete:")
        assert "may be released." in conclusion
        return
    assert front.startswith("Not complete:")
    assert "may not be released" in conclusion and "may be released." not in conclusion
    gaps = soup["gaps.html"].select_one("#open-requirements-passed")
    listed = {span.get_text() for span in gaps.select("td .qms-id")}
    assert set(failed) & listed


@pytest.mark.slow
def test_each_open_coverage_row_links_to_exactly_its_items(example: Path) -> None:
    soup = dict(pages(example))
    statuses = json.loads(invoke_qms("status", "--format", "json", cwd=example).stdout)["items"]
    passed = {entry["id"] for entry in statuses if entry["status"] == "passed"}
    opened = 0
    for row in soup["index.html"].select("table.qms-coverage tbody tr"):
        links = row.find_all("td")[2].find_all("a")
        for caveat in [link for link in links if "affected by an open anomaly" in link.get_text()]:
            page, _, anchor = caveat["href"].partition("#")  # beside a complete measure: where the anomalies are
            assert (page, anchor) == ("release-notes.html", "rel-anomalies") and soup[page].find(id=anchor)
        link = next((link for link in links if link.get_text().endswith("open: the list")), None)
        if link is None:
            continue
        page, _, anchor = link["href"].partition("#")
        count = int(link.get_text().split()[0])
        listed = [span.get_text() for span in soup[page].find(id=anchor).select("tbody tr td:first-child .qms-id")]
        assert len(listed) == count == len(set(listed)), anchor
        if "passed" in row.find("td").get_text():
            assert not set(listed) & passed, anchor  # a status measure lists only items not passed
        opened += 1
    headline = soup["index.html"].select_one("table.qms-coverage").find_previous("p").get_text()
    assert opened or headline.startswith("Complete:")


@pytest.mark.parametrize(
    ("acceptable", "planned", "expected", "not_expected"),
    [
        (True, True, "states how production and post-production information is collected", "may not be released"),
        (True, False, "names no source of production and post-production information", "may be released."),
        (False, True, "may not be released, until the open items below are closed", "may be released."),
    ],
)
def test_the_conclusion_claims_the_plan_not_the_collection(
    acceptable: bool, planned: bool, expected: str, not_expected: str
) -> None:
    # the records hold the plan's sources of post-production information, not evidence that they
    # are being collected: the conclusion says the first, and releases only when both hold
    view = OverallRiskView(25, 121, 121, acceptable, (), 0, post_production_planned=planned)
    conclusion = OverallResidualRiskDirective.conclusion(view)
    assert expected in conclusion and not_expected not in conclusion
    assert "collected as planned" not in conclusion
