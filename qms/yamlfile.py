"""Reading YAML safely, with the location of every node.

PyYAML's libyaml composer (``CSafeLoader``) builds the node tree; this module turns nodes into
plain values while refusing what must not pass silently: duplicate keys (Q004), object-building
tags and alias bombs (Q001). Nothing here knows about item kinds.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from qms.model import Finding, Location, Severity

try:  # the C composer is many times faster; fall back where libyaml is missing
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

STR = "tag:yaml.org,2002:str"
NULL = "tag:yaml.org,2002:null"
MAP = "tag:yaml.org,2002:map"
SEQ = "tag:yaml.org,2002:seq"
_SCALAR_TAGS = {
    STR,
    NULL,
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:timestamp",
}
_CONSTRUCTOR = yaml.constructor.SafeConstructor()


def position(node: yaml.Node) -> tuple[int, int]:
    """1-based (line, column) of a node's start."""
    mark = node.start_mark
    return mark.line + 1, mark.column + 1


@dataclass
class YamlDocument:
    """A parsed file: its root node and what was wrong while reading it."""

    path: str  # relative to the project root, with /
    root: yaml.Node | None
    findings: list[Finding] = field(default_factory=list)
    #: how many nodes one generic value may expand to (bounds alias bombs to the file's size)
    size_budget: int = 0
    budget: int = 0
    _root: yaml.Node | None = None
    _item: str | None = None

    def at(self, node: yaml.Node | None) -> Location:
        if node is None:
            return Location(self.path, 1, 1)
        return Location(self.path, *position(node))

    def report(self, rule: str, message: str, node: yaml.Node | None, item: str | None = None) -> None:
        self.findings.append(Finding(rule, Severity.ERROR, message, self.at(node), item))

    # ------------------------------------------------------------------ walking the node tree

    def spend(self) -> bool:
        """Count one node visit of a generic value; False once it expands beyond the file's size."""
        self.budget -= 1
        if self.budget == -1:
            self.report(
                "Q001",
                "this value expands to far more nodes than the file holds (YAML alias bomb?); "
                "write the data out instead of repeating it with anchors and aliases",
                self._root,
                self._item,
            )
        return self.budget >= 0

    def allowed_tag(self, node: yaml.Node, item: str | None = None) -> bool:
        tag = node.tag
        if isinstance(node, yaml.ScalarNode):
            ok = tag in _SCALAR_TAGS
        elif isinstance(node, yaml.SequenceNode):
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

    def mapping(
        self, node: yaml.MappingNode, item: str | None = None
    ) -> Iterator[tuple[str, yaml.Node, yaml.Node]]:
        """(key, key node, value node) of a mapping, reporting duplicate and non-string keys.

        The first occurrence of a duplicated key wins; the later ones are reported (Q004).
        """
        seen: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.report("Q001", "merge keys (<<) are not supported: write the fields out", key_node)
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == NULL:
                self.report("Q002", "a mapping key must be a plain name", key_node)
                continue
            key = str(key_node.value)
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
            yield key, key_node, value_node

    def value(self, node: yaml.Node, item: str | None = None) -> Any:
        """A node as a plain Python value (str, int, float, bool, None, list, dict).

        Dates stay the text that was written. Refused parts (reported) become None. Each call
        may visit at most about as many nodes as the file has characters, which bounds what
        an alias bomb can cost.
        """
        self.budget = self.size_budget
        self._root, self._item = node, item
        return self._value(node, item)

    def _value(self, node: yaml.Node, item: str | None) -> Any:
        if not self.spend() or not self.allowed_tag(node, item):
            return None
        if isinstance(node, yaml.ScalarNode):
            return scalar(node)
        if isinstance(node, yaml.SequenceNode):
            return [self._value(child, item) for child in node.value]
        return {key: self._value(child, item) for key, _, child in self.mapping(node, item)}


def scalar(node: yaml.ScalarNode) -> Any:
    """A scalar node's value with YAML's core types (dates kept as the text written)."""
    tag = node.tag
    if tag == STR:
        return node.value
    if tag == "tag:yaml.org,2002:timestamp":
        return node.value
    value = _CONSTRUCTOR.construct_object(node)
    if isinstance(value, (datetime.date, datetime.datetime)):  # pragma: no cover - timestamps handled above
        return node.value
    return value


def text_of(node: yaml.Node) -> str | None:
    """The text a user wrote for a scalar (so ``version: 2.10`` stays "2.10"); None if empty."""
    if not isinstance(node, yaml.ScalarNode) or node.tag == NULL:
        return None
    return str(node.value)


def _short_tag(tag: str) -> str:
    return "!!" + tag[len("tag:yaml.org,2002:") :] if tag.startswith("tag:yaml.org,2002:") else tag


def _decode(data: bytes, path: str) -> tuple[str | None, Finding | None]:
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line = before.count(b"\n") + 1
        column = error.start - (before.rfind(b"\n") + 1) + 1
        message = (
            f"the file is not UTF-8 (byte 0x{data[error.start]:02x} cannot be decoded); "
            "save it as UTF-8"
        )
        return None, Finding("Q001", Severity.ERROR, message, Location(path, line, column))


def read_yaml(file: Path, path: str) -> YamlDocument:
    """Parse one YAML file into nodes; problems become Q001 findings, never exceptions."""
    try:
        data = file.read_bytes()
    except OSError as error:
        document = YamlDocument(path, None)
        document.findings.append(
            Finding("Q001", Severity.ERROR, f"cannot read the file: {error.strerror}", Location(path, 1, 1))
        )
        return document
    text, problem = _decode(data, path)
    if text is None:
        document = YamlDocument(path, None)
        document.findings.append(problem)  # type: ignore[arg-type]
        return document
    return parse_yaml(text, path)


def parse_yaml(text: str, path: str) -> YamlDocument:
    """Parse YAML text into a single document's node tree."""
    document = YamlDocument(path, None, size_budget=len(text) // 2 + 10_000)
    if "\x00" in text:
        offset = text.index("\x00")
        line = text.count("\n", 0, offset) + 1
        document.findings.append(
            Finding("Q001", Severity.ERROR, "the file holds a NUL character: it is not a text file", Location(path, line, 1))
        )
        return document
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = error.problem or "invalid YAML"
        if error.context:
            problem = f"{error.context}: {problem}"
        if "\t" in _line(text, line):
            problem += " (YAML does not allow tabs for indentation: use spaces)"
        document.findings.append(Finding("Q001", Severity.ERROR, f"YAML syntax error: {problem}", Location(path, line, column)))
        return document
    except yaml.reader.ReaderError as error:  # a character YAML does not allow
        offset = error.position
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        message = f"character U+{ord(error.character):04X} is not allowed in YAML: remove it"
        document.findings.append(Finding("Q001", Severity.ERROR, message, Location(path, line, column)))
        return document
    except yaml.YAMLError as error:
        message = f"cannot parse the file: {error}".splitlines()[0]
        document.findings.append(Finding("Q001", Severity.ERROR, message, Location(path, 1, 1)))
        return document
    nodes = [node for node in nodes if node is not None]
    if len(nodes) > 1:
        document.report("Q001", "the file holds several YAML documents (---); qms reads one per file: split it", nodes[1])
    document.root = nodes[0] if nodes else None
    return document


def _line(text: str, number: int) -> str:
    """Line ``number`` (1-based) of ``text``, or "" past the end."""
    start = 0
    for _ in range(number - 1):
        start = text.find("\n", start) + 1
        if start == 0:
            return ""
    end = text.find("\n", start)
    return text[start:] if end == -1 else text[start:end]
