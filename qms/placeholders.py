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


def placeholder(value: object) -> str | None:
    """What should replace ``value`` when it is a placeholder of ``qms init``; None when it is not."""
    return _NORMALIZED.get(" ".join(value.split())) if isinstance(value, str) else None
