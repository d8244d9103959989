"""The directives users (and the document templates) put in pages.

Each asks one query (:mod:`qms.sphinx.queries`) and notes the query and the digest of its answer on
the page, so a rebuild reads the page again only when that answer changed. Item blocks, tables
and the summaries one edit often changes (heat maps, risk classes, control types, findings) leave
an unfilled block (:mod:`qms.sphinx.blocks`) filled when the page is written, and note what
reading the page took of the answer (:attr:`~qms.sphinx.views.build.QuerySpec.read`); other small
summaries are rendered right away with :mod:`qms.sphinx.render`. Item text is parsed by
:mod:`qms.sphinx.safe_rst`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar, cast

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.locale import _
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from qms.markup import is_prose
from qms.model import Item
from qms.sphinx import html, render
from qms.sphinx.blocks import BlockWriter, TableShape, block, qms_block, table_html, table_nodes
from qms.sphinx.build_warnings import BuildWarning, warn
from qms.sphinx.control import history_digest, page_history
from qms.sphinx.documents import document_spec
from qms.sphinx.domain import QmsDomain
from qms.sphinx.downloads import downloads_query
from qms.sphinx.links import Links
from qms.sphinx.render import P, paragraph, table
from qms.sphinx.safe_rst import parse_item_text
from qms.sphinx.state import build_data
from qms.sphinx.views.build import Query
from qms.sphinx.views.cells import (
    NONE,
    Badge,
    Cell,
    DocLink,
    Gap,
    ItemRef,
    Items,
    Join,
    LabelLink,
    Lines,
    Listed,
    Literal,
    Muted,
    Risk,
    Strong,
    Table,
    TableView,
    Text,
)
from qms.sphinx.views.items import FindingView, ItemView
from qms.sphinx.views.risk import ControlTypesView, PolicyScalesView, RiskClassesView, RiskMatrixView
from qms.sphinx.views.summaries import (
    ChangedItem,
    ClausesView,
    DeviceView,
    DocumentRow,
    FindingsView,
    Place,
    ReleaseChangesView,
    RuleRow,
)
from qms.sphinx.views.tables import MatrixView

logger = logging.getLogger(__name__)


class document_control(nodes.General, nodes.Element):
    """Placeholder for a page's document-control block, filled when the page is written.

    It is filled late because it shows the git commit: a new commit changes every page's block
    but no page's content, so pages are written again without being read again.
    """


class QmsDirective(SphinxDirective):
    """A directive that shows data from the project."""

    @property
    def domain(self) -> QmsDomain:
        return cast(QmsDomain, self.env.domains["qms"])

    def answer(self, query: Query) -> Any:
        """The data for ``query``; notes the page's dependency on it (and on what reading the page
        takes of it, where its query says: :attr:`QuerySpec.read`). ValueError for bad options."""
        data = build_data(self.env)
        digest, read = data.digest(query), None
        try:
            answer = data.answer(query)
            read = data.read_digest(query, answer)
            return answer
        finally:
            self.domain.note_dependency(self.env.docname, query, digest, read)

    def answer_or_error(self, query: Query) -> Any:
        try:
            return self.answer(query)
        except ValueError as error:
            raise self.error(f"{self.name}: {error}") from None

    def warn(self, message: str, warning: BuildWarning) -> None:
        warn(logger, warning, message, self.get_location())


def free_id(document: nodes.document, wanted: str, node: nodes.Element) -> str:
    """``wanted`` as the id of ``node`` on its page, numbered (``wanted-2``) where the page has it already;
    noted, so no later heading or table takes it."""
    anchor, number = wanted, 1
    while anchor in document.ids:
        number += 1
        anchor = f"{wanted}-{number}"
    document.ids[anchor] = node
    return anchor


def directive_query(directive: str, options: Mapping[str, Any]) -> Query:
    """The query of a ``table``, ``matrix`` or ``risk-register`` directive from its options (the
    whole table, or the range of its rows the ``:rows:`` option names, ``1-6000``)."""
    if directive == "table":
        query: Query = ("table", options.get("kind", ""), options.get("filter", ""), options.get("columns", "id,title"))
    elif directive == "matrix":
        query = ("matrix", str(options.get("chain", "design")).strip(), options.get("results", "yes"))
    else:
        query = (directive,)
    rows = str(options.get("rows", "")).strip()
    return ("rows", rows, *query) if rows else query


#: The option of the tables a long document shows over several pages: the rows of this page.
ROWS_OPTION = {"rows": directives.unchanged}


def _caption(result: list[nodes.Node], caption: str) -> list[nodes.Node]:
    if caption:
        result.insert(0, nodes.rubric(caption, caption))
    return result


# ------------------------------------------------------------------------------ one item


class ItemDirective(QmsDirective):
    """``.. qms:item:: SWR-014``: an item's block: its fields, its links both ways, its findings."""

    required_arguments = 1
    option_spec: ClassVar[dict[str, Any]] = {"noindex": directives.flag}

    def run(self) -> list[nodes.Node]:
        return self.item(self.arguments[0].strip(), self.lineno)

    def item(self, item_id: str, line: int) -> list[nodes.Node]:
        view: ItemView | None = self.answer(("item", item_id))
        if view is None:
            matches = [
                candidate
                for candidate in build_data(self.env).project.items
                if candidate.casefold() == item_id.casefold()
            ]
            hint = f" (did you mean {' or '.join(matches)}?)" if matches else ""
            location = f"{self.get_location().rsplit(':', 1)[0]}:{line}"
            warn(logger, BuildWarning.UNKNOWN_ITEM, f"unknown item id '{item_id}'{hint}", location)
            return []
        if "noindex" not in self.options:
            self.domain.note_item(item_id, view.kind, view.title, self.env.docname)
        unfilled_block = block("item", ("item", item_id), item_id=item_id)
        for key, text in view.texts():
            unfilled_block += self.text(key, text.text, view.file, text.line)
        return [unfilled_block]

    def text(self, key: str, text: str, file: str, line: int) -> list[nodes.Node]:
        """Item text with markup, parsed now; plain prose is written as it is when the page is."""
        if is_prose(text):
            return []
        path = str(build_data(self.env).project.root / file)  # messages name the YAML file
        container = parse_item_text(self.state, text, path, line)
        container["key"] = key
        return [container]


class ItemsDirective(ItemDirective):
    """``.. qms:items::`` with one id per line of content: the blocks of several items, in that order."""

    required_arguments = 0
    has_content = True

    def run(self) -> list[nodes.Node]:
        blocks: list[nodes.Node] = []
        for offset, line in enumerate(self.content):
            for item_id in line.split():
                blocks.extend(self.item(item_id, self.content_offset + offset + 1))
        return blocks


# ------------------------------------------------------------------------------ tables and matrices


class TableDirective(QmsDirective):
    """``.. qms:table::`` with ``:kind:``, ``:filter:`` and ``:columns:``: a table of the items that match.

    A filter is conditions separated by commas, all of which must hold: ``field=a|b``,
    ``field!=a``, ``field`` (has a value) or ``!field`` (has none).
    """

    option_spec: ClassVar[dict[str, Any]] = {
        "kind": directives.unchanged,
        "filter": directives.unchanged,
        "columns": directives.unchanged,
        "caption": directives.unchanged,
        "interactive": directives.flag,
        **ROWS_OPTION,
    }

    def run(self) -> list[nodes.Node]:
        query = directive_query("table", self.options)
        view: TableView = self.answer_or_error(query)
        if not view.rows:
            return _caption([paragraph(view.empty, classes=[f"{P}-empty"])], self.options.get("caption", ""))
        unfilled_block = block("table", query, interactive="interactive" in self.options)
        return _caption([unfilled_block], self.options.get("caption", ""))

    @staticmethod
    def shape(view: TableView, interactive: bool = False) -> Table:
        return Table(view.columns, view.rows, classes=[f"{P}-item-table"], interactive=interactive)


class MatrixDirective(QmsDirective):
    """``.. qms:matrix::`` with ``:chain:`` (``design``, ``risk``, or kinds like ``need,test``): a filterable matrix."""

    option_spec: ClassVar[dict[str, Any]] = {
        "chain": directives.unchanged,
        "results": lambda value: directives.choice(value, ("yes", "no")),
        "caption": directives.unchanged,
        **ROWS_OPTION,
    }

    def run(self) -> list[nodes.Node]:
        query = directive_query("matrix", self.options)
        view: MatrixView = self.answer_or_error(query)
        if not view.table.rows:
            return _caption([paragraph(view.table.empty, classes=[f"{P}-empty"])], self.options.get("caption", ""))
        return _caption([block("matrix", query)], self.options.get("caption", ""))

    @staticmethod
    def shape(view: MatrixView, interactive: bool = True) -> Table:
        kinds = " → ".join(" or ".join(kind.replace("_", " ") for kind in column) for column in view.kinds)
        count = len(view.table.rows)
        rows = f"{count:,} row{'' if count == 1 else 's'}"
        if view.range is not None:
            rows = "Rows {:,} to {:,} of {:,}".format(*view.range)
        note = (
            f"{rows} along {kinds}. Each item links to the nearest item to its "
            "left in its row; an arrow marks a column that link passes by. A dash marks a gap: nothing further "
            "links to the item before it (at the end of a row), or its first item links to nothing further left "
            "(at the start)."
        )
        note += "".join(f" {cut}" for cut in view.cuts)
        return Table(view.table.columns, view.table.rows, classes=[f"{P}-matrix"], interactive=True, note=note)


class RiskRegisterDirective(QmsDirective):
    """``.. qms:risk-register::``: one row per hazard with initial risk, controls and residual risk."""

    option_spec: ClassVar[dict[str, Any]] = dict(ROWS_OPTION)

    def run(self) -> list[nodes.Node]:
        query = directive_query("risk-register", self.options)
        view: TableView = self.answer_or_error(query)
        if not view.rows:
            return [paragraph(view.empty, classes=[f"{P}-empty"])]
        return [block("risk-register", query)]

    @staticmethod
    def shape(view: TableView, interactive: bool = True) -> Table:
        return Table(view.columns, view.rows, classes=[f"{P}-register"], widths=[3, 3, 2, 3, 1, 2], interactive=True)


class FindingsDirective(QmsDirective):
    """``.. qms:findings::`` with ``:rules:`` (code prefixes such as ``T,R2``): the open findings.
    Filled when the page is written, the sentence saying there is none included: a finding that comes
    or goes (an edit makes an item's links suspect) changes the page in place or writes it again
    without reading it again. The rules that are off are said as the page is read: the configuration
    decides them."""

    option_spec: ClassVar[dict[str, Any]] = {"rules": directives.unchanged, "empty": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        query = ("findings", self.options.get("rules", ""))
        view: FindingsView = self.answer_or_error(query)
        result: list[nodes.Node] = [block("findings", query, empty=self.options.get("empty", ""))]
        if view.off:
            off = f"Not checked here (off for this device's class or in qms.yaml): {', '.join(view.off)}."
            result.append(paragraph(off, classes=[f"{P}-rules-off"]))
        return result

    @staticmethod
    def write_html(links: Links, view: FindingsView, unfilled: qms_block) -> str:
        if view.rows:
            return table_html(links, FindingsDirective.shape(view))
        text = html.esc(FindingsDirective.none(view, unfilled))
        return f'<p class="{P}-empty {P}-no-findings">{text}</p>'

    @staticmethod
    def write_nodes(links: Links, view: FindingsView, unfilled: qms_block) -> list[nodes.Node]:
        if view.rows:
            return table_nodes(links, FindingsDirective.shape(view))
        return [paragraph(FindingsDirective.none(view, unfilled), classes=[f"{P}-empty", f"{P}-no-findings"])]

    @staticmethod
    def none(view: FindingsView, unfilled: qms_block) -> str:
        """The sentence a block of no finding shows: the directive's ``:empty:``, else the rules checked."""
        given: str = unfilled.get("empty", "")
        return given or (f"None: no finding of {', '.join(view.checked)}." if view.checked else "None.")

    @staticmethod
    def shape(view: FindingsView, interactive: bool = True) -> Table:
        return findings_table(view.rows, f"{P}-findings-table", interactive=True)


def findings_table(findings: Iterable[FindingView], css_class: str, *, interactive: bool) -> Table:
    """Findings as a table: rule and severity, the item (linked), the message, where it is written."""
    rows = [
        (
            Badge(f"{finding.rule} {finding.severity}", f"severity-{finding.severity}"),
            ItemRef(finding.item, "", with_title=False) if finding.item else Muted("—"),
            Text(finding.message),
            Literal(finding.location),
        )
        for finding in findings
    ]
    return Table(
        ["Rule", "Item", "Finding", "Where"], rows, classes=[css_class], widths=[1, 1, 4, 2], interactive=interactive
    )


class ClauseIndexDirective(QmsDirective):
    """``.. qms:clause-index::`` with ``:standard:``: each clause asking for a record, and where it is."""

    option_spec: ClassVar[dict[str, Any]] = {"standard": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        query = ("clause-index", self.options.get("standard", "iec62304"))
        self.answer_or_error(query)
        return [block("clause-index", query)]

    @staticmethod
    def shape(view: ClausesView, interactive: bool = True) -> Table:
        rows = []
        for clause in view.clauses:
            topic: tuple[Cell, ...] = (Strong(clause.topic), Muted(clause.record))
            if clause.note:
                topic += (Muted(f"Note: {clause.note}"),)
            if clause.why:
                topic += (Muted(f"Records: {clause.why}"),)
            rows.append(
                (
                    Text(clause.clause),
                    Lines(topic),
                    Badge(clause.status, f"clause-{clause.status.split()[0]}"),
                    ClauseIndexDirective.where(clause.where, clause.status),
                )
            )
        headers = ["Clause", "Asks for", f"Class {view.safety_class}", "Where in the technical file"]
        return Table(headers, rows, classes=[f"{P}-clause-index"], widths=[1, 5, 1, 4], interactive=True)

    @staticmethod
    def where(places: tuple[Place, ...], status: str) -> Cell:
        if status not in ("required", "present", "partial", "missing"):
            return Muted("—")
        if not places:
            return Muted("Kept outside the technical file (quality system records).")
        return Lines(
            tuple(
                Join((DocLink(place.docname, place.title), Text(" \u203a "), LabelLink(place.label)))
                if place.label
                else DocLink(place.docname, place.title)
                for place in places
            )
        )


# ------------------------------------------------------------------------------ risk


class RiskMatrixDirective(QmsDirective):
    """``.. qms:risk-matrix::`` with ``:when:`` initial, residual, both (default) or policy: a heat map.

    Each map is a block filled when the page is written: a hazard's new severity or probability
    writes the page again (or changes it in place) without reading it again."""

    option_spec: ClassVar[dict[str, Any]] = {
        "when": lambda value: directives.choice(value, ("initial", "residual", "both", "policy")),
        "ids": lambda value: directives.choice(value, ("yes", "no")),
    }

    AXIS = (
        "Rows: severity of the harm, highest at the top. Columns: probability of the harm, lowest on the left. "
        "A (green) acceptable; R (amber) reduce as far as possible, acceptable only with a benefit-risk "
        "justification; U (red) unacceptable."
    )

    def run(self) -> list[nodes.Node]:
        when = self.options.get("when", "both")
        container = nodes.container(classes=[f"{P}-heat-maps"])
        for moment in ("initial", "residual") if when == "both" else (when,):
            query = ("risk-matrix", moment)
            self.answer(query)
            figure = nodes.container(classes=[f"{P}-heat-figure"])
            unfilled = block("risk-matrix", query, show_ids=self.options.get("ids", ""))
            unfilled["anchor"] = free_id(self.state.document, f"risk-matrix-{moment}", unfilled)
            figure += unfilled
            container += figure
        return [container, paragraph(self.AXIS, classes=[f"{P}-heat-axis"])]

    @staticmethod
    def write_html(links: Links, view: RiskMatrixView, unfilled: qms_block) -> str:
        show_ids = view.shows_ids(unfilled.get("show_ids", ""))
        heat_map = html.heat_map_html(
            links, view, show_ids=show_ids, anchor=unfilled.get("anchor", ""), link_title=_("Link to this table")
        )
        return heat_map + (f'<p class="{P}-heat-note">{html.esc(view.note)}</p>' if view.note else "")

    @staticmethod
    def write_nodes(links: Links, view: RiskMatrixView, unfilled: qms_block) -> list[nodes.Node]:
        result: list[nodes.Node] = [
            render.heat_map(
                view,
                show_ids=view.shows_ids(unfilled.get("show_ids", "")),
                links=links,
                anchor=unfilled.get("anchor", ""),
            )
        ]
        if view.note:
            result.append(paragraph(view.note, classes=[f"{P}-heat-note"]))
        return result


class RiskClassesDirective(QmsDirective):
    """``.. qms:risk-classes::``: hazards per risk class before and after risk control (filled when
    the page is written)."""

    def run(self) -> list[nodes.Node]:
        self.answer(("risk-classes",))
        return [block("risk-classes", ("risk-classes",))]

    @staticmethod
    def shape(view: RiskClassesView, interactive: bool = False) -> Table:
        rows: list[tuple[Cell, ...]] = [
            (Risk(row.letter, row.letter), Text(row.label), Text(str(row.initial)), Text(str(row.residual)))
            for row in view.rows
            if row.letter != "?" or row.initial or row.residual
        ]
        rows.append((Text(""), Strong("Total hazards"), Strong(str(view.total)), Strong(str(view.total))))
        return Table(
            ["Class", "Meaning", "Before control", "After control"],
            rows,
            classes=[f"{P}-risk-classes"],
            widths=[1, 5, 2, 2],
        )


class RiskPolicyDirective(QmsDirective):
    """``.. qms:risk-policy::``: the severity and probability scales of the policy."""

    option_spec: ClassVar[dict[str, Any]] = {
        "scale": lambda value: directives.choice(value, ("severity", "probability"))
    }

    def run(self) -> list[nodes.Node]:
        view: PolicyScalesView = self.answer(("policy-scales",))
        result: list[nodes.Node] = []
        for scale in (self.options["scale"],) if "scale" in self.options else ("severity", "probability"):
            levels = view.severity if scale == "severity" else view.probability
            rows = [
                (Text(f"{scale[0].upper()}{level.level}"), Strong(level.name), Text(level.description))
                for level in levels
            ]
            result.append(
                table(
                    ["Level", "Name", "Definition"],
                    rows,
                    classes=[f"{P}-scale"],
                    widths=[1, 2, 7],
                    caption=f"{scale.capitalize()} of harm",
                )
            )
        return result


class ControlTypesDirective(QmsDirective):
    """``.. qms:control-types::``: risk control measures per type, in ISO 14971 7.1 priority order
    (filled when the page is written)."""

    def run(self) -> list[nodes.Node]:
        self.answer(("control-types",))
        return [block("control-types", ("control-types",))]

    @staticmethod
    def shape(view: ControlTypesView, interactive: bool = False) -> Table:
        rows: list[tuple[Cell, ...]] = [
            (Text(name), Text(str(count))) for name, count in view.rows if count or name != "unspecified"
        ]
        rows.append((Strong("Total risk control requirements"), Strong(str(view.total))))
        return Table(["Type of control measure", "Requirements"], rows, classes=[f"{P}-control-types"], widths=[4, 1])


# ------------------------------------------------------------------------------ summaries


class DocumentListDirective(QmsDirective):
    """``.. qms:document-list::``: the documents of the technical file, with ids and the clauses they answer."""

    def run(self) -> list[nodes.Node]:
        view: tuple[DocumentRow, ...] = self.answer(("documents",))
        rows = [(DocLink(row.docname, row.title), Text(row.id), Text(row.purpose), Text(row.clauses)) for row in view]
        return [table(["Document", "Id", "Purpose", "Answers"], rows, classes=[f"{P}-documents"], widths=[3, 1, 5, 3])]


class DocumentControlDirective(QmsDirective):
    """``.. qms:document-control::`` (``:id:``, ``:title:`` on your own pages): id, device version, git commit."""

    option_spec: ClassVar[dict[str, Any]] = {"id": directives.unchanged, "title": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        spec = document_spec(self.env.docname)
        prefix = build_data(self.env).document_prefix
        default_id = (f"{prefix}-{spec.id}" if prefix else spec.id) if spec else ""
        self.domain.note_controlled(self.env.docname)
        if spec is not None:
            self.answer(("document-state", spec.id))  # read the page again when its approval state changes
        return [
            document_control(
                part="block",
                doc_id=self.options.get("id") or default_id,
                doc_title=self.options.get("title") or (spec.title if spec else ""),
            )
        ]


class RevisionHistoryDirective(QmsDirective):
    """``.. qms:revision-history::``: the latest commits that changed the records the document shows."""

    def run(self) -> list[nodes.Node]:
        self.domain.note_controlled(self.env.docname)
        spec = document_spec(self.env.docname)
        if spec is not None:
            self.answer(("document-state", spec.id))  # its approvals are part of the history
        source = Path(self.env.doc2path(self.env.docname))
        root = build_data(self.env).project.root
        # a page of the project's own; a generated document's source is written in the build folder
        own = source.is_relative_to(root) and not source.is_relative_to(self.env.doctreedir)
        page = source.relative_to(root).as_posix() if own else ""
        revisions = page_history(build_data(self.env), self.env.docname, page or None)
        self.domain.data["histories"][self.env.docname] = (page, history_digest(revisions))
        return [document_control(part="history", page_source=page)]


class DeviceDirective(QmsDirective):
    """``.. qms:device::``: the device as ``qms.yaml`` describes it, with its intended use."""

    def run(self) -> list[nodes.Node]:
        view: DeviceView = self.answer(("device",))
        field_list = nodes.field_list(classes=[f"{P}-device"])
        for label, value in view.facts:
            field_list += render.field(label, [paragraph(value)])
        if view.intended_use:
            path = str(build_data(self.env).project.root / "qms.yaml")
            text = parse_item_text(self.state, view.intended_use, path, view.intended_use_line)
            field_list += render.field("Intended use", [text])
        return [field_list]


class NotRequiredDirective(QmsDirective):
    """``.. qms:not-required:: 5.3.1 5.3.5``: says why the device's class need not produce this section."""

    required_arguments = 1
    optional_arguments = 30
    option_spec: ClassVar[dict[str, Any]] = {"standard": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        query = ("clauses", self.options.get("standard", "iec62304"), " ".join(self.arguments))
        view: ClausesView = self.answer_or_error(query)
        box = nodes.admonition(classes=[f"{P}-not-required", "note"])
        title = f"Not required for software safety class {view.safety_class}"
        box += nodes.title(title, title)
        box += paragraph(
            f"{view.standard}:{view.edition} does not ask for these records at class {view.safety_class} "
            "(Table A.1), so this section is intentionally not produced:"
        )
        lines = nodes.bullet_list()
        for clause in view.clauses:
            classes = clause.classes or "none"
            plural = "es" if len(classes) > 1 else ""
            lines += nodes.list_item(
                "", paragraph(f"{clause.clause} {clause.topic}: class{plural} {', '.join(classes)} only.")
            )
        box += lines
        return [box]


class RulesDirective(QmsDirective):
    """``.. qms:rules::``: the rules of ``qms check`` and their severity in this project."""

    def run(self) -> list[nodes.Node]:
        view: tuple[RuleRow, ...] = self.answer(("rules",))
        rows = [
            (Strong(rule.code), Text(rule.summary), Badge(rule.severity, f"severity-{rule.severity}")) for rule in view
        ]
        return [table(["Rule", "Finding", "Severity here"], rows, classes=[f"{P}-rules"], widths=[1, 6, 1])]


class ReleaseChangesDirective(QmsDirective):
    """``.. qms:release-changes::``: what changed in the records since the previous release."""

    option_spec: ClassVar[dict[str, Any]] = {"base": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        base = self.options.get("base") or build_data(self.env).project.config.previous_release
        if not base:
            raise self.error(
                "qms:release-changes: no previous release: set `release: previous:` in qms.yaml, or :base:"
            )
        view: ReleaseChangesView = self.answer(("release-changes", base))
        if view.error:
            self.warn(f"cannot list the changes since {base}: {view.error}", BuildWarning.RELEASE_CHANGES)
            return [paragraph(f"The changes since {base} cannot be listed: {view.error}", classes=[f"{P}-empty"])]
        result: list[nodes.Node] = [
            paragraph(
                f"From {base} ({view.base_commit[:10]}) to this revision: {view.count('added')} items added, "
                f"{view.count('removed')} removed, {view.count('changed')} changed; {view.links_added} links added, "
                f"{view.links_removed} removed; {len(view.risk_changes)} hazards changed risk class."
            )
        ]
        requests = _change_request_cell(build_data(self.env).project.items)
        rows: list[tuple[Cell, ...]] = [
            (
                Text(f"{entry.id} {entry.title}") if entry.change == "removed" else ItemRef(entry.id, entry.title),
                Text(f"changed: {', '.join(entry.fields)}" if entry.change == "changed" else entry.change),
                requests(entry),
            )
            for entry in view.items
        ]
        if rows:
            headers = ["Item", "Change", "Change request"]
            result.append(table(headers, rows, classes=[f"{P}-changes"], widths=[3, 2, 2]))
        if view.risk_changes:
            risk_rows = [
                (
                    ItemRef(change.hazard, change.title),
                    Text(f"{change.initial[0] or '-'} → {change.initial[1] or '-'}"),
                    Text(f"{change.residual[0] or '-'} → {change.residual[1] or '-'}"),
                )
                for change in view.risk_changes
            ]
            result.append(
                table(["Hazard", "Initial risk class", "Residual risk class"], risk_rows, classes=[f"{P}-changes"])
            )
        return result


def _change_request_cell(items: Mapping[str, Item]) -> Callable[[ChangedItem], Cell]:
    """The cell naming the change requests of a changed item: links, "none" (a gap), or a dash for
    a record that needs none (IEC 62304 8.2.4)."""

    def cell(entry: ChangedItem) -> Cell:
        requests = entry.change_requests
        if requests is None:
            return NONE
        if not requests:
            return Gap()
        return Items(tuple(Listed(request, items[request].title if request in items else "") for request in requests))

    return cell


class DownloadsDirective(QmsDirective):
    """``.. qms:downloads::``: links to the matrix as CSV and the records as an Excel workbook."""

    def run(self) -> list[nodes.Node]:
        query = downloads_query(self.config)
        self.answer(query)
        return [block("downloads", query)]


#: How each block turns its query's data into a table, or writes itself.
SHAPES: dict[str, TableShape | BlockWriter] = {
    "table": TableDirective.shape,
    "matrix": MatrixDirective.shape,
    "risk-register": RiskRegisterDirective.shape,
    "findings": BlockWriter(FindingsDirective.write_html, FindingsDirective.write_nodes),
    "clause-index": ClauseIndexDirective.shape,
    "risk-matrix": BlockWriter(RiskMatrixDirective.write_html, RiskMatrixDirective.write_nodes),
    "risk-classes": RiskClassesDirective.shape,
    "control-types": ControlTypesDirective.shape,
}

DIRECTIVES: dict[str, type[QmsDirective]] = {
    "item": ItemDirective,
    "items": ItemsDirective,
    "table": TableDirective,
    "matrix": MatrixDirective,
    "risk-register": RiskRegisterDirective,
    "findings": FindingsDirective,
    "clause-index": ClauseIndexDirective,
    "risk-matrix": RiskMatrixDirective,
    "risk-classes": RiskClassesDirective,
    "risk-policy": RiskPolicyDirective,
    "control-types": ControlTypesDirective,
    "document-list": DocumentListDirective,
    "document-control": DocumentControlDirective,
    "revision-history": RevisionHistoryDirective,
    "device": DeviceDirective,
    "not-required": NotRequiredDirective,
    "rules": RulesDirective,
    "release-changes": ReleaseChangesDirective,
    "downloads": DownloadsDirective,
}
