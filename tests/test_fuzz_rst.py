"""Fuzzing the item-text renderer: any directive, option and maths item text may hold renders
without a traceback, in bounded time and to a bounded page, and never as script or a link out."""

from __future__ import annotations

import io
import re
import resource
from collections.abc import Iterator
from pathlib import Path

import pytest
from docutils.parsers.rst.directives import tables
from hypothesis import example, given
from hypothesis import strategies as st
from sphinx.application import Sphinx
from sphinx.directives.admonitions import Note
from sphinx.directives.code import CodeBlock
from sphinx.directives.other import HList
from sphinx.directives.patches import Code, CSVTable, MathDirective, Rubric
from sphinx.util.docutils import docutils_namespace

from qms.markup import ALLOWED_DIRECTIVES, OPTION_BOUNDS, directive_options, option_refusal, unsafe_math_links

pytestmark = pytest.mark.fuzz

#: A Sphinx project's conf.py: one directive that renders a file's text as item text, and qms's maths.
CONF = """
from pathlib import Path
from sphinx.util.docutils import SphinxDirective
from qms.sphinx.maths import visit_math, visit_math_block
from qms.sphinx.safe_rst import parse_item_text

class ItemText(SphinxDirective):
    required_arguments = 1

    def run(self):
        path = Path(self.env.srcdir) / self.arguments[0]
        return [parse_item_text(self.state, path.read_text(encoding="utf-8"), str(path), 1)]

def setup(app):
    app.add_directive("item-text", ItemText)
    app.add_html_math_renderer("qms", (visit_math, None), (visit_math_block, None))

html_theme = "basic"
html_math_renderer = "qms"
"""

#: The most a page of one item text may weigh: bounds hold whatever the options say.
MAX_PAGE = 1_000_000

#: The options of the directives that take sizes, from the directives themselves; any other is tried too.
OWN_OPTIONS = {
    name: sorted(directive_class.option_spec or {})
    for name, directive_class in {
        "code-block": CodeBlock, "code": Code, "hlist": HList, "csv-table": CSVTable, "math": MathDirective,
        "list-table": tables.ListTable, "table": tables.RSTTable, "rubric": Rubric, "note": Note,
    }.items()
}  # fmt: skip
OPTIONS = sorted({*OPTION_BOUNDS, "emphasize-lines", "widths", "width", "file", "url", "label", "linenos"})
DIRECTIVES = sorted(ALLOWED_DIRECTIVES | {"raw", "include", "literalinclude", "image", "figure", "qms:item"})

words = st.text(alphabet="abcxyz019 -,:;|*`_{}\\<>&\"'=", max_size=12)
numbers = st.one_of(
    st.integers(-3, 40).map(str),
    st.integers(-(10**12), 10**12).map(str),
    st.sampled_from(["0", "13", "101", "5000", "3000000", "1000000000", "1" * 30, "9" * 5000, "1e9", "0x10"]),
)
option_values = st.one_of(
    numbers,
    st.tuples(numbers, numbers).map("-".join),
    st.lists(numbers, max_size=8).map(" ".join),
    st.lists(numbers, max_size=8).map(",".join),
    words,
    st.just(""),
)
latex = st.lists(
    st.sampled_from(
        [
            "x", "1", "^", "_", "{", "}", "\\frac", "\\sqrt", "\\left(", "\\right)", "\\\\", "&", "\\href",
            "\\url", "{javascript:alert(1)}", "{https://example.org}", "\\text{<script>alert(1)</script>}",
            "\\begin{matrix}", "\\end{matrix}", "\\style{color:red}", "\\color{red}", "\\unicode{60}", " ",
        ]
    ),
    max_size=12,
).map("".join)  # fmt: skip


@st.composite
def directive(draw: st.DrawFn, depth: int = 0) -> str:
    name = draw(st.one_of(st.sampled_from(sorted(OWN_OPTIONS)), st.sampled_from(DIRECTIVES)))
    argument = draw(st.sampled_from(["", " text", " python", " Title", " /etc/passwd"]))
    own = OWN_OPTIONS.get(name)
    option_names = st.one_of(st.sampled_from(own), st.sampled_from(OPTIONS)) if own else st.sampled_from(OPTIONS)
    options = draw(st.lists(st.tuples(option_names, option_values), min_size=1, max_size=4))
    lines_of_body = st.one_of(
        words,
        latex,
        st.sampled_from(["* a", "* - a", "  - b", "a,b,c", "=  ="]),
        st.integers(0, 3000).map(lambda count: "," * count),  # csv rows padded to the widest
    )
    body = draw(st.lists(lines_of_body, max_size=6))
    lines = [f".. {name}::{argument}", *(f"   :{option}: {value}".rstrip() for option, value in options), ""]
    lines += [f"   {line}".rstrip() for line in body]
    if depth < 1 and draw(st.booleans()):
        lines += ["", *(f"   {line}".rstrip() for line in draw(directive(depth + 1)).splitlines())]
    return "\n".join(lines)


item_texts = st.lists(
    st.one_of(directive(), latex.map(lambda formula: f"Text :math:`{formula}` end."), words), min_size=1, max_size=4
).map("\n\n".join)


@pytest.fixture(scope="module")
def renderer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sphinx, Path, io.StringIO]]:
    """One Sphinx project whose only page shows ``text.txt`` as item text, rebuilt per example."""
    source = tmp_path_factory.mktemp("fuzz-rst")
    (source / "conf.py").write_text(CONF, encoding="utf-8")
    (source / "index.rst").write_text("Item text\n=========\n\n.. item-text:: text.txt\n", encoding="utf-8")
    (source / "text.txt").write_text("", encoding="utf-8")
    warnings = io.StringIO()
    with docutils_namespace():
        app = Sphinx(source, source, source / "_build", source / "_doctrees", "html", status=None, warning=warnings)
        yield app, source, warnings


#: The memory one rendering may take beyond what the test process already holds.
MEMORY = 2 << 30


@pytest.fixture(scope="module")
def bounded_memory() -> Iterator[None]:
    """Cap this process's address space a little above its size now, so a bomb fails fast instead of swapping."""
    status = Path("/proc/self/status")
    found = re.search(r"VmSize:\s+(\d+) kB", status.read_text(encoding="utf-8")) if status.exists() else None
    if found is None:
        yield
        return
    size = int(found.group(1)) * 1024
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = size + MEMORY if hard == resource.RLIM_INFINITY else min(size + MEMORY, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


@given(text=item_texts)
@example(text=".. hlist::\n   :columns: 3000000\n\n   * a\n   * b")  # 7.6 GB before it was bounded
@example(text=".. code-block:: text\n   :emphasize-lines: 1-1000000000\n\n   one")  # 80 GB
def test_any_item_text_renders_safely(
    bounded_memory: None, renderer: tuple[Sphinx, Path, io.StringIO], text: str
) -> None:
    app, source, warnings = renderer
    (source / "text.txt").write_text(text, encoding="utf-8")
    warnings.seek(0)
    warnings.truncate()
    app.build(force_all=True)  # an exception here is the failure: nothing may escape the renderer
    assert "Traceback" not in warnings.getvalue() and "Exception occurred" not in warnings.getvalue()
    page = (source / "_build" / "index.html").read_text(encoding="utf-8")
    assert len(page) < MAX_PAGE
    body = page[page.index('<section id="item-text">') : page.index('<div class="sphinxsidebar"')]
    assert not re.search(r"<script|\bon\w+=|href=\"\s*javascript|mathjax", body, re.IGNORECASE), text


@given(text=item_texts)
def test_the_checks_of_item_text_read_any_text(text: str) -> None:
    """What ``qms check`` reads of item text without a parser (rules Q010, Q011) never fails on any text."""
    for written in directive_options(text):
        assert 0 <= written.offset < len(text) and text[written.offset] == ":"
        option_refusal(written.directive, written.option, written.value, written.lines)
    for link in unsafe_math_links(text):
        assert text[link.offset] == "\\"
