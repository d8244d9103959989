"""``qms check --format``: text, json, junit, sarif and github, through the real command line.

SARIF output is validated against the official SARIF 2.1.0 JSON Schema (tests/fixtures/sarif).
"""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from junitparser import Failure, JUnitXml, Skipped

from qms.rules import RULES, ordered_rules

HERE = Path(__file__).parent
BASE = HERE / "scenarios" / "_base"
SARIF_SCHEMA = json.loads((HERE / "fixtures" / "sarif" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))

#: seeded defects: an error (T103), a warning (S303), a loader error without item (Q001)
DEFECTS = {
    "items/more.yaml": """\
kind: system_requirement
items:
  - id: SYS-2
    title: Alarm silence
    text: The system shall let the user silence an alarm for 15 minutes.
    derives_from: [NEED-1]

  - id: SOUP-2
    kind: soup
    title: JSON parser
    version: 2.3.1
    supplier: Open Source Project
    known_anomalies: []
""",
    "items/broken.yaml": "kind: need\nitems: [\n",
}
EXPECTED = [
    ("Q001", "error", None, "items/broken.yaml", 3, 1),
    ("T103", "error", "SYS-2", "items/more.yaml", 3, 5),
    ("S303", "warning", "SOUP-2", "items/more.yaml", 8, 5),
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(BASE, root)
    for relative, text in DEFECTS.items():
        (root / relative).write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    return Path(shutil.copytree(BASE, tmp_path / "clean"))


def check(run_qms: Callable[..., Any], root: Path, *args: str) -> tuple[int, str]:
    result = run_qms("check", *args, cwd=root)
    return result.exit_code, result.stdout


def test_text_is_compiler_style_in_root_cause_order_then_a_summary(project: Path, run_qms: Callable[..., Any]) -> None:
    code, output = check(run_qms, project)
    assert code == 1
    assert output.splitlines() == [
        "items/broken.yaml:3:1: error Q001: YAML syntax error: while parsing a flow node: did not find expected "
        "node content",
        "",
        "items/more.yaml:3:5: error T103 SYS-2: not verified by any test",
        "",
        "items/more.yaml:8:5: warning S303 SOUP-2: not used by any software item",
        "",
        "13 items in 7 files: 2 errors, 1 warning",
        "next: `qms rule Q001` explains the first finding",
    ]


def test_json_shape(project: Path, run_qms: Callable[..., Any]) -> None:
    code, output = check(run_qms, project, "--format", "json")
    document = json.loads(output)
    assert code == 1
    assert set(document) == {"version", "findings", "summary"}
    assert document["version"] == 1
    assert document["summary"] == {"items": 13, "errors": 2, "warnings": 1, "folded": 0}
    found = [(f["rule"], f["severity"], f["item"], f["file"], f["line"], f["column"]) for f in document["findings"]]
    assert found == EXPECTED
    for finding in document["findings"]:
        assert set(finding) == {"rule", "severity", "item", "file", "line", "column", "message"}
        assert finding["message"]
    assert document["findings"][1]["message"] == "not verified by any test"


def test_json_of_a_clean_project(clean: Path, run_qms: Callable[..., Any]) -> None:
    code, output = check(run_qms, clean, "--format", "json")
    assert (code, json.loads(output)) == (
        0,
        {"version": 1, "findings": [], "summary": {"items": 11, "errors": 0, "warnings": 0, "folded": 0}},
    )


def test_junit_has_one_testcase_per_rule_and_failures_list_findings(project: Path, run_qms: Callable[..., Any]) -> None:
    code, output = check(run_qms, project, "--format", "junit")
    assert code == 1
    xml = JUnitXml.fromstring(output.encode("utf-8"))
    suites = list(xml)
    assert len(suites) == 1
    cases = list(suites[0])
    assert [case.name for case in cases] == [f"{code} {rule.name}" for code, rule in ordered_rules()]
    assert len(cases) == len(RULES)
    failed = {case.name.split()[0]: case for case in cases if any(isinstance(r, Failure) for r in case.result)}
    assert sorted(failed) == ["Q001", "S303", "T103"]
    t103 = next(r for r in failed["T103"].result if isinstance(r, Failure))
    assert t103.type == "error"
    assert t103.message == "1 finding: requirement not verified by any test"
    assert t103.text == "items/more.yaml:3:5: error T103 SYS-2: not verified by any test"
    s303 = next(r for r in failed["S303"].result if isinstance(r, Failure))
    assert s303.type == "warning"
    root = ET.fromstring(output)
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == (str(len(RULES)), "3", "0")
    assert cases[0].classname == "qms.integrity"


def test_junit_marks_rules_that_are_off_as_skipped(clean: Path, run_qms: Callable[..., Any]) -> None:
    (clean / "qms.yaml").write_text(
        (clean / "qms.yaml")
        .read_text(encoding="utf-8")
        .replace("software_safety_class: C", "software_safety_class: A"),
        encoding="utf-8",
    )
    code, output = check(run_qms, clean, "--format", "junit")
    cases = list(next(iter(JUnitXml.fromstring(output.encode("utf-8")))))
    skipped = sorted(case.name.split()[0] for case in cases if any(isinstance(r, Skipped) for r in case.result))
    off_for_class_a = sorted(code for code, rule in RULES.items() if "A" not in rule.classes)
    assert code == 0 and skipped == off_for_class_a
    assert {"T105", "S302"} <= set(skipped)


def test_junit_stays_well_formed_with_control_characters_in_a_message(clean: Path, run_qms: Callable[..., Any]) -> None:
    (clean / "items" / "odd.yaml").write_text(
        'id: TST-9\nkind: test\ntitle: t\nmethod: test\nverifies: [SYS-1]\n"bad\\x01key": 1\n', encoding="utf-8"
    )
    code, output = check(run_qms, clean, "--format", "junit")
    root = ET.fromstring(output)  # raises on characters XML does not allow
    assert code == 1
    assert "bad\\x01key" in "".join(root.itertext())  # shown as an escape, as on a terminal


def test_sarif_validates_against_the_sarif_2_1_0_schema(project: Path, run_qms: Callable[..., Any]) -> None:
    code, output = check(run_qms, project, "--format", "sarif")
    document = json.loads(output)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(document)
    assert code == 1
    assert document["version"] == "2.1.0"
    (run,) = document["runs"]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == [code for code, _ in ordered_rules()]
    results = [
        (
            result["ruleId"],
            result["level"],
            result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            result["locations"][0]["physicalLocation"]["region"]["startLine"],
            result["locations"][0]["physicalLocation"]["region"]["startColumn"],
        )
        for result in run["results"]
    ]
    assert results == [(rule, level, file, line, column) for rule, level, _, file, line, column in EXPECTED]
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    t103 = run["results"][1]
    assert t103["message"]["text"] == "SYS-2: not verified by any test"
    assert t103["locations"][0]["logicalLocations"] == [{"name": "SYS-2", "kind": "object"}]


def test_sarif_of_a_clean_project_validates(clean: Path, run_qms: Callable[..., Any]) -> None:
    code, output = check(run_qms, clean, "--format", "sarif")
    document = json.loads(output)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(document)
    assert (code, document["runs"][0]["results"]) == (0, [])


def test_sarif_schema_check_is_not_vacuous() -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft4Validator(SARIF_SCHEMA).validate({"version": "2.1.0", "runs": [{"results": []}]})


def test_github_annotations(project: Path, run_qms: Callable[..., Any]) -> None:
    code, output = check(run_qms, project, "--format", "github")
    assert code == 1
    assert output.splitlines() == [
        "::error file=items/broken.yaml,line=3,col=1,title=Q001::YAML syntax error: while parsing a flow node: "
        "did not find expected node content",
        "::error file=items/more.yaml,line=3,col=5,title=T103 SYS-2::not verified by any test",
        "::warning file=items/more.yaml,line=8,col=5,title=S303 SOUP-2::not used by any software item",
        "13 items in 7 files: 2 errors, 1 warning",
    ]


def test_github_annotations_escape_what_workflow_commands_reserve(clean: Path, run_qms: Callable[..., Any]) -> None:
    (clean / "items" / "a,b:c%.yaml").write_text(
        'id: TST-9\nkind: test\ntitle: t\nmethod: test\nverifies: [SYS-1]\n"50%,\\nnew:line": 1\n', encoding="utf-8"
    )
    code, output = check(run_qms, clean, "--format", "github")
    (annotation,) = [line for line in output.splitlines() if line.startswith("::") and "E405" not in line]
    properties, message = annotation[len("::error ") :].split("::", 1)
    assert properties == "file=items/a%2Cb%3Ac%25.yaml,line=6,col=1,title=TST-9 Q002".replace(
        "TST-9 Q002", "Q002 TST-9"
    )
    assert message.startswith("unknown field '50%25,%0Anew:line' for a test")
    assert "\n" not in message and code == 1


@pytest.mark.parametrize("output_format", ["text", "json", "junit", "sarif", "github"])
def test_output_file_holds_the_report_and_stdout_the_summary(
    project: Path, run_qms: Callable[..., Any], output_format: str
) -> None:
    expected = run_qms("check", "--format", output_format, cwd=project).stdout
    result = run_qms("check", "--format", output_format, "--output", "reports/qms.out", cwd=project)
    assert result.exit_code == 1
    assert (project / "reports" / "qms.out").read_text(encoding="utf-8") == expected
    assert result.stdout == "13 items in 7 files: 2 errors, 1 warning\n"


#: escape sequences (screen clear, OSC-8 hyperlink, C1 CSI, DEL) and a bidirectional override
HOSTILE_ID = "NEED-9\x1b[2J"
HOSTILE_FILE = (
    'kind: need\nitems:\n  - id: "NEED-9\\e[2J"\n    title: "\\e]8;;http://evil.example\\e\\\\x"\n    bad: 1\n'
)
RAW = {"\x1b", "\x9b", "\x7f", "\u202e", "\u2066", "\r"}


@pytest.mark.parametrize("output_format", ["text", "json", "junit", "sarif", "github"])
def test_control_characters_of_user_data_never_reach_the_terminal(
    clean: Path, run_qms: Callable[..., Any], output_format: str
) -> None:
    (clean / "items" / "hostile\u202e\x9b\x7f\u2066.yaml").write_text(HOSTILE_FILE, encoding="utf-8")
    code, output = check(run_qms, clean, "--format", output_format)
    assert code == 1
    assert not set(output) & RAW
    assert "NEED-9\\x1b[2J" in output or "NEED-9\\u001b[2J" in output
    if output_format in ("json", "sarif"):  # JSON escapes: the same data (SARIF percent-encodes the file)
        texts = "\0".join(_strings(json.loads(output)))
        assert HOSTILE_ID in texts
        assert "hostile\u202e\x9b\x7f\u2066.yaml" in texts or "hostile%E2%80%AE%C2%9B%7F%E2%81%A6.yaml" in texts


def _strings(data: Any) -> list[str]:
    if isinstance(data, str):
        return [data]
    values = data.values() if isinstance(data, dict) else data if isinstance(data, list) else []
    return [text for value in values for text in _strings(value)]


def test_text_keeps_one_finding_per_line_whatever_the_id(make_project: Callable[..., Path], run_qms: Any) -> None:
    root = make_project({"items/needs.yaml": 'kind: need\nitems:\n  - id: "NEED-1\\n"\n    title: t\n    text: t\n'})
    lines = run_qms("check", "--all", cwd=root).stdout.splitlines()  # the two that follow from the bad id too
    findings = [line.strip() for line in lines if " error " in line]
    assert len(findings) == 3 and len(lines) == len(findings) + 3  # a blank line, the summary, what to run next
    assert all(line.startswith("items/needs.yaml:3:") for line in findings)
    assert findings[0].startswith("items/needs.yaml:3:9: error Q002 NEED-1\\n: id 'NEED-1\\n' is not valid")


def test_sarif_uris_are_percent_encoded_relative_references(clean: Path, run_qms: Callable[..., Any]) -> None:
    (clean / "items" / "my file #1 é%?.yaml").write_text("kind: need\nitems: [\n", encoding="utf-8")
    broken_results = clean.parent / "outside results.xml"
    broken_results.write_text("<testsuite><testcase", encoding="utf-8")
    code, output = check(run_qms, clean, "--format", "sarif", "--results", str(broken_results))
    document = json.loads(output)
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(document)
    (run,) = document["runs"]
    locations = [result["locations"][0]["physicalLocation"]["artifactLocation"] for result in run["results"]]
    assert {"uri": "items/my%20file%20%231%20%C3%A9%25%3F.yaml", "uriBaseId": "PROJECTROOT"} in locations
    assert {"uri": broken_results.as_uri()} in locations  # outside the project: an absolute file URI
    assert "%20results.xml" in broken_results.as_uri()
    assert run["originalUriBaseIds"] == {"PROJECTROOT": {"description": {"text": "The folder holding qms.yaml."}}}
    assert code == 1
