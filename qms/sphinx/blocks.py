"""Item blocks, tables and summaries: unfilled while pages are read, filled when each page is written.

"Collect, then resolve": a directive leaves a :class:`qms_block` holding its query (and, for an
item, its text already parsed safely); once every page has been read, and so every item's page
is known, :func:`resolve_block` turns it into HTML for HTML builders, or into docutils nodes for
any other builder (LaTeX, text...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from docutils import nodes

from qms.sphinx import html, render
from qms.sphinx.audit import audit_html
from qms.sphinx.docutils_writers import audit_nodes
from qms.sphinx.downloads import Download
from qms.sphinx.html import P, esc
from qms.sphinx.links import Links
from qms.sphinx.safe_rst import TEXT_CLASS, is_safe_uri, prose, prose_paragraphs
from qms.sphinx.views.build import BuildData, Query
from qms.sphinx.views.cells import (
    Badge,
    Cell,
    FileLink,
    Gap,
    ItemRef,
    Items,
    Join,
    Lines,
    Literal,
    Muted,
    Status,
    Table,
    Text,
)
from qms.sphinx.views.items import (
    AnomaliesValue,
    ControlView,
    FieldEntry,
    FindingView,
    ItemView,
    ListValue,
    PlainValue,
    Relation,
    RiskValue,
    StepsValue,
    TextValue,
    UrlValue,
    Verification,
    body_key,
    field_key,
    shown_value,
)
from qms.status import said_beside

#: Makes a table from its query's data (and whether it is interactive); registered per block kind.
TableShape = Callable[[Any, bool], Table]


@dataclass(frozen=True, slots=True)
class BlockWriter:
    """Writes a block that is more than one table (a heat map, a sentence and its table): its HTML for
    HTML builders, its nodes (links resolved) for any other; from its query's data and the unfilled
    block (for its options). Registered per block kind beside the table shapes."""

    write_html: Callable[[Links, Any, qms_block], str]
    write_nodes: Callable[[Links, Any, qms_block], list[nodes.Node]]


#: How each kind of block is written: as one table (its shape), or by a writer of its own.
Shapes = Mapping[str, TableShape | BlockWriter]


class qms_block(nodes.General, nodes.Element):
    """Placeholder for an item block or a table, filled when its page is written."""


class qms_raw(nodes.raw):
    """HTML that qms wrote, never parsed from a source, so free of docutils' escape marks: its text
    is handed back as it is. Docutils' own ``astext`` copies a raw node's text three times to take
    those marks out (some 4 ms for each 2 MB), for every translator and store that reads it: the
    tables of a long document are read two or three times each time their page is written."""

    def astext(self) -> str:
        text = self.children[0] if len(self.children) == 1 else None
        if isinstance(text, nodes.Text) and "\x00" not in text:
            return str(text)
        return super().astext()


class qms_html(qms_raw):
    """A fragment of HTML left out of the search index (links and badges repeat other pages' words).

    Unlike ``raw`` with a class, it is written without a wrapping ``div``, so fragments may
    open and close elements around parsed item text.
    """


def visit_qms_html(translator: Any, node: qms_html) -> None:
    translator.body.append(node.astext())
    raise nodes.SkipNode


def block(kind: str, query: Query, **attributes: Any) -> qms_block:
    node = qms_block(block=kind, query=list(query), **attributes)
    return node


# ------------------------------------------------------------------------------ tables


def table_html(links: Links, spec: Table) -> str:
    table = html.table_html(
        links, spec.headers, spec.rows, classes=spec.classes, widths=spec.widths, caption=spec.caption
    )
    if spec.interactive:
        table = f'<div class="{P}-interactive">{table}</div>'
    if spec.note:
        table += f'<p class="{P}-table-note">{esc(spec.note)}</p>'
    before = "".join(f"<p>{html.cell_html(links, cell)}</p>" for cell in spec.before)
    after = "".join(f"<p>{html.cell_html(links, cell)}</p>" for cell in spec.after)
    return before + table + after


def table_nodes(links: Links, spec: Table) -> list[nodes.Node]:
    node = render.table(
        spec.headers, spec.rows, classes=spec.classes, widths=spec.widths, links=links, caption=spec.caption
    )
    result: list[nodes.Node] = [render.paragraph(*render.cell_nodes(cell, links)) for cell in spec.before]
    result.append(node)
    if spec.note:
        result.append(render.paragraph(spec.note, classes=[f"{P}-table-note"]))
    result += [render.paragraph(*render.cell_nodes(cell, links)) for cell in spec.after]
    return result


# ------------------------------------------------------------------------------ items


class _Fragments:
    """HTML strings and docutils nodes in reading order, for a block that embeds parsed text.

    HTML marked ``searchable`` (an item's heading and plain text) goes into the search index;
    the rest (badges, links, tables of links) repeats words of other items and does not.
    """

    def __init__(self) -> None:
        self.out: list[nodes.Node] = []
        self.pending: list[str] = []
        self.searchable = False

    def html(self, text: str, *, searchable: bool = False) -> None:
        if self.pending and searchable != self.searchable:
            self.flush()
        self.searchable = searchable
        self.pending.append(text)

    def node(self, node: nodes.Node) -> None:
        self.flush()
        self.out.append(node)

    def text(self, texts: dict[str, nodes.Element], key: str, value: str) -> None:
        """Item text: its parsed nodes, or (plain prose, never parsed) its paragraphs."""
        if key in texts:
            self.node(texts[key])
        else:
            paragraphs = "".join(f"<p>{esc(paragraph)}</p>" for paragraph in prose_paragraphs(value))
            self.html(f'<div class="{TEXT_CLASS} docutils container">{paragraphs}</div>', searchable=True)

    def flush(self) -> None:
        if self.pending:
            text = "".join(self.pending)
            self.out.append(
                qms_raw("", text, format="html")
                if self.searchable
                else qms_html("", text, format="html", classes=["no-search"])
            )
            self.pending = []

    def nodes(self) -> list[nodes.Node]:
        self.flush()
        return self.out


def block_texts(unfilled_block: qms_block) -> dict[str, nodes.Element]:
    """The parsed item text the unfilled block carries, by key (``body-0``, ``field-2-0``...)."""
    return {
        child["key"]: child for child in unfilled_block.children if isinstance(child, nodes.Element) and "key" in child
    }


def heading_level(unfilled_block: qms_block) -> int:
    depth, parent = 1, unfilled_block.parent
    while parent is not None:
        if isinstance(parent, nodes.section):
            depth += 1
        parent = parent.parent
    return min(max(depth, 2), 6)


def item_html(links: Links, view: ItemView, unfilled_block: qms_block, matrix: str | None) -> list[nodes.Node]:
    """An item's block as HTML around its parsed text."""
    texts = block_texts(unfilled_block)
    out = _Fragments()
    item_id = view.id
    open_class = f" {P}-item-open" if view.findings else ""
    level = heading_level(unfilled_block)
    out.html(f'<section class="{P}-item {P}-kind-{esc(view.kind)}{open_class}" id="{esc(item_id)}">')
    out.html(
        f'<h{level} class="{P}-item-title"><span class="{P}-id">{esc(item_id)}</span> {esc(view.title)}'
        f'<a class="headerlink" href="#{esc(item_id)}" title="Link to this item">¶</a></h{level}>',
        searchable=True,
    )
    badges = "".join(html.badge(badge.text, badge.style) for badge in view.badges)
    if view.status is not None:
        badges += html.status(item_id, view.status, f"verification: {view.status}")
    out.html(f'<p class="{P}-badges">{badges}</p>')
    for index, text in enumerate(view.body):
        out.text(texts, body_key(index), text.text)
    if view.fields or view.verification or view.controls:
        out.html(f'<dl class="field-list simple {P}-fields">')
        for index, entry in enumerate(view.fields):
            out.html(f'<dt>{esc(entry.label)}<span class="colon">:</span></dt><dd>')
            _field_html(out, links, entry, texts, index)
            out.html("</dd>")
        if view.controls:
            controls = table_html(links, _controls_table(view.controls))
            out.html(f'<dt>{CONTROLS_LABEL}<span class="colon">:</span></dt><dd>{controls}</dd>')
        if view.verification:
            result = _result_html(links, item_id, view.kind, view.verification)
            out.html(f'<dt>Verification<span class="colon">:</span></dt><dd>{result}</dd>')
        out.html("</dl>")
    out.html(_trace_html(links, view.relations))
    if view.findings:
        out.html(_findings_html(view.findings))
    out.html(audit_html(view.audit))
    source = f"{view.file}, line {view.line}" if view.line else view.file
    footer = f'<p class="{P}-source">Source: <code class="docutils literal notranslate">{esc(source)}</code>'
    if matrix is not None:
        href = f"{matrix}?filter={item_id}"
        footer += f' · <a class="{P}-matrix-link" href="{esc(href)}">Show in the traceability matrix</a>'
    out.html(footer + "</p></section>")
    return out.nodes()


def _field_html(out: _Fragments, links: Links, entry: FieldEntry, texts: dict[str, nodes.Element], index: int) -> None:
    match entry.value:
        case TextValue(value):
            out.text(texts, field_key(index, 0), value)
        case StepsValue(steps):
            out.html('<ol class="arabic simple">')
            for position, step in enumerate(steps):
                out.html("<li>")
                out.text(texts, field_key(index, position), step.text)
                out.html("</li>")
            out.html("</ol>")
        case AnomaliesValue(reviews):
            if not reviews:
                out.html("<p>none published for this version</p>")
                return
            out.html(
                f'<div class="table-wrapper"><table class="docutils align-default {P}-table {P}-anomalies">'
                '<thead><tr><th class="head"><p>Anomaly</p></th><th class="head"><p>Evaluation</p></th></tr></thead>'
                "<tbody>"
            )
            for row, review in enumerate(reviews):
                out.html(f"<tr><td><p>{esc(review.reference)}</p></td><td>")
                out.text(texts, field_key(index, row), review.evaluation.text)
                out.html("</td></tr>")
            out.html("</tbody></table></div>")
        case ListValue(values):
            out.html(f"<p>{esc(', '.join(values))}</p>")
        case RiskValue(None):
            out.html("<p>not evaluated</p>")
        case RiskValue(risk) if risk is not None:
            text = f"severity {risk.severity}, probability {risk.probability}: "
            out.html(f"<p>{esc(text)}{html.risk(risk.risk_class, risk.risk_class + ' ' + risk.label)}</p>")
        case UrlValue(url) if is_safe_uri(url):
            out.html(f'<p><a class="reference external" href="{esc(url)}">{esc(url)}</a></p>')
        case UrlValue(text) | PlainValue(text):
            out.html(f"<p>{esc(text)}</p>")


def _result_html(links: Links, item_id: str, kind: str, verification: Verification) -> str:
    """An item's status, why it is not passed, and every result and record behind it."""
    status = verification.status
    lines = [f"<p>{html.status(item_id, status)}</p>"]
    if status != "passed" and verification.reasons:
        lines.append(f'<p class="{P}-failure">{esc("; ".join(verification.reasons))}</p>')
    if not verification.results:
        return "".join(lines)
    rows: list[tuple[Cell, ...]] = []
    for result in verification.results:
        source = FileLink(result.download, result.source) if result.download else Literal(result.source)
        where: tuple[Cell, ...] = (source,)
        if result.uncommitted:
            where += (Text(" "), Badge("uncommitted file", "severity-warning"))
        ran: tuple[Cell, ...] = (Text(result.at or "time unknown"),)
        if result.note:
            ran += (Muted(result.note),)
        version = " ".join(part for part in (result.version, result.commit) if part) or "not recorded"
        outcome: tuple[Cell, ...] = (Badge(result.outcome, f"result-{result.outcome}"),)
        if result.stale:
            outcome += (Muted(f"stale: ran before {result.stale}"),)
        if result.message:
            outcome += (Muted(result.message),)
        if result.deviations:
            outcome += (Join((Badge("deviations", "severity-warning"), Text(f" {result.deviations}"))),)
        if result.anomalies:
            raised: list[Cell] = [Muted("raised ")]
            for position, anomaly in enumerate(result.anomalies):
                raised += [Text(", ")] if position else []
                raised.append(ItemRef(anomaly, "", with_title=False))
            outcome += (Join(tuple(raised)),)
        rows.append(
            (
                ItemRef(result.test, "", with_title=False)
                if result.test != item_id
                else Muted("this test" if kind == "test" else "names it directly"),
                Lines((Literal(result.case), Muted("execution record" if result.record else "test case"))),
                Lines((Join(where),)),
                Lines(ran),
                Text(version),
                Text(result.by or "not recorded"),
                Lines(outcome),
            )
        )
    headers = ["Test", "Result", "File", "Ran", "Version", "Executed by", "Outcome"]
    lines.append(html.table_html(links, headers, rows, classes=[f"{P}-provenance"], widths=[2, 4, 3, 3, 2, 2, 2]))
    return "".join(lines)


#: The label of a hazard's risk controls in its block.
CONTROLS_LABEL = "Risk controls"


def _controls_table(controls: tuple[ControlView, ...]) -> Table:
    """A hazard's controls: each with its verification status and its tests with theirs, in one table."""
    rows = [
        (
            ItemRef(control.id, control.title),
            Status(control.id, control.status) if control.status else Muted("no verification status"),
            Items(control.tests) if control.tests else Gap(),
        )
        for control in controls
    ]
    headers = ["Control", "Verification", "Tests and their results"]
    return Table(headers, rows, classes=[f"{P}-controls"], widths=[4, 2, 4])


def _trace_html(links: Links, relations: tuple[Relation, ...]) -> str:
    if not relations:
        return f'<p class="{P}-trace-none">No links to or from other items.</p>'
    rows: list[tuple[Cell, ...]] = [
        (Text(f"{'↑' if relation.upward else '↓'} {relation.label}"), Items(relation.items)) for relation in relations
    ]
    return html.table_html(links, ["Link", "Items"], rows, classes=[f"{P}-trace"], widths=[1, 4])


def _findings_html(findings: tuple[FindingView, ...]) -> str:
    lines = []
    for finding in findings:
        lines.append(
            f"<li><p><strong>{esc(finding.rule)}</strong> {esc(finding.severity)}: {esc(finding.message)} "
            f'<code class="docutils literal notranslate">{esc(finding.location)}</code></p></li>'
        )
    return (
        f'<div class="admonition warning {P}-findings"><p class="admonition-title">Open findings</p>'
        f'<ul class="simple">{"".join(lines)}</ul></div>'
    )


def _text_nodes(texts: dict[str, nodes.Element], key: str, value: str) -> nodes.Element:
    if key in texts:
        return texts[key]
    container = nodes.container(classes=[TEXT_CLASS])
    container.extend(prose(value))
    return container


def item_nodes(links: Links, view: ItemView, unfilled_block: qms_block) -> list[nodes.Node]:
    """An item's block as docutils nodes, for builders other than HTML."""
    texts = block_texts(unfilled_block)
    box = nodes.container(classes=[f"{P}-item"])
    box += nodes.target("", "", ids=[view.id])  # a container's ids are no link target in LaTeX
    heading = nodes.rubric("", "", classes=[f"{P}-item-title"])
    heading += nodes.strong(view.id, view.id)
    heading += nodes.Text(f" {view.title}")
    box += heading
    badges = render.paragraph(", ".join(badge.text for badge in view.badges), classes=[f"{P}-badges"])
    if view.status is not None:
        badges += nodes.Text(", ")
        badges += render.status_badge(view.id, view.status, f"verification: {view.status}")
    box += badges
    for index, text in enumerate(view.body):
        box += _text_nodes(texts, body_key(index), text.text)
    field_list = nodes.field_list()
    for index, entry in enumerate(view.fields):
        body: list[nodes.Node]
        match entry.value:
            case TextValue(value):
                body = [_text_nodes(texts, field_key(index, 0), value)]
            case StepsValue(steps):
                body = [_text_nodes(texts, field_key(index, sub), step.text) for sub, step in enumerate(steps)]
            case AnomaliesValue(reviews):
                body = [
                    _text_nodes(texts, field_key(index, sub), review.evaluation.text)
                    for sub, review in enumerate(reviews)
                ]
            case ListValue() | UrlValue() | PlainValue() | RiskValue():
                body = [render.paragraph(shown_value(entry.value))]
        field_list += render.field(entry.label, body)
    if view.controls:
        field_list += render.field(CONTROLS_LABEL, table_nodes(links, _controls_table(view.controls)))
    for relation in view.relations:
        line = nodes.paragraph()
        for position, listed in enumerate(relation.items):
            if position:
                line += nodes.Text(", ")
            line.extend(render.cell_nodes(ItemRef(listed.id, listed.title), links))
            if listed.status is not None:
                line += nodes.Text(" ")
                line += render.status_badge(listed.id, listed.status)
        field_list += render.field(relation.label, [line])
    box += field_list
    for result in view.verification.results if view.verification else ():
        kind = "record" if result.record else "test case"
        facts = ", ".join(
            part
            for part in (
                result.source + (" (uncommitted file)" if result.uncommitted else ""),
                result.at,
                result.version,
                result.by,
            )
            if part
        )
        said = said_beside(result.deviations, result.anomalies)
        box += render.paragraph(f"{result.test}: {kind} {result.case} ({facts}): {result.outcome}{said}")
    for finding in view.findings:
        box += render.paragraph(
            f"{finding.rule} {finding.severity}: {finding.message} ({finding.location})", classes=[f"{P}-failure"]
        )
    box.extend(audit_nodes(view.audit))
    return [box]


def downloads_html(links: Links, view: tuple[Download, ...]) -> list[nodes.Node]:
    """Links to the site's downloadable files (HTML builders only: other outputs have no files)."""
    entries = "".join(
        f'<li><a class="reference download" href="{esc(links.file(file.path))}" download>{esc(file.label)}</a>'
        f' <span class="{P}-muted">{esc(file.description)}</span></li>'
        for file in view
    )
    return [qms_html("", f'<ul class="{P}-downloads">{entries}</ul>', format="html", classes=["no-search"])]


#: Makes anchored tables from a query's data: (anchor, table) pairs, for blocks of several tables.
AnchoredTables = Callable[[Any], list[tuple[str, Table]]]


def anchored_tables(links: Links, tables: list[tuple[str, Table]], as_html: bool) -> list[nodes.Node]:
    """Tables each under its own anchor (``page.html#anchor`` links to exactly that table)."""
    result: list[nodes.Node] = []
    for anchor, spec in tables:
        if as_html:
            wrapper = _wrapped(f'<div id="{esc(anchor)}" class="{P}-anchored">{table_html(links, spec)}</div>')
        else:
            wrapper = nodes.container()
            rendered = table_nodes(links, spec)
            cast(nodes.table, rendered[0])["ids"].append(anchor)  # LaTeX labels tables, not containers
            wrapper.extend(rendered)
        result.append(wrapper)
    return result


def resolve_block(
    unfilled_block: qms_block,
    data: BuildData,
    links: Links,
    shapes: Shapes,
    matrix: str | None,
    anchored: dict[str, AnchoredTables] | None = None,
) -> list[nodes.Node]:
    """The content replacing an unfilled block on the page being written."""
    view = data.answer(tuple(unfilled_block["query"]))
    as_html = links.builder.format == "html"
    if unfilled_block["block"] == "downloads":
        return downloads_html(links, view) if as_html else []
    if anchored and unfilled_block["block"] in anchored:
        return anchored_tables(links, anchored[unfilled_block["block"]](view), as_html)
    if unfilled_block["block"] == "item":
        if view is None:
            return []
        return item_html(links, view, unfilled_block, matrix) if as_html else item_nodes(links, view, unfilled_block)
    shape = shapes[unfilled_block["block"]]
    if isinstance(shape, BlockWriter):
        if as_html:
            return [_wrapped(shape.write_html(links, view, unfilled_block))]
        return shape.write_nodes(links, view, unfilled_block)
    spec = shape(view, unfilled_block.get("interactive", True))
    return [_wrapped(table_html(links, spec))] if as_html else table_nodes(links, spec)


def _wrapped(block_html: str) -> nodes.container:
    """A block's HTML in its wrapper, left out of the search index: its rows and counts repeat what
    the items say."""
    wrapper = nodes.container(classes=["no-search", f"{P}-block"])
    wrapper += qms_raw("", block_html, format="html")
    return wrapper
