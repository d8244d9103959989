"""The bundled example's technical file shows every item's status exactly as the status function
computes it (``qms status --format json``), on every page, and claims nothing its records do not hold."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from sphinx_support import build, copy_example, run_example_tests

from qms.checking import check_context
from qms.project import load_project
from qms.risk import RiskClass, hazard_risk


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_example(tmp_path_factory.mktemp("statuses") / "device")
    run_example_tests(root)
    result = build(root)
    assert result.exit_code == 0, result.output
    return root


def pages(root: Path) -> Iterator[tuple[str, BeautifulSoup]]:
    for path in sorted((root / "_build" / "html").glob("*.html")):
        yield path.name, BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


@pytest.mark.slow
def test_every_status_shown_is_the_status_function_s(example: Path) -> None:
    statuses = check_context(load_project(example)).statuses
    assert statuses is not None
    expected = {entry["id"]: entry["status"] for entry in statuses.to_json()["items"]}
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
    assert {"passed", "not-run"} <= set(expected.values())


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
    for entry in statuses.to_json()["items"]:
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
