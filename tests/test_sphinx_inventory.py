"""The site's object inventory is written only where its entries changed, and always as Sphinx writes it
(by Sphinx, or from the entries compared, where the last build left one)."""

from __future__ import annotations

import zlib
from pathlib import Path

import pytest
from sphinx.application import Sphinx
from sphinx.util.docutils import docutils_namespace
from sphinx.util.inventory import InventoryFile
from sphinx_support import build, new_project, site_files

from qms.cli.build_inputs import RECORD
from qms.sphinx import inventory

EDITED = "traceability/requirements.yaml"


@pytest.fixture
def dumped(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The inventories Sphinx writes from now on (their paths)."""
    written: list[str] = []
    dump = InventoryFile.dump.__func__  # type: ignore[attr-defined]

    def noted(cls: type[InventoryFile], filename: str, *arguments: object) -> None:
        written.append(str(filename))
        dump(cls, filename, *arguments)

    monkeypatch.setattr(InventoryFile, "dump", classmethod(noted))
    return written


def _edited(root: Path, old: str, new: str) -> None:
    path = root / EDITED
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def _entries(site: Path) -> bytes:
    return zlib.decompress((site / "objects.inv").read_bytes().split(b"\n", 4)[4])


@pytest.mark.slow
def test_an_inventory_whose_entries_did_not_change_is_kept_and_one_that_did_is_written(
    tmp_path: Path, dumped: list[str]
) -> None:
    root = new_project(tmp_path / "device")
    site = root / "_build" / "html"
    assert build(root).exit_code == 0
    assert len(dumped) == 1  # the first build writes it
    first = _entries(site)
    _edited(root, "whole minutes", "full minutes")  # a text: no entry shows it
    assert build(root).exit_code == 0
    assert len(dumped) == 1
    assert _entries(site) == first
    title = next(line for line in first.decode().splitlines() if line.startswith("SWR-")).split(" ", 5)[5]
    _edited(root, title, f"{title} (renamed)")  # an item's title is its entry's name
    assert build(root).exit_code == 0
    assert len(dumped) == 1  # written from the entries compared, not listed by Sphinx again
    assert b"(renamed)" in _entries(site)
    result = build(root, "--clean", "-o", str(tmp_path / "clean"))
    assert result.exit_code == 0, result.output
    assert site_files(site) == site_files(tmp_path / "clean")


@pytest.mark.slow
@pytest.mark.parametrize("damage", ["missing", "truncated", "other-project"])
def test_an_inventory_the_site_does_not_hold_intact_is_written_again(
    tmp_path: Path, dumped: list[str], damage: str
) -> None:
    root = new_project(tmp_path / "device")
    site = root / "_build" / "html"
    assert build(root).exit_code == 0
    written = (site / "objects.inv").read_bytes()
    if damage == "missing":
        (site / "objects.inv").unlink()
    elif damage == "truncated":
        (site / "objects.inv").write_bytes(written[:-20])
    else:
        (site / "objects.inv").write_bytes(written.replace(b"# Project: ", b"# Project: Other ", 1))
    (root / "_build" / "doctrees" / RECORD).unlink(missing_ok=True)  # not taken as built already
    _edited(root, "whole minutes", "full minutes")
    assert build(root).exit_code == 0
    assert len(dumped) == (2 if damage == "missing" else 1)  # Sphinx writes one the site lacks
    assert (site / "objects.inv").read_bytes() == written


def test_the_entries_listed_are_those_sphinx_writes(tmp_path: Path) -> None:
    """The comparison lists the entries as Sphinx's own inventory writer does, byte for byte."""
    root = new_project(tmp_path / "device")
    assert build(root).exit_code == 0
    with docutils_namespace():  # the directives and roles registered go when the application does
        app = Sphinx(root, root, tmp_path / "out", root / "_build" / "doctrees", "html", status=None, warning=None)
        InventoryFile.dump(tmp_path / "objects.inv", app.env, app.builder)
        entries = inventory._entries(app)
        header = inventory._header(app)
    written = (tmp_path / "objects.inv").read_bytes()
    assert written.startswith(header)
    assert zlib.decompress(written[len(header) :]) == entries
    assert header + zlib.compress(entries, inventory.LEVEL) == written  # what qms writes where they changed
    assert b"SWR-" in entries
