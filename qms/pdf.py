"""The technical file as PDF: each document of the built HTML site printed by Chromium, then bound.

The HTML site is the input, so the PDFs show what the site shows. Chromium (through Playwright)
lays the pages out, several documents at once; on the example it printed the documents eight
times faster than WeasyPrint. pikepdf (qpdf) then does what a browser does not: links between
documents, the bound file's cover, contents and bookmarks, its metadata, and dates fixed to the
commit, so the same commit gives the same bytes. (pypdf did this first, and took four times as
long as the printing itself on 1,000 items.)
"""

from __future__ import annotations

import asyncio
import html
import os
import shutil
import warnings
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pikepdf import (
    Array,
    Dictionary,
    Name,
    NameTree,
    Object,
    ObjectStreamMode,
    OutlineItem,
    Page,
    PageCopyWarning,
    Pdf,
    String,
)

from qms import __version__

if TYPE_CHECKING:
    from playwright.async_api import Browser, PdfMargins
    from playwright.async_api import Page as BrowserPage

    from qms.approvals import Approval

#: The stylesheet laid over the site's own when a page is printed.
PRINT_STYLESHEET = Path(__file__).resolve().parent / "static" / "print.css"

#: The bound file holding every document.
TECHNICAL_FILE = "technical-file.pdf"

#: Where Chromium is looked for before Playwright's own download.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")

_MARGINS: PdfMargins = {"top": "20mm", "bottom": "18mm", "left": "14mm", "right": "14mm"}
#: The width of an A4 portrait page between the margins, in CSS pixels (96 per inch).
_PORTRAIT_WIDTH = round((210 - 28) / 25.4 * 96)
_A4_HEIGHT = round(297 / 25.4 * 96)

#: Browser-side, before printing: collapsed parts open; whether a table or listing is too wide for
#: portrait; the shown headings of the document with the anchor each one's link points at (its
#: section's id: Chromium writes a destination for each element a link of the page points at).
_LAYOUT = """() => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  const headings = [...document.querySelectorAll('article :is(h1, h2, h3, h4, h5, h6)')]
    .filter(h => h.getClientRects().length)
    .map(h => {
      const copy = h.cloneNode(true);
      copy.querySelectorAll('.headerlink').forEach(link => link.remove());
      const link = h.querySelector('a.headerlink[href^="#"]');
      const anchor = link ? decodeURIComponent(link.hash.slice(1)) : h.id || h.parentElement.id;
      return [Number(h.tagName[1]), copy.textContent.replace(/\\s+/g, ' ').trim(), anchor];
    });
  const wide = [...document.querySelectorAll('article table, article pre')].some(e =>
    e.scrollWidth > e.parentElement.clientWidth + 1 || e.getBoundingClientRect().right > innerWidth + 1);
  return {wide, headings};
}"""


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
    printed, front = asyncio.run(_print_all(site, documents, cover))
    opened = {docname: Pdf.open(BytesIO(page.data)) for docname, page in printed.items()}
    links = _Links(site_url, documents, opened)
    output.mkdir(parents=True, exist_ok=True)
    written = []
    for document in documents:
        path = output / document.file_name
        path.write_bytes(_finish(document, printed[document.docname], links, cover))
        written.append(path)
    bound = output / TECHNICAL_FILE
    bound.write_bytes(_bind(front, documents, printed, links, cover))
    written.append(bound)
    return written


#: Documents printed at once: Chromium lays out each page in a process of its own.
PARALLEL = max(1, min(4, os.cpu_count() or 1))


async def _print_all(site: Path, documents: Sequence[Document], cover: Cover) -> tuple[dict[str, _Printed], bytes]:
    """Every document's PDF as Chromium prints it (several at once, the longest first), then the front matter."""
    slots = asyncio.Semaphore(PARALLEL)

    async def one(document: Document) -> tuple[str, _Printed]:
        async with slots:
            page = await _new_page(browser, site / f"{document.docname}.html")
            try:
                if document.approvals:
                    await page.evaluate(_APPEND, _approval_page(document))
                return document.docname, await _pdf(page, _header(document), _footer(document, cover))
            finally:
                await page.close()

    longest_first = sorted(documents, key=lambda document: -_size(site / f"{document.docname}.html"))
    async with _browser() as browser:
        printed = dict(await asyncio.gather(*(one(document) for document in longest_first)))
        counts = [len(Pdf.open(BytesIO(printed[document.docname].data)).pages) for document in documents]
        front = await _print_front(browser, site, documents, cover, counts)
    return printed, front


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


@asynccontextmanager
async def _browser() -> AsyncIterator[Browser]:
    try:
        from playwright.async_api import Error, async_playwright
    except ImportError:
        raise PdfError("the PDF build needs Playwright: pip install 'qms[pdf]'") from None
    async with async_playwright() as playwright:
        executable = next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)
        try:
            browser = await playwright.chromium.launch(executable_path=executable)
        except Error as error:
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise PdfError(
                f"cannot start Chromium ({reason}); install it with `apt-get install chromium` "
                "(Debian, Ubuntu) or `playwright install chromium`"
            ) from None
        try:
            yield browser
        finally:
            await browser.close()


async def _new_page(browser: Browser, source: Path) -> BrowserPage:
    """A page showing ``source`` as printed: print media from the start, scripts off, the print stylesheet.

    The site's scripts only make the screen interactive (filters, folds, the item index, all hidden in
    print): without them a long page is not rebuilt and laid out again before printing.
    """
    page = await browser.new_page(viewport={"width": _PORTRAIT_WIDTH, "height": _A4_HEIGHT}, java_script_enabled=False)
    await page.emulate_media(media="print")
    await page.goto(source.as_uri())
    await page.evaluate(_STYLE, PRINT_STYLESHEET.read_text(encoding="utf-8"))
    return page


@dataclass(frozen=True, slots=True)
class _Heading:
    """A heading of a printed page: its level, its text, and the anchor its bookmark leads to."""

    level: int
    title: str
    anchor: str


@dataclass(frozen=True, slots=True)
class _Printed:
    """One page as Chromium printed it, and its headings (Chromium's own outline needs a tagged PDF, which
    took a third of the printing time and doubled the files)."""

    data: bytes
    headings: tuple[_Heading, ...]


async def _pdf(page: BrowserPage, header: str, footer: str) -> _Printed:
    layout = await page.evaluate(_LAYOUT)
    return _Printed(
        await page.pdf(
            format="A4",
            landscape=bool(layout["wide"]),
            margin=_MARGINS,
            display_header_footer=True,
            header_template=header,
            footer_template=footer,
            print_background=True,
        ),
        tuple(_Heading(int(level), str(title), str(anchor)) for level, title, anchor in layout["headings"]),
    )


#: The print stylesheet after the site's own (Playwright's add_style_tag waits on a page script).
_STYLE = "css => document.head.append(Object.assign(document.createElement('style'), {textContent: css}))"
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


async def _print_front(
    browser: Browser, site: Path, documents: Sequence[Document], cover: Cover, counts: list[int]
) -> bytes:
    """The cover and the contents, numbered for the bound file (printed again until the numbers settle)."""
    front_pages = 2
    for _ in range(4):
        starts, page_number = [], front_pages + 1
        for count in counts:
            starts.append(page_number)
            page_number += count
        source = site / "_qms-front.html"
        source.write_text(_front_html(documents, cover, starts), encoding="utf-8")
        page = await _new_page(browser, source)
        try:
            footer = _RUNNING.format(
                left=f"<span>{html.escape(cover.device_version)} · technical file</span>",
                right='<span>page <span class="pageNumber"></span> of <span class="totalPages"></span></span>',
            )
            data = (await _pdf(page, "<span></span>", footer)).data
        finally:
            await page.close()
        printed = len(Pdf.open(BytesIO(data)).pages)
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

    def __init__(self, site_url: str, documents: Sequence[Document], printed: Mapping[str, Pdf]) -> None:
        self.site_url = site_url
        self.documents = {document.docname: document for document in documents}
        self.places = {docname: _places(pdf) for docname, pdf in printed.items()}

    def target(self, annotation: Any, docname: str) -> tuple[str, str] | Literal["keep", "drop"]:
        """(document, anchor) a link leads to; "keep" for one outside the site, "drop" for one into the build folder."""
        destination = annotation.get("/Dest")
        if isinstance(destination, (Name, String)):
            return docname, str(destination).lstrip("/")
        action = annotation.get("/A")
        link = action.get("/URI") if isinstance(action, Dictionary) else None
        if link is None:
            return "keep"
        uri = str(link)
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


def _page_numbers(pdf: Pdf) -> dict[tuple[int, int], int]:
    """Each page object's number in ``pdf``, by object id."""
    return {page.obj.objgen: index for index, page in enumerate(pdf.pages)}


def _places(pdf: Pdf) -> dict[str, _Place]:
    """The named destinations Chromium writes for the page's anchors (a /Dests dictionary or a name tree)."""
    numbers = _page_numbers(pdf)
    named: dict[str, Any] = {}
    dests = pdf.Root.get("/Dests")
    if isinstance(dests, Dictionary):
        named.update((key.lstrip("/"), value) for key, value in dests.items())
    names = pdf.Root.get("/Names")
    if isinstance(names, Dictionary) and isinstance(names.get("/Dests"), Dictionary):
        named.update((str(key), value) for key, value in NameTree(names.Dests).items())
    return {name: _place(destination, numbers) for name, destination in named.items()}


def _place(destination: Any, numbers: Mapping[tuple[int, int], int]) -> _Place:
    if isinstance(destination, Dictionary):
        destination = destination.get("/D")
    if not isinstance(destination, Array) or len(destination) < 1:
        return _Place(0, None, None)
    page = destination[0]
    index = numbers.get(page.objgen, 0) if isinstance(page, Dictionary) else int(page) if isinstance(page, int) else 0
    return _Place(index, _number(destination, 2), _number(destination, 3))


def _number(destination: Array, index: int) -> float | None:
    if len(destination) <= index or not isinstance(destination[index], (int, Decimal)):
        return None
    return float(destination[index])


def _coordinate(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(repr(value))


def _explicit(page: Page, place: _Place) -> Array:
    """A destination naming the page itself, which survives binding (names may collide between documents)."""
    return Array([page.obj, Name.XYZ, _coordinate(place.left), _coordinate(place.top), 0])


def _retarget(pdf: Pdf, pages: range, docname: str, links: _Links, lead: Any) -> None:
    """Point each link on ``pages`` where ``lead(document, anchor)`` says; drop those into the build folder."""
    for index in pages:
        page = pdf.pages[index]
        annotations = page.obj.get("/Annots")
        if not isinstance(annotations, Array):
            continue
        kept = Array()
        for annotation in annotations:
            if annotation.get("/Subtype") != Name.Link:
                kept.append(annotation)
                continue
            target = links.target(annotation, docname)
            if target != "keep":
                for key in ("/A", "/Dest"):
                    if key in annotation:
                        del annotation[key]
            if target == "drop":
                continue
            if isinstance(target, tuple):
                key, value = lead(*target)
                annotation[key] = value
            kept.append(annotation)
        page.obj.Annots = kept


# ------------------------------------------------------------------------------ the files


def _finish(document: Document, printed: _Printed, links: _Links, cover: Cover) -> bytes:
    """One document's PDF: its headings as bookmarks, links to other documents open their PDFs beside it,
    metadata from the commit."""
    pdf = Pdf.open(BytesIO(printed.data))

    def lead(docname: str, anchor: str) -> tuple[str, Object]:
        place = links.place(docname, anchor)
        if docname == document.docname:
            return "/Dest", _explicit(pdf.pages[place.page], place)
        remote = Array([place.page, Name.XYZ, _coordinate(place.left), _coordinate(place.top), 0])
        action = Dictionary(S=Name.GoToR, F=String(links.documents[docname].file_name), D=remote)
        return "/A", action

    _retarget(pdf, range(len(pdf.pages)), document.docname, links, lead)
    with pdf.open_outline() as outline:
        outline.root.extend(_bookmarks(printed.headings, links.places[document.docname], 0))
    _describe(pdf, f"{document.id} {document.title}", cover)
    return _bytes(pdf)


def _bind(
    front: bytes, documents: Sequence[Document], printed: Mapping[str, _Printed], links: _Links, cover: Cover
) -> bytes:
    """The technical file: cover and contents, then every document, with one bookmark tree and links between them."""
    bound = Pdf.open(BytesIO(front))
    front_pages = len(bound.pages)
    starts, sources = {}, {}
    for document in documents:
        source = sources[document.docname] = Pdf.open(BytesIO(printed[document.docname].data))
        starts[document.docname] = len(bound.pages)
        with warnings.catch_warnings():
            # pikepdf warns that named destinations are not carried over: every link is made explicit below.
            warnings.simplefilter("ignore", PageCopyWarning)
            bound.pages.extend(source.pages)

    def lead(docname: str, anchor: str) -> tuple[str, Object]:
        place = links.place(docname, anchor)
        return "/Dest", _explicit(bound.pages[starts[docname] + place.page], place)

    _retarget(bound, range(front_pages), "", links, lead)
    for document in documents:
        first = starts[document.docname]
        _retarget(bound, range(first, first + len(sources[document.docname].pages)), document.docname, links, lead)

    for key in ("/Dests", "/Names", "/StructTreeRoot", "/MarkInfo"):
        if key in bound.Root:
            del bound.Root[key]  # the cover's own: the documents' anchors are explicit destinations now
    with bound.open_outline() as outline:
        outline.root.clear()
        outline.root.append(OutlineItem("Cover", 0))
        outline.root.append(OutlineItem("Contents", min(1, front_pages - 1)))
        for document in documents:
            entry = OutlineItem(f"{document.id} {document.title}", starts[document.docname])
            headings = printed[document.docname].headings
            places = links.places[document.docname]
            entry.children.extend(_below_title(_bookmarks(headings, places, starts[document.docname])))
            outline.root.append(entry)
    bound.Root.PageMode = Name.UseOutlines
    _describe(bound, f"{cover.device_version} technical file", cover)
    return _bytes(bound)


def _below_title(entries: list[OutlineItem]) -> list[OutlineItem]:
    """A document's headings without its one title heading (the document's own bookmark stands for it)."""
    if len(entries) == 1 and entries[0].children:
        return list(entries[0].children)
    return entries


def _bookmarks(headings: Sequence[_Heading], places: Mapping[str, _Place], offset: int) -> list[OutlineItem]:
    """The headings of a printed page as a bookmark tree (nested by level), each opening its anchor's place
    ``offset`` pages on (a heading whose anchor has no place opens the previous heading's)."""
    roots: list[OutlineItem] = []
    ancestors: list[tuple[int, OutlineItem]] = []
    place = _Place(0, None, None)
    for heading in headings:
        place = places.get(heading.anchor, place)
        item = OutlineItem(heading.title, offset + place.page, "XYZ", left=place.left, top=place.top, zoom=0)
        while ancestors and ancestors[-1][0] >= heading.level:
            ancestors.pop()
        (ancestors[-1][1].children if ancestors else roots).append(item)
        ancestors.append((heading.level, item))
    return roots


def _describe(pdf: Pdf, title: str, cover: Cover) -> None:
    """The document information, dated by the commit (never by the clock)."""
    information = {
        "/Title": title,
        "/Author": cover.manufacturer,
        "/Subject": f"Technical file of {cover.device_version}, software safety class {cover.safety_class} "
        "(IEC 62304, ISO 14971, ISO 13485)",
        "/Creator": f"qms {__version__}",
        "/Producer": f"qms {__version__} (Chromium, pikepdf)",
    }
    if cover.date:
        information["/CreationDate"] = information["/ModDate"] = _pdf_date(cover.date)
    for key in list(pdf.docinfo.keys()):
        del pdf.docinfo[key]
    for key, value in information.items():
        pdf.docinfo[key] = String(value)
    if "/Metadata" in pdf.Root:
        del pdf.Root.Metadata  # Chromium's XMP packet carries the clock's time


def _pdf_date(iso: str) -> str:
    """``2026-12-02T23:16:52+00:00`` as a PDF date, ``D:20261202231652+00'00'``."""
    digits = "".join(character for character in iso[:19] if character.isdigit())
    zone = iso[19:]
    if len(zone) == 6:
        return f"D:{digits}{zone[0]}{zone[1:3]}'{zone[4:6]}'"
    return f"D:{digits}Z"


def _bytes(pdf: Pdf) -> bytes:
    """The file as written: only what is still referenced, streams compressed, the id derived from the content."""
    stream = BytesIO()
    pdf.save(
        stream,
        deterministic_id=True,
        compress_streams=True,
        object_stream_mode=ObjectStreamMode.generate,
    )
    return stream.getvalue()
