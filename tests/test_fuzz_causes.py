"""Fuzzing root causes: whatever mistakes a file holds, folding never crashes, never hides a root
and never makes a chain: every cause is a finding shown, and the counts add up.

Each example is the scenarios' clean project (change control started) with its requirements file
edited the way people mistype YAML: characters dropped, doubled or inserted (spaces, tabs,
colons, dashes, brackets, a letter in an id or a field name).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qms.checking import check_project, root_causes
from qms.project import load_project
from qms.reporting import Summary, format_json, format_junit, format_sarif, format_text
from qms.review import stamp_all

pytestmark = pytest.mark.fuzz

BASE = Path(__file__).parent / "scenarios" / "_base"
REQUIREMENTS = "items/requirements.yaml"
TEXT = (BASE / REQUIREMENTS).read_text(encoding="utf-8")
INSERTS = [" ", "  ", "\t", ":", ": ", "-", "- ", "[", "]", "x", "_", "s", "\n", "#", "'"]


@st.composite
def typos(draw: st.DrawFn) -> str:
    """The requirements file with a few edits at random places."""
    text = TEXT
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        position = draw(st.integers(min_value=0, max_value=len(text)))
        action = draw(st.sampled_from(["drop", "double", "insert"]))
        if action == "drop":
            text = text[:position] + text[position + 1 :]
        elif action == "double":
            text = text[:position] + text[position : position + 1] * 2 + text[position + 1 :]
        else:
            text = text[:position] + draw(st.sampled_from(INSERTS)) + text[position:]
    return text


@given(typos())
def test_folding_keeps_every_root_and_names_only_roots_as_causes(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "device"
        shutil.copytree(BASE, root)
        stamp_all(load_project(root))
        (root / REQUIREMENTS).write_text(text, encoding="utf-8")
        before = sorted(path.relative_to(root).as_posix() for path in root.rglob("*"))
        project = load_project(root)
        findings = check_project(project)
        folded = root_causes(project, findings)
        assert sorted(folded.findings, key=lambda f: f.sort_key()) == sorted(findings, key=lambda f: f.sort_key())
        roots = set(folded.roots)
        assert roots or not findings
        assert all(cause in roots for cause in folded.causes.values())  # no chains: a cause is always shown
        summary = Summary.of(project, folded)
        assert summary.errors + summary.warnings == len(folded.roots)
        assert summary.folded == len(findings) - len(folded.roots)
        text_report = format_text(project, folded, everything=True)
        assert len([line for line in text_report.splitlines() if " error " in line or " warning " in line]) >= len(
            findings
        )
        document = json.loads(format_json(project, folded))
        assert sum("cause" in finding for finding in document["findings"]) == summary.folded
        format_junit(project, folded)
        format_sarif(project, folded)
        assert sorted(path.relative_to(root).as_posix() for path in root.rglob("*")) == before
