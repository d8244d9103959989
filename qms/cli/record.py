"""``qms record TEST-ID --outcome O``: write a test execution record (manual tests, inspections,
analyses, validation), one new file per run; records are never edited afterwards."""

from __future__ import annotations

import datetime
import glob
from pathlib import Path

import click
import yaml

from qms import atomic
from qms.cli.common import EXIT_FINDINGS, fail, load, project_option
from qms.gitinfo import document_control, user_name
from qms.model import Project
from qms.records import COMMIT_PATTERN, OUTCOMES, file_sha256


def _folder(project: Project) -> Path:
    """The folder new records go to: the first entry of ``records:``, which must be a folder in the project."""
    if not project.config.records:
        fail("qms.yaml has no `records:` setting: add e.g. `records: [verification_records]`", code=EXIT_FINDINGS)
    first = project.config.records[0]
    folder = (project.root / first).resolve()
    if glob.has_magic(first) or not folder.is_relative_to(project.root.resolve()):
        fail(f"the first entry of `records:` ({first}) must be a folder inside the project", code=EXIT_FINDINGS)
    return folder


def _attachment(project: Project, file: Path) -> dict[str, str]:
    path = file.resolve()
    root = project.root.resolve()
    if not path.is_relative_to(root):
        fail(f"attachment {file} is outside the project: copy it into the repository first", code=EXIT_FINDINGS)
    digest = file_sha256(path)
    if digest is None or not path.is_file():
        fail(f"attachment {file} is not a readable file", code=EXIT_FINDINGS)
    assert digest is not None
    return {"path": path.relative_to(root).as_posix(), "sha256": digest}


@click.command()
@project_option
@click.argument("test_id", metavar="TEST-ID")
@click.option("--outcome", type=click.Choice(OUTCOMES), required=True, help="How the run ended.")
@click.option("--by", "executed_by", metavar="NAME", help="Who executed the test. Default: git's user.name.")
@click.option("--note", metavar="TEXT", help="Observations made during the run.")
@click.option("--deviation", metavar="TEXT", help="Deviations from the test procedure.")
@click.option("--reason", metavar="TEXT", help="Why the test was blocked or is not applicable (required then).")
@click.option(
    "--attach",
    "attachments",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A file in the project that documents the run (repeatable); its sha256 is recorded.",
)
@click.option("--anomaly", "anomalies", multiple=True, metavar="ID", help="An anomaly the run raised (repeatable).")
@click.option(
    "--env",
    "environment",
    multiple=True,
    metavar="PART=VALUE",
    help="Test environment, e.g. phone='Pixel 8, Android 15'.",
)
@click.option("--version", "version", metavar="V", help="Software version under test. Default: device.version.")
@click.option("--commit", metavar="C", help="Commit under test. Default: HEAD.")
def record(
    project_dir: Path | None,
    test_id: str,
    outcome: str,
    executed_by: str | None,
    note: str | None,
    deviation: str | None,
    reason: str | None,
    attachments: tuple[Path, ...],
    anomalies: tuple[str, ...],
    environment: tuple[str, ...],
    version: str | None,
    commit: str | None,
) -> None:
    """Record one execution of a test: who, when, on which version and commit, with what outcome.

    Writes a new file in the first folder of `records:` in qms.yaml. A re-run is a new record;
    the newest record of a test counts.
    """
    project = load(project_dir)
    test = project.items.get(test_id)
    if test is None or test.kind != "test":
        what = "no item" if test is None else f"{test_id} is a {test.kind.replace('_', ' ')}, not a test; no test"
        fail(f"{what} with id {test_id}: records execute tests", code=EXIT_FINDINGS)
    for anomaly in anomalies:
        found = project.items.get(anomaly)
        if found is None or found.kind != "anomaly":
            fail(f"{anomaly} is not an anomaly item of the project", code=EXIT_FINDINGS)
    if outcome in ("blocked", "not-applicable") and not reason:
        fail(f"outcome {outcome} needs --reason: say why the test was not executed", code=EXIT_FINDINGS)
    folder = _folder(project)
    if executed_by is not None and not executed_by.strip():
        fail("--by is empty: name who executed the test, or leave --by out to take git's user.name")
    by = executed_by.strip() if executed_by is not None else user_name(project.root)
    if not by:
        fail("who executed the test? give --by NAME (git's user.name is not set)", code=EXIT_FINDINGS)
    version = version or project.config.device.version
    if not version:
        fail(
            "which software version was tested? give --version V (qms.yaml sets no device.version)", code=EXIT_FINDINGS
        )
    if commit is not None and not COMMIT_PATTERN.fullmatch(commit.strip().lower()):
        fail(f"--commit {commit!r} is not a git commit hash (7 to 64 hex digits); a record is never edited afterwards")
    commit = commit.strip().lower() if commit is not None else document_control(project.root).commit
    parts: dict[str, str] = {}
    for entry in environment:
        name, equals, value = entry.partition("=")
        if not equals or not name.strip() or not value.strip():
            fail(f"--env {entry!r}: write PART=VALUE, e.g. phone='Pixel 8, Android 15'")
        if name.strip() in parts:
            fail(f"--env {name.strip()} is given twice: give each part of the environment once")
        parts[name.strip()] = value.strip()
    now = datetime.datetime.now().astimezone().replace(microsecond=0)
    stamp = now.astimezone(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    data: dict[str, object] = {
        "id": f"REC-{test_id}-{stamp}",
        "test": test_id,
        "outcome": outcome,
        "executed_at": now.isoformat(),
        "executed_by": by,
        "version": version,
    }
    optional: dict[str, object] = {
        "commit": commit,
        "environment": parts,
        "reason": reason,
        "observations": note,
        "deviations": deviation,
        "attachments": [_attachment(project, file) for file in attachments],
        "anomalies": list(anomalies),
    }
    data.update({key: value for key, value in optional.items() if value})
    path = folder / f"{stamp}-{test_id}.yaml"
    if path.exists():
        fail(f"{path} exists already: records are never overwritten; try again in a second", code=EXIT_FINDINGS)
    header = "# Test execution record written by `qms record`. Never edit it: a re-run is a new record.\n"
    atomic.write_text(path, header + yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100))
    click.echo(
        f"wrote {path.relative_to(project.root.resolve()).as_posix()}: {test_id} {outcome} by {by}, version {version}"
    )


commands = (record,)
