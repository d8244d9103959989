"""Where item text may link to: relative and web addresses in prose, web addresses only in maths.

Shared by ``qms check`` (rule Q010) and the site's renderer, so both refuse the same links.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

#: URI schemes a link in item text may use (relative links and fragments are always allowed).
SAFE_SCHEMES = frozenset({"http", "https", "mailto"})

#: URI schemes a link written in maths may use: a formula links to web pages only.
MATH_SCHEMES = frozenset({"http", "https"})

_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):")
_INVISIBLE = re.compile(r"[\x00-\x20\x7f]+")

#: LaTeX commands that make a link (``\href{target}{text}``, ``\url{target}``), not escaped by a backslash.
_LATEX_LINK = re.compile(r"(?<!\\)(?:\\\\)*\\(href|url)(?![A-Za-z])")


def is_safe_uri(uri: str, schemes: frozenset[str] = SAFE_SCHEMES) -> bool:
    """Whether a link target is relative or uses one of ``schemes`` (never ``javascript:``)."""
    squeezed = _INVISIBLE.sub("", uri).lower()  # browsers ignore these inside a scheme
    match = _SCHEME.match(squeezed)
    return match is None or match.group(1) in schemes


@dataclass(frozen=True, slots=True)
class MathLink:
    """A LaTeX link command in some text: where it starts, the command, and its target as written."""

    offset: int
    command: str
    target: str


def math_links(text: str) -> Iterator[MathLink]:
    """Every ``\\href`` and ``\\url`` in ``text``, with its target (the braced group after the command)."""
    for match in _LATEX_LINK.finditer(text):
        start = match.end()
        while start < len(text) and text[start].isspace():
            start += 1
        yield MathLink(match.start(1) - 1, match.group(1), _group(text, start))


def unsafe_math_links(text: str) -> list[MathLink]:
    """The links in ``text`` whose target is not an http or https address (relative ones included)."""
    return [link for link in math_links(text) if not _is_web_address(link.target)]


def _is_web_address(target: str) -> bool:
    squeezed = _INVISIBLE.sub("", target).lower()
    match = _SCHEME.match(squeezed)
    return match is not None and match.group(1) in MATH_SCHEMES


def _group(text: str, start: int) -> str:
    """The braced group at ``start`` without its braces (nested braces dropped), or the one character there."""
    if start >= len(text) or text[start] != "{":
        return text[start : start + 1]
    depth, characters = 0, []
    for character in text[start:]:
        if character == "{":
            depth += 1
        elif character == "}":
            depth -= 1
            if depth == 0:
                break
        else:
            characters.append(character)
    return "".join(characters)
