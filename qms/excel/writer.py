"""The plan of an import as new file texts: each file edited once, and read back as ``qms check``
will read it before anything is written (every field as planned, no new finding)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from qms.excel.cells import comparable
from qms.excel.changes import FieldChange, ImportResult, NewItem, Place, Refusal
from qms.excel.journal import FileWrite
from qms.excel.targets import TargetRefused, checked_target, real_target
from qms.excel.yamledit import REMOVE, EditError, ItemFileEditor
from qms.loading import read_items
from qms.model import Finding, Item, Project
from qms.risk import RiskPolicy
from qms.schema import KINDS
from qms.yamlfile import parse_yaml

#: findings that make a file unsafe to edit: it cannot be parsed, or it has a duplicate key
_UNEDITABLE = ("Q001", "Q004")


class Writer:
    """Turns the plan into new file texts, and checks each one reads back exactly as planned."""

    def __init__(self, project: Project, result: ImportResult) -> None:
        self.project = project
        self.result = result
        self.editors: dict[str, ItemFileEditor] = {}
        self.places: dict[str, Place] = {}
        self.texts: dict[str, str | None] = {}  # each file's text as read
        self.targets: dict[str, Path] = {}  # each file's real path (symlinks resolved)
        #: the findings qms reports for each file now: a file with a syntax error or a duplicate key is not edited
        self.unreadable: dict[str, Finding] = {}
        for finding in project.load_findings:
            if finding.rule in _UNEDITABLE:
                self.unreadable.setdefault(finding.location.file, finding)

    def editor(self, path: str, kind: str | None, place: Place) -> ItemFileEditor | None:
        found = self.editors.get(path)
        if found is not None:
            return found
        finding = self.unreadable.get(path)
        if finding is not None:
            self.result.refusals.append(
                Refusal(
                    place,
                    f"{finding.location}: {finding.message} ({finding.rule}): correct {path} first "
                    "(`qms check` lists what is wrong), then import again",
                )
            )
            return None
        try:
            checked = checked_target(self.project, path)
            target = real_target(self.project, checked)
            if target in self.targets.values():
                raise TargetRefused(f"{path} is the same file as another one this import writes: name one of them")
            text = target.read_bytes().decode("utf-8") if target.exists() else None
            found = ItemFileEditor(path, text, self.project.config.risk_policy, kind)
        except (OSError, UnicodeDecodeError, EditError, TargetRefused) as error:
            self.result.refusals.append(Refusal(place, str(error)))
            return None
        self.editors[path] = found
        self.places[path] = place
        self.texts[path] = text
        self.targets[path] = target
        return found

    def plan(self, changes: list[FieldChange], new_items: list[NewItem], deleted: list[Item]) -> None:
        for change in changes:
            editor = self.editor(change.item.file, None, change.place)
            if editor is not None:
                editor.set_field(change.item.id, change.field, change.value)
        for new in new_items:
            editor = self.editor(new.file, new.kind, new.place)
            if editor is None:
                continue
            try:
                editor.add_item(new.item_id, new.kind, _ordered(new), new.after)
            except EditError as error:
                self.result.refusals.append(Refusal(new.place, str(error)))
        for item in deleted:
            editor = self.editor(item.file, None, Place(""))
            if editor is not None:
                editor.delete_item(item.id)

    def render(self, changes: list[FieldChange], new_items: list[NewItem], deleted: list[Item]) -> None:
        for path, editor in self.editors.items():
            try:
                text = editor.render()
            except EditError as error:
                self.result.refusals.append(Refusal(self.places[path], str(error)))
                continue
            old = self.texts[path]
            self._verify(path, old, text, changes, new_items, deleted)
            if text != old:
                self.result.files[path] = (old, text)

    def _verify(
        self,
        path: str,
        old: str | None,
        text: str | None,
        changes: list[FieldChange],
        new_items: list[NewItem],
        deleted: list[Item],
    ) -> None:
        """Read the new text as ``qms check`` will, and compare with the plan: every field, no new finding."""
        if text is None:
            return
        policy = self.project.config.risk_policy
        expected: dict[str, tuple[str, dict[str, Any]]] = {}
        gone = {item.id for item in deleted}
        for item in self.project:
            if item.file == path and item.id not in gone:
                expected.setdefault(item.id, (item.kind, dict(item.fields)))
        for change in changes:
            if change.item.file == path:
                fields = expected[change.item.id][1]
                if change.value is REMOVE:
                    fields.pop(change.field, None)
                else:
                    fields[change.field] = change.value
        for new in new_items:
            if new.file == path:
                expected[new.item_id] = (new.kind, dict(new.fields))
        document = parse_yaml(text.removeprefix("\ufeff"), path)
        found = {item.id: item for item in read_items(document, policy)}
        place = self.places.get(path)
        for finding in _new_findings(old, document.findings, path, policy):
            self.result.refusals.append(
                Refusal(place, f"the edit would give {finding.location}: {finding.rule} {finding.message}")
            )
        if set(found) != set(expected):
            self.result.refusals.append(
                Refusal(
                    place,
                    f"writing {path} went wrong (items {sorted(set(found) ^ set(expected))}); nothing was written",
                )
            )
            return
        for item_id, (kind, fields) in expected.items():
            item = found[item_id]
            for name in set(fields) | set(item.fields):
                if comparable(self.project, kind, name, fields.get(name)) != comparable(
                    self.project, kind, name, item.fields.get(name)
                ):
                    self.result.refusals.append(
                        Refusal(
                            place,
                            f"{item_id} {name}: qms cannot write this edit into {path} so that the file "
                            "reads back exactly as the cell says (a limit of qms: please report it); nothing was "
                            f"written: make this edit in {path} itself",
                        )
                    )

    def writes(self) -> list[FileWrite]:
        """The planned writes, each file's old and new bytes."""
        return [
            FileWrite(
                path,
                self.targets[path],
                None if old is None else old.encode("utf-8"),
                None if new is None else new.encode("utf-8"),
            )
            for path, (old, new) in self.result.files.items()
        ]


def _new_findings(old: str | None, findings: list[Finding], path: str, policy: RiskPolicy) -> list[Finding]:
    """Findings of the new text that the old text did not have (counted per rule and item)."""
    remaining: Counter[tuple[str, str | None]] = Counter()
    if old is not None:
        before = parse_yaml(old.removeprefix("\ufeff"), path)
        read_items(before, policy)
        remaining.update((finding.rule, finding.item) for finding in before.findings)
    new = []
    for finding in findings:
        key = (finding.rule, finding.item)
        if remaining[key] > 0:
            remaining[key] -= 1
        else:
            new.append(finding)
    return new


def _ordered(new: NewItem) -> dict[str, Any]:
    """A new item's fields in schema order, extension fields after."""
    order = KINDS[new.kind].field_names
    known = [name for name in order if name in new.fields]
    return {name: new.fields[name] for name in [*known, *(name for name in new.fields if name not in order)]}
