"""The first hour with the command line: one error style, helpful refusals, `--project` everywhere,
`qms build` and the findings, a Sphinx configuration without the qms extension."""

from __future__ import annotations

import shutil
from pathlib import Path

import click
import pytest
from conftest import invoke_qms
from sphinx_support import build, new_project

from qms.cli import COMMANDS, main

BASE = Path(__file__).parent / "scenarios" / "_base"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "device"
    shutil.copytree(BASE, root)
    return root


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["check", "--bogus"], "qms: error: No such option '--bogus'; see `qms check --help`"),
        (["rule"], "qms: error: Missing argument 'CODE'; see `qms rule --help`"),
        (["check", "--format", "xml"], "qms: error: Invalid value for '--format': 'xml' is not one of "),
        (["nosuch"], "qms: error: No such command 'nosuch'; see `qms --help`"),
        (["import", "pump.xlsx"], "qms: error: name the format before the file: `qms import xlsx pump.xlsx`"),
        (["export", "pump.XLSX"], "qms: error: name the format before the file: `qms export xlsx pump.XLSX`"),
        (["import", "csv", "pump.csv"], "qms: error: unknown format 'csv': `qms import FORMAT FILE` takes xlsx"),
        (["review"], "qms: error: name the item whose links you reviewed, e.g. `qms review SWR-003`"),
        (["review", "SWR-1", "--all"], "qms: error: name the items you reviewed or pass --all, not both"),
        (["init"], "qms: error: name the folder of the new project: `qms init DIR`"),
        (["init", "a", "--project", "b"], "qms: error: name the folder once"),
    ],
)
def test_every_usage_error_is_one_line_in_one_style_with_exit_2(
    project: Path, arguments: list[str], message: str
) -> None:
    result = invoke_qms(*arguments, cwd=project)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(message), result.stderr
    assert "Error:" not in result.stderr and "Usage:" not in result.stderr


def _commands() -> list[tuple[str, click.Command]]:
    """Every command of the command line, the subcommands of a group by their full name."""
    context = click.Context(main)
    found = []
    for name in COMMANDS:
        command = main.get_command(context, name)
        assert command is not None
        if isinstance(command, click.Group):
            found += [(f"{name} {sub}", command.commands[sub]) for sub in command.commands]
        else:
            found.append((name, command))
    return found


@pytest.mark.parametrize(("name", "command"), _commands(), ids=[name for name, _ in _commands()])
def test_every_command_takes_project(name: str, command: click.Command) -> None:
    assert "--project" in [option for parameter in command.params for option in parameter.opts], name


def test_init_takes_the_class_in_any_case_and_the_folder_as_project(tmp_path: Path) -> None:
    result = invoke_qms("init", "--project", "pump", "--class", "b", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert "  software_safety_class: B\n" in (tmp_path / "pump" / "qms.yaml").read_text(encoding="utf-8")
    assert invoke_qms("init", "pump2", "--project", "pump2", "--class", "a", cwd=tmp_path).exit_code == 0


def test_rule_with_project_gives_the_severity_there(project: Path) -> None:
    with (project / "qms.yaml").open("a", encoding="utf-8") as config:
        config.write("rules: {T103: warning}\n")
    result = invoke_qms("rule", "t103", "--project", project)
    assert result.exit_code == 0
    assert result.stdout.endswith(f"In {project} (class C): warning (set in qms.yaml).\n")
    assert invoke_qms("rule", "S302", "--project", project).stdout.endswith(f"In {project} (class C): error.\n")


def test_schema_with_project_writes_into_it(project: Path, tmp_path: Path) -> None:
    result = invoke_qms("schema", "--project", project, "-o", "schemas", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert sorted(path.name for path in (project / "schemas").iterdir()) == [
        "qms-items.schema.json",
        "qms-project.schema.json",
    ]


def test_show_puts_a_space_after_every_label_and_a_list_one_entry_a_line(project: Path) -> None:
    (project / "items" / "more.yaml").write_text(
        "id: TST-2\nkind: test\ntitle: Restart\nmethod: test\nsteps: [Restart the pump., Repeat the reading.]\n"
        "verifies: [SYS-1]\n",
        encoding="utf-8",
    )
    hazard = invoke_qms("show", "HAZ-1", cwd=project).stdout.splitlines()
    assert "  hazardous_situation: The user acts on a value that no longer reflects the patient." in hazard
    assert "  harm:           Wrong treatment decision." in hazard  # values start in column 18
    test = invoke_qms("show", "TST-2", cwd=project).stdout.splitlines()
    steps = test.index("  steps:          - Restart the pump.")
    assert test[steps + 1] == " " * 18 + "- Repeat the reading."


def test_a_conf_py_without_the_qms_extension_is_one_error_naming_its_line(tmp_path: Path) -> None:
    root = new_project(tmp_path / "device")
    conf = root / "conf.py"
    text = conf.read_text(encoding="utf-8")
    line = text.splitlines().index('extensions = ["qms.sphinx"]') + 1
    conf.write_text(text.replace('extensions = ["qms.sphinx"]', "extensions = []"), encoding="utf-8")
    result = build(root)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == (
        f"qms: error: conf.py:{line}: the Sphinx extensions do not include qms.sphinx, which renders the records; "
        f'list it there: extensions = ["qms.sphinx"]; the previous site in {root / "_build" / "html"} is unchanged\n'
    )


def test_a_conf_py_that_builds_its_extensions_is_told_the_line_to_add(tmp_path: Path) -> None:
    root = new_project(tmp_path / "device")
    (root / "conf.py").write_text("import sys\n\nproject = 'x'\n", encoding="utf-8")
    result = build(root)
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert errors == [
        "qms: error: conf.py: the Sphinx extensions do not include qms.sphinx, which renders the records; add the "
        f'line extensions = ["qms.sphinx"]; the previous site in {root / "_build" / "html"} is unchanged'
    ]
    assert "Unknown directive" not in result.output


FAILED_RUN = """\
<testsuite name="system" tests="1" failures="1">
  <testcase classname="tests.test_age" name="test_grey" timestamp="2025-06-02T09:15:00Z">
    <failure message="shown in black"/>
  </testcase>
</testsuite>
"""


@pytest.mark.slow
def test_build_fails_on_findings_only_when_asked(tmp_path: Path) -> None:
    """An open E401 (a failed test) is shown on the site; --fail-on-findings and --strict make it fail the build,
    warnings alone (Q008, E405 here) do not."""
    root = new_project(tmp_path / "device", files={"reports/run.xml": FAILED_RUN})
    tests = root / "traceability" / "tests.yaml"
    text = tests.read_text(encoding="utf-8")
    tests.write_text(
        text.replace("    level: system\n", "    level: system\n    evidence: [tests.test_age.test_grey]\n")
    )
    with (root / "qms.yaml").open("a", encoding="utf-8") as config:
        config.write("  E406: off\n")  # under `rules:`: the failure's anomaly is not what this test is about
    checked = invoke_qms("check", cwd=root)
    assert [line.split()[1:3] for line in checked.stdout.splitlines() if " error " in line] == [["error", "E401"]]
    plain = build(root)
    assert plain.exit_code == 0, plain.output
    site = root / "_build" / "html"
    pages = "".join(path.read_text(encoding="utf-8") for path in site.glob("*.html"))
    assert "1 error," in pages and "1 errors" not in pages
    failing = build(root, "--fail-on-findings")
    assert failing.exit_code == 1
    assert failing.stderr == (
        "qms: error: built, but with --fail-on-findings the findings fail the build "
        "(12 items in 5 files: 1 error, 3 warnings): `qms check` lists them\n"
    )
    assert (site / "index.html").is_file()  # the site is there, showing the open finding
    strict = build(root, "--strict")
    assert strict.exit_code == 1
    assert strict.stderr.startswith("qms: error: built, but with --strict the findings fail the build")
    with (root / "qms.yaml").open("a", encoding="utf-8") as config:
        config.write("  E401: off\n")
    assert build(root, "--strict").exit_code == 0  # the warnings left (Q008, E405) stay warnings
