"""The directives that state how complete the technical file is: coverage and its open items,
the overall residual risk, the verification summary and the published evidence.

Each renders what :mod:`qms.sphinx.claims` computed from the records and the one status
function; no sentence here asserts completeness unless the data says so.
"""

from __future__ import annotations

from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import directives

from qms.sphinx import claims, render
from qms.sphinx.blocks import AnchoredTables, TableShape, TableSpec, block
from qms.sphinx.directives import QmsDirective
from qms.sphinx.render import P, item_ref, paragraph
from qms.sphinx.state import build_data
from qms.sphinx.views import kind_label
from qms.terminal import plural


class OverallResidualRiskDirective(QmsDirective):
    """``.. qms:overall-residual-risk::`` (``:conclusion:`` for the report's closing statement)."""

    option_spec: ClassVar[dict[str, Any]] = {"conclusion": directives.flag}

    def run(self) -> list[nodes.Node]:
        view = self.answer(("overall-risk",))
        device = self.answer(("device",))
        verdict = "acceptable" if view["acceptable"] else "not yet acceptable"
        box = nodes.admonition(
            classes=[f"{P}-overall", f"{P}-overall-{'acceptable' if view['acceptable'] else 'open'}"]
        )
        title = f"Overall residual risk: {verdict}"
        box += nodes.title(title, title)
        if "conclusion" in self.options:
            text = (
                f"The risk management plan was carried out for {device['name']} {device['version']}: "
                f"{view['hazards']} hazards analysed and evaluated, {view['controls']} risk control measures "
                f"implemented as requirements, {view['controls_passed']} of them verified by tests that all passed. "
            )
            text += (
                "The overall residual risk is acceptable, and production and post-production information is "
                "collected as planned. From the risk management point of view the software may be released."
                if view["acceptable"]
                else "The overall residual risk cannot be accepted, and the software may not be released, "
                "until the open items below are closed."
            )
            box += paragraph(text)
        elif view["acceptable"]:
            box += paragraph(
                "No hazard has a residual risk in U, every residual risk in R has a benefit-risk justification, "
                f"and all {view['controls']} risk control measures are verified by tests that all passed "
                "(the method of the risk management plan)."
            )
        for label, ids, with_status in view["problems"]:
            line = paragraph(f"{len(ids)} {label}: ")
            for index, item_id in enumerate(ids):
                if index:
                    line += nodes.Text(", ")
                line += item_ref(item_id)
                status = build_data(self.env).verdict(item_id) if with_status else None
                if status is not None:
                    line += nodes.Text(" ")
                    line += render.status_badge(item_id, status)
            box += line
        if view["risk_findings"]:
            line = paragraph(f"{view['risk_findings']} open risk findings of qms check: see ")
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
    def shape(view: dict[str, Any], interactive: bool = False) -> TableSpec:
        rows = []
        page = view["page"]
        for row in view["rows"]:
            done, total = row["done"], row["total"]
            share = f"{done} of {total}" + (f" ({100 * done // total} %)" if total else "")
            if row["not_required"]:
                status: list[Any] = ["muted", row["not_required"]]
            elif row["open"]:
                count = len(row["open"])
                listed = ["doc", page, f"{count} open: the list", f"open-{row['key']}"]
                status = ["join", [["badge", "open", "coverage-open"], ["text", " "], listed]]
            else:
                status = ["badge", "complete", "coverage-complete"]
            rows.append([["doc", row["docname"], row["label"]], ["text", share], status])
        applying = [row for row in view["rows"] if not row["not_required"]]
        still_open = [row for row in applying if row["open"]]
        if still_open:
            headline = (
                f"Not complete: {len(still_open)} of {len(applying)} measures below are open; "
                "each links to exactly its open items."
            )
        else:
            headline = f"Complete: all {len(applying)} measures that apply to this device are met."
        if view["errors"] or view["warnings"]:
            findings: list[Any] = [
                [
                    "badge",
                    f"{plural(view['errors'], 'error')}, {plural(view['warnings'], 'warning')} open",
                    "coverage-open",
                ],
                ["text", " from qms check: see "],
                ["doc", page, "Open findings"],
                ["text", "."],
            ]
        else:
            findings = [["text", f"qms check reports no finding over {view['items']} items"]]
            findings.append(["text", f", but {len(still_open)} measures above are open." if still_open else "."])
        return TableSpec(
            ["Measure", "Coverage", "Status"],
            rows,
            classes=[f"{P}-coverage"],
            widths=[6, 2, 3],
            before=[["strong", headline]],
            after=[["join", findings]],
        )


class OpenItemsDirective(QmsDirective):
    """``.. qms:open-items::``: for each open coverage measure, exactly the items that keep it open."""

    def run(self) -> list[nodes.Node]:
        view = self.answer(("open-items",))
        if not view["lists"]:
            return [paragraph("Every coverage measure that applies is complete.", classes=[f"{P}-empty"])]
        return [block("open-items", ("open-items",))]

    @staticmethod
    def tables(view: dict[str, Any]) -> list[tuple[str, TableSpec]]:
        """One table per open measure, with the anchor coverage rows link to."""
        tables = []
        for entry in view["lists"]:
            rows = [
                [
                    ["item", item_id, title],
                    ["status", item_id, status] if status else ["muted", "—"],
                    ["text", "; ".join(reasons)],
                ]
                for item_id, title, status, reasons in entry["items"]
            ]
            caption = f"{entry['label']}: {len(entry['items'])} of {entry['total']} open"
            spec = TableSpec(
                ["Item", "Status", "Why"], rows, classes=[f"{P}-open-items"], widths=[4, 1, 4], caption=caption
            )
            tables.append((f"open-{entry['key']}", spec))
        return tables


class VerificationSummaryDirective(QmsDirective):
    """``.. qms:verification-summary::``: items by verification status, with links to those not passed."""

    def run(self) -> list[nodes.Node]:
        self.answer(("verification",))
        return [block("verification", ("verification",))]

    @staticmethod
    def shape(view: dict[str, Any], interactive: bool = False) -> TableSpec:
        rows = [
            [["text", kind_label(kind)], *(["text", str(count)] for count in counts)] for kind, counts in view["rows"]
        ]
        read = f"Read: {view['cases']} JUnit test cases and {view['records']} execution records."
        after: list[Any] = [["text", read]]
        for key, label, still_open, total in view["measures"]:
            line: list[Any] = [["text", f"{label}: {total - still_open} of {total}"]]
            if still_open:
                line += [["text", "; not passed: "], ["doc", view["page"], f"the {still_open} items", f"open-{key}"]]
            after.append(["join", [*line, ["text", "."]]])
        return TableSpec(
            ["Items", *view["statuses"]],
            rows,
            classes=[f"{P}-verification-summary"],
            widths=[4] + [1] * len(view["statuses"]),
            after=after,
        )


class EvidenceFilesDirective(QmsDirective):
    """``.. qms:evidence-files::``: the result files, records and attachments published with the site."""

    def run(self) -> list[nodes.Node]:
        view = self.answer(("evidence-files",))
        if not view["files"]:
            return [paragraph("No result files and no execution records were read.", classes=[f"{P}-empty"])]
        return [block("evidence-files", ("evidence-files",))]

    @staticmethod
    def shape(view: dict[str, Any], interactive: bool = False) -> TableSpec:
        rows = [
            [
                ["file", target, path] if sha256 else ["literal", path],
                ["text", what],
                ["literal", sha256] if sha256 else ["badge", "missing", "severity-error"],
                ["badge", "uncommitted", "severity-warning"] if uncommitted else ["text", "committed"],
            ]
            for path, target, what, sha256, uncommitted in view["files"]
        ]
        return TableSpec(
            ["File", "Holds", "sha256", "In git"], rows, classes=[f"{P}-evidence-files"], widths=[3, 2, 4, 1]
        )


#: How each block of this module turns its query's data into a table.
SHAPES: dict[str, TableShape] = {
    "coverage": CoverageDirective.shape,
    "verification": VerificationSummaryDirective.shape,
    "evidence-files": EvidenceFilesDirective.shape,
}

#: Blocks of several tables, each under its own anchor.
ANCHORED: dict[str, AnchoredTables] = {"open-items": OpenItemsDirective.tables}

DIRECTIVES: dict[str, type[QmsDirective]] = {
    "coverage": CoverageDirective,
    "open-items": OpenItemsDirective,
    "overall-residual-risk": OverallResidualRiskDirective,
    "verification-summary": VerificationSummaryDirective,
    "evidence-files": EvidenceFilesDirective,
}
