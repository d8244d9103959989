"""Long documents cut into pages: one document, every item where its links say, old addresses kept."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from sphinx_support import build, copy_example, cut_example, site_files

from qms.documents import PART, document_of, document_spec, part_name
from qms.project import load_project
from qms.sphinx.parts import CONTINUED, TableRows, split

# ------------------------------------------------------------------------------ the cut, on text

DOCUMENT = """
==========
A document
==========

.. qms:document-control::

Purpose.

.. _doc-intro:

Introduction
============

Text only.

.. _doc-needs:

Needs
=====

First group
-----------

.. qms:items::

{needs}

Second group
------------

.. qms:items::

{more}

Matrix
======

.. qms:matrix::
   :chain: inputs

.. qms:revision-history::
"""


def _document(needs: int, more: int) -> str:
    return DOCUMENT.format(
        needs="\n".join(f"   N-{number:03}" for number in range(needs)),
        more="\n".join(f"   M-{number:03}" for number in range(more)),
    )


def _rows(count: int) -> TableRows:
    return lambda directive, options: count if directive == "matrix" else 0


def _ids(text: str) -> list[str]:
    return re.findall(r"^   ([NM]-\d+)$", text, re.MULTILINE)


def test_a_document_within_the_limit_is_its_source_as_written() -> None:
    text = _document(10, 10)
    first, parts = split("doc", "A document", text, 28, _rows(32))  # 20 items and 32 rows (8 items)
    assert first is text
    assert parts == []


def test_a_long_document_keeps_its_items_in_order_over_its_pages() -> None:
    text = _document(30, 25)
    first, parts = split("doc", "A document", text, 20, _rows(0))
    pages = [first, *(part.source for part in parts)]
    assert [part.docname for part in parts] == [part_name("doc", number) for number in range(2, len(pages) + 1)]
    assert [item for page in pages for item in _ids(page)] == _ids(text)
    assert all(len(_ids(page)) <= 20 for page in pages)
    # the opening stays on the first page, with the parts listed and in its navigation
    assert "qms:document-control" in first and all("qms:document-control" not in page for page in pages[1:])
    for part in parts:
        assert f"   {part.docname} " in first and f"\n   {part.docname}\n" in first
    # each label once, the revision history once at the end; a continued heading is marked
    for label in ("doc-intro", "doc-needs"):
        assert sum(page.count(f".. _{label}:") for page in pages) == 1
    assert pages[-1].rstrip().endswith(".. qms:revision-history::")
    assert f".. rst-class:: {CONTINUED}\n\nNeeds\n=====" in pages[1]
    assert f".. rst-class:: {CONTINUED}\n\nFirst group\n-----------" in pages[1]


def test_each_part_lists_the_addresses_it_holds() -> None:
    first, parts = split("doc", "A document", _document(30, 25), 20, _rows(0))
    index = {line.split(" ", 1)[0]: json.loads(line.split(" ", 1)[1]) for line in _parts_lines(first)}
    for part in parts:
        labels = re.findall(r"^\.\. _(.+):$", part.source, re.MULTILINE)
        assert set(index[part.docname]) == {*labels, *_ids(part.source)} == set(part.anchors)


def _parts_lines(first: str) -> list[str]:
    block = first.split(".. qms:parts::\n\n", 1)[1].split("\n\n", 1)[0]
    return [line.strip() for line in block.splitlines()]


def test_a_long_table_is_shown_in_ranges_of_rows() -> None:
    first, parts = split("doc", "A document", _document(2, 2), 20, _rows(250))  # 250 rows: 63 items
    ranges = re.findall(r":rows: (\d+)-(\d+)", "".join([first, *(part.source for part in parts)]))
    assert ranges == [("1", "80"), ("81", "160"), ("161", "240"), ("241", "250")]
    assert all(":chain: inputs" in part.source for part in parts if ":rows:" in part.source)


def parts_of(docname: str, pages: Iterable[str]) -> list[str]:
    """The further pages of a document among ``pages``, in their order."""
    numbers = sorted(
        int(page.rpartition(PART)[2]) for page in pages if page != docname and document_of(page) == docname
    )
    return [part_name(docname, number) for number in numbers]


def test_part_names_belong_to_their_document() -> None:
    assert document_of("verification-part-3") == "verification"
    assert document_of("my-page-part-2") == "my-page-part-2"  # a page of the project's own
    assert document_of("verification-part-x") == "verification-part-x"
    spec = document_spec("verification-part-2")
    assert spec is not None and spec.docname == "verification"
    pages = ["verification-part-10", "verification", "verification-part-2", "risk-register-part-2"]
    assert parts_of("verification", pages) == ["verification-part-2", "verification-part-10"]


# ------------------------------------------------------------------------------ a real build


def _anchors(site: Path) -> dict[str, set[str]]:
    return {
        path.name: set(re.findall(r'\bid="([^"]+)"', path.read_text(encoding="utf-8"))) for path in site.glob("*.html")
    }


def _broken_links(site: Path) -> list[str]:
    """Every link between pages of the site whose page or anchor does not exist."""
    anchors = _anchors(site)
    broken = []
    for path in site.glob("*.html"):
        for target, anchor in re.findall(r'href="([^"#:/]*\.html)?#([^"]+)"', path.read_text(encoding="utf-8")):
            page = target or path.name
            if page not in anchors or anchor not in anchors[page]:
                broken.append(f"{path.name} -> {page}#{anchor}")
    return broken


def _item_blocks(html: str) -> list[str]:
    return re.findall(r'<section class="qms-item[^"]*" id="([^"]+)"', html)


@pytest.fixture(scope="module")
def sites(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The example built as it is (no document over the limit) and with 20 items a page."""
    folders = []
    for name, limit in (("whole", None), ("cut", 20)):
        root = copy_example(tmp_path_factory.mktemp("parts") / name)
        if limit is not None:
            with (root / "conf.py").open("a", encoding="utf-8") as conf:
                conf.write(f"qms_page_items = {limit}\n")
        result = build(root)
        assert result.exit_code == 0, result.output
        assert "warning" not in result.output.lower()
        folders.append(root / "_build" / "html")
    return folders[0], folders[1]


@pytest.mark.slow
def test_the_example_stays_one_page_per_document(sites: tuple[Path, Path]) -> None:
    whole, _ = sites
    assert not list(whole.glob("*-part-*.html"))
    assert "qms-parts" not in "".join(path.read_text(encoding="utf-8") for path in whole.glob("*.html"))


@pytest.mark.slow
def test_every_link_of_a_cut_site_leads_to_its_anchor(sites: tuple[Path, Path]) -> None:
    whole, cut = sites
    assert list(cut.glob("verification-part-*.html"))
    assert _broken_links(whole) == []
    assert _broken_links(cut) == []


@pytest.mark.slow
def test_a_cut_document_shows_each_item_once_in_order(sites: tuple[Path, Path]) -> None:
    whole, cut = sites
    for path in whole.glob("*.html"):
        docname = path.stem
        pages = [docname, *parts_of(docname, (page.stem for page in cut.glob("*.html")))]
        shown = [item for page in pages for item in _item_blocks((cut / f"{page}.html").read_text(encoding="utf-8"))]
        assert shown == _item_blocks(path.read_text(encoding="utf-8")), docname
        for page in pages:
            assert len(_item_blocks((cut / f"{page}.html").read_text(encoding="utf-8"))) <= 20


@pytest.mark.slow
def test_the_first_page_indexes_every_item_of_the_other_parts(sites: tuple[Path, Path]) -> None:
    _, cut = sites
    first = BeautifulSoup((cut / "verification.html").read_text(encoding="utf-8"), "html.parser")
    listed = first.select_one(".qms-parts")
    assert listed is not None
    links = [str(link["href"]) for link in listed.select("a[href]")]
    index = json.loads(listed.select_one('script[type="application/json"]').get_text())  # type: ignore[union-attr]
    parts = parts_of("verification", (page.stem for page in cut.glob("*.html")))
    assert links == [f"{part}.html" for part in parts]
    for link, anchors in zip(links, index, strict=True):
        assert set(_item_blocks((cut / link).read_text(encoding="utf-8"))) <= set(anchors)
        assert set(anchors) <= _anchors(cut)[link]


@pytest.mark.slow
def test_a_cut_document_is_one_document_with_one_control_block(sites: tuple[Path, Path]) -> None:
    whole, cut = sites

    def control(html: str) -> str:
        block = BeautifulSoup(html, "html.parser").select_one(".qms-document-control")
        return "" if block is None else str(block)

    for path in whole.glob("*.html"):
        pages = parts_of(path.stem, (page.stem for page in cut.glob("*.html")))
        assert control((cut / path.name).read_text(encoding="utf-8")) == control(path.read_text(encoding="utf-8"))
        assert all(control((cut / f"{page}.html").read_text(encoding="utf-8")) == "" for page in pages)
    # the navigation shows the parts below their document
    navigation = BeautifulSoup((cut / "index.html").read_text(encoding="utf-8"), "html.parser")
    entry = next(link for link in navigation.select(".sidebar-tree a") if link.get("href") == "verification.html")
    below = entry.find_parent("li")
    assert below is not None
    assert [link["href"] for link in below.select(":scope > ul a")][:1] == ["verification-part-2.html"]


@pytest.mark.slow
@pytest.mark.skipif(
    not any(shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")),
    reason="needs Chromium (apt-get install chromium)",
)
def test_a_cut_document_prints_as_one_document(tmp_path: Path) -> None:
    """The PDF of a cut document is the document as it prints whole: one file, the same pages and items."""
    pypdf = pytest.importorskip("pypdf")
    printed = []
    for name, limit in (("whole", ""), ("cut", "qms_page_items = 20\n")):
        root = copy_example(tmp_path / name)
        with (root / "conf.py").open("a", encoding="utf-8") as conf:
            conf.write(limit)
        result = build(root, "--format", "pdf", "-o", str(tmp_path / f"{name}-pdf"))
        assert result.exit_code == 0, result.output
        printed.append(tmp_path / f"{name}-pdf")
    whole, cut = printed
    ids = set(load_project(tmp_path / "whole").items)
    assert sorted(path.name for path in whole.glob("*.pdf")) == sorted(path.name for path in cut.glob("*.pdf"))
    for path in sorted(whole.glob("*.pdf")):
        readers = [pypdf.PdfReader(folder / path.name) for folder in (whole, cut)]
        assert len(readers[0].pages) == len(readers[1].pages), path.name
    for name in ("AID-SVR.pdf", "AID-SRS.pdf", "AID-DIR.pdf"):
        readers = [pypdf.PdfReader(folder / name) for folder in (whole, cut)]
        items = [{key.lstrip("/") for key in reader.named_destinations} & ids for reader in readers]
        assert items[0] and items[0] == items[1], name


@pytest.mark.slow
def test_a_rebuild_after_items_moved_to_another_part_writes_what_a_clean_build_writes(tmp_path: Path) -> None:
    # a new first system requirement moves the last requirement of each part to the next part: the
    # pages linking to them (the software requirements, the matrices) are not read again for that
    root = cut_example(tmp_path / "project", 20)
    assert build(root).exit_code == 0
    site = root / "_build" / "html"

    def holder(item_id: str) -> list[str]:
        return [path.name for path in site.glob("design-inputs*.html") if f'id="{item_id}"' in path.read_text("utf-8")]

    before = holder("SYS-020")
    requirements = root / "traceability" / "system_requirements.yaml"
    requirements.write_text(
        requirements.read_text(encoding="utf-8").replace(
            "items:\n",
            "items:\n  - id: SYS-000\n    title: Start\n    type: interface\n"
            "    text: The system shall start.\n    derives_from: [NEED-01]\n\n",
            1,
        ),
        encoding="utf-8",
    )
    result = build(root)
    assert result.exit_code == 0, result.output
    assert holder("SYS-020") != before
    assert _broken_links(site) == []
    clean = tmp_path / "clean"
    assert build(root, "--clean", "-o", str(clean)).exit_code == 0
    assert site_files(site) == site_files(clean)


@pytest.mark.slow
def test_a_page_of_the_project_is_never_replaced_by_a_part(tmp_path: Path) -> None:
    root = cut_example(tmp_path / "project", 20)
    (root / "verification-part-2.rst").write_text("Our own page\n============\n\nWritten by us.\n", encoding="utf-8")
    result = build(root)
    assert result.exit_code == 0, result.output
    # said once: the sources are generated beside the build, which generates them itself where that would warn
    assert result.output.count("verification is not cut into pages: the project has a page verification-part-2") == 1
    assert result.output.count("[qms.page-cut]") == 1
    site = root / "_build" / "html"
    assert "Written by us." in (site / "verification-part-2.html").read_text(encoding="utf-8")
    assert "qms-parts" not in (site / "verification.html").read_text(encoding="utf-8")
    assert (site / "software-requirements-part-2.html").is_file()  # the other documents are cut
