"""Findings out: text for people, JSON, JUnit XML, SARIF 2.1.0 and GitHub annotations for machines."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path, PurePosixPath
from urllib.parse import quote

from qms import __version__
from qms.model import Finding, Project, Severity
from qms.rules import RULES, Rule, ordered_rules
from qms.terminal import emphasized, json_text, printable

FORMATS = ("text", "json", "junit", "sarif", "github")


@dataclass(frozen=True)
class Summary:
    items: int
    files: int
    errors: int
    warnings: int

    @classmethod
    def of(cls, project: Project, findings: Sequence[Finding]) -> Summary:
        errors = sum(1 for finding in findings if finding.severity is Severity.ERROR)
        return cls(len(project.items), len(project.files), errors, len(findings) - errors)

    def line(self) -> str:
        counts = f"{_plural(self.items, 'item')} in {_plural(self.files, 'file')}"
        if not self.errors and not self.warnings:
            return f"{counts}: no findings"
        return f"{counts}: {_plural(self.errors, 'error')}, {_plural(self.warnings, 'warning')}"


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _finding_line(finding: Finding, color: bool) -> str:
    severity = finding.severity.value
    if color:
        severity = emphasized(severity, "red" if finding.severity is Severity.ERROR else "yellow")
    item = f" {printable(finding.item)}" if finding.item else ""
    return f"{printable(str(finding.location))}: {severity} {finding.rule}{item}: {printable(finding.message)}"


def format_text(project: Project, findings: Sequence[Finding], color: bool = False) -> str:
    """Compiler-style lines, one block per file, then a one-line summary."""
    blocks = []
    for _, group in groupby(findings, key=lambda finding: finding.location.file):
        blocks.append("\n".join(_finding_line(finding, color) for finding in group))
    summary = Summary.of(project, findings).line()
    return "\n\n".join([*blocks, summary]) + "\n"


def format_json(project: Project, findings: Sequence[Finding]) -> str:
    summary = Summary.of(project, findings)
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
            }
            for finding in findings
        ],
        "summary": {"items": summary.items, "errors": summary.errors, "warnings": summary.warnings},
    }
    return json_text(document) + "\n"


def format_junit(project: Project, findings: Sequence[Finding]) -> str:
    """One test case per rule; a rule with findings fails and lists them."""
    by_rule: dict[str, list[Finding]] = {}
    for finding in findings:
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
                message=f"{_plural(len(found), 'finding')}: {registered.summary}",
                type=severity.value,
            )
            failure.text = _xml_safe("\n".join(_finding_line(finding, False) for finding in found))
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


def format_sarif(project: Project, findings: Sequence[Finding]) -> str:
    """SARIF 2.1.0, with paths relative to the project root (uriBaseId PROJECTROOT)."""
    codes = [registered.code for _, registered in ordered_rules()]
    index = {code: position for position, code in enumerate(codes)}
    results = []
    for finding in findings:
        physical: dict[str, object] = {"artifactLocation": _artifact_location(finding.location.file)}
        if finding.location.line:
            physical["region"] = {"startLine": finding.location.line, "startColumn": max(finding.location.column, 1)}
        location: dict[str, object] = {"physicalLocation": physical}
        if finding.item:
            location["logicalLocations"] = [{"name": finding.item, "kind": "object"}]
        results.append(
            {
                "ruleId": finding.rule,
                "ruleIndex": index.get(finding.rule, 0),
                "level": finding.severity.value,
                "message": {"text": f"{finding.item}: {finding.message}" if finding.item else finding.message},
                "locations": [location],
            }
        )
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


def format_github(project: Project, findings: Sequence[Finding]) -> str:
    """GitHub Actions workflow commands: annotations on the files of a pull request."""
    lines = []
    for finding in findings:
        properties = [f"file={_escape_property(finding.location.file)}"]
        if finding.location.line:
            properties += [f"line={finding.location.line}", f"col={finding.location.column}"]
        title = f"{finding.rule} {finding.item}" if finding.item else finding.rule
        properties.append(f"title={_escape_property(title)}")
        lines.append(f"::{finding.severity.value} {','.join(properties)}::{_escape_data(finding.message)}")
    lines.append(Summary.of(project, findings).line())
    return "\n".join(lines) + "\n"


FORMATTERS: dict[str, Callable[[Project, Sequence[Finding]], str]] = {
    "json": format_json,
    "junit": format_junit,
    "sarif": format_sarif,
    "github": format_github,
}
