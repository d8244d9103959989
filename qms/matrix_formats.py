"""The traceability matrix as Markdown, CSV and JSON text (the workbook sheet lives in :mod:`qms.excel`).

Every format is a function of :class:`qms.matrix.Matrix` values: one row per path, a gap is an
empty cell, and a ``Verification`` column appears when the matrix carries test outcomes.

The JSON document (``version`` 1)::

    {"version": 1,
     "matrices": [
       {"title": "Design traceability",
        "columns": [{"header": "User needs", "kinds": ["need"]}, ...],
        "rows": [{"cells": [{"id": "NEED-01", "kind": "need", "title": "..."}, null, ...],
                  "verification": "passed"}]}]}

``cells`` has one entry per column, ``null`` for a gap; ``verification`` is the row's test
status (:mod:`qms.status`): one of passed, failed, error, stale, not-run, skipped, or null for a
row without a test.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from qms.matrix import Matrix
from qms.model import Item

JSON_VERSION = 1
VERIFICATION_HEADER = "Verification"
#: characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection")
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def neutralize_formula(text: str) -> str:
    """Text a spreadsheet opening the CSV will show as text: a leading ``'`` before a formula trigger."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _one_line(text: str) -> str:
    return " ".join(text.split())


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
        headers = list(matrix.headers) + ([VERIFICATION_HEADER] if matrix.verdicts else [])
        lines = [f"## {matrix.title}", "", "| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        for index, row in enumerate(matrix.rows):
            cells = [_markdown_cell(_label(item)) for item in row]
            if matrix.verdicts:
                cells.append(matrix.verdicts[index] or "")
            lines.append("| " + " | ".join(cells) + " |")
        if not matrix.rows:
            lines.append("")
            lines.append("(no items of these kinds)")
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


# --------------------------------------------------------------------------- CSV


def matrix_csv(matrix: Matrix) -> str:
    """RFC 4180 CSV (CRLF line ends, quoted where needed): an id and a title column per matrix column.

    Titles that a spreadsheet would take for a formula are prefixed with ``'``.
    """
    stream = io.StringIO(newline="")
    writer = csv.writer(stream, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    header: list[str] = []
    for name in matrix.headers:
        header += [name, f"{name}: title"]
    if matrix.verdicts:
        header.append(VERIFICATION_HEADER)
    writer.writerow(header)
    for index, row in enumerate(matrix.rows):
        cells: list[str] = []
        for item in row:
            cells += [item.id, neutralize_formula(_one_line(item.title))] if item is not None else ["", ""]
        if matrix.verdicts:
            cells.append(matrix.verdicts[index] or "")
        writer.writerow(cells)
    return stream.getvalue()


# --------------------------------------------------------------------------- JSON


def _json_cell(item: Item | None) -> dict[str, str] | None:
    return None if item is None else {"id": item.id, "kind": item.kind, "title": item.title}


def matrix_document(matrices: Sequence[Matrix]) -> dict[str, Any]:
    """The documented JSON shape (see the module docstring) as Python data."""
    documents = []
    for matrix in matrices:
        rows = []
        for index, row in enumerate(matrix.rows):
            entry: dict[str, Any] = {"cells": [_json_cell(item) for item in row]}
            if matrix.verdicts:
                entry["verification"] = matrix.verdicts[index]
            rows.append(entry)
        columns = [
            {"header": header, "kinds": list(kinds)}
            for header, kinds in zip(matrix.headers, matrix.columns, strict=True)
        ]
        documents.append({"title": matrix.title, "columns": columns, "rows": rows})
    return {"version": JSON_VERSION, "matrices": documents}


def matrix_json(matrices: Sequence[Matrix]) -> str:
    return json.dumps(matrix_document(matrices), indent=2, ensure_ascii=False) + "\n"
