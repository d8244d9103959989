"""``qms build``: where it writes, what it says, how it fails, and that it gives the same bytes
as ``sphinx-build`` and as itself in another checkout."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import invoke_qms, write_files
from sphinx_support import build, new_project, page, site_files

from qms.atomic import ForeignFolder, mark_output, remove_abandoned, replace_tree, workspace
from qms.cli import build as build_command
from qms.documents import DOCUMENTS


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project as ``qms init`` makes it, built once with ``qms build``."""
    root = new_project(tmp_path_factory.mktemp("cli") / "device")
    result = build(root)
    assert result.exit_code == 0, result.output
    assert (
        result.stdout
        == f"qms: built {len(DOCUMENTS) + 2} pages into "  # the documents, the front page and search
        + str(root / "_build" / "html")
        + "; open "
        + str(root / "_build" / "html" / "index.html")
        + "\n"
    )
    return root


@pytest.mark.slow
def test_default_output_is_the_whole_technical_file(built: Path) -> None:
    site = built / "_build" / "html"
    pages = sorted(path.name for path in site.glob("*.html"))
    assert pages == [
        "annex-ii-index.html", "change-requests.html", "clause-index.html", "configuration-management-plan.html",
        "design-inputs.html", "design-reviews.html", "design-traceability.html", "fda-documentation.html",
        "gaps.html", "gspr-checklist.html", "index.html", "problem-reports.html",
        "release-notes.html", "risk-management-plan.html", "risk-management-report.html", "risk-register.html",
        "search.html", "software-architecture.html", "software-detailed-design.html",
        "software-development-plan.html", "software-maintenance-plan.html", "software-requirements.html",
        "traceability-matrix.html",
        "verification.html",
    ]  # fmt: skip
    assert (site / "_static" / "qms.css").is_file() and (site / "_static" / "qms.js").is_file()
    assert 'rel="index"' not in (site / "index.html").read_text(encoding="utf-8")  # no empty general index
    assert not [path for path in (site / "_sources").rglob("*") if path.is_file()]  # no sources in the site
    assert not [path for path in built.iterdir() if path.suffix == ".rst"]  # nothing generated into the project


@pytest.mark.slow
def test_same_site_as_sphinx_build(built: Path, tmp_path: Path) -> None:
    command = [sys.executable, "-m", "sphinx", "-q", "-b", "html", ".", str(tmp_path / "html")]
    completed = subprocess.run(command, cwd=built, capture_output=True, text=True, check=False)
    assert completed.returncode == 0, completed.stderr
    assert site_files(tmp_path / "html") == site_files(built / "_build" / "html")


@pytest.mark.slow
def test_same_bytes_from_another_checkout(built: Path, tmp_path: Path) -> None:
    other = tmp_path / "elsewhere" / "device"
    shutil.copytree(built, other, ignore=shutil.ignore_patterns("_build"))
    result = build(other)
    assert result.exit_code == 0, result.output
    assert site_files(other / "_build" / "html") == site_files(built / "_build" / "html")


@pytest.mark.slow
def test_same_bytes_from_another_checkout_with_the_sources_copied_into_the_site(tmp_path: Path) -> None:
    # the search index named the generated sources by their real paths, in this machine's build folder
    conf = 'extensions = ["qms.sphinx"]\nhtml_copy_source = True\n'
    here = new_project(tmp_path / "here" / "device", files={"conf.py": conf})
    there = tmp_path / "elsewhere" / "device"
    shutil.copytree(here, there)
    for root in (here, there):
        assert build(root).exit_code == 0
    site = site_files(here / "_build" / "html")
    assert site == site_files(there / "_build" / "html")
    assert str(tmp_path).encode() not in site["searchindex.js"]
    assert b'"qms-sources/verification.rst"' in site["searchindex.js"]
    assert site["_sources/verification.rst.txt"].lstrip().startswith(b"=")


@pytest.mark.slow
def test_output_folder_option(built: Path, tmp_path: Path) -> None:
    result = build(built, "-o", str(tmp_path / "site"))
    assert result.exit_code == 0, result.output
    assert site_files(tmp_path / "site") == site_files(built / "_build" / "html")


def test_no_project_is_a_usage_error(tmp_path: Path) -> None:
    result = invoke_qms("build", cwd=tmp_path)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"qms: error: no qms.yaml found in {tmp_path} or any folder above it;")


@pytest.mark.slow
def test_a_failed_build_leaves_the_previous_site(tmp_path: Path) -> None:
    root = new_project(tmp_path / "device")
    assert build(root).exit_code == 0
    site = root / "_build" / "html"
    before = site_files(site)
    templates = root / "_templates"
    templates.mkdir()
    (templates / "gaps.rst.jinja").write_text(
        '{% extends "default/gaps.rst.jinja" %}\n{% block purpose %}\n{{ no_such_value }}\n{% endblock %}\n',
        encoding="utf-8",
    )
    result = build(root)
    assert result.exit_code == 1
    assert result.stderr == (
        "qms: error: the build failed: qms: template gaps.rst.jinja:3: 'no_such_value' is undefined; "
        f"the previous site in {site} is unchanged\n"
    )
    assert site_files(site) == before
    assert not list(site.parent.glob(".html.building-*"))
    (templates / "gaps.rst.jinja").unlink()
    assert build(root).exit_code == 0  # and the next build starts afresh


@pytest.mark.slow
def test_a_project_without_conf_py_builds_the_same_documents(built: Path, tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    shutil.copytree(built, bare, ignore=shutil.ignore_patterns("_build", "conf.py"))
    result = build(bare)
    assert result.exit_code == 0, result.output
    assert "Show reading age" in page(bare / "_build" / "html", "software-requirements.html")


@pytest.mark.slow
def test_downloads_are_what_the_export_commands_write(built: Path, tmp_path: Path) -> None:
    downloads = built / "_build" / "html" / "downloads"
    matrix = invoke_qms("matrix", "--format", "csv", "-o", str(tmp_path / "matrix.csv"), cwd=built)
    assert matrix.exit_code == 0, matrix.output
    assert (downloads / "traceability-matrix.csv").read_bytes() == (tmp_path / "matrix.csv").read_bytes()
    exported = invoke_qms("export", "xlsx", str(tmp_path / "records.xlsx"), cwd=built)
    assert exported.exit_code == 0, exported.output
    assert (downloads / "test-device-records.xlsx").read_bytes() == (tmp_path / "records.xlsx").read_bytes()
    front = page(built / "_build" / "html", "index.html")
    assert 'href="downloads/traceability-matrix.csv" download>Traceability matrix (CSV)</a>' in front
    assert 'href="downloads/test-device-records.xlsx" download>All records (Excel workbook)</a>' in front


def _tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes), to see that nothing changed."""
    return {
        path.relative_to(folder).as_posix(): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


@pytest.mark.parametrize(
    ("output", "reason"),
    [
        (".", "it is the project folder"),
        ("..", "it holds the project folder"),
        ("/", "it holds the project folder"),
        ("traceability", "it is the project's sources folder traceability"),
        ("traceability/site", "it is inside the project's sources folder traceability"),
        ("linked/site", "it is inside the project's sources folder traceability"),  # a symlink to a source
        ("reports", "it is the project's evidence (reports/*.xml) reports"),
        ("verification_records/site", "it is inside the project's records folder verification_records"),
        ("logs/site", "it is inside the project's records (logs/*/run.yaml) logs"),
        ("approvals.yaml", "it is the project's approvals file approvals.yaml"),
        ("_build", "it holds the project's build cache _build/doctrees"),
        ("_build/doctrees", "it is the project's build cache _build/doctrees"),
        ("_templates/site", "it is inside the project's templates folder _templates"),
        (".git/site", "it is inside the project's git folder .git"),
    ],
)
def test_output_that_would_replace_the_project_is_refused(tmp_path: Path, output: str, reason: str) -> None:
    root = new_project(tmp_path / "device")
    (root / "linked").symlink_to(root / "traceability")
    (root / ".git").mkdir()
    with (root / "qms.yaml").open("a", encoding="utf-8") as project_file:
        project_file.write("records: [verification_records, logs/*/run.yaml]\n")
    before = _tree(tmp_path)
    result = invoke_qms("build", "-o", output, cwd=root)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("qms: error: cannot build into "), result.stderr
    assert f": {reason}" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert _tree(tmp_path) == before  # nothing written, nothing removed


def test_a_folder_qms_did_not_write_is_never_replaced(tmp_path: Path) -> None:
    root = new_project(tmp_path / "device")
    home = tmp_path / "home"  # like -o $HOME: full of the user's files
    write_files(home, {"notes.txt": "mine\n", "code/main.c": "int main;\n"})
    before = _tree(home)
    result = build(root, "-o", str(home))
    assert result.exit_code == 2
    assert result.stderr == (
        f"qms: error: cannot build into {home}: the folder is not empty and qms build did not write it "
        "(it has no .qms-output file), and a build replaces its output folder whole; "
        "choose a new or empty folder, or empty this one yourself\n"
    )
    assert _tree(home) == before
    assert not list(tmp_path.glob(".home.building-*"))


def test_replace_tree_refuses_a_folder_that_lost_its_marker(tmp_path: Path) -> None:
    """Checked again at the moment of replacing: the folder may have changed since the build began."""
    built, target = tmp_path / "built", tmp_path / "site"
    write_files(built, {"index.html": "new\n"})
    write_files(target, {"index.html": "old\n", "mine.txt": "kept\n"})
    with pytest.raises(ForeignFolder):
        replace_tree(built, target, tmp_path / "aside")
    assert _tree(target) == {"index.html": b"old\n", "mine.txt": b"kept\n"}
    mark_output(target)
    replace_tree(built, target, tmp_path / "aside")
    assert _tree(target) == {"index.html": b"new\n"}


@pytest.mark.slow
def test_only_a_site_qms_wrote_is_replaced(tmp_path: Path) -> None:
    root = new_project(tmp_path / "device")
    site = tmp_path / "site"
    site.mkdir()  # an empty folder may be used
    assert build(root, "-o", str(site)).exit_code == 0
    assert (site / ".qms-output").is_file()
    assert build(root, "-o", str(site)).exit_code == 0  # a site qms wrote is replaced
    (site / ".qms-output").unlink()
    before = _tree(site)
    result = build(root, "-o", str(site))
    assert result.exit_code == 2
    assert "it has no .qms-output file" in result.stderr
    assert _tree(site) == before


@pytest.mark.slow
def test_a_killed_build_leaves_nothing_behind_the_next_one(tmp_path: Path) -> None:
    root = new_project(tmp_path / "device")
    site = root / "_build" / "html"
    command = [sys.executable, "-m", "qms", "build", "--project", str(root)]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    process = subprocess.Popen(command, env=environment, start_new_session=True, stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not list(site.parent.glob(".html.building-*/site")) and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the build and the workers it started
        process.wait()
    assert list(site.parent.glob(".html.building-*")), "the build was killed before it made its workspace"
    (site.parent / ".html.building-mine").mkdir()  # not a workspace of qms (no lock file): kept
    result = build(root)
    assert result.exit_code == 0, result.output
    assert [path.name for path in site.parent.glob(".html.building-*")] == [".html.building-mine"]
    assert (site / "index.html").is_file()


@pytest.mark.slow
def test_a_site_changed_after_its_build_is_written_again_whole(tmp_path: Path) -> None:
    # a page edited by hand while its data stays the same would stay as edited, and a file dropped
    # into the site would stay in it, were the build to start from that site
    root = new_project(tmp_path / "device")
    site = root / "_build" / "html"
    assert build(root).exit_code == 0
    original = (site / "gaps.html").read_bytes()
    (site / "gaps.html").write_bytes(original.replace(b"</body>", b"<p>All gaps closed.</p></body>"))
    (site / "notes.txt").write_text("not written by qms\n", encoding="utf-8")
    result = build(root)
    assert result.exit_code == 0, result.output
    assert "up to date" not in result.output
    assert (site / "gaps.html").read_bytes() == original
    assert not (site / "notes.txt").exists()
    assert "up to date" in build(root).output  # as the build left it again


@pytest.mark.slow
def test_the_pages_of_documents_no_longer_in_the_project_leave_the_site(tmp_path: Path) -> None:
    # a deleted page of the project, and the parts of a document no longer cut into pages, would stay
    # in the site (unlinked, but served and counted) with what they showed when last written
    conf = 'extensions = ["qms.sphinx"]\nhtml_extra_path = ["extra"]\nhtml_copy_source = True\nqms_page_items = {}\n'
    files = {"notes.rst": "Notes\n=====\n\nSome notes.\n", "extra/kept.html": "<p>kept</p>\n"}
    root = new_project(tmp_path / "device", files={**files, "conf.py": conf.format(3)})
    site = root / "_build" / "html"
    assert build(root).exit_code == 0
    parts = sorted(path.name for path in site.glob("*-part-*.html"))
    assert parts and (site / "notes.html").is_file() and (site / "kept.html").is_file()
    assert (site / "_sources" / "notes.rst.txt").is_file()
    # a generated document's source is copied under its own name too, not the end of its path
    assert (site / "_sources" / "verification.rst.txt").read_text(encoding="utf-8").lstrip().startswith("=")
    assert all(path.name.endswith(".rst.txt") for path in (site / "_sources").iterdir())
    (root / "notes.rst").unlink()
    (root / "conf.py").write_text(conf.format(0), encoding="utf-8")  # no document cut
    result = build(root)
    assert result.exit_code == 0, result.output
    assert not (site / "notes.html").exists() and not list(site.glob("*-part-*.html"))
    assert not (site / "_sources" / "notes.rst.txt").exists() and (site / "_sources" / "index.rst.txt").is_file()
    assert (site / "kept.html").read_text(encoding="utf-8") == "<p>kept</p>\n"  # html_extra_path's
    assert (site / "search.html").is_file()  # written every build, no document's page
    pages = sorted(path.name for path in site.glob("*.html"))
    assert f"built {len(pages)} pages" in result.output
    assert sorted(path.name for path in _clean(root, tmp_path / "clean").glob("*.html")) == pages


@pytest.mark.slow
def test_a_folder_of_pages_taken_away_leaves_no_empty_folder_in_the_site(tmp_path: Path) -> None:
    conf = 'extensions = ["qms.sphinx"]\nhtml_copy_source = True\n'
    files = {"conf.py": conf, "extra/more.rst": "More\n====\n\nSome notes.\n"}
    root = new_project(tmp_path / "device", files=files)
    site = root / "_build" / "html"
    assert build(root).exit_code == 0
    assert (site / "extra" / "more.html").is_file() and (site / "_sources" / "extra" / "more.rst.txt").is_file()
    shutil.rmtree(root / "extra")
    assert build(root).exit_code == 0
    assert not (site / "extra").exists() and not (site / "_sources" / "extra").exists()
    assert (site / "_sources" / "index.rst.txt").is_file()


def _clean(root: Path, copy: Path) -> Path:
    """The site a clean build of a copy of ``root`` writes."""
    shutil.copytree(root, copy, ignore=shutil.ignore_patterns("_build"))
    assert build(copy).exit_code == 0
    return copy / "_build" / "html"


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="no advisory locks")
def test_a_second_build_of_the_project_waits_for_the_first(tmp_path: Path) -> None:
    # two builds at once share the project's build cache: one could save what it read over pages
    # the other's site never received
    import fcntl

    root = new_project(tmp_path / "device")
    lock = root / "_build" / "doctrees" / build_command.BUILD_LOCK
    lock.parent.mkdir(parents=True)
    command = [sys.executable, "-m", "qms", "build", "--project", str(root)]
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with lock.open("a", encoding="utf-8") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a running build holds it
        process = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert process.stderr is not None
            lines: queue.Queue[str] = queue.Queue()
            threading.Thread(target=lambda: lines.put(process.stderr.readline()), daemon=True).start()  # type: ignore[union-attr]
            first = lines.get(timeout=60)  # a build that waited without a word would hang here
            assert "another qms build of this project is running; waiting for it to end" in first
            assert process.poll() is None and not (root / "_build" / "html").exists()
        except BaseException:
            process.kill()
            raise
    output, _ = process.communicate(timeout=120)  # the lock is free: the build runs
    assert process.returncode == 0 and "built" in output
    assert (root / "_build" / "html" / "index.html").is_file()


def test_a_running_build_keeps_its_workspace(tmp_path: Path) -> None:
    target = tmp_path / "html"
    with workspace(target) as running:
        assert remove_abandoned(tmp_path, ".html.building-") == []
        assert running.is_dir()
    assert not running.exists()


@pytest.mark.slow
def test_hidden_folders_and_outputs_are_not_pages(tmp_path: Path) -> None:
    page_text = "Stray\n=====\n\nNot part of the technical file.\n"
    root = new_project(
        tmp_path / "device",
        files={
            ".venv/lib/pkg/doc.rst": page_text,
            ".hidden.rst": page_text,
            "notes/.cache/cached.rst": page_text,
            "notes/_build/built.rst": page_text,
        },
    )
    first = build(root, "-o", str(root / "site"), "-W")
    assert first.exit_code == 0, first.output
    (root / "site" / "stray.rst").write_text(page_text, encoding="utf-8")  # in the previous site
    result = build(root, "-o", str(root / "site"), "-W")  # -W: a stray page would warn (in no toctree)
    assert result.exit_code == 0, result.output
    pages = {path.relative_to(root / "site").as_posix() for path in (root / "site").rglob("*.html")}
    assert not {page for page in pages if "/" in page or page.startswith(("doc", "cached", "built", "stray"))}


@pytest.mark.parametrize("output", ["/proc/qms-site", "/dev/null/site"])
def test_an_output_folder_that_cannot_be_made_is_a_refusal(tmp_path: Path, output: str) -> None:
    root = new_project(tmp_path / "device")
    result = build(root, "-o", output)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"qms: error: cannot write the site to {output}: ")
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("added", "said"),
    [
        (
            'raise RuntimeError("the shared settings are missing")\n',
            ":{line}: RuntimeError: the shared settings are missing",
        ),
        ("html_theme = (\n", ":{line}:14: SyntaxError: '(' was never closed"),
    ],
)
def test_an_error_in_conf_py_is_named_at_its_line_without_a_traceback(tmp_path: Path, added: str, said: str) -> None:
    root = new_project(tmp_path / "device")
    conf = root / "conf.py"
    line = conf.read_text(encoding="utf-8").count("\n") + 1
    conf.write_text(conf.read_text(encoding="utf-8") + added, encoding="utf-8")
    result = build(root)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert f"qms: error: the build failed: {conf}{said.format(line=line)}; " in result.output


def _site_to_seed(root: Path) -> Path:
    previous = root / "previous"
    write_files(previous, {"index.html": "<p>index</p>", "part/page.html": "<p>page</p>", "_static/a.css": "p {}"})
    os.utime(previous / "index.html", ns=(1_000_000_000, 1_000_000_000))
    return previous


def _files_and_times(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        path.relative_to(folder).as_posix(): (path.read_bytes(), path.stat().st_mtime_ns)
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.mark.parametrize("forks", [True, False])
def test_the_previous_site_is_seeded_beside_or_here_the_same(tmp_path: Path, forks: bool, monkeypatch) -> None:
    previous = _site_to_seed(tmp_path)
    if not forks:
        monkeypatch.setattr("qms.parsecache.can_fork", lambda: False)
    wait = build_command._seeding(previous, tmp_path / "staging")
    wait()
    seeded = _files_and_times(tmp_path / "staging")
    assert seeded == {
        name: found for name, found in _files_and_times(previous).items() if not name.startswith("_static/")
    }
    assert seeded["index.html"][1] == 1_000_000_000  # times kept: an unchanged page is not written again


def test_a_seed_the_other_process_did_not_finish_is_made_here(tmp_path: Path, monkeypatch) -> None:
    previous = _site_to_seed(tmp_path)
    staging = tmp_path / "staging"

    def half_done(work):  # the other process copied part of the site, then died
        write_files(staging, {"index.html": "<p>half</p>"})
        return lambda: None

    monkeypatch.setattr("qms.parsecache.beside", half_done)
    monkeypatch.setattr("qms.parsecache.can_fork", lambda: True)
    build_command._seeding(previous, staging)()
    assert _files_and_times(staging) == {
        name: found for name, found in _files_and_times(previous).items() if not name.startswith("_static/")
    }


def test_without_a_previous_site_the_staging_folder_is_empty(tmp_path: Path) -> None:
    build_command._seeding(None, tmp_path / "staging")()
    assert (tmp_path / "staging").is_dir() and not any((tmp_path / "staging").iterdir())
