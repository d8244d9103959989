"""What the project no longer has leaves the site, as a clean build never had it: figures,
downloads, extra and static files, evidence."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest
from sphinx_support import build, new_project, site_files

import qms.sphinx as qms_sphinx

#: a 1x1 PNG
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGP4z8DwHwAFAAH/iZk9HQAAAABJRU5ErkJggg=="
)
WITH_FIGURE = "Notes\n=====\n\n.. figure:: diagrams/flow.png\n\n   The flow.\n\n:download:`The data <data.csv>`\n"
WITHOUT = "Notes\n=====\n\nNo figure any more.\n"


def _project(tmp_path: Path, notes: str) -> Path:
    root = new_project(tmp_path / "device", files={"notes.rst": notes, "data.csv": "a,b\n1,2\n"})
    (root / "diagrams").mkdir()
    (root / "diagrams" / "flow.png").write_bytes(PNG)
    return root


def _folders(site: Path) -> list[str]:
    return sorted(path.relative_to(site).as_posix() for path in site.rglob("*") if path.is_dir())


def _built(root: Path, *options: str) -> None:
    result = build(root, *options)
    assert result.exit_code == 0, result.output


@pytest.mark.slow
def test_a_figure_and_a_download_taken_out_leave_the_site_as_a_clean_build_has_it(tmp_path: Path) -> None:
    root = _project(tmp_path, WITH_FIGURE)
    _built(root)
    site = root / "_build" / "html"
    copies = [name for name in site_files(site) if name.startswith(("_images/", "_downloads/"))]
    assert sorted(name.rsplit("/", 1)[-1] for name in copies) == ["data.csv", "flow.png"]
    (root / "notes.rst").write_text(WITHOUT, encoding="utf-8")
    _built(root)
    _built(root, "--clean", "-o", str(tmp_path / "clean"))
    assert site_files(site) == site_files(tmp_path / "clean")
    assert _folders(site) == _folders(tmp_path / "clean")  # no empty _images or _downloads left


@pytest.mark.slow
def test_a_figure_taken_out_as_the_build_starts_a_fresh_environment_leaves_the_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another release of qms starts with a fresh environment, which names no copy yet: the list the
    last build kept says which copies it left."""
    root = _project(tmp_path, WITH_FIGURE)
    _built(root)
    (root / "notes.rst").write_text(WITHOUT, encoding="utf-8")
    monkeypatch.setattr(qms_sphinx, "code_digest", lambda: "0" * 20)
    _built(root)
    site = root / "_build" / "html"
    assert not (site / "_images").exists() and not (site / "_downloads").exists()
    _built(root, "--clean", "-o", str(tmp_path / "clean"))
    assert site_files(site) == site_files(tmp_path / "clean")


@pytest.mark.slow
def test_a_figure_another_page_still_shows_stays(tmp_path: Path) -> None:
    root = _project(tmp_path, WITH_FIGURE)
    (root / "more.rst").write_text("More\n====\n\n.. image:: diagrams/flow.png\n", encoding="utf-8")
    _built(root)
    (root / "notes.rst").write_text(WITHOUT, encoding="utf-8")
    _built(root)
    site = root / "_build" / "html"
    assert (site / "_images" / "flow.png").read_bytes() == PNG
    assert not (site / "_downloads").exists()  # the download no page names any more, and its folders
    _built(root, "--clean", "-o", str(tmp_path / "clean"))
    assert site_files(site) == site_files(tmp_path / "clean")


@pytest.mark.slow
def test_a_file_an_extension_wrote_into_the_images_folder_is_left_as_it_is(tmp_path: Path) -> None:
    """Only copies the environment named go: graphviz and its kind write their own files there, once."""
    root = _project(tmp_path, WITH_FIGURE)
    conf = root / "conf.py"
    conf.write_text(
        conf.read_text(encoding="utf-8") + "\n\ndef setup(app):\n"
        "    from pathlib import Path\n\n"
        "    def draw(app, exception):\n"
        "        drawn = Path(app.outdir) / '_images' / 'graph-1.png'\n"
        "        if not drawn.exists():\n"
        "            drawn.parent.mkdir(exist_ok=True)\n"
        "            drawn.write_bytes(b'drawn once')\n\n"
        "    app.connect('build-finished', draw)\n",
        encoding="utf-8",
    )
    _built(root)
    (root / "notes.rst").write_text(WITHOUT, encoding="utf-8")
    _built(root)
    images = root / "_build" / "html" / "_images"
    assert sorted(path.name for path in images.iterdir()) == ["graph-1.png"]


RESULTS = (
    '<?xml version="1.0"?>\n<testsuite name="display" tests="1">'
    '<testcase classname="display" name="TST-001 reading age"/></testsuite>\n'
)


@pytest.mark.slow
def test_a_result_file_taken_away_leaves_no_empty_folder_of_evidence(tmp_path: Path) -> None:
    root = _project(tmp_path, WITHOUT)
    (root / "reports").mkdir()
    (root / "reports" / "results.xml").write_text(RESULTS, encoding="utf-8")
    _built(root)
    site = root / "_build" / "html"
    assert (site / "downloads" / "evidence" / "reports" / "results.xml").is_file()
    (root / "reports" / "results.xml").unlink()
    _built(root)
    _built(root, "--clean", "-o", str(tmp_path / "clean"))
    assert not (site / "downloads" / "evidence").exists()
    assert _folders(site) == _folders(tmp_path / "clean")


EXTRA_CONF = '\nhtml_extra_path = ["extra"]\nhtml_static_path = ["static"]\n'


@pytest.mark.slow
def test_extra_and_static_files_taken_out_of_the_project_leave_the_site(tmp_path: Path) -> None:
    root = _project(tmp_path, WITHOUT)
    with (root / "conf.py").open("a", encoding="utf-8") as conf:
        conf.write(EXTRA_CONF)
    files = {
        "extra/robots.txt": "User-agent: *\n",
        "extra/certificates/iso13485.txt": "certificate\n",
        "extra/forms/form.txt": "a form\n",
    }
    for name, text in {**files, "extra/.hidden": "x\n", "static/custom.css": "body {}\n"}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    _built(root)
    site = root / "_build" / "html"
    assert (site / "robots.txt").is_file() and (site / "certificates" / "iso13485.txt").is_file()
    assert (site / "_static" / "custom.css").is_file() and not (site / ".hidden").exists()
    (root / "extra" / "robots.txt").unlink()
    shutil.rmtree(root / "extra" / "certificates")
    (root / "extra" / "forms" / "form.txt").unlink()  # the folder stays: Sphinx makes it, empty
    (root / "static" / "custom.css").unlink()
    _built(root)
    assert not (site / "robots.txt").exists() and not (site / "certificates").exists()
    assert not (site / "_static" / "custom.css").exists()
    _built(root, "--clean", "-o", str(tmp_path / "clean"))
    assert site_files(site) == site_files(tmp_path / "clean")
    assert _folders(site) == _folders(tmp_path / "clean")


@pytest.mark.slow
def test_an_extra_file_taken_out_leaves_a_page_of_its_name_the_build_wrote(
    tmp_path: Path,
) -> None:
    root = _project(tmp_path, WITHOUT)
    with (root / "conf.py").open("a", encoding="utf-8") as conf:
        conf.write('\nhtml_extra_path = ["extra"]\n')
    (root / "extra").mkdir()
    (root / "extra" / "policy.html").write_text("<p>the extra file</p>\n", encoding="utf-8")
    (root / "extra" / "search.html").write_text("<p>our own search</p>\n", encoding="utf-8")
    _built(root)
    site = root / "_build" / "html"  # Sphinx writes its search page after the extra files
    (root / "extra" / "policy.html").unlink()
    (root / "extra" / "search.html").unlink()
    (root / "policy.rst").write_text("Policy\n======\n\nThe page.\n", encoding="utf-8")
    _built(root)
    assert "The page." in (site / "policy.html").read_text(encoding="utf-8")
    assert "searchindex.js" in (site / "search.html").read_text(encoding="utf-8")  # written by this build: kept
