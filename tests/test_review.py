"""Suspect links (C501) and ``qms review``: review stamps in ``qms.lock``, in real git repositories."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from types import MappingProxyType

import pytest
from fixtures.change.gitrepo import edit, git, qms
from hypothesis import given
from hypothesis import strategies as st

from qms import review
from qms.model import Item
from qms.project import load_project
from qms.review import LOCK_FILE, content_digest, format_lock, link_key, normative_fields, read_lock

FIXTURE = Path(__file__).parent / "fixtures" / "change" / "project"
REQUIREMENTS = "traceability/requirements.yaml"


DATE = "2025-06-02T09:15:00+00:00"  # one date for every commit: blame must order them by history


def suspects(root: Path) -> list[tuple[str, str, int, int]]:
    """The C501 findings of ``qms check``: (item, file, line, column)."""
    _, output = qms("check", "--format", "json", "--project", str(root))
    findings = json.loads(output)["findings"]
    return [(f["item"], f["file"], f["line"], f["column"]) for f in findings if f["rule"] == "C501"]


def c501_messages(root: Path) -> list[str]:
    _, output = qms("check", "--format", "json", "--project", str(root))
    return [f["message"] for f in json.loads(output)["findings"] if f["rule"] == "C501"]


@pytest.fixture
def repository(tmp_path: Path) -> Path:
    """The fixture project in a git repository, every link reviewed and committed."""
    root = tmp_path / "device"
    shutil.copytree(FIXTURE, root)
    git(root, "init", "-q")
    code, output = qms("review", "--all", "--project", str(root))
    assert (code, output) == (0, "qms.lock written: 18 links stamped; change control started\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "Baseline", date=DATE)
    return root


#: the one C501 finding when SYS-1 changes: at SYS-1, naming the three items linking to it
SYS_1 = ("SYS-1", REQUIREMENTS, 8, 5)


# --------------------------------------------------------------------------- normative content


def _digest(tmp_path: Path, item: str, name: str) -> str:
    folder = tmp_path / name
    (folder / "items").mkdir(parents=True)
    (folder / "qms.yaml").write_text(
        "device: {name: D, software_safety_class: C}\nsources: [items]\n", encoding="utf-8"
    )
    (folder / "items" / "item.yaml").write_text(item, encoding="utf-8")
    project = load_project(folder)
    assert [finding.rule for finding in project.load_findings] == []
    return content_digest(project.items["HAZ-9"])


HAZARD = """\
id: HAZ-9
kind: hazard
title: Missed alert
hazard: The alert is not raised.
hazardous_situation: The user is unaware of a low glucose.
harm: Severe hypoglycaemia.
severity: Critical
probability: Remote
controls: [SWR-1]
"""


@pytest.mark.parametrize(
    ("variant", "same"),
    [
        (HAZARD.replace("harm: Severe", "# reviewed 2025-06\nharm:   Severe"), True),
        (HAZARD.replace("hazard: The alert is not raised.", "hazard: |\n  The alert\n  is not   raised.\n"), True),
        (HAZARD.replace("title: Missed alert", "title: 'Missed alert'"), True),
        (HAZARD.replace("severity: Critical", "severity: 4"), True),
        (HAZARD.replace("controls: [SWR-1]", "controls: [SWR-1, SWR-2]"), True),
        (HAZARD + "x-owner: Dana\n", True),
        (HAZARD.replace("title: Missed alert", "title: Missed low alert"), False),
        (HAZARD.replace("hazard: The alert is not raised.", "hazard: The alert is raised late."), False),
        (HAZARD.replace("severity: Critical", "severity: Catastrophic"), False),
        (HAZARD + "residual: {severity: Critical, probability: Improbable}\n", False),
    ],
    ids=[
        "comment-and-spaces",
        "rewrapped-text",
        "quoting",
        "level-number-for-name",
        "own-links",
        "x-field",
        "title",
        "text",
        "severity",
        "new-field",
    ],
)
def test_digest_counts_what_the_item_states_not_its_layout(tmp_path: Path, variant: str, same: bool) -> None:
    assert (_digest(tmp_path, HAZARD, "before") == _digest(tmp_path, variant, "after")) is same


#: field values as loading makes them: text (any characters), levels, lists of text or ids, mappings
_VALUES = st.recursive(
    st.text() | st.integers() | st.none() | st.booleans(),
    lambda inner: st.lists(inner, max_size=3).map(tuple) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=6,
)


@given(
    kind=st.sampled_from(["hazard", "software_requirement", "test", "risk_control", "made_up"]),
    fields=st.dictionaries(st.text(min_size=1), st.text() | _VALUES, max_size=5),
)
def test_digest_is_the_sha256_of_the_canonical_json_the_stamps_were_written_with(kind: str, fields: dict) -> None:
    """Stamps in every qms.lock were made from this JSON: the digest must never drift from it."""
    item = Item("X-1", kind, MappingProxyType(fields), "items/x.yaml", MappingProxyType({}))
    canonical = json.dumps(
        {"kind": kind, "fields": normative_fields(item)}, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    expected = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
    assert content_digest(item) == expected


def test_lock_file_is_sorted_one_line_per_link_and_reads_back(tmp_path: Path) -> None:
    stamps = {
        ("TST-1", "verifies", "SYS-1"): "0123456789abcdef",
        ("SWR-1", "derives_from", "SYS-1"): "0123456789abcdef",
        ("HAZ-1", "controls", "SWR-1"): "fedcba9876543210",
    }
    text = format_lock(stamps)
    assert [line for line in text.splitlines() if not line.startswith("#")] == [
        "HAZ-1 controls SWR-1 fedcba9876543210",
        "SWR-1 derives_from SYS-1 0123456789abcdef",
        "TST-1 verifies SYS-1 0123456789abcdef",
    ]
    assert text.startswith("# qms.lock: review stamps of the trace links")
    (tmp_path / LOCK_FILE).write_text(text, encoding="utf-8")
    state = read_lock(tmp_path)
    assert state.exists and state.problems == () and dict(state.stamps) == stamps


def test_the_targets_digests_are_kept_by_their_files_and_equal_those_taken_afresh(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = shutil.copytree(FIXTURE, tmp_path / "device")
    digested: list[str] = []
    monkeypatch.setattr(review, "content_digest", lambda item: digested.append(item.id) or content_digest(item))

    def digests() -> dict[str, str]:
        digested.clear()
        project = load_project(root, cache=True)
        found = review.target_digests(project)
        assert found == {link.target: content_digest(project.items[link.target]) for link in project.links}
        return found

    first = digests()
    assert digested and set(digested) <= set(first)
    assert digests() == first and digested == []  # every target's digest kept by its file's bytes
    edit(root, REQUIREMENTS, "title: ", "title: Edited ")
    edited = digests()
    project = load_project(root)
    assert digested and {project.items[item_id].file for item_id in digested} == {REQUIREMENTS}
    assert edited != first


# --------------------------------------------------------------------------- suspect links in git


def test_reviewed_project_checks_clean(repository: Path) -> None:
    code, output = qms("check", "--project", str(repository))
    assert (code, output) == (0, "14 items in 4 files: no findings\n")


def test_changing_a_requirement_gives_one_finding_naming_every_link_to_it(repository: Path) -> None:
    edit(repository, REQUIREMENTS, "within 5 minutes", "within 2 minutes")
    git(repository, "commit", "-q", "-am", "Alert within 2 minutes", author="Bob Builder", date=DATE)
    commit = git(repository, "rev-parse", "--short=10", "HEAD")
    assert suspects(repository) == [SYS_1]
    assert c501_messages(repository) == [
        "suspect links: SYS-1 changed since the links to it were last reviewed "
        f'(last changed by Bob Builder on 2025-06-02 in commit {commit} "Alert within 2 minutes"); '
        "check that SWR-1, SWR-2 and TST-1 still hold, then run `qms review SYS-1`"
    ]
    code, output = qms("check", "--project", str(repository))
    assert code == 1
    assert output.startswith(f"{REQUIREMENTS}:8:5: error C501 SYS-1: suspect links: SYS-1 changed")
    # the check was given --project, so the command it suggests carries it and can be pasted as it is
    suggested = f"qms review SYS-1 --project {repository}"
    assert output.endswith(f"next: `{suggested}`, as the first finding says\n")
    code, _ = qms(*suggested.split()[1:])
    assert code == 0
    assert qms("check", "--project", str(repository)) == (0, "14 items in 4 files: no findings\n")


@pytest.mark.parametrize("separator", ["\u2028", "\x85", "\u2029"])
def test_suspect_link_message_from_text_with_line_separators_and_a_far_future_date(
    repository: Path, separator: str
) -> None:
    """git ends lines at \\n only; a date past the year 9999 is shown as git stores it."""
    edit(repository, REQUIREMENTS, "title: Low glucose alert", f'title: "Low glucose{separator}alarm"')
    git(repository, "commit", "-q", "-am", "Odd separator", author="Bob Builder", date="@253402300800 +0000")
    commit = git(repository, "rev-parse", "--short=10", "HEAD")
    assert suspects(repository) == [SYS_1]  # lines as git and editors count them
    assert c501_messages(repository) == [
        "suspect links: SYS-1 changed since the links to it were last reviewed "
        f'(last changed by Bob Builder on @253402300800 +0000 in commit {commit} "Odd separator"); '
        "check that SWR-1, SWR-2 and TST-1 still hold, then run `qms review SYS-1`"
    ]


def test_review_of_the_changed_item_clears_exactly_its_links(repository: Path) -> None:
    edit(repository, REQUIREMENTS, "within 5 minutes", "within 2 minutes")
    edit(repository, REQUIREMENTS, "title: Store alerts", "title: Store every alert")
    git(repository, "commit", "-q", "-am", "Tighten the alert", author="Bob Builder", date=DATE)
    swr_3 = ("SWR-3", REQUIREMENTS, 34, 5)
    assert suspects(repository) == [SYS_1, swr_3]
    code, output = qms("review", "SYS-1", "--project", str(repository))
    assert (code, output) == (
        0,
        "stamped SWR-1 derives_from SYS-1\n"
        "stamped SWR-2 derives_from SYS-1\n"
        "stamped TST-1 verifies SYS-1\n"
        "qms.lock: 3 links stamped\n",
    )
    assert suspects(repository) == [swr_3]
    lock_diff = git(repository, "diff", "-U0", LOCK_FILE).splitlines()
    removed = [line[1:].rsplit(" ", 1)[0] for line in lock_diff if line.startswith("-") and not line.startswith("---")]
    added = [line[1:].rsplit(" ", 1)[0] for line in lock_diff if line.startswith("+") and not line.startswith("+++")]
    expected = ["SWR-1 derives_from SYS-1", "SWR-2 derives_from SYS-1", "TST-1 verifies SYS-1"]
    assert removed == added == expected


def test_review_of_one_linking_item_clears_only_its_own_links(repository: Path) -> None:
    edit(repository, REQUIREMENTS, "within 5 minutes", "within 2 minutes")
    code, output = qms("review", "SWR-2", "--project", str(repository))
    assert (code, output) == (0, "stamped SWR-2 derives_from SYS-1\nqms.lock: 1 link stamped\n")
    assert suspects(repository) == [SYS_1]
    assert c501_messages(repository) == [
        "suspect links: SYS-1 changed since the links to it were last reviewed "
        "(changed in the working tree, not committed yet); "
        "check that SWR-1 and TST-1 still hold, then run `qms review SYS-1`"
    ]
    code, output = qms("review", "SWR-2", "--project", str(repository))
    assert (
        output
        == "qms.lock is up to date: every link to or from SWR-2 was already stamped with its target's current content\n"
    )


def test_whitespace_and_comment_changes_are_not_changes(repository: Path) -> None:
    edit(
        repository,
        REQUIREMENTS,
        "      The system shall alert the user within 5 minutes\n      of a glucose",
        "      The system shall alert the user   within 5 minutes of a\n      glucose",
    )
    edit(
        repository,
        REQUIREMENTS,
        "    derives_from: [NEED-1]\n    control_type",
        "    # reworded in review R-12\n    derives_from: [NEED-1]\n    control_type",
    )
    edit(repository, REQUIREMENTS, "title: Low glucose alert", 'title: "Low glucose alert"')
    git(repository, "commit", "-q", "-am", "Reflow", author="Bob Builder", date=DATE)
    assert suspects(repository) == []


def test_uncommitted_change_is_named_as_such(repository: Path) -> None:
    edit(repository, REQUIREMENTS, "below 70 mg/dL.\n", "below 65 mg/dL.\n")
    messages = c501_messages(repository)
    assert len(messages) == 1
    assert "(changed in the working tree, not committed yet)" in messages[0]


def test_message_outside_git_says_what_changed_without_who(tmp_path: Path) -> None:
    root = tmp_path / "device"
    shutil.copytree(FIXTURE, root)
    assert qms("review", "--all", "--project", str(root))[0] == 0
    edit(root, "traceability/architecture.yaml", "title: Alert engine", "title: Alarm engine")
    assert c501_messages(root) == [
        "suspect links: SI-1 changed since the links to it were last reviewed; "
        "check that SI-2 still holds, then run `qms review SI-1`"
    ]


def test_new_link_is_not_a_suspect_link(repository: Path) -> None:
    """New work is reviewed with the change that adds it; the release stamps it (`qms review --all`)."""
    edit(repository, "traceability/tests.yaml", "verifies: [SWR-1, SWR-2]", "verifies: [SWR-1, SWR-2, SWR-3]")
    assert suspects(repository) == []
    _, output = qms("check", "--release", "--format", "json", "--project", str(repository))
    messages = [f["message"] for f in json.loads(output)["findings"] if f["rule"] == "C501"]
    assert messages == [
        "1 link never reviewed (TST-2 verifies SWR-3): a release stamps every link; "
        "review them, then run `qms review --all`"
    ]


def test_new_link_is_reported_until_reviewed_when_the_project_asks(repository: Path) -> None:
    edit(
        repository,
        "qms.yaml",
        "sources: [traceability, risk_register]",
        "sources: [traceability, risk_register]\nchange_control: {review_new_links: true}",
    )
    edit(repository, "traceability/tests.yaml", "verifies: [SWR-1, SWR-2]", "verifies: [SWR-1, SWR-2, SWR-3]")
    assert suspects(repository) == [("TST-2", "traceability/tests.yaml", 13, 30)]
    assert c501_messages(repository) == ["1 link not reviewed yet (verifies SWR-3): check, then run `qms review TST-2`"]
    assert qms("review", "TST-2", "--project", str(repository)) == (
        0,
        "stamped TST-2 verifies SWR-3\nqms.lock: 1 link stamped\n",
    )
    assert suspects(repository) == []


def test_stamps_of_removed_links_are_dropped(repository: Path) -> None:
    edit(repository, "traceability/tests.yaml", "verifies: [SWR-1, SWR-2]", "verifies: [SWR-1]")
    assert suspects(repository) == []
    code, output = qms("review", "--all", "--project", str(repository))
    assert (code, output) == (
        0,
        "dropped the stamp of the removed link TST-2 verifies SWR-2\n"
        "qms.lock: 0 links stamped, 1 stale stamp dropped\n",
    )
    assert "TST-2 verifies SWR-2" not in (repository / LOCK_FILE).read_text(encoding="utf-8")


def test_what_a_person_wrote_in_the_lock_is_kept_when_it_is_written_again(repository: Path) -> None:
    """A comment line and a comment after a stamp are what a reviewer wrote: a stamp with one is still
    a stamp, a review writing the lock keeps both where they were, and the comments of a stamp whose
    link is gone move to the end, never lost."""
    lock = repository / LOCK_FILE
    text = lock.read_text(encoding="utf-8")
    (first,) = [line for line in text.splitlines() if line.startswith("TST-2 verifies SWR-1 ")]
    (second,) = [line for line in text.splitlines() if line.startswith("TST-2 verifies SWR-2 ")]
    text = text.replace(first, f"# reviewed with QA, see CR-7\n{first}   # pinned by Bob", 1)
    text = text.replace(second, f"{second}  # the limit test", 1)
    lock.write_text(text, encoding="utf-8")
    assert read_lock(repository).problems == ()
    assert c501_messages(repository) == []  # the stamps with comments are read as stamps

    edit(repository, "traceability/tests.yaml", "verifies: [SWR-1, SWR-2]", "verifies: [SWR-1]")
    edit(repository, REQUIREMENTS, "within 5 minutes", "within 2 minutes")
    code, output = qms("review", "--all", "--project", str(repository))
    assert code == 0, output

    written = lock.read_text(encoding="utf-8").splitlines()
    at = written.index("# reviewed with QA, see CR-7")
    assert written[at + 1].startswith("TST-2 verifies SWR-1 ") and written[at + 1].endswith("   # pinned by Bob")
    assert written[-1] == "# TST-2 verifies SWR-2 (link removed)  # the limit test"
    assert not any(line.startswith("TST-2 verifies SWR-2 ") for line in written)


def test_dry_run_writes_nothing(repository: Path) -> None:
    edit(repository, REQUIREMENTS, "within 5 minutes", "within 2 minutes")
    before = (repository / LOCK_FILE).read_text(encoding="utf-8")
    code, output = qms("review", "--all", "--dry-run", "--project", str(repository))
    assert (code, output) == (
        0,
        "would stamp SWR-1 derives_from SYS-1\n"
        "would stamp SWR-2 derives_from SYS-1\n"
        "would stamp TST-1 verifies SYS-1\n"
        "qms.lock (dry run, not written): 3 links stamped\n",
    )
    assert (repository / LOCK_FILE).read_text(encoding="utf-8") == before


def test_severity_can_be_lowered_to_warning(repository: Path) -> None:
    edit(
        repository,
        "qms.yaml",
        "rules: {R206: off,",
        "rules: {C501: warning, E407: warning, R206: off,",
    )
    edit(repository, REQUIREMENTS, "within 5 minutes", "within 2 minutes")
    code, output = qms("check", "--project", str(repository))
    assert code == 0, output
    assert output.count("warning C501") == 1
    # TST-1's run predates the change of SYS-1, which it verifies: stale until run again
    assert output.count("warning E407 TST-1: stale result: RUN-1") == 1


# --------------------------------------------------------------------------- the lock file itself


def test_project_without_lock_has_not_started_change_control(tmp_path: Path) -> None:
    root = tmp_path / "device"
    shutil.copytree(FIXTURE, root)
    assert suspects(root) == []
    code, output = qms("review", "SYS-1", "--project", str(root))
    assert code == 2
    assert (
        output == "qms: error: no qms.lock yet: run `qms review --all` to stamp every link and start change control\n"
    )


def test_broken_lock_lines_are_findings_at_their_line(repository: Path) -> None:
    lock = repository / LOCK_FILE
    lines = lock.read_text(encoding="utf-8").splitlines(keepends=True)
    header = sum(1 for line in lines if line.startswith("#"))
    body = lines[header:]
    broken = [
        *lines[:header],
        "<<<<<<< HEAD\n",
        body[0],
        "=======\n",
        "SWR-1 derives_from SYS-1 nothex\n",
        ">>>>>>> topic\n",
        *body[1:],
        body[0].rsplit(" ", 1)[0] + " 0000000000000000\n",
    ]
    lock.write_text("".join(broken), encoding="utf-8")
    _, output = qms("check", "--format", "json", "--project", str(repository))
    findings = [(f["file"], f["line"], f["message"][:40]) for f in json.loads(output)["findings"]]
    assert findings == [
        (LOCK_FILE, header + 1, "merge conflict marker in qms.lock: keep "),
        (LOCK_FILE, header + 3, "merge conflict marker in qms.lock: keep "),
        (LOCK_FILE, header + 4, "not a review stamp: expected `SOURCE FIE"),
        (LOCK_FILE, header + 5, "merge conflict marker in qms.lock: keep "),
        (LOCK_FILE, len(broken), "HAZ-1 controls SWR-1 is stamped twice wi"),
    ]
    # a line that is no stamp holds what a person wrote: the review refuses to drop it, and says where
    code, output = qms("review", "--all", "--project", str(repository))
    assert (code, output) == (
        1,
        f"qms: error: {LOCK_FILE}:{header + 4}:1: not a review stamp: expected `SOURCE FIELD TARGET DIGEST` with a "
        "16-digit hex digest (and a `# comment` after it if you like); correct the line or restore it from git, "
        "or delete it and run `qms review` on its items (this review would drop the line)\n",
    )
    assert lock.read_text(encoding="utf-8") == "".join(broken)
    lock.write_text("".join(line for line in broken if "nothex" not in line), encoding="utf-8")
    code, output = qms("review", "--all", "--project", str(repository))
    assert code == 0, output  # the merge markers and the second stamp are left out
    assert suspects(repository) == []
    assert "<<<<<<<" not in lock.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- command line errors


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            (),
            "qms: error: name the item whose links you reviewed, e.g. `qms review SWR-003` (each C501 finding of "
            "`qms check` names its command), or stamp every link with `qms review --all`\n",
        ),
        (("SYS-1", "--all"), "qms: error: name the items you reviewed or pass --all, not both\n"),
        (("SYS-1", "swr-2", "NOPE"), "qms: error: no item with id swr-2 (did you mean SWR-2?), NOPE\n"),
    ],
)
def test_usage_errors(repository: Path, arguments: tuple[str, ...], message: str) -> None:
    assert qms("review", *arguments, "--project", str(repository)) == (2, message)


def test_refuses_to_stamp_while_a_file_is_unreadable(repository: Path) -> None:
    (repository / "traceability" / "tests.yaml").write_text("kind: test\nitems: [\n", encoding="utf-8")
    before = (repository / LOCK_FILE).read_text(encoding="utf-8")
    code, output = qms("review", "--all", "--project", str(repository))
    assert code == 2
    assert output.startswith("qms: error: traceability/tests.yaml:")
    assert output.endswith("fix the unreadable file first: the links in them would lose their review stamps\n")
    assert (repository / LOCK_FILE).read_text(encoding="utf-8") == before


def test_init_starts_change_control(tmp_path: Path) -> None:
    code, output = qms("init", str(tmp_path / "new"))
    assert code == 0
    assert f"created {tmp_path / 'new' / LOCK_FILE}" in output
    state = read_lock(tmp_path / "new")
    project = load_project(tmp_path / "new")
    assert state.exists and len(state.stamps) == len({link_key(link) for link in project.links}) > 0
    assert suspects(tmp_path / "new") == []


@pytest.mark.parametrize("kind", ["folder", "not UTF-8", "dangling link"])
def test_a_lock_that_cannot_be_read_is_one_finding_and_review_refuses(repository: Path, kind: str) -> None:
    """Change control never goes silently off, and one mistake gives one finding."""
    lock = repository / LOCK_FILE
    lock.unlink()
    if kind == "folder":
        lock.mkdir()
        (lock / "x").write_text("kept\n", encoding="utf-8")
    elif kind == "not UTF-8":
        lock.write_bytes(b"\xff\xfe stamps\n")
    else:
        lock.symlink_to(repository / "gone")
    code, output = qms("check", "--project", str(repository))
    assert code == 1
    (finding,) = [line for line in output.splitlines() if ": error " in line]
    assert finding.startswith(f"{LOCK_FILE}:1:1: error C501: {LOCK_FILE} cannot be read (")
    code, output = qms("review", "--all", "--project", str(repository))
    assert code == 1
    assert output.startswith(f"qms: error: {LOCK_FILE} cannot be read (")
    if kind == "folder":
        assert (lock / "x").read_text(encoding="utf-8") == "kept\n"


@pytest.mark.parametrize(
    "command",
    [("diff", "HEAD", "-o", "{target}"), ("matrix", "-o", "{target}"), ("check", "-o", "{target}")],
)
def test_outputs_that_cannot_be_written_are_refused_with_a_message(repository: Path, command: tuple[str, ...]) -> None:
    for target in ("/proc/qms-test/out", str(repository / "qms.yaml" / "out")):
        arguments = [part.format(target=target) for part in command]
        code, output = qms(*arguments, "--project", str(repository))
        assert code == 2, output
        assert output.startswith("qms: error: cannot write ") and target in output.splitlines()[0]


def test_review_that_cannot_write_the_lock_is_refused(repository: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A read-only checkout (simulated: the tests may run as root, whom permissions do not stop)."""
    edit(repository, REQUIREMENTS, "within 5 minutes", "within 2 minutes")

    def read_only(path: Path, text: str) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("qms.review.atomic.write_text", read_only)
    code, output = qms("review", "SYS-1", "--project", str(repository))
    assert code == 2
    assert output.splitlines()[-1] == f"qms: error: cannot write {repository / LOCK_FILE}: Permission denied"


@pytest.mark.slow
def test_build_of_a_repository_with_line_separators_and_far_dates(repository: Path) -> None:
    """The technical file reads revision histories and document control from git: no traceback."""
    from click.testing import CliRunner

    from qms.cli import main

    edit(repository, REQUIREMENTS, "title: Low glucose alert", 'title: "Low glucose\u2028alarm\x85now"')
    git(repository, "commit", "-q", "-am", "Odd separator", author="Bob Builder", date="@253402300800 +0000")
    edit(repository, REQUIREMENTS, "title: Store alerts", "title: Store every alert")
    git(repository, "commit", "-q", "-am", "Odd zone", author="Bob Builder", date="@1700000000 +9999")
    result = CliRunner().invoke(main, ["build", "--project", str(repository), "-o", str(repository / "site")])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert result.exit_code == 0, result.output
    page = (repository / "site" / "design-inputs.html").read_text(encoding="utf-8")  # where SYS-1 is
    assert "changed by Bob Builder on @253402300800 +0000 in commit" in page  # as git stores the date
