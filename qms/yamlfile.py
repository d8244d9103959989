"""Reading YAML safely, with the location of every node.

libyaml's parser (PyYAML's C binding) turns the text into events; :func:`compose` builds the
node tree from them itself, without recursion and with limits, so that no input can crash the
process (libyaml's own composer overflows the C stack on deeply nested input). Converting
nodes to plain values refuses what must not pass silently: duplicate keys (Q004), object-building
tags, recursive aliases and alias bombs (Q001). Nothing here knows about item kinds.
"""

from __future__ import annotations

import bisect
import gc
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from qms.elements import Finding, Location, Severity
from qms.terminal import excerpt

try:  # libyaml's parser is many times faster than PyYAML's; fall back where it is missing
    _Parser: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Parser = yaml.SafeLoader


def load_shipped(text: str) -> Any:
    """The data of a YAML file shipped with qms (trusted, and of a known depth), read with libyaml's
    loader where PyYAML has it; a project's files go through :func:`read_yaml`, which bounds them."""
    return yaml.load(text, Loader=_Parser)


STR = "tag:yaml.org,2002:str"
NULL = "tag:yaml.org,2002:null"
MAP = "tag:yaml.org,2002:map"
SEQ = "tag:yaml.org,2002:seq"
BOOL = "tag:yaml.org,2002:bool"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
TIMESTAMP = "tag:yaml.org,2002:timestamp"
MERGE = "tag:yaml.org,2002:merge"
_SCALAR_TAGS = frozenset({STR, NULL, BOOL, INT, FLOAT, TIMESTAMP})
#: YAML 1.1 implicit types of plain scalars, by first character (PyYAML's own patterns)
_IMPLICIT: dict[str, list[tuple[str, re.Pattern[str]]]] = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag in _SCALAR_TAGS or tag == MERGE]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_CONSTRUCTOR = yaml.constructor.SafeConstructor()

#: deeper nesting than this is refused (item files nest four or five levels)
MAX_DEPTH = 100
#: larger files are refused: an item file of 10 MB holds some 30,000 items; split larger ones
MAX_FILE_BYTES = 10 * 1024 * 1024
#: more YAML values than this in one file are refused (bounds the memory one file can take)
MAX_NODES = 1_000_000
#: a plain scalar longer than this is text, never a number: converting a 5,000-digit number
#: fails (Python's integer digit limit), and a long sexagesimal one (1:1:1:...) takes quadratic time
MAX_NUMBER_LENGTH = 100


#: whether the heap is frozen by :func:`freeze_heap` (a build freezes what it holds): known here
#: because asking the collector (``gc.get_freeze_count``) walks every frozen object, some 30 ms for
#: a build's millions, and a build's history pass parses hundreds of file versions
_heap_frozen = False


def freeze_heap() -> None:
    """Move every object the collector tracks to the permanent generation (``gc.freeze``)."""
    global _heap_frozen
    gc.freeze()
    _heap_frozen = True


def unfreeze_heap() -> None:
    """Give the frozen objects back to the collector (``gc.unfreeze``)."""
    global _heap_frozen
    gc.unfreeze()
    _heap_frozen = False


@contextmanager
def collection_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a large tree of nodes or items is built.

    Loading allocates hundreds of thousands of objects and no reference cycles worth
    collecting; left on, the collector re-scans the growing heap again and again and takes
    most of the loading time of a large project. On the way out, what was built moves
    straight to the oldest generation (freeze, then unfreeze), so that the first collections
    after the pause do not scan it all either; where objects were frozen already (a build freezes
    what it holds, :mod:`qms.sphinx.memory`), what was built stays frozen with them, for whoever
    froze them to unfreeze. The previous state is restored.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            frozen = _heap_frozen or gc.get_freeze_count()  # the count only where nobody said: 0 costs nothing
            gc.freeze()
            if not frozen:
                gc.unfreeze()
            gc.enable()


def position(node: yaml.Node) -> tuple[int, int]:
    """1-based (line, column) of a node's start."""
    mark = node.start_mark
    return mark.line + 1, mark.column + 1


class _Refused(Exception):
    """The text cannot be composed into nodes; carries the finding's message and mark."""

    def __init__(self, message: str, mark: Any) -> None:
        super().__init__(message)
        self.message = message
        self.mark = mark


def _plain_tag(value: str) -> str:
    """The implicit tag of a plain scalar: null, bool, int, float, timestamp, str, or merge (``<<``,
    which only a key can be)."""
    if len(value) > MAX_NUMBER_LENGTH:  # longer than any null, bool, number or date
        return STR
    for tag, pattern in _IMPLICIT.get(value[:1], ()):
        if pattern.match(value):
            return tag
    return STR


def compose(text: str | bytes) -> list[yaml.Node]:
    """The root node of each YAML document in ``text`` (str, or bytes in UTF-8).

    Raises :class:`_Refused` for what cannot become a tree (nesting deeper than
    :data:`MAX_DEPTH`, an alias to no anchor or to a collection that contains it), and PyYAML's
    errors for invalid YAML.
    """
    scalar_event, alias_event = yaml.ScalarEvent, yaml.AliasEvent
    sequence_start, mapping_start = yaml.SequenceStartEvent, yaml.MappingStartEvent
    scalar_node, sequence_node, mapping_node = yaml.ScalarNode, yaml.SequenceNode, yaml.MappingNode
    implicit = _IMPLICIT
    parser = _Parser(text)
    roots: list[yaml.Node] = []
    anchors: dict[str, yaml.Node] = {}
    #: the open collections, outermost first: (node, its children so far; keys and values alternate)
    stack: list[tuple[yaml.Node, list[yaml.Node]]] = []
    children: list[yaml.Node] | None = None  # of the innermost open collection
    in_mapping = False
    root: yaml.Node | None = None
    node: yaml.Node
    count = 0  # values composed so far
    #: the implicit tag of each plain scalar met so far (keys and short values repeat, item after item)
    plain_tags: dict[str, str] = {}
    try:
        while True:
            event = parser.get_event()
            kind = type(event)
            if kind is scalar_event or kind is sequence_start or kind is mapping_start:
                count += 1
                if count > MAX_NODES:
                    message = f"the file holds more than {MAX_NODES:,} YAML values: split it into several files"
                    raise _Refused(message, event.start_mark)
            if kind is scalar_event:
                tag = event.tag
                if tag is None or tag == "!":
                    tag = STR
                    if event.implicit[0] and event.value[:1] in implicit:
                        tag = plain_tags.get(event.value) or plain_tags.setdefault(event.value, _plain_tag(event.value))
                        if tag == MERGE and not (in_mapping and len(children) % 2 == 0):  # type: ignore[arg-type]
                            tag = STR  # << is a merge key only as a key
                node = scalar_node(tag, event.value, event.start_mark, None, event.style)
                if event.anchor is not None:
                    anchors[event.anchor] = node
            elif kind is alias_event:
                found = anchors.get(event.anchor)
                if found is None:
                    raise _Refused(
                        f"alias *{event.anchor} names no anchor (&{event.anchor}) defined before it", event.start_mark
                    )
                if any(found is open_node for open_node, _ in stack):
                    raise _Refused(
                        f"alias *{event.anchor} refers to a collection that contains it (a recursive structure)",
                        event.start_mark,
                    )
                node = found
            elif kind is sequence_start or kind is mapping_start:
                if len(stack) >= MAX_DEPTH:
                    raise _Refused(f"data nested deeper than {MAX_DEPTH} levels: flatten it", event.start_mark)
                tag = event.tag
                in_mapping = kind is mapping_start
                if tag is None or tag == "!":
                    tag = MAP if in_mapping else SEQ
                node = (mapping_node if in_mapping else sequence_node)(
                    tag, [], event.start_mark, None, event.flow_style
                )
                if event.anchor is not None:
                    anchors[event.anchor] = node
                if children is not None:
                    children.append(node)
                else:
                    root = node
                children = []
                stack.append((node, children))
                continue
            elif kind is yaml.SequenceEndEvent or kind is yaml.MappingEndEvent:
                closed, closed_children = stack.pop()
                closed.end_mark = event.end_mark
                if kind is yaml.MappingEndEvent:
                    pairs = iter(closed_children)
                    closed.value = list(zip(pairs, pairs, strict=False))
                else:
                    closed.value = closed_children
                if stack:
                    children = stack[-1][1]
                    in_mapping = type(stack[-1][0]) is mapping_node
                else:
                    children, in_mapping = None, False
                continue
            elif kind is yaml.DocumentStartEvent:
                anchors, root = {}, None
                continue
            elif kind is yaml.DocumentEndEvent:
                if root is not None:
                    roots.append(root)
                continue
            elif kind is yaml.StreamEndEvent:
                return roots
            else:  # StreamStartEvent
                continue
            if children is not None:
                children.append(node)
            else:
                root = node
    finally:
        parser.dispose()


@dataclass
class YamlDocument:
    """A parsed file: its root node and what was wrong while reading it."""

    path: str  # relative to the project root, with /
    root: yaml.Node | None
    findings: list[Finding] = field(default_factory=list)
    #: how many nodes one plain value may expand to through aliases (bounds alias bombs)
    size_budget: int = 10_000
    _sizes: dict[int, int] = field(default_factory=dict, repr=False)
    _bombs: set[int] = field(default_factory=set, repr=False)

    def at(self, node: yaml.Node | None) -> Location:
        if node is None:
            return Location(self.path, 1, 1)
        return Location(self.path, *position(node))

    def report(self, rule: str, message: str, node: yaml.Node | None, item: str | None = None) -> None:
        self.findings.append(Finding(rule, Severity.ERROR, message, self.at(node), item))

    # ------------------------------------------------------------------ walking the node tree

    def allowed_tag(self, node: yaml.Node, item: str | None = None) -> bool:
        tag = node.tag
        if type(node) is yaml.ScalarNode:
            ok = tag in _SCALAR_TAGS
        elif type(node) is yaml.SequenceNode:
            ok = tag == SEQ
        else:
            ok = tag == MAP
        if not ok:
            self.report(
                "Q001",
                f"YAML tag {_short_tag(tag)} is not allowed: qms reads plain data only; remove the tag",
                node,
                item,
            )
        return ok

    def mapping(self, node: yaml.MappingNode, item: str | None = None) -> list[tuple[str, yaml.Node, yaml.Node]]:
        """(key, key node, value node) of a mapping, reporting duplicate and non-string keys.

        The first occurrence of a duplicated key wins; the later ones are reported (Q004).
        """
        seen: dict[str, yaml.Node] = {}
        entries: list[tuple[str, yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE:
                self.report("Q001", "merge keys (<<) are not supported: write the fields out", key_node, item)
                continue
            if type(key_node) is not yaml.ScalarNode or key_node.tag == NULL:
                self.report("Q002", "a mapping key must be a plain name", key_node, item)
                continue
            key = key_node.value
            first = seen.get(key)
            if first is not None:
                line, column = position(first)
                self.report(
                    "Q004",
                    f"duplicate key '{key}' (first at line {line}, column {column}); this value "
                    "would be silently dropped: keep one",
                    key_node,
                    item,
                )
                continue
            seen[key] = key_node
            entries.append((key, key_node, value_node))
        return entries

    def value(self, node: yaml.Node, item: str | None = None) -> Any:
        """A node as a plain Python value (str, int, float, bool, None, list, dict).

        Dates stay the text that was written. Refused parts (reported) become None. A value
        that aliases expand to more than :attr:`size_budget` nodes is refused whole, and each
        such expansion is reported once, at the anchor that blows up.
        """
        if self._size(node) > self.size_budget:
            culprit = self._culprit(node)
            if id(culprit) not in self._bombs:
                self._bombs.add(id(culprit))
                self.report(
                    "Q001",
                    "this value expands through aliases to far more nodes than the file holds (YAML alias "
                    "bomb?); write the data out instead of repeating it with anchors and aliases",
                    culprit,
                    item,
                )
            return None
        return self._value(node, item)

    def _value(self, node: yaml.Node, item: str | None) -> Any:
        if not self.allowed_tag(node, item):
            return None
        if type(node) is yaml.ScalarNode:
            try:
                return scalar(node)
            except ValueError as error:
                self.report("Q002", str(error), node, item)
                return None
        if type(node) is yaml.SequenceNode:
            return [self._value(child, item) for child in node.value]
        return {key: self._value(child, item) for key, _, child in self.mapping(node, item)}  # type: ignore[arg-type]

    def _size(self, node: yaml.Node) -> int:
        """How many nodes ``node`` stands for once aliases are expanded (memoised per node)."""
        known = self._sizes.get(id(node))
        if known is not None:
            return known
        if type(node) is yaml.ScalarNode:
            size = 1
        elif type(node) is yaml.SequenceNode:
            size = 1 + sum(self._size(child) for child in node.value)
        else:
            size = 1 + sum(self._size(key) + self._size(child) for key, child in node.value)
        self._sizes[id(node)] = size
        return size

    def _culprit(self, node: yaml.Node) -> yaml.Node:
        """The innermost node under ``node`` that alone exceeds the budget."""
        while True:
            children = node.value if type(node) is yaml.SequenceNode else [v for pair in node.value for v in pair]
            larger = next((child for child in children if self._size(child) > self.size_budget), None)
            if larger is None:
                return node
            node = larger


def scalar(node: yaml.ScalarNode) -> Any:
    """A scalar node's value with YAML's core types (dates kept as the text written).

    Raises ValueError, with a message for a person, for a value its explicit tag does not fit
    (``!!int abc``, ``!!bool maybe``) or a number too long to convert in bounded time.
    """
    tag = node.tag
    if tag in (STR, TIMESTAMP):
        return node.value
    shown = excerpt(node.value, 40)
    if tag in (INT, FLOAT) and len(node.value) > MAX_NUMBER_LENGTH:
        raise ValueError(
            f"{_short_tag(tag)} '{shown}' has more than {MAX_NUMBER_LENGTH} characters: "
            "remove the tag to keep it as text"
        )
    try:
        return _CONSTRUCTOR.construct_object(node)
    except (ValueError, LookupError, TypeError, ArithmeticError, yaml.YAMLError) as error:
        raise ValueError(f"'{shown}' is not a valid {_short_tag(tag)}: remove the tag or correct the value") from error


def text_of(node: yaml.Node) -> str | None:
    """The text a user wrote for a scalar (so ``version: 2.10`` stays "2.10"); None if empty."""
    if type(node) is not yaml.ScalarNode or node.tag == NULL:
        return None
    return str(node.value)


def _short_tag(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:") :] if tag.startswith("tag:yaml.org,2002:") else tag


def read_yaml(file: Path, path: str) -> YamlDocument:
    """Parse one YAML file into nodes; problems become Q001 findings, never exceptions."""
    data = file_bytes(file, path)
    return data if isinstance(data, YamlDocument) else parse_bytes(data, path)


def file_bytes(file: Path, path: str) -> bytes | YamlDocument:
    """The bytes of one YAML file, or the document of a file that is not read (its Q001 finding).

    The size is checked before reading, and at most one byte more than :data:`MAX_FILE_BYTES`
    is read: a huge (or sparse) file costs no memory. Only regular files are opened (a FIFO
    would block the check).
    """
    try:
        status = file.stat()
        if not stat.S_ISREG(status.st_mode):
            return _refused(path, "not a regular file: qms reads item files only")
        if status.st_size > MAX_FILE_BYTES:
            return _refused(path, _too_large(status.st_size))
        with file.open("rb") as stream:
            data = stream.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        return _refused(path, f"cannot read the file: {error.strerror or error}")
    return data


def _refused(path: str, message: str) -> YamlDocument:
    """A file that is not read: one Q001 finding at its start."""
    return YamlDocument(path, None, [Finding("Q001", Severity.ERROR, message, Location(path, 1, 1))])


def _too_large(size: int) -> str:
    megabytes = size / (1024 * 1024)
    return f"the file is {megabytes:.1f} MB; qms reads item files up to {MAX_FILE_BYTES // (1024 * 1024)} MB: split it"


def parse_yaml(text: str, path: str) -> YamlDocument:
    """Parse YAML text into a single document's node tree."""
    return parse_bytes(text.encode("utf-8", "surrogatepass"), path)


def parse_bytes(data: bytes, path: str) -> YamlDocument:
    """Parse the bytes of a UTF-8 YAML file (libyaml reads bytes fastest)."""
    if len(data) > MAX_FILE_BYTES:
        return _refused(path, _too_large(len(data)))
    document = YamlDocument(path, None, size_budget=len(data) + 10_000)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        if not data.isascii():  # ASCII is UTF-8; checking that allocates nothing
            data.decode("utf-8")
    except UnicodeDecodeError as error:
        message = f"the file is not UTF-8 (byte 0x{data[error.start]:02x} cannot be decoded); save it as UTF-8"
        document.findings.append(Finding("Q001", Severity.ERROR, message, _offset_location(data, error.start, path)))
        return document
    if b"\x00" in data:
        message = "the file holds a NUL character: it is not a text file"
        document.findings.append(
            Finding("Q001", Severity.ERROR, message, _offset_location(data, data.index(b"\x00"), path))
        )
        return document
    try:
        with collection_paused():
            nodes = compose(data)
    except _Refused as refused:
        document.findings.append(Finding("Q001", Severity.ERROR, refused.message, _mark_location(refused.mark, path)))
        return document
    except yaml.MarkedYAMLError as error:
        document.findings.append(_syntax_error(error, data, path))
        return document
    except yaml.reader.ReaderError as error:  # a character YAML does not allow
        character = error.character if isinstance(error.character, int) else ord(error.character)
        message = f"character U+{character:04X} is not allowed in YAML: remove it"
        document.findings.append(Finding("Q001", Severity.ERROR, message, _offset_location(data, error.position, path)))
        return document
    except yaml.YAMLError as error:  # pragma: no cover - every libyaml error is one of the above
        message = f"cannot parse the file: {error}".splitlines()[0]
        document.findings.append(Finding("Q001", Severity.ERROR, message, Location(path, 1, 1)))
        return document
    if not data.isascii() and _ODD_BREAKS.search(data):
        _renumber(nodes, data.decode("utf-8"))
    if len(nodes) > 1:
        document.report(
            "Q001", "the file holds several YAML documents (---); qms reads one per file: split it", nodes[1]
        )
    document.root = nodes[0] if nodes else None
    return document


#: line breaks to YAML 1.1 (and libyaml's line count) but not to git, editors and ``qms`` messages
_ODD_BREAKS = re.compile("[\x85\u2028\u2029]".encode())


def _renumber(roots: list[yaml.Node], text: str) -> None:
    """Give every node the line and column it has when only ``\\n`` ends a line.

    libyaml counts U+0085, U+2028 and U+2029 (allowed in quoted text) as line breaks, so its
    line numbers would disagree with the editor, and with ``git blame``'s lines for C501.
    """
    starts = [0] + [match.end() for match in re.finditer("\n", text)]
    seen: set[int] = set()
    pending = list(roots)
    while pending:
        node = pending.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        mark = node.start_mark
        line = bisect.bisect_right(starts, mark.index) - 1
        node.start_mark = yaml.Mark(mark.name, mark.index, line, mark.index - starts[line], None, 0)
        if type(node) is yaml.SequenceNode:
            pending += node.value
        elif type(node) is yaml.MappingNode:
            pending += [child for pair in node.value for child in pair]


#: what to do about libyaml's most common complaints
_SYNTAX_HINTS = {
    "mapping values are not allowed in this context": "check the indentation of this line, "
    "or quote a value that holds ': '",
    "could not find expected ':'": "a line above is not `key: value`, or is indented wrongly",
    "did not find expected key": "check the indentation of this line against the lines above",
    "did not find expected '-' indicator": "check the indentation of this list entry",
}


def _syntax_error(error: yaml.MarkedYAMLError, data: bytes, path: str) -> Finding:
    """A YAML syntax error as a finding, placed where the user has to look."""
    mark = error.problem_mark or error.context_mark
    if "exceeded maximum nesting depth" in (error.problem or ""):
        # libyaml 0.2.6 bounds nesting itself, while scanning, before qms's own bound is reached:
        # the same refusal, in the same words, whichever libyaml is installed
        return Finding(
            "Q001",
            Severity.ERROR,
            f"data nested deeper than {MAX_DEPTH} levels: flatten it",
            _mark_location(mark, path),
        )
    problem = error.problem or "invalid YAML"
    if error.context:
        problem = f"{error.context}: {problem}"
    context = error.context_mark
    unclosed = "end of stream" in problem or (error.context or "").startswith("while parsing a flow")
    if context is not None and mark is not None and unclosed and context.line != mark.line:
        # an unclosed quote or bracket: the place to fix is where it was opened
        if "end of stream" in problem:
            problem += " (opened here and never closed)"
        else:
            problem += f" (opened here and not closed before line {mark.line + 1}, column {mark.column + 1})"
        mark = context
    location = _mark_location(mark, path)
    hint = _SYNTAX_HINTS.get(error.problem or "")
    if hint:
        problem += f" ({hint})"
    if b"\t" in _line(data, location.line):
        problem += " (YAML does not allow tabs for indentation: use spaces)"
    return Finding("Q001", Severity.ERROR, f"YAML syntax error: {problem}", location)


def _mark_location(mark: Any, path: str) -> Location:
    return Location(path, mark.line + 1, mark.column + 1) if mark is not None else Location(path, 1, 1)


def _offset_location(data: bytes, offset: int, path: str) -> Location:
    """The line and column (in characters) of a byte offset."""
    offset = max(0, min(offset, len(data)))
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return Location(path, data.count(b"\n", 0, offset) + 1, column)


def _line(data: bytes, number: int) -> bytes:
    """Line ``number`` (1-based) of ``data``, or b"" past the end."""
    lines = data.split(b"\n", number)
    return lines[number - 1] if 0 < number <= len(lines) else b""
