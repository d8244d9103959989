"""One mistake, one finding: findings that follow from another are folded under their cause.

Each common mistake is made in a copy of the scenarios' clean class C project, with change
control started (``qms.lock``), as a new user makes it: the check must print exactly one finding,
``--all`` and the machine formats must still carry the consequences with their cause.
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import invoke_qms

BASE = Path(__file__).parent / "scenarios" / "_base"
REQUIREMENTS = "items/requirements.yaml"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "device"
    shutil.copytree(BASE, root)
    result = invoke_qms("review", "--all", cwd=root)
    assert result.exit_code == 0, result.output
    assert invoke_qms("check", cwd=root).stdout == "11 items in 5 files: no findings\n"
    return root


def edit(root: Path, file: str, old: str, new: str) -> None:
    path = root / file
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


#: mistake -> (file, text as written, text with the mistake, the rule of the one finding)
MISTAKES = {
    "field typo": (
        REQUIREMENTS,
        "    derives_from: [SYS-1]\n    control",
        "    derive_from: [SYS-1]\n    control",
        "Q002",
    ),
    "bad indentation": (REQUIREMENTS, "\n    title: Display the", "\n      title: Display the", "Q001"),
    "kind typo": (REQUIREMENTS, "kind: system_requirement", "kind: system_requirment", "Q002"),
    "unknown id": (REQUIREMENTS, "derives_from: [SYS-1]", "derives_from: [SYS-01]", "Q005"),
    "tab": (REQUIREMENTS, "\n    title: Display the", "\n\ttitle: Display the", "Q001"),
    "item kind typo": (REQUIREMENTS, "kind: software_requirement", "kind: software_requirment", "Q002"),
    "link field typo": ("items/tests.yaml", "verifies: [SYS-1, SWR-1]", "verfies: [SYS-1, SWR-1]", "Q002"),
    "id with a space": ("items/tests.yaml", "id: TST-1\n", "id: TST 1\n", "Q002"),
}


@pytest.mark.parametrize("mistake", MISTAKES)
def test_one_mistake_gives_one_finding(project: Path, mistake: str) -> None:
    file, old, new, rule = MISTAKES[mistake]
    edit(project, file, old, new)
    result = invoke_qms("check", "--format", "json", cwd=project)
    report = json.loads(result.stdout)
    roots = [finding for finding in report["findings"] if "cause" not in finding]
    assert [finding["rule"] for finding in roots] == [rule], result.stdout
    assert report["summary"]["errors"] == 1 and report["summary"]["warnings"] == 0
    assert report["summary"]["folded"] == len(report["findings"]) - 1
    root = roots[0]
    for finding in report["findings"][1:]:
        assert finding["cause"] == {key: root[key] for key in ("rule", "item", "file", "line", "column")}
    text = invoke_qms("check", cwd=project)
    assert text.exit_code == 1
    assert sum(1 for line in text.stdout.splitlines() if ": error " in line) == 1


def test_text_names_the_cause_first_and_the_commands_to_run_next(project: Path) -> None:
    edit(project, REQUIREMENTS, "\n    title: Display the", "\n      title: Display the")
    result = invoke_qms("check", cwd=project)
    assert result.stdout == (
        "items/requirements.yaml:4:12: error Q001: YAML syntax error: mapping values are not allowed in this "
        "context (check the indentation of this line, or quote a value that holds ': ')\n"
        "\n"
        "8 items in 5 files: 1 error, 0 warnings; 5 more follow from these\n"
        "next: `qms rule Q001` explains the first finding; "
        "`qms check --all` also shows the 5 findings that follow from these\n"
    )
    everything = invoke_qms("check", "--all", cwd=project).stdout.splitlines()
    assert everything[0].startswith("items/requirements.yaml:4:12: error Q001:")
    assert everything[1:6] == [
        "    items/architecture.yaml:6:18: error Q005 SI-1: implements links to unknown id 'SWR-1': "
        "it is defined in items/requirements.yaml, which does not parse (Q001)",
        "    items/hazards.yaml:10:16: error Q005 HAZ-1: controls links to unknown id 'SWR-1': "
        "it is defined in items/requirements.yaml, which does not parse (Q001)",
        "    items/tests.yaml:6:16: error Q005 TST-1: verifies links to unknown id 'SYS-1': "
        "it is defined in items/requirements.yaml, which does not parse (Q001)",
        "    items/tests.yaml:6:23: error Q005 TST-1: verifies links to unknown id 'SWR-1': "
        "it is defined in items/requirements.yaml, which does not parse (Q001)",
        "    items/needs.yaml:3:5: error T101 NEED-1: not refined by any system requirement "
        "(no system requirement derives_from it)",
    ]
    assert everything[-1] == "next: `qms rule Q001` explains the first finding"


def test_errors_come_in_root_cause_order_whatever_the_file_order(project: Path) -> None:
    """A schema error in a late file comes before a trace error in an early one."""
    edit(project, "items/tests.yaml", "    method: test\n", "    method: tset\n")
    edit(project, "items/needs.yaml", "    title: Know", "    text: Extra.\n    title: Know")  # Q004 first
    (project / "items" / "another.yaml").write_text(
        "id: NEED-2\nkind: need\ntitle: Alarm\ntext: The user hears an alarm.\n", encoding="utf-8"
    )
    lines = [line for line in invoke_qms("check", cwd=project).stdout.splitlines() if ": error " in line]
    assert [line.split()[2] for line in lines] == ["Q002", "Q004", "T101", "T104"]


def test_a_finding_about_another_field_is_not_folded(project: Path) -> None:
    """Folding is by field: a refused test method does not hide that a requirement is unverified."""
    edit(project, "items/tests.yaml", "    method: test\n", "    method: tset\n")
    edit(project, "items/tests.yaml", "verifies: [SYS-1, SWR-1]", "verifies: [SYS-1]")
    report = json.loads(invoke_qms("check", "--format", "json", cwd=project).stdout)
    assert [(finding["rule"], finding["item"], "cause" in finding) for finding in report["findings"]] == [
        ("Q002", "TST-1", False),
        ("R205", "SWR-1", False),  # a risk control: R205 says it for T103
    ]


def test_unknown_id_suggests_the_closest(project: Path) -> None:
    edit(project, REQUIREMENTS, "derives_from: [SYS-1]", "derives_from: [sys-1]")
    report = json.loads(invoke_qms("check", "--format", "json", cwd=project).stdout)
    assert [finding["message"] for finding in report["findings"]] == [
        "derives_from links to unknown id 'sys-1' (did you mean 'SYS-1'?)"
    ]


def test_machine_formats_carry_the_cause(project: Path) -> None:
    edit(project, REQUIREMENTS, "kind: system_requirement", "kind: system_requirment")
    sarif = json.loads(invoke_qms("check", "--format", "sarif", cwd=project).stdout)
    results = sarif["runs"][0]["results"]
    assert results[0]["ruleId"] == "Q002" and "properties" not in results[0]
    assert len(results) > 1
    assert all(result["properties"]["cause"]["rule"] == "Q002" for result in results[1:])
    junit = ET.fromstring(invoke_qms("check", "--format", "junit", cwd=project).stdout)
    q006 = next(case for case in junit.iter("testcase") if case.get("name", "").startswith("Q006"))
    failure = q006.find("failure")
    assert failure is not None and failure.text is not None
    assert all(
        line.endswith("(follows from Q002 at items/requirements.yaml:1:7)") for line in failure.text.splitlines()
    )
    github = invoke_qms("check", "--format", "github", cwd=project).stdout.splitlines()
    assert [line.split()[0] for line in github[:-1]] == ["::error"]


def test_a_new_item_with_links_gives_no_suspect_link(project: Path) -> None:
    with (project / REQUIREMENTS).open("a", encoding="utf-8") as requirements:
        requirements.write(
            "\n  - id: SWR-2\n    kind: software_requirement\n    title: Alarm\n"
            "    text: The software shall alarm.\n    derives_from: [SYS-1]\n"
        )
    with (project / "items" / "tests.yaml").open("a", encoding="utf-8") as tests:
        tests.write("\n  - id: TST-2\n    title: Alarm\n    method: test\n    verifies: [SWR-2]\n")
    with (project / "items" / "architecture.yaml").open("a", encoding="utf-8") as architecture:
        architecture.write(
            "\n  - id: SI-2\n    title: Alarm\n    description: Sounds.\n    implements: [SWR-2]\n"
            "    no_hazard_rationale: Sounds an alarm only; no cause names it.\n"
        )
    report = json.loads(invoke_qms("check", "--format", "json", cwd=project).stdout)
    assert [finding["rule"] for finding in report["findings"]] == ["E405"]  # TST-2 has not run: nothing else
