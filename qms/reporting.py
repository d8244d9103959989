"""Findings out: text for people, JSON, JUnit XML, SARIF 2.1.0 and GitHub annotations for machines."""

from __future__ import annotations

import re
import shlex
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from qms import __version__
from qms.causes import Folded
from qms.model import Finding, Project, Severity
from qms.rules import RULES, Rule, ordered_rules
from qms.terminal import emphasized, json_text, plural, printable

FORMATS = ("text", "json", "junit", "sarif", "github")


@dataclass(frozen=True)
class Summary:
    items: int
    files: int
    errors: int
    warnings: int
    #: findings that follow from another: not counted in ``errors`` and ``warnings``
    folded: int = 0

    @classmethod
    def of(cls, project: Project, folded: Folded) -> Summary:
        roots = folded.roots
        errors = sum(1 for finding in roots if finding.severity is Severity.ERROR)
        return cls(len(project.items), len(project.files), errors, len(roots) - errors, len(folded.causes))

    def line(self) -> str:
        counts = f"{plural(self.items, 'item')} in {plural(self.files, 'file')}"
        if not self.errors and not self.warnings:
            return f"{counts}: no findings"
        line = f"{counts}: {plural(self.errors, 'error')}, {plural(self.warnings, 'warning')}"
        if self.folded:
            line += f"; {self.folded} more {'follows' if self.folded == 1 else 'follow'} from these"
        return line


def _finding_line(finding: Finding, color: bool) -> str:
    severity = finding.severity.value
    if color:
        severity = emphasized(severity, "red" if finding.severity is Severity.ERROR else "yellow")
    item = f" {printable(finding.item)}" if finding.item else ""
    return f"{printable(str(finding.location))}: {severity} {finding.rule}{item}: {printable(finding.message)}"


def _cause_note(folded: Folded, finding: Finding) -> str:
    cause = folded.causes.get(finding)
    return "" if cause is None else f" (follows from {cause.rule} at {printable(str(cause.location))})"


_COMMAND = re.compile(r"`(qms [^`]+)`")


def next_steps(folded: Folded, everything: bool = False, project_dir: Path | None = None) -> str:
    """The one or two commands to run next: for the first root cause, and to see what follows from it.

    With ``project_dir`` (the check was given ``--project``), each command carries it too, so it can
    be pasted into the same shell."""
    roots = folded.roots
    if not roots:
        return ""
    where = "" if project_dir is None else f" --project {shlex.quote(str(project_dir))}"
    first = roots[0]
    command = _COMMAND.search(first.message)
    steps = [
        f"`{command.group(1)}{where}`, as the first finding says"
        if command
        else f"`qms rule {first.rule}{where}` explains the first finding"
    ]
    folded_count = len(folded.causes)
    if folded_count and not everything:
        what = "the finding that follows" if folded_count == 1 else f"the {folded_count} findings that follow"
        steps.append(f"`qms check --all{where}` also shows {what} from these")
    return "next: " + "; ".join(steps)


def format_text(
    project: Project,
    folded: Folded,
    color: bool = False,
    everything: bool = False,
    project_dir: Path | None = None,
) -> str:
    """Compiler-style lines in root-cause order, one block per rule family (with ``everything``, each
    root's consequences indented under it), then a one-line summary and the commands to run next
    (naming ``project_dir`` when the check was given one)."""
    blocks = []
    for _, group in groupby(folded.roots, key=lambda finding: finding.rule[0]):
        lines = []
        for finding in group:
            lines.append(_finding_line(finding, color))
            if everything:
                lines += [f"    {_finding_line(consequence, color)}" for consequence in folded.consequences(finding)]
        blocks.append("\n".join(lines))
    ending = [Summary.of(project, folded).line()]
    if steps := next_steps(folded, everything, project_dir):
        ending.append(steps)
    return "\n\n".join([*blocks, "\n".join(ending)]) + "\n"


def _cause_json(folded: Folded, finding: Finding) -> dict[str, object]:
    cause = folded.causes.get(finding)
    if cause is None:
        return {}
    location = cause.location
    return {
        "cause": {
            "rule": cause.rule,
            "item": cause.item,
            "file": location.file,
            "line": location.line,
            "column": location.column,
        }
    }


def format_json(project: Project, folded: Folded) -> str:
    """Every finding in root-cause order; one that follows from another names it as its ``cause``."""
    summary = Summary.of(project, folded)
    document = {
        "version": 1,
        "findings": [
            {
                "rule": finding.rule,
                "severity": finding.severity.value,
                "item": finding.item,
                "file": finding.location.file,
                "line": finding.location.line,
                "column": finding.location.column,
                "message": finding.message,
                **_cause_json(folded, finding),
            }
            for finding in folded.findings
        ],
        "summary": {
            "items": summary.items,
            "errors": summary.errors,
            "warnings": summary.warnings,
            "folded": summary.folded,
        },
    }
    return json_text(document) + "\n"


def format_junit(project: Project, folded: Folded) -> str:
    """One test case per rule; a rule with findings fails and lists them, each that follows from
    another with its cause."""
    by_rule: dict[str, list[Finding]] = {}
    for finding in folded.findings:
        by_rule.setdefault(finding.rule, []).append(finding)
    suite = ET.Element("testsuite", name="qms check")
    failures = skipped = 0
    for code, registered in ordered_rules():
        severity = registered.severity_for(project)
        case = ET.SubElement(
            suite, "testcase", classname=f"qms.{registered.group.replace(' ', '_')}", name=f"{code} {registered.name}"
        )
        found = by_rule.get(code, [])
        if severity is Severity.OFF:
            ET.SubElement(case, "skipped", message=f"{code} is off for this project")
            skipped += 1
        elif found:
            failure = ET.SubElement(
                case,
                "failure",
                message=f"{plural(len(found), 'finding')}: {registered.summary}",
                type=severity.value,
            )
            failure.text = _xml_safe(
                "\n".join(_finding_line(finding, False) + _cause_note(folded, finding) for finding in found)
            )
            failures += 1
    suite.set("tests", str(len(RULES)))
    suite.set("failures", str(failures))
    suite.set("errors", "0")
    suite.set("skipped", str(skipped))
    root = ET.Element(
        "testsuites", name="qms", tests=str(len(RULES)), failures=str(failures), errors="0", skipped=str(skipped)
    )
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


#: characters XML 1.0 does not allow, even escaped (YAML lets a quoted string hold them)
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _xml_safe(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _sarif_rule(registered: Rule) -> dict[str, object]:
    return {
        "id": registered.code,
        "name": "".join(part.capitalize() for part in registered.name.split("-")),
        "shortDescription": {"text": registered.summary},
        "fullDescription": {"text": registered.explanation},
        "help": {"text": registered.explanation},
        "defaultConfiguration": {"level": "warning" if registered.default is Severity.WARNING else "error"},
        "properties": {"tags": [registered.group]},
    }


def _artifact_location(file: str) -> dict[str, str]:
    """Where a finding is, as SARIF 2.1.0 (3.4, 3.10) wants it: a URI reference, percent-encoded.

    A path relative to the project root (``../`` for a file beside it) is relative to the base
    id PROJECTROOT; an absolute path (a result file named on the command line) is a file URI.
    """
    if PurePosixPath(file).is_absolute():
        return {"uri": Path(file).as_uri()}
    return {"uri": quote(file, safe="/"), "uriBaseId": "PROJECTROOT"}


def format_sarif(project: Project, folded: Folded) -> str:
    """SARIF 2.1.0, with paths relative to the project root (uriBaseId PROJECTROOT); a finding that
    follows from another names it in its property bag (3.8) as ``cause``."""
    codes = [registered.code for _, registered in ordered_rules()]
    index = {code: position for position, code in enumerate(codes)}
    results = []
    for finding in folded.findings:
        physical: dict[str, object] = {"artifactLocation": _artifact_location(finding.location.file)}
        if finding.location.line:
            physical["region"] = {"startLine": finding.location.line, "startColumn": max(finding.location.column, 1)}
        location: dict[str, object] = {"physicalLocation": physical}
        if finding.item:
            location["logicalLocations"] = [{"name": finding.item, "kind": "object"}]
        result: dict[str, object] = {
            "ruleId": finding.rule,
            "ruleIndex": index.get(finding.rule, 0),
            "level": finding.severity.value,
            "message": {"text": f"{finding.item}: {finding.message}" if finding.item else finding.message},
            "locations": [location],
        }
        if cause := _cause_json(folded, finding):
            result["properties"] = cause
        results.append(result)
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "qms",
                        "version": __version__,
                        "rules": [_sarif_rule(RULES[code]) for code in codes],
                    }
                },
                "originalUriBaseIds": {"PROJECTROOT": {"description": {"text": "The folder holding qms.yaml."}}},
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json_text(document) + "\n"


def _escape_data(text: str) -> str:
    return printable(text, lines=True).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def format_github(project: Project, folded: Folded) -> str:
    """GitHub Actions workflow commands: annotations on the files of a pull request, for the root causes."""
    lines = []
    for finding in folded.roots:
        properties = [f"file={_escape_property(finding.location.file)}"]
        if finding.location.line:
            properties += [f"line={finding.location.line}", f"col={finding.location.column}"]
        title = f"{finding.rule} {finding.item}" if finding.item else finding.rule
        properties.append(f"title={_escape_property(title)}")
        lines.append(f"::{finding.severity.value} {','.join(properties)}::{_escape_data(finding.message)}")
    lines.append(Summary.of(project, folded).line())
    return "\n".join(lines) + "\n"


FORMATTERS: dict[str, Callable[[Project, Folded], str]] = {
    "json": format_json,
    "junit": format_junit,
    "sarif": format_sarif,
    "github": format_github,
}
