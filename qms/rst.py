"""Item text through docutils, with item text's restrictions: the parse ``qms check`` (rule Q009) and the site share.

The site parses item text inside Sphinx; ``qms check`` parses it with docutils alone, and so
stands in for what only Sphinx knows (its directives and roles) without judging it: a check
may miss what only Sphinx reports, but never reports what the site accepts. docutils is loaded
only when some text holds markup, so the core imports this module only where it is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from docutils import frontend, nodes
from docutils.parsers.rst import Directive, Parser, directives, roles
from docutils.parsers.rst.states import RSTStateMachine, state_classes
from docutils.statemachine import StringList
from docutils.transforms import references
from docutils.utils import Reporter, new_document

from qms.markup import (
    ALLOWED_DIRECTIVES,
    ALLOWED_ROLES,
    CODE_DIRECTIVES,
    ITEM_ROLES,
    is_safe_uri,
    option_refusal,
    refused_directive,
    refused_link,
    refused_role,
)

#: docutils' own resolution of the links, footnotes and substitutions a text defines for itself.
OWN_REFERENCES = (
    references.Substitutions,
    references.PropagateTargets,
    references.AnonymousHyperlinks,
    references.IndirectHyperlinks,
    references.Footnotes,
    references.ExternalTargets,
    references.InternalTargets,
    references.DanglingReferences,
)


def parse_apart(
    document: nodes.document, content: StringList, machine: RSTStateMachine | None = None, *, references: bool = True
) -> None:
    """Parse one text into a document of its own (no section titles), and resolve its own references.

    ``machine``: a state machine to use again (making one is half the cost of parsing a short text);
    ``references`` False: the text has none to resolve (a quarter of the cost).
    """
    machine = machine or RSTStateMachine(state_classes, "Body", document.reporter.debug_flag)
    machine.run(content, document, match_titles=False)
    if references:
        document.transformer.add_transforms(list(OWN_REFERENCES))
        document.transformer.apply_transforms()


def holds_references(text: str) -> bool:
    """Whether a text may hold what :data:`OWN_REFERENCES` resolve: every hyperlink reference and target,
    footnote, citation and substitution is written with one of ``_``, ``[`` and ``|``."""
    return "_" in text or "[" in text or "|" in text


def options_refusal(directive: Directive) -> str | None:
    """Why a directive's options ask for more than item text may (rule Q011 says so), or None."""
    lines = len(directive.content)
    for option, value in directive.options.items():
        written = " ".join(map(str, value)) if isinstance(value, list) else "" if value is None else str(value)
        refusal = option_refusal(directive.name, option, written, lines)
        if refusal is not None:
            return refusal
    return None


@dataclass(frozen=True, slots=True)
class TextProblem:
    """A markup error in a text: its line within the text (1 for the first) and what docutils says."""

    line: int
    message: str


@dataclass(frozen=True, slots=True)
class ItemReference:
    """An ``:item:`` role in a text: its line within the text and the id it names, as written."""

    line: int
    target: str
    written: str = ""


@dataclass(slots=True)
class TextReading:
    """What one parse of a text found: its markup errors and the item ids its ``:item:`` roles name."""

    problems: list[TextProblem] = field(default_factory=list)
    references: list[ItemReference] = field(default_factory=list)


@lru_cache(maxsize=4096)
def read_text(text: str) -> tuple[tuple[TextProblem, ...], tuple[ItemReference, ...]]:
    """The markup errors of a text (warnings and worse, as the site reports them) and its item references.

    Texts repeat (templates, copied requirements): each is parsed once.
    """
    reading = TextReading()
    document = new_document("item text", _settings())
    document.reporter.attach_observer(lambda message: _note(reading, message))
    with _dispatching(reading):
        content = StringList(text.splitlines(), "item text")
        parse_apart(document, content, _machine(), references=holds_references(text))
    for reference in document.findall(nodes.reference):
        uri = reference.get("refuri")
        if uri is not None and not is_safe_uri(uri):
            reading.problems.append(TextProblem(_line(reference), refused_link(uri)))
    problems = _one_per_mistake(sorted(set(reading.problems), key=lambda problem: problem.line))
    return problems, tuple(_on_own_line(text, reference) for reference in reading.references)


def _on_own_line(text: str, reference: ItemReference) -> ItemReference:
    """The reference at the line it is written on (docutils gives a role its paragraph's first line)."""
    paragraph = 0
    for _ in range(reference.line - 1):
        paragraph = text.find("\n", paragraph) + 1
    found = text.find(reference.written, paragraph) if reference.written else -1
    line = text.count("\n", 0, found) + 1 if found >= 0 else reference.line
    return ItemReference(line, reference.target, reference.written)


#: What docutils says where an indented block it did not expect ends: the end of the same mistake.
_INDENTATION, _INDENTATION_ENDS = "Unexpected indentation", "Block quote ends without a blank line"


def _one_per_mistake(problems: list[TextProblem]) -> tuple[TextProblem, ...]:
    """The problems, without the second message docutils gives about the same unexpected indentation."""
    kept: list[TextProblem] = []
    for problem in problems:
        if not (kept and kept[-1].message.startswith(_INDENTATION) and problem.message.startswith(_INDENTATION_ENDS)):
            kept.append(problem)
    return tuple(kept)


#: What to do about docutils' commonest complaints, by the start of the message.
_ADVICE = {
    "Inline emphasis start-string": "close it, or write \\* for a plain asterisk",
    "Inline strong start-string": "close it, or write \\* for a plain asterisk",
    "Inline literal start-string": "close it with ``, or write \\` for a plain backquote",
    "Inline interpreted text or phrase reference start-string": "close it, or write \\` for a plain backquote",
    "Inline substitution_reference start-string": "close it, or write \\| for a plain bar",
    "Unexpected section title": "item text has no sections: use `.. rubric:: Title` or **bold** text",
    "Unknown target name": "define it in the same text (`.. _name: https://...`) or write the link inline",
    "Undefined substitution referenced": "define it in the same text, or write \\| for a plain bar",
    "Unexpected indentation": "indent only what belongs to a list, a block or a directive",
    "Block quote ends without a blank line": "leave a blank line after the indented block",
    "Bullet list ends without a blank line": "leave a blank line after the list",
    "Enumerated list ends without a blank line": "leave a blank line after the list",
    "Definition list ends without a blank line": "leave a blank line after it, or do not indent the line before",
    "Explicit markup ends without a blank line": "leave a blank line after the directive's content",
}


def _note(reading: TextReading, message: nodes.system_message) -> None:
    if message["level"] >= Reporter.WARNING_LEVEL:
        said = message.children[0].astext() if message.children else message.astext()  # without the quoted source
        said = " ".join(said.split())
        advice = next((advice for start, advice in _ADVICE.items() if said.startswith(start)), None)
        reading.problems.append(
            TextProblem(message.get("line") or 1, f"{said.rstrip('.')}: {advice}" if advice else said)
        )


def _line(node: nodes.Node) -> int:
    """The line of a node, or of the nearest element around it that knows its line (inline nodes do not)."""
    current: nodes.Node | None = node
    while current is not None:
        if current.line:
            return current.line
        current = current.parent
    return 1


@cache
def _machine() -> RSTStateMachine:
    """The state machine every text of a check is parsed with, one after the other."""
    return RSTStateMachine(state_classes, "Body")


@cache
def _settings() -> Any:
    """docutils' settings as the site parses item text: no raw HTML, no files, code not highlighted, quiet."""
    settings = frontend.get_default_settings(Parser)
    settings.raw_enabled = settings.file_insertion_enabled = False
    settings.syntax_highlight = "none"  # the site highlights with its own lexers: a language is not judged here
    settings.smart_quotes = False
    settings.report_level = settings.halt_level = Reporter.SEVERE_LEVEL + 1
    settings.warning_stream = False
    return settings


class _AnyOption(dict[str, Callable[[str], Any]]):
    """An option table that takes an option it does not know as written: Sphinx's options are not judged here."""

    def __missing__(self, name: str) -> Callable[[str], Any]:
        return directives.unchanged

    def __bool__(self) -> bool:
        return True


class _SphinxDirective(Directive):
    """Stands in for a directive only Sphinx knows (``code-block``, ``seealso``, ``hlist``...):
    takes any argument and option, and checks its content unless that is code."""

    has_content = True
    optional_arguments = 100
    final_argument_whitespace = True
    option_spec = _AnyOption()

    def run(self) -> list[nodes.Node]:
        if self.name.lower() in CODE_DIRECTIVES or not self.content:
            return []
        container = nodes.container()
        self.state.nested_parse(self.content, self.content_offset, container)
        return [container]


class _RefusedDirective(_SphinxDirective):
    """Stands in for a directive item text may not use: reports it."""

    def run(self) -> list[nodes.Node]:
        return [self.reporter.warning(refused_directive(self.name), line=self.lineno)]


@cache
def _lenient(directive_class: type[Directive]) -> type[Directive]:
    """The directive taking options it does not know (Sphinx's own version may know them), and left out
    without a word when an option is beyond its bound (rule Q011 says so once)."""

    class Lenient(directive_class):  # type: ignore[misc,valid-type]  # a class chosen at run time
        option_spec = _AnyOption(directive_class.option_spec or {})

        def run(self) -> Sequence[nodes.Node]:
            if options_refusal(self) is not None:
                return []
            return list(super().run())

    Lenient.__name__ = directive_class.__name__
    return Lenient


def _literal_role(
    name: str, rawtext: str, text: str, lineno: int, inliner: Any, options: Any = None, content: Any = None
) -> tuple[list[nodes.Node], list[nodes.system_message]]:
    """Stands in for a role only Sphinx knows (``ref``, ``doc``, ``kbd``...): accepted as written."""
    return [nodes.literal(rawtext, text)], []


@contextmanager
def _dispatching(reading: TextReading) -> Iterator[None]:
    """Look directives and roles up as the site does while one text is parsed: only those item text may use."""
    find_directive, find_role = directives.directive, roles.role

    def directive(
        directive_name: str, language_module: Any, document: nodes.document
    ) -> tuple[type[Directive] | None, list[nodes.system_message]]:
        if directive_name.lower() not in ALLOWED_DIRECTIVES:
            return _RefusedDirective, []
        found, messages = find_directive(directive_name, language_module, document)
        return _lenient(found if found is not None else _SphinxDirective), messages  # type: ignore[arg-type]  # classes hash

    def role(role_name: str, language_module: Any, lineno: int, reporter: Reporter) -> tuple[Any, list[Any]]:
        lowered = role_name.lower()
        if lowered not in ALLOWED_ROLES:
            return _refused_role, []
        if lowered in ITEM_ROLES:
            return _item_role(reading), []
        found, messages = find_role(role_name, language_module, lineno, reporter)
        return (found if found is not None else _literal_role), messages

    # docutils' own directives and roles only: inside a Sphinx build (the site's findings), those Sphinx
    # registered with docutils need the build's environment; set aside as Sphinx's own namespace does
    registered = vars(directives)["_directives"], vars(roles)["_roles"]  # lookup caches, private to docutils
    vars(directives)["_directives"], vars(roles)["_roles"] = {}, {}
    directives.directive, roles.role = directive, role  # as Sphinx's own dispatcher does
    try:
        yield
    finally:
        directives.directive, roles.role = find_directive, find_role
        vars(directives)["_directives"], vars(roles)["_roles"] = registered


def _refused_role(
    name: str, rawtext: str, text: str, lineno: int, inliner: Any, options: Any = None, content: Any = None
) -> tuple[list[nodes.Node], list[nodes.system_message]]:
    return [nodes.literal(rawtext, rawtext)], [inliner.reporter.warning(refused_role(name), line=lineno)]


def _item_role(reading: TextReading) -> Callable[..., tuple[list[nodes.Node], list[nodes.system_message]]]:
    """``:item:`` as the site reads it (``ID``, ``title <ID>``, ``!ID`` for no link), noting the id it names."""

    def item(
        name: str, rawtext: str, text: str, lineno: int, inliner: Any, options: Any = None, content: Any = None
    ) -> tuple[list[nodes.Node], list[nodes.system_message]]:
        written = nodes.unescape(text)
        if not written.startswith("!"):
            title, bracket, target = written.rpartition("<")
            target = target.removesuffix(">") if bracket and title and written.endswith(">") else written
            reading.references.append(ItemReference(lineno, target.strip(), rawtext))
        return [nodes.literal(rawtext, written)], []

    return item
