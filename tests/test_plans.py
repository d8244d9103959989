"""Plans as data: the release checklist evidenced by records, requirement types and their coverage,
configuration items, and a change of a field that only classifies a requirement leaving test results current."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import invoke_qms
from sphinx_support import build, page

from qms.checking import project_statuses
from qms.plans import configuration_items, release_checklist, type_coverage
from qms.project import load_project
from qms.review import item_blocks
from qms.status import StepStatus

BASE = Path(__file__).parent / "scenarios" / "_base"

PLANS = """
plans:
  development:
    toolchain:
      - {name: Compiler, version: "1.2.3", purpose: Builds it., control: lock file}
    release_checklist:
      - {step: Tests passed, evidence: ["kind:test"]}
      - {step: Requirement verified, evidence: [SWR-1]}
      - {step: Plan issued, evidence: [SDP]}
      - {step: Problems recorded, evidence: ["kind:anomaly"]}
      - {step: Ghost evidence, evidence: [NOPE-9]}
      - {step: Nothing named, evidence: []}
  configuration:
    items:
      - {name: Source code, identification: commit}
"""


ROLES = ("author", "reviewer", "approver")


def base_project(root: Path, extra: str = "") -> Path:
    shutil.copytree(BASE, root)
    with (root / "qms.yaml").open("a", encoding="utf-8") as handle:
        handle.write(extra)
    return root


def test_release_checklist_steps_are_done_only_when_their_records_show_it(tmp_path: Path) -> None:
    project = load_project(base_project(tmp_path / "p", PLANS))
    steps = {step.step: step for step in release_checklist(project, project_statuses(project))}
    assert steps["Tests passed"].status is StepStatus.EVIDENCED
    assert steps["Tests passed"].summary == "kind:test: 2 test record(s), all passed"
    assert steps["Requirement verified"].status is StepStatus.EVIDENCED
    assert steps["Plan issued"].status is StepStatus.OPEN  # its approval state is not at hand here
    assert (
        steps["Plan issued"].summary
        == "SDP: document SDP Software development plan: its approval state is not known here"
    )
    assert steps["Problems recorded"].status is StepStatus.OPEN
    assert steps["Problems recorded"].summary == "kind:anomaly: no anomaly record"
    assert steps["Ghost evidence"].summary == "NOPE-9: no item, document or kind of that name"
    assert steps["Nothing named"].status is StepStatus.OPEN


def test_a_step_is_open_while_a_test_it_names_has_not_passed(tmp_path: Path) -> None:
    root = base_project(tmp_path / "p", PLANS)
    runs = root / "records" / "runs.yaml"
    runs.write_text(runs.read_text(encoding="utf-8").replace("outcome: passed", "outcome: failed", 1), "utf-8")
    project = load_project(root)
    steps = {step.step: step for step in release_checklist(project, project_statuses(project))}
    assert steps["Tests passed"].status is StepStatus.OPEN
    assert steps["Tests passed"].summary == "kind:test: 1 of 2 test records not passed: TST-1"
    assert steps["Requirement verified"].summary == "SWR-1: software requirement SWR-1 is failed"


def test_release_check_reports_each_open_step_at_its_line(tmp_path: Path) -> None:
    root = base_project(tmp_path / "p", PLANS + "rules: {A601: off}\n")
    plain = invoke_qms("check", "--project", root)
    assert "L761" not in plain.output
    release = invoke_qms("check", "--release", "--project", root)
    lines = [line for line in release.output.splitlines() if "L761" in line]
    assert len(lines) == 4  # the plan named as evidence is a draft
    text = (root / "qms.yaml").read_text(encoding="utf-8").splitlines()
    for line in lines:
        number = int(line.split(":")[1])
        assert "step:" in text[number - 1]
    assert release.exit_code == 1


def test_configuration_items_list_the_plan_the_toolchain_and_the_soup(tmp_path: Path) -> None:
    project = load_project(base_project(tmp_path / "p", PLANS))
    found = [(entry.name, entry.category, entry.version) for entry in configuration_items(project)]
    assert found == [
        ("Source code", "project", "commit"),
        ("Compiler", "toolchain", "1.2.3"),
        ("SOUP-1 UI toolkit", "SOUP", "1.0.0"),
    ]


def test_type_coverage_counts_each_type_and_lists_the_untyped(tmp_path: Path) -> None:
    root = base_project(tmp_path / "p", PLANS)
    requirements = root / "items" / "requirements.yaml"
    text = requirements.read_text(encoding="utf-8")
    requirements.write_text(
        text.replace("    title: Grey out old readings\n", "    title: Grey out old readings\n    type: usability\n"),
        "utf-8",
    )
    project = load_project(root)
    rows = {row["type"]: row for row in type_coverage(project, project_statuses(project))}
    assert rows["usability"]["ids"] == ["SWR-1"] and rows["usability"]["passed"] == 1
    assert rows["functional"]["count"] == 0
    assert "" not in rows  # the untyped row appears only when some requirement has no type
    system = {row["type"]: row for row in type_coverage(project, project_statuses(project), "system_requirement")}
    assert system[""]["ids"] == ["SYS-1"]


def test_untyped_requirements_are_reported_once_the_development_plan_is_data(tmp_path: Path) -> None:
    without_plan = invoke_qms("check", "--project", base_project(tmp_path / "a"))
    assert "L762" not in without_plan.output
    with_plan = invoke_qms("check", "--project", base_project(tmp_path / "b", PLANS))
    assert [line.split(" ")[3] for line in with_plan.output.splitlines() if " warning L762 " in line] == [
        "SYS-1:",
        "SWR-1:",
    ]


def _git(root: Path, *args: str) -> None:
    env = os.environ | {
        "GIT_AUTHOR_NAME": "A",
        "GIT_AUTHOR_EMAIL": "a@example.com",
        "GIT_COMMITTER_NAME": "A",
        "GIT_COMMITTER_EMAIL": "a@example.com",
        "GIT_AUTHOR_DATE": "2020-01-01T12:00:00+00:00",
        "GIT_COMMITTER_DATE": "2020-01-01T12:00:00+00:00",
    }
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def _committed_base(root: Path) -> Path:
    """The base project committed in 2020, before its recorded runs of 2025."""
    base_project(root)
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "records")
    return root


#: edits of the classifying fields (qms.schema.CLASSIFYING_FIELDS) of SWR-1: a line added or changed
CLASSIFYING_EDITS = {
    "type": ("    title: Grey out old readings\n", "    title: Grey out old readings\n    type: usability\n"),
    "control_type": ("    control_type: protective_measure\n", "    control_type: inherent_safety\n"),
    "safety_class": ("    title: Grey out old readings\n", "    title: Grey out old readings\n    safety_class: B\n"),
}


@pytest.mark.parametrize("field", sorted(CLASSIFYING_EDITS))
@pytest.mark.parametrize("committed", [False, True])
def test_a_classifying_change_leaves_results_current_and_a_text_change_does_not(
    tmp_path: Path, committed: bool, field: str
) -> None:
    root = _committed_base(tmp_path / "p")
    requirements = root / "items" / "requirements.yaml"
    text = requirements.read_text(encoding="utf-8")
    old, new = CLASSIFYING_EDITS[field]
    assert old in text
    classified = text.replace(old, new)
    requirements.write_text(classified, encoding="utf-8")
    if committed:
        subprocess.run(
            ["git", "commit", "-qam", field],
            cwd=root,
            check=True,
            capture_output=True,
            env=os.environ
            | {
                "GIT_AUTHOR_NAME": "A",
                "GIT_AUTHOR_EMAIL": "a@x",
                "GIT_COMMITTER_NAME": "A",
                "GIT_COMMITTER_EMAIL": "a@x",
            },
        )
    assert "E407" not in invoke_qms("check", "--project", root).output
    requirements.write_text(classified.replace("15 minutes", "12 minutes"), encoding="utf-8")
    stale = invoke_qms("check", "--project", root).output
    assert "E407 TST-1: stale result: RUN-1" in stale and "before SWR-1" in stale


@pytest.mark.parametrize("committed", [False, True])
def test_an_item_added_after_another_leaves_the_results_of_the_one_before_current(
    tmp_path: Path, committed: bool
) -> None:
    # the blank line and the comment before the new item are layout, not a change of SWR-1
    root = _committed_base(tmp_path / "p")
    requirements = root / "items" / "requirements.yaml"
    text = requirements.read_text(encoding="utf-8")
    old = "    control_type: protective_measure\n"
    added = (
        "\n  # Added later: the unit beside the value.\n"
        "  - id: SWR-2\n    kind: software_requirement\n    title: Show the unit\n    derives_from: [SYS-1]\n"
        "    text: |\n      The software shall show the unit of the reading.\n"
        "      # not a comment: the last line of the text\n"
    )
    requirements.write_text(text.replace(old, old + added, 1), encoding="utf-8")
    if committed:
        _git(root, "commit", "-qam", "SWR-2")
    output = invoke_qms("check", "--project", root).output
    assert "SWR-2" in output  # the new requirement is reported (no test verifies it) ...
    assert "E407" not in output  # ... but SWR-1's result is not made stale
    # each item's lines end at its last line of content: SWR-1 at its control type, and SWR-2 at
    # the last line of its text, which only looks like a comment
    lines = requirements.read_text(encoding="utf-8").splitlines()
    blocks = item_blocks(load_project(root), ["SWR-1", "SWR-2"])["items/requirements.yaml"]
    assert lines[blocks["SWR-1"][1] - 1] == "    control_type: protective_measure"
    assert lines[blocks["SWR-2"][1] - 1] == "      # not a comment: the last line of the text"


@pytest.mark.slow
def test_the_plans_are_rendered_with_their_computed_checklist(tmp_path: Path) -> None:
    root = base_project(tmp_path / "p", PLANS)
    (root / "conf.py").write_text("extensions = ['qms.sphinx']\n", encoding="utf-8")
    result = build(root, "-o", str(tmp_path / "site"))
    assert result.exit_code == 0, result.output
    sdp = page(tmp_path / "site", "software-development-plan.html")
    assert "Compiler" in sdp and "1.2.3" in sdp
    assert "(2 of 6 evidenced)" in " ".join(sdp.split())
    assert "Coding standard" not in sdp  # the plan names none: nothing is claimed
    assert "NOPE-9: no item, document or kind of that name" in sdp
    cmp = page(tmp_path / "site", "configuration-management-plan.html")
    assert "Source code" in cmp and "toolchain" in cmp
    smp = page(tmp_path / "site", "software-maintenance-plan.html")
    assert "Not stated in plans.maintenance.feedback." in smp
    srs = page(tmp_path / "site", "software-requirements.html")
    assert "User interface and usability" in srs


def test_a_document_evidences_a_step_once_it_is_approved_at_its_current_content(tmp_path: Path) -> None:
    """Naming a document proves nothing by itself: its approval is the people's record that what it
    says was done. A draft is not evidence; approved in every role, it is; changed since, not again."""
    people = "".join(f"    - {{name: Pat {role}, email: {role}@example.org, roles: [{role}]}}\n" for role in ROLES)
    root = base_project(
        tmp_path / "p",
        "plans:\n  development:\n    release_checklist:\n      - {step: Plan issued, evidence: [SDP]}\n"
        f"roles:\n  people:\n{people}",
    )

    def step_finding() -> list[str]:
        output = invoke_qms("check", "--release", "--project", root).output.splitlines()
        return [line.split(" L761: ")[1] for line in output if " L761: " in line]

    assert step_finding() == [
        "release step 'Plan issued' is not evidenced: SDP: document SDP Software development plan is a draft: "
        "approve it with `qms approve SDP --role ROLE`"
    ]
    for role in ROLES:
        approved = invoke_qms(
            "approve", "SDP", "--role", role, "--as", f"Pat {role}", "--with-findings", "--project", root
        )
        assert approved.exit_code == 0, approved.output
    assert step_finding() == []
    project = load_project(root)
    from qms.approvals import document_states

    states = document_states(project, project_statuses(project))
    (step,) = release_checklist(project, project_statuses(project), states)
    assert step.summary == "SDP: document SDP Software development plan, approved (revision 1)"

    config = root / "qms.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("Plan issued", "Plan issued and kept"), "utf-8")
    assert step_finding() == [
        "release step 'Plan issued and kept' is not evidenced: SDP: document SDP Software development plan is "
        "changed since its approval: approve it with `qms approve SDP --role ROLE`"
    ]
