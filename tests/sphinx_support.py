"""Helpers for the tests of the Sphinx extension and ``qms build``: real projects, real builds."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from xml.etree.ElementTree import Element, SubElement

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


#: HTML elements without an end tag.
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})


class _Tree(HTMLParser):
    """HTML to an element tree; an end tag closes the latest open element of its name."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("document")
        self.open = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = SubElement(self.open[-1], tag, {name: value or "" for name, value in attrs})
        if tag not in VOID:
            self.open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        SubElement(self.open[-1], tag, {name: value or "" for name, value in attrs})

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.open) - 1, 0, -1):
            if self.open[depth].tag == tag:
                del self.open[depth:]
                return

    def handle_data(self, data: str) -> None:
        parent = self.open[-1]
        if len(parent):
            parent[-1].tail = (parent[-1].tail or "") + data
        else:
            parent.text = (parent.text or "") + data


def parse_html(html: str) -> Element:
    """A page as an element tree, to read what it shows rather than search its text."""
    tree = _Tree()
    tree.feed(html)
    tree.close()
    return tree.root


def text_of(element: Element) -> str:
    """The text an element shows, with runs of white space as one space."""
    return " ".join("".join(element.itertext()).split())


def with_class(root: Element, tag: str, name: str) -> list[Element]:
    """The ``tag`` elements carrying the class ``name``, in document order."""
    return [element for element in root.iter(tag) if name in element.get("class", "").split()]


def control_fields(html: str) -> dict[str, str]:
    """The document-control block of a page: label -> text."""
    (block,) = with_class(parse_html(html), "dl", "qms-document-control")
    labels = [text_of(child).removesuffix(":") for child in block if child.tag == "dt"]
    values = [text_of(child) for child in block if child.tag == "dd"]
    return dict(zip(labels, values, strict=True))


def history_rows(html: str) -> list[list[str]]:
    """The rows of a page's revision history (date, commit, author, change); none without one."""
    tables = with_class(parse_html(html), "table", "qms-history")
    if not tables:
        return []
    (body,) = tables[0].iter("tbody")
    return [[text_of(cell) for cell in row.iter("td")] for row in body.iter("tr")]
