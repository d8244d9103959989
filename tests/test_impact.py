"""Impact analysis (``qms show ID --impact``): what a change to one item puts in question."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from qms.cli import main
from qms.impact import impact
from qms.model import Project
from qms.project import load_project

FIXTURE = Path(__file__).parent / "fixtures" / "change" / "project"


@pytest.fixture(scope="module")
def project() -> Project:
    return load_project(FIXTURE)


def _entries(project: Project, item_id: str) -> list[tuple[str, str, str, int]]:
    return [(entry.item.id, entry.label, entry.link.target, entry.depth) for entry in impact(project, item_id).entries]


def test_system_requirement_change_reaches_children_implementers_tests_and_hazards(project: Project) -> None:
    assert _entries(project, "SYS-1") == [
        ("SWR-1", "derives from", "SYS-1", 1),
        ("SWR-2", "derives from", "SYS-1", 1),
        ("TST-1", "verifies", "SYS-1", 1),
        ("SI-1", "implements", "SWR-1", 2),
        ("TST-2", "verifies", "SWR-1", 2),
        ("HAZ-1", "controlled by", "SWR-1", 2),
    ]


def test_groups_tests_and_hazards(project: Project) -> None:
    result = impact(project, "SYS-1")
    assert [entry.item.id for entry in result.tests] == ["TST-1", "TST-2"]
    assert [entry.item.id for entry in result.hazards] == ["HAZ-1"]
    assert [entry.item.id for entry in result.of_kind("software_item")] == ["SI-1"]


def test_containment_is_followed_from_the_changed_item_only(project: Project) -> None:
    # SI-2 is part of SI-1: in question when SI-1 changes, not when SI-1 is merely in question.
    assert _entries(project, "SI-1") == [("SI-2", "part of", "SI-1", 1), ("TST-3", "verifies", "SI-2", 2)]
    assert "SI-2" not in [entry.item.id for entry in impact(project, "SWR-1").entries]


def test_soup_change_reaches_the_items_using_it(project: Project) -> None:
    assert _entries(project, "SOUP-1") == [("SI-1", "uses", "SOUP-1", 1)]


def test_item_nothing_depends_on(project: Project) -> None:
    assert impact(project, "TST-2").entries == ()


def test_cli_text() -> None:
    result = CliRunner().invoke(main, ["show", "SYS-2", "--impact", "--project", str(FIXTURE)])
    assert result.exit_code == 0, result.output
    assert result.output == (
        "Impact of a change to SYS-2 (Alert history): 4 items in question\n"
        "\n"
        "Software requirements (1)\n"
        "  SWR-3        derives from SYS-2               Store alerts\n"
        "\n"
        "Software items (1)\n"
        "  SI-2         implements SWR-3                 Alert store\n"
        "\n"
        "Tests to re-run (2)\n"
        "  TST-1        verifies SYS-2                   Low alert end to end\n"
        "  TST-3        verifies SWR-3                   Alert storage\n"
    )


def test_cli_json() -> None:
    result = CliRunner().invoke(main, ["show", "SWR-1", "--impact", "--format", "json", "--project", str(FIXTURE)])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["id"] == "SWR-1"
    assert [(entry["id"], entry["field"], entry["target"], entry["depth"]) for entry in document["impact"]] == [
        ("SI-1", "implements", "SWR-1", 1),
        ("TST-2", "verifies", "SWR-1", 1),
        ("HAZ-1", "controls", "SWR-1", 1),
    ]
    assert document["impact"][2]["relation"] == "controlled by"


def test_cli_nothing_in_question() -> None:
    result = CliRunner().invoke(main, ["show", "VAL-1", "--impact", "--project", str(FIXTURE)])
    assert result.exit_code == 0
    assert result.output == "Nothing links to VAL-1: a change to it puts no other item in question.\n"


def test_cli_unknown_item() -> None:
    result = CliRunner().invoke(main, ["show", "sys-1", "--impact", "--project", str(FIXTURE)])
    assert result.exit_code == 1
    assert "no item with id sys-1 (did you mean SYS-1?)" in result.output
