"""Rule Q009: ``qms check`` parses item text as the site does and reports each markup error once,
at the YAML file, line and column of the offending line; text the site accepts gives nothing."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import invoke_qms
from sphinx_support import build, new_project

BASE = Path(__file__).parent / "scenarios" / "_base"
PACKAGE_ROOT = Path(__file__).parent.parent


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "device"
    shutil.copytree(BASE, root)
    assert invoke_qms("check", cwd=root).stdout == "11 items in 5 files: no findings\n"
    return root


def add_items(root: Path, items: str) -> None:
    (root / "items" / "more.yaml").write_text(f"kind: anomaly\nitems:\n{items}", encoding="utf-8")


def findings(root: Path) -> list[tuple[str, str, int, int, str]]:
    report = json.loads(invoke_qms("check", "--format", "json", cwd=root).stdout)
    return [
        (finding["rule"], finding["file"], finding["line"], finding["column"], finding["message"])
        for finding in report["findings"]
    ]


ANOMALY = "  - id: BUG-1\n    title: A bug\n    status: closed\n    severity: minor\n"

#: text as written in items/more.yaml (after ``evaluation:``) -> (line, column, message) of the one finding
MISTAKES = {
    "emphasis left open, one-line text": (
        " The dose is *capped.\n",
        (7, 17, "evaluation: Inline emphasis start-string without end-string: close it, or write \\* for"),
    ),
    "indentation in a block scalar": (
        " |\n      First line\n      - a list item\n        its text\n      After it.\n",
        (10, 7, "evaluation: Unexpected indentation: indent only what belongs to a list"),
    ),
    "unknown item id": (
        " |\n      Fixed with\n      :item:`SWR-01`.\n",
        (9, 7, "evaluation: unknown item id 'SWR-01' (did you mean 'SWR-1'?)"),
    ),
    "refused directive": (
        " |\n      Text.\n\n      .. raw:: html\n\n         <script>alert(1)</script>\n",
        (10, 7, "evaluation: directive 'raw' is not allowed in item text and was left out"),
    ),
    "refused role": (
        " |\n      See :download:`the log <log.txt>`.\n",
        (8, 7, "evaluation: role ':download:' is not allowed in item text; its text is shown as written"),
    ),
    "link to script": (
        " |\n      Text.\n\n      See `the log <javascript:alert(1)>`_.\n",
        (10, 7, "evaluation: link to 'javascript:alert(1)' removed from item text"),
    ),
    "link target not defined": (
        " |\n      See `the log`_.\n",
        (8, 7, 'evaluation: Unknown target name: "the log": define it in the same text'),
    ),
    "section title": (
        " |\n      Cause\n      =====\n\n      Text.\n",
        (9, 7, "evaluation: Unexpected section title: item text has no sections"),
    ),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_one_markup_mistake_gives_one_finding_at_its_line(project: Path, mistake: str) -> None:
    text, (line, column, message) = MISTAKES[mistake]
    add_items(project, f"{ANOMALY}    evaluation:{text}")

    found = findings(project)

    assert [(rule, file, found_line, found_column) for rule, file, found_line, found_column, _ in found] == [
        ("Q009", "items/more.yaml", line, column)
    ]
    assert found[0][4].startswith(message)
    assert invoke_qms("check", cwd=project).exit_code == 1


def test_texts_of_every_kind_of_field_are_read(project: Path) -> None:
    """Test steps, ``x-`` text and lists of text, and the device's intended use in qms.yaml."""
    (project / "items" / "more.yaml").write_text(
        "kind: test\n"
        "items:\n"
        "  - id: TST-2\n"
        "    title: More\n"
        "    method: test\n"
        "    verifies: [SWR-1]\n"
        "    steps:\n"
        "      - Start the pump.\n"
        "      - Press *stop.\n"
        "    x-notes: |\n"
        "      Fine.\n"
        "\n"
        "      ``open\n"
        "    x-list: [plain, '`open']\n",
        encoding="utf-8",
    )
    config = project / "qms.yaml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "  software_safety_class: C\n", "  software_safety_class: C\n  intended_use: |\n    Dosing *insulin.\n"
        ),
        encoding="utf-8",
    )

    found = [
        (file, line, column, message.split(":")[0])
        for rule, file, line, column, message in findings(project)
        if rule == "Q009"
    ]

    assert found == [
        ("items/more.yaml", 9, 9, "steps[1]"),
        ("items/more.yaml", 13, 7, "x-notes"),
        ("items/more.yaml", 14, 13, "x-list[1]"),  # an entry of a flow list: at the list
        ("qms.yaml", 6, 5, "device.intended_use"),
    ]


def test_what_the_site_accepts_gives_no_finding(project: Path) -> None:
    """Sphinx's own directives, options and roles, code that is no reStructuredText, a known id."""
    text = """ |
      See :item:`SWR-1`, :item:`the requirement <SWR-1>`, :item:`!NOT-AN-ID`, :ref:`somewhere`,
      :doc:`index`, :kbd:`Ctrl-C`, :abbr:`LIFO (last in, first out)` and :math:`a^2`.

      .. code-block:: python
         :linenos:
         :caption: Not checked: *code* `is not` markup
         :number-lines: 3

         dose = `*unclosed

      .. seealso::

         The **manual**.

      .. versionadded:: 2.1
         Capped doses.

      .. hlist::
         :columns: 2

         * one
         * two

      .. math::
         :label: dose

         d = \\min(a, b)

      .. rubric:: Doses
         :heading-level: 3

      .. csv-table::
         :header-rows: 1

         dose, unit
         1, U

      A literal block::

         *not markup*
"""
    add_items(project, f"{ANOMALY}    evaluation:{text}")

    assert findings(project) == []


def test_sizes_beyond_bounds_and_links_in_maths_are_reported_once_by_their_own_rules(project: Path) -> None:
    text = """ |
      .. list-table::
         :header-rows: 500

         * - a

      Formula :math:`\\href{javascript:alert(1)}{x}`.
"""
    add_items(project, f"{ANOMALY}    evaluation:{text}")

    assert [rule for rule, *_ in findings(project)] == ["Q010", "Q011"]


def test_a_project_of_prose_never_loads_docutils(project: Path) -> None:
    """Plain prose passes the fast path: the check of most projects pays nothing for the parser."""
    code = (
        "import sys\nfrom pathlib import Path\nfrom qms.checking import check_context\n"
        "from qms.project import load_project\nfrom qms.rules import run_rules\n"
        f"findings = run_rules(check_context(load_project(Path({str(project)!r}))))\n"
        "print(len(findings), 'docutils' in sys.modules)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PACKAGE_ROOT)
    assert result.stdout.split() == ["0", "False"]

    add_items(project, f"{ANOMALY}    evaluation: A *mistake.\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PACKAGE_ROOT)
    assert result.stdout.split() == ["1", "True"]


@pytest.mark.slow
def test_every_build_warning_about_item_text_is_a_finding_at_the_same_line(tmp_path: Path) -> None:
    """The check and the site agree: each warning the build gives about item text is a Q009 at its
    file and line, and the check reports nothing the build accepts.

    Where the check is finer, the mistakes are written so both say the same: the build places an
    ``:item:`` role and a removed link at their paragraph's first line (the check at their own), and
    gives a second message where an unexpected indentation ends (the check one per mistake).
    """
    finer = ("link to script", "unknown item id", "indentation in a block scalar")
    texts = [text for name, (text, _) in MISTAKES.items() if name not in finer]
    texts += [" |\n      :item:`SWR-01` fixed it.\n", " |\n      Text.\n\n        Quoted.\n      After.\n"]
    mistakes = "".join(
        f"  - id: BUG-{number}\n    title: Bug {number}\n    status: closed\n    severity: minor\n    evaluation:{text}"
        for number, text in enumerate(texts, 1)
    )
    root = new_project(tmp_path / "device", files={"traceability/bugs.yaml": f"kind: anomaly\nitems:\n{mistakes}"})

    result = build(root)
    warned = {
        (Path(file).relative_to(root).as_posix(), int(line))
        for file, line in re.findall(r"^(/\S+\.yaml):(\d+): (?:WARNING|ERROR)", result.output, re.MULTILINE)
    }
    reported = {(file, line) for rule, file, line, _, _ in findings(root) if rule == "Q009"}

    assert len(reported) == len(texts)
    assert warned == reported, result.output
