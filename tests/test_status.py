"""The one verification status (qms.status), staleness judged in real git repositories, execution
records read and written (``qms record``), and ``qms status`` in text and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from fixtures.change.gitrepo import git, qms

from qms.checking import check_context, project_statuses
from qms.project import load_project
from qms.records import load_records
from qms.status import WORST_FIRST, Status

CONFIG = """\
device: {name: D, version: 2.0.0, software_safety_class: C}
sources: [items]
records: [records]
"""
ITEMS = """\
kind: software_requirement
items:
  - id: SWR-1
    title: Grey out old readings
    text: The software shall grey out a reading older than 15 minutes.
    derived: example
  - id: SWR-2
    title: Show the reading age
    text: The software shall show the age of the reading.
    derived: example
"""
TESTS = """\
kind: test
items:
  - id: TST-1
    title: Old reading greyed out
    method: inspection
    verifies: [SWR-1]
  - id: TST-2
    title: Age shown
    method: inspection
    verifies: [SWR-2]
  - id: TST-3
    title: Age shown on the widget
    method: inspection
    verifies: [SWR-2]
"""


def record(record_id: str, test: str, outcome: str, at: str, commit: str | None = None, **extra: str) -> str:
    lines = [
        f"id: {record_id}",
        f"test: {test}",
        f"outcome: {outcome}",
        f'executed_at: "{at}"',
        "executed_by: Test Engineer",
        "version: 2.0.0",
    ]
    if commit:
        lines.append(f"commit: {commit}")
    lines += [f"{key}: {value}" for key, value in extra.items()]
    return "\n".join(lines) + "\n"


def make(root: Path, records: dict[str, str]) -> Path:
    """The project with ``records`` (relative path -> text) in ``root``."""
    return add(root, {"qms.yaml": CONFIG, "items/r.yaml": ITEMS, "items/t.yaml": TESTS, **records})


def add(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def findings(root: Path, *rules: str) -> list[tuple[str, str | None, str]]:
    _, output = qms("check", "--format", "json", "--project", str(root))
    return [(f["rule"], f["item"], f["message"]) for f in json.loads(output)["findings"] if f["rule"] in rules]


# --------------------------------------------------------------------------- the one status


def test_a_requirement_is_as_bad_as_its_worst_test(tmp_path: Path) -> None:
    root = make(
        tmp_path,
        {
            "records/a.yaml": record("R-1", "TST-1", "passed", "2025-06-02T10:00:00Z"),
            "records/b.yaml": record("R-2", "TST-2", "passed", "2025-06-02T10:00:00Z"),
        },
    )
    statuses = project_statuses(load_project(root))
    assert (statuses.status("SWR-1"), statuses.status("TST-3"), statuses.status("SWR-2")) == (
        Status.PASSED,
        Status.NOT_RUN,
        Status.NOT_RUN,  # TST-2 passed, but TST-3 never ran
    )
    assert statuses.of("SWR-1") is not None and statuses.of("NOPE") is None
    assert list(WORST_FIRST) == [Status(name) for name in ("failed", "error", "stale", "not-run", "skipped", "passed")]


def test_the_newest_record_counts_and_a_rerun_is_a_new_record(tmp_path: Path) -> None:
    runs = {
        "records/1.yaml": record("R-1", "TST-1", "failed", "2025-06-02T10:00:00+02:00"),
        "records/2.yaml": record("R-2", "TST-1", "passed", "2025-06-02T09:00:00Z"),  # 08:00Z < 09:00Z: newer
        "records/3.yaml": record("R-3", "TST-2", "passed", "2025-06-02T10:00:00Z"),
        "records/4.yaml": record("R-4", "TST-2", "blocked", "2025-06-03T10:00:00Z", reason="pump simulator broken"),
    }
    statuses = project_statuses(load_project(make(tmp_path, runs)))
    tst1, tst2 = statuses.of("TST-1"), statuses.of("TST-2")
    assert tst1 is not None and tst1.status is Status.PASSED and [r.case for r in tst1.results] == ["R-2"]
    assert tst2 is not None and tst2.status is Status.ERROR  # blocked: the test could not be executed


def test_status_json_has_the_version_1_shape(tmp_path: Path) -> None:
    root = make(tmp_path, {"records/a.yaml": record("R-1", "TST-1", "passed", "2025-06-02T10:00:00Z")})
    code, output = qms("status", "--format", "json", "--project", str(root))
    document = json.loads(output)
    assert code == 0 and set(document) == {"version", "items", "summary"} and document["version"] == 1
    by_id = {item["id"]: item for item in document["items"]}
    assert set(by_id["TST-1"]) == {"id", "kind", "status", "results"}
    assert by_id["TST-1"]["results"] == [
        {
            "test": "TST-1",
            "source": "records/a.yaml",
            "outcome": "passed",
            "at": "2025-06-02T10:00:00Z",
            "by": "Test Engineer",
            "version": "2.0.0",
            "commit": None,
        }
    ]
    assert by_id["SWR-2"]["status"] == "not-run"
    assert document["summary"]["test"] == {
        "failed": 0,
        "error": 0,
        "stale": 0,
        "not-run": 2,
        "skipped": 0,
        "passed": 1,
    }
    code, text = qms("status", "TST-1", "--project", str(root))
    assert text.splitlines()[:2] == [
        "TST-1  test  passed",
        "    passed   record R-1 (records/a.yaml:1) 2025-06-02T10:00:00Z, by Test Engineer, 2.0.0",
    ]
    assert "note: not under version control: results are not checked for staleness" in text


# --------------------------------------------------------------------------- staleness in git


DATE = "2025-06-02T09:15:00+00:00"


def committed(root: Path, message: str, date: str = DATE, author: str = "Alice Example") -> str:
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", message, date=date, author=author)
    return git(root, "rev-parse", "HEAD")


def test_a_result_is_stale_after_its_test_or_what_it_verifies_changed(tmp_path: Path) -> None:
    root = make(tmp_path, {})
    git(root, "init", "-q")
    base = committed(root, "Baseline")
    runs = {
        # ran on the baseline: stale once SWR-1 changes in a later commit
        "records/1.yaml": record("R-1", "TST-1", "passed", "2025-06-02T10:00:00Z", commit=base),
        # a commit git does not know: judged by time; it ran after every change
        "records/2.yaml": record("R-2", "TST-2", "passed", "2025-06-05T10:00:00Z", commit="abcdef1234567"),
        "records/3.yaml": record("R-3", "TST-3", "passed", "2025-06-02T10:00:00Z"),  # no commit: by time
    }
    add(root, runs)
    committed(root, "Records")
    assert findings(root, "E407") == []
    (root / "items/r.yaml").write_text(ITEMS.replace("older than 15 minutes", "older than 12 minutes"))
    change = committed(root, "Stale threshold 12 minutes", date="2025-06-04T08:00:00+00:00", author="Bob Example")
    stale = findings(root, "E407")
    assert stale == [
        (
            "E407",
            "TST-1",
            f"stale result: R-1 (records/1.yaml) ran on 2025-06-02T10:00:00Z before SWR-1 last changed by Bob "
            f'Example on 2025-06-04 in commit {change[:10]} "Stale threshold 12 minutes"; run TST-1 again and '
            "record the result",
        )
    ]
    statuses = project_statuses(load_project(root))
    assert (statuses.status("TST-1"), statuses.status("SWR-1")) == (Status.STALE, Status.STALE)
    assert statuses.status("TST-2") is Status.PASSED  # ran after the change (by time)
    # the re-run, on the commit that holds the change, is current again
    add(root, {"records/4.yaml": record("R-4", "TST-1", "passed", "2025-06-04T09:00:00Z", commit=change)})
    assert findings(root, "E407") == []


def test_ancestry_decides_where_the_commit_is_known(tmp_path: Path) -> None:
    root = make(tmp_path, {})
    git(root, "init", "-q")
    committed(root, "Baseline")
    (root / "items/t.yaml").write_text(TESTS.replace("Age shown on the widget", "Age shown on the home widget"))
    change = committed(root, "Widget wording", date="2025-06-10T08:00:00+00:00")
    # the record's clock says before the change, but it ran on the commit that holds it: current
    add(root, {"records/1.yaml": record("R-1", "TST-3", "passed", "2025-06-01T10:00:00Z", commit=change)})
    assert project_statuses(load_project(root)).status("TST-3") is Status.PASSED
    # an uncommitted change of the test counts from the file's time: every earlier result is stale
    (root / "items/t.yaml").write_text(TESTS.replace("Age shown on the widget", "Age on the widget"))
    stale = findings(root, "E407")
    assert [(rule, item) for rule, item, _ in stale] == [("E407", "TST-3")]
    assert "TST-3 changed in the working tree, not committed yet" in stale[0][2]


# --------------------------------------------------------------------------- records


def test_records_with_anomalies_and_attachments(tmp_path: Path) -> None:
    log = b"time,glucose\n10:00,120\n"
    import hashlib

    digest = hashlib.sha256(log).hexdigest()
    campaign = f"""\
executed_by: Test Engineer
executed_at: 2025-06-02T10:00:00+02:00
version: 2.0.0
environment: {{phone: Pixel 8, os: Android 14}}
records:
  - id: R-1
    test: TST-1
    outcome: failed
    anomalies: [ANOM-1]
    attachments:
      - {{path: records/log.csv, sha256: {digest}}}
  - id: R-2
    test: TST-2
    outcome: passed
    executed_by: Other Engineer
"""
    anomaly = "id: ANOM-1\nkind: anomaly\ntitle: t\nstatus: open\nseverity: 1\nevaluation: harmless because...\n"
    root = make(tmp_path, {"records/c.yaml": campaign, "records/log.csv": "", "items/a.yaml": anomaly})
    (root / "records/log.csv").write_bytes(log)
    records = load_records(load_project(root))
    assert records.findings == ()
    first, second = records.records
    assert (first.anomalies, dict(first.environment), first.by) == (
        ("ANOM-1",),
        {"phone": "Pixel 8", "os": "Android 14"},
        "Test Engineer",
    )
    assert second.by == "Other Engineer"  # a record's own field wins over the campaign's
    assert findings(root, "E406", "E408") == []  # the failure raised an evaluated anomaly; the log is intact
    (root / "records/log.csv").write_bytes(log + b"10:05,118\n")
    assert [rule for rule, *_ in findings(root, "E408")] == ["E408"]


# --------------------------------------------------------------------------- qms record


def test_qms_record_writes_a_new_record_each_run(tmp_path: Path) -> None:
    root = make(tmp_path, {})
    git(root, "init", "-q")
    git(root, "config", "user.name", "Carol Example")
    head = committed(root, "Baseline")
    (root / "logs").mkdir()
    (root / "logs/run.csv").write_text("a,b\n", encoding="utf-8")
    code, output = qms(
        "record", "TST-1", "--outcome", "passed", "--note", "all fine", "--attach", str(root / "logs/run.csv"),
        "--env", "phone=Pixel 8", "--project", str(root),
    )  # fmt: skip
    assert code == 0, output
    (written,) = sorted((root / "records").glob("*.yaml"))
    data = yaml.safe_load(written.read_text(encoding="utf-8"))
    assert (data["test"], data["outcome"], data["executed_by"], data["version"], data["commit"]) == (
        "TST-1",
        "passed",
        "Carol Example",  # git's user.name
        "2.0.0",  # device.version
        head,
    )
    assert data["attachments"][0]["path"] == "logs/run.csv" and data["environment"] == {"phone": "Pixel 8"}
    check = check_context(load_project(root))
    assert check.findings == () and check.statuses.status("TST-1") is Status.PASSED


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["NOPE", "--outcome", "passed"], "no item with id NOPE: records execute tests"),
        (["SWR-1", "--outcome", "passed"], "SWR-1 is a software requirement, not a test"),
        (["TST-1", "--outcome", "blocked"], "outcome blocked needs --reason"),
        (["TST-1", "--outcome", "passed", "--anomaly", "SWR-1"], "SWR-1 is not an anomaly item"),
        (["TST-1", "--outcome", "passed"], "who executed the test? give --by NAME"),
    ],
)
def test_qms_record_refuses(tmp_path: Path, arguments: list[str], message: str) -> None:
    root = make(tmp_path, {})
    code, output = qms("record", *arguments, "--project", str(root))
    assert code == 1 and message in output
    assert not (root / "records").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--commit", "zzz"], "--commit 'zzz' is not a git commit hash (7 to 64 hex digits)"),
        (["--env", "phone=Pixel 8", "--env", "phone=Pixel 9"], "--env phone is given twice"),
        (["--by", " "], "--by is empty: name who executed the test"),
    ],
)
def test_qms_record_refuses_what_it_would_write_wrong_or_change(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    """A record is never edited after it is written: what a check would reject (a commit that is no
    hash), or what would be written other than given (one of two values, git's name for an empty
    one), is refused before the record exists."""
    root = make(tmp_path, {})
    code, output = qms("record", "TST-1", "--outcome", "passed", "--by", "Tess", *arguments, "--project", str(root))
    assert code == 2 and f"qms: error: {message}" in output
    assert not (root / "records").exists()


def test_qms_record_refuses_an_outcome_outside_the_list_and_files_outside(tmp_path: Path) -> None:
    root = make(tmp_path / "project", {})
    code, output = qms("record", "TST-1", "--outcome", "passd", "--by", "X", "--project", str(root))
    assert code == 2 and "'passd' is not one of 'passed', 'failed', 'blocked', 'not-applicable'" in output
    outside = tmp_path / "secret.txt"
    outside.write_text("x", encoding="utf-8")
    code, output = qms(
        "record", "TST-1", "--outcome", "passed", "--by", "X", "--attach", str(outside), "--project", str(root)
    )
    assert code == 1 and "is outside the project" in output
    assert not (root / "records").exists()


def test_a_software_item_has_a_status_only_when_a_test_verifies_it(tmp_path: Path) -> None:
    architecture = (
        "kind: software_item\nitems:\n"
        "  - {id: SI-1, title: Display, description: d, implements: [SWR-1]}\n"
        "  - {id: SI-2, title: Pump driver, description: d, implements: [SWR-2]}\n"
    )
    tests = TESTS + "  - id: TST-4\n    title: Driver\n    method: inspection\n    verifies: [SI-2]\n"
    root = make(tmp_path, {"items/a.yaml": architecture, "items/t.yaml": tests})
    statuses = project_statuses(load_project(root))
    assert statuses.of("SI-1") is None  # nothing verifies it: no status to show
    assert statuses.status("SI-2") is Status.NOT_RUN and statuses.status("SWR-1") is Status.NOT_RUN


def junit(commit: str, timestamp: str) -> str:
    return (
        f'<testsuite name="s" timestamp="{timestamp}"><properties><property name="qms:commit" value="{commit}"/>'
        '<property name="qms:version" value="2.0.0"/></properties>'
        '<testcase classname="tests.test_age" name="test_grey"><properties>'
        '<property name="verifies" value="TST-1"/></properties></testcase></testsuite>'
    )


def test_junit_results_belong_to_the_commit_the_plugin_wrote(tmp_path: Path) -> None:
    root = make(tmp_path, {"qms.yaml": CONFIG + "evidence: [reports/*.xml]\n"})
    git(root, "init", "-q")
    base = committed(root, "Baseline")
    (root / "items/t.yaml").write_text(TESTS.replace("Old reading greyed out", "Old reading shown grey"))
    change = committed(root, "Wording", date="2025-06-04T08:00:00+00:00")
    add(root, {"reports/run.xml": junit(base, "2025-06-05T10:00:00Z")})  # clock after, commit before the change
    statuses = project_statuses(load_project(root))
    tst1 = statuses.of("TST-1")
    assert tst1 is not None and tst1.status is Status.STALE
    assert [(result.version, result.commit) for result in tst1.results] == [("2.0.0", base)]
    add(root, {"reports/run.xml": junit(f"{change}+dirty", "2025-06-05T10:00:00Z")})  # a dirty tree: by time
    assert project_statuses(load_project(root)).status("TST-1") is Status.PASSED
    _, text = qms("status", "TST-1", "--project", str(root))
    assert f"2.0.0 commit {change[:10]} with uncommitted changes" in text


def test_records_under_sources_are_refused_once(tmp_path: Path) -> None:
    config = CONFIG.replace("sources: [items]", "sources: [items, records]")
    root = make(tmp_path, {"qms.yaml": config, "records/a.yaml": record("R-1", "TST-1", "passed", "2025-06-02T10:00Z")})
    records = load_records(load_project(root))
    assert records.records == ()
    assert [(f.rule, f.message) for f in records.findings] == [
        (
            "Q001",
            "records/a.yaml is under both `sources` and `records` in qms.yaml: keep execution records out of `sources`",
        )
    ]
