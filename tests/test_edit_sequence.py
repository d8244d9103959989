"""One project edited step after step, as a team edits it: after every step the site ``qms build``
leaves equals, byte for byte, the site a clean build of the same files makes.

The tests of single changes (``test_build_unchanged``, ``test_sphinx_incremental``,
``test_kept_blocks``) start each from a fresh build. Here the state a build keeps for the next (the
environment, the kept fingerprints of blocks and ranges, the matrices' rows, the pages' fragments,
the record of the inputs) is carried through every step: what one step leaves stale can show in a
later one (a title dropping the neighbours of an edited item from the kept fingerprints fails the
first step). A small project: ranges of rows kept on a page nothing else changes are tested in
``test_row_ranges``.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import invoke_qms
from sphinx_support import build, site_files
from test_build_unchanged import git, git_project


def _edit(root: Path, relative: str, old: str, new: str) -> None:
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{relative}: {old!r}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def _write(root: Path, relative: str, text: str) -> None:
    (root / relative).parent.mkdir(parents=True, exist_ok=True)
    (root / relative).write_text(text, encoding="utf-8")


def _append(root: Path, relative: str, text: str) -> None:
    with (root / relative).open("a", encoding="utf-8") as file:
        file.write(text)


def _rename(root: Path, old: str, new: str) -> None:
    for path in sorted(root.rglob("*.yaml")):
        if "_build" not in path.parts and old in (text := path.read_text(encoding="utf-8")):
            path.write_text(text.replace(old, new), encoding="utf-8")


def _qms(root: Path, *arguments: str) -> None:
    result = invoke_qms(*arguments, "--project", root)
    assert result.exit_code == 0, result.output


NEW_ITEM = (
    "  - id: SWR-002\n    kind: software_requirement\n    title: Log the reading age\n    text: |\n"
    "      The software shall log the age of each reading shown.\n    derives_from: [SYS-001]\n\n"
)
NOTES = (
    "Notes\n=====\n\nSee :item:`SWR-001`.\n\n.. qms:table::\n   :kind: software_requirement\n"
    "   :columns: id, title, status\n"
)
RESULTS = (
    '<testsuite name="pytest" tests="1"><testcase classname="tests.test_age" name="test_age" '
    'file="tests/test_age.py" time="0.2"><properties><property name="verifies" value="SWR-001"/>'
    "</properties></testcase></testsuite>\n"
)
REQUIREMENTS = "traceability/requirements.yaml"

#: The steps, in order: each is made on the project as the steps before left it.
STEPS: list[tuple[str, Callable[[Path], None]]] = [
    ("a title", lambda root: _edit(root, REQUIREMENTS, "Display the current reading", "Display the latest reading")),
    ("a new item", lambda root: _edit(root, REQUIREMENTS, "  - id: RCR-01", NEW_ITEM + "  - id: RCR-01")),
    ("a page of the project's own with a table", lambda root: _write(root, "notes.rst", NOTES)),
    ("its table's filter", lambda root: _append(root, "notes.rst", "   :filter: id=SWR-002\n")),
    ("the new item taken away", lambda root: _edit(root, REQUIREMENTS, NEW_ITEM, "")),
    ("the page taken away", lambda root: (root / "notes.rst").unlink()),
    ("documents cut into pages", lambda root: _append(root, "conf.py", "\nqms_page_items = 2\n")),
    ("a title on cut pages", lambda root: _edit(root, REQUIREMENTS, "Show reading age", "Show the reading age")),
    (
        "a severity",
        lambda root: _edit(
            root,
            "risk_register/hazards.yaml",
            "severity: Serious\n    probability: Occasional",
            "severity: Critical\n    probability: Occasional",
        ),
    ),
    (
        "a link taken away",
        lambda root: _edit(
            root, REQUIREMENTS, "derives_from: [SYS-001]\n    control_type", "derives_from: []\n    control_type"
        ),
    ),
    ("documents whole again", lambda root: _edit(root, "conf.py", "\nqms_page_items = 2\n", "\n")),
    (
        "a template of the project's own",
        lambda root: _write(
            root,
            "_templates/release-notes.rst.jinja",
            "{% extends '_document.rst.jinja' %}\n{% block body %}\nOur own release notes.\n{% endblock %}\n",
        ),
    ),
    ("that template taken away", lambda root: shutil.rmtree(root / "_templates")),
    ("a result file", lambda root: _write(root, "reports/age.xml", RESULTS)),
    ("an item renamed where it is linked", lambda root: _rename(root, "SYS-001", "SYS-010")),
    ("a commit", lambda root: (git(root, "add", "-A"), git(root, "commit", "-q", "-m", "Edits"))),
    ("an edit after the commit", lambda root: _edit(root, REQUIREMENTS, "Show the reading age", "Show the age")),
    (
        "a document approved",
        lambda root: _qms(root, "approve", "SRS", "--role", "author", "--as", "Ann Author", "--with-findings"),
    ),
    ("an item file taken away", lambda root: (root / "traceability" / "architecture.yaml").unlink()),
]


@pytest.mark.slow
def test_each_step_of_a_sequence_of_edits_builds_the_site_a_clean_build_gives(tmp_path: Path) -> None:
    root = git_project(tmp_path / "device")
    assert build(root).exit_code == 0
    for number, (step, change) in enumerate(STEPS):
        change(root)
        result = build(root)
        assert result.exit_code == 0, f"{step}: {result.output}"
        clean = tmp_path / f"clean-{number}"
        shutil.copytree(root, clean, ignore=shutil.ignore_patterns("_build"), symlinks=True)
        assert build(clean).exit_code == 0
        built, expected = site_files(root / "_build" / "html"), site_files(clean / "_build" / "html")
        differ = sorted(name for name in built.keys() | expected.keys() if built.get(name) != expected.get(name))
        assert differ == [], f"after {step}: {differ[:10]}"
        shutil.rmtree(clean)
