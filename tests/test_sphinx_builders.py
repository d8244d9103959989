"""The example's technical file through Sphinx's other builders: text, LaTeX, single-page and folder HTML.

Each builds the repository's own example with ``python -m sphinx`` (the README's command) into a
temporary folder: no error, no warning, and every item of the example in the output, found by
the output's structure (headings, labels, anchors) rather than by searching its text.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fixtures.change.gitrepo import git
from sphinx_support import REPOSITORY, copy_example, new_project, parse_html

from qms.project import load_project
from qms.sphinx.docutils_writers import TEXT_COLUMN_MIN, TEXT_TABLE_WIDTH, text_widths

pytestmark = pytest.mark.slow

Build = Callable[[str], Path]


@pytest.fixture(scope="module")
def example_ids() -> set[str]:
    return {item.id for item in load_project(REPOSITORY)}


def _sphinx(root: Path, builder: str, out: Path) -> Path:
    """``python -m sphinx -b BUILDER`` on the project in ``root``; the build must neither fail nor warn."""
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY), "PYTHONDONTWRITEBYTECODE": "1"}
    completed = subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", "-b", builder, "-d", str(out / "doctrees"), ".", str(out / "site")],
        cwd=root,
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stderr == "", f"warnings from the {builder} build:\n{completed.stderr}"
    return out / "site"


@pytest.fixture(scope="module")
def sphinx_build(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Build]:
    """Builds the repository's example once per builder."""
    built: dict[str, Path] = {}

    def run(builder: str) -> Path:
        if builder not in built:
            built[builder] = _sphinx(REPOSITORY, builder, tmp_path_factory.mktemp(builder))
        return built[builder]

    yield run


def test_text_builder_shows_every_item_as_a_block(sphinx_build: Build, example_ids: set[str]) -> None:
    site = sphinx_build("text")
    headings: list[str] = []
    for page in sorted(site.glob("*.txt")):
        # an item block's heading is a rubric: "-[ **SWR-014** Title ]-"
        headings += re.findall(r"^-\[ \*\*(\S+?)\*\* ", page.read_text(encoding="utf-8"), flags=re.MULTILINE)
    assert sorted(headings) == sorted(example_ids)


def test_text_builder_shows_each_items_audit_trail(sphinx_build: Build, example_ids: set[str]) -> None:
    """The audit trail, collapsed on the HTML site, is a list of changes in its block for the other builders."""
    trails: dict[str, str] = {}
    for page in sorted(sphinx_build("text").glob("*.txt")):
        blocks = re.split(r"^-\[ \*\*(\S+?)\*\* ", page.read_text(encoding="utf-8"), flags=re.MULTILINE)[1:]
        for item_id, block in zip(blocks[::2], blocks[1::2], strict=True):
            trail = re.search(r"^-\[ Audit trail: (\d+) changes?, newest first \]-\n\n1\. \*\*(\w+) ", block, re.M)
            if trail is not None:
                trails[item_id] = trail.group(2)
    assert set(trails) == example_ids  # every item of the example is in the repository's history
    assert set(trails.values()) <= {"added", "changed", "moved", "removed", "present", "could"}


def test_text_builder_shows_a_changed_field_in_the_audit_trail(tmp_path: Path) -> None:
    root = new_project(tmp_path / "project", files={"notes.rst": "Notes\n=====\n\n.. qms:item:: SWR-001\n"})
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "Start the device file", date="2025-03-01T10:00:00+01:00")
    requirements = root / "traceability/requirements.yaml"
    text = requirements.read_text(encoding="utf-8")
    requirements.write_text(text.replace("Show reading age", "Show the reading's age"), encoding="utf-8")
    git(root, "commit", "-q", "-am", "Say what is shown", author="Bob Builder", date="2025-04-02T11:30:00+00:00")
    page = (_sphinx(root, "text", tmp_path / "out") / "notes.txt").read_text(encoding="utf-8")
    trail = " ".join(page.split("-[ Audit trail: 2 changes, newest first ]-", 1)[1].split())
    assert trail.startswith("1. **changed in traceability/requirements.yaml** · 2025-04-02T11:30:00+00:00 · Bob")
    assert "* title: Show reading age → Show the reading's age 2. **added in" in trail


def test_text_builder_tables_have_readable_columns(sphinx_build: Build) -> None:
    """Relative widths ([1, 4]) are characters to the text writer: scaled, no column is one character wide."""
    page = (sphinx_build("text") / "software-requirements.txt").read_text(encoding="utf-8")
    borders = [line for line in page.splitlines() if re.fullmatch(r"\+(-+\+)+", line)]
    assert borders
    for border in borders:
        assert all(len(column) >= TEXT_COLUMN_MIN for column in border.strip("+").split("+")), border


def test_text_widths_fill_the_text_width() -> None:
    assert text_widths([1, 4]) == [12, 50]
    assert sum(text_widths([1, 1, 1])) + 3 * 3 + 1 <= TEXT_TABLE_WIDTH
    assert text_widths([1] * 12) == [TEXT_COLUMN_MIN] * 12
    assert text_widths([]) == []


def _latex(site: Path) -> str:
    (tex,) = site.glob("*.tex")
    return tex.read_text(encoding="utf-8")


def test_latex_builder_labels_every_item_and_every_link_target(sphinx_build: Build, example_ids: set[str]) -> None:
    tex = _latex(sphinx_build("latex"))
    labels = set(re.findall(r"\\label\{\\detokenize\{([^}]*)\}\}", tex))
    item_labels = {label.split(":", 1)[1] for label in labels if ":" in label}
    assert example_ids <= item_labels
    targets = set(re.findall(r"\\hyperref\[\\detokenize\{([^}]*)\}\]", tex))
    assert targets, "the item links of the tables are links in the PDF"
    assert targets <= labels, sorted(targets - labels)[:10]


def _histories(tex: str) -> dict[str, str]:
    """Each revision history table of a LaTeX file, by the page it belongs to."""
    caption = r"\\sphinxcaption\{Revision history\}\\label\{\\detokenize\{([^:}]*):revision-history\}\}"
    found = re.findall(caption + r"(.*?)\\end\{(?:tabular|tabulary|longtable)\}", tex, flags=re.DOTALL)
    return dict(found)


def test_latex_builder_gives_each_document_its_own_revision_history(tmp_path: Path) -> None:
    """LaTeX joins every page into one tree: each history still lists the changes of its own document."""
    root = copy_example(tmp_path / "device")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "The example device", date="2026-01-05T10:00:00+00:00")
    hazards = sorted((root / "risk_register").glob("*.yaml"))[0]
    hazards.write_text(hazards.read_text(encoding="utf-8") + "# reviewed\n", encoding="utf-8")
    git(root, "commit", "-q", "-am", "Hazard analysis reviewed", date="2026-01-06T10:00:00+00:00")
    site = _sphinx(root, "latex", tmp_path / "out")
    histories = _histories(_latex(site))
    assert "Hazard analysis reviewed" in histories["risk-register"]
    assert "The example device" in histories["software-requirements"]
    assert "Hazard analysis reviewed" not in histories["software-requirements"]


def test_latex_document_of_one_page_shows_links_elsewhere_as_text(tmp_path: Path) -> None:
    """Links to items and pages the LaTeX document leaves out are text, not a crash or a dangling link."""
    root = copy_example(tmp_path / "device")
    conf = root / "conf.py"
    srs = '[("software-requirements", "srs.tex", "SRS", "Example Medical", "manual")]'
    conf.write_text(conf.read_text(encoding="utf-8") + f"latex_documents = {srs}\n", encoding="utf-8")
    tex = _latex(_sphinx(root, "latex", tmp_path / "out"))
    labels = set(re.findall(r"\\label\{\\detokenize\{([^}]*)\}\}", tex))
    targets = set(re.findall(r"\\hyperref\[\\detokenize\{([^}]*)\}\]", tex))
    assert "software-requirements:SWR-001" in labels
    assert targets <= labels, sorted(targets - labels)[:10]
    assert re.search(r"HAZ\\sphinxhyphen\{\}02", tex), "a hazard a requirement controls is named, without a link"


def _ids(html: str) -> set[str]:
    """The ids of an HTML page's elements."""
    return {str(element["id"]) for element in parse_html(html).select("[id]")}


def _local_links(html: str) -> set[str]:
    """The anchors of the same page that an HTML page links to."""
    return {str(link["href"])[1:] for link in parse_html(html).select('a[href^="#"]')}


def test_singlehtml_builder_links_items_within_its_one_page(sphinx_build: Build, example_ids: set[str]) -> None:
    html = (sphinx_build("singlehtml") / "index.html").read_text(encoding="utf-8")
    ids = _ids(html)
    assert example_ids <= ids
    item_links = {target for target in _local_links(html) if target.split("#")[-1] in example_ids}
    assert item_links, "item links point into the page"
    assert item_links <= ids, sorted(item_links - ids)[:10]


def test_dirhtml_builder_shows_every_item(sphinx_build: Build, example_ids: set[str]) -> None:
    ids: set[str] = set()
    for page in sphinx_build("dirhtml").rglob("index.html"):
        ids |= _ids(page.read_text(encoding="utf-8"))
    assert example_ids <= ids
