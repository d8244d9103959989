"""The build warnings qms writes are a closed set: every one goes through the table of
:mod:`qms.sphinx.build_warnings`, and the README lists each with what it means."""

from __future__ import annotations

import ast
from pathlib import Path

from qms.sphinx.build_warnings import BuildWarning

REPOSITORY = Path(__file__).parent.parent
TABLE = REPOSITORY / "qms" / "sphinx" / "build_warnings.py"
#: Gives again, unchanged, the warnings a page gave in an earlier build (the table's and Sphinx's own).
REPLAY = REPOSITORY / "qms" / "sphinx" / "replay.py"
#: Parses item text for ``qms check`` with a reporter of its own: its messages are findings (Q009), not warnings.
CHECK_PARSE = REPOSITORY / "qms" / "rst.py"


def warning_calls_outside_the_table() -> list[str]:
    """``file:line`` of every call that names a warning subtype itself, or calls ``.warning``."""
    found = []
    for path in sorted((REPOSITORY / "qms").rglob("*.py")):
        if path in (TABLE, REPLAY, CHECK_PARSE):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            named = {keyword.arg for keyword in node.keywords} & {"type", "subtype"}
            calls_warning = isinstance(node.func, ast.Attribute) and node.func.attr == "warning"
            if "subtype" in named or calls_warning:
                found.append(f"{path.relative_to(REPOSITORY)}:{node.lineno}")
    return found


def test_every_build_warning_goes_through_the_table() -> None:
    assert warning_calls_outside_the_table() == []


def test_the_warnings_are_distinct_and_described() -> None:
    names = [warning.name_in_config for warning in BuildWarning]

    assert len(set(names)) == len(names)
    assert all(warning.description and warning.type in ("ref", "qms") for warning in BuildWarning)


def test_the_readme_lists_every_warning_with_its_description() -> None:
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")

    for warning in BuildWarning:
        assert f"| `{warning.name_in_config}` | {warning.description} |\n" in readme
