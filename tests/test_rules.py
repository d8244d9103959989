"""The rules one by one, on small projects: what each finds, where, and that one mistake is one finding.

The scenarios (tests/scenarios) cover one seeded defect per rule through the command line; these
tests take the rules' corner cases: cycles, risk classes, class defaults, severity overrides, and
the DESIGN promise that a broken item still takes part in the graph.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from qms.checking import check_project
from qms.model import Severity
from qms.project import load_project
from qms.rulebook import SPECS
from qms.rules import RULES, CheckContext, ordered_rules, run_rules
from qms.rules import rule as attach_check

Make = Callable[..., Path]


def findings_of(root: Path, *codes: str) -> list[tuple[str, str | None, int, int]]:
    """(code, item, line, column) of every finding, or of those with the given codes."""
    found = check_project(load_project(root))
    return [
        (finding.rule, finding.item, finding.location.line, finding.location.column)
        for finding in found
        if not codes or finding.rule in codes
    ]


SOFTWARE_ITEMS = """\
kind: software_item
items:
  - id: SI-1
    title: Top
    description: d
  - id: SI-2
    title: A
    description: d
    parent: [SI-3]
  - id: SI-3
    title: B
    description: d
    parent: [SI-4]
  - id: SI-4
    title: C
    description: d
    parent: [SI-2, SI-1]
  - id: SI-5
    title: Below the cycle
    description: d
    parent: [SI-2]
  - id: SI-6
    title: Its own parent
    description: d
    parent: [SI-6]
"""


def test_cycles_are_found_once_each_with_their_path(make_project: Make) -> None:
    root = make_project({"items/si.yaml": SOFTWARE_ITEMS})
    found = check_project(load_project(root))
    cycles = [(f.item, f.location.line, f.message) for f in found if f.rule == "Q007"]
    assert cycles == [
        ("SI-2", 9, "cycle in parent: SI-2 -> SI-3 -> SI-4 -> SI-2"),
        ("SI-6", 25, "cycle in parent: SI-6 -> SI-6"),
    ]


def test_a_long_chain_without_a_cycle_is_clean(make_project: Make) -> None:
    entries = "".join(
        f"  - id: SI-{n}\n    title: t\n    description: d\n" + (f"    parent: [SI-{n - 1}]\n" if n > 1 else "")
        for n in range(1, 3001)
    )
    root = make_project({"items/si.yaml": "kind: software_item\nitems:\n" + entries})
    assert findings_of(root, "Q007") == []


HAZARD = """\
  - id: {id}
    title: t
    hazard: h
    hazardous_situation: s
    harm: x
    severity: {severity}
    probability: {probability}
"""


@pytest.mark.parametrize(
    ("severity", "probability", "risk_class"),
    [("Negligible", "Frequent", "R"), ("Minor", "Remote", "A"), ("Serious", "Remote", "R"), ("5", "5", "U")],
)
def test_uncontrolled_risk_follows_the_acceptability_matrix(
    make_project: Make, severity: str, probability: str, risk_class: str
) -> None:
    text = "kind: hazard\nitems:\n" + HAZARD.format(id="HAZ-1", severity=severity, probability=probability)
    found = findings_of(make_project({"items/h.yaml": text}), "R202")
    assert found == ([] if risk_class == "A" else [("R202", "HAZ-1", 3, 5)])


def test_a_severity_not_in_the_policy_is_one_finding_not_also_r201(make_project: Make) -> None:
    text = "kind: hazard\nitems:\n" + HAZARD.format(id="HAZ-1", severity="Deadly", probability="Remote")
    assert findings_of(make_project({"items/h.yaml": text}), "Q002", "R201") == [("Q002", "HAZ-1", 8, 15)]


def test_risk_policy_of_the_project_is_used(make_project: Make) -> None:
    config = """\
device: {name: T, software_safety_class: C}
sources: [items]
risk_policy:
  severity: [{level: 1, name: Low}, {level: 2, name: High}]
  probability: [{level: 1, name: Rare}, {level: 2, name: Often}]
  acceptability: [AA, AU]
"""
    hazards = "kind: hazard\nitems:\n" + HAZARD.format(id="HAZ-1", severity="High", probability="Often")
    hazards += HAZARD.format(id="HAZ-2", severity="Low", probability="Often")
    hazards += HAZARD.format(id="HAZ-3", severity="Serious", probability="Often")
    found = findings_of(make_project({"qms.yaml": config, "items/h.yaml": hazards}), "R202", "Q002")
    assert found == [("R202", "HAZ-1", 3, 5), ("Q002", "HAZ-3", 22, 15)]


def test_a_control_gap_is_r205_not_also_t103(make_project: Make) -> None:
    files = {
        "items/r.yaml": "kind: system_requirement\nitems:\n  - id: SYS-1\n    title: t\n    text: x\n"
        "    derived: Risk control.\n",
        "items/h.yaml": "kind: hazard\nitems:\n"
        + HAZARD.format(id="HAZ-1", severity="Minor", probability="Remote")
        + "    controls: [SYS-1]\n    residual: {severity: Minor, probability: Improbable}\n",
    }
    assert findings_of(make_project(files), "R205", "T103") == [("R205", "SYS-1", 3, 5)]


CLASS_DEPENDENT = {
    "items/r.yaml": """\
kind: software_requirement
items:
  - id: SWR-1
    title: t
    text: x
    derived: A design decision.
  - id: TST-1
    kind: test
    title: t
    method: test
    verifies: [SWR-1]
  - id: SOUP-1
    kind: soup
    title: t
    version: '1'
    supplier: s
  - id: SI-1
    kind: software_item
    title: t
    description: d
    uses: [SOUP-1]
""",
}


@pytest.mark.parametrize(
    ("safety_class", "expected"),
    [("A", []), ("B", ["T105", "E405", "S302", "R217"]), ("C", ["T105", "E405", "S302", "R217"])],
)
def test_class_b_and_c_rules(make_project: Make, safety_class: str, expected: list[str]) -> None:
    root = make_project(CLASS_DEPENDENT, safety_class=safety_class)
    assert [code for code, *_ in findings_of(root)] == expected


def test_rules_override_changes_severity_and_switches_class_rules_on(make_project: Make) -> None:
    config = "device: {name: T, software_safety_class: A}\nsources: [items]\nrules: {T105: warning, S302: error}\n"
    found = check_project(load_project(make_project({**CLASS_DEPENDENT, "qms.yaml": config})))
    assert [(f.rule, f.severity) for f in found] == [("T105", Severity.WARNING), ("S302", Severity.ERROR)]


def test_loader_findings_can_be_lowered_too(make_project: Make) -> None:
    config = "device: {name: T, software_safety_class: C}\nsources: [items]\nrules: {Q002: warning}\n"
    text = "id: NEED-1\nkind: need\ntitle: t\ntext: x\ncolour: red\n"
    found = check_project(load_project(make_project({"qms.yaml": config, "items/n.yaml": text})))
    assert [(f.rule, f.severity) for f in found] == [
        ("T101", Severity.ERROR),
        ("T104", Severity.ERROR),
        ("Q002", Severity.WARNING),
    ]


def test_an_item_with_a_schema_error_still_takes_part_in_the_graph(make_project: Make) -> None:
    files = {
        "items/n.yaml": "id: NEED-1\nkind: need\ntitle: t\n",  # text missing
        "items/s.yaml": "id: SYS-1\nkind: system_requirement\ntitle: t\ntext: x\nderives_from: [NEED-1]\n",
        "items/t.yaml": "id: TST-1\nkind: test\ntitle: t\nmethod: tset\nverifies: [SYS-1]\nvalidates: [NEED-1]\n",
    }
    # TST-1 was never run (E405): a finding of its own, not one that follows from the schema errors
    assert findings_of(make_project(files)) == [
        ("Q002", "NEED-1", 1, 1),
        ("E405", "TST-1", 1, 1),
        ("Q002", "TST-1", 4, 9),
    ]


def test_a_duplicated_id_resolves_to_its_first_definition(make_project: Make) -> None:
    files = {
        "items/a.yaml": "id: NEED-1\nkind: need\ntitle: t\ntext: x\n",
        "items/b.yaml": "id: NEED-1\nkind: system_requirement\ntitle: t\ntext: x\nderived: d\n",
        "items/c.yaml": "id: SYS-1\nkind: system_requirement\ntitle: t\ntext: x\nderives_from: [NEED-1]\n",
        "items/d.yaml": "id: TST-1\nkind: test\ntitle: t\nmethod: test\nverifies: [SYS-1]\nvalidates: [NEED-1]\n",
    }
    found = check_project(load_project(make_project(files)))
    assert [(f.rule, f.item, str(f.location)) for f in found] == [
        ("Q003", "NEED-1", "items/b.yaml:1:1"),
        ("E405", "TST-1", "items/d.yaml:1:1"),  # never run: its own finding
    ]
    assert found[0].message.endswith("already defined at items/a.yaml:1:1; ids must be unique across the project")


def test_link_to_an_unknown_id_is_q005_only(make_project: Make) -> None:
    text = "id: SYS-1\nkind: system_requirement\ntitle: t\ntext: x\nderives_from: [NEED-9]\n"
    test = "id: TST-1\nkind: test\ntitle: t\nmethod: test\nverifies: [SYS-1]\n"
    assert findings_of(make_project({"items/s.yaml": text, "items/t.yaml": test})) == [
        ("Q005", "SYS-1", 5, 16),
        ("E405", "TST-1", 1, 1),
    ]


def test_every_rule_is_data_with_a_face() -> None:
    codes = [code for code, _ in ordered_rules()]
    assert codes[:7] == ["Q001", "Q002", "Q003", "Q004", "Q005", "Q006", "Q007"]
    expected = {f"T10{n}" for n in range(1, 7)} | {f"R20{n}" for n in range(1, 6)} | {"S301", "S302", "S303"}
    assert expected <= set(codes)
    for code, rule in RULES.items():
        assert rule.code == code and rule.name and rule.summary and rule.explanation
        assert rule.default in (Severity.ERROR, Severity.WARNING)
    assert RULES["T105"].classes == RULES["S302"].classes == ("B", "C")
    assert RULES["T106"].default is RULES["S303"].default is Severity.WARNING


def test_rules_can_be_run_alone(make_project: Make) -> None:
    text = "id: NEED-1\nkind: need\ntitle: t\ntext: x\n"
    project = load_project(make_project({"items/n.yaml": text}))
    found = run_rules(CheckContext(project), codes=["T104"])
    assert [(f.rule, f.item) for f in found] == [("T104", "NEED-1")]


def test_every_rule_of_the_rulebook_has_a_check_but_those_the_loader_reports() -> None:
    reported_while_loading = {"Q001", "Q002", "Q003", "Q004"}

    assert set(RULES) == set(SPECS)
    assert {code for code, registered in RULES.items() if registered.check is None} == reported_while_loading


def test_a_check_for_a_code_the_rulebook_lacks_is_refused_at_import() -> None:
    with pytest.raises(KeyError, match=r"rule X999 is not in qms\.rulebook"):
        attach_check("X999")
