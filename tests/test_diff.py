"""Release baselines: ``qms diff`` between git tags, a tag and the working tree, and its errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fixtures.change.gitrepo import edit, git, qms

from qms.diff import FieldChange, LinkChange, release_diff
from qms.gitinfo import NOT_UNDER_VERSION_CONTROL
from qms.project import load_project
from qms.risk import RiskClass
from qms.sphinx.queries import QUERIES
from qms.sphinx.views.build import BuildData
from qms.sphinx.views.summaries import ChangedItem, ReleaseChangesView, RiskClassChange, release_changes

FIXTURE = Path(__file__).parent / "fixtures" / "change" / "project"


NEW_REQUIREMENT = """
  - id: SWR-4
    kind: software_requirement
    title: Repeat the alert
    text: The software shall repeat an unacknowledged low alert every 5 minutes.
    derives_from: [SYS-1]
"""


def release_1_1(root: Path) -> None:
    """The changes of release 1.1.0: one requirement reworded, one replaced, risk re-estimated."""
    requirements = "traceability/requirements.yaml"
    edit(root, "qms.yaml", "version: 1.0.0", "version: 1.1.0")
    edit(root, requirements, "within 5 minutes", "within 2 minutes")
    edit(
        root,
        requirements,
        "keep a history of the alerts of the last 90 days.",
        "keep a history of the alerts\n      of the last 90 days.",
    )
    text = (root / requirements).read_text(encoding="utf-8")
    start = text.index("  - id: SWR-2")
    end = text.index("  - id: SWR-3")
    (root / requirements).write_text(text[:start] + text[end:] + NEW_REQUIREMENT, encoding="utf-8")
    edit(
        root,
        "traceability/architecture.yaml",
        "implements: [SWR-1, SWR-2]",
        "implements: [SWR-1, SWR-4]\n    x-owner: Dana",
    )
    edit(root, "traceability/tests.yaml", "verifies: [SWR-1, SWR-2]", "verifies: [SWR-1, SWR-4]")
    edit(root, "risk_register/hazards.yaml", "severity: Critical", "severity: Serious")
    edit(root, "risk_register/hazards.yaml", "probability: Improbable}", "probability: Remote}")


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """The fixture project tagged v1.0.0, changed, and tagged v1.1.0."""
    root = tmp_path / "device"
    shutil.copytree(FIXTURE, root)
    git(root, "init", "-q")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "Release 1.0.0")
    git(root, "tag", "v1.0.0")
    release_1_1(root)
    git(root, "commit", "-q", "-am", "Release 1.1.0")
    git(root, "tag", "v1.1.0")
    return root


def test_diff_between_two_tags(repository: Path) -> None:
    diff = release_diff(repository, "v1.0.0", "v1.1.0")
    assert [item.id for item in diff.added] == ["SWR-4"]
    assert [item.id for item in diff.removed] == ["SWR-2"]
    assert [(change.id, change.fields) for change in diff.changed] == [
        (
            "SI-1",
            (FieldChange("implements", ("SWR-1", "SWR-2"), ("SWR-1", "SWR-4")), FieldChange("x-owner", None, "Dana")),
        ),
        (
            "SYS-1",
            (
                FieldChange(
                    "text",
                    "The system shall alert the user within 5 minutes\nof a glucose reading below 70 mg/dL.\n",
                    "The system shall alert the user within 2 minutes\nof a glucose reading below 70 mg/dL.\n",
                ),
            ),
        ),
        ("TST-2", (FieldChange("verifies", ("SWR-1", "SWR-2"), ("SWR-1", "SWR-4")),)),
        (
            "HAZ-1",
            (
                FieldChange("severity", 4, 3),
                FieldChange("residual", {"severity": 3, "probability": 1}, {"severity": 3, "probability": 2}),
            ),
        ),
    ]
    assert diff.links_added == (
        LinkChange("SI-1", "implements", "SWR-4"),
        LinkChange("SWR-4", "derives_from", "SYS-1"),
        LinkChange("TST-2", "verifies", "SWR-4"),
    )
    assert diff.links_removed == (
        LinkChange("SI-1", "implements", "SWR-2"),
        LinkChange("SWR-2", "derives_from", "SYS-1"),
        LinkChange("TST-2", "verifies", "SWR-2"),
    )
    ((risk,),) = [diff.risk_changes]
    assert (risk.hazard.id, risk.initial, risk.residual) == (
        "HAZ-1",
        (RiskClass.UNACCEPTABLE, RiskClass.REDUCE),
        (RiskClass.ACCEPTABLE, RiskClass.REDUCE),
    )
    assert diff.base.commit == git(repository, "rev-parse", "v1.0.0")
    assert diff.head.commit == git(repository, "rev-parse", "v1.1.0")
    assert diff.base.project.root == repository


def test_text_output(repository: Path) -> None:
    base, head = (
        git(repository, "rev-parse", "--short=10", "v1.0.0"),
        git(repository, "rev-parse", "--short=10", "v1.1.0"),
    )
    code, output = qms("diff", "v1.0.0", "v1.1.0", "--project", str(repository))
    assert code == 0
    assert output == (
        f"Changes from v1.0.0 ({base}) to v1.1.0 ({head})\n"
        "device version 1.0.0 -> 1.1.0\n"
        "items: 1 added, 1 removed, 4 changed; links: 3 added, 3 removed; hazards with a new risk class: 1\n"
        "changed with no change request: SWR-4, SWR-2, SI-1, SYS-1, TST-2, HAZ-1\n"
        "\n"
        "Added\n"
        "  SWR-4        software requirement   Repeat the alert  [no change request]\n"
        "\n"
        "Removed\n"
        "  SWR-2        software requirement   Raise the alert  [no change request]\n"
        "\n"
        "Changed\n"
        "  SI-1         software item          Alert engine  [no change request]\n"
        "    implements: SWR-1, SWR-2 -> SWR-1, SWR-4\n"
        "    x-owner: (none) -> Dana\n"
        "  SYS-1        system requirement     Low glucose alert  [no change request]\n"
        "    text:\n"
        "      - The system shall alert the user within 5 minutes\n"
        "      + The system shall alert the user within 2 minutes\n"
        "        of a glucose reading below 70 mg/dL.\n"
        "  TST-2        test                   Low classification  [no change request]\n"
        "    verifies: SWR-1, SWR-2 -> SWR-1, SWR-4\n"
        "  HAZ-1        hazard                 Missed low glucose  [no change request]\n"
        "    severity: Critical (4) -> Serious (3)\n"
        "    residual: severity Serious, probability Improbable -> severity Serious, probability Remote\n"
        "\n"
        "Links added\n"
        "  SI-1 implements SWR-4\n"
        "  SWR-4 derives_from SYS-1\n"
        "  TST-2 verifies SWR-4\n"
        "\n"
        "Links removed\n"
        "  SI-1 implements SWR-2\n"
        "  SWR-2 derives_from SYS-1\n"
        "  TST-2 verifies SWR-2\n"
        "\n"
        "Risk class changes\n"
        "  HAZ-1        Missed low glucose\n"
        "    initial risk: U (unacceptable) -> R (reduce as far as possible)\n"
        "    residual risk: A (acceptable) -> R (reduce as far as possible)\n"
    )


def test_json_output(repository: Path) -> None:
    code, output = qms("diff", "v1.0.0", "v1.1.0", "--format", "json", "--project", str(repository))
    assert code == 0
    document = json.loads(output)
    assert document["version"] == 1
    assert document["base"] == {
        "revision": "v1.0.0",
        "commit": git(repository, "rev-parse", "v1.0.0"),
        "working_tree": False,
        "device_version": "1.0.0",
    }
    assert document["summary"] == {
        "added": 1,
        "removed": 1,
        "changed": 4,
        "links_added": 3,
        "links_removed": 3,
        "risk_changes": 1,
        "without_change_request": 6,
    }
    assert document["added"] == [
        {
            "id": "SWR-4",
            "kind": "software_requirement",
            "title": "Repeat the alert",
            "file": "traceability/requirements.yaml",
            "line": 35,
            "change_requests": [],
        }
    ]
    assert document["changed"][3]["fields"] == [
        {"field": "severity", "old": 4, "new": 3},
        {"field": "residual", "old": {"severity": 3, "probability": 1}, "new": {"severity": 3, "probability": 2}},
    ]
    assert document["links_removed"][1] == {"source": "SWR-2", "field": "derives_from", "target": "SYS-1"}
    assert document["risk_changes"] == [
        {
            "hazard": "HAZ-1",
            "title": "Missed low glucose",
            "initial": {"old": "U", "new": "R"},
            "residual": {"old": "A", "new": "R"},
        }
    ]


def test_working_tree_against_a_tag_and_the_previous_release_default(repository: Path) -> None:
    edit(repository, "traceability/tests.yaml", "title: Alert storage", "title: Alert storage and retrieval")
    edit(repository, "qms.yaml", "sources:", "release: {previous: v1.1.0}\nsources:")
    code, output = qms("diff", "--project", str(repository))
    assert code == 0
    assert output == (
        f"Changes from v1.1.0 ({git(repository, 'rev-parse', '--short=10', 'v1.1.0')}) to the working tree\n"
        "items: 0 added, 0 removed, 1 changed; links: 0 added, 0 removed; hazards with a new risk class: 0\n"
        "changed with no change request: TST-3\n"
        "\n"
        "Changed\n"
        "  TST-3        test                   Alert storage and retrieval  [no change request]\n"
        "    title: Alert storage -> Alert storage and retrieval\n"
    )


CHANGE_REQUESTS = """
kind: change_request
items:
  - id: CR-1
    title: Replace the alert requirement
    rationale: Users asked for a repeated alert.
    status: implemented
    changes: [SWR-4, SYS-1, SI-1, TST-2]
    retires: [SWR-2]
"""


def test_changes_tied_to_change_requests(repository: Path) -> None:
    """Each changed item names the change requests that list it; the others are called out, and a
    change request, being the record of a change, needs none itself."""
    (repository / "traceability" / "changes.yaml").write_text(CHANGE_REQUESTS, encoding="utf-8")
    git(repository, "add", ".")
    git(repository, "commit", "-q", "-m", "Change request of release 1.1.0")
    code, output = qms("diff", "v1.0.0", "HEAD", "--project", str(repository))
    assert code == 0
    lines = output.splitlines()
    assert "changed with no change request: HAZ-1" in lines
    assert "  CR-1         change request         Replace the alert requirement" in lines
    assert "  SWR-4        software requirement   Repeat the alert  [CR-1]" in lines
    assert "  SWR-2        software requirement   Raise the alert  [CR-1]" in lines
    assert "  HAZ-1        hazard                 Missed low glucose  [no change request]" in lines
    code, output = qms("diff", "v1.0.0", "HEAD", "--format", "json", "--project", str(repository))
    document = json.loads(output)
    assert document["summary"]["without_change_request"] == 1
    assert {entry["id"]: entry["change_requests"] for entry in document["changed"]} == {
        "SI-1": ["CR-1"],
        "SYS-1": ["CR-1"],
        "TST-2": ["CR-1"],
        "HAZ-1": [],
    }
    assert {entry["id"]: entry["change_requests"] for entry in document["added"]} == {"SWR-4": ["CR-1"], "CR-1": None}


def test_no_change_between_revisions(repository: Path) -> None:
    code, output = qms("diff", "v1.1.0", "HEAD", "--project", str(repository))
    commit = git(repository, "rev-parse", "--short=10", "HEAD")
    assert (code, output) == (0, f"Changes from v1.1.0 ({commit}) to HEAD ({commit})\nno design record changed\n")


def test_output_file(repository: Path, tmp_path: Path) -> None:
    target = tmp_path / "out" / "diff.json"
    code, output = qms("diff", "v1.0.0", "v1.1.0", "--format", "json", "-o", str(target), "--project", str(repository))
    assert (code, output) == (0, "")
    assert json.loads(target.read_text(encoding="utf-8"))["summary"]["changed"] == 4


def test_project_in_a_subfolder_of_the_repository(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "firmware" / "records")
    (tmp_path / "firmware" / "README.md").write_text("code lives here\n", encoding="utf-8")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-q", "-m", "Records")
    git(tmp_path, "tag", "v1")
    root = tmp_path / "firmware" / "records"
    edit(root, "traceability/requirements.yaml", "title: Store alerts", "title: Keep alerts")
    diff = release_diff(root, "v1")
    assert [(change.id, [field.field for field in change.fields]) for change in diff.changed] == [("SWR-3", ["title"])]
    assert diff.added == diff.removed == ()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("v9.9.9",), "qms: error: unknown git revision 'v9.9.9': `git tag` lists the release tags\n"),
        (
            (),
            "qms: error: name the revision to compare with (qms diff v2.0.0), "
            "or set `release: {previous: TAG}` in qms.yaml\n",
        ),
    ],
)
def test_usage_errors(repository: Path, arguments: tuple[str, ...], message: str) -> None:
    assert qms("diff", *arguments, "--project", str(repository)) == (2, message)


@pytest.mark.parametrize(
    "revision", ["HEAD@{99}", "@{99}", "main@{1.fortnight.ago", "--output=x", "-p", "HEAD:qms.yaml"]
)
def test_revisions_git_cannot_resolve_to_a_commit(repository: Path, revision: str) -> None:
    """Every revision is read by git itself, as a revision, never as an option."""
    assert qms("diff", "--project", str(repository), "--", revision) == (
        2,
        f"qms: error: unknown git revision '{revision}': `git tag` lists the release tags\n",
    )


@pytest.mark.parametrize("revision", ["@{yesterday}", "HEAD@{1}", "v1.1.0~1", "@{0}", "HEAD@{1 minute ago}"])
def test_every_revision_form_of_git(repository: Path, revision: str) -> None:
    code, output = qms("diff", revision, "v1.1.0", "--project", str(repository))
    assert code == 0
    assert output.startswith(f"Changes from {revision} (")


def test_revision_without_a_project(repository: Path) -> None:
    (repository / "notes.txt").write_text("x\n", encoding="utf-8")
    git(repository, "checkout", "-q", "--orphan", "empty")
    git(repository, "rm", "-q", "-r", "--cached", ".")
    git(repository, "add", "notes.txt")
    git(repository, "commit", "-q", "-m", "Unrelated history")
    git(repository, "tag", "no-project")
    git(repository, "checkout", "-q", "-f", "v1.1.0")
    assert qms("diff", "no-project", "--project", str(repository)) == (
        2,
        "qms: error: qms.yaml does not exist at no-project: no project to compare\n",
    )


def test_outside_git(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path / "device")
    code, output = qms("diff", "v1.0.0", "--project", str(tmp_path / "device"))
    assert code == 2
    assert output == (
        f"qms: error: {tmp_path / 'device'} is not in a git repository (or git is not installed): "
        "no revisions to compare\n"
    )


def test_shallow_clone_without_the_base_says_how_to_fetch_it(repository: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--no-tags", f"file://{repository}", str(clone)], check=True)
    code, output = qms("diff", "v1.0.0", "--project", str(clone))
    assert code == 2
    assert output == (
        "qms: error: unknown git revision 'v1.0.0': `git tag` lists the release tags; "
        "this is a shallow clone: fetch the history with `git fetch --unshallow --tags`\n"
    )


def test_a_baseline_reads_nothing_beside_its_temporary_folder(repository: Path) -> None:
    """A revision's qms.yaml may name folders outside the project: they are not where it was, so not read."""
    with (repository / "qms.yaml").open("a", encoding="utf-8") as stream:
        stream.write("allow_outside: [.., /]\nevidence: ['../**/*.xml', '/etc/*.xml']\n")
    git(repository, "commit", "-q", "-am", "Read from anywhere")
    diff = release_diff(repository, "HEAD")
    assert diff.base.project.config.allow_outside == ()
    assert [f.message.split(":")[0] for f in diff.base.project.load_findings] == [
        "evidence entry '../**/*.xml' points outside the project",
        "evidence entry '/etc/*.xml' points outside the project",
    ]


def test_release_changes_are_a_typed_view_shown_alike_in_html_and_text(repository: Path) -> None:
    """The site's release notes list the changes since the previous release from one typed view, the
    same rows through the HTML and the docutils (text) writers."""
    edit(repository, "qms.yaml", "sources:", "release: {previous: v1.0.0}\nsources:")
    (repository / "conf.py").write_text('extensions = ["qms.sphinx"]\n', encoding="utf-8")
    view = release_changes(_build_data(repository), "v1.0.0")
    assert view == ReleaseChangesView(
        base_commit=git(repository, "rev-parse", "v1.0.0"),
        items=(
            ChangedItem("SWR-4", "Repeat the alert", "added", (), ()),
            ChangedItem("SI-1", "Alert engine", "changed", ("implements", "x-owner"), ()),
            ChangedItem("SYS-1", "Low glucose alert", "changed", ("text",), ()),
            ChangedItem("TST-2", "Low classification", "changed", ("verifies",), ()),
            ChangedItem("HAZ-1", "Missed low glucose", "changed", ("severity", "residual"), ()),
            ChangedItem("SWR-2", "Raise the alert", "removed", (), ()),
        ),
        links_added=3,
        links_removed=3,
        risk_changes=(RiskClassChange("HAZ-1", "Missed low glucose", ("U", "R"), ("A", "R")),),
    )
    assert (view.count("added"), view.count("changed"), view.count("removed")) == (1, 4, 1)
    summary = (
        f"From v1.0.0 ({view.base_commit[:10]}) to this revision: 1 items added, 1 removed, 4 changed; "
        "3 links added, 3 removed; 1 hazards changed risk class."
    )
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    for builder, page in (("html", "release-notes.html"), ("text", "release-notes.txt")):
        out = repository.parent / builder
        subprocess.run(
            [sys.executable, "-m", "sphinx", "-q", "-b", builder, ".", str(out)],
            cwd=repository,
            env=environment,
            check=True,
            capture_output=True,
        )
        text = " ".join((out / page).read_text(encoding="utf-8").split())
        assert summary in text, builder
        for shown in ("changed: text", "changed: verifies", "SWR-2", "U → R", "A → R"):
            assert shown in text, (builder, shown)


def test_release_changes_that_cannot_be_read_say_why(repository: Path) -> None:
    view = release_changes(_build_data(repository), "v9.9.9")
    assert view.items == () and "v9.9.9" in view.error


def _build_data(root: Path) -> BuildData:
    return BuildData(load_project(root), (), NOT_UNDER_VERSION_CONTROL, queries=QUERIES)


def test_a_file_that_cannot_be_read_at_a_revision_removes_none_of_its_items(repository: Path) -> None:
    """A requirements file committed with a tab in its indentation cannot be read at that revision:
    the diff names it, at its line, and compares none of its items, instead of reporting them removed."""
    requirements = repository / "traceability/requirements.yaml"
    requirements.write_text(requirements.read_text(encoding="utf-8").replace("  - id: SWR-1", "\t- id: SWR-1"), "utf-8")
    git(repository, "commit", "-q", "-am", "A tab")
    code, output = qms("diff", "v1.1.0", "HEAD", "--project", str(repository))
    assert code == 0
    lines = output.splitlines()
    assert not any(line.startswith("Removed") for line in lines), output
    (unread,) = [line for line in lines if line.startswith("could not be read at HEAD (")]
    assert ": traceability/requirements.yaml:" in unread and unread.endswith("; its items are not compared")
    document = json.loads(qms("diff", "v1.1.0", "HEAD", "--format", "json", "--project", str(repository))[1])
    assert document["removed"] == [] and document["links_removed"] == []
    assert [(entry["side"], entry["file"]) for entry in document["unreadable"]] == [
        ("head", "traceability/requirements.yaml")
    ]
