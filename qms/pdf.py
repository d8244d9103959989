"""The technical file as PDF: each document of the built HTML site printed by Chromium, then bound.

The HTML site is the input, so the PDFs show what the site shows. Chromium (through Playwright)
lays the pages out; on the example it printed the documents eight times faster than WeasyPrint.
pypdf then does what a browser does not: links between documents, the bound file's cover,
contents and bookmarks, its metadata, and dates fixed to the commit, so the same commit gives
the same bytes.
"""

from __future__ import annotations

import html
import shutil
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    Destination,
    DictionaryObject,
    Fit,
    FloatObject,
    NameObject,
    NullObject,
    NumberObject,
    TextStringObject,
)

from qms import __version__

if TYPE_CHECKING:
    from playwright.sync_api import Browser

    from qms.approvals import Approval

#: The stylesheet laid over the site's own when a page is printed.
PRINT_STYLESHEET = Path(__file__).resolve().parent / "static" / "print.css"

#: The bound file holding every document.
TECHNICAL_FILE = "technical-file.pdf"

#: Where Chromium is looked for before Playwright's own download.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")

_MARGINS = {"top": "20mm", "bottom": "18mm", "left": "14mm", "right": "14mm"}
#: The width of an A4 portrait page between the margins, in CSS pixels (96 per inch).
_PORTRAIT_WIDTH = round((210 - 28) / 25.4 * 96)
_A4_HEIGHT = round(297 / 25.4 * 96)

#: Browser-side steps before printing: collapsed parts open, and whether a table is too wide for portrait.
_OPEN_DETAILS = "document.querySelectorAll('details').forEach(d => { d.open = true; })"
_TOO_WIDE = (
    "[...document.querySelectorAll('article table, article pre')]"
    ".some(e => e.scrollWidth > e.parentElement.clientWidth + 1 || e.getBoundingClientRect().right > innerWidth + 1)"
)


class PdfError(Exception):
    """The PDFs cannot be made: the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Document:
    """One document as printed: its page in the site, what its header says, and its approvals."""

    docname: str
    id: str
    title: str
    revision: str
    status: str
    approvals: tuple[Approval, ...] = ()
    digest: str = ""

    @property
    def file_name(self) -> str:
        return f"{self.id}.pdf"


@dataclass(frozen=True, slots=True)
class Cover:
    """What the technical file's cover says, and the metadata of every PDF."""

    device: str
    version: str
    safety_class: str
    manufacturer: str
    date: str | None  # ISO 8601 date-time of the commit built, None outside git
    source: str  # which revision was built, for a person

    @property
    def device_version(self) -> str:
        return f"{self.device} {self.version}".strip()


def print_technical_file(site: Path, documents: Sequence[Document], cover: Cover, output: Path) -> list[Path]:
    """Print each document of the HTML ``site`` to ``output``, then bind them into one file; the files written."""
    site_url = site.resolve().as_uri() + "/"
    with _browser() as browser:
        printed = {document.docname: _print_page(browser, site, document, cover) for document in documents}
        readers = {docname: PdfReader(BytesIO(data)) for docname, data in printed.items()}
        front = _print_front(browser, site, documents, cover, [len(readers[d.docname].pages) for d in documents])
    links = _Links(site_url, documents, readers)
    output.mkdir(parents=True, exist_ok=True)
    written = []
    for document in documents:
        path = output / document.file_name
        path.write_bytes(_finish(document, readers[document.docname], links, cover))
        written.append(path)
    bound = output / TECHNICAL_FILE
    bound.write_bytes(_bind(front, documents, readers, links, cover))
    written.append(bound)
    return written


@contextmanager
def _browser() -> Iterator[Browser]:
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        raise PdfError("the PDF build needs Playwright: pip install 'qms[pdf]'") from None
    with sync_playwright() as playwright:
        executable = next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)
        try:
            browser = playwright.chromium.launch(executable_path=executable)
        except Error as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise PdfError(
                f"cannot start Chromium ({reason}); install it with `apt-get install chromium` "
                "(Debian, Ubuntu) or `playwright install chromium`"
            ) from None
        try:
            yield browser
        finally:
            browser.close()


def _print_page(browser: Browser, site: Path, document: Document, cover: Cover) -> bytes:
    """Chromium's PDF of one document's page, landscape when a table or listing is too wide for portrait."""
    page = browser.new_page(viewport={"width": _PORTRAIT_WIDTH, "height": _A4_HEIGHT})
    try:
        page.goto((site / f"{document.docname}.html").as_uri())
        if document.approvals:
            page.evaluate(_APPEND, _approval_page(document))
        return _pdf(page, _header(document), _footer(document, cover))
    finally:
        page.close()


def _pdf(page: Any, header: str, footer: str) -> bytes:
    page.emulate_media(media="print")
    page.add_style_tag(path=str(PRINT_STYLESHEET))
    page.evaluate(_OPEN_DETAILS)
    landscape = bool(page.evaluate(_TOO_WIDE))
    data: bytes = page.pdf(
        format="A4",
        landscape=landscape,
        margin=_MARGINS,
        display_header_footer=True,
        header_template=header,
        footer_template=footer,
        print_background=True,
        outline=True,
        tagged=True,
    )
    return data


_APPEND = "html => document.querySelector('article').insertAdjacentHTML('beforeend', html)"


def _approval_page(document: Document) -> str:
    """The document's approvals on a page of their own: who, in which role, when, meaning what, of which content."""
    rows = "".join(
        f"<tr><td>{html.escape(approval.role)}</td><td>{html.escape(approval.name)}<br>"
        f"<small>{html.escape(approval.email)}</small></td><td>{html.escape(approval.at)}</td>"
        f"<td>{html.escape(approval.meaning)}</td><td>{html.escape(_signature(approval))}</td>"
        f"<td><code>{html.escape(approval.digest[:19])}</code></td></tr>"
        for approval in document.approvals
    )
    return (
        f'<section class="qms-pdf-approvals"><h2>Approvals of {html.escape(document.id)}</h2>'
        f"<p>{html.escape(document.revision)}, {html.escape(document.status)}; "
        f"content digest of this build <code>{html.escape(document.digest)}</code>.</p>"
        "<table><thead><tr><th>Role</th><th>Name</th><th>Date</th><th>Meaning</th><th>Signature</th>"
        f"<th>Digest approved</th></tr></thead><tbody>{rows}</tbody></table></section>"
    )


def _signature(approval: Approval) -> str:
    return f"signed: {approval.signer or 'key unknown'}" if approval.signed else "not signed"


_RUNNING = (
    '<div style="font-size:7.5pt;font-family:sans-serif;color:#444;width:100%;margin:0 14mm;'
    'display:flex;justify-content:space-between;gap:2em">{left}{right}</div>'
)


def _header(document: Document) -> str:
    return _RUNNING.format(
        left=f"<span>{html.escape(document.id)} {html.escape(document.title)}</span>",
        right=f"<span>{html.escape(document.revision)} · {html.escape(document.status)}</span>",
    )


def _footer(document: Document, cover: Cover) -> str:
    return _RUNNING.format(
        left=f"<span>{html.escape(cover.device_version)} · {html.escape(cover.manufacturer)}</span>",
        right=f'<span>{html.escape(document.id)} · page <span class="pageNumber"></span> '
        'of <span class="totalPages"></span></span>',
    )


# ------------------------------------------------------------------------------ cover and contents


def _print_front(browser: Browser, site: Path, documents: Sequence[Document], cover: Cover, counts: list[int]) -> bytes:
    """The cover and the contents, numbered for the bound file (printed again until the numbers settle)."""
    front_pages = 2
    for _ in range(4):
        starts, page_number = [], front_pages + 1
        for count in counts:
            starts.append(page_number)
            page_number += count
        source = site / "_qms-front.html"
        source.write_text(_front_html(documents, cover, starts), encoding="utf-8")
        page = browser.new_page(viewport={"width": _PORTRAIT_WIDTH, "height": _A4_HEIGHT})
        try:
            page.goto(source.as_uri())
            footer = _RUNNING.format(
                left=f"<span>{html.escape(cover.device_version)} · technical file</span>",
                right='<span>page <span class="pageNumber"></span> of <span class="totalPages"></span></span>',
            )
            data = _pdf(page, "<span></span>", footer)
        finally:
            page.close()
        printed = len(PdfReader(BytesIO(data)).pages)
        if printed == front_pages:
            return data
        front_pages = printed
    return data


def _front_html(documents: Sequence[Document], cover: Cover, starts: list[int]) -> str:
    facts = [
        ("Device", cover.device),
        ("Version", cover.version),
        ("Software safety class", f"{cover.safety_class} (IEC 62304)"),
        ("Manufacturer", cover.manufacturer),
        ("Date", (cover.date or "")[:10] or "not under version control"),
        ("Source", cover.source),
    ]
    rows = "".join(f"<tr><th>{html.escape(name)}</th><td>{html.escape(value)}</td></tr>" for name, value in facts)
    contents = "".join(
        f'<tr><td><a href="{html.escape(document.docname)}.html">{html.escape(document.id)}</a></td>'
        f'<td><a href="{html.escape(document.docname)}.html">{html.escape(document.title)}</a></td>'
        f"<td>{html.escape(document.revision)}</td><td>{html.escape(document.status)}</td>"
        f'<td class="qms-pdf-page">{start}</td></tr>'
        for document, start in zip(documents, starts, strict=True)
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(cover.device_version)} technical file</title>"
        '<link rel="stylesheet" href="_static/qms.css"></head><body>'
        '<section class="qms-pdf-cover">'
        f"<h1>{html.escape(cover.device)}</h1><p class='qms-pdf-subtitle'>Technical file</p>"
        f'<table class="qms-pdf-facts">{rows}</table></section>'
        '<section class="qms-pdf-contents"><h2>Contents</h2><table>'
        "<thead><tr><th>Document</th><th>Title</th><th>Revision</th><th>Status</th>"
        f'<th class="qms-pdf-page">Page</th></tr></thead><tbody>{contents}</tbody></table></section>'
        "</body></html>"
    )


# ------------------------------------------------------------------------------ links


@dataclass(frozen=True, slots=True)
class _Place:
    page: int  # index in its document
    left: float | None
    top: float | None


class _Links:
    """Where each link of the printed pages leads: a place in one of the documents, or nowhere in them."""

    def __init__(self, site_url: str, documents: Sequence[Document], readers: Mapping[str, PdfReader]) -> None:
        self.site_url = site_url
        self.documents = {document.docname: document for document in documents}
        self.places = {docname: _places(reader) for docname, reader in readers.items()}

    def target(self, annotation: DictionaryObject, docname: str) -> tuple[str, str] | Literal["keep", "drop"]:
        """(document, anchor) a link leads to; "keep" for one outside the site, "drop" for one into the build folder."""
        destination = annotation.get("/Dest")
        if isinstance(destination, str):
            return docname, destination.lstrip("/")
        action = annotation.get("/A")
        uri = action.get_object().get("/URI") if action is not None else None
        if uri is None:
            return "keep"
        uri = str(uri)
        if not uri.startswith(self.site_url):
            return "drop" if uri.startswith("file:") else "keep"
        path, _, fragment = uri[len(self.site_url) :].partition("#")
        path = path.partition("?")[0]
        target = path.removesuffix(".html")
        if not path.endswith(".html") or target not in self.documents:
            return "drop"
        return target, fragment

    def place(self, docname: str, anchor: str) -> _Place:
        return self.places[docname].get(anchor) or _Place(0, None, None)


def _places(reader: PdfReader) -> dict[str, _Place]:
    return {name.lstrip("/"): _place(reader, destination) for name, destination in reader.named_destinations.items()}


def _place(reader: PdfReader, destination: Destination) -> _Place:
    return _Place(
        reader.get_destination_page_number(destination) or 0,
        _number(destination.get("/Left")),
        _number(destination.get("/Top")),
    )


def _number(value: object) -> float | None:
    return None if value is None or isinstance(value, NullObject) else float(value)  # type: ignore[arg-type]


def _explicit(page: Any, place: _Place) -> ArrayObject:
    """A destination naming the page itself, which survives binding (names may collide between documents)."""
    return ArrayObject(
        [
            page.indirect_reference,
            NameObject("/XYZ"),
            _coordinate(place.left),
            _coordinate(place.top),
            NumberObject(0),
        ]
    )


def _coordinate(value: float | None) -> FloatObject | NullObject:
    return NullObject() if value is None else FloatObject(value)


def _retarget(writer: PdfWriter, pages: range, docname: str, links: _Links, lead: Any) -> None:
    """Point each link on ``pages`` where ``lead(document, anchor)`` says; drop those into the build folder."""
    for index in pages:
        page = writer.pages[index]
        annotations = page.get("/Annots")
        if annotations is None:
            continue
        kept = ArrayObject()
        for reference in annotations.get_object():
            annotation = reference.get_object()
            if annotation.get("/Subtype") != "/Link":
                kept.append(reference)
                continue
            target = links.target(annotation, docname)
            if target != "keep":
                for key in ("/A", "/Dest"):
                    annotation.pop(key, None)  # also where the tagged structure still refers to it
            if target == "drop":
                continue
            if isinstance(target, tuple):
                key, value = lead(*target)
                annotation[NameObject(key)] = value
            kept.append(reference)
        page[NameObject("/Annots")] = kept


# ------------------------------------------------------------------------------ the files


def _finish(document: Document, reader: PdfReader, links: _Links, cover: Cover) -> bytes:
    """One document's PDF: links to other documents open their PDFs beside it; metadata from the commit."""
    writer = PdfWriter(clone_from=reader)

    def lead(docname: str, anchor: str) -> tuple[str, object]:
        place = links.place(docname, anchor)
        if docname == document.docname:
            return "/Dest", _explicit(writer.pages[place.page], place)
        remote = ArrayObject([NumberObject(place.page), NameObject("/XYZ")])
        remote += [_coordinate(place.left), _coordinate(place.top), NumberObject(0)]
        action = DictionaryObject(
            {
                NameObject("/S"): NameObject("/GoToR"),
                NameObject("/F"): TextStringObject(links.documents[docname].file_name),
                NameObject("/D"): remote,
            }
        )
        return "/A", action

    _retarget(writer, range(len(writer.pages)), document.docname, links, lead)
    _number_structure(writer)
    writer.compress_identical_objects()  # also drops the links left behind, with their paths
    _describe(writer, f"{document.id} {document.title}", cover)
    return _bytes(writer)


def _bind(
    front: bytes, documents: Sequence[Document], readers: Mapping[str, PdfReader], links: _Links, cover: Cover
) -> bytes:
    """The technical file: cover and contents, then every document, with one bookmark tree and links between them."""
    writer = PdfWriter()
    front_reader = PdfReader(BytesIO(front))
    for page in front_reader.pages:
        writer.add_page(page)
    starts = {}
    for document in documents:
        starts[document.docname] = len(writer.pages)
        for page in readers[document.docname].pages:
            writer.add_page(page)

    def lead(docname: str, anchor: str) -> tuple[str, object]:
        place = links.place(docname, anchor)
        return "/Dest", _explicit(writer.pages[starts[docname] + place.page], place)

    _retarget(writer, range(len(front_reader.pages)), "", links, lead)
    for document in documents:
        first = starts[document.docname]
        _retarget(writer, range(first, first + len(readers[document.docname].pages)), document.docname, links, lead)

    writer.add_outline_item(title="Cover", page_number=0)
    writer.add_outline_item(title="Contents", page_number=min(1, len(front_reader.pages) - 1))
    for document in documents:
        reader = readers[document.docname]
        parent = writer.add_outline_item(title=f"{document.id} {document.title}", page_number=starts[document.docname])
        _copy_outline(writer, reader, _below_title(reader.outline), parent, starts[document.docname])
    _describe(writer, f"{cover.device_version} technical file", cover)
    writer.page_mode = "/UseOutlines"
    return _bytes(writer)


def _below_title(outline: list[Any]) -> list[Any]:
    """A document's headings without its one title heading (the document's own bookmark stands for it)."""
    if len(outline) == 2 and not isinstance(outline[0], list) and isinstance(outline[1], list):
        return list(outline[1])
    return outline


def _copy_outline(writer: PdfWriter, reader: PdfReader, entries: list[Any], parent: Any, offset: int) -> None:
    last = parent
    for entry in entries:
        if isinstance(entry, list):
            _copy_outline(writer, reader, entry, last, offset)
            continue
        place = _place(reader, entry)
        last = writer.add_outline_item(
            title=str(entry.title),
            page_number=offset + place.page,
            parent=parent,
            fit=Fit.xyz(place.left, place.top, 0),
        )


def _number_structure(writer: PdfWriter) -> None:
    """Chromium names the elements of its tagged structure by DOM node, which differ from run to run:
    number them in the order of the tree instead (and the table headers and the id tree naming them)."""
    root = writer.root_object.get("/StructTreeRoot")
    if root is None:
        return
    root = root.get_object()
    elements: list[DictionaryObject] = []
    pending = [root.get("/K")]
    while pending:
        node = pending.pop()
        node = node.get_object() if node is not None else None
        if isinstance(node, ArrayObject):
            pending.extend(reversed(node))
        elif isinstance(node, DictionaryObject) and node.get("/Type", "/StructElem") == "/StructElem":
            elements.append(node)
            pending.append(node.get("/K"))
    names: dict[str, TextStringObject] = {}
    for element in elements:
        if "/ID" in element:
            names[str(element["/ID"])] = TextStringObject(f"e{len(names) + 1:08d}")
            element[NameObject("/ID")] = names[str(element["/ID"])]
    for element in elements:
        for attributes in _attribute_sets(element.get("/A")):
            headers = attributes.get("/Headers")
            if isinstance(headers, ArrayObject):
                attributes[NameObject("/Headers")] = ArrayObject(names.get(str(name), name) for name in headers)
    tree = root.get("/IDTree")
    if tree is not None:
        _rename_tree(tree.get_object(), names)


def _rename_tree(tree: DictionaryObject, names: Mapping[str, TextStringObject]) -> None:
    """Rename the entries of a name tree in place (its nodes stay where they are: nothing old is left behind)."""
    leaves, pending = [], [tree]
    while pending:
        node = pending.pop()
        if "/Names" in node:
            leaves.append(node)
        pending.extend(kid.get_object() for kid in reversed(node.get("/Kids", ())))
    pairs = [(names.get(str(key), key), value) for leaf in leaves for key, value in _pairs(leaf["/Names"])]
    pairs.sort(key=lambda pair: str(pair[0]))
    for leaf in leaves:
        share = pairs[: len(_pairs(leaf["/Names"]))]
        pairs = pairs[len(share) :]
        leaf[NameObject("/Names")] = ArrayObject(value for pair in share for value in pair)
        if "/Limits" in leaf and share:
            leaf[NameObject("/Limits")] = ArrayObject([share[0][0], share[-1][0]])
    for node in [tree, *(kid.get_object() for kid in tree.get("/Kids", ()))]:
        kids = [kid.get_object() for kid in node.get("/Kids", ())]
        if "/Limits" in node and kids and all("/Limits" in kid for kid in kids):
            node[NameObject("/Limits")] = ArrayObject([kids[0]["/Limits"][0], kids[-1]["/Limits"][1]])


def _pairs(flat: Any) -> list[tuple[Any, Any]]:
    return [(flat[index], flat[index + 1]) for index in range(0, len(flat) - 1, 2)]


def _attribute_sets(attributes: object) -> list[DictionaryObject]:
    attributes = attributes.get_object() if hasattr(attributes, "get_object") else attributes
    if isinstance(attributes, DictionaryObject):
        return [attributes]
    if isinstance(attributes, ArrayObject):
        return [entry.get_object() for entry in attributes if isinstance(entry.get_object(), DictionaryObject)]
    return []


def _describe(writer: PdfWriter, title: str, cover: Cover) -> None:
    """The document information, dated by the commit (never by the clock)."""
    information = {
        "/Title": title,
        "/Author": cover.manufacturer,
        "/Subject": f"Technical file of {cover.device_version}, software safety class {cover.safety_class} "
        "(IEC 62304, ISO 14971, ISO 13485)",
        "/Creator": f"qms {__version__}",
        "/Producer": f"qms {__version__} (Chromium, pypdf)",
    }
    if cover.date:
        information["/CreationDate"] = information["/ModDate"] = _pdf_date(cover.date)
    writer.metadata = information
    writer.root_object.pop("/Metadata", None)  # Chromium's XMP packet carries the clock's time


def _pdf_date(iso: str) -> str:
    """``2026-12-02T23:16:52+00:00`` as a PDF date, ``D:20261202231652+00'00'``."""
    digits = "".join(character for character in iso[:19] if character.isdigit())
    zone = iso[19:]
    if len(zone) == 6:
        return f"D:{digits}{zone[0]}{zone[1:3]}'{zone[4:6]}'"
    return f"D:{digits}Z"


def _bytes(writer: PdfWriter) -> bytes:
    stream = BytesIO()
    writer.write(stream)
    return stream.getvalue()
