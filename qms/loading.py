"""Item files to items: each field converted and validated against its kind's spec (Q002).

A malformed value is reported at its own line and column and, where its intent is clear (a
link written as a string instead of a list), still taken, so that one mistake gives one finding.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from qms.model import FieldPath, Finding, Item
from qms.risk import RiskPolicy
from qms.schema import EXTENSION_PREFIX, ID_PATTERN, KINDS, FieldSpec, FieldType, KindSpec
from qms.terminal import excerpt
from qms.yamlfile import NULL, STR, YamlDocument, position, read_yaml, text_of

_LIST_FILE_KEYS = ("kind", "title", "items")
_TEXT_TYPES = frozenset({FieldType.TEXT, FieldType.STRING})
#: kind -> field name -> spec (a table: every field of every item is looked up here)
_FIELD_SPECS = {name: {spec.name: spec for spec in kind.fields} for name, kind in KINDS.items()}
#: kind -> the fields it requires that the loader reports missing (the others have a rule of their own)
_REQUIRED = {
    name: [field.name for field in kind.fields if field.required and field.missing_rule is None]
    for name, kind in KINDS.items()
}


def _suggest(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _is_empty(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == NULL


class _ItemReader:
    """Converts one item's mapping node; reports into the document."""

    def __init__(self, document: YamlDocument, policy: RiskPolicy) -> None:
        self.document = document
        self.policy = policy
        #: in a list file without a default kind: the items that name none (reported once)
        self.kindless: list[str] | None = None

    # --------------------------------------------------------------------- the item

    def read(self, node: yaml.Node, default_kind: str | None) -> Item | None:
        document = self.document
        if not isinstance(node, yaml.MappingNode):
            document.report("Q002", "an item must be a mapping with `id`, `title` and the fields of its kind", node)
            return None
        if not document.allowed_tag(node):
            return None
        id_node = next((v for k, v in node.value if type(k) is yaml.ScalarNode and k.value == "id"), None)
        entries = document.mapping(node, text_of(id_node) if id_node is not None else None)
        values = {key: (key_node, value_node) for key, key_node, value_node in entries}
        item_id = self._id(node, values.get("id"))
        if item_id is None:
            return None
        kind = self._kind(item_id, node, values.get("kind"), default_kind)
        positions: dict[FieldPath, tuple[int, int]] = {(): position(node)}
        fields: dict[str, Any] = {}
        spec = KINDS.get(kind) if kind else None
        field_specs = _FIELD_SPECS.get(kind or "", {})
        for key, key_node, value_node in entries:
            if key == "id" or key == "kind":
                continue
            mark = value_node.start_mark  # position(), inline: once per field of every item
            positions[(key,)] = (mark.line + 1, mark.column + 1)
            field_spec = field_specs.get(key)
            if (
                field_spec is not None
                and field_spec.type in _TEXT_TYPES
                and value_node.tag == STR
                and type(value_node) is yaml.ScalarNode
            ):
                fields[key] = value_node.value  # the common case, text written as text (as in _field)
                continue
            if field_spec is None:
                if spec is not None and not key.startswith(EXTENSION_PREFIX):
                    allowed = ", ".join(spec.field_names)
                    document.report(
                        "Q002",
                        f"unknown field '{key}' for a {kind}{_suggest(key, spec.field_names)}; "
                        f"allowed: {allowed}, or x-... for your own fields",
                        key_node,
                        item_id,
                    )
                fields[key] = document.value(value_node, item_id)  # kept, never dropped
                continue
            value = self._field(item_id, field_spec, value_node, positions)
            if value is not None:
                fields[key] = value
        if spec is not None:
            self._required(item_id, spec, values, node)
        return Item(item_id, kind or "", MappingProxyType(fields), document.path, MappingProxyType(positions))

    def _id(self, node: yaml.MappingNode, entry: tuple[yaml.Node, yaml.Node] | None) -> str | None:
        if entry is None or _is_empty(entry[1]):
            self.document.report("Q002", "item has no `id`: give it a unique id such as SWR-001", node)
            return None
        item_id = text_of(entry[1])
        if item_id == "":
            self.document.report("Q002", "item has an empty `id`: give it a unique id such as SWR-001", entry[1])
            return None
        if item_id is None:
            self.document.report("Q002", "`id` must be a single name such as SWR-001", entry[1])
            return None
        if not ID_PATTERN.fullmatch(item_id):
            self.document.report(
                "Q002",
                f"id '{item_id}' is not valid: start with a letter, then letters, digits, '_', '.' or '-' only",
                entry[1],
                item_id,
            )
        return item_id

    def _kind(
        self, item_id: str, node: yaml.Node, entry: tuple[yaml.Node, yaml.Node] | None, default: str | None
    ) -> str | None:
        if entry is None:
            if default is None and self.kindless is not None:
                self.kindless.append(item_id)
            elif default is None:
                self.document.report(
                    "Q002", f"item has no `kind`: add `kind: one of {', '.join(KINDS)}`", node, item_id
                )
            return default
        kind = text_of(entry[1])
        if kind not in KINDS:
            self.document.report(
                "Q002",
                f"unknown kind '{kind}'{_suggest(kind or '', KINDS)}; kinds: {', '.join(KINDS)}",
                entry[1],
                item_id,
            )
            return kind
        return kind

    def _required(
        self, item_id: str, spec: KindSpec, written: dict[str, tuple[yaml.Node, yaml.Node]], node: yaml.Node
    ) -> None:
        """Report required fields that are absent, or written but empty (a refused value was reported already)."""
        required = _REQUIRED[spec.name]
        missing = [name for name in required if name not in written]
        if missing:
            names = ", ".join(f"'{name}'" for name in missing)
            plural = "s" if len(missing) > 1 else ""
            self.document.report("Q002", f"missing required field{plural} {names} for a {spec.name}", node, item_id)
        for name in required:
            value = written[name][1] if name in written else None
            if value is not None and (
                _is_empty(value) or (isinstance(value, yaml.ScalarNode) and not value.value.strip())
            ):
                self.document.report(
                    "Q002", f"required field '{name}' of a {spec.name} is empty: write its value", value, item_id
                )

    # --------------------------------------------------------------------- fields

    def _field(
        self, item_id: str, spec: FieldSpec, node: yaml.Node, positions: dict[FieldPath, tuple[int, int]]
    ) -> Any:
        if node.tag == STR and type(node) is yaml.ScalarNode and spec.type in _TEXT_TYPES:
            return node.value  # the common case, text written as text: nothing to check
        document = self.document
        if not document.allowed_tag(node, item_id) or _is_empty(node):
            return None  # a refused tag is reported; an empty required field is reported as missing
        match spec.type:
            case FieldType.TEXT | FieldType.STRING:
                return self._text(item_id, spec, node)
            case FieldType.STRINGS | FieldType.TEXTS | FieldType.LINKS:
                return self._list(item_id, spec, node, positions)
            case FieldType.CHOICE:
                value = self._text(item_id, spec, node)
                if value is not None and value not in spec.choices:
                    document.report(
                        "Q002",
                        f"{spec.name} '{value}' is not allowed{_suggest(value, spec.choices)}; "
                        f"one of: {', '.join(spec.choices)}",
                        node,
                        item_id,
                    )
                    return None
                return value
            case FieldType.SEVERITY | FieldType.PROBABILITY:
                return self._level(item_id, spec.type, spec.name, node)
            case FieldType.RESIDUAL:
                return self._residual(item_id, spec, node, positions)
            case FieldType.ANOMALY_REVIEWS:
                return self._anomaly_reviews(item_id, spec, node, positions)
        return None  # pragma: no cover - every field type is matched above

    def _text(self, item_id: str, spec: FieldSpec, node: yaml.Node) -> str | None:
        value = text_of(node)
        if value is None:
            shape = "a list" if isinstance(node, yaml.SequenceNode) else "a mapping"
            self.document.report("Q002", f"{spec.name} must be text, not {shape}", node, item_id)
        return value

    def _list(
        self, item_id: str, spec: FieldSpec, node: yaml.Node, positions: dict[FieldPath, tuple[int, int]]
    ) -> tuple[str, ...] | None:
        document = self.document
        is_link = spec.type is FieldType.LINKS
        if isinstance(node, yaml.ScalarNode):
            value = str(node.value)
            example = f"[{value}]" if is_link else f"['{value}']"
            document.report("Q002", f"{spec.name} must be a list; write {spec.name}: {example}", node, item_id)
            elements = [node]
        elif isinstance(node, yaml.SequenceNode):
            elements = node.value
        else:
            document.report("Q002", f"{spec.name} must be a list, not a mapping", node, item_id)
            return None
        values: list[str] = []
        for element in elements:
            if type(element) is yaml.ScalarNode and element.tag == STR:
                text = element.value  # the common case, an id or text written as such: allowed, as is
            elif element is not node and not document.allowed_tag(element, item_id):
                continue
            else:
                text = text_of(element)
            if text is None or text == "":
                what = "an id" if is_link else "text"
                document.report("Q002", f"each entry of {spec.name} must be {what}", element, item_id)
                continue
            if is_link and not ID_PATTERN.fullmatch(text):
                document.report("Q002", f"'{text}' in {spec.name} is not a valid id", element, item_id)
                continue
            problem = spec.entry_check(text) if spec.entry_check is not None else None
            if problem is not None:
                document.report("Q002", problem, element, item_id)
                continue
            mark = element.start_mark  # position(), inline: once per link of every item
            positions[(spec.name, len(values))] = (mark.line + 1, mark.column + 1)
            values.append(text)
        return tuple(values)

    def _level(self, item_id: str, kind: FieldType, name: str, node: yaml.Node) -> int | None:
        text = text_of(node)
        scale = self.policy.severity if kind is FieldType.SEVERITY else self.policy.probability
        level = (self.policy.severity_level if kind is FieldType.SEVERITY else self.policy.probability_level)(text)
        if level is None:
            what = "severity" if kind is FieldType.SEVERITY else "probability"
            levels = ", ".join(str(entry) for entry in scale)
            shown = excerpt(text) if text is not None else "(a list or mapping)"
            self.document.report(
                "Q002",
                f"{name} '{shown}' is not a {what} level of the risk policy{_suggest(shown, [s.name for s in scale])}; "
                f"levels: {levels}",
                node,
                item_id,
            )
            return None
        return level.level

    def _submapping(
        self, item_id: str, spec: FieldSpec, node: yaml.Node, required: tuple[str, ...], path: FieldPath
    ) -> dict[str, tuple[yaml.Node, yaml.Node]] | None:
        document = self.document
        if not isinstance(node, yaml.MappingNode):
            message = f"{'.'.join(map(str, path))} must be a mapping with {', '.join(required)}"
            document.report("Q002", message, node, item_id)
            return None
        entries = {key: (key_node, value_node) for key, key_node, value_node in document.mapping(node, item_id)}
        for key, (key_node, _) in entries.items():
            if key not in required:
                document.report(
                    "Q002",
                    f"unknown field '{key}' in {spec.name}{_suggest(key, required)}; allowed: {', '.join(required)}",
                    key_node,
                    item_id,
                )
        missing = [key for key in required if key not in entries or _is_empty(entries[key][1])]
        if missing:
            document.report("Q002", f"{spec.name} is missing {', '.join(missing)}", node, item_id)
        return entries

    def _residual(
        self, item_id: str, spec: FieldSpec, node: yaml.Node, positions: dict[FieldPath, tuple[int, int]]
    ) -> MappingProxyType[str, Any] | None:
        entries = self._submapping(item_id, spec, node, ("severity", "probability"), (spec.name,))
        if entries is None:
            return None
        values: dict[str, Any] = {}
        for key, kind in (("severity", FieldType.SEVERITY), ("probability", FieldType.PROBABILITY)):
            if key in entries and not _is_empty(entries[key][1]):
                value_node = entries[key][1]
                positions[(spec.name, key)] = position(value_node)
                level = self._level(item_id, kind, f"{spec.name}.{key}", value_node)
                if level is not None:
                    values[key] = level
        return MappingProxyType(values)

    def _anomaly_reviews(
        self, item_id: str, spec: FieldSpec, node: yaml.Node, positions: dict[FieldPath, tuple[int, int]]
    ) -> tuple[MappingProxyType[str, str], ...] | None:
        if not isinstance(node, yaml.SequenceNode):
            self.document.report("Q002", f"{spec.name} must be a list of {{ref, evaluation}} entries", node, item_id)
            return None
        reviews = []
        for index, element in enumerate(node.value):
            entries = self._submapping(item_id, spec, element, ("ref", "evaluation"), (spec.name, index))
            if entries is None:
                continue
            positions[(spec.name, index)] = position(element)
            review = {}
            for key in ("ref", "evaluation"):
                if key in entries:
                    text = text_of(entries[key][1])
                    if text is not None:
                        review[key] = text
                    elif not _is_empty(entries[key][1]):
                        self.document.report("Q002", f"{spec.name}.{key} must be text", entries[key][1], item_id)
            reviews.append(MappingProxyType(review))
        return tuple(reviews)


def file_title(document: YamlDocument) -> str | None:
    """The ``title:`` of a list file (the heading its items are shown under), if it has one."""
    root = document.root
    if not isinstance(root, yaml.MappingNode):
        return None
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "title":
            title = text_of(value)
            return title.strip() if isinstance(title, str) and title.strip() else None
    return None


def read_items(document: YamlDocument, policy: RiskPolicy) -> list[Item]:
    """The items of one parsed file: a single item, or ``kind`` + ``items``."""
    root = document.root
    if root is None or _is_empty(root):
        if not document.findings:
            document.report("Q002", "the file holds no items: add `kind:` and `items:`, or remove the file", None)
        return []
    if not document.allowed_tag(root):
        return []
    reader = _ItemReader(document, policy)
    if not isinstance(root, yaml.MappingNode):
        document.report(
            "Q002",
            "an item file must be a mapping: one item (with `id`), or `kind:` and a list under `items:`",
            root,
        )
        return []
    keys = {key for key, _, _ in ((str(k.value), k, v) for k, v in root.value if isinstance(k, yaml.ScalarNode))}
    if "items" not in keys:
        if "id" not in keys:
            document.report(
                "Q002",
                "not an item file: expected `id` (one item) or `items` (a list of items)",
                root,
            )
            return []
        item = reader.read(root, None)
        return [item] if item else []
    default_kind: str | None = None
    items_node: yaml.Node | None = None
    for key, key_node, value_node in document.mapping(root):
        if key == "kind":
            default_kind = text_of(value_node)
            if default_kind not in KINDS:
                document.report(
                    "Q002",
                    f"unknown kind '{default_kind}'{_suggest(default_kind or '', KINDS)}; kinds: {', '.join(KINDS)}",
                    value_node,
                )
                default_kind = default_kind or "unknown"  # reported once here, not per item
        elif key == "items":
            items_node = value_node
        elif key == "title":
            if not isinstance(text_of(value_node), str) or not str(text_of(value_node)).strip():
                document.report(
                    "Q002", "`title` of the file must be text: the heading its items are shown under", value_node
                )
        elif not key.startswith(EXTENSION_PREFIX):
            document.report(
                "Q002",
                f"unknown top-level field '{key}'{_suggest(key, _LIST_FILE_KEYS)}; "
                "a list file has `kind`, `title` and `items`",
                key_node,
            )
    if items_node is None or _is_empty(items_node):
        return []
    if not isinstance(items_node, yaml.SequenceNode):
        document.report("Q002", "`items` must be a list of items (each starting with `- id: ...`)", items_node)
        return []
    if not document.allowed_tag(items_node):
        return []
    if default_kind is None:
        reader.kindless = []
    items = []
    for node in items_node.value:
        item = reader.read(node, default_kind)
        if item is not None:
            items.append(item)
    if reader.kindless:
        shown = ", ".join(reader.kindless[:5]) + (
            f" and {len(reader.kindless) - 5} more" if len(reader.kindless) > 5 else ""
        )
        document.report(
            "Q002",
            f"the file has no `kind` and items {shown} name none: add `kind: one of {', '.join(KINDS)}` "
            "at the top (or to each item)",
            root,
        )
    return items


@dataclass(frozen=True, slots=True)
class LoadedFile:
    """What one item file gives the project: the heading of a list file, its items, and what is
    wrong in it (in the order found)."""

    title: str | None
    items: tuple[Item, ...]
    findings: tuple[Finding, ...]


def loaded(document: YamlDocument, policy: RiskPolicy) -> LoadedFile:
    """The items, title and findings of one parsed file."""
    items = read_items(document, policy)
    return LoadedFile(file_title(document), tuple(items), tuple(document.findings))


def load_file(file: Path, path: str, policy: RiskPolicy) -> LoadedFile:
    """Read and parse one item file (``path`` is relative to the project root, with ``/``)."""
    return loaded(read_yaml(file, path), policy)
