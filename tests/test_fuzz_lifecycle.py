"""Fuzzing the lifecycle records: any problem report, change request, design review, software unit,
design stage or SOUP version gives located findings, never a traceback, and writes nothing."""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qms.checking import check_context
from qms.project import load_project
from qms.rules import run_rules
from qms.rules.soup import version_ranges

_KINDS = ["problem_report", "change_request", "design_review", "software_unit", "software_item", "soup"]
_KEYS = ["id", "kind", "title", "status", "stage", "outcome", "resolves", "changes", "retires", "parent",
         "safety_class", "segregation", "segregated_from", "acceptance_criteria", "version", "supplier",
         "date", "participants", "independent_reviewer", "design", "interfaces", "- "]  # fmt: skip
_VALUES = ["X-1", "X-2", "closed", "verified", "approved", "C", "A", "[X-1]", "[X-1, X-2]", "[]", "{}", "~",
           "''", "1.0-2.0", "2.x or later", ">=3", "&a [*a]", "\t", "requirements"]  # fmt: skip
_LINES = st.tuples(
    st.sampled_from(["", "  ", "  - ", "- "]),
    st.sampled_from(_KEYS),
    st.one_of(st.sampled_from(_VALUES), st.sampled_from(_KINDS)),
)
_STAGES = st.lists(
    st.fixed_dictionaries(
        {"name": st.sampled_from(["requirements", "Bad Name", "x"]), "title": st.text(max_size=8)},
        optional={"review": st.text(max_size=8), "clauses": st.integers()},
    ),
    max_size=3,
)


@pytest.mark.fuzz
@given(st.lists(_LINES, max_size=25), st.text(max_size=30), _STAGES)
def test_any_lifecycle_file_gives_findings_not_tracebacks(
    lines: list[tuple[str, str, str]], noise: str, stages: list[dict[str, object]]
) -> None:
    text = "".join(f"{indent}{key}: {value}\n" for indent, key, value in lines) + noise
    stage_lines = "".join(f"  - {stage!r}\n".replace("'", '"') for stage in stages)
    config = "device: {name: D, software_safety_class: C}\nsources: [items]\n"
    root = Path(tempfile.mkdtemp())
    try:
        (root / "items").mkdir()
        (root / "qms.yaml").write_text(config + ("design_stages:\n" + stage_lines if stages else ""), "utf-8")
        (root / "items/l.yaml").write_text(text, encoding="utf-8")
        before = sorted(path.relative_to(root) for path in root.rglob("*"))
        started = time.monotonic()
        findings = run_rules(check_context(load_project(root), release=True))
        assert time.monotonic() - started < 5
        assert all(finding.location.file for finding in findings)
        assert sorted(path.relative_to(root) for path in root.rglob("*")) == before
    finally:
        shutil.rmtree(root)


@pytest.mark.fuzz
@given(st.text(max_size=200))
def test_version_ranges_of_any_text_in_bounded_time(version: str) -> None:
    started = time.monotonic()
    parts = version_ranges(version)
    assert time.monotonic() - started < 1
    assert all(part in version for part in parts)
