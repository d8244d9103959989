"""``qms log ID`` and the audit trail behind it, on real git repositories: field changes, links,
items moved between files, renamed files, deleted items, unreadable versions, odd characters,
shallow clones and projects outside git."""

from __future__ import annotations

import json
import os
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from conftest import MINIMAL_CONFIG, invoke_qms, write_files
from fixtures.change.gitrepo import git
from sphinx_support import build, new_project

from qms import history
from qms.history import item_history, project_history
from qms.project import load_project

ALICE, BOB = "Alice Example", "Bob Builder"

SYSTEM = """\
kind: system_requirement
items:
  - id: SYS-1
    title: Stop on stale data
    text: The system shall stop dosing on stale data.
  - id: SYS-2
    title: Alarm on stale data
    text: The system shall alarm on stale data.
"""


def software(title: str = "Reject stale readings", links: str = "[SYS-1]", extra: str = "") -> str:
    return f"""\
kind: software_requirement
items:
  - id: SWR-0
    title: Neighbour
    text: Stays as it is.
    derived: kept for the test
  - id: SWR-1
    title: {title}
    text: The controller shall reject readings older than 12 minutes.
    derives_from: {links}
{extra}"""


def commit(root: Path, files: dict[str, str], message: str, *, author: str = ALICE, date: str | None = None) -> str:
    write_files(root, files)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message, author=author, date=date)
    return git(root, "rev-parse", "HEAD")


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """A project in git: SWR-1 added, then its title and its derives_from link changed."""
    root = tmp_path / "device"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    files = {"qms.yaml": MINIMAL_CONFIG.format(safety_class="C"), "items/system.yaml": SYSTEM}
    commit(
        root,
        {**files, "items/software.yaml": software()},
        "Add the stale data requirements",
        date="2025-03-01T10:00:00+01:00",
    )
    commit(
        root,
        {"items/software.yaml": software("Reject stale CGM readings", "[SYS-2]")},
        "Name the sensor\n\nThe alarm is the parent, not the stop.",
        author=BOB,
        date="2025-04-02T11:30:00+00:00",
    )
    return root


def log_json(root: Path, item_id: str, *options: str) -> dict[str, Any]:
    result = invoke_qms("log", item_id, "--format", "json", "--project", root, *options)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def fields(change: dict[str, Any]) -> list[tuple[str, str, Any, Any]]:
    return [(field["field"], field["change"], field["old"], field["new"]) for field in change["fields"]]


def test_a_field_change_and_a_changed_link_with_who_when_and_why(repository: Path) -> None:
    data = log_json(repository, "SWR-1")
    assert data["version"] == 1 and data["item"] == "SWR-1" and data["order"] == "oldest first"
    added, changed = data["changes"]
    assert added["change"] == "added" and added["file"] == "items/software.yaml"
    assert (added["author"], added["email"], added["date"]) == (
        ALICE,
        "author@example.org",
        "2025-03-01T10:00:00+01:00",
    )
    assert fields(added) == [
        ("kind", "added", None, "software_requirement"),
        ("title", "added", None, "Reject stale readings"),
        ("text", "added", None, "The controller shall reject readings older than 12 minutes."),
        ("derives_from", "added", None, "SYS-1"),
    ]
    assert changed["change"] == "changed" and changed["author"] == BOB
    assert changed["message"] == "Name the sensor\n\nThe alarm is the parent, not the stop."
    assert changed["commit"] == git(repository, "rev-parse", "HEAD") and changed["committed"] is None
    assert fields(changed) == [
        ("title", "changed", "Reject stale readings", "Reject stale CGM readings"),
        ("derives_from", "removed", "SYS-1", None),
        ("derives_from", "added", None, "SYS-2"),
    ]
    # the neighbour in the same list file was never changed: only its addition is listed
    assert [change["change"] for change in log_json(repository, "SWR-0")["changes"]] == ["added"]
    newest = log_json(repository, "SWR-1", "--newest-first")
    assert newest["order"] == "newest first" and [c["change"] for c in newest["changes"]] == ["changed", "added"]


def test_the_text_output_names_the_commit_author_dates_and_each_difference(repository: Path) -> None:
    environment = {**os.environ, "GIT_COMMITTER_DATE": "2025-04-05T09:00:00+00:00"}
    write_files(repository, {"items/software.yaml": software("Reject stale CGM readings", "[SYS-2, SYS-1]")})
    git(repository, "commit", "-q", "-am", "Both parents", author=BOB, date="2025-04-04T08:00:00+00:00")
    subprocess.run(
        ["git", "commit", "-q", "--amend", "--no-edit"],
        cwd=repository,
        env=environment,
        check=True,
        capture_output=True,
    )
    result = invoke_qms("log", "SWR-1", "--project", repository)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert text.startswith("Audit trail of SWR-1: 3 changes, oldest first\n")
    assert f"Author: {BOB} <author@example.org>" in text
    assert "Date:   2025-04-04T08:00:00+00:00 (committed 2025-04-05T09:00:00+00:00)" in text
    assert "    ~ title: Reject stale readings -> Reject stale CGM readings\n" in text
    assert "    - derives_from: SYS-1\n    + derives_from: SYS-2\n" in text
    assert text.endswith("  changed in items/software.yaml\n    + derives_from: SYS-1\n")


def test_an_item_moved_to_another_list_file_and_a_renamed_file(repository: Path) -> None:
    moved_out = software("Reject stale CGM readings", "[SYS-2]").split("  - id: SWR-1")[0]
    other = "kind: software_requirement\nitems:\n  - id: SWR-9\n    title: Other\n    text: Other.\n    derived: test\n"
    moved_in = other + "\n".join(software("Reject stale CGM readings", "[SYS-2]").split("\n")[6:])
    commit(repository, {"items/software.yaml": moved_out, "items/more.yaml": moved_in}, "Move SWR-1")
    (repository / "items/dosing").mkdir()
    git(repository, "mv", "items/more.yaml", "items/dosing/more.yaml")
    git(repository, "commit", "-q", "-m", "Rename the file")
    changes = log_json(repository, "SWR-1")["changes"]
    assert [(c["change"], c["previous_file"], c["file"]) for c in changes[2:]] == [
        ("moved", "items/software.yaml", "items/more.yaml"),
        ("moved", "items/more.yaml", "items/dosing/more.yaml"),
    ]
    assert changes[2]["fields"] == [] and changes[3]["message"] == "Rename the file"
    # the items that stayed and the one already in the new file are not moved
    assert [c["change"] for c in log_json(repository, "SWR-0")["changes"]] == ["added"]
    assert [c["change"] for c in log_json(repository, "SWR-9")["changes"]] == ["added", "moved"]


def test_a_deleted_item_keeps_its_trail(repository: Path) -> None:
    commit(repository, {"items/software.yaml": software().split("  - id: SWR-1")[0]}, "Drop SWR-1: duplicate of SWR-0")
    changes = log_json(repository, "SWR-1")["changes"]
    removed = changes[-1]
    assert removed["change"] == "removed" and removed["message"] == "Drop SWR-1: duplicate of SWR-0"
    assert ("title", "removed", "Reject stale CGM readings", None) in fields(removed)
    assert ("derives_from", "removed", "SYS-2", None) in fields(removed)
    text = invoke_qms("log", "SWR-1", "--project", repository).stdout
    assert "  removed from items/software.yaml\n" in text


def test_an_unreadable_version_is_noted_and_the_next_one_compared_with_the_last_readable(repository: Path) -> None:
    broken = software("Reject stale CGM readings", "[SYS-2]").replace("  - id: SWR-1\n", "  - id: SWR-1\n   bad: [\n")
    commit(repository, {"items/software.yaml": broken}, "Half-done edit")
    commit(repository, {"items/software.yaml": software("Reject old CGM readings", "[SYS-2]")}, "Fix the file")
    changes = log_json(repository, "SWR-1")["changes"]
    unreadable, fixed = changes[-2:]
    assert unreadable["change"] == "unreadable" and unreadable["fields"] == []
    assert unreadable["note"].startswith("items/software.yaml:") and "YAML syntax error" in unreadable["note"]
    assert fixed["change"] == "changed"
    assert fields(fixed) == [("title", "changed", "Reject stale CGM readings", "Reject old CGM readings")]
    text = invoke_qms("log", "SWR-1", "--project", repository).stdout
    assert "  could not be read in items/software.yaml\n    items/software.yaml:" in text


def test_line_separators_in_text_stay_inside_their_field(repository: Path) -> None:
    title = "Reject stale\u2028readings\u2029now"
    commit(repository, {"items/software.yaml": software(f'"{title}"', "[SYS-2]")}, "Odd\u2028characters")
    data = log_json(repository, "SWR-1")
    assert fields(data["changes"][-1]) == [("title", "changed", "Reject stale CGM readings", title)]
    assert data["changes"][-1]["message"] == "Odd\u2028characters"
    text = invoke_qms("log", "SWR-1", "--project", repository).stdout
    assert "    ~ title: Reject stale CGM readings -> Reject stale\\u2028readings\\u2029now\n" in text
    assert "    Odd\\u2028characters\n" in text


def test_outside_git_a_message_and_exit_1(tmp_path: Path) -> None:
    root = write_files(
        tmp_path / "plain", {"qms.yaml": MINIMAL_CONFIG.format(safety_class="C"), "items/s.yaml": SYSTEM}
    )
    result = invoke_qms("log", "SYS-1", "--project", root)
    assert result.exit_code == 1
    problem = "is not in a git repository (or git is not installed): there is no history to read"
    assert result.stderr == f"qms: error: {root.resolve()} {problem}\n"


def test_unknown_ids_and_ids_without_commits(repository: Path) -> None:
    result = invoke_qms("log", "swr-1x", "--project", repository)
    assert result.exit_code == 2 and "no item with id swr-1x in the project or in its git history" in result.stderr
    assert invoke_qms("log", "swr-1", "--project", repository).stderr.endswith(
        "(did you mean SWR-1?) in the project or in its git history\n"
    )
    result = invoke_qms("log", "--project", repository, "--", "1st item")
    assert result.exit_code == 2 and "is not an item id" in result.stderr
    write_files(repository, {"items/new.yaml": "id: SYS-7\nkind: system_requirement\ntitle: New\ntext: New.\n"})
    result = invoke_qms("log", "SYS-7", "--project", repository)
    assert result.exit_code == 0 and result.stdout.endswith("no committed change yet\n")


def test_a_shallow_clone_says_where_its_history_stops(repository: Path, tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repository}", str(clone)], check=True, capture_output=True
    )
    data = log_json(clone, "SWR-1")
    assert [c["change"] for c in data["changes"]] == ["present"] and data["changes"][0]["boundary"] is True
    assert data["notes"] and "shallow clone" in data["notes"][0]
    assert "note: this is a shallow clone" in invoke_qms("log", "SWR-1", "--project", clone).stdout


def test_one_pass_over_the_history_gives_every_item_the_trail_of_its_own_log(repository: Path) -> None:
    commit(
        repository,
        {"items/software.yaml": software().split("  - id: SWR-1")[0], "items/b.yaml": SYSTEM.replace("SYS-", "SYS-B")},
        "More",
    )
    project = load_project(repository)
    everything = project_history(project)
    assert set(everything) == {"SYS-1", "SYS-2", "SWR-0", "SWR-1", "SYS-B1", "SYS-B2"}
    for item_id, trail in everything.items():
        assert trail == item_history(project, item_id)


def test_a_project_in_a_subfolder_reads_only_its_sources(tmp_path: Path) -> None:
    top = tmp_path / "repo"
    top.mkdir()
    git(top, "init", "-q")
    files = {
        "device/qms.yaml": MINIMAL_CONFIG.format(safety_class="C"),
        "device/items/system.yaml": SYSTEM,
        "tests/items/system.yaml": SYSTEM.replace("Stop on", "Other"),  # same ids, another project
    }
    commit(top, files, "Two projects")
    changes = log_json(top / "device", "SYS-1")["changes"]
    assert [(c["change"], c["file"]) for c in changes] == [("added", "items/system.yaml")]
    assert ("title", "added", None, "Stop on stale data") in fields(changes[0])


class AuditTrails(HTMLParser):
    """Per item block of a page: the text of its audit trail and the commits it lists."""

    def __init__(self) -> None:
        super().__init__()
        self.item = ""
        self.depth = 0  # inside <details class="qms-audit">: how many elements deep
        self.text: dict[str, str] = {}
        self.commits: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "section" and "qms-item" in classes:
            self.item = attributes.get("id") or ""
        if self.depth:
            self.depth += 1
            if "qms-audit-change" in classes:
                self.commits.setdefault(self.item, []).append(attributes.get("data-commit") or "")
        elif tag == "details" and "qms-audit" in classes:
            self.depth = 1

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.text[self.item] = self.text.get(self.item, "") + data


def audit_trails(page: Path) -> AuditTrails:
    parser = AuditTrails()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


@pytest.mark.slow
def test_the_item_block_on_the_site_shows_its_trail_collapsed(tmp_path: Path) -> None:
    root = new_project(tmp_path / "project", files={"notes.rst": "Notes\n=====\n\n.. qms:item:: SWR-001\n"})
    git(root, "init", "-q", "-b", "main")
    first = commit(root, {}, "Start the device file", date="2025-03-01T10:00:00+01:00")
    requirements = "traceability/requirements.yaml"
    text = (root / requirements).read_text(encoding="utf-8").replace("Show reading age", "Show the reading's age")
    second = commit(root, {requirements: text}, "Say what is shown", author=BOB, date="2025-04-02T11:30:00+00:00")
    result = build(root)
    assert result.exit_code == 0, result.output
    trails = audit_trails(root / "_build/html/notes.html")
    assert trails.commits["SWR-001"] == [second, first]  # newest first
    shown = " ".join(trails.text["SWR-001"].split())
    assert shown.startswith("Audit trail: 2 changes, newest first")
    assert f"changed in {requirements} · 2025-04-02T11:30:00+00:00 · {BOB} <author@example.org>" in shown
    assert "title: Show reading age → Show the reading's age" in shown
    assert f"added in {requirements} with kind, title, text, control_type, derives_from" in shown

    write_files(root, {"conf.py": (root / "conf.py").read_text(encoding="utf-8") + "\nqms_audit_trail = False\n"})
    result = build(root)
    assert result.exit_code == 0, result.output
    assert audit_trails(root / "_build/html/notes.html").commits == {}


def test_only_the_files_that_ever_held_the_item_are_read(repository: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flow = 'kind: need\nitems:\n  - {id: "NEED-1", title: Dose safely, text: Safe dosing.}\n'
    commit(repository, {"items/needs.yaml": flow}, "Add a need")
    commit(repository, {"items/needs.yaml": flow.replace("Dose safely", "Dose insulin safely")}, "Name the drug")
    commit(repository, {"items/system.yaml": SYSTEM.replace("shall alarm", "shall sound an alarm")}, "Louder")
    read: list[str] = []
    original = history._HistoryReader.version

    def counted(reader: history._HistoryReader, path: str, blob: str) -> Any:
        read.append(path)
        return original(reader, path, blob)

    monkeypatch.setattr(history._HistoryReader, "version", counted)
    trail = item_history(load_project(repository), "NEED-1")
    assert [(change.change, change.commit.subject) for change in trail.changes] == [
        ("added", "Add a need"),
        ("changed", "Name the drug"),
    ]
    assert set(read) == {"items/needs.yaml"}
