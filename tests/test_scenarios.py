"""End-to-end scenarios: a tiny project per folder, the real command line, the exact output.

Each folder under ``tests/scenarios/`` (see its README) holds project files and an
``expected.txt`` transcript: ``$ qms ...`` lines, the exact output of each command, and its exit
code in brackets. A folder without its own ``qms.yaml`` is laid over ``tests/scenarios/_base``,
a small class C project that checks clean, so that the seeded defect is the only finding.

The test always compares. Writing a transcript from the actual output is a separate command,
``python tests/update_scenarios.py NAME`` (review every line it wrote before committing it).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from conftest import invoke_qms
from scenario_support import (
    BASE,
    SCENARIOS,
    TRANSCRIPT,
    Step,
    lay_out,
    read_transcript,
    run_scenario,
    scenario_names,
    write_transcript,
)
from update_scenarios import main as update_main
from update_scenarios import update


def check_scenario(scenario: Path, root: Path) -> None:
    """Run the scenario's commands and compare each output and exit code with its transcript."""
    _, expected, actual = run_scenario(scenario, root)
    assert expected, f"{scenario.name}: the transcript runs no command"
    for want, got in zip(expected, actual, strict=True):
        assert got.output == want.output, f"{scenario.name}: output of `{want.command}`"
        assert got.exit_code == want.exit_code, f"{scenario.name}: exit code of `{want.command}`"


@pytest.mark.parametrize("name", scenario_names())
def test_scenario(name: str, tmp_path: Path) -> None:
    check_scenario(SCENARIOS / name, tmp_path / "project")


def test_a_scenario_whose_output_differs_fails_whatever_the_environment_says(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    scenario = tmp_path / "scenarios" / "e402-evidence-not-run"
    shutil.copytree(SCENARIOS / scenario.name, scenario)
    comments, steps = read_transcript(scenario / TRANSCRIPT)
    write_transcript(
        scenario / TRANSCRIPT, comments, [Step(step.command, ["not what it prints"], step.exit_code) for step in steps]
    )
    monkeypatch.setenv("QMS_UPDATE_SCENARIOS", "1")

    with pytest.raises(AssertionError, match="output of `qms check"):
        check_scenario(scenario, tmp_path / "project")
    assert read_transcript(scenario / TRANSCRIPT)[1][0].output == ["not what it prints"]


def test_every_setup_step_of_a_scenario_succeeds() -> None:
    """A step that prepares a scenario (``git apply``, ``git commit``...) must succeed: one that fails
    (a patch that no longer applies) leaves the scenario testing something other than its comment says."""
    failing = [
        f"{name}: `{step.command}` exits {step.exit_code}"
        for name in scenario_names()
        for step in read_transcript(SCENARIOS / name / TRANSCRIPT)[1]
        if not step.command.startswith("qms ") and step.exit_code != 0
    ]
    assert failing == []


def test_transcripts_round_trip(tmp_path: Path) -> None:
    """The transcript reader keeps comments, commands, output lines and exit codes."""
    path = tmp_path / TRANSCRIPT
    path.write_text("# about\n$ qms check\na: b\n\nsummary\n[1]\n$ qms rule T101\n[0]\n", encoding="utf-8")
    comments, steps = read_transcript(path)
    assert comments == ["# about"]
    assert steps == [Step("qms check", ["a: b", "", "summary"], 1), Step("qms rule T101", [], 0)]
    write_transcript(tmp_path / "again.txt", comments, steps)
    assert (tmp_path / "again.txt").read_text(encoding="utf-8") == path.read_text(encoding="utf-8")


def test_base_project_checks_clean(tmp_path: Path) -> None:
    result = invoke_qms("check", cwd=lay_out(BASE, tmp_path / "base"))
    assert (result.exit_code, result.output) == (0, "11 items in 5 files: no findings\n")


def test_the_update_command_writes_the_transcript_the_test_then_compares(tmp_path: Path) -> None:
    scenario = tmp_path / "e402-evidence-not-run"
    shutil.copytree(SCENARIOS / scenario.name, scenario)
    comments, steps = read_transcript(scenario / TRANSCRIPT)
    write_transcript(scenario / TRANSCRIPT, comments, [Step(step.command, [], 0) for step in steps])

    assert update(scenario) is True
    assert (scenario / TRANSCRIPT).read_text(encoding="utf-8") == (SCENARIOS / scenario.name / TRANSCRIPT).read_text(
        encoding="utf-8"
    )
    assert update(scenario) is False
    check_scenario(scenario, tmp_path / "project")


def test_the_update_command_needs_a_known_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    for arguments in ([], ["no-such-scenario"]):
        with pytest.raises(SystemExit) as exit_status:
            update_main(arguments)
        assert exit_status.value.code == 2
    assert "unknown scenario no-such-scenario" in capsys.readouterr().err


#: Scenarios named after a rule whose transcript shows findings of other rules too, and why each
#: belongs there. Any other finding is a second defect in the scenario's files (an untested test,
#: an item with no hazard statement), which hides whether the rule itself gives one finding.
OTHER_RULES_SHOWN = {
    "a602-document-changed-since-approval": {"A601": "the documents the scenario does not approve"},
    "e401-failed-test": {"E406": "a failure needs an evaluated anomaly as well as a fix"},
    "e406-failure-without-anomaly": {"E401": "the failure E406 is about"},
    "l707-no-detailed-design": {"R217": "the scenario's own items have no hazard statement"},
    "q001-outside-the-project": {"E405": "the project's tests have no records in it"},
    "q002-need-with-derives-from": {"T104": "the need the scenario adds is not validated either"},
    "q008-placeholder": {"E405": "a new project's tests have no results yet"},
}


@pytest.mark.parametrize("name", [name for name in scenario_names() if re.match(r"[a-z]\d{3}-", name)])
def test_a_scenario_named_after_a_rule_shows_that_rule_alone(name: str) -> None:
    code = name.split("-", 1)[0].upper()
    text = (SCENARIOS / name / TRANSCRIPT).read_text(encoding="utf-8")
    shown = set(re.findall(r": (?:error|warning) ([A-Z]\d{3})\b", text))
    assert code in shown, f"{name} never shows {code}"
    assert shown - {code} == set(OTHER_RULES_SHOWN.get(name, {})), name
