"""Helpers for the tests of the Sphinx extension and ``qms build``: real projects, real builds."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from bs4 import BeautifulSoup, Tag
from click.testing import Result
from conftest import invoke_qms, write_files

from qms.init import create_project
from qms.project import load_project


def new_project(
    root: Path, *, safety_class: str = "C", name: str = "Test Device", files: dict[str, str] | None = None
) -> Path:
    """A project as ``qms init`` writes it (with conf.py), without change control stamps, plus ``files``."""
    create_project(root, name, safety_class)
    (root / "qms.lock").unlink(missing_ok=True)  # no suspect links: one edit changes one item's page
    return write_files(root, files or {})


def build(root: Path, *options: str) -> Result:
    """``qms build --project ROOT OPTIONS`` through the real command line."""
    return invoke_qms("build", "--project", root, *options)


def page(site: Path, name: str) -> str:
    return (site / name).read_text(encoding="utf-8")


def site_files(site: Path) -> dict[str, bytes]:
    """Every file of a built site (relative path -> bytes), without Sphinx's build cache."""
    return {
        path.relative_to(site).as_posix(): path.read_bytes()
        for path in sorted(site.rglob("*"))
        if path.is_file() and ".doctrees" not in path.parts
    }


def line_of(text: str, needle: str) -> int:
    """1-based line of the first occurrence of ``needle`` in ``text``."""
    return text[: text.index(needle)].count("\n") + 1


REPOSITORY = Path(__file__).parent.parent
EXAMPLE = ("qms.yaml", "qms.lock", "conf.py", "traceability", "risk_register", "examples/aid_controller")


def copy_example(root: Path) -> Path:
    """The example device (its records folders included) in ``root``."""
    root.mkdir(parents=True)
    project = load_project(REPOSITORY)
    folders = {pattern.split("/")[0] for pattern in project.config.records}
    for name in (*EXAMPLE, *sorted(folders)):
        source = REPOSITORY / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__", "reports"))
        elif source.is_file():
            shutil.copy2(source, root / name)
    return root


def cut_example(root: Path, page_items: int) -> Path:
    """The example device in ``root``, its long documents cut into pages of at most ``page_items`` items."""
    copy_example(root)
    with (root / "conf.py").open("a", encoding="utf-8") as conf:
        conf.write(f"qms_page_items = {page_items}\n")
    return root


def run_example_tests(root: Path, *, expect_failures: bool = False) -> None:
    """The README's command: the example's tests, writing ``reports/aid-controller.xml``."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    command = [sys.executable, "-m", "pytest", "examples/aid_controller", "-q", "-p", "no:cacheprovider"]
    completed = subprocess.run(
        [*command, "--junitxml=reports/aid-controller.xml"],
        cwd=root,
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )
    assert completed.returncode == (1 if expect_failures else 0), completed.stdout + completed.stderr


def parse_html(html: str) -> BeautifulSoup:
    """A page as a tree, to assert on what it shows and how it is built rather than search its text."""
    return BeautifulSoup(html, "html.parser")


def site_page(site: Path, name: str) -> BeautifulSoup:
    """A page of a built site, parsed."""
    return parse_html(page(site, name))


def with_class(root: Tag, tag: str, name: str) -> list[Tag]:
    """The ``tag`` elements carrying the class ``name``, in document order."""
    return list(root.find_all(tag, class_=name))


def text_of(element: Tag) -> str:
    """The text an element shows, with runs of white space as one space."""
    return " ".join(element.get_text().split())


def hrefs(element: Tag) -> list[str]:
    """The targets of the links in an element, in document order."""
    return [str(link["href"]) for link in element.select("a[href]")]


def row_of(element: Tag, first_cell: str) -> Tag:
    """The table row whose first cell shows ``first_cell``."""
    (row,) = [row for row in element.select("tr") if (cell := row.find("td")) and text_of(cell) == first_cell]
    return row


def control_fields(html: str) -> dict[str, str]:
    """The document-control block of a page: label -> text."""
    (block,) = parse_html(html).select("dl.qms-document-control")
    labels = [text_of(term).removesuffix(":") for term in block.find_all("dt", recursive=False)]
    values = [text_of(value) for value in block.find_all("dd", recursive=False)]
    return dict(zip(labels, values, strict=True))


def history_rows(html: str) -> list[list[str]]:
    """The rows of a page's revision history (date, commit, author, change); none without one."""
    tables = parse_html(html).select("table.qms-history")
    if not tables:
        return []
    (body,) = tables[0].find_all("tbody")
    return [[text_of(cell) for cell in row.find_all("td")] for row in body.find_all("tr")]
