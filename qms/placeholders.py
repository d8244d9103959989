"""The placeholder texts ``qms init`` writes where only the manufacturer can say what is true.

They let a new project check and build at once, but must not reach a technical file: rule Q008
reports each one until it is replaced.
"""

from __future__ import annotations

#: placeholder text (as ``qms init`` writes it, whitespace aside) -> what to write instead
PLACEHOLDERS = {
    "Your Company": "the manufacturer's name",
    "State the intended use: what the software does, for which patients and users, in which environment.": (
        "the intended use: what the software does, for which patients and users, in which environment"
    ),
}

_NORMALIZED = {" ".join(text.split()): instead for text, instead in PLACEHOLDERS.items()}
#: the first word of each placeholder: a text that starts with none of them is no placeholder
_FIRST_WORDS = tuple(sorted({text.split()[0] for text in _NORMALIZED}))


def placeholder(value: object) -> str | None:
    """What should replace ``value`` when it is a placeholder of ``qms init``; None when it is not."""
    if not isinstance(value, str) or not value.lstrip().startswith(_FIRST_WORDS):
        return None  # most text: told at its first word, without splitting it all
    return _NORMALIZED.get(" ".join(value.split()))
