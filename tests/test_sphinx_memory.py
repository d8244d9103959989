"""A build holds one page's doctree at a time, and the site it writes is the one it wrote holding them all."""

from __future__ import annotations

import contextlib
import gc
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from sphinx_support import REPOSITORY, build, copy_example, site_files

from qms.clauses import DEFAULT_EDITION
from qms.sphinx import memory
from qms.sphinx.state import load_build_data
from qms.yamlfile import freeze_heap, parse_bytes, unfreeze_heap

#: An extension that watches the doctrees through weak references: which are still alive while each page is resolved.
TRACKER = """
import json
import weakref
from pathlib import Path

read, resolved = [], []
seen = {"written_alive": [], "written_from_the_read_tree": []}


def _read(app, doctree):
    read.append(weakref.ref(doctree))


def _resolved(app, doctree, docname):
    seen["written_alive"].append(sum(ref() is not None for ref in resolved))
    seen["written_from_the_read_tree"].append(any(ref() is doctree for ref in read))
    resolved.append(weakref.ref(doctree))


def _finished(app, exception):
    Path(__file__).with_suffix(".json").write_text(json.dumps(seen), encoding="utf-8")


def setup(app):
    app.connect("doctree-read", _read)
    app.connect("doctree-resolved", _resolved, priority=950)
    app.connect("build-finished", _finished, priority=950)
    return {"parallel_read_safe": True}
"""


def _cut_example(root: Path) -> Path:
    """The example with 20 items a page: many pages, several parts for each long document."""
    copy_example(root)
    with (root / "conf.py").open("a", encoding="utf-8") as conf:
        conf.write("qms_page_items = 20\n")
    return root


@pytest.mark.slow
def test_each_page_is_written_from_its_pickle_and_freed_before_the_next(tmp_path: Path) -> None:
    root = _cut_example(tmp_path / "project")
    (tmp_path / "tracker").mkdir()
    (tmp_path / "tracker" / "qms_tree_tracker.py").write_text(TRACKER, encoding="utf-8")
    with (root / "conf.py").open("a", encoding="utf-8") as conf:
        conf.write(f"import sys\nsys.path.insert(0, {str(tmp_path / 'tracker')!r})\n")
        conf.write('extensions = [*extensions, "qms_tree_tracker"]\n')
    result = build(root)
    assert result.exit_code == 0, result.output
    seen = json.loads((tmp_path / "tracker" / "qms_tree_tracker.json").read_text(encoding="utf-8"))
    assert len(seen["written_alive"]) > 40
    assert set(seen["written_alive"]) == {0}  # no page written before is still in memory
    assert not any(seen["written_from_the_read_tree"])  # Sphinx kept none of the trees it read
    assert gc.get_freeze_count() == 0  # what the build froze is the collector's again


@pytest.mark.slow
def test_the_site_is_the_one_a_build_holding_every_tree_writes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    freed = _cut_example(tmp_path / "freed")
    assert build(freed).exit_code == 0
    held = _cut_example(tmp_path / "held")
    for name in ("start_reading", "before_reading", "start_writing", "collect_page", "finish"):
        monkeypatch.setattr(memory, name, lambda *arguments: None)
    monkeypatch.setattr(memory, "frozen_while_loading", contextlib.nullcontext)
    assert build(held).exit_code == 0
    assert site_files(freed / "_build" / "html") == site_files(held / "_build" / "html")


def test_an_items_block_is_answered_again_rather_than_kept() -> None:
    data = load_build_data(SimpleNamespace(), REPOSITORY, edition=DEFAULT_EDITION, prefix="", clause_table="")
    item_id = next(iter(data.project.items))
    first = data.answer(("item", item_id))
    assert first is not None
    assert data.answer(("item", item_id)) == first
    assert ("item", item_id) not in data.cache  # one view per item, held from the reading to the end, no more
    assert ("counts",) not in data.cache
    assert data.answer(("counts",)) is data.answer(("counts",))  # a summary many pages ask is kept


def test_the_environment_and_the_project_are_frozen_while_the_build_runs() -> None:
    held = [[number] for number in range(1000)]  # stands for the environment Sphinx unpickled
    try:
        with memory.frozen_while_loading():
            frozen = gc.get_freeze_count()
            data = load_build_data(SimpleNamespace(), REPOSITORY, edition=DEFAULT_EDITION, prefix="", clause_table="")
            assert gc.get_freeze_count() >= frozen >= len(held)  # loading YAML left it frozen
        assert gc.get_freeze_count() > frozen  # and the project loaded is frozen with it
        assert data.project.items
    finally:
        gc.unfreeze()


def test_a_load_that_fails_leaves_nothing_frozen() -> None:
    with pytest.raises(ValueError), memory.frozen_while_loading():
        raise ValueError("no qms.yaml")
    assert gc.get_freeze_count() == 0  # no build follows to unfreeze it


def test_parsing_yaml_leaves_what_was_frozen_frozen() -> None:
    held = [[number] for number in range(1000)]
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen >= len(held)
        parse_bytes(b"id: REQ-1\ntitle: One\n", "one.yaml")
        assert gc.get_freeze_count() >= frozen
    finally:
        gc.unfreeze()


def test_parsing_in_a_frozen_build_does_not_walk_the_frozen_objects(monkeypatch: pytest.MonkeyPatch) -> None:
    held = [[number] for number in range(1000)]
    freeze_heap()
    try:
        frozen = gc.get_freeze_count()
        assert frozen >= len(held)

        def walk() -> int:
            raise AssertionError("gc.get_freeze_count walks every frozen object: a build's millions")

        monkeypatch.setattr(gc, "get_freeze_count", walk)
        parse_bytes(b"id: REQ-1\ntitle: One\n", "one.yaml")
        monkeypatch.undo()
        assert gc.get_freeze_count() >= frozen  # what was frozen stays frozen, and the parse with it
    finally:
        unfreeze_heap()
    assert gc.get_freeze_count() == 0
