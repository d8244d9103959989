"""Fuzzing execution records: any text in a record file gives located findings, never a traceback."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qms.checking import check_context
from qms.project import load_project
from qms.rules import run_rules

CONFIG = "device: {name: D, software_safety_class: C}\nsources: [items]\nrecords: [records]\n"
TEST = "id: TST-1\nkind: test\ntitle: t\nmethod: inspection\n"

_KEYS = ["id", "test", "outcome", "executed_at", "executed_by", "version", "commit", "environment", "records",
         "attachments", "anomalies", "reason", "observations", "path", "sha256", "- ", "x-note"]  # fmt: skip
_VALUES = ["TST-1", "passed", "failed", "blocked", "2025-06-02T10:00:00Z", "2025-06-02", "[]", "{}", "~", "''",
           "[TST-1, ../x]", "{path: ../../etc/passwd, sha256: " + "0" * 64 + "}", "&a [*a]", "!!python/none",
           "\t"]  # fmt: skip
_LINES = st.tuples(st.sampled_from(["", "  ", "    ", "- ", "  - "]), st.sampled_from(_KEYS), st.sampled_from(_VALUES))


@pytest.mark.fuzz
@given(st.lists(_LINES, max_size=25), st.text(max_size=40))
def test_any_record_file_gives_findings_not_tracebacks(lines: list[tuple[str, str, str]], noise: str) -> None:
    text = "".join(f"{indent}{key}: {value}\n" for indent, key, value in lines) + noise
    root = Path(tempfile.mkdtemp())
    try:
        (root / "items").mkdir()
        (root / "records").mkdir()
        (root / "qms.yaml").write_text(CONFIG, encoding="utf-8")
        (root / "items/t.yaml").write_text(TEST, encoding="utf-8")
        (root / "records/r.yaml").write_text(text, encoding="utf-8")
        before = sorted(path.relative_to(root) for path in root.rglob("*"))
        findings = run_rules(check_context(load_project(root)))
        for finding in findings:
            assert finding.location.file in ("records/r.yaml", "items/t.yaml", "qms.yaml"), finding
        assert sorted(path.relative_to(root) for path in root.rglob("*")) == before  # nothing written
    finally:
        shutil.rmtree(root)
