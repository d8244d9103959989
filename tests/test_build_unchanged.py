"""``qms build`` with nothing changed since the last build leaves the site as it is, and builds
whenever anything the site shows changed: a file it reads or finds, git, the tools, the options."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sphinx_support import build, new_project, site_files

from qms.cli.build_inputs import RACY, Digests, Reads, inputs, literal_settings, read_record
from qms.project import load_project

UP_TO_DATE = "is up to date: nothing it shows changed since it was built"

#: A test whose JUnit result the verification pages show, and a reference to an id no item has.
FILES = {
    "traceability/extra.yaml": "kind: software_requirement\nitems:\n  - id: SWR-900\n    title: Keep the log\n"
    "    text: |\n      The software shall keep the log, as :item:`NOPE-1` says.\n    derives_from: [SYS-001]\n",
    "traceability/proof.yaml": "kind: test\nitems:\n  - id: TST-900\n    title: Log kept\n    method: test\n"
    "    verifies: [SWR-900]\n    evidence:\n      - tests/test_log.py::test_log_kept\n",
    "reports/unit.xml": '<testsuite name="pytest" tests="1"><testcase classname="tests.test_log" '
    'name="test_log_kept" file="tests/test_log.py" time="0.1"/></testsuite>\n',
}


def git(root: Path, *arguments: str) -> str:
    environment = {**os.environ, "GIT_AUTHOR_NAME": "Ann Author", "GIT_COMMITTER_NAME": "Ann Author"}
    environment |= {"GIT_AUTHOR_EMAIL": "ann@example.org", "GIT_COMMITTER_EMAIL": "ann@example.org"}
    completed = subprocess.run(
        ["git", *arguments], cwd=root, check=True, capture_output=True, text=True, env=environment
    )
    return completed.stdout


def git_project(root: Path) -> Path:
    """A project as ``qms init`` makes it, with a warning and a test result, in a repository with one commit."""
    new_project(root, files=FILES)
    git(root, "init", "-q")
    git(root, "config", "commit.gpgsign", "false")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Records")
    return root


def times(folder: Path) -> dict[str, int]:
    """Every file's modification time: a site left as it was keeps them all."""
    return {str(path.relative_to(folder)): path.stat().st_mtime_ns for path in sorted(folder.rglob("*"))}


def fingerprint(root: Path) -> str:
    """The inputs' fingerprint of a build into the default folder, as the next build would see it."""
    found = inputs(root, root / "_build" / "html", root / "_build" / "doctrees", Reads(), Digests({}))
    assert found is not None
    return found.fingerprint


# ------------------------------------------------------------------------------ without Sphinx


def _edit(relative: str, old: str, new: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        path = root / relative
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new), encoding="utf-8")

    return edit


def _write(relative: str, text: str) -> Callable[[Path], None]:
    def write(root: Path) -> None:
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")

    return write


def _commit(root: Path) -> None:
    git(root, "commit", "-q", "--allow-empty", "-m", "Nothing but a commit")


def _tag(root: Path) -> None:
    git(root, "tag", "v0.1.0")


def _stage(root: Path) -> None:
    _edit("qms.yaml", "version: 0.1.0", "version: 0.1.1")(root)
    git(root, "add", "qms.yaml")
    _edit("qms.yaml", "version: 0.1.1", "version: 0.1.0")(root)  # the same text, but staged: HEAD differs


CHANGES = {
    "item edit": _edit("traceability/extra.yaml", "keep the log", "keep the whole log"),
    "new item file": _write("traceability/more.yaml", "kind: need\nitems: []\n"),
    "evidence change": _edit("reports/unit.xml", 'time="0.1"/>', 'time="0.1"><failure message="no"/></testcase>'),
    "new evidence file": _write("reports/more.xml", '<testsuite name="x" tests="0"/>\n'),
    "new page": _write("notes/intro.rst", "Notes\n=====\n"),
    "template": _write(
        "_templates/software-requirements.rst.jinja", '{% extends "default/software-requirements.rst.jinja" %}\n'
    ),
    "conf.py": _edit(
        "conf.py", 'extensions = ["qms.sphinx"]', 'extensions = ["qms.sphinx"]\nqms_document_id_prefix = "X"'
    ),
    "qms.yaml": _edit("qms.yaml", "version: 0.1.0", "version: 0.1.1"),
    "qms.lock": _write("qms.lock", "# review stamps\n"),
    "approvals": _write("approvals.yaml", "approvals: []\n"),
    "a tracked file the site does not read (the dirty flag)": _write("README.md", "changed\n"),
    "untracked file (changed since an approval's commit)": _write("tests/notes.txt", "new\n"),
    "new commit": _commit,
    "new tag": _tag,
    "staged change": _stage,
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_every_input_changes_the_fingerprint(tmp_path: Path, change: Callable[[Path], None]) -> None:
    root = git_project(tmp_path / "device")
    git(root, "add", "-A")  # README.md and notes.txt do not exist yet: writing them is the change
    before = fingerprint(root)
    assert fingerprint(root) == before
    change(root)
    assert fingerprint(root) != before


def test_what_no_build_reads_leaves_the_fingerprint(tmp_path: Path) -> None:
    root = git_project(tmp_path / "device")
    (root / ".gitignore").write_text("_build/\nreports/\n.pytest_cache/\n", encoding="utf-8")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Ignore the caches")
    before = fingerprint(root)
    (root / ".pytest_cache").mkdir()
    (root / ".pytest_cache" / "lastfailed").write_text("{}\n", encoding="utf-8")
    (root / "_build" / "html").mkdir(parents=True)
    (root / "_build" / "html" / "index.html").write_text("a site\n", encoding="utf-8")
    (root / "_build" / ".html.building-x1").mkdir()
    for touched in ("conf.py", "qms.yaml"):
        os.utime(root / touched)  # touched, not changed
    assert fingerprint(root) == before


def test_the_parse_cache_is_no_input_wherever_it_is_kept(tmp_path: Path) -> None:
    """The build reads the project through the parse cache and writes it: a cache kept among the
    project's files (``cache`` in qms.yaml) must not make the next build run again."""
    root = git_project(tmp_path / "device")
    config = root / "qms.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "cache: parsed\n", encoding="utf-8")
    before = fingerprint(root)
    load_project(root, cache=True)
    assert (root / "parsed" / "items.bin").is_file()
    assert fingerprint(root) == before


def _touched(root: Path, relative: str) -> bool:
    """Whether touching the file (its time a second later, its bytes as they are) changes the fingerprint."""
    before = fingerprint(root)
    modified = (root / relative).stat().st_mtime_ns
    os.utime(root / relative, ns=(modified + 10**9, modified + 10**9))
    return fingerprint(root) != before


def test_a_result_file_touched_changes_the_fingerprint(tmp_path: Path) -> None:
    """The site shows when a result without a time ran: its file's time."""
    assert _touched(git_project(tmp_path / "device"), "reports/unit.xml")


def test_an_item_file_touched_changes_the_fingerprint_only_while_git_holds_no_commit_of_it(tmp_path: Path) -> None:
    """The site shows when an uncommitted change of an item was made (the staleness of the results
    verifying it): its file's time. A file as committed, or a project outside git, shows no time of it."""
    root = git_project(tmp_path / "device")
    assert not _touched(root, "traceability/extra.yaml")  # as committed
    _edit("traceability/extra.yaml", "title: ", "title: Now ")(root)
    assert _touched(root, "traceability/extra.yaml")  # changed since the commit
    (root / "traceability" / "new.yaml").write_text("kind: need\nitems: []\n", encoding="utf-8")
    assert _touched(root, "traceability/new.yaml")  # not committed
    outside = new_project(tmp_path / "outside", files=FILES)
    assert not _touched(outside, "traceability/extra.yaml")  # no git


def test_a_file_is_read_again_only_when_its_status_changed(tmp_path: Path) -> None:
    path = tmp_path / "items.yaml"
    path.write_text("one\n", encoding="utf-8")
    digest = hashlib.sha256(b"one\n").hexdigest()
    just_now = Digests({})
    assert just_now.of(path) == digest and just_now.kept == {}  # changed within RACY: not trusted by its times
    later = Digests({}, now=time.time_ns() + 2 * RACY)
    assert later.of(path) == digest
    kept = {name: [*entry[:5], "kept"] for name, entry in later.kept.items()}
    assert Digests(kept).of(path) == "kept"  # the same size, times and inode: the digest kept is trusted
    modified = path.stat().st_mtime_ns
    path.write_text("two\n", encoding="utf-8")
    os.utime(path, ns=(modified, modified))  # the same size and modification time, a new change time
    assert Digests(kept).of(path) == hashlib.sha256(b"two\n").hexdigest()


# ------------------------------------------------------------------------------ real builds


def _built(root: Path, *options: str) -> str:
    result = build(root, *options)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.slow
def test_nothing_changed_leaves_the_site_and_gives_its_warnings_again(tmp_path: Path) -> None:
    root = git_project(tmp_path / "device")
    first = build(root)
    assert first.exit_code == 0, first.output
    assert "extra.yaml:" in first.stderr and "NOPE-1" in first.stderr
    site = root / "_build" / "html"
    files, stamps = site_files(site), times(site)
    again = build(root)
    assert again.exit_code == 0, again.output
    assert UP_TO_DATE in again.stdout
    assert again.stderr == first.stderr  # the same warnings, at the same YAML file and line
    assert site_files(site) == files and times(site) == stamps
    os.utime(root / "conf.py")  # touched, not changed
    assert UP_TO_DATE in _built(root)
    os.utime(root / "traceability" / "extra.yaml")  # an item file as committed, touched
    assert UP_TO_DATE in _built(root)
    assert read_record(root / "_build" / "doctrees") is not None
    assert git(root, "status", "--porcelain") == ""  # nothing written among the project's sources


@pytest.mark.slow
def test_strict_clean_and_fail_on_findings_keep_their_meaning(tmp_path: Path) -> None:
    root = git_project(tmp_path / "device")
    _edit("traceability/proof.yaml", "verifies: [SWR-900]", "verifies: [SWR-901]")(root)  # an error finding
    first = build(root, "--fail-on-findings")
    assert first.exit_code == 1 and "with --fail-on-findings the findings fail the build" in first.output
    again = build(root, "--fail-on-findings")
    assert again.exit_code == 1 and UP_TO_DATE in again.stdout
    assert again.output.splitlines()[-1] == first.output.splitlines()[-1]
    assert build(root).exit_code == 0
    assert UP_TO_DATE not in _built(root, "--clean")
    strict = build(root, "--strict")
    assert strict.exit_code == 1 and UP_TO_DATE not in strict.stdout  # the warning fails it: Sphinx ran


def _touch_result(root: Path) -> None:
    """The result file has no timestamp: the site shows its modification time as when the test ran."""
    os.utime(root / "reports" / "unit.xml", ns=(1_700_000_000 * 10**9, 1_700_000_000 * 10**9))


REBUILDS = {
    name: CHANGES[name]
    for name in (
        "item edit",
        "new item file",
        "evidence change",
        "new evidence file",
        "new page",
        "template",
        "conf.py",
        "qms.yaml",
        "new commit",
    )
} | {
    "result file touched": _touch_result,
    "new tag": lambda root: git(root, "tag", "-a", "v0.1.0", "-m", "Release"),
}


@pytest.mark.slow
@pytest.mark.parametrize("change", REBUILDS.values(), ids=REBUILDS.keys())
def test_a_change_builds_the_site_a_clean_build_gives(tmp_path: Path, change: Callable[[Path], None]) -> None:
    root = git_project(tmp_path / "device")
    _built(root)
    change(root)
    output = _built(root)
    assert UP_TO_DATE not in output and "qms: built" in output
    assert UP_TO_DATE in _built(root)
    clean = tmp_path / "clean"
    _built(root, "--clean", "-o", str(clean))
    assert site_files(root / "_build" / "html") == site_files(clean)


@pytest.mark.slow
def test_another_output_folder_is_built(tmp_path: Path) -> None:
    root = git_project(tmp_path / "device")
    _built(root)
    other = tmp_path / "other"
    assert UP_TO_DATE not in _built(root, "-o", str(other))
    assert UP_TO_DATE in _built(root, "-o", str(other))
    assert UP_TO_DATE not in _built(root)  # the record is of the last build, into the other folder
    (root / "_build" / "html" / "search.html").unlink()  # the site is not as the build left it
    assert UP_TO_DATE not in _built(root)
    assert (root / "_build" / "html" / "search.html").is_file()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("page", "reason"),
    [
        ("As of |today|.\n", "|today|"),
        (".. qms:release-changes::\n   :base: main@{yesterday}\n", "reflog"),
    ],
    ids=["the day", "a revision through the reflog"],
)
def test_a_page_that_depends_on_the_clock_always_builds(tmp_path: Path, page: str, reason: str) -> None:
    root = git_project(tmp_path / "device")
    _write("notes.rst", f"Notes\n=====\n\n{page}")(root)
    _built(root)
    assert UP_TO_DATE not in _built(root)
    record = read_record(root / "_build" / "doctrees")
    assert record is not None and record.reads.unsafe is not None and reason in record.reads.unsafe


def test_the_approvals_file_is_the_one_qms_reads() -> None:
    from qms import approvals
    from qms.cli import build_inputs

    assert build_inputs.APPROVALS_FILE == approvals.APPROVALS_FILE


def test_another_installed_distribution_changes_the_fingerprint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = git_project(tmp_path / "device")
    before = fingerprint(root)
    packages = tmp_path / "site-packages"
    (packages / "sphinx-99.0.dist-info").mkdir(parents=True)
    monkeypatch.syspath_prepend(str(packages))
    assert fingerprint(root) != before


@pytest.mark.parametrize(
    ("conf", "plain"),
    [
        ('"""The technical file."""\nextensions = ["qms.sphinx"]\nhtml_theme_options = {"a": (1, 2.0)}\n', True),
        ("project: str = 'Device'\n", True),
        ("import os\nextensions = ['qms.sphinx']\n", False),
        ("extensions = ['qms.sphinx']\nversion = open('VERSION').read()\n", False),
        ("def setup(app):\n    pass\n", False),
        ("extensions = ['qms.sphinx']\nextensions.append('x')\n", False),
        ("extensions = [\n", False),
    ],
)
def test_only_a_conf_py_of_literal_settings_is_fingerprinted_by_its_text(
    tmp_path: Path, conf: str, plain: bool
) -> None:
    (tmp_path / "conf.py").write_text(conf, encoding="utf-8")
    assert literal_settings(tmp_path / "conf.py") is plain
