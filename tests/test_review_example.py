"""The change-control walk-through on the bundled example device, in a throw-away git repository:
change a system requirement, commit, see every link to it suspect, review, diff the two tags."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fixtures.change.gitrepo import git, qms

from qms.model import Project
from qms.project import load_project
from qms.review import LOCK_FILE

REPOSITORY = Path(__file__).parent.parent
EXAMPLE = ("qms.yaml", "traceability", "risk_register", "verification_records", "approvals.yaml")


def _findings(root: Path) -> list[dict[str, object]]:
    _, output = qms("check", "--format", "json", "--project", str(root))
    return list(json.loads(output)["findings"])


def _most_linked_system_requirement(project: Project) -> str:
    requirements = project.of_kind("system_requirement")
    return max(requirements, key=lambda item: len(project.incoming(item.id))).id


def _reword(root: Path, project: Project, item_id: str) -> None:
    """Change one word of the requirement's text in its file, leaving everything else as it was."""
    item = project.items[item_id]
    first_line = next(line for line in str(item.fields["text"]).splitlines() if " shall " in line)
    path = root / item.file
    text = path.read_text(encoding="utf-8")
    start = sum(len(line) for line in text.splitlines(keepends=True)[: item.location().line - 1])
    at = text.index(first_line, start)
    path.write_text(text[:at] + first_line.replace(" shall ", " shall always ", 1) + text[at + len(first_line) :])


@pytest.mark.slow
def test_changed_system_requirement_in_the_example(tmp_path: Path) -> None:
    root = tmp_path / "example"
    root.mkdir()
    for name in (*EXAMPLE, LOCK_FILE):
        source = REPOSITORY / name
        if source.is_dir():
            shutil.copytree(source, root / name)
        elif source.is_file():
            shutil.copy2(source, root / name)
    git(root, "init", "-q")
    if not (root / LOCK_FILE).exists():
        assert qms("review", "--all", "--project", str(root))[0] == 0
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "Release 2.1.0")
    git(root, "tag", "baseline")  # not the device version's tag: that would make every check a release check
    before = _findings(root)
    assert [finding for finding in before if finding["rule"] == "C501"] == []

    project = load_project(root)
    changed = _most_linked_system_requirement(project)
    _reword(root, project, changed)
    git(root, "commit", "-q", "-am", f"Reword {changed}", author="Bob Builder")
    git(root, "tag", "reworded")

    expected = sorted({link.source for link in project.incoming(changed)})
    suspects = [finding for finding in _findings(root) if finding["rule"] == "C501"]
    target = project.items[changed].location()
    assert [(f["item"], f["file"], f["line"]) for f in suspects] == [(changed, target.file, target.line)]
    message = str(suspects[0]["message"])
    assert "last changed by Bob Builder" in message
    assert all(source in message for source in expected)
    assert message.endswith(f"then run `qms review {changed}`")

    code, output = qms("review", changed, "--project", str(root))
    assert code == 0
    assert output.endswith(f"qms.lock: {len(project.incoming(changed))} links stamped\n")
    assert _findings(root) == before

    code, output = qms("diff", "baseline", "reworded", "--format", "json", "--project", str(root))
    assert code == 0
    diff = json.loads(output)
    assert [(item["id"], [field["field"] for field in item["fields"]]) for item in diff["changed"]] == [
        (changed, ["text"])
    ]
    unchanged = ("added", "removed", "links_added", "links_removed", "risk_changes")
    assert [diff[section] for section in unchanged] == [[], [], [], [], []]
