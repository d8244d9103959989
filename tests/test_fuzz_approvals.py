"""Fuzzing approvals.yaml: any text in it gives located A603 findings, never a traceback, and a
release check over it stays bounded in time."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qms.approvals import APPROVALS_FILE, read_approvals
from qms.checking import check_context
from qms.project import load_project
from qms.rules import run_rules

CONFIG = (
    "device: {name: D, software_safety_class: C}\nsources: [items]\n"
    "roles:\n  people:\n    - {name: Ann, email: ann@example.org, roles: [author]}\n"
)
NEED = "id: NEED-1\nkind: need\ntitle: t\ntext: t\n"

_KEYS = ["document", "digest", "role", "name", "email", "at", "meaning", "findings", "- ", "x-note", "signed"]
_VALUES = ["SRS", "srs", "XYZ", "author", "approver", "Ann", "ann@example.org", "sha256:" + "a" * 64, "sha256:",
           "2026-01-31T14:05:00+01:00", "2026-01-31T14:05:00", "2026-01-31", "[]", "{}", "~", "''", "[E402 X]",
           "&a [*a]", "!!python/none", "\t", "12", "true"]  # fmt: skip
_LINES = st.tuples(st.sampled_from(["", "  ", "    ", "- ", "  - "]), st.sampled_from(_KEYS), st.sampled_from(_VALUES))


@pytest.mark.fuzz
@given(st.lists(_LINES, max_size=25), st.text(max_size=40))
def test_any_approvals_file_gives_findings_not_tracebacks(lines: list[tuple[str, str, str]], noise: str) -> None:
    text = "".join(f"{indent}{key}: {value}\n" for indent, key, value in lines) + noise
    root = Path(tempfile.mkdtemp())
    try:
        (root / "items").mkdir()
        (root / "qms.yaml").write_text(CONFIG, encoding="utf-8")
        (root / "items/n.yaml").write_text(NEED, encoding="utf-8")
        (root / APPROVALS_FILE).write_text(text, encoding="utf-8")
        before = sorted(path.relative_to(root) for path in root.rglob("*"))
        started = time.monotonic()
        project = load_project(root)
        findings = run_rules(check_context(project, release=True))
        assert time.monotonic() - started < 20
        for finding in findings:
            assert finding.location.file in (APPROVALS_FILE, "items/n.yaml", "qms.yaml"), finding
        for approval in read_approvals(project).approvals:  # what counts is complete and zoned
            assert approval.document == "SRS" and approval.role == "author" and approval.at[-6] in "+-"
        assert sorted(path.relative_to(root) for path in root.rglob("*")) == before  # nothing written
    finally:
        shutil.rmtree(root)
