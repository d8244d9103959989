"""Every query a page of the site may ask: its name, the function answering it, and what a costly one reads.

A directive asks a query by name with string arguments (so the query can be stored with the page
and compared on the next build); :meth:`~qms.sphinx.views.build.BuildData.answer` looks it up
here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from qms.sphinx import claims, control, downloads
from qms.sphinx.views import items, risk, rows, summaries, tables
from qms.sphinx.views.build import QuerySpec, TableRows, read_nothing, read_whether_any

QUERIES: Mapping[str, QuerySpec] = MappingProxyType(
    {
        # one item's block (asked when its page is read and when it is written: not kept)
        "item": QuerySpec(items.item_view, inputs=items.item_inputs, kept=False, read=items.item_read),
        # tables and matrices (costly: fingerprinted by what they read; their rows are filled in when
        # the page is written)
        "table": QuerySpec(
            tables.item_table,
            inputs=tables.item_table_inputs,
            read=tables.rows_read,
            table=TableRows(tables.item_table_count, tables.item_table_part, tables.item_table_made_of),
            read_with_rows=tables.READ_WITH_ROWS,
        ),
        "matrix": QuerySpec(
            tables.matrix_view,
            inputs=tables.matrix_inputs,
            read=tables.rows_read,
            table=TableRows(tables.matrix_count, tables.matrix_part, tables.matrix_made_of),
            read_with_rows=tables.READ_WITH_ROWS,
        ),
        "rows": QuerySpec(rows.row_range, inputs=rows.row_range_inputs, read=tables.rows_read),
        # risk (summaries filled in when the page is written, like the claims below)
        "risk-register": QuerySpec(
            risk.risk_register,
            inputs=risk.risk_register_inputs,
            read=tables.rows_read,
            table=TableRows(risk.risk_register_count, risk.risk_register_part, risk.risk_register_made_of),
            read_with_rows=tables.READ_WITH_ROWS,
        ),
        "risk-matrix": QuerySpec(risk.risk_matrix_view, read=read_nothing),
        "risk-classes": QuerySpec(risk.risk_classes, read=read_nothing),
        "policy-scales": QuerySpec(risk.policy_scales),
        "control-types": QuerySpec(risk.control_types, read=read_nothing),
        # summaries
        "findings": QuerySpec(summaries.findings_view, read=summaries.findings_read),
        "counts": QuerySpec(summaries.counts),
        "documents": QuerySpec(summaries.documents_view),
        "device": QuerySpec(summaries.device_view),
        "clauses": QuerySpec(summaries.clauses_view),
        "clause-index": QuerySpec(summaries.clause_index_view, read=read_nothing),
        "rules": QuerySpec(summaries.rules_view),
        "release-changes": QuerySpec(summaries.release_changes),
        # claims of completeness
        "coverage": QuerySpec(claims.coverage, read=read_nothing),
        "open-items": QuerySpec(claims.open_items, read=read_whether_any),
        "overall-risk": QuerySpec(claims.overall_risk),
        "verification": QuerySpec(claims.verification_view, read=read_nothing),
        "release-check": QuerySpec(claims.release_check, read=read_nothing),
        # document control
        "document-states": QuerySpec(control.states_view),
        "document-state": QuerySpec(control.state_view),
        # files published with the site
        "downloads": QuerySpec(downloads.downloads_view),
        "evidence-files": QuerySpec(downloads.evidence_files_view, read=read_whether_any),
    }
)
