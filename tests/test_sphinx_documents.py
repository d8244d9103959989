"""The document set: what each class gets, templates a project overrides, the IEC 62304 edition,
the document-control block from git, and a project tree left as it was."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from sphinx_support import build, new_project, page, row_of, site_page, text_of


def _git(root: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=Quality Engineer", "-c", "user.email=qe@example.org", *args]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def class_a(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = new_project(tmp_path_factory.mktemp("class-a") / "device", safety_class="A")
    result = build(root)
    assert result.exit_code == 0, result.output
    return root / "_build" / "html"


@pytest.mark.slow
def test_class_a_marks_what_it_need_not_produce(class_a: Path) -> None:
    architecture = page(class_a, "software-architecture.html")
    assert "Not required for software safety class A" in architecture
    assert "5.3.1 Software architecture: classes B, C only." in architecture
    assert "5.3.5 Segregation for risk control: class C only." in architecture
    assert site_page(class_a, "software-architecture.html").select_one("section#SOUP-01")  # 8.1.2: every class
    assert "Not required for software safety class" in page(class_a, "software-requirements.html")  # 5.2.3


@pytest.mark.slow
def test_class_a_clause_index_says_not_required(class_a: Path) -> None:
    row = row_of(site_page(class_a, "clause-index.html"), "5.3.1")
    assert [text_of(badge) for badge in row.select(".qms-badge-clause-not")] == ["not required"]


@pytest.mark.slow
def test_outside_git_the_documents_say_so(class_a: Path) -> None:
    assert "not under version control" in page(class_a, "risk-register.html")


@pytest.fixture(scope="module")
def git_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A class C project in git, with its own release notes purpose, an edition setting and stray pages."""
    root = new_project(
        tmp_path_factory.mktemp("class-c") / "device",
        files={
            "_templates/release-notes.rst.jinja": (
                '{% extends "default/release-notes.rst.jinja" %}\n{% block purpose %}\n'
                "Release notes written by the project's own template for {{ device.name }}.\n{% endblock %}\n"
            ),
            "README.rst": "Read me\n=======\n\nNot a page of the technical file.\n",
            "tests/notes.rst": "Test notes\n==========\n\nNot a page either.\n",
        },
    )
    with (root / "conf.py").open("a", encoding="utf-8") as conf:
        conf.write('qms_iec62304_edition = "2006"\n')
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "Device records")
    result = build(root)
    assert result.exit_code == 0, result.output
    assert "WARNING" not in result.stderr
    return root


@pytest.mark.slow
def test_a_project_template_overrides_the_shipped_one(git_project: Path) -> None:
    notes = page(git_project / "_build" / "html", "release-notes.html")
    assert "Release notes written by the project's own template for Test Device." in notes
    assert "Known residual anomalies" in notes  # the rest of the shipped template is kept


@pytest.mark.slow
def test_the_2006_edition_changes_the_clause_index(git_project: Path) -> None:
    index = site_page(git_project / "_build" / "html", "clause-index.html")
    assert "not in 2006" in [text_of(element) for element in row_of(index, "5.1.12").find_all(True)]
    assert "IEC 62304:2006 for software safety class C" not in text_of(index)  # the purpose is fixed text
    assert "IEC 62304:2006" in page(git_project / "_build" / "html", "index.html")


@pytest.mark.slow
def test_the_tree_stays_clean_and_stray_pages_are_not_read(git_project: Path) -> None:
    site = git_project / "_build" / "html"
    assert _git(git_project, "status", "--porcelain") == ""
    assert not (site / "README.html").exists() and not (site / "tests").exists()


@pytest.mark.slow
def test_document_control_shows_the_commit_and_the_dirty_tree(git_project: Path) -> None:
    commit = _git(git_project, "rev-parse", "HEAD").strip()
    site = git_project / "_build" / "html"
    shown = site_page(site, "risk-register.html").select("dl.qms-document-control code")
    assert commit in [text_of(code) for code in shown]
    assert "clean working tree" in page(site, "risk-register.html")
    needs = git_project / "traceability" / "needs.yaml"
    needs.write_text(needs.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    result = build(git_project)
    assert result.exit_code == 0, result.output
    for name in ("risk-register.html", "index.html", "gaps.html"):  # written again, though none was read again
        assert "with uncommitted changes" in page(site, name)
