"""``qms build --format pdf``: the example's technical file as PDFs, read back with pypdf.

Every item id is in the text, every document and item is a bookmark, links lead from a hazard to
its control to its test, the metadata names the device and manufacturer, and two builds of one
commit give the same bytes.
"""

from __future__ import annotations

import shutil
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import invoke_qms

from qms.approvals import document_states
from qms.atomic import OUTPUT_MARKER
from qms.gitinfo import document_control
from qms.project import load_project
from qms.sphinx.documents import DOCUMENTS, FRONT_PAGE

pypdf = pytest.importorskip("pypdf")

REPOSITORY = Path(__file__).resolve().parents[1]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not any(shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome")),
        reason="needs Chromium (apt-get install chromium)",
    ),
]

DOCUMENT_FILES = [f"AID-{spec.id}.pdf" for spec in (FRONT_PAGE, *DOCUMENTS)]


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The bundled example printed twice from the same commit, into two folders."""
    folders = []
    for name in ("first", "second"):
        output = tmp_path_factory.mktemp("pdf") / name
        result = invoke_qms("build", "--format", "pdf", "-o", output, "--project", REPOSITORY)
        assert result.exit_code == 0, result.output
        assert result.stdout == (
            f"qms: built {len(DOCUMENT_FILES) + 1} PDFs into {output}; open {output / 'technical-file.pdf'}\n"
        )
        folders.append(output)
    return folders[0], folders[1]


@pytest.fixture(scope="module")
def technical_file(builds: tuple[Path, Path]) -> pypdf.PdfReader:
    return pypdf.PdfReader(builds[0] / "technical-file.pdf")


@pytest.fixture(scope="module")
def text(technical_file: pypdf.PdfReader) -> list[str]:
    """Each page's text, ligatures undone (pypdf reads "ﬁ" as one character)."""
    return [unicodedata.normalize("NFKC", page.extract_text()) for page in technical_file.pages]


@pytest.fixture(scope="module")
def bookmarks(technical_file: pypdf.PdfReader) -> dict[str, int]:
    """Each bookmark's title and the page it opens, in the order of the tree."""

    def walk(entries: list[object]) -> Iterator[tuple[str, int]]:
        for entry in entries:
            if isinstance(entry, list):
                yield from walk(entry)
            else:
                page = technical_file.get_destination_page_number(entry)  # type: ignore[arg-type]
                yield str(entry.title), page  # type: ignore[attr-defined]

    return dict(walk(technical_file.outline))


def test_one_pdf_per_document_and_the_technical_file(builds: tuple[Path, Path]) -> None:
    names = sorted(path.name for path in builds[0].iterdir())
    assert names == sorted([OUTPUT_MARKER, *DOCUMENT_FILES, "technical-file.pdf"])


def test_the_same_commit_gives_the_same_bytes(builds: tuple[Path, Path]) -> None:
    first, second = builds
    for name in [*DOCUMENT_FILES, "technical-file.pdf"]:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_every_item_id_of_the_example_is_text(text: list[str]) -> None:
    everything = "\n".join(text)
    missing = [item.id for item in load_project(REPOSITORY).items.values() if item.id not in everything]
    assert missing == []


def test_documents_and_items_are_bookmarks(bookmarks: dict[str, int]) -> None:
    titles = list(bookmarks)
    assert titles[:2] == ["Cover", "Contents"]
    documents = [title for title in titles if title.startswith("AID-")]
    assert [title.split(" ")[0] for title in documents] == [name.removesuffix(".pdf") for name in DOCUMENT_FILES]
    marked = {title.split(" ")[0] for title in titles}
    missing = [item.id for item in load_project(REPOSITORY).items.values() if item.id not in marked]
    assert missing == []


def test_item_bookmarks_open_the_item(bookmarks: dict[str, int], text: list[str]) -> None:
    """A bookmark leads to its heading's section: the page shows the item (or the section starts at the
    foot of the page before, where its heading did not fit)."""
    ids = {item.id for item in load_project(REPOSITORY).items.values()}
    astray = [
        title
        for title, page in bookmarks.items()
        if (item := title.split(" ")[0]) in ids and not any(item in text[shown] for shown in (page, page + 1))
    ]
    assert astray == []


def test_cover_contents_and_running_headers(builds: tuple[Path, Path], text: list[str]) -> None:
    bound = pypdf.PdfReader(builds[0] / "technical-file.pdf")
    pages = {name: len(pypdf.PdfReader(builds[0] / name).pages) for name in DOCUMENT_FILES}
    assert len(bound.pages) == 2 + sum(pages.values())
    assert len(bound.pages) > 100
    assert "Example AID Controller" in text[0] and "Example Medical" in text[0] and "2.1.0" in text[0]
    first_srs = 3 + sum(pages[name] for name in DOCUMENT_FILES[: DOCUMENT_FILES.index("AID-SRS.pdf")])
    row = next(line for line in text[1].splitlines() if line.startswith("AID-SRS "))
    assert row.startswith("AID-SRS Software requirements specification") and row.endswith(f" {first_srs}")
    page = text[first_srs - 1]
    assert "AID-SRS Software requirements specification" in page
    assert f"AID-SRS · page 1 of {pages['AID-SRS.pdf']}" in page


def test_documents_end_with_their_approvals(builds: tuple[Path, Path]) -> None:
    states = document_states(load_project(REPOSITORY))
    state = states["SRS"]
    assert state.approvals, "the example records approvals of its SRS"
    reader = pypdf.PdfReader(builds[0] / "AID-SRS.pdf")
    last = unicodedata.normalize("NFKC", reader.pages[-1].extract_text())
    assert last.startswith("Approvals of AID-SRS")
    for approval in state.approvals:
        assert approval.role in last and approval.email in last
    assert f"revision {state.revision}" in unicodedata.normalize("NFKC", reader.pages[0].extract_text())


def test_metadata_names_the_device_and_the_commit(technical_file: pypdf.PdfReader) -> None:
    metadata = technical_file.metadata
    assert metadata is not None
    assert metadata.title == "Example AID Controller 2.1.0 technical file"
    assert metadata.author == "Example Medical"
    assert metadata.subject is not None and "software safety class C" in metadata.subject
    date = document_control(REPOSITORY).date
    assert date is not None
    assert metadata["/CreationDate"].startswith("D:" + date[:10].replace("-", ""))


def _links(reader: pypdf.PdfReader, pages: range) -> Iterator[object]:
    for index in pages:
        for annotation in reader.pages[index].get("/Annots") or []:
            annotation = annotation.get_object()
            if annotation.get("/Subtype") == "/Link":
                yield annotation


def test_hazard_control_and_test_are_linked(technical_file: pypdf.PdfReader, bookmarks: dict[str, int]) -> None:
    project = load_project(REPOSITORY)
    pages = {title.split(" ")[0]: page for title, page in bookmarks.items()}
    hazard, control, verifying = next(
        (hazard.id, control, tests[0])
        for hazard in project.of_kind("hazard")
        for control in hazard.links("controls")
        if control.startswith("SWR")
        and (tests := [link.source for link in project.incoming(control, "verifies", "test")])
    )

    def leads(source: str, target: str) -> bool:
        starts = sorted(set(pages.values()))
        first = pages[source]
        last = next((page for page in starts if page > first), first) + 1
        for annotation in _links(technical_file, range(first, last)):
            destination = annotation.get("/Dest")  # type: ignore[attr-defined]
            if isinstance(destination, list) and technical_file.get_page_number(destination[0].get_object()) in (
                pages[target],
                pages[target] - 1,
            ):
                return True
        return False

    assert leads(hazard, control), f"{hazard} → {control}"
    assert leads(control, verifying), f"{control} → {verifying}"


def test_no_link_leads_into_the_build_folder(builds: tuple[Path, Path]) -> None:
    for name in [*DOCUMENT_FILES, "technical-file.pdf"]:
        reader = pypdf.PdfReader(builds[0] / name)
        for annotation in _links(reader, range(len(reader.pages))):
            action = annotation.get("/A")  # type: ignore[attr-defined]
            uri = str(action.get_object().get("/URI", "")) if action is not None else ""
            assert not uri.startswith("file:"), (name, uri)


def test_links_between_document_pdfs_open_the_other_file(builds: tuple[Path, Path]) -> None:
    reader = pypdf.PdfReader(builds[0] / "AID-HA.pdf")
    remote = {
        str(action["/F"])
        for annotation in _links(reader, range(len(reader.pages)))
        if (action := annotation.get("/A")) is not None  # type: ignore[attr-defined]
        and action.get_object().get("/S") == "/GoToR"
    }
    assert "AID-SRS.pdf" in remote
    assert remote <= set(DOCUMENT_FILES)


def test_refuses_an_output_folder_inside_the_sources(tmp_path: Path) -> None:
    result = invoke_qms("build", "--format", "pdf", "-o", REPOSITORY / "traceability", "--project", REPOSITORY)
    assert result.exit_code == 2
    assert "the project's sources folder" in result.stderr
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me\n", encoding="utf-8")
    result = invoke_qms("build", "--format", "pdf", "-o", foreign, "--project", REPOSITORY)
    assert result.exit_code == 2
    assert "qms build did not write it" in result.stderr
    assert (foreign / "notes.txt").read_text(encoding="utf-8") == "keep me\n"
