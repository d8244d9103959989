"""The filled blocks kept between builds are used only where nothing their HTML depends on changed:
every input of a block's key and of the site's context changes it, a page written again takes its
unchanged blocks from the fragments, and a clean build never reads them."""

from __future__ import annotations

import pickle
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from docutils import nodes
from sphinx_support import build, new_project, site_files
from test_build_unchanged import git

import qms
from qms import parsecache
from qms.sphinx import fragments
from qms.sphinx.blocks import qms_block, qms_html, qms_raw
from qms.sphinx.fragments import FOLDER, block_key, from_fragments, site_context, to_fragments
from qms.sphinx.settings import Settings

# ------------------------------------------------------------------------------ the keys


def _block(**attributes: Any) -> qms_block:
    node = qms_block(block="item", query=["item", "SWR-001"], **attributes)
    node += nodes.container(key="body-0")
    return node


BLOCK = {"fingerprint": "abc", "level": 2, "matrix": "traceability-matrix.html"}


@pytest.mark.parametrize(
    "change",
    [
        {"fingerprint": "abd"},
        {"level": 3},
        {"matrix": None},
        {"block": _block(interactive=False)},
        {"block": qms_block(block="item", query=["item", "SWR-001"])},  # its text not parsed: prose
        {"block": qms_block(block="table", query=["item", "SWR-001"])},
    ],
    ids=["query fingerprint", "heading level", "matrix link", "option", "parsed texts", "kind"],
)
def test_every_input_of_a_block_changes_its_key(change: dict[str, Any]) -> None:
    before = block_key(_block(), BLOCK["fingerprint"], BLOCK["level"], BLOCK["matrix"])
    arguments = {**BLOCK, "block": _block(), **change}
    after = block_key(arguments["block"], arguments["fingerprint"], arguments["level"], arguments["matrix"])
    assert after != before


class _Lookup(SimpleNamespace):
    """Sphinx's configuration and domains, read by name."""

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)


def _context(monkeypatch: pytest.MonkeyPatch, code: str = "code", **changes: Any) -> str:
    """The site context of an application with these values."""
    values = {
        "builder": "html",
        "suffix": ".html",
        "link_suffix": ".html",
        "settings": {},
        "docs": ["index", "software-requirements"],
        "objects": {"SWR-001": {"software-requirements": ["software_requirement", "Show the reading"]}},
        "labels": {"intro": ("notes", "intro", "Introduction")},
    } | changes
    config = {f"qms_{name}": getattr(Settings(), name) for name in Settings.__slots__}
    config |= {f"qms_{name}": value for name, value in values["settings"].items()}
    app = SimpleNamespace(
        builder=SimpleNamespace(name=values["builder"]),
        config=_Lookup(**config, html_file_suffix=values["suffix"], html_link_suffix=values["link_suffix"]),
        env=SimpleNamespace(
            all_docs=dict.fromkeys(values["docs"]),
            domains=_Lookup(
                qms=SimpleNamespace(objects=values["objects"]),
                standard_domain=SimpleNamespace(labels=values["labels"]),
            ),
        ),
    )
    monkeypatch.setattr(fragments, "code_digest", lambda: code)
    return site_context(app)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "change",
    [
        {"code": "other code"},
        {"builder": "dirhtml"},
        {"suffix": ".htm"},
        {"link_suffix": ""},
        {"settings": {"document_id_prefix": "AID"}},
        {"settings": {"audit_trail": False}},
        {"docs": ["index", "software-requirements", "software-requirements-part-2"]},
        {"objects": {"SWR-001": {"software-requirements-part-2": ["software_requirement", "Show the reading"]}}},
        {"objects": {"SWR-001": {"software-requirements": ["system_requirement", "Show the reading"]}}},
        {"labels": {"intro": ("notes", "start", "Introduction")}},
    ],
    ids=[
        "code",
        "builder",
        "page suffix",
        "link suffix",
        "document id prefix",
        "a setting",
        "pages",
        "an item's page",
        "an item's kind",
        "a label's anchor",
    ],
)
def test_every_input_of_the_site_context_changes_it(monkeypatch: pytest.MonkeyPatch, change: dict[str, Any]) -> None:
    assert _context(monkeypatch, **change) != _context(monkeypatch)


def test_the_site_folder_and_titles_are_no_input_of_the_site_context(monkeypatch: pytest.MonkeyPatch) -> None:
    # qms build writes each site in a new folder of its own: a setting that changes on every build
    assert _context(monkeypatch, settings={"site_folder": "/tmp/x"}) == _context(monkeypatch)
    # a block shows the titles its own query reads: one title edited leaves the other blocks' fragments
    retitled = {"SWR-001": {"software-requirements": ["software_requirement", "Show the value"]}}
    assert _context(monkeypatch, objects=retitled) == _context(monkeypatch)


def test_the_code_digest_covers_every_module_of_qms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "qms"
    (package / "sphinx").mkdir(parents=True)
    (package / "model.py").write_text("A = 1\n", encoding="utf-8")
    (package / "sphinx" / "fragments.py").write_text("", encoding="utf-8")
    (package / "__init__.py").write_text("", encoding="utf-8")
    monkeypatch.setattr(qms, "__file__", str(package / "__init__.py"))
    digests = []
    for text in ("A = 1\n", "A = 2\n"):
        (package / "model.py").write_text(text, encoding="utf-8")
        fragments.code_digest.cache_clear()
        parsecache.code_digest.cache_clear()
        digests.append(fragments.code_digest())
    fragments.code_digest.cache_clear()
    parsecache.code_digest.cache_clear()
    assert digests[0] != digests[1]


# ------------------------------------------------------------------------------ fragments and nodes


def test_a_filled_block_comes_back_as_the_same_nodes_with_the_page_text() -> None:
    text = nodes.container(key="body-0")
    text += nodes.paragraph(text="The software shall show the reading.")
    wrapper = nodes.container(classes=["no-search", "qms-block"])
    wrapper += qms_raw("", "<table></table>", format="html")
    filled = [
        qms_raw("", "<h2>SWR-001</h2>", format="html"),
        qms_html("", "<p>badges</p>", format="html", classes=["no-search"]),
        text,
        wrapper,
    ]
    kept = to_fragments(filled, qms_html)
    assert kept is not None
    again = from_fragments(kept, {"body-0": text}, qms_html)
    assert again is not None
    assert [node.pformat() for node in again] == [node.pformat() for node in filled]
    assert [type(node) for node in again] == [type(node) for node in filled]
    assert from_fragments(kept, {}, qms_html) is None  # the page no longer has the text: filled afresh


def test_a_node_fragments_cannot_stand_for_is_never_kept() -> None:
    assert to_fragments([nodes.paragraph(text="x")], qms_html) is None
    assert to_fragments([qms_raw("", "<p>x</p>", format="html", classes=["other"])], qms_html) is None
    assert to_fragments([nodes.raw("", "<p>x</p>", format="html")], qms_html) is None  # not written by qms


@pytest.mark.parametrize("text", ["<table><tr><td>a \\ b</td></tr></table>", "", "a\x00 b\x00\nc\x00d"])
def test_raw_html_qms_wrote_reads_back_as_docutils_reads_raw_html(text: str) -> None:
    """Handed back as given, without docutils' copies, unless it holds docutils' escape marks (which
    qms never writes), and then as docutils reads them."""
    assert qms_raw("", text, format="html").astext() == nodes.raw("", text, format="html").astext()
    assert qms_html("", text, format="html").astext() == nodes.raw("", text, format="html").astext()


# ------------------------------------------------------------------------------ changing a page in place


def test_a_block_changes_in_place_only_where_its_html_is_written_as_it_is_and_not_indexed() -> None:
    before = (("search", "<h2>SWR-001 Show</h2>"), ("text", "body-0"), ("html", "<a>TST-001 Old</a>"))
    after = (*before[:2], ("html", "<a>TST-001 New</a>"))
    assert fragments._spliceable(before, after)
    for changed in (
        (("search", "<h2>SWR-001 Shown</h2>"), *before[1:]),  # its words are in the search index
        (before[0], ("text", "body-1"), before[2]),  # parsed text: Sphinx writes it
        (*before[:2], ("block", "<a>TST-001 Old</a>")),  # another kind of piece
        before[:2],  # fewer pieces
    ):
        assert not fragments._spliceable(before, changed)


def test_old_pieces_are_replaced_only_where_the_page_holds_each_as_often_as_its_blocks_do() -> None:
    page = "<p>a</p><table>one</table><p>b</p><table>två</table>".encode()
    pieces = [(b"<p>a</p>", b"<p>a</p>"), (b"<table>one</table>", "<t>é</t>".encode())]
    pieces.append(("<table>två</table>".encode(), b"<table>2</table>"))
    assert fragments._replaced(page, pieces) == "<p>a</p><t>é</t><p>b</p><table>2</table>".encode()
    assert fragments._replaced(page, []) == page
    assert fragments._replaced(page, [(b"<p>b</p>", b"<p>b</p>")]) == page  # nothing changes: not looked for
    assert fragments._replaced(page, [(b"<table>three</table>", b"x")]) is None  # not in the page
    assert fragments._replaced(page, [(b"<p>", b"x")]) is None  # twice, once in a block: which is it?
    assert fragments._replaced(page, [(b"", b"x")]) is None
    assert fragments._replaced(page, [(b"one</table><p>b", b"x"), (b"<p>b</p>", b"y")]) is None  # overlapping
    # the same piece in two blocks: each occurrence is its block's, in the page's order
    twice = b"<h>1</h><dl>4</dl><h>2</h><dl>4</dl>"
    second = [(b"<dl>4</dl>", b"<dl>4</dl>"), (b"<dl>4</dl>", b"<dl>5</dl>")]
    assert fragments._replaced(twice, second) == b"<h>1</h><dl>4</dl><h>2</h><dl>5</dl>"
    both = [(b"<dl>4</dl>", b"<dl>5</dl>"), (b"<dl>4</dl>", b"<dl>6</dl>")]
    assert fragments._replaced(twice, both) == b"<h>1</h><dl>5</dl><h>2</h><dl>6</dl>"
    assert fragments._replaced(twice + b"<dl>4</dl>", second) is None  # once more outside the blocks
    assert fragments._replaced(b"aaa", [(b"aa", b"b")]) is None  # overlapping occurrences count too


# ------------------------------------------------------------------------------ real builds

MARK = "<!-- kept fragment -->"


def _mark_fragments(root: Path) -> None:
    """Mark every kept fragment, so a page shows whether its blocks came from them."""
    for path in (root / "_build" / "doctrees" / FOLDER).glob("*.pickle"):
        context, (order, filled) = pickle.loads(path.read_bytes())
        marked = {
            key: tuple((kind, value + MARK if kind != "text" else value) for kind, value in entries)
            for key, entries in filled.items()
        }
        path.write_bytes(pickle.dumps((context, (order, marked))))


@pytest.mark.slow
def test_a_page_written_again_takes_its_unchanged_blocks_from_the_fragments(tmp_path: Path) -> None:
    root = new_project(tmp_path / "device")
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "-c", "commit.gpgsign=false", "-c", "user.name=A", "-c", "user.email=a@e.org", "commit", "-qm", "A")
    assert build(root).exit_code == 0
    site = root / "_build" / "html"
    _mark_fragments(root)
    requirements = root / "traceability" / "requirements.yaml"
    text = requirements.read_text(encoding="utf-8")
    assert "Display the current reading" in text
    requirements.write_text(text.replace("Display the current reading", "Show the reading"), encoding="utf-8")
    assert build(root).exit_code == 0  # the working tree is dirty now: every controlled page is written again
    pages = {name: (site / name).read_text(encoding="utf-8") for name in ("software-requirements.html", "index.html")}
    # a block whose inputs are unchanged came from the fragments; the edited item's and its neighbours' did not
    assert MARK in pages["software-requirements.html"]
    for page in pages.values():
        for block in page.split('<section class="qms-item')[1:]:
            if "Show the reading" in block.split("</section>")[0]:
                assert MARK not in block.split("</section>")[0]
    clean = tmp_path / "clean"
    assert build(root, "--clean", "-o", str(clean)).exit_code == 0
    assert not any(MARK in page.decode("utf-8", "replace") for page in site_files(clean).values())
