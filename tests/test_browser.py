"""An auditor walks the bundled example's technical file in a real browser, opened from disk.

Front page -> the risk register -> a hazard -> the requirement that controls it -> the test that
verifies it -> the traceability matrix filtered for that requirement. Debian's Chromium is
driven by Playwright (no browser download); the console must stay free of errors. The main pages
are photographed on a laptop and on a phone, no table may be cut off, and every page passes an
automated accessibility check (axe-core) without a serious or critical violation.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import expect
from sphinx_support import build, copy_example, new_project

from qms.project import load_project

if TYPE_CHECKING:
    from playwright.sync_api import Page

REPOSITORY = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARGUMENTS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.slow,
    # Skipped on a workstation without the browser; in CI a skip fails (tests/conftest.py).
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def example_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled example, copied and built with ``qms build``."""
    root = tmp_path_factory.mktemp("browser") / "example"
    root.mkdir()
    for name in ("qms.yaml", "conf.py"):
        shutil.copy2(REPOSITORY / name, root / name)
    for folder in ("traceability", "risk_register"):
        shutil.copytree(REPOSITORY / folder, root / folder)
    result = build(root)
    assert result.exit_code == 0, result.output
    return root / "_build" / "html"


@pytest.fixture(scope="module")
def walk() -> tuple[str, str, str, str]:
    """A hazard, the requirement that controls it, the test that verifies that, and the hazard's title."""
    project = load_project(REPOSITORY)
    for hazard in project.of_kind("hazard"):
        for control in hazard.links("controls"):
            tests = [link.source for link in project.incoming(control, "verifies", "test")]
            if control.startswith("SWR") and tests:
                return hazard.id, control, tests[0], hazard.title
    pytest.fail("the example has no hazard with a verified software control")


@pytest.fixture
def browser_page() -> Iterator[tuple[Page, list[str]]]:
    yield from _browser_page(1280, 900)


def _browser_page(width: int, height: int) -> Iterator[tuple[Page, list[str]]]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGUMENTS)
        page = browser.new_page(viewport={"width": width, "height": height})
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        try:
            yield page, errors
        finally:
            browser.close()


def test_auditor_walks_from_hazard_to_verifying_test(
    example_site: Path, walk: tuple[str, str, str, str], browser_page: tuple[Page, list[str]]
) -> None:
    page, errors = browser_page
    hazard, control, verifying_test, hazard_title = walk
    page.goto((example_site / "index.html").as_uri())
    assert page.locator("h1").first.inner_text() == "Example AID Controller 2.1.0 technical file"
    expect(page.locator("table.qms-coverage")).to_be_visible()
    assert "Software safety class" in page.locator("dl.qms-document-control").inner_text()

    page.locator("table.qms-documents a", has_text="Hazard analysis and risk register").click()
    assert page.locator("h1").first.inner_text() == "Hazard analysis and risk register"

    page.locator("table.qms-register a", has_text=hazard).first.click()
    page.wait_for_url(f"**/risk-register.html#{hazard}")
    block = page.locator(f"section[id='{hazard}']")
    assert block.locator(".qms-item-title").inner_text().startswith(f"{hazard} {hazard_title}")

    row = block.locator("table.qms-trace tr", has_text="controlled by")
    row.locator("a", has_text=control).click()
    page.wait_for_url(f"**/software-requirements.html#{control}")
    requirement = page.locator(f"section[id='{control}']")
    expect(requirement.locator(".qms-item-title")).to_be_visible()
    assert (
        requirement.locator("table.qms-trace tr", has_text="controls hazard").locator("a", has_text=hazard).count() == 1
    )

    requirement.locator("table.qms-trace tr", has_text="verified by").locator("a", has_text=verifying_test).click()
    page.wait_for_url(f"**/verification.html#{verifying_test}")
    test_block = page.locator(f"section[id='{verifying_test}']")
    expect(test_block.locator(".qms-item-title")).to_be_visible()
    assert test_block.locator("table.qms-trace tr", has_text="verifies").locator("a", has_text=control).count() == 1
    assert errors == []


def test_matrix_filters_for_one_id_and_sorts(
    example_site: Path, walk: tuple[str, str, str, str], browser_page: tuple[Page, list[str]]
) -> None:
    page, errors = browser_page
    _, control, _, _ = walk
    page.goto((example_site / "software-requirements.html").as_uri() + f"#{control}")
    page.locator(f"section[id='{control}'] a.qms-matrix-link").click()
    page.wait_for_url(f"**/traceability-matrix.html?filter={control}")
    matrix = page.locator(".qms-interactive").first
    expect(matrix.locator("input.qms-filter")).to_have_value(control)
    expect(matrix.locator(".qms-filter-count")).to_contain_text(" of ")
    visible = matrix.locator("tbody tr:visible")
    total = matrix.locator("tbody tr").count()
    assert 0 < visible.count() < total
    for index in range(visible.count()):
        assert control in visible.nth(index).locator(".qms-id").all_inner_texts()
    assert matrix.locator(".qms-filter-count").inner_text() == f"{visible.count()} of {total} rows"

    matrix.locator("input.qms-filter").fill("")
    assert matrix.locator("tbody tr:visible").count() == total
    header = matrix.locator("thead th").nth(1)
    header.click()
    header.click()  # descending
    assert header.get_attribute("aria-sort") == "descending"
    first = matrix.locator("tbody tr").first.locator("td").nth(1).inner_text()
    last = matrix.locator("tbody tr").last.locator("td").nth(1).inner_text()
    assert first != "—" and (last == "—" or first >= last)
    assert errors == []


@pytest.mark.parametrize("word", ["constructor", "__proto__"])
def test_filter_words_that_name_object_properties_match_text(
    tmp_path: Path, browser_page: tuple[Page, list[str]], word: str
) -> None:
    """A word is looked up among the table's ids as data, never through the script's object prototype."""
    root = new_project(
        tmp_path / "device",
        files={
            "traceability/extra.yaml": (
                "kind: software_requirement\nitems:\n  - id: SWR-900\n"
                "    title: Reject a constructor or __proto__ key in messages\n"
                "    text: Keys named like object properties are refused.\n    derives_from: [SYS-001]\n"
            )
        },
    )
    assert build(root).exit_code == 0
    page, errors = browser_page
    page.goto((root / "_build" / "html" / "traceability-matrix.html").as_uri() + f"?filter={word}")
    matrix = page.locator(".qms-interactive").first
    expect(matrix.locator("input.qms-filter")).to_have_value(word)
    visible = matrix.locator("tbody tr:visible")
    assert visible.count() > 0
    for index in range(visible.count()):
        assert "SWR-900" in visible.nth(index).locator(".qms-id").all_inner_texts()
    assert errors == []


def test_maths_is_laid_out_by_the_browser_without_a_script(
    tmp_path: Path, browser_page: tuple[Page, list[str]]
) -> None:
    """Chromium renders the MathML written at build time; the page loads nothing from the network."""
    root = new_project(
        tmp_path / "device",
        files={
            "traceability/extra.yaml": (
                "kind: software_requirement\nitems:\n  - id: SWR-901\n    title: Dose\n"
                "    text: 'The dose is :math:`\\frac{G - G_t}{ISF}` units.'\n    derives_from: [SYS-001]\n"
            )
        },
    )
    assert build(root).exit_code == 0
    page, errors = browser_page
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto((root / "_build" / "html" / "software-requirements.html").as_uri() + "#SWR-901")
    fraction = page.locator("section[id='SWR-901'] math mfrac")
    expect(fraction).to_have_count(1)
    box = fraction.bounding_box()
    line = page.locator("section[id='SWR-901'] math mi").first.bounding_box()
    assert box is not None and line is not None
    assert box["height"] > 1.5 * line["height"]  # numerator above denominator: laid out as maths, not text
    assert [url for url in requests if not url.startswith("file:")] == []
    assert errors == []


#: The pages an auditor reads most, photographed at each size.
MAIN_PAGES = (
    "index",
    "software-development-plan",
    "design-inputs",
    "software-requirements",
    "risk-register",
    "risk-management-report",
    "verification",
    "traceability-matrix",
)
LAPTOP, PHONE = (1400, 900), (390, 844)

#: Tables whose content reaches past the article without a scrolling frame around them.
CLIPPED_TABLES = """() => {
  const article = document.querySelector("article[role='main']").getBoundingClientRect();
  const scrolls = (element) => ["auto", "scroll"].includes(getComputedStyle(element).overflowX);
  return [...document.querySelectorAll("article table")].filter((table) => {
    if (!table.offsetParent) { return false; }  // in a folded section
    for (let node = table.parentElement; node && node.tagName !== "ARTICLE"; node = node.parentElement) {
      if (scrolls(node)) { return node.getBoundingClientRect().right > article.right + 1; }
    }
    return table.getBoundingClientRect().right > article.right + 1 || table.scrollWidth > table.clientWidth + 1;
  }).map((table) => table.className + " " + table.scrollWidth + "px");
}"""


@pytest.fixture(params=[LAPTOP, PHONE], ids=["laptop", "phone"])
def sized_page(request: pytest.FixtureRequest) -> Iterator[tuple[Page, list[str]]]:
    yield from _browser_page(*request.param)


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


def test_main_pages_photographed_without_a_clipped_table(
    example_site: Path, sized_page: tuple[Page, list[str]], screenshots: Path
) -> None:
    page, errors = sized_page
    width = page.viewport_size["width"] if page.viewport_size else 0
    for name in MAIN_PAGES:
        page.goto((example_site / f"{name}.html").as_uri())
        page.screenshot(path=str(screenshots / f"{name}-{width}.png"))
        folds = page.locator("details.qms-fold")
        for index in range(folds.count()):
            folds.nth(index).evaluate("details => { details.open = true; }")
        assert page.evaluate(CLIPPED_TABLES) == [], f"{name} at {width} px (screenshots in {screenshots})"
    page.goto((example_site / "risk-register.html").as_uri())
    page.locator("table.qms-register").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / f"risk-register-table-{width}.png"))
    assert errors == []


def test_a_wide_table_scrolls_with_its_id_column_in_view(
    example_site: Path, browser_page: tuple[Page, list[str]]
) -> None:
    """The risk register is wider than the column: it scrolls in its frame, the hazard ids stay put."""
    page, errors = browser_page
    page.set_viewport_size({"width": LAPTOP[0], "height": LAPTOP[1]})
    page.goto((example_site / "risk-register.html").as_uri())
    table = page.locator("table.qms-register")
    frame = table.locator("xpath=..")
    widths = frame.evaluate("frame => [frame.scrollWidth, frame.clientWidth]")
    assert widths[0] > widths[1], "the register fits: this test needs a table wider than its column"
    first = table.locator("tbody tr").first.locator("td").first
    before = first.bounding_box()
    frame.evaluate("frame => { frame.scrollLeft = frame.scrollWidth; }")
    after = first.bounding_box()
    last = table.locator("tbody tr").first.locator("td").last.bounding_box()
    assert before is not None and after is not None and last is not None
    assert abs(after["x"] - before["x"]) < 1  # the id column stays
    frame_box = frame.bounding_box()
    assert frame_box is not None and last["x"] + last["width"] <= frame_box["x"] + frame_box["width"] + 1
    assert errors == []


def test_a_long_document_opens_at_an_item_at_once(
    example_site: Path, walk: tuple[str, str, str, str], browser_page: tuple[Page, list[str]]
) -> None:
    """An index of the items on top, sections folded, and an anchor opens its item without animation."""
    page, errors = browser_page
    _, control, verifying_test, _ = walk
    page.goto((example_site / "software-requirements.html").as_uri())
    index = page.locator("nav.qms-item-index")
    expect(index).to_be_visible()
    assert index.locator("a").count() == page.locator("section.qms-item").count()
    assert page.locator("details.qms-fold:not([open])").count() > 0
    assert page.evaluate("getComputedStyle(document.documentElement).scrollBehavior") == "auto"

    page.goto((example_site / "verification.html").as_uri() + f"#{verifying_test}")
    block = page.locator(f"section[id='{verifying_test}']")
    expect(block).to_be_in_viewport()  # no waiting on a scroll animation: it is there on arrival
    top = block.evaluate("block => block.getBoundingClientRect().top")
    assert 0 <= top < 100

    page.goto((example_site / "software-requirements.html").as_uri())
    index.locator("a", has_text=control).first.click()
    expect(page.locator(f"section[id='{control}']")).to_be_in_viewport()
    assert errors == []


def test_heat_maps_are_legible(example_site: Path, browser_page: tuple[Page, list[str]]) -> None:
    page, errors = browser_page
    page.goto((example_site / "risk-management-report.html").as_uri())
    sizes = page.evaluate(
        """() => [...document.querySelectorAll("table.qms-heat-map .qms-heat-ids, table.qms-heat-map th,"
        + " table.qms-heat-map td:first-child")].map((node) => parseFloat(getComputedStyle(node).fontSize))"""
    )
    assert sizes and min(sizes) >= 12
    assert errors == []


def test_every_page_passes_the_accessibility_check(example_site: Path, browser_page: tuple[Page, list[str]]) -> None:
    """axe-core on every page: no serious or critical violation (contrast, names, roles, ARIA)."""
    axe_api = pytest.importorskip("axe_playwright_python.sync_playwright")
    page, _ = browser_page
    axe = axe_api.Axe()
    found = {}
    for path in sorted(example_site.glob("*.html")):
        page.goto(path.as_uri())
        violations = axe.run(page).response["violations"]
        serious = [
            f"{violation['id']} ({len(violation['nodes'])}): {violation['nodes'][0]['target']}"
            for violation in violations
            if violation["impact"] in ("serious", "critical")
        ]
        if serious:
            found[path.name] = serious
    # axe reads the stylesheets again with XMLHttpRequest, which Chromium refuses for file://
    # addresses and logs as console errors: the console is checked by the other tests
    assert found == {}


@pytest.fixture(scope="module")
def cut_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled example built with at most 20 items a page: its long documents cut into parts."""
    root = copy_example(tmp_path_factory.mktemp("browser") / "cut")
    with (root / "conf.py").open("a", encoding="utf-8") as conf:
        conf.write("qms_page_items = 20\n")
    result = build(root)
    assert result.exit_code == 0, result.output
    return root / "_build" / "html"


def test_an_item_address_of_a_cut_document_opens_the_part_holding_it(
    cut_site: Path, walk: tuple[str, str, str, str], browser_page: tuple[Page, list[str]]
) -> None:
    """``verification.html#TC-...``, written before the document was cut, opens the item on its part."""
    page, errors = browser_page
    _, control, verifying_test, _ = walk
    for docname, item_id in (("verification", verifying_test), ("software-requirements", control)):
        holder = next(
            path for path in cut_site.glob(f"{docname}*.html") if f'id="{item_id}"' in path.read_text(encoding="utf-8")
        )
        assert holder.name != f"{docname}.html", "the item should be on a further part"
        page.goto((cut_site / f"{docname}.html").as_uri() + f"#{item_id}")
        page.wait_for_url(f"**/{holder.name}#{item_id}")
        expect(page.locator(f"section[id='{item_id}']")).to_be_in_viewport()
    # an address the first page holds itself stays there
    page.goto((cut_site / "verification.html").as_uri() + "#svr-strategy")
    expect(page.locator("#svr-strategy")).to_be_attached()
    assert page.url.endswith("/verification.html#svr-strategy")
    assert errors == []
