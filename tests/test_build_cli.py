"""``qms build``: where it writes, what it says, how it fails, and that it gives the same bytes
as ``sphinx-build`` and as itself in another checkout."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import invoke_qms
from sphinx_support import build, new_project, page, site_files


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project as ``qms init`` makes it, built once with ``qms build``."""
    root = new_project(tmp_path_factory.mktemp("cli") / "device")
    result = build(root)
    assert result.exit_code == 0, result.output
    assert (
        result.stdout
        == "qms: built 16 pages into "
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
        "clause-index.html", "design-inputs.html", "design-traceability.html", "gaps.html", "genindex.html",
        "index.html", "release-notes.html", "risk-management-plan.html", "risk-management-report.html",
        "risk-register.html", "search.html", "software-architecture.html", "software-development-plan.html",
        "software-requirements.html", "traceability-matrix.html", "verification.html",
    ]  # fmt: skip
    assert (site / "_static" / "qms.css").is_file() and (site / "_static" / "qms.js").is_file()
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
