"""The placeholder texts of ``qms init`` (rule Q008), told apart from every other text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from qms.placeholders import PLACEHOLDERS, placeholder

#: whitespace as Python's str.split() knows it, and characters that are none
_SPACES = st.sampled_from([" ", "  ", "\t", "\n", "\u2003", "\u00a0", "\x1c", "\r\n"])


@st.composite
def _rewritten(draw: st.DrawFn) -> tuple[str, str]:
    """A placeholder with the spaces between (and around) its words replaced."""
    text = draw(st.sampled_from(sorted(PLACEHOLDERS)))
    words = text.split()
    spaced = "".join(draw(_SPACES) + word for word in words) if draw(st.booleans()) else " ".join(words)
    return spaced + draw(st.sampled_from(["", " ", "\n"])), PLACEHOLDERS[text]


@given(_rewritten())
def test_a_placeholder_is_told_however_it_is_spaced(case: tuple[str, str]) -> None:
    text, instead = case
    assert placeholder(text) == instead


@given(st.text())
def test_other_text_is_no_placeholder(text: str) -> None:
    assert placeholder(text) is None
    assert placeholder("Your Company" + text) is None or " ".join(text.split()) == ""
