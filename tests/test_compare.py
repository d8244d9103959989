"""``benchmarks/compare.py`` writes the same items for every tool: ids, titles, texts and parent links."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from compare import entries, write_doorstop, write_strictdoc  # noqa: E402  # a script folder, not a package
from generate import generate  # noqa: E402


def test_strictdoc_and_doorstop_get_every_item_with_its_title_text_and_parents(tmp_path: Path) -> None:
    items = entries(generate(120, tmp_path / "qms"))
    assert len(items) == 120 and any(entry.parents for entry in items)
    expected = {entry.id: entry for entry in items}

    write_doorstop(items, tmp_path / "doorstop")
    documents = {
        yaml.safe_load(path.read_text("utf-8"))["settings"]["prefix"]
        for path in (tmp_path / "doorstop").glob("*/.doorstop.yml")
    }
    assert len(documents) == len({entry.kind for entry in items})
    for path in (tmp_path / "doorstop").glob("*/[!.]*.yml"):
        written = yaml.safe_load(path.read_text("utf-8"))
        entry = expected[path.stem]
        assert (written["header"], written["text"].strip()) == (entry.title, entry.text)
        assert [next(iter(link)) for link in written["links"]] == list(entry.parents)
    assert len(list((tmp_path / "doorstop").glob("*/[!.]*.yml"))) == 120

    write_strictdoc(items, tmp_path / "strictdoc")
    text = "".join(path.read_text("utf-8") for path in sorted((tmp_path / "strictdoc").glob("*.sdoc")))
    blocks = text.split("[REQUIREMENT]\n")[1:]
    assert len(blocks) == 120
    for block in blocks:
        entry = expected[re.search(r"^UID: (.+)$", block, re.M).group(1)]  # type: ignore[union-attr]
        assert f"TITLE: {entry.title}\nSTATEMENT: >>>\n{entry.text}\n<<<" in block
        assert re.findall(r"VALUE: (.+)", block) == list(entry.parents)
