"""The YAML loader: every malformed input gives a finding at its place, never an exception.

Each test feeds real text (or bytes) through ``parse_bytes`` / ``read_yaml`` and ``read_items``,
the same path ``qms check`` takes, and asserts on the exact codes, items, lines and columns.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from qms.loading import read_items
from qms.model import Finding, Item
from qms.project import load_project
from qms.risk import DEFAULT_POLICY
from qms.yamlfile import MAX_DEPTH, MAX_FILE_BYTES, MAX_NODES, parse_bytes, parse_yaml, read_yaml

PATH = "items/file.yaml"


def load(source: str | bytes) -> tuple[list[Item], list[tuple[str, str | None, int, int]]]:
    """Items of one file and its findings as (code, item, line, column)."""
    document = parse_bytes(source, PATH) if isinstance(source, bytes) else parse_yaml(source, PATH)
    items = read_items(document, DEFAULT_POLICY)
    return items, [where(finding) for finding in document.findings]


def where(finding: Finding) -> tuple[str, str | None, int, int]:
    assert finding.location.file == PATH
    return finding.rule, finding.item, finding.location.line, finding.location.column


NEED = "kind: need\nitems:\n  - id: NEED-1\n    title: Know the reading\n    text: The user sees it.\n"


def test_a_clean_file_gives_items_with_the_position_of_every_field() -> None:
    items, findings = load(NEED + "    source: Interviews\n")
    assert findings == []
    (need,) = items
    assert (need.id, need.kind, need.title, need.get("source")) == ("NEED-1", "need", "Know the reading", "Interviews")
    assert need.location().line == 3 and need.location().column == 5
    assert (need.location(("title",)).line, need.location(("title",)).column) == (4, 12)
    assert need.location(("source",)).line == 6


def test_syntax_error_is_placed_at_the_line_that_breaks() -> None:
    _, findings = load("kind: need\nitems:\n  - id: NEED-1\n    title: x\n   text: y\n")
    assert findings == [("Q001", None, 5, 4)]


def test_unclosed_quote_is_placed_where_it_opens() -> None:
    items, findings = load('kind: need\nitems:\n  - id: NEED-1\n    title: "Know\n    text: x\n')
    assert (items, findings) == ([], [("Q001", None, 4, 12)])


def test_tab_indentation_says_so() -> None:
    document = parse_yaml("kind: need\nitems:\n\t- id: NEED-1\n", PATH)
    (finding,) = document.findings
    assert (finding.rule, finding.location.line, finding.location.column) == ("Q001", 3, 1)
    assert "tabs" in finding.message


def test_not_utf8_is_placed_at_the_byte() -> None:
    items, findings = load(b"kind: need\nitems:\n  - id: NEED-1\n    title: Caf\xe9\n")
    assert (items, findings) == ([], [("Q001", None, 4, 15)])


def test_utf8_bom_is_accepted_and_does_not_shift_columns() -> None:
    items, findings = load(b"\xef\xbb\xbf" + NEED.encode())
    assert findings == []
    assert items[0].location().column == 5 and items[0].location(("title",)).column == 12


def test_windows_line_endings_are_read() -> None:
    items, findings = load(NEED.replace("\n", "\r\n").encode())
    assert findings == [] and items[0].location(("text",)).line == 5


def test_control_character_is_placed_in_characters_not_bytes() -> None:
    items, findings = load("kind: need\nitems:\n  - id: NEED-1\n    title: éé\x07\n".encode())
    assert (items, findings) == ([], [("Q001", None, 4, 14)])


def test_nul_character_means_not_a_text_file() -> None:
    _, findings = load(b"kind: need\n\x00\x01\x02")
    assert findings == [("Q001", None, 2, 1)]


@pytest.mark.parametrize("text", ["", "\n\n", "# just a comment\n# and another\n", "---\n", "--- # nothing\n...\n"])
def test_empty_file_gives_one_finding(text: str) -> None:
    assert load(text) == ([], [("Q002", None, 1, 1)])


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [("just text\n", 1, 1), ("42\n", 1, 1), ("- SYS-1\n- SWR-1\n", 1, 1), ("- [a]\n- {b: c}\n", 1, 1)],
)
def test_top_level_scalar_or_list_is_not_an_item_file(text: str, line: int, column: int) -> None:
    assert load(text) == ([], [("Q002", None, line, column)])


def test_duplicate_key_keeps_the_first_value_and_reports_the_second() -> None:
    items, findings = load(NEED + "    title: Second title\n")
    assert findings == [("Q004", "NEED-1", 6, 5)]
    assert items[0].title == "Know the reading"


def test_duplicate_key_in_a_nested_mapping() -> None:
    text = (
        "id: HAZ-1\nkind: hazard\ntitle: t\nhazard: h\nhazardous_situation: s\nharm: x\nseverity: 3\n"
        "probability: 2\nresidual: {severity: 1, probability: 1, severity: 2}\n"
    )
    items, findings = load(text)
    assert findings == [("Q004", "HAZ-1", 9, 41)]
    assert dict(items[0].get("residual")) == {"severity": 1, "probability": 1}


@pytest.mark.parametrize(
    "tag",
    ["!!python/object:os.system", "!!python/object/apply:os.system", "!!python/name:os.system", "!custom", "!!binary"],
)
def test_object_building_tags_are_refused(tag: str) -> None:
    items, findings = load(NEED.replace("title: Know the reading", f"title: {tag} x"))
    assert findings == [("Q001", "NEED-1", 4, 12)]
    assert "title" not in items[0].fields


@pytest.mark.parametrize(
    "text",
    [
        "!!python/object:collections.OrderedDict\nid: NEED-1\n",
        "kind: need\nitems: !!python/object:collections.deque\n  - id: NEED-1\n",
        "kind: need\nitems:\n  - !!python/object:collections.OrderedDict\n    id: NEED-1\n",
    ],
)
def test_tagged_collections_are_refused_whole(text: str) -> None:
    items, findings = load(text)
    assert items == [] and [code for code, *_ in findings] == ["Q001"]


def test_alias_bomb_is_refused_once_at_the_anchor_that_blows_up() -> None:
    lines = [NEED.rstrip("\n"), '    x-a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    previous = "a"
    for name in "bcdefgh":
        lines.append(f"    x-{name}: &{name} [{', '.join(['*' + previous] * 9)}]")
        previous = name
    lines += ["    x-i: *h", "    x-j: *h", "  - id: NEED-2", "    title: t", "    text: x", "    x-k: *h"]
    started = time.process_time()
    items, findings = load("\n".join(lines) + "\n")
    assert time.process_time() - started < 30  # a bound against hanging, not a benchmark
    assert findings == [("Q001", "NEED-1", 10, 10)]
    assert [item.id for item in items] == ["NEED-1", "NEED-2"]
    assert items[0].get("x-c") is not None and items[0].get("x-h") is None


def test_harmless_aliases_are_expanded() -> None:
    items, findings = load(
        NEED + "    x-tags: &tags [a, b]\n  - id: NEED-2\n    title: t\n    text: x\n    x-tags: *tags\n"
    )
    assert findings == []
    assert items[1].get("x-tags") == ["a", "b"]


def test_recursive_alias_is_refused() -> None:
    assert load(NEED + "    x-loop: &loop [1, *loop]\n") == ([], [("Q001", None, 6, 23)])


def test_undefined_alias_is_refused() -> None:
    assert load(NEED + "    x-ref: *nowhere\n") == ([], [("Q001", None, 6, 12)])


@pytest.mark.parametrize("opener", ["[", "{a: "])
def test_deep_flow_nesting_is_refused_without_crashing(opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    depth = 200_000  # libyaml's own composer overflows the C stack on this
    _, findings = load(NEED + "    x-deep: " + opener * depth + closer * depth + "\n")
    assert [(code, line) for code, _, line, _ in findings] == [("Q001", 6)]


def test_deep_block_nesting_is_refused_without_crashing() -> None:
    text = NEED + "    x-deep:\n" + "".join("  " * (level + 3) + "-\n" for level in range(MAX_DEPTH + 5))
    _, findings = load(text)
    assert [(code, line) for code, _, line, _ in findings] == [("Q001", 6 + MAX_DEPTH - 2)]


def test_merge_keys_are_refused() -> None:
    text = "kind: need\nitems:\n  - &base\n    id: NEED-1\n    title: t\n    text: x\n  - <<: *base\n    id: NEED-2\n"
    items, findings = load(text)
    assert ("Q001", "NEED-2", 7, 5) in findings
    assert [item.id for item in items] == ["NEED-1", "NEED-2"]


def test_several_documents_are_reported_and_the_first_is_read() -> None:
    items, findings = load(NEED + "---\nkind: need\nitems: []\n")
    assert findings == [("Q001", None, 7, 1)]
    assert [item.id for item in items] == ["NEED-1"]


def test_id_with_spaces_is_reported_at_the_id_and_the_item_still_counts() -> None:
    items, findings = load(NEED.replace("NEED-1", "NEED 1"))
    assert findings == [("Q002", "NEED 1", 3, 9)]
    assert [item.id for item in items] == ["NEED 1"]


@pytest.mark.parametrize("value", ["[SYS-1]", "[1, 2]", "{id: SYS-1}", "''", "~"])
def test_id_that_is_not_a_name(value: str) -> None:
    items, findings = load(NEED.replace("NEED-1", value))
    assert items == [] and [code for code, *_ in findings] == ["Q002"]


def test_link_written_as_a_string_is_one_finding_and_still_links() -> None:
    text = "id: SYS-1\nkind: system_requirement\ntitle: t\ntext: x\nderives_from: NEED-1\n"
    items, findings = load(text)
    assert findings == [("Q002", "SYS-1", 5, 15)]
    assert items[0].links("derives_from") == ("NEED-1",)


def test_link_field_written_on_a_kind_that_has_none_is_one_finding() -> None:
    items, findings = load(NEED + "    derives_from: SYS-001\n")
    assert findings == [("Q002", "NEED-1", 6, 5)]
    assert items[0].get("derives_from") == "SYS-001"  # kept, never dropped


def test_unknown_field_is_kept_and_reported_with_a_suggestion() -> None:
    document = parse_yaml(NEED + "    rationle: Because.\n    x-owner: QA\n", PATH)
    items = read_items(document, DEFAULT_POLICY)
    (finding,) = document.findings
    assert where(finding) == ("Q002", "NEED-1", 6, 5)
    assert "did you mean 'rationale'?" in finding.message
    assert items[0].get("rationle") == "Because." and items[0].get("x-owner") == "QA"


def test_missing_required_fields_are_one_finding_at_the_item() -> None:
    document = parse_yaml("kind: hazard\nitems:\n  - id: HAZ-1\n    title: t\n", PATH)
    read_items(document, DEFAULT_POLICY)
    (finding,) = document.findings
    assert where(finding) == ("Q002", "HAZ-1", 3, 5)
    assert finding.message == "missing required fields 'hazard', 'hazardous_situation', 'harm' for a hazard"


@pytest.mark.parametrize(
    ("field", "value", "column"),
    [
        ("severity", "Deadly", 11),
        ("severity", "6", 11),
        ("severity", "0", 11),
        ("severity", "[3]", 11),
        ("probability", "Sometimes", 14),
        ("probability", "true", 14),
    ],
)
def test_level_not_in_the_policy(field: str, value: str, column: int) -> None:
    lines = ["id: HAZ-1", "kind: hazard", "title: t", "hazard: h", "hazardous_situation: s", "harm: x"]
    lines += ["severity: Serious", "probability: Remote"]
    index = 6 if field == "severity" else 7
    lines[index] = f"{field}: {value}"
    items, findings = load("\n".join(lines) + "\n")
    assert findings == [("Q002", "HAZ-1", index + 1, column)]
    assert field not in items[0].fields


def test_levels_by_name_are_case_insensitive_and_stored_as_numbers() -> None:
    text = (
        "id: HAZ-1\nkind: hazard\ntitle: t\nhazard: h\nhazardous_situation: s\nharm: x\nseverity: serious\n"
        "probability: 2\nresidual: {severity: CRITICAL, probability: Improbable}\n"
    )
    items, findings = load(text)
    assert findings == []
    assert (items[0].get("severity"), items[0].get("probability")) == (3, 2)
    assert dict(items[0].get("residual")) == {"severity": 4, "probability": 1}


def test_text_fields_keep_what_was_written() -> None:
    text = "id: SOUP-1\nkind: soup\ntitle: yes\nversion: 2.10\nsupplier: 2024-01-02\nlicense: 'on'\n"
    items, findings = load(text + "known_anomalies: []\n")
    assert findings == []
    soup = items[0]
    assert (soup.title, soup.get("version"), soup.get("supplier"), soup.get("license")) == (
        "yes",
        "2.10",
        "2024-01-02",
        "on",
    )


def test_wrong_shapes_are_reported_where_they_are() -> None:
    text = (
        "id: TST-1\nkind: test\ntitle: [a, b]\nmethod: test\nsteps: Do it.\nverifies: {id: SYS-1}\n"
        "validates: [NEED-1, [x], '', bad id]\n"
    )
    items, findings = load(text)
    assert findings == [
        ("Q002", "TST-1", 3, 8),
        ("Q002", "TST-1", 5, 8),
        ("Q002", "TST-1", 6, 11),
        ("Q002", "TST-1", 7, 21),
        ("Q002", "TST-1", 7, 26),
        ("Q002", "TST-1", 7, 30),
    ]
    assert items[0].get("steps") == ("Do it.",) and items[0].links("validates") == ("NEED-1",)


def test_item_of_unknown_kind_still_takes_part_in_the_graph() -> None:
    items, findings = load("id: X-1\nkind: requirment\ntitle: t\n")
    assert findings == [("Q002", "X-1", 2, 7)]
    assert (items[0].id, items[0].kind) == ("X-1", "requirment")


def test_list_file_with_unknown_kind_is_one_finding_for_all_its_items() -> None:
    items, findings = load("kind: requirment\nitems:\n  - id: A-1\n    title: t\n  - id: A-2\n    title: t\n")
    assert findings == [("Q002", None, 1, 7)]
    assert [item.id for item in items] == ["A-1", "A-2"]


def test_list_file_items_that_are_not_mappings() -> None:
    items, findings = load("kind: need\nitems:\n  - NEED-1\n  - id: NEED-2\n    title: t\n    text: x\n")
    assert findings == [("Q002", None, 3, 5)]
    assert [item.id for item in items] == ["NEED-2"]


def test_non_string_keys_are_reported() -> None:
    _, findings = load(NEED + "    [a, b]: c\n    ? {x: 1}\n    : d\n    ~: e\n")
    assert [(code, line) for code, _, line, _ in findings] == [("Q002", 6), ("Q002", 7), ("Q002", 9)]


def test_unreadable_file_is_a_finding(tmp_path: Path) -> None:
    folder = tmp_path / "folder.yaml"
    folder.mkdir()
    document = read_yaml(folder, PATH)
    assert [where(finding) for finding in document.findings] == [("Q001", None, 1, 1)]


def test_a_20_mb_file_is_refused_with_one_finding(tmp_path: Path) -> None:
    (tmp_path / "items").mkdir()
    entry = "  - id: SWR-{n:06d}\n    title: Requirement {n}\n    text: The software shall do thing {n}.\n"
    big = "kind: software_requirement\nitems:\n" + "".join(entry.format(n=n) for n in range(260_000))
    assert len(big) > 20 * 1024 * 1024
    (tmp_path / "items" / "big.yaml").write_text(big, encoding="utf-8")
    (tmp_path / "items" / "small.yaml").write_text(NEED, encoding="utf-8")
    (tmp_path / "qms.yaml").write_text("device: {name: Big, software_safety_class: A}\nsources: [items]\n")
    project = load_project(tmp_path)
    (finding,) = project.load_findings
    assert (finding.rule, str(finding.location)) == ("Q001", "items/big.yaml:1:1")
    assert finding.message.startswith(f"the file is {len(big) / 1024 / 1024:.1f} MB; qms reads item files up to 10 MB")
    assert list(project.items) == ["NEED-1"]  # the other files are still read


@pytest.mark.slow
def test_a_file_just_under_the_size_limit_loads() -> None:
    entry = "  - id: SWR-{n:06d}\n    title: Requirement {n:06d}\n    text: The software shall do thing {n:06d}.\n"
    count = (MAX_FILE_BYTES - 100) // len(entry.format(n=0))
    text = "kind: software_requirement\nitems:\n" + "".join(entry.format(n=n) for n in range(count))
    assert len(text) < MAX_FILE_BYTES
    items, findings = load(text.encode())
    assert (len(items), findings) == (count, [])
    assert items[-1].location().line == 3 + (count - 1) * 3


def test_too_many_values_in_one_file_is_one_finding() -> None:
    text = b"key: [" + b"0," * (MAX_NODES + 10) + b"]\n"
    assert len(text) < MAX_FILE_BYTES
    items, findings = load(text)
    assert items == [] and [(code, line) for code, _, line, _ in findings] == [("Q001", 1)]


def test_list_file_without_kind_is_one_finding_for_the_items_that_name_none() -> None:
    text = "items:\n  - id: A-1\n    title: t\n  - id: NEED-2\n    kind: need\n    title: t\n    text: x\n  - id: A-3\n"
    document = parse_yaml(text, PATH)
    items = read_items(document, DEFAULT_POLICY)
    (finding,) = document.findings
    assert where(finding) == ("Q002", None, 1, 1)
    assert finding.message.startswith("the file has no `kind` and items A-1, A-3 name none: add `kind: one of need,")
    assert [(item.id, item.kind) for item in items] == [("A-1", ""), ("NEED-2", "need"), ("A-3", "")]


def test_single_item_without_kind_is_reported_at_the_item() -> None:
    assert load("id: NEED-1\ntitle: t\ntext: x\n")[1] == [("Q002", "NEED-1", 1, 1)]


@pytest.mark.parametrize("value", ["!!str [a, b]", "!!str {a: b}"])
def test_a_collection_tagged_as_text_is_refused(value: str) -> None:
    items, findings = load(NEED.replace("title: Know the reading", f"title: {value}"))
    assert findings == [("Q001", "NEED-1", 4, 12)]
    assert "title" not in items[0].fields


# --------------------------------------------------------------- numbers, sizes and ids that broke the loader


@pytest.mark.parametrize(
    "value",
    [
        "1" * 5000,  # past Python's integer digit limit
        "-" + "9" * 5000,
        "1" + ":1" * 320_000,  # sexagesimal: quadratic to convert (640 KB took 20 s)
        "1" * 5000 + ".5e3",
        "0x" + "f" * 100_000,
        "0b" + "1" * 100_000,
    ],
)
def test_long_plain_numbers_are_read_as_text(value: str) -> None:
    started = time.perf_counter()
    items, findings = load(NEED + f"    x-n: {value}\n    x-list: [{value}]\n")
    assert time.perf_counter() - started < 10  # bounded: linear in the text
    assert findings == []
    assert items[0].get("x-n") == value and items[0].get("x-list") == [value]


def test_short_numbers_stay_numbers() -> None:
    items, _ = load(NEED + "    x-n: 12345678901234567890\n    x-s: 1:30\n    x-f: 1.5e+3\n    x-h: 0x1F\n")
    assert [items[0].get(key) for key in ("x-n", "x-s", "x-f", "x-h")] == [12345678901234567890, 90, 1500.0, 31]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("!!int abc", "'abc' is not a valid !!int: remove the tag or correct the value"),
        ("!!float x1", "'x1' is not a valid !!float: remove the tag or correct the value"),
        ("!!bool maybe", "'maybe' is not a valid !!bool: remove the tag or correct the value"),
        ('!!int ""', "'' is not a valid !!int: remove the tag or correct the value"),
        ('!!int "-"', "'-' is not a valid !!int: remove the tag or correct the value"),
        ("!!int " + "1" * 5000, "!!int '" + "1" * 40 + "...' has more than 100 characters: remove the tag"),
        ("!!float " + "1" * 5000, "!!float '" + "1" * 40 + "...' has more than 100 characters: remove the tag"),
    ],
)
def test_a_value_its_tag_does_not_fit_is_one_finding(value: str, message: str) -> None:
    items, findings = load(NEED + f"    x-n: {value}\n")
    assert findings == [("Q002", "NEED-1", 6, 10)]
    assert items[0].get("x-n") is None
    document = parse_yaml(NEED + f"    x-n: {value}\n", PATH)
    read_items(document, DEFAULT_POLICY)
    assert document.findings[0].message.startswith(message)


@pytest.mark.parametrize("level", ["1" * 5000, "²", "\u0661", "0" * 20 + "3", "!!int 3"])
def test_levels_that_are_not_small_ascii_numbers_are_not_levels(level: str) -> None:
    text = (
        "id: HAZ-1\nkind: hazard\ntitle: t\nhazard: h\nhazardous_situation: s\nharm: h\n"
        f"probability: 1\nseverity: {level}\n"
    )
    items, findings = load(text)
    if level == "!!int 3":
        assert findings == [] and items[0].get("severity") == 3
    else:
        assert findings == [("Q002", "HAZ-1", 8, 11)]


def test_long_numbers_in_qms_yaml_are_findings(tmp_path: Path) -> None:
    (tmp_path / "items").mkdir()
    (tmp_path / "items" / "needs.yaml").write_text(NEED, encoding="utf-8")
    (tmp_path / "qms.yaml").write_text(
        "device: {name: D, software_safety_class: A}\nsources: [items]\nx-n: "
        + "1:1" * 100_000
        + "\nrules: {T101: "
        + "1" * 5000
        + "}\n",
        encoding="utf-8",
    )
    project = load_project(tmp_path)
    assert [(f.rule, f.location.line, f.location.column) for f in project.load_findings] == [("Q002", 4, 15)]
    assert project.load_findings[0].message.startswith("rules.T101 '111")
    assert len(project.load_findings[0].message) < 200  # the value is quoted, not repeated whole
    assert list(project.items) == ["NEED-1"]


@pytest.mark.parametrize("name", ["items/huge.yaml", "qms.yaml"])
def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path, name: str) -> None:
    """A sparse file of 200 MB: refused from its size, without reading it into memory."""
    import tracemalloc

    (tmp_path / "items").mkdir()
    (tmp_path / "items" / "needs.yaml").write_text(NEED, encoding="utf-8")
    if name != "qms.yaml":
        (tmp_path / "qms.yaml").write_text("device: {name: D, software_safety_class: A}\nsources: [items]\n")
    with (tmp_path / name).open("wb") as stream:
        stream.truncate(200 * 1024 * 1024)
    tracemalloc.start()
    try:
        project = load_project(tmp_path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024
    finding = project.load_findings[0]
    assert (finding.rule, str(finding.location)) == ("Q001", f"{name}:1:1")
    assert finding.message == "the file is 200.0 MB; qms reads item files up to 10 MB: split it"


def test_a_fifo_among_the_sources_is_not_opened(tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / "pipe.yaml")
    document = read_yaml(tmp_path / "pipe.yaml", "pipe.yaml")  # would block if it were opened
    assert [finding.message for finding in document.findings] == ["not a regular file: qms reads item files only"]


@pytest.mark.parametrize("text", ['"NEED-1\\n"', '"NEED-1\\r\\n"', "|\n      NEED-1", '"NEED-1\\u2028"'])
def test_an_id_with_a_line_end_is_not_valid(text: str) -> None:
    items, findings = load(NEED.replace("NEED-1", text))
    assert [code for code, *_ in findings] == ["Q002"]
    assert items[0].id != "NEED-1"


def test_a_link_with_a_line_end_is_not_valid() -> None:
    items, findings = load('id: SYS-1\nkind: system_requirement\ntitle: t\ntext: x\nderives_from: ["NEED-1\\n"]\n')
    assert findings == [("Q002", "SYS-1", 5, 16)]
    assert items[0].get("derives_from") == ()


def test_project_file_patterns_end_at_the_end_of_the_text(tmp_path: Path) -> None:
    (tmp_path / "items").mkdir()
    (tmp_path / "items" / "needs.yaml").write_text(NEED, encoding="utf-8")
    (tmp_path / "qms.yaml").write_text(
        "device: {name: D, software_safety_class: A}\nsources: [items]\n"
        "risk_policy:\n  severity: [{level: 1, name: L}, {level: 2, name: H}]\n"
        "  probability: [{level: 1, name: L}, {level: 2, name: H}]\n"
        '  acceptability: ["AA\\n", AR]\n',
        encoding="utf-8",
    )
    findings = load_project(tmp_path).load_findings
    assert [(f.rule, f.location.line, f.location.column) for f in findings] == [("Q002", 6, 19)]
    assert "risk_policy.acceptability[1] 'AA\n' is not in the expected form" in findings[0].message


def test_lines_and_columns_count_only_newlines() -> None:
    """libyaml counts U+0085, U+2028 and U+2029 in quoted text as line breaks; editors and git do not."""
    text = 'kind: need\nitems:\n  - id: NEED-1\n    title: "a\u2028b\x85c\u2029d"\n    text: t\n'
    text += '    bad: [1, "\u2028", 2]\n'
    items, findings = load(text)
    assert findings == [("Q002", "NEED-1", 6, 5)]
    assert items[0].location(("text",)).line == 5 and items[0].location(("text",)).column == 11


@pytest.mark.parametrize("written", ["''", '""', "'   '", "", "~"])
def test_an_empty_required_field_is_reported_as_empty_at_its_value(written: str) -> None:
    """``title: ''`` is there, empty: said so at the value, not "missing"."""
    document = parse_yaml(f"kind: need\nitems:\n  - id: NEED-1\n    title: {written}\n    text: t\n", PATH)
    read_items(document, DEFAULT_POLICY)
    (finding,) = document.findings
    assert where(finding)[:3] == ("Q002", "NEED-1", 4)
    assert finding.message == "required field 'title' of a need is empty: write its value"


def test_libyamls_own_nesting_bound_reads_as_qmss() -> None:
    """libyaml 0.2.6 refuses deep flow nesting while scanning, before qms's bound: the same words either way."""
    from qms.yamlfile import _syntax_error

    mark = yaml.Mark("deep.yaml", 1000, 0, 1000, None, None)
    error = yaml.scanner.ScannerError("while increasing flow level", mark, "exceeded maximum nesting depth", mark)
    finding = _syntax_error(error, b"[" * 1001, "items/deep.yaml")
    assert (finding.rule, finding.message) == ("Q001", "data nested deeper than 100 levels: flatten it")
    assert (finding.location.line, finding.location.column) == (1, 1001)
