"""The document set of the technical file: what each document is, and its source from a template.

Each document is rendered from a Jinja template (``<docname>.rst.jinja``) into reStructuredText
that uses the extension's directives for everything that comes from the project. A project
overrides a template by putting one of the same name in its templates folder (``templates:``
in ``qms.yaml``, default ``_templates``); ``{% extends "default/<name>" %}`` reuses the shipped
one and replaces only some of its blocks.

Values written into a template with ``{{ ... }}`` are escaped for reStructuredText, so text
from ``qms.yaml`` or item files reads as text and never as markup; a value written as an inline
literal (two backquotes around it) is shown as a literal of that text.
"""

from __future__ import annotations

import contextlib
import difflib
import functools
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
import jinja2.ext

from qms import __version__
from qms.approvals import DocumentState, templates_named
from qms.clauses import ClauseTable
from qms.documents import DOCUMENT_GROUPS as DOCUMENT_GROUPS
from qms.documents import DOCUMENTS as DOCUMENTS
from qms.documents import FRONT_PAGE as FRONT_PAGE
from qms.documents import HOME as HOME
from qms.documents import TEMPLATE_SUFFIX as TEMPLATE_SUFFIX
from qms.documents import DocumentSpec as DocumentSpec
from qms.documents import default_templates as default_templates
from qms.documents import document_id as document_id
from qms.documents import document_of as document_of
from qms.documents import document_spec as document_spec
from qms.lifecycle import closing_reviews, design_stages, problem_trend
from qms.matrix import natural_key
from qms.model import Item, Project
from qms.parsecache import code_digest
from qms.plans import plan_variables
from qms.regulatory import regulatory_variables, revision_text
from qms.risk_file import RiskFile, risk_file
from qms.schema import ID_PATTERN, KINDS
from qms.sphinx.views.build import BuildData, natural_sorted
from qms.sphinx.views.summaries import rule_prefixes
from qms.sphinx.views.tables import table_query
from qms.status import compute_statuses

# ------------------------------------------------------------------------------ escaping


class Rst(str):
    """Text that is already reStructuredText: written into a document as it is."""


#: Each character inline reStructuredText may read as markup, written after a backslash.
_ESCAPED = str.maketrans({character: "\\" + character for character in "\\`*_|[]<>:~#=+^'\"!$%&(),./;?@{}-"})


def escape(text: str) -> str:
    """Text made safe for inline reStructuredText: one line, every markup character escaped."""
    return " ".join(str(text).split()).translate(_ESCAPED)


def literal(text: Any) -> Rst:
    """Text as an inline literal: the ``:literal:`` role reads escapes, where two backquotes would show them."""
    escaped = escape("" if text is None else str(text))
    return Rst(f":literal:`{escaped}`" if escaped else "")


#: ``{{ value }}`` written alone between two backquotes: a literal, where escapes would show.
_LITERAL_VALUE = re.compile(r"``\{\{(.+?)\}\}``")


class _LiteralValues(jinja2.ext.Extension):
    """Writes a value shown as an inline literal through :func:`literal`, in every template."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return _LITERAL_VALUE.sub(r"{{ (\1)|literal }}", source)


def _finalize(value: Any) -> Any:
    """Jinja's last step for ``{{ value }}``: escape everything but :class:`Rst`."""
    if isinstance(value, Rst):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return escape("" if value is None else str(value))


_UNDERLINES = {0: "=", 1: "=", 2: "-", 3: "~", 4: "^"}


def heading(text: str, level: int = 2, label: str | None = None) -> Rst:
    """A section heading (level 1 the document title); ``label`` adds a stable anchor before it."""
    escaped = escape(text)
    line = _UNDERLINES[level] * max(len(escaped), 4)
    head = f"{line}\n{escaped}\n{line}" if level == 0 else f"{escaped}\n{line}"
    if label:
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", label):
            raise ValueError(f"heading label {label!r}: use lowercase letters, digits and '-'")
        head = f".. _{label}:\n\n{head}"
    return Rst(f"\n{head}")  # a blank line first: a heading never glues to the text before it


def item_id(value: str) -> Rst:
    """An item id for a directive argument; refuses anything that is not a valid id."""
    if not ID_PATTERN.fullmatch(value):
        raise ValueError(f"not an item id: {value!r}")
    return Rst(value)


# ------------------------------------------------------------------------------ grouping


@dataclass(frozen=True, slots=True)
class Group:
    """Items shown together under one heading of a document."""

    title: str
    source: str  # the file the items come from, or "" when grouped by a field
    ids: tuple[str, ...]


def _humanize(stem: str) -> str:
    words = stem.replace("_", " ").replace("-", " ").strip()
    return words[:1].upper() + words[1:]


def groups_by_file(items: Iterable[Item], file_titles: Mapping[str, str]) -> list[Group]:
    """Items grouped by their file (files in path order, items in file order).

    A group's title is its file's own ``title:``, else the title of its items' kind; a file name
    is added only where that leaves two groups with the same title.
    """
    by_file: dict[str, list[Item]] = {}
    for item in items:
        if ID_PATTERN.fullmatch(item.id):
            by_file.setdefault(item.file, []).append(item)
    titles = {
        file: file_titles.get(file) or (KINDS[group[0].kind].title if group[0].kind in KINDS else group[0].kind)
        for file, group in by_file.items()
    }
    shared = [title for title in titles.values()]
    return [
        Group(
            titles[file] if shared.count(titles[file]) == 1 else f"{titles[file]} ({Path(file).name})",
            file,
            tuple(item.id for item in by_file[file]),
        )
        for file in sorted(by_file)
    ]


def groups_by_field(
    items: Iterable[Item],
    name: str,
    order: tuple[str, ...] = (),
    other: str = "Other",
    named: Mapping[str, Item] | None = None,
) -> list[Group]:
    """Items grouped by a field's value (``order`` first, then alphabetical, items without it last).

    An item whose field holds a list (a link field: the software item a unit is part of) is listed
    under each of its entries. A value that is the id of one of the ``named`` items (the project's)
    is headed by that id and the item's title, and such values are in natural id order."""
    by_value: dict[str, list[Item]] = {}
    for item in items:
        if not ID_PATTERN.fullmatch(item.id):
            continue
        value = item.get(name)
        if isinstance(value, (list, tuple)):
            entries = [str(entry) for entry in value if entry not in (None, "")]
        else:
            entries = [str(value)] if value else []
        for entry in dict.fromkeys(entries) or [""]:
            by_value.setdefault(entry, []).append(item)
    known = named if named is not None else {}
    values = [value for value in order if value in by_value]
    rest = [value for value in by_value if value not in values and value]
    values += sorted(rest, key=lambda value: (value in known, natural_key(value) if value in known else (value,)))
    if "" in by_value:
        values.append("")
    return [
        Group(
            _group_title(value, known) if value else other,
            "",
            tuple(item.id for item in natural_sorted(by_value[value])),
        )
        for value in values
    ]


def _group_title(value: str, named: Mapping[str, Item]) -> str:
    """A group's heading: an item's id and title where the value names one, else the value in words."""
    item = named.get(value)
    return f"{value} {item.title}".strip() if item is not None else _humanize(value)


# ------------------------------------------------------------------------------ templates


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept between builds, so that a rebuild does not compile every template
    again. Jinja finds one by the template's name and file and uses it only for the same source;
    the key adds what compiled it besides (``compiler``, asked for each template), and Jinja's version."""

    def __init__(self, directory: str, compiler: Callable[[], str]) -> None:
        super().__init__(directory)
        self.compiler = compiler

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        compiler = f"{jinja2.__version__}\0{self.compiler()}\0".encode()
        return hashlib.sha256(compiler + super().get_cache_key(name, filename).encode()).hexdigest()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with contextlib.suppress(OSError):  # a full or read-only disk compiles again next time
            super().dump_bytecode(bucket)


def compiled_templates(folder: Path | None, compiler: Callable[[], str] | None = None) -> jinja2.BytecodeCache | None:
    """The cache of compiled templates in ``folder`` (made if needed); None without one or where it cannot be made.

    ``compiler`` names what compiles them besides Jinja (what sets the environment's options and
    preprocessing): by default the code of qms, whose environment (:func:`template_environment`)
    is defined here."""
    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return _CompiledTemplates(str(folder), compiler or (lambda: code_digest().hex()))


#: The options of a Jinja environment that change the code it compiles a template to.
_COMPILING_OPTIONS = (
    "block_start_string",
    "block_end_string",
    "variable_start_string",
    "variable_end_string",
    "comment_start_string",
    "comment_end_string",
    "line_statement_prefix",
    "line_comment_prefix",
    "trim_blocks",
    "lstrip_blocks",
    "newline_sequence",
    "keep_trailing_newline",
    "optimized",
    "is_async",
)


def compiling_options(environment: jinja2.Environment) -> str:
    """What of ``environment`` decides the code a template compiles to: its syntax and whitespace
    options, its extensions, and how it escapes and finalizes what it writes (functions by name)."""

    def named(value: object) -> str:
        if value is None or isinstance(value, bool):
            return repr(value)
        return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', type(value).__qualname__)}"

    options = [repr(getattr(environment, name, None)) for name in _COMPILING_OPTIONS]
    return "\0".join(
        [*options, *sorted(environment.extensions), named(environment.autoescape), named(environment.finalize)]
    )


def template_environment(user_folder: Path | None, compiled: Path | None = None) -> jinja2.Environment:
    """Jinja with the project's templates first, the shipped ones second (and as ``default/...``);
    ``compiled``: the folder where compiled templates are kept between builds."""
    shipped = jinja2.FileSystemLoader(str(default_templates()))
    loaders: list[jinja2.BaseLoader] = []
    if user_folder is not None and user_folder.is_dir():
        loaders.append(jinja2.FileSystemLoader(str(user_folder)))
    loaders += [shipped, jinja2.PrefixLoader({"default": shipped})]
    environment = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        autoescape=False,  # escaping is reStructuredText's, done by finalize
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=[_LiteralValues],
        bytecode_cache=compiled_templates(compiled),
    )
    environment.filters["id"] = item_id
    environment.filters["literal"] = literal
    environment.filters["rst"] = Rst  # for template authors: trust this value as markup
    return environment


@dataclass(frozen=True)
class TemplateContext:
    """What a template sees, besides its document: the build's data and a few helpers."""

    data: BuildData
    clauses: ClauseTable
    documents: tuple[DocumentSpec, ...]
    user_pages: tuple[str, ...]

    @functools.cached_property
    def risk(self) -> RiskFile:
        """The risk file the risk management documents are written from, computed once per build."""
        return risk_file(self.data.project, self.data.statuses)

    def variables(self, spec: DocumentSpec) -> dict[str, Any]:
        project = self.data.project
        config = project.config
        prefix = self.data.document_prefix
        edition = self.data.edition
        safety_class = config.safety_class

        def required(*numbers: str, standard: str = "iec62304") -> bool:
            """Whether any of the clauses applies to the device's class (unknown clauses: required)."""
            found = [self.clauses.find(standard, number) for number in numbers]
            return any(clause is None or clause.applies(safety_class, edition) for clause in found)

        statuses = self.data.statuses or compute_statuses(project, self.data.evidence)
        return {
            "doc": spec,
            "document_id": document_id(spec, prefix),
            "documents": self.documents,
            "document_groups": DOCUMENT_GROUPS,
            "device": config.device,
            "safety_class": safety_class,
            "edition": edition,
            "project": project,
            "kinds": KINDS,
            "counts": self.data.answer(("counts",)),
            "items": lambda *kinds: tuple(item for item in project.of_kind(*kinds) if ID_PATTERN.fullmatch(item.id)),
            "groups_by_file": lambda *kinds: groups_by_file(project.of_kind(*kinds), project.file_titles),
            "groups_by_field": lambda kinds, name, order=(), other="Other": groups_by_field(
                project.of_kind(*((kinds,) if isinstance(kinds, str) else kinds)),
                name,
                tuple(order),
                other,
                project.items,
            ),
            "required": required,
            "clause": lambda number, standard="iec62304": self.clauses.find(standard, number),
            "heading": heading,
            "has_evidence": self.data.evidence is not None,
            "findings": self.data.findings,
            "user_pages": self.user_pages,
            "qms_version": __version__,
            "previous_release": config.previous_release,
            "no_baseline": config.no_baseline,
            "design_stages": [(stage, closing_reviews(project, stage.name)) for stage in design_stages(config)],
            "problem_trend": problem_trend(project.of_kind("problem_report")),
            **plan_variables(project, statuses, self.states()),
            **regulatory_variables(project, self.revisions(), self.states, prefix),
            "risk": self.risk,
        }

    def states(self) -> Mapping[str, DocumentState]:
        """Every document's approval state (computed once per build)."""
        states: Mapping[str, DocumentState] = self.data.answer(("document-states",))
        return states

    def revisions(self) -> dict[str, str]:
        """Each document's revision as cited by the GSPR checklist, from its approval state."""
        states = self.states()
        return {doc_id: revision_text(state.status, state.revision) for doc_id, state in states.items()}


class TemplateError(Exception):
    """A template could not be rendered: the message names the template, line and problem."""


_DIRECTIVE = re.compile(r"^\s*\.\. qms:(table|findings)::")
_OPTION = re.compile(r"^\s+:([a-z-]+):\s*(.*?)\s*$")
_EXTENDS = re.compile(r"""{%-?\s*extends\s+["']([^"']+)["']""")
_COMMENT = re.compile(r"{#.*?#}", re.DOTALL)


def directive_options(source: str) -> list[tuple[int, str, dict[str, str]]]:
    """The ``qms:table`` and ``qms:findings`` directives written in a template: (line, name, options).

    Options holding Jinja (``{{``, ``{%``) are left out: their value is known only when rendered,
    and the directive checks it then.
    """
    found: list[tuple[int, str, dict[str, str]]] = []
    lines = source.splitlines()
    for index, line in enumerate(lines):
        directive = _DIRECTIVE.match(line)
        if directive is None:
            continue
        options: dict[str, str] = {}
        for option_line in lines[index + 1 :]:
            option = _OPTION.match(option_line)
            if option is None:
                break
            if "{{" not in option.group(2) and "{%" not in option.group(2):
                options[option.group(1)] = option.group(2)
        found.append((index + 1, directive.group(1), options))
    return found


def check_template(environment: jinja2.Environment, name: str, root: Path | None = None) -> None:
    """Refuse a template (and the templates it extends) whose tables or findings can never match.

    A filter naming no field, or a value its field never takes, would show "No items match"
    whatever the records say; the message names the template file (relative to ``root`` when
    inside it) and line.
    """
    seen: set[str] = set()
    while name and name not in seen:
        seen.add(name)
        assert environment.loader is not None
        source, filename, _uptodate = environment.loader.get_source(environment, name)
        source = _COMMENT.sub(lambda comment: "\n" * comment.group(0).count("\n"), source)
        for line, directive, options in directive_options(source):
            try:
                if directive == "table":
                    table_query(options.get("kind", ""), options.get("filter", ""), options.get("columns", "id,title"))
                else:
                    rule_prefixes(options.get("rules", ""))
            except ValueError as error:
                raise TemplateError(f"{_shown(filename, root) or name}:{line}: qms:{directive}: {error}") from None
        extends = _EXTENDS.search(source)
        name = extends.group(1) if extends else ""


def _shown(filename: str | None, root: Path | None) -> str | None:
    if filename is None or root is None or not Path(filename).is_relative_to(root):
        return filename
    return Path(filename).relative_to(root).as_posix()


def render_document(environment: jinja2.Environment, context: TemplateContext, spec: DocumentSpec) -> str:
    """The reStructuredText of one document, from its template (checked first, see :func:`check_template`)."""
    try:
        check_template(environment, spec.template, context.data.project.root)
        template = environment.get_template(spec.template)
        return template.render(context.variables(spec))
    except jinja2.TemplateSyntaxError as error:
        raise TemplateError(f"{error.filename or error.name}:{error.lineno}: {error.message}") from None
    except jinja2.TemplateNotFound as error:
        raise TemplateError(
            f"template {error.name} not found (looked in the project's templates folder and qms's own)"
        ) from None
    except (jinja2.UndefinedError, ValueError, TypeError, KeyError) as error:
        raise TemplateError(f"{spec.template}{_template_line(error)}: {error}") from None


def _template_line(error: BaseException) -> str:
    """The template line where rendering failed, from the traceback Jinja rewrote."""
    line = ""
    traceback = error.__traceback__
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename.endswith(TEMPLATE_SUFFIX):
            line = f":{traceback.tb_lineno}"
        traceback = traceback.tb_next
    return line


def unused_templates(project: Project, user_folder: Path) -> list[tuple[Path, str | None]]:
    """The templates of the project's folder that nothing uses: not named as a shipped template (a
    document's, or a part the shipped ones extend, which they then take) and named by no template
    of the folder (:func:`qms.approvals.templates_named`); each with the shipped name it is closest
    to (a misspelt override), if any."""
    shipped = sorted(path.name for path in default_templates().glob(f"*{TEMPLATE_SUFFIX}"))
    try:
        own = sorted(user_folder.rglob(f"*{TEMPLATE_SUFFIX}")) if user_folder.is_dir() else []
    except OSError:
        return []
    sources: dict[str, str] = {}
    for path in own:
        with contextlib.suppress(OSError):
            sources[path.relative_to(user_folder).as_posix()] = path.read_text(encoding="utf-8", errors="replace")
    named = templates_named(project, sources)
    unused = []
    for path in own:
        name = path.relative_to(user_folder).as_posix()
        if name in shipped or name in named:
            continue
        close = difflib.get_close_matches(name, shipped, n=1, cutoff=0.8)
        unused.append((path, close[0] if close else None))
    return unused


def render_all(
    context: TemplateContext, user_folder: Path | None, skip: Callable[[str], bool], compiled: Path | None = None
) -> dict[str, str]:
    """Every document's source (the front page too) except those ``skip`` names (``compiled``: see
    :func:`template_environment`)."""
    environment = template_environment(user_folder, compiled)
    sources = {}
    for spec in (FRONT_PAGE, *context.documents):
        if not skip(spec.docname):
            sources[spec.docname] = render_document(environment, context, spec)
    return sources
