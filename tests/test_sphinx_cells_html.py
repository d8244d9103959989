"""Each kind of table cell is written as HTML by its own writer: every kind has one, and each writes
its value escaped, linked where the site has the target."""

from __future__ import annotations

import typing
from typing import Any

import pytest

from qms.sphinx import html
from qms.sphinx.views import cells


class _Links:
    """The links of a page, as :class:`qms.sphinx.links.Links` answers them: SWR-1 and the plan are on the site."""

    def __init__(self) -> None:
        self.html_cache: dict[tuple[str, str, bool], str] = {}

    def item(self, item_id: str) -> str | None:
        return "software-requirements.html#swr-1" if item_id == "SWR-1" else None

    def doc(self, docname: str) -> str | None:
        return "plan.html" if docname == "plan" else None

    def file(self, path: str) -> str:
        return f"_downloads/{path}"

    def label(self, label: str) -> tuple[str | None, str] | None:
        return ("plan.html#scope", "Scope") if label == "scope" else None


def test_every_kind_of_cell_has_a_writer() -> None:
    assert set(typing.get_args(cells.Cell)) == set(html._CELL_HTML)


LINK = '<a class="reference internal" href="software-requirements.html#swr-1" title="SWR-1 Show &lt;age&gt;">'
ID = '<span class="qms-id">SWR-1</span>'


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        (cells.ItemRef("SWR-1", "Show <age>", False), f"{LINK}{ID}</a>"),
        (
            cells.ItemRef("SWR-1", "Show <age>"),
            f'<span class="qms-ref">{LINK}{ID}</a><span class="qms-ref-title"> Show &lt;age&gt;</span></span>',
        ),
        (
            cells.ItemRef("SWR-9", "Gone"),
            '<span class="qms-ref"><span class="qms-unresolved" title="no page shows this item">'
            '<span class="qms-id">SWR-9</span></span><span class="qms-ref-title"> Gone</span></span>',
        ),
        (
            cells.Items((cells.Listed("SWR-9", "Gone", "passed"),)),
            '<p class="qms-cell-line"><span class="qms-ref"><span class="qms-unresolved" title="no page shows this '
            'item"><span class="qms-id">SWR-9</span></span><span class="qms-ref-title"> Gone</span></span> '
            '<span class="qms-badge qms-badge-outcome-passed" data-qms-item="SWR-9" data-qms-status="passed">'
            "passed</span></p>",
        ),
        (cells.Text("a < b"), "a &lt; b"),
        (cells.Muted("none"), '<span class="qms-muted">none</span>'),
        (cells.Strong("yes"), "<strong>yes</strong>"),
        (cells.Literal("a.py"), '<code class="docutils literal notranslate"><span class="pre">a.py</span></code>'),
        (
            cells.Status("TST-1", "not run", "no result"),
            '<span class="qms-badge qms-badge-outcome-not-run" data-qms-item="TST-1" data-qms-status="not run">'
            "no result</span>",
        ),
        (cells.Risk("Z", "?"), '<span class="qms-risk qms-risk-unknown">?</span>'),
        (cells.Badge("open", "warning"), '<span class="qms-badge qms-badge-warning">open</span>'),
        (cells.DocLink("plan", "Plan", "scope"), '<a class="reference internal" href="plan.html#scope">Plan</a>'),
        (cells.DocLink("elsewhere", "Elsewhere"), "Elsewhere"),
        (cells.LabelLink("scope"), '<a class="reference internal" href="plan.html#scope">Scope</a>'),
        (cells.LabelLink("nowhere"), '<span class="qms-unresolved">nowhere</span>'),
        (
            cells.FileLink("r.xml", "r.xml"),
            '<a class="reference download" href="_downloads/r.xml" download><code class="docutils literal '
            'notranslate"><span class="pre">r.xml</span></code></a>',
        ),
        (
            cells.Lines((cells.Text("a"), cells.Gap())),
            '<p class="qms-cell-line">a</p><p class="qms-cell-line"><span class="qms-gap" title="missing">—</span></p>',
        ),
        (cells.Join((cells.Strong("a"), cells.Text(" b"))), "<strong>a</strong> b"),
        (cells.Gap(), '<span class="qms-gap" title="missing">—</span>'),
    ],
)
def test_a_cell_is_written_escaped_and_linked_where_the_site_has_its_target(cell: Any, written: str) -> None:
    assert html.cell_html(_Links(), cell) == written  # type: ignore[arg-type]  # the links a page answers
