"""Fuzzing rule Q009's parse of item text: the fast path that passes plain prose over never skips
text docutils would report, and any text parses without a traceback, leaving docutils as it was."""

from __future__ import annotations

import pytest
from docutils.parsers.rst import directives, roles
from hypothesis import example, given
from hypothesis import strategies as st

from qms.markup import is_prose
from qms.rst import read_text

pytestmark = pytest.mark.fuzz

#: Letters weigh most, so that much of what is drawn is prose; then every character prose may hold
#: (punctuation, digits, line breaks), and the characters of markup, so the edge is tried from both sides.
PROSE_CHARACTERS = "abcdefghijklmnopqrstuvwxyzTIVX" * 4 + "0123456789 " * 3 + " .,:;!?()'\"-/%$&{}\n\n\t"
MARKUP_CHARACTERS = "`*_|\\[]<>@#=~^+"
#: Pieces of markup, whole, for the parse to meet more than single characters.
MARKUP = [
    "*", "**", "``", "`", "_", "__", "|", "::", "..", ".. note::", ".. raw:: html", ":item:`X-1`", ":ref:`a`",
    "[1]_", "`a`_", "a_", "\n\n", "\n  ", "\n- ", "\n1. ", "\n====\n", "\n+--+\n", ":x: y", "http://a",
]  # fmt: skip

prose_like = st.text(alphabet=st.sampled_from(PROSE_CHARACTERS), max_size=120)
anything = st.lists(
    st.one_of(prose_like, st.sampled_from(MARKUP), st.text(alphabet=MARKUP_CHARACTERS, max_size=3)), max_size=12
).map("".join)


@given(st.one_of(prose_like, anything))
@example("The pump shall stop within 5 s (at most).\n\nSecond paragraph: done.")
@example("Title\nof two lines.")
@example("a.\nb)")
@example("Ratio 1:2 and 10 : 20.")
def test_the_fast_path_never_skips_text_docutils_reports(text: str) -> None:
    if is_prose(text):
        assert read_text(text) == ((), ())


@given(anything)
def test_any_text_parses_without_a_traceback_and_leaves_docutils_as_it_was(text: str) -> None:
    lookups = (directives.directive, roles.role, directives._directives, roles._roles)

    problems, references = read_text(text)

    assert all(problem.line >= 1 and problem.message for problem in problems)
    assert all(reference.line >= 1 for reference in references)
    assert (directives.directive, roles.role, directives._directives, roles._roles) == lookups
