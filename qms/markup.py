"""What item text may ask of the site's renderer: links to web addresses, options within bounds,
the directives and roles it may use, and which of its fields are item text at all.

Shared by ``qms check`` (rules Q009, Q010, Q011) and the site's renderer, so both refuse the same text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from qms.model import FieldPath, Item
from qms.schema import EXTENSION_PREFIX, KINDS, FieldType

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


#: Bounds of the numeric options of directives: (lowest, highest). Item text is small, but a
#: number in it can make the renderer build millions of columns or line numbers.
OPTION_BOUNDS = {
    "columns": (1, 12),  # hlist
    "header-rows": (0, 100),  # tables
    "stub-columns": (0, 100),
    "lineno-start": (1, 1_000_000_000),  # code-block
    "number-lines": (1, 1_000_000_000),  # code
    "dedent": (0, 1_000),
}

#: The most columns, rows and cells a table in item text may have (csv-table pads short rows).
MAX_COLUMNS, MAX_ROWS, MAX_CELLS = 100, 10_000, 100_000

#: The largest number a ``:width:`` may give (pixels, ems, percent...).
MAX_WIDTH = 10_000

_NUMBER = re.compile(r"-?\d+")


def _number(written: str) -> int:
    """A number as written; numbers too long to matter are capped (``int`` refuses very long ones)."""
    sign = -1 if written.startswith("-") else 1
    digits = written.lstrip("-")
    return sign * (int(digits) if len(digits) <= 18 else 10**18)


def option_refusal(directive: str, option: str, value: str, lines: int) -> str | None:
    """Why ``:option: value`` of a directive whose content has ``lines`` lines asks for too much, or None.

    The message names the option and its limit.
    """
    numbers = [_number(written) for written in _NUMBER.findall(value)]
    bounds = OPTION_BOUNDS.get(option)
    if bounds is not None and numbers and not bounds[0] <= numbers[0] <= bounds[1]:
        return f"{directive} :{option}: {value} is out of range (item text allows {bounds[0]} to {bounds[1]})"
    if option == "emphasize-lines":
        last = max(lines, 1)
        beyond = [number for number in (abs(number) for number in numbers) if number > last]
        if beyond:
            allowed = f"item text allows 1 to {last}, the block's lines"
            return f"{directive} :emphasize-lines: names line {beyond[0]} ({allowed})"
    if option == "widths" and len(numbers) > MAX_COLUMNS:
        return f"{directive} :widths: gives {len(numbers)} columns (item text allows at most {MAX_COLUMNS})"
    if option == "width" and numbers and numbers[0] > MAX_WIDTH:
        return f"{directive} :width: {value} is too large (item text allows at most {MAX_WIDTH})"
    return None


@dataclass(frozen=True, slots=True)
class DirectiveOption:
    """An option of a directive as written in some text: where it starts, and the size of the directive's content."""

    offset: int
    directive: str
    option: str
    value: str
    lines: int


_DIRECTIVE = re.compile(r"^([ \t]*)\.\.[ \t]+([A-Za-z0-9][\w:+.-]*)[ \t]*::")
_OPTION = re.compile(r"^([ \t]+):([^:\s][^:]*):(?:[ \t]+(.*))?$")


def directive_options(text: str) -> Iterator[DirectiveOption]:
    """Every option of every directive in reStructuredText, nested ones too, read without a parser."""
    lines = text.split("\n")
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    for index, line in enumerate(lines):
        match = _DIRECTIVE.match(line)
        if match is None:
            continue
        indent = len(match.group(1))
        options, after = _options_after(lines, index + 1, indent)
        size = _content_lines(lines, after, indent)
        for line_index, column, option, value in options:
            yield DirectiveOption(starts[line_index] + column, match.group(2), option, value, size)


def _options_after(lines: list[str], start: int, indent: int) -> tuple[list[tuple[int, int, str, str]], int]:
    """The options right after a directive's first line (line, column, name, value), and the line after them."""
    options = []
    index = start
    while index < len(lines):
        match = _OPTION.match(lines[index])
        if match is None or len(match.group(1)) <= indent:
            break
        options.append((index, len(match.group(1)), match.group(2).strip(), (match.group(3) or "").strip()))
        index += 1
    return options, index


def _content_lines(lines: list[str], start: int, indent: int) -> int:
    """How many lines a directive's content has: its indented block, without blank lines at either end."""
    block: list[str] = []
    for line in lines[start:]:
        if line.strip() and len(line) - len(line.lstrip()) <= indent:
            break
        block.append(line)
    while block and not block[-1].strip():
        block.pop()
    while block and not block[0].strip():
        block.pop(0)
    return len(block)


#: Directives item text may use: admonitions, code, maths and tables written inline.
ALLOWED_DIRECTIVES = frozenset(
    {
        "admonition", "attention", "caution", "danger", "error", "hint", "important", "note", "tip",
        "warning", "seealso", "code-block", "code", "sourcecode", "math", "rubric", "epigraph",
        "highlights", "pull-quote", "compound", "container", "parsed-literal", "list-table", "table",
        "csv-table", "hlist", "versionadded", "versionchanged", "deprecated", "versionremoved",
    }
)  # fmt: skip

#: Directives item text may use whose content is code, not reStructuredText.
CODE_DIRECTIVES = frozenset({"code-block", "code", "sourcecode"})

#: Roles item text may use: inline markup, and links to items and pages of the site.
ALLOWED_ROLES = frozenset(
    {
        "", "emphasis", "strong", "literal", "code", "math", "sub", "sup", "subscript", "superscript",
        "abbr", "title-reference", "title", "t", "item", "qms:item", "ref", "doc", "term", "numref",
        "kbd", "guilabel", "menuselection", "samp", "file", "command", "program", "dfn", "pep", "rfc",
    }
)  # fmt: skip

#: The roles that link to an item by id.
ITEM_ROLES = frozenset({"item", "qms:item"})


def refused_directive(name: str) -> str:
    """What is said about a directive item text may not use."""
    return (
        f"directive '{name}' is not allowed in item text and was left out "
        "(item text cannot embed HTML, files or page settings); "
        f"allowed: {', '.join(sorted(ALLOWED_DIRECTIVES))}"
    )


def refused_role(name: str) -> str:
    """What is said about a role item text may not use."""
    return f"role ':{name}:' is not allowed in item text; its text is shown as written"


def refused_link(uri: str) -> str:
    """What is said about a link whose scheme item text may not use."""
    return f"link to '{uri}' removed from item text: only http, https and mailto links are allowed"


#: What can make reStructuredText markup; text without any of it is plain prose. Characters of
#: inline markup anywhere; a colon after a letter or digit and before a non-space (a role, a URI);
#: ``::`` (literal blocks) and ``..`` (comments, directives); and at the start of a line,
#: indentation, list and field markers, quotes, and enumerators (``1.``, ``a)``, ``iv.``).
_INLINE_MARKUP = re.compile(r"[`*_|\\\[\]<>@#=~^+]")
_COLON_MARKUP = re.compile(r"[A-Za-z0-9]:\S")
_LINE_START = r"(?:[ \t\-:(\"'!$%&,./;?{}]|(?:\d+|[a-zA-Z]|[ivxlcdmIVXLCDM]+)[.)](?:\s|$))"
_FIRST_LINE_MARKUP = re.compile(_LINE_START)
_NEXT_LINE_MARKUP = re.compile("\n" + _LINE_START)


def is_prose(text: str) -> bool:
    """Whether text is plain paragraphs: no markup character, no indentation, no list or block start.

    Such text needs no parser (the site writes its paragraphs, ``qms check`` passes it over); each
    test is a scan in C, as ``qms check`` asks this of every text of the project.
    """
    return not (
        _INLINE_MARKUP.search(text)
        or "::" in text
        or ".." in text
        or (":" in text and _COLON_MARKUP.search(text))
        or _FIRST_LINE_MARKUP.match(text)
        or ("\n" in text and _NEXT_LINE_MARKUP.search(text))
    )


def item_texts(item: Item) -> Iterator[tuple[FieldPath, str]]:
    """The fields of an item the site renders as reStructuredText, each with its path: text fields,
    the entries of lists of texts, anomaly evaluations, and ``x-`` fields holding text or a list of texts."""
    text_fields = _text_fields(item.kind)
    for name, value in item.fields.items():
        kind = text_fields.get(name)
        if kind is None:
            if not name.startswith(EXTENSION_PREFIX):
                continue
            kind = FieldType.TEXT if isinstance(value, str) else FieldType.TEXTS
        if isinstance(value, str):
            if kind is FieldType.TEXT:
                yield (name,), value
        elif isinstance(value, list | tuple) and kind is not FieldType.TEXT:
            yield from _entry_texts(name, kind, value)


def _entry_texts(name: str, kind: FieldType, entries: Sequence[Any]) -> Iterator[tuple[FieldPath, str]]:
    """The texts of a list field: each entry of a list of texts, each evaluation of anomaly reviews."""
    if kind is FieldType.TEXTS and all(isinstance(entry, str) for entry in entries):
        yield from (((name, index), entry) for index, entry in enumerate(entries))
    elif kind is FieldType.ANOMALY_REVIEWS:
        for index, review in enumerate(entries):
            evaluation = review.get("evaluation") if isinstance(review, Mapping) else None
            if isinstance(evaluation, str):
                yield (name, index, "evaluation"), evaluation


@cache
def _text_fields(kind: str) -> Mapping[str, FieldType]:
    """The fields of a kind holding item text, by type (text, list of texts, anomaly reviews)."""
    spec = KINDS.get(kind)
    texts = (FieldType.TEXT, FieldType.TEXTS, FieldType.ANOMALY_REVIEWS)
    return {field.name: field.type for field in spec.fields if field.type in texts} if spec is not None else {}
