"""Round-trip editing of item files: changed values, new and deleted fields and items; nothing else.

Values of fields that exist are changed in place through ruamel.yaml's round-trip mode, which
keeps comments, key order, quoting, block scalars and flow style; the re-dumped text is then
carried onto the original line by line, so that lines ruamel would lay out differently (hand
wrapping, odd spacing) stay exactly as they were. Fields and items that are added or deleted are
spliced in at the lines PyYAML reports, in the file's own indentation and blank-line spacing,
from snippets ruamel renders. A file nobody edited is never rewritten.
"""

from __future__ import annotations

import difflib
import enum
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from qms.risk import RiskPolicy
from qms.schema import KINDS, FieldSpec, FieldType
from qms.yamlfile import STR, parse_yaml, text_of


class Edit(enum.Enum):
    REMOVE = "remove"


#: the value that deletes a field
REMOVE = Edit.REMOVE

_RESOLVER = yaml.resolver.Resolver()
_WIDTH = 1_000_000


class EditError(Exception):
    """The file cannot take the edit (not an item list, written in flow style, unreadable)."""


# --------------------------------------------------------------------------- the file's style


@dataclass(frozen=True, slots=True)
class _Style:
    mapping: int = 2
    sequence: int = 4
    offset: int = 2
    blank_between_items: bool = True
    levels_as_numbers: bool = False

    def yaml(self) -> YAML:
        rt = YAML(typ="rt")
        rt.preserve_quotes = True
        rt.width = _WIDTH
        rt.allow_unicode = True
        rt.indent(mapping=self.mapping, sequence=self.sequence, offset=self.offset)
        return rt


def _dump(rt: YAML, data: Any) -> str:
    stream = io.StringIO()
    rt.dump(data, stream)
    return stream.getvalue()


# --------------------------------------------------------------------------- where things are


@dataclass
class _KeyLayout:
    name: str
    line: int  # 0-based line of the key
    last: int  # last line of its value (trailing blank and comment lines excluded)
    value: yaml.Node


@dataclass
class _ItemLayout:
    item_id: str
    kind: str | None
    first: int  # line of the item's dash (or of its first key)
    last: int
    column: int  # column of its keys
    keys: list[_KeyLayout]

    def key(self, name: str) -> _KeyLayout | None:
        return next((key for key in self.keys if key.name == name), None)


@dataclass
class _FileLayout:
    single: bool  # the file is one item (a mapping with id), not a list
    default_kind: str | None
    items: list[_ItemLayout]
    items_line: int | None = None  # line of `items:`
    items_value: yaml.Node | None = None
    dash_column: int = 2
    style: _Style = field(default_factory=_Style)

    def item(self, item_id: str) -> _ItemLayout | None:
        return next((item for item in self.items if item.item_id == item_id), None)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _content_end(lines: list[str], first: int, last: int, column: int) -> int:
    """The last line in first..last that belongs to a value at ``column``: trailing blank lines and
    comment lines at or left of the column belong to what follows."""
    while last > first:
        text = lines[last].strip()
        if text and not (text.startswith("#") and _indent(lines[last]) <= column):
            break
        last -= 1
    return last


def _dash_line(text: str, node: yaml.Node) -> int:
    """The line of the ``-`` that starts a block sequence entry (the node starts after it)."""
    index = node.start_mark.index - 1
    while index >= 0 and text[index] in " \n":
        index -= 1
    if index >= 0 and text[index] == "-":
        return text.count("\n", 0, index)
    return node.start_mark.line


def _item_layout(
    lines: list[str], text: str, node: yaml.Node, first: int, last: int, default_kind: str | None
) -> _ItemLayout | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    pairs = [(str(key.value), key, value) for key, value in node.value if isinstance(key, yaml.ScalarNode)]
    values = {name: value for name, _, value in pairs}
    item_id = text_of(values["id"]) if "id" in values else None
    if item_id is None:
        return None
    kind = text_of(values["kind"]) if "kind" in values else default_kind
    column = node.start_mark.column
    last = _content_end(lines, first, last, column)
    keys = []
    for index, (name, key, value) in enumerate(pairs):
        following = pairs[index + 1][1].start_mark.line - 1 if index + 1 < len(pairs) else last
        keys.append(
            _KeyLayout(name, key.start_mark.line, _content_end(lines, key.start_mark.line, following, column), value)
        )
    return _ItemLayout(item_id, kind, first, last, column, keys)


def _levels_as_numbers(items: Sequence[yaml.Node]) -> bool:
    """Whether the file writes severity and probability as level numbers rather than names."""
    for node in items:
        if not isinstance(node, yaml.MappingNode):
            continue
        for key, value in node.value:
            if key.value in ("severity", "probability") and isinstance(value, yaml.ScalarNode):
                return value.tag.endswith(":int")
    return False


def _blank_between(lines: list[str], items: list[_ItemLayout]) -> bool:
    """Whether the file sets its items apart with blank lines (the usual style when it cannot tell)."""
    if len(items) < 2:
        return True
    gaps = [any(not line.strip() for line in lines[before.last + 1 : after.first]) for before, after in pairwise(items)]
    return sum(gaps) * 2 >= len(gaps)


def field_order(items: Sequence[_ItemLayout], kind: str | None) -> list[str]:
    """The order the file writes the fields of ``kind`` in, completed with the schema's order.

    Keys are merged across the file's items of that kind (a key first seen in a later item goes
    after the key it follows there); fields the file never writes take their schema place.
    """
    order = ["id", "kind"]
    for item in items:
        if item.kind != kind:
            continue
        previous = "kind"
        for key in item.keys:
            if key.name not in order:
                order.insert(order.index(previous) + 1, key.name)
            previous = key.name
    schema = list(KINDS[kind].field_names) if kind in KINDS else []
    for index, name in enumerate(schema):
        if name not in order:
            before = [known for known in schema[:index] if known in order]
            order.insert(order.index(before[-1]) + 1 if before else len(order), name)
    return order


def _mapping_indent(node: yaml.Node) -> int | None:
    """How far a nested block mapping is indented under its key, where the file shows it."""
    if isinstance(node, yaml.MappingNode) and not node.flow_style:
        for key, value in node.value:
            if isinstance(value, yaml.MappingNode) and not value.flow_style and value.value:
                return int(value.start_mark.column - key.start_mark.column)
            found = _mapping_indent(value)
            if found is not None:
                return found
    if isinstance(node, yaml.SequenceNode):
        for child in node.value:
            found = _mapping_indent(child)
            if found is not None:
                return found
    return None


def _layout(text: str, path: str) -> _FileLayout:
    document = parse_yaml(text, path)
    root = document.root
    if root is None or any(finding.rule == "Q001" for finding in document.findings):
        raise EditError(f"{path} cannot be read as YAML (see `qms check`): correct it first")
    if not isinstance(root, yaml.MappingNode) or root.flow_style:
        raise EditError(f"{path} is not an item file in block style: edit it in YAML")
    lines = text.split("\n")
    top = [(str(key.value), key, value) for key, value in root.value if isinstance(key, yaml.ScalarNode)]
    names = [name for name, _, _ in top]
    mapping = _mapping_indent(root) or 2
    if "items" not in names:
        item = _item_layout(lines, text, root, 0, len(lines) - 1, None)
        if item is None:
            raise EditError(f"{path} holds no items")
        numbers = _levels_as_numbers([root])
        return _FileLayout(True, None, [item], style=_Style(mapping=mapping, levels_as_numbers=numbers))
    default_kind = next((text_of(value) for name, _, value in top if name == "kind"), None)
    position = names.index("items")
    _, items_key, items_value = top[position]
    end = top[position + 1][1].start_mark.line - 1 if position + 1 < len(top) else len(lines) - 1
    nodes: list[yaml.Node] = []
    if isinstance(items_value, yaml.SequenceNode):
        if items_value.flow_style and items_value.value:
            raise EditError(f"{path} writes its items list in flow style ([...]): edit it in YAML")
        nodes = list(items_value.value)
    items: list[_ItemLayout] = []
    firsts = [_dash_line(text, node) for node in nodes]
    for index, node in enumerate(nodes):
        if isinstance(node, yaml.MappingNode) and node.flow_style:
            raise EditError(f"{path} writes an item in flow style ({{...}}): edit it in YAML")
        last = firsts[index + 1] - 1 if index + 1 < len(nodes) else end
        item = _item_layout(lines, text, node, firsts[index], last, default_kind)
        if item is not None:
            items.append(item)
    # ruamel's `sequence` is where an entry's keys start and `offset` where its dash is, both
    # counted from the column of `items:`
    parent = _indent(lines[items_key.start_mark.line])
    dash_column = _indent(lines[firsts[0]]) if firsts else parent + 2
    key_column = nodes[0].start_mark.column if nodes else dash_column + 2
    style = _Style(
        mapping=mapping,
        sequence=key_column - parent,
        offset=dash_column - parent,
        blank_between_items=_blank_between(lines, items),
        levels_as_numbers=_levels_as_numbers(nodes),
    )
    return _FileLayout(False, default_kind, items, items_key.start_mark.line, items_value, dash_column, style)


# --------------------------------------------------------------------------- values to YAML


def _is_text(value: str) -> bool:
    """Whether PyYAML (YAML 1.1, what qms reads with) takes the plain scalar as text: not yes, 1_0, 12:30."""
    tag: str = _RESOLVER.resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]
    return tag == STR


def yaml_string(value: str, old: Any = None) -> Any:
    """A string in the style the old value had: block scalars stay block, quotes stay quotes."""
    body = value.rstrip("\n")
    if isinstance(old, (LiteralScalarString, FoldedScalarString)) or "\n" in body:
        keep_newline = not isinstance(old, (LiteralScalarString, FoldedScalarString)) or str(old).endswith("\n")
        text = body + "\n" if keep_newline else body
        if isinstance(old, FoldedScalarString) and "\n" not in body:
            return FoldedScalarString(text)
        return LiteralScalarString(text)
    if isinstance(old, DoubleQuotedScalarString):
        return DoubleQuotedScalarString(body)
    if isinstance(old, SingleQuotedScalarString) or not _is_text(body):
        return SingleQuotedScalarString(body)
    return body


class _Converter:
    """Field values (as the model holds them) to ruamel nodes, following the old node's style."""

    def __init__(self, policy: RiskPolicy, style: _Style) -> None:
        self.policy = policy
        self.style = style

    def value(self, spec: FieldSpec | None, value: Any, old: Any = None) -> Any:
        if spec is None:
            return self.extension(value, old)
        match spec.type:
            case FieldType.TEXT | FieldType.STRING | FieldType.CHOICE:
                return yaml_string(str(value), old)
            case FieldType.LINKS:
                return self.sequence(value, old, flow=True)
            case FieldType.STRINGS | FieldType.TEXTS:
                return self.sequence(value, old, flow=False)
            case FieldType.SEVERITY | FieldType.PROBABILITY:
                return self.level(spec.type, value, old)
            case FieldType.RESIDUAL:
                return self.residual(value, old)
            case FieldType.ANOMALY_REVIEWS:
                return self.reviews(value, old)
        return value  # pragma: no cover - every field type is matched above

    def level(self, kind: FieldType, level: int, old: Any) -> Any:
        if isinstance(old, int) and not isinstance(old, bool):
            return level
        if old is None and self.style.levels_as_numbers:
            return level
        name = self.policy.severity_name(level) if kind is FieldType.SEVERITY else self.policy.probability_name(level)
        return yaml_string(name, old if isinstance(old, str) else None)

    def sequence(self, values: Sequence[str], old: Any, flow: bool) -> CommentedSeq:
        """A list; an existing one is changed in place so its style and comments stay."""
        entries = [yaml_string(str(value), None) for value in values]
        if isinstance(old, CommentedSeq):
            tail = old.ca.items.pop(len(old) - 1, None) if len(old) else None
            for index in list(old.ca.items):
                if index >= len(entries):
                    del old.ca.items[index]
            old[:] = entries
            if tail is not None and entries:
                old.ca.items[len(entries) - 1] = tail
            return old
        sequence = CommentedSeq(entries)
        if flow:
            sequence.fa.set_flow_style()
        else:
            sequence.fa.set_block_style()
        return sequence

    def residual(self, value: Mapping[str, int], old: Any) -> CommentedMap:
        levels = (("severity", FieldType.SEVERITY), ("probability", FieldType.PROBABILITY))
        if isinstance(old, CommentedMap):
            for part, kind in levels:
                if part in value and value[part] != self._level_of(kind, old.get(part)):
                    old[part] = self.level(kind, value[part], old.get(part))
            return old
        mapping = CommentedMap((part, self.level(kind, value[part], None)) for part, kind in levels if part in value)
        mapping.fa.set_flow_style()
        return mapping

    def _level_of(self, kind: FieldType, written: Any) -> int | None:
        found = (
            self.policy.severity_level(written)
            if kind is FieldType.SEVERITY
            else self.policy.probability_level(written)
        )
        return found.level if found else None

    def reviews(self, value: Sequence[Mapping[str, str]], old: Any) -> CommentedSeq:
        """SOUP anomaly reviews, each text in the style its old entry wrote it (a block scalar stays
        one, with its final line break)."""
        entries = []
        for index, review in enumerate(value):
            before = old[index] if isinstance(old, CommentedSeq) and index < len(old) else None
            written = before if isinstance(before, Mapping) else {}
            entry = CommentedMap((key, yaml_string(text, written.get(key))) for key, text in review.items())
            entries.append(entry)
        if isinstance(old, CommentedSeq):
            tail = old.ca.items.pop(len(old) - 1, None) if len(old) else None
            old[:] = entries
            if tail is not None and entries:
                old.ca.items[len(entries) - 1] = tail
            return old
        return CommentedSeq(entries)

    def extension(self, value: Any, old: Any) -> Any:
        if isinstance(value, str):
            return yaml_string(value, old)
        if isinstance(value, Mapping):
            mapping = CommentedMap((key, self.extension(entry, None)) for key, entry in value.items())
            mapping.fa.set_flow_style()
            return mapping
        if isinstance(value, (list, tuple)):
            sequence = CommentedSeq(self.extension(entry, None) for entry in value)
            sequence.fa.set_flow_style()
            return sequence
        return value


def _spec(kind: str | None, name: str) -> FieldSpec | None:
    spec = KINDS.get(kind or "")
    return spec.field(name) if spec else None


# --------------------------------------------------------------------------- carrying edits over


def carry_over(original: str, baseline: str, edited: str) -> str:
    """Apply the line changes from ``baseline`` to ``edited`` onto ``original``.

    ``baseline`` is ruamel's re-dump of ``original`` without edits; where it equals the original
    (the usual case) the result is ``edited``. Elsewhere each changed run of lines replaces the
    original lines it corresponds to; where the correspondence is unclear (ruamel laid the lines
    out differently), the run is widened to lines that the original and the baseline share.
    """
    if baseline == original:
        return edited
    source = original.splitlines(keepends=True)
    base = baseline.splitlines(keepends=True)
    new = edited.splitlines(keepends=True)
    shared: dict[int, int] = {}  # baseline line -> the same line in the original
    matcher = difflib.SequenceMatcher(None, source, base, autojunk=False)
    for tag, first_source, _, first_base, last_base in matcher.get_opcodes():
        if tag == "equal":
            for offset in range(last_base - first_base):
                shared[first_base + offset] = first_source + offset
    result: list[str] = []
    position = 0
    for first, stop, replacement in _hunks(base, new, shared, len(source)):
        result += source[position:first] + replacement
        position = stop
    return "".join(result + source[position:])


def _hunks(base: list[str], new: list[str], shared: dict[int, int], length: int) -> list[tuple[int, int, list[str]]]:
    """(first original line, line after the last, new lines) for each change from ``base`` to ``new``."""
    hunks: list[tuple[int, int, list[str]]] = []
    for tag, first_base, last_base, first_new, last_new in difflib.SequenceMatcher(
        None, base, new, autojunk=False
    ).get_opcodes():
        if tag == "equal":
            continue
        span = _direct_span(first_base, last_base, shared)
        if span is None:
            while first_base > 0 and first_base - 1 not in shared:
                first_base, first_new = first_base - 1, first_new - 1
            while last_base < len(base) and last_base not in shared:
                last_base, last_new = last_base + 1, last_new + 1
            start = shared[first_base - 1] + 1 if first_base > 0 else 0
            span = (start, shared[last_base] if last_base < len(base) else length)
        if hunks and span[0] < hunks[-1][1]:  # widened into the previous change: one change
            previous = hunks.pop()
            span = (previous[0], max(previous[1], span[1]))
            hunks.append((span[0], span[1], previous[2] + new[first_new:last_new]))
        else:
            hunks.append((span[0], span[1], new[first_new:last_new]))
    return hunks


def _direct_span(first: int, last: int, shared: dict[int, int]) -> tuple[int, int] | None:
    """The original lines that baseline lines first..last-1 are, when that is clear."""
    if first < last:
        start = shared.get(first)
        if start is None or any(shared.get(first + offset) != start + offset for offset in range(last - first)):
            return None
        return start, start + last - first
    if first - 1 in shared:
        return shared[first - 1] + 1, shared[first - 1] + 1
    if first in shared:
        return shared[first], shared[first]
    return None


# --------------------------------------------------------------------------- the editor


#: ranks of line edits starting at the same line: higher is applied first
_NEW_FIELD, _NEW_ITEM, _REMOVAL = 1, 2, 3


@dataclass
class _NewItem:
    item_id: str
    kind: str
    fields: Mapping[str, Any]
    after: str | None


class ItemFileEditor:
    """Edits to one item file, collected, then rendered to its new text in one go."""

    def __init__(self, path: str, text: str | None, policy: RiskPolicy, kind: str | None = None) -> None:
        self.path = path
        self.policy = policy
        self.exists = text is not None
        raw = text if text is not None else f"kind: {kind}\nitems: []\n"
        self._bom = raw.startswith("\ufeff")
        raw = raw.removeprefix("\ufeff")
        self._crlf = "\r\n" in raw
        self.original = raw.replace("\r\n", "\n")
        self._values: dict[tuple[str, str], Any] = {}
        self._new: list[_NewItem] = []
        self._deleted: set[str] = set()
        self._layout = _layout(self.original, path)

    # ------------------------------------------------------------------ what to change

    @property
    def single(self) -> bool:
        return self._layout.single

    @property
    def default_kind(self) -> str | None:
        return self._layout.default_kind

    def set_field(self, item_id: str, name: str, value: Any) -> None:
        """Give an item's field a new value (as the model holds values), or :data:`REMOVE` it."""
        if self._layout.item(item_id) is None:
            raise EditError(f"{self.path} holds no item {item_id}")
        self._values[(item_id, name)] = value

    def add_item(self, item_id: str, kind: str, fields: Mapping[str, Any], after: str | None = None) -> None:
        """Add an item after ``after`` (or at the end); ``fields`` in the order to write them."""
        if self._layout.single:
            raise EditError(
                f"{self.path} holds a single item, not a list: name a list file (kind + items) for new items"
            )
        self._new.append(_NewItem(item_id, kind, fields, after if after and self._layout.item(after) else None))

    def delete_item(self, item_id: str) -> None:
        if self._layout.item(item_id) is None:
            raise EditError(f"{self.path} holds no item {item_id}")
        self._deleted.add(item_id)

    @property
    def changed(self) -> bool:
        return bool(self._values or self._new or self._deleted) or not self.exists

    # ------------------------------------------------------------------ rendering

    def render(self) -> str | None:
        """The file's new text; None when the file is to be deleted (its only item was)."""
        try:
            return self._render()
        except YAMLError as error:  # ruamel reads YAML 1.2 and refuses some of what PyYAML reads
            problem = getattr(error, "problem", None) or str(error).splitlines()[0]
            raise EditError(f"{self.path} cannot be edited ({problem}): edit it in YAML") from error

    def _render(self) -> str | None:
        if self._layout.single and self._deleted:
            return None
        in_place = {key: value for key, value in self._values.items() if value is not REMOVE and self._has_key(*key)}
        text = self._replace_values(in_place) if in_place else self.original
        structural = {key: value for key, value in self._values.items() if key not in in_place}
        if structural or self._new or self._deleted:
            text = self._splice(text, structural)
        if self._crlf:
            text = text.replace("\n", "\r\n")
        return ("\ufeff" if self._bom else "") + text

    def _has_key(self, item_id: str, name: str) -> bool:
        item = self._layout.item(item_id)
        return item is not None and item.key(name) is not None

    def _replace_values(self, values: Mapping[tuple[str, str], Any]) -> str:
        """Change existing values in place with ruamel, then carry the changed lines onto the original."""
        style = self._layout.style
        rt = style.yaml()
        baseline = _dump(rt, rt.load(self.original))
        data = rt.load(self.original)
        converter = _Converter(self.policy, style)
        for (item_id, name), value in values.items():
            mapping = self._ruamel_item(data, item_id)
            kind = mapping.get("kind", self._layout.default_kind)
            new = converter.value(_spec(str(kind), name), value, mapping[name])
            if new is not mapping[name]:
                mapping[name] = new
        edited = _dump(rt, data)
        carried = carry_over(self.original, baseline, edited)
        if carried != edited and rt.load(carried) != rt.load(edited):  # pragma: no cover - safety net
            return edited
        return carried

    def _ruamel_item(self, data: Any, item_id: str) -> CommentedMap:
        candidates = [data] if self._layout.single else list(data.get("items") or ())
        for candidate in candidates:
            if isinstance(candidate, CommentedMap) and str(candidate.get("id")) == item_id:
                return candidate
        raise EditError(f"{self.path} holds no item {item_id}")  # pragma: no cover - checked in set_field

    def _splice(self, text: str, values: Mapping[tuple[str, str], Any]) -> str:
        """Add and remove fields and items at their lines, bottom up so earlier lines stay put."""
        layout = _layout(text, self.path)
        lines = text.split("\n")
        converter = _Converter(self.policy, layout.style)
        rt = layout.style.yaml()
        # (first line, last line exclusive, replacement lines, rank): applied bottom up, and at
        # the same line a removal before an insertion
        edits: list[tuple[int, int, list[str], int]] = []
        grouped: dict[str, list[tuple[str, Any]]] = {}
        for (item_id, name), value in values.items():
            grouped.setdefault(item_id, []).append((name, value))
        for item_id, changes in grouped.items():
            item = layout.item(item_id)
            assert item is not None
            edits += self._field_edits(item, changes, converter, rt)
        edits += self._deletions(lines, layout)
        edits += self._additions(lines, layout, converter, rt)
        for first, last, replacement, _ in sorted(edits, key=lambda edit: (edit[0], edit[3]), reverse=True):
            lines[first:last] = replacement
        return "\n".join(lines)

    def _field_edits(
        self, item: _ItemLayout, changes: list[tuple[str, Any]], converter: _Converter, rt: YAML
    ) -> list[tuple[int, int, list[str], int]]:
        edits: list[tuple[int, int, list[str], int]] = []
        order = self._order(item.kind)
        inserts: dict[int, CommentedMap] = {}
        for name, value in changes:
            key = item.key(name)
            if value is REMOVE:
                if key is not None:
                    edits.append((key.line, key.last + 1, [], _REMOVAL))
                continue
            anchor = self._anchor(item, name, order)
            inserts.setdefault(anchor, CommentedMap())[name] = converter.value(_spec(item.kind, name), value, None)
        for anchor, mapping in inserts.items():
            ordered = CommentedMap(
                sorted(mapping.items(), key=lambda entry: order.index(entry[0]) if entry[0] in order else len(order))
            )
            edits.append((anchor + 1, anchor + 1, _indented(_dump(rt, ordered), item.column), _NEW_FIELD))
        return edits

    def _order(self, kind: str | None) -> list[str]:
        return field_order(self._layout.items, kind)

    @staticmethod
    def _anchor(item: _ItemLayout, name: str, order: list[str]) -> int:
        """The last line of the field a new field goes after: the nearest one before it in the file's order."""
        if name in order:
            before = order[: order.index(name)]
            present = [key for key in item.keys if key.name in before]
            if present:
                return max(key.last for key in present)
        return item.last

    def _deletions(self, lines: list[str], layout: _FileLayout) -> list[tuple[int, int, list[str], int]]:
        """Line ranges of the deleted items, neighbours merged, with the blank lines that set them apart."""
        ranges: list[list[int]] = []
        for item in layout.items:
            if item.item_id not in self._deleted:
                continue
            if ranges and all(not line.strip() for line in lines[ranges[-1][1] : item.first]):
                ranges[-1][1] = item.last + 1
            else:
                ranges.append([item.first, item.last + 1])
        kept = [item for item in layout.items if item.item_id not in self._deleted]
        edits: list[tuple[int, int, list[str], int]] = []
        for first, last in ranges:
            if any(item.first >= last for item in kept):
                while last < len(lines) and not lines[last].strip():
                    last += 1
            else:
                floor = max((item.last for item in kept if item.last < first), default=-1)
                while first - 1 > floor and not lines[first - 1].strip():
                    first -= 1
            edits.append((first, last, [], _REMOVAL))
        if not kept and not self._new and layout.items_line is not None:
            line = layout.items_line
            lines[line] = re.sub(
                r"^(\s*items:)\s*(#.*)?$",
                lambda match: f"{match.group(1)} []" + (f" {match.group(2)}" if match.group(2) else ""),
                lines[line],
            )
        return edits

    def _additions(
        self, lines: list[str], layout: _FileLayout, converter: _Converter, rt: YAML
    ) -> list[tuple[int, int, list[str], int]]:
        if not self._new:
            return []
        kept = [item for item in layout.items if item.item_id not in self._deleted]
        edits = []
        by_anchor: dict[str | None, list[_NewItem]] = {}
        for new in self._new:
            anchor = new.after if new.after and new.after not in self._deleted else None
            by_anchor.setdefault(anchor, []).append(new)
        for anchor, group in by_anchor.items():
            rendered: list[str] = []
            for new in group:
                if (rendered or kept) and layout.style.blank_between_items:
                    rendered.append("")
                rendered += self._render_item(new, layout, converter, rt)
            target = layout.item(anchor) if anchor else (kept[-1] if kept else None)
            if target is not None:
                edits.append((target.last + 1, target.last + 1, rendered, _NEW_ITEM))
                continue
            line = layout.items_line or 0
            lines[line] = re.sub(r"^(\s*items:)\s*(\[\s*\]|~|null)?\s*", r"\1", lines[line])
            edits.append((line + 1, line + 1, rendered, _NEW_ITEM))
        return edits

    def _render_item(self, new: _NewItem, layout: _FileLayout, converter: _Converter, rt: YAML) -> list[str]:
        mapping = CommentedMap()
        mapping["id"] = yaml_string(new.item_id)
        if new.kind != layout.default_kind:
            mapping["kind"] = new.kind
        order = self._order(new.kind)
        for name in sorted(new.fields, key=lambda name: order.index(name) if name in order else len(order)):
            mapping[name] = converter.value(_spec(new.kind, name), new.fields[name], None)
        rendered = _dump(rt, CommentedSeq([mapping])).rstrip("\n").split("\n")
        shift = layout.dash_column - _indent(rendered[0])
        if shift >= 0:
            return [(" " * shift + line) if line else line for line in rendered]
        return [line[-shift:] for line in rendered]


def _indented(text: str, column: int) -> list[str]:
    return [(" " * column + line) if line else line for line in text.rstrip("\n").split("\n")]
