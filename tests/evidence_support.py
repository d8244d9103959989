"""Helpers for the tests of evidence: a project whose one test lists given ``evidence:`` entries."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from qms.evidence import Evidence, load_evidence
from qms.project import load_project

JUNIT = Path(__file__).parent / "fixtures" / "junit"


def project_with_evidence(make_project: Callable[..., Path], *entries: str, name: str = "project") -> Path:
    """A project with SWR-1, verified by TST-1, whose ``evidence:`` lists ``entries`` (as written in YAML)."""
    listed = "".join(f"      - {entry}\n" for entry in entries)
    return make_project(
        {
            "items/reqs.yaml": "kind: software_requirement\nitems:\n  - id: SWR-1\n    title: T\n    text: X.\n"
            "    derived: example\n",
            "items/tests.yaml": f"kind: test\nitems:\n  - id: TST-1\n    title: T\n    method: test\n"
            f"    verifies: [SWR-1]\n    evidence:\n{listed}",
        },
        name=name,
    )


def read_evidence(root: Path, *files: Path) -> Evidence:
    """The evidence of the project at ``root`` from ``files``, which must all read cleanly."""
    evidence, findings = load_evidence(load_project(root), list(files))
    assert findings == []
    return evidence
