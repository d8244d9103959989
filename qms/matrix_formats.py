"""The traceability matrix as Markdown, CSV and JSON text (the workbook sheet lives in :mod:`qms.excel`).

Every format is a function of :class:`qms.matrix.Matrix` values: one row per path, a gap is an
empty cell (in Markdown, a column a link passes by between two items of a row is ``→``), a
``Verification`` column appears when the matrix carries test outcomes, and a ``Findings``
column when a row shows a link that breaks a kind rule (Q006). A matrix cut at its row limit
says so after its rows (in CSV, as a last row), with how many rows were left out.

The JSON document (``version`` 1)::

    {"version": 1,
     "matrices": [
       {"title": "Design traceability",
        "columns": [{"header": "User needs", "kinds": ["need"]}, ...],
        "rows": [{"cells": [{"id": "NEED-01", "kind": "need", "title": "..."}, null, ...],
                  "verification": "passed",
                  "findings": [{"rule": "Q006", "severity": "error", "item": "TST-9",
                                "message": "verifies links to NEED-1, a need; ..."}]}],
        "total_rows": 1,
        "cuts": [{"shown": 20000, "total": 390625, "resumes_at": "NEED-3", "note": "..."}]}]}

``cells`` has one entry per column, ``null`` for a gap; ``verification`` is the row's test
status (:mod:`qms.status`): one of passed, failed, error, stale, not-run, skipped, or null for a
row without a test; ``findings`` is present only when some row of the matrix has one;
``total_rows`` counts the rows made and left out; ``cuts`` is present only when rows were left out.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from qms.matrix import Matrix, passed_by
from qms.model import Finding, Item

JSON_VERSION = 1
VERIFICATION_HEADER = "Verification"
FINDINGS_HEADER = "Findings"
#: characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection")
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralize_formula(text: str) -> str:
    """Text a spreadsheet opening the CSV will show as text: a leading ``'`` before a formula trigger."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _one_line(text: str) -> str:
    return " ".join(text.split())


def finding_text(finding: Finding) -> str:
    """A finding a row shows, on one line: ``error Q006 TST-9: verifies links to NEED-1, ...``."""
    subject = f" {finding.item}" if finding.item else ""
    return _one_line(f"{finding.severity} {finding.rule}{subject}: {finding.message}")


def row_findings(matrix: Matrix, index: int, separator: str = "\n") -> str:
    """The findings of one row as one text, one a line (a message may hold ``;``); empty when it has none."""
    return separator.join(finding_text(finding) for finding in matrix.findings[index]) if matrix.findings else ""


def extra_headers(matrix: Matrix) -> list[str]:
    """The columns after the kinds: the verification outcome and the findings, when the matrix has them."""
    return ([VERIFICATION_HEADER] if matrix.verdicts else []) + ([FINDINGS_HEADER] if matrix.findings else [])


def extra_cells(matrix: Matrix, index: int, separator: str = "\n") -> list[str]:
    """One row's cells under :func:`extra_headers` (``separator`` between a row's findings)."""
    verdict = [matrix.verdicts[index] or ""] if matrix.verdicts else []
    return verdict + ([row_findings(matrix, index, separator)] if matrix.findings else [])


def _label(item: Item | None) -> str:
    """``ID title`` for one cell, on one line; empty for a gap."""
    if item is None:
        return ""
    title = _one_line(item.title)
    return f"{item.id} {title}" if title else item.id


# --------------------------------------------------------------------------- Markdown


def _markdown_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|")


def matrix_markdown(matrices: Sequence[Matrix]) -> str:
    """GitHub-flavoured Markdown: a heading and a table per matrix."""
    parts: list[str] = []
    for matrix in matrices:
        headers = list(matrix.headers) + extra_headers(matrix)
        lines = [f"## {matrix.title}", "", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        for index, row in enumerate(matrix.rows):
            between = passed_by(row)
            cells = ["→" if column in between else _markdown_cell(_label(item)) for column, item in enumerate(row)]
            cells += [_markdown_cell(cell).replace("\n", "<br>") for cell in extra_cells(matrix, index)]
            lines.append("| " + " | ".join(cells) + " |")
        if not matrix.rows:
            lines.append("")
            lines.append("(no items of these kinds)")
        lines.extend(f"\n> {_markdown_cell(str(cut))}" for cut in matrix.cuts)
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


# --------------------------------------------------------------------------- CSV


def matrix_csv(matrix: Matrix) -> str:
    """RFC 4180 CSV (CRLF line ends, quoted where needed): an id and a title column per matrix column.

    Titles that a spreadsheet would take for a formula are prefixed with ``'``. Rows left out
    at the row limit are said in a last row (its first field), as wide as the others.
    """
    stream = io.StringIO(newline="")
    writer = csv.writer(stream, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    header: list[str] = []
    for name in matrix.headers:
        header += [name, f"{name}: title"]
    header += extra_headers(matrix)
    writer.writerow(header)
    labels: dict[int, tuple[str, str]] = {}  # an item stands in many rows: its two fields made once
    neutral: dict[str, str] = {}
    gap = ("", "")
    for index, row in enumerate(matrix.rows):
        cells: list[str] = []
        for item in row:
            if item is None:
                cells += gap
                continue
            label = labels.get(id(item))
            if label is None:
                label = labels[id(item)] = (item.id, neutralize_formula(_one_line(item.title)))
            cells += label
        for cell in extra_cells(matrix, index):  # a status, findings: few texts, each made safe once
            safe = neutral.get(cell)
            if safe is None:
                safe = neutral[cell] = neutralize_formula(cell)
            cells.append(safe)
        writer.writerow(cells)
    for cut in matrix.cuts:
        writer.writerow([neutralize_formula(str(cut))] + [""] * (len(header) - 1))
    return stream.getvalue()


# --------------------------------------------------------------------------- JSON


def _json_cell(item: Item | None) -> dict[str, str] | None:
    return None if item is None else {"id": item.id, "kind": item.kind, "title": item.title}


def _json_finding(finding: Finding) -> dict[str, str | None]:
    return {"rule": finding.rule, "severity": str(finding.severity), "item": finding.item, "message": finding.message}


def matrix_document(matrices: Sequence[Matrix]) -> dict[str, Any]:
    """The documented JSON shape (see the module docstring) as Python data."""
    documents = []
    for matrix in matrices:
        rows = []
        for index, row in enumerate(matrix.rows):
            entry: dict[str, Any] = {"cells": [_json_cell(item) for item in row]}
            if matrix.verdicts:
                entry["verification"] = matrix.verdicts[index]
            if matrix.findings:
                entry["findings"] = [_json_finding(finding) for finding in matrix.findings[index]]
            rows.append(entry)
        columns = [
            {"header": header, "kinds": list(kinds)}
            for header, kinds in zip(matrix.headers, matrix.columns, strict=True)
        ]
        document = {"title": matrix.title, "columns": columns, "rows": rows, "total_rows": matrix.total_rows}
        if matrix.cuts:
            document["cuts"] = [
                {"shown": cut.shown, "total": cut.total, "resumes_at": cut.resumes_at, "note": str(cut)}
                for cut in matrix.cuts
            ]
        documents.append(document)
    return {"version": JSON_VERSION, "matrices": documents}


def matrix_json(matrices: Sequence[Matrix]) -> str:
    return json.dumps(matrix_document(matrices), indent=2, ensure_ascii=False) + "\n"
