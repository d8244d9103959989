"""Round-trip editing of item files: the edited value changes, and not one other byte."""

from __future__ import annotations

import pytest

from qms.excel.yamledit import REMOVE, EditError, ItemFileEditor, carry_over
from qms.risk import DEFAULT_POLICY

LIST = """\
# Requirements. A comment at the top.
kind: system_requirement
items:
  - id: SYS-1
    title: "Double quoted"
    text: |
      First line
      second line.
    derives_from: [NEED-1]   # why
    x-owner: Team A

  # The next one is special.
  - id: SYS-2
    title: 'Single quoted'
    text: >-
      Folded text
      on two lines.
    derives_from:
      - NEED-1
      - NEED-2
    x-priority: 1
"""


def edit(text: str, *changes: tuple[str, str, object]) -> str:
    editor = ItemFileEditor("items.yaml", text, DEFAULT_POLICY)
    for item_id, name, value in changes:
        editor.set_field(item_id, name, value)
    rendered = editor.render()
    assert rendered is not None
    return rendered


def changed_lines(old: str, new: str) -> list[tuple[str, str]]:
    """(old line, new line) pairs that differ, for texts of the same number of lines."""
    old_lines, new_lines = old.split("\n"), new.split("\n")
    assert len(old_lines) == len(new_lines), new
    return [(a, b) for a, b in zip(old_lines, new_lines, strict=True) if a != b]


def test_a_changed_value_keeps_its_quotes() -> None:
    new = edit(LIST, ("SYS-1", "title", "Still double"), ("SYS-2", "title", "Still single"))

    assert changed_lines(LIST, new) == [
        ('    title: "Double quoted"', '    title: "Still double"'),
        ("    title: 'Single quoted'", "    title: 'Still single'"),
    ]


def test_a_changed_list_keeps_its_flow_or_block_style_and_its_comment() -> None:
    new = edit(LIST, ("SYS-1", "derives_from", ("NEED-3",)), ("SYS-2", "derives_from", ("NEED-2", "NEED-3")))

    assert changed_lines(LIST, new) == [
        ("    derives_from: [NEED-1]   # why", "    derives_from: [NEED-3]   # why"),
        ("      - NEED-1", "      - NEED-2"),
        ("      - NEED-2", "      - NEED-3"),
    ]


def test_a_comment_the_longer_value_reaches_moves_right_by_one_space() -> None:
    new = edit(LIST, ("SYS-1", "derives_from", ("NEED-1", "NEED-3")))

    assert changed_lines(LIST, new) == [
        ("    derives_from: [NEED-1]   # why", "    derives_from: [NEED-1, NEED-3] # why"),
    ]


def test_block_scalars_stay_block_scalars() -> None:
    new = edit(LIST, ("SYS-1", "text", "One line now"), ("SYS-2", "text", "Folded, shorter"))

    assert new == LIST.replace("      First line\n      second line.\n", "      One line now\n").replace(
        "      Folded text\n      on two lines.\n", "      Folded, shorter\n"
    )


def test_text_that_yaml_1_1_reads_as_something_else_is_quoted() -> None:
    new = edit(LIST, ("SYS-1", "x-owner", "yes"), ("SYS-2", "x-owner", "12:30"))

    assert "    x-owner: 'yes'\n" in new
    assert "    x-priority: 1\n    x-owner: '12:30'\n" in new


def test_a_field_typed_as_a_number_stays_a_number() -> None:
    new = edit(LIST, ("SYS-2", "x-priority", 2))

    assert changed_lines(LIST, new) == [("    x-priority: 1", "    x-priority: 2")]


def test_removing_the_last_field_keeps_the_blank_line_and_the_comment_below() -> None:
    new = edit(LIST, ("SYS-1", "x-owner", REMOVE))

    assert new == LIST.replace("    x-owner: Team A\n", "")


def test_a_new_field_goes_after_the_field_it_follows_in_the_schema() -> None:
    new = edit(LIST, ("SYS-1", "control_type", "protective_measure"), ("SYS-1", "rationale", "Because."))

    assert new == LIST.replace(
        "      second line.\n    derives_from",
        "      second line.\n    rationale: Because.\n    control_type: protective_measure\n    derives_from",
    )


def test_a_new_last_field_goes_before_the_blank_line() -> None:
    new = edit(LIST, ("SYS-1", "x-reviewer", "Dr. Example"))

    assert new == LIST.replace("    x-owner: Team A\n", "    x-owner: Team A\n    x-reviewer: Dr. Example\n")


def test_new_items_follow_the_files_indentation_order_and_spacing() -> None:
    compact = "kind: need\nitems:\n- id: NEED-1\n  title: A\n  text: a\n- id: NEED-2\n  title: B\n  text: b\n"
    editor = ItemFileEditor("needs.yaml", compact, DEFAULT_POLICY)
    editor.add_item("NEED-3", "need", {"text": "two\nlines", "title": "C"}, after="NEED-1")
    editor.add_item("SYS-9", "system_requirement", {"title": "D", "text": "d", "derives_from": ("NEED-3",)})

    assert editor.render() == (
        "kind: need\nitems:\n- id: NEED-1\n  title: A\n  text: a\n"
        "- id: NEED-3\n  title: C\n  text: |\n    two\n    lines\n"
        "- id: NEED-2\n  title: B\n  text: b\n"
        "- id: SYS-9\n  kind: system_requirement\n  title: D\n  text: d\n  derives_from: [NEED-3]\n"
    )


def test_deleting_items_keeps_the_comments_that_belong_to_the_next_one() -> None:
    editor = ItemFileEditor("items.yaml", LIST, DEFAULT_POLICY)
    editor.delete_item("SYS-1")

    assert editor.render() == LIST.replace(LIST[LIST.index("  - id: SYS-1") : LIST.index("  # The next one")], "")


def test_deleting_the_last_item_leaves_no_trailing_blank_line() -> None:
    editor = ItemFileEditor("items.yaml", LIST, DEFAULT_POLICY)
    editor.delete_item("SYS-2")

    assert editor.render() == LIST[: LIST.index("\n  # The next one")] + "\n  # The next one is special.\n"


def test_deleting_every_item_leaves_an_empty_list_and_adding_fills_it_again() -> None:
    one = "kind: need\nitems:\n  - id: NEED-1\n    title: A\n    text: a\n"
    editor = ItemFileEditor("items.yaml", one, DEFAULT_POLICY)
    editor.delete_item("NEED-1")
    emptied = editor.render()
    assert emptied == "kind: need\nitems: []\n"

    refill = ItemFileEditor("items.yaml", emptied, DEFAULT_POLICY)
    refill.add_item("NEED-2", "need", {"title": "B", "text": "b"})
    assert refill.render() == "kind: need\nitems:\n  - id: NEED-2\n    title: B\n    text: b\n"


def test_a_single_item_file_takes_edits_but_not_new_items() -> None:
    single = "id: ANOM-1\nkind: anomaly\ntitle: Flicker\nstatus: open\nseverity: 1\n"
    editor = ItemFileEditor("anomaly.yaml", single, DEFAULT_POLICY)
    editor.set_field("ANOM-1", "severity", 2)
    editor.set_field("ANOM-1", "status", "closed")

    assert editor.render() == "id: ANOM-1\nkind: anomaly\ntitle: Flicker\nstatus: closed\nseverity: 2\n"
    with pytest.raises(EditError, match="holds a single item, not a list"):
        editor.add_item("ANOM-2", "anomaly", {"title": "x"})


def test_levels_follow_the_file_numbers_or_names() -> None:
    numbers = (
        "kind: hazard\nitems:\n  - id: HAZ-1\n    severity: 3\n    probability: 2\n"
        "    residual: {severity: Minor, probability: 1}\n"
    )

    new = edit(numbers, ("HAZ-1", "severity", 4), ("HAZ-1", "residual", {"severity": 1, "probability": 1}))

    assert new == numbers.replace("severity: 3", "severity: 4").replace("{severity: Minor,", "{severity: Negligible,")


def test_crlf_line_ends_and_a_byte_order_mark_are_kept() -> None:
    windows = "\ufeff" + LIST.replace("\n", "\r\n")

    new = edit(windows, ("SYS-1", "title", "Changed"))

    assert new == windows.replace('"Double quoted"', '"Changed"')


def test_lines_ruamel_would_lay_out_differently_are_left_as_written() -> None:
    odd = (
        "kind: need\nitems:\n  - id: NEED-1\n    title:    Spaced   out\n"
        "    text: a long line\n      wrapped by hand\n    source: x\n"
    )

    new = edit(odd, ("NEED-1", "source", "y"))

    assert new == odd.replace("source: x", "source: y")


def test_carry_over_takes_only_the_changed_lines() -> None:
    original = "a:   1\nb: 2\nc:    3\n"
    baseline = "a: 1\nb: 2\nc: 3\n"
    edited = "a: 1\nb: 20\nc: 3\n"

    assert carry_over(original, baseline, edited) == "a:   1\nb: 20\nc:    3\n"


def test_items_written_in_flow_style_are_not_edited() -> None:
    with pytest.raises(EditError, match=r"writes its items list in flow style"):
        ItemFileEditor("flow.yaml", "kind: need\nitems: [{id: NEED-1, title: A, text: a}]\n", DEFAULT_POLICY)
