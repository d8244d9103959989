"""The directives that state how complete the technical file is: coverage and its open items,
the result of the release check, the overall residual risk, the verification summary and the
published evidence.

Each renders what :mod:`qms.sphinx.claims` computed from the records and the one status
function; no sentence here asserts completeness unless the data says so.
"""

from __future__ import annotations

from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives

from qms.sphinx import claims, render
from qms.sphinx.blocks import AnchoredTables, BlockWriter, TableShape, block, qms_block, table_html, table_nodes
from qms.sphinx.directives import QmsDirective, findings_table
from qms.sphinx.downloads import EvidenceFile
from qms.sphinx.html import esc
from qms.sphinx.links import Links
from qms.sphinx.render import P, item_ref, paragraph
from qms.sphinx.state import build_data
from qms.sphinx.views.build import kind_label
from qms.sphinx.views.cells import (
    Badge,
    Cell,
    DocLink,
    FileLink,
    ItemRef,
    Join,
    Literal,
    Muted,
    Status,
    Strong,
    Table,
    Text,
)
from qms.sphinx.views.summaries import DeviceView
from qms.terminal import plural


class OverallResidualRiskDirective(QmsDirective):
    """``.. qms:overall-residual-risk::`` (``:conclusion:`` for the report's closing statement)."""

    option_spec: ClassVar[dict[str, Any]] = {"conclusion": directives.flag}

    @staticmethod
    def conclusion(view: claims.OverallRiskView) -> str:
        """The report's verdict, claiming no more than the records show: the risk, and whether the
        plan names how production and post-production information is collected (a plan, not the
        collection itself, which later records show)."""
        if not view.acceptable:
            return (
                "The overall residual risk cannot be accepted, and the software may not be released, "
                "until the open items below are closed."
            )
        if not view.post_production_planned:
            return (
                "The overall residual risk is acceptable, but the risk management plan names no source of "
                "production and post-production information (ISO 14971 4.4 g, 10), so the software may not "
                "be released until it does."
            )
        return (
            "The overall residual risk is acceptable, and the risk management plan states how production and "
            "post-production information is collected and reviewed. From the risk management point of view the "
            "software may be released."
        )

    def run(self) -> list[nodes.Node]:
        view: claims.OverallRiskView = self.answer(("overall-risk",))
        device: DeviceView = self.answer(("device",))
        verdict = "acceptable" if view.acceptable else "not yet acceptable"
        box = nodes.admonition(classes=[f"{P}-overall", f"{P}-overall-{'acceptable' if view.acceptable else 'open'}"])
        title = f"Overall residual risk: {verdict}"
        box += nodes.title(title, title)
        if "conclusion" in self.options:
            text = (
                f"The risk management plan was carried out for {device.name} {device.version}: "
                f"{view.hazards} hazards analysed and evaluated, {view.controls} risk control measures "
                f"implemented as requirements, {view.controls_passed} of them verified by tests that all passed. "
            )
            box += paragraph(text + self.conclusion(view))
        elif view.acceptable:
            box += paragraph(
                "No hazard has a residual risk in U, every residual risk in R has a benefit-risk justification, "
                f"and all {view.controls} risk control measures are verified by tests that all passed "
                "(the method of the risk management plan)."
            )
        for problem in view.problems:
            line = paragraph(f"{len(problem.ids)} {problem.label}: ")
            for index, item_id in enumerate(problem.ids):
                if index:
                    line += nodes.Text(", ")
                line += item_ref(item_id)
                status = build_data(self.env).verdict(item_id) if problem.with_status else None
                if status is not None:
                    line += nodes.Text(" ")
                    line += render.status_badge(item_id, status)
            box += line
        if view.risk_findings:
            line = paragraph(f"{view.risk_findings} open risk findings of qms check: see ")
            line += render.doc_ref(claims.OPEN_PAGE, "Open findings")
            line += nodes.Text(".")
            box += line
        return [box]


class CoverageDirective(QmsDirective):
    """``.. qms:coverage::``: how much of the trace and its verification is in place; each open measure
    links to the list of exactly its open items."""

    def run(self) -> list[nodes.Node]:
        self.answer(("coverage",))
        return [block("coverage", ("coverage",))]

    @staticmethod
    def shape(view: claims.CoverageView, interactive: bool = False) -> Table:
        rows = []
        page = view.page
        for row in view.rows:
            done, total = row.done, row.total
            share = f"{done} of {total}" + (f" ({100 * done // total} %)" if total else "")
            status: Cell
            if row.not_required:
                status = Muted(row.not_required)
            elif row.open:
                count = len(row.open)
                listed = DocLink(page, f"{count} open: the list", f"open-{row.key}")
                status = Join((Badge("open", "coverage-open"), Text(" "), listed))
            else:
                status = Badge("complete", "coverage-complete")
            if row.caveated:
                said, docname, anchor = row.caveat
                status = Join((status, Text(" "), DocLink(docname, f"{len(row.caveated)} of them {said}", anchor)))
            rows.append((DocLink(row.docname, row.label), Text(share), status))
        applying = [row for row in view.rows if not row.not_required]
        still_open = [row for row in applying if row.open]
        if still_open:
            headline = (
                f"Not complete: {len(still_open)} of {len(applying)} measures below are open; "
                "each links to exactly its open items."
            )
        else:
            headline = f"Complete: all {len(applying)} measures that apply to this device are met."
        if view.errors or view.warnings:
            findings: tuple[Cell, ...] = (
                Badge(f"{plural(view.errors, 'error')}, {plural(view.warnings, 'warning')} open", "coverage-open"),
                Text(" from qms check: see "),
                DocLink(page, "Open findings"),
                Text("."),
            )
        else:
            findings = (
                Text(f"qms check reports no finding over {view.items} items"),
                Text(f", but {len(still_open)} measures above are open." if still_open else "."),
            )
        return Table(
            ["Measure", "Coverage", "Status"],
            rows,
            classes=[f"{P}-coverage"],
            widths=[6, 2, 3],
            before=[Strong(headline)],
            after=[Join(findings)],
        )


class ReleaseCheckDirective(QmsDirective):
    """``.. qms:release-check::``: what ``qms check --release`` reports at this revision, each finding
    with its rule and item, apart from the approval of the documents (the control block shows it).
    Filled when the page is written: a finding that comes or goes writes the page again (or changes
    it in place) without reading it again."""

    def run(self) -> list[nodes.Node]:
        self.answer(("release-check",))
        return [block("release-check", ("release-check",))]

    @staticmethod
    def outcome(view: claims.ReleaseCheckView) -> str:
        return f"{P}-release-check-{'open' if view.errors else 'clean'}"

    @staticmethod
    def write_html(links: Links, view: claims.ReleaseCheckView, unfilled: qms_block) -> str:
        sentence = f'<p class="{ReleaseCheckDirective.outcome(view)}">{esc(ReleaseCheckDirective.sentence(view))}</p>'
        if not view.findings:
            return sentence
        return sentence + table_html(links, ReleaseCheckDirective.shape(view, interactive=True))

    @staticmethod
    def write_nodes(links: Links, view: claims.ReleaseCheckView, unfilled: qms_block) -> list[nodes.Node]:
        result: list[nodes.Node] = [
            paragraph(ReleaseCheckDirective.sentence(view), classes=[ReleaseCheckDirective.outcome(view)])
        ]
        if view.findings:
            result += table_nodes(links, ReleaseCheckDirective.shape(view, interactive=True))
        return result

    @staticmethod
    def sentence(view: claims.ReleaseCheckView) -> str:
        if not view.ran:
            return "The release check (qms check --release) was not run for these pages: they state no result of it."
        if view.errors or view.warnings:
            found = f"{plural(view.errors, 'error')} and {plural(view.warnings, 'warning')}"
        else:
            found = "no error and no warning"
        verdict = "; so this release is not verified as complete." if view.errors else "."
        return (
            f"The release check (qms check --release) on the records of this revision reports {found}, "
            "apart from the approval of these documents, which the document-control block of each shows"
            f"{verdict}"
        )

    @staticmethod
    def shape(view: claims.ReleaseCheckView, interactive: bool = False) -> Table:
        return findings_table(view.findings, f"{P}-release-check", interactive=interactive)


class OpenItemsDirective(QmsDirective):
    """``.. qms:open-items::``: for each open coverage measure, exactly the items that keep it open."""

    def run(self) -> list[nodes.Node]:
        view: tuple[claims.OpenList, ...] = self.answer(("open-items",))
        if not view:
            return [paragraph("Every coverage measure that applies is complete.", classes=[f"{P}-empty"])]
        return [block("open-items", ("open-items",))]

    @staticmethod
    def tables(view: tuple[claims.OpenList, ...]) -> list[tuple[str, Table]]:
        """One table per open measure, with the anchor coverage rows link to."""
        tables = []
        for entry in view:
            rows = [
                (
                    ItemRef(item.id, item.title),
                    Status(item.id, item.status) if item.status else Muted("—"),
                    Text("; ".join(item.reasons)),
                )
                for item in entry.items
            ]
            caption = f"{entry.label}: {len(entry.items)} of {entry.total} open"
            spec = Table(
                ["Item", "Status", "Why"], rows, classes=[f"{P}-open-items"], widths=[4, 1, 4], caption=caption
            )
            tables.append((f"open-{entry.key}", spec))
        return tables


class VerificationSummaryDirective(QmsDirective):
    """``.. qms:verification-summary::``: items by verification status, with links to those not passed."""

    def run(self) -> list[nodes.Node]:
        self.answer(("verification",))
        return [block("verification", ("verification",))]

    @staticmethod
    def shape(view: claims.VerificationView, interactive: bool = False) -> Table:
        rows = [(Text(kind_label(kind)), *(Text(str(count)) for count in counts)) for kind, counts in view.rows]
        read = f"Read: {view.cases} JUnit test cases and {view.records} execution records."
        after: list[Cell] = [Text(read)]
        for measure in view.measures:
            line: tuple[Cell, ...] = (
                Text(f"{measure.label}: {measure.total - measure.still_open} of {measure.total}"),
            )
            if measure.still_open:
                link = DocLink(view.page, f"the {measure.still_open} items", f"open-{measure.key}")
                line += (Text("; not passed: "), link)
            after.append(Join((*line, Text("."))))
        return Table(
            ["Items", *view.statuses],
            rows,
            classes=[f"{P}-verification-summary"],
            widths=[4] + [1] * len(view.statuses),
            after=after,
        )


class EvidenceFilesDirective(QmsDirective):
    """``.. qms:evidence-files::``: the result files, records and attachments published with the site."""

    def run(self) -> list[nodes.Node]:
        view: tuple[EvidenceFile, ...] = self.answer(("evidence-files",))
        if not view:
            return [paragraph("No result files and no execution records were read.", classes=[f"{P}-empty"])]
        return [block("evidence-files", ("evidence-files",))]

    @staticmethod
    def shape(view: tuple[EvidenceFile, ...], interactive: bool = False) -> Table:
        rows = [
            (
                FileLink(file.target, file.path) if file.sha256 else Literal(file.path),
                Text(file.what),
                Literal(file.sha256) if file.sha256 else Badge("missing", "severity-error"),
                Badge("uncommitted", "severity-warning") if file.uncommitted else Text("committed"),
            )
            for file in view
        ]
        return Table(["File", "Holds", "sha256", "In git"], rows, classes=[f"{P}-evidence-files"], widths=[3, 2, 4, 1])


#: How each block of this module turns its query's data into a table.
SHAPES: dict[str, TableShape | BlockWriter] = {
    "coverage": CoverageDirective.shape,
    "release-check": BlockWriter(ReleaseCheckDirective.write_html, ReleaseCheckDirective.write_nodes),
    "verification": VerificationSummaryDirective.shape,
    "evidence-files": EvidenceFilesDirective.shape,
}

#: Blocks of several tables, each under its own anchor.
ANCHORED: dict[str, AnchoredTables] = {"open-items": OpenItemsDirective.tables}

DIRECTIVES: dict[str, type[QmsDirective]] = {
    "coverage": CoverageDirective,
    "open-items": OpenItemsDirective,
    "release-check": ReleaseCheckDirective,
    "overall-residual-risk": OverallResidualRiskDirective,
    "verification-summary": VerificationSummaryDirective,
    "evidence-files": EvidenceFilesDirective,
}
