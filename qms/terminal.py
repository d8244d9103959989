"""Text from the records, made safe to print: control characters shown as escapes.

An id, a title or a file name may hold any character YAML allows; printed raw, an escape
sequence clears the screen, hides text or plants a hyperlink, and a bidirectional override
makes a line read differently from what it says. Every command prints user data through
:func:`printable` (or :func:`json_text` for JSON), so what reaches a terminal is what was written.
"""

from __future__ import annotations

import json
import re
from typing import Any

#: DEL, C1 controls, line and paragraph separators, and the bidirectional controls
_BEYOND_C0 = "\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_ANY_CONTROL = re.compile(f"[\x00-\x1f{_BEYOND_C0}]")
#: the same, except line ends (\n, \r\n) and tabs, for text that spans lines
_CONTROL_IN_LINES = re.compile(f"\r(?!\n)|[\x00-\x08\x0b\x0c\x0e-\x1f{_BEYOND_C0}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: in JSON text, the characters json.dumps leaves as they are: C0 controls are escaped already
_RAW_IN_JSON = re.compile(f"[{_BEYOND_C0}]")


def _escape(match: re.Match[str]) -> str:
    character = match.group()
    named = _NAMED.get(character)
    if named is not None:
        return named
    code = ord(character)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, *, lines: bool = False) -> str:
    """``text`` with each control character written as an escape (``\\x1b``, ``\\u202e``).

    With ``lines``, line ends and tabs stay as they are (a field of several lines); otherwise
    they are escaped too, so the text stays on one line (an id, a title, a message).
    """
    return (_CONTROL_IN_LINES if lines else _ANY_CONTROL).sub(_escape, text)


def plural(count: int, word: str, words: str | None = None) -> str:
    """``1 error``, ``2 errors``: a count as a person writes it (``words`` for an irregular plural)."""
    return f"{count} {word if count == 1 else words or word + 's'}"


def excerpt(text: str, limit: int = 60) -> str:
    """``text`` as a message quotes it: at most ``limit`` characters, then ``...``."""
    return text if len(text) <= limit else text[:limit] + "..."


def escape_json(text: str) -> str:
    """JSON text with every control character in its strings escaped (``\\u009b``): the same data."""
    return _RAW_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


def json_text(data: Any) -> str:
    """``data`` as indented JSON, control characters escaped (:func:`escape_json`)."""
    return escape_json(json.dumps(data, indent=2, ensure_ascii=False))


_SGR = {"red": "31", "yellow": "33"}


def emphasized(text: str, color: str) -> str:
    """``text`` in bold ``color`` (red, yellow) for a terminal, with the ANSI codes ``click.style`` writes."""
    return f"\x1b[{_SGR[color]}m\x1b[1m{text}\x1b[0m"
