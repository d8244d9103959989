"""Item text as reStructuredText that can neither put script into the site nor pull files into it.

Item text comes from YAML files anyone on the team (or a merge request) can edit, so it is
parsed with less power than a page the project owns: ``raw`` and file insertion are switched
off in the docutils settings, only an allow-list of harmless directives and roles is looked
up (everything else is reported and dropped), and links may only use web or mail schemes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from types import ModuleType
from typing import Any, ClassVar

from docutils import nodes
from docutils.parsers.rst import Directive, directives
from docutils.parsers.rst.directives.tables import CSVTable
from docutils.parsers.rst.states import RSTState
from docutils.statemachine import StringList
from docutils.utils import Reporter, new_document
from sphinx.directives.code import CodeBlock
from sphinx.util import logging
from sphinx.util.docutils import CustomReSTDispatcher, LoggingReporter

from qms.markup import (
    ALLOWED_DIRECTIVES,
    ALLOWED_ROLES,
    MAX_CELLS,
    MAX_COLUMNS,
    MAX_ROWS,
    is_prose,
    refused_directive,
    refused_link,
    refused_role,
)
from qms.markup import is_safe_uri as is_safe_uri  # also where blocks are written
from qms.rst import options_refusal, parse_apart
from qms.sphinx.build_warnings import BuildWarning, warn

logger = logging.getLogger(__name__)

#: The class marking the container of parsed item text, for the link check after resolution.
TEXT_CLASS = "qms-text"


def _warn(message: str, source: str | None, line: int | None) -> None:
    location = f"{source}:{line or ''}" if source else None  # a file and line, not a page of the site
    warn(logger, BuildWarning.UNSAFE_MARKUP, message, location)


class _RefusedDirective(Directive):
    """Stands in for a directive item text may not use: reports it and renders nothing."""

    has_content = True
    optional_arguments = 100
    final_argument_whitespace = True
    option_spec = None  # accept (and ignore) any option

    def run(self) -> list[nodes.Node]:
        source, line = self.state_machine.get_source_and_line(self.lineno)
        _warn(refused_directive(self.name), source, line)
        return []


class _Refusal(Exception):
    """An option or a size beyond what item text may ask for: the message says which and the limit."""


def _check_options(directive: Directive) -> None:
    """Raise :class:`_Refusal` if an option asks for more than item text may."""
    refusal = options_refusal(directive)
    if refusal is not None:
        raise _Refusal(refusal)


@cache
def _bounded(directive_class: type[Any]) -> type[Directive]:
    """The directive, refusing options beyond their bounds: then the block is shown as written, with a warning."""

    class Bounded(directive_class):  # type: ignore[misc]  # a class chosen at run time
        def run(self) -> Sequence[nodes.Node]:
            try:
                _check_options(self)
                return list(super().run())
            except _Refusal as refusal:
                source, line = self.state_machine.get_source_and_line(self.lineno)
                _warn(f"{refusal}; the directive is shown as written", source, line)
                return [nodes.literal_block(self.block_text, self.block_text, language="text")]

    Bounded.__name__ = directive_class.__name__
    return Bounded


class _InlineCSVTable(CSVTable):
    """``csv-table`` with its rows written inline (reading a file or an address is refused), of bounded size."""

    def run(self) -> Sequence[nodes.table | nodes.system_message]:
        for option in ("file", "url"):
            if option in self.options:
                source, line = self.state_machine.get_source_and_line(self.lineno)
                _warn(
                    f"csv-table :{option}: is not allowed in item text (write the rows inline); the table was left out",
                    source,
                    line,
                )
                return []
        return super().run()

    def parse_csv_data_into_rows(self, csvdata: list[str], dialect: Any, source: str) -> tuple[list[Any], int]:
        """The rows, refused before short rows are padded to the widest one if the table would be too large."""
        rows, columns = super().parse_csv_data_into_rows(csvdata, dialect, source)  # type: ignore[no-untyped-call]
        if columns > MAX_COLUMNS or len(rows) > MAX_ROWS or columns * len(rows) > MAX_CELLS:
            raise _Refusal(
                f"csv-table of {len(rows)} rows and {columns} columns is too large "
                f"(item text allows {MAX_ROWS} rows, {MAX_COLUMNS} columns, {MAX_CELLS} cells)"
            )
        return rows, columns


class _NumberedCodeBlock(CodeBlock):
    """``code-block`` that also takes docutils' ``:number-lines: [start]`` (as ``code`` does), for
    text written for plain docutils: the lines are numbered rather than the block dropped."""

    option_spec: ClassVar[dict[str, Callable[[str], Any]]] = {
        **CodeBlock.option_spec,
        "number-lines": directives.unchanged,
    }

    def run(self) -> list[nodes.Node]:
        if "number-lines" in self.options:
            start = (self.options.pop("number-lines") or "").strip()
            self.options["linenos"] = True
            if start:
                self.options["lineno-start"] = directives.nonnegative_int(start)
        return super().run()


#: Directives item text may use whose Sphinx version is widened to take what docutils' takes.
_WIDENED: dict[str, type[Directive]] = {"code-block": _NumberedCodeBlock, "sourcecode": _NumberedCodeBlock}


class _ItemTextDispatcher(CustomReSTDispatcher):
    """Looks up directives and roles through Sphinx, but only those on the allow-lists.

    ``source`` and ``first_line`` place messages about roles: docutils gives a role its line
    within the item text only.
    """

    def __init__(self, source: str, first_line: int) -> None:
        super().__init__()
        self.source, self.first_line = source, first_line

    def directive(
        self, directive_name: str, language_module: ModuleType, document: nodes.document
    ) -> tuple[type[Directive] | None, list[nodes.system_message]]:
        name = directive_name.lower()
        if name not in ALLOWED_DIRECTIVES:
            return _RefusedDirective, []
        if name == "csv-table":
            return _bounded(_InlineCSVTable), []
        if name in _WIDENED:
            return _bounded(_WIDENED[name]), []  # type: ignore[arg-type]  # classes hash
        found, messages = super().directive(directive_name, language_module, document)
        bounded = _bounded(found) if found is not None else None  # type: ignore[arg-type]  # classes hash
        return bounded, messages

    def role(
        self, role_name: str, language_module: ModuleType, lineno: int, reporter: Reporter
    ) -> tuple[Any, list[nodes.system_message]]:
        if role_name.lower() not in ALLOWED_ROLES:
            return self.refused_role, []
        return super().role(role_name, language_module, lineno, reporter)

    def refused_role(
        self,
        name: str,
        rawtext: str,
        text: str,
        lineno: int,
        inliner: Any,
        options: dict[str, Any] | None = None,
        content: list[str] | None = None,
    ) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        """Stands in for a role item text may not use: reports it and shows its text verbatim."""
        line = self.first_line + lineno - 1
        _warn(refused_role(name), self.source, line)
        return [nodes.literal(rawtext, rawtext)], []


@contextmanager
def _restricted(settings: Any, source: str, first_line: int) -> Iterator[None]:
    """Switch raw HTML and file insertion off (docutils' own switches) while item text is parsed."""
    saved = (settings.raw_enabled, settings.file_insertion_enabled)
    settings.raw_enabled, settings.file_insertion_enabled = False, False
    try:
        with _ItemTextDispatcher(source, first_line):
            yield
    finally:
        settings.raw_enabled, settings.file_insertion_enabled = saved


def strip_unsafe_links(root: nodes.Element, source: str | None = None, line: int | None = None, text: str = "") -> None:
    """Turn links with a non-web scheme into plain text, and drop such link targets' URIs. A link
    docutils gives no line of its own is placed at the line of ``text`` (starting at ``line``) it
    is written on."""
    for reference in list(root.findall(nodes.reference)):
        uri = reference.get("refuri")
        if uri is not None and not is_safe_uri(uri):
            reference.replace_self(nodes.inline(reference.rawsource, reference.astext(), classes=["qms-unsafe-link"]))
            _warn(refused_link(uri), reference.source or source, reference.line or _line_of(reference, text, line))
    for target in root.findall(nodes.target):
        uri = target.get("refuri")
        if uri is not None and not is_safe_uri(uri):
            del target["refuri"]


def _line_of(reference: nodes.reference, text: str, first: int | None) -> int | None:
    """The line of the file a link is written on: where its source (or its address) stands in ``text``."""
    if first is None or not text:
        return first
    for written in (reference.rawsource, reference.get("refuri", "")):
        at = text.find(written) if written else -1
        if at >= 0:
            return first + text.count("\n", 0, at)
    return first


def prose_paragraphs(text: str) -> list[str]:
    """The paragraphs of plain prose, as docutils would split them, without running the parser."""
    chunks = re.split(r"\n[ \t]*\n", text.strip("\n"))
    return [
        paragraph
        for paragraph in ("\n".join(line.rstrip() for line in chunk.strip("\n").splitlines()) for chunk in chunks)
        if paragraph
    ]


def prose(text: str) -> list[nodes.Node]:
    """Plain prose as paragraph nodes."""
    return [nodes.paragraph(paragraph, paragraph) for paragraph in prose_paragraphs(text)]


def parse_item_text(state: RSTState, text: str, source: str, line: int) -> nodes.container:
    """Parse one field of item text into a container, with the item's file and line for messages.

    Plain prose (most requirement text) skips the parser: it can hold no markup at all.
    """
    container = nodes.container(classes=[TEXT_CLASS])
    if is_prose(text):
        container.extend(prose(text))
        return container
    lines = text.splitlines()
    content = StringList(lines, items=[(source, line - 1 + index) for index in range(len(lines))])
    with _restricted(state.document.settings, source, line):
        container.extend(_parse_apart(state.document, content, source))
    strip_unsafe_links(container, source, line, text)
    return container


def _parse_apart(page: nodes.document, content: StringList, source: str) -> list[nodes.Node]:
    """Parse one item's text as a document of its own, then hand its nodes to the page.

    Its link targets (``.. _rustdoc: URL``), footnotes and substitutions are its own, so two
    items may use the same name for different things; and every message docutils or Sphinx
    gives about it (at parse time, or later at a reference it holds) is placed through the
    text's own lines, that is at the item's file and line.
    """
    document = new_document(source, page.settings)
    document.reporter = LoggingReporter.from_reporter(page.reporter)
    document.ids, document.id_counter = page.ids, page.id_counter  # ids stay unique on the page
    parse_apart(document, content)
    children = list(document.children)
    document.clear()
    for child in children:
        child.parent = None
    return children
