"""Item blocks and tables are fingerprinted from what they read, not from what they render, and a
fingerprint moves exactly when the output would change: an own field, a neighbour's title it
shows, a test result, a review stamp, the project file's risk policy, a commit touching the item's
file; a status or finding the table does not show leaves its fingerprint as it was."""

from __future__ import annotations

import os
import pickle
import subprocess
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from conftest import write_files

from qms.clauses import DEFAULT_EDITION
from qms.init import create_project
from qms.sphinx import audit
from qms.sphinx.state import load_build_data
from qms.sphinx.views.build import BuildData


def _result(day: int, failure: str = "") -> str:
    return (
        f'<testsuites><testsuite name="pytest" timestamp="2099-01-{day:02}T09:15:00+00:00">'
        f'<testcase classname="tests.test_display" name="test_age" time="0.001">{failure}</testcase>'
        "</testsuite></testsuites>\n"
    )


def _git(root: Path, *arguments: str) -> None:
    names = {"GIT_AUTHOR_NAME": "Ann Author", "GIT_COMMITTER_NAME": "Ann Author"}
    emails = {"GIT_AUTHOR_EMAIL": "ann@example.org", "GIT_COMMITTER_EMAIL": "ann@example.org"}
    subprocess.run(
        ["git", *arguments], cwd=root, check=True, capture_output=True, env={**os.environ, **names, **emails}
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A new class C project with its review stamps and a passing JUnit result, all committed to git."""
    root = tmp_path / "device"
    create_project(root, "Test Device", "C")
    write_files(root, {"reports/unit.xml": _result(1)})
    _replace(
        root, "traceability/tests.yaml", "SWR-001]\n", "SWR-001]\n    evidence: [tests/test_display.py::test_age]\n"
    )
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "add", "-f", "reports/unit.xml")  # results are kept out of git unless committed on purpose
    _git(root, "-c", "commit.gpgsign=false", "commit", "-q", "-m", "Start")
    return root


def _blocks(root: Path) -> dict[str, tuple[str, Any]]:
    """Every item's fingerprint and block as one build sees them."""
    data = _data(root)
    return {item_id: (data.digest(("item", item_id)), data.answer(("item", item_id))) for item_id in data.project.items}


def _replace(root: Path, relative: str, old: str, new: str) -> None:
    path = root / relative
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{relative}: no {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _stamp(root: Path) -> None:
    """A link's review stamp no longer matches its target: the link is suspect (C501) until reviewed."""
    _replace(
        root,
        "qms.lock",
        "SWR-001 derives_from SYS-001 13d06cc97825a887",
        "SWR-001 derives_from SYS-001 0000000000000000",
    )


def _reword(root: Path) -> None:
    """A new text for the labelling item, which no review stamp and no result concerns."""
    _replace(root, "risk_register/hazards.yaml", "Check the age shown", "Look at the age shown")


def _commit(root: Path) -> None:
    """The working tree as it was: only the item's audit trail has a new change."""
    _git(root, "-c", "commit.gpgsign=false", "commit", "-q", "-am", "Reword the instructions")


#: One change per kind of input, and an item whose block it changes and nothing else of the block's
#: inputs does (the commit follows an edit of the item, so only its audit trail changes).
CHANGES: dict[str, tuple[Callable[[Path], None], str]] = {
    "own field": (_reword, "LAB-01"),
    "neighbour's title": (
        lambda root: _replace(
            root, "traceability/requirements.yaml", "Display the current reading", "Show the reading"
        ),
        "SWR-001",
    ),
    "result": (lambda root: (root / "reports" / "unit.xml").write_text(_result(2), encoding="utf-8"), "TST-001"),
    "failing result": (
        lambda root: (root / "reports" / "unit.xml").write_text(
            _result(1, '<failure message="16 shown as 15">assert 15 == 16</failure>'), encoding="utf-8"
        ),
        "SWR-001",
    ),
    "result file no longer committed": (lambda root: _git(root, "rm", "-q", "--cached", "reports/unit.xml"), "TST-001"),
    "a control's test": (
        lambda root: _replace(root, "traceability/tests.yaml", "Reading age display", "Age display"),
        "HAZ-01",
    ),
    "review stamp": (_stamp, "SYS-001"),
    "risk policy": (lambda root: _replace(root, "qms.yaml", "ARRUU   # Serious", "AAAUU   # Serious"), "HAZ-01"),
    "commit": (_commit, "LAB-01"),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_block_whose_output_changes_gets_a_new_digest(project: Path, change: str) -> None:
    if change == "commit":
        _reword(project)
    before = _blocks(project)
    edit, shown = CHANGES[change]
    edit(project)
    after = _blocks(project)
    assert before[shown][1] != after[shown][1], "the change must alter this block"
    assert before[shown][0] != after[shown][0]
    for item_id in before.keys() & after.keys():  # exact: an unchanged digest means an unchanged block
        if before[item_id][0] == after[item_id][0]:
            assert before[item_id][1] == after[item_id][1], item_id


def test_a_block_that_shows_nothing_of_the_change_keeps_its_digest(project: Path) -> None:
    before = _blocks(project)
    _replace(project, "traceability/requirements.yaml", "whole minutes", "full minutes")
    after = _blocks(project)
    unchanged = {item_id for item_id in before if before[item_id][0] == after[item_id][0]}
    assert {"NEED-01", "SOUP-01", "CAUSE-01"} <= unchanged
    assert "SWR-001" not in unchanged


def test_a_commit_changes_the_digests_of_the_items_it_changed_only(project: Path) -> None:
    _reword(project)
    before = _blocks(project)
    _commit(project)
    after = _blocks(project)
    changed = {item_id for item_id in before if before[item_id][0] != after[item_id][0]}
    assert changed == {"LAB-01"}  # its audit trail has the commit; no other block shows it


def test_the_same_project_read_twice_gives_the_same_digests(project: Path) -> None:
    assert {item_id: digest for item_id, (digest, _) in _blocks(project).items()} == {
        item_id: digest for item_id, (digest, _) in _blocks(project).items()
    }


def _data(root: Path, saved: Path | None = None) -> BuildData:
    data = load_build_data(SimpleNamespace(), root, edition=DEFAULT_EDITION, prefix="", clause_table="")
    if saved is not None:
        audit.keep_trails_in(data, saved)
    return data


def test_the_audit_trails_are_read_from_git_again_only_after_a_commit(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    saved = tmp_path / "trails.pickle"
    before = audit.audit_view(_data(project, saved), "LAB-01")
    assert saved.is_file()
    reads: list[str] = []
    read_history = audit.project_history
    monkeypatch.setattr(audit, "project_history", lambda project: reads.append("read") or read_history(project))
    _reword(project)  # an edit in the working tree: the trails are those saved
    assert audit.audit_view(_data(project, saved), "LAB-01") == before
    assert reads == []
    _commit(project)
    after = audit.audit_view(_data(project, saved), "LAB-01")
    assert reads == ["read"]
    assert len(after.changes) == len(before.changes) + 1
    assert after == audit.audit_view(_data(project), "LAB-01")  # as read without a saved file
    reads.clear()
    saved.write_bytes(b"not the trails")
    assert audit.audit_view(_data(project, saved), "LAB-01") == after
    assert reads == ["read"]


def test_a_build_that_shows_no_trail_reads_only_their_fingerprints(project: Path, tmp_path: Path) -> None:
    """Which pages are stale is decided from the trails' fingerprints; the trails themselves, the
    larger file, are read only when a block shows one (and read from git again if that file fails)."""
    saved = tmp_path / "trails.pickle"
    first = _data(project, saved)
    digest = first.digest(("item", "LAB-01"))
    shown = audit.audit_view(first, "LAB-01")
    assert shown.changes and saved.is_file()
    saved.write_bytes(b"not the trails")  # were it read, the trails would come from git again
    again = _data(project, saved)
    assert again.digest(("item", "LAB-01")) == digest  # from the fingerprints alone
    assert saved.read_bytes() == b"not the trails"
    assert audit.audit_view(again, "LAB-01") == shown  # read when shown: from git, and saved again
    assert saved.read_bytes() != b"not the trails"
    key, trails = pickle.loads(saved.read_bytes())  # each trail pickled on its own: one of them damaged
    saved.write_bytes(pickle.dumps((key, {**trails, "LAB-01": b"not a trail"})))
    assert audit.audit_view(_data(project, saved), "LAB-01") == shown


#: Tables as the documents ask for them: links both ways, statuses, findings, risk, a filter.
TABLES = [
    ("table", "test", "", "id, method, level, verifies, validates, status"),
    ("table", "software_requirement", "control_type", "id, control_type, controls_hazard, verified_by, status"),
    ("table", "hazard", "residual_risk=R|U", "id, residual_risk, risk"),
    ("table", "software_requirement", "findings", "id, title"),
    ("table", "soup", "", "id, version, used_by"),
]


#: Matrices as the documents ask for them: the design chain, risk controls, validation, a chain written out.
MATRICES = [
    ("matrix", "design", "yes"),
    ("matrix", "risk", "yes"),
    ("matrix", "validation", "yes"),
    ("matrix", "software_requirement,software_item,soup", "no"),
]


#: The risk register: hazards with their estimates, and their controls with statuses and tests.
REGISTER = ("risk-register",)


def _tables(root: Path, queries: list[tuple[str, ...]] = TABLES) -> dict[tuple[str, ...], tuple[str, Any]]:
    data = _data(root)
    return {query: (data.digest(query), data.answer(query)) for query in queries}


def _matrices(root: Path) -> dict[tuple[str, ...], tuple[str, Any]]:
    return _tables(root, MATRICES)


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_table_or_matrix_keeps_its_digest_only_while_it_shows_the_same(project: Path, change: str) -> None:
    if change == "commit":
        _reword(project)
    before = _tables(project, [*TABLES, *MATRICES, REGISTER])
    CHANGES[change][0](project)
    after = _tables(project, [*TABLES, *MATRICES, REGISTER])
    for query, (digest, answer) in before.items():
        if after[query][0] == digest:
            assert after[query][1] == answer, query


def test_the_risk_register_moves_with_its_hazards_and_their_controls_only(project: Path) -> None:
    """It shows each hazard, its estimates under the risk policy, and each control's title, status
    and whether a test verifies it: a requirement's text or a test's title leaves it as it is."""
    before = _tables(project, [REGISTER])
    _replace(project, "traceability/requirements.yaml", "whole minutes", "full minutes")  # SWR-001's text
    _replace(project, "traceability/tests.yaml", "Reading age display", "Age display")  # the control's test
    assert _tables(project, [REGISTER]) == before  # the same digest and the same answer
    changes: list[Callable[[Path], None]] = [
        lambda root: _retitle(root, "Show reading age", "Show how old the reading is"),  # the control's title
        CHANGES["failing result"][0],  # the control's status
        CHANGES["risk policy"][0],  # the estimates' classes
        lambda root: _replace(
            root, "risk_register/hazards.yaml", "controls: [SWR-001]", "controls: [SWR-001, SYS-001]"
        ),
    ]
    for change in changes:
        change(project)
        after = _tables(project, [REGISTER])
        assert after[REGISTER][0] != before[REGISTER][0] and after[REGISTER][1] != before[REGISTER][1]
        before = after


def test_a_finding_on_a_requirement_leaves_the_table_of_tests_as_it_is(project: Path) -> None:
    before = _tables(project)
    _replace(project, "qms.lock", "TST-001 verifies SWR-001 e13f096f206b2e13", "TST-001 verifies SWR-001 " + "0" * 16)
    after = _tables(project)
    requirements_with_findings = TABLES[3]
    assert before[requirements_with_findings][1] != after[requirements_with_findings][1]
    assert before[requirements_with_findings][0] != after[requirements_with_findings][0]
    assert before[TABLES[0]][0] == after[TABLES[0]][0]


def _retitle(root: Path, old: str, new: str) -> None:
    relative = next(
        str(path.relative_to(root))
        for path in sorted((root / "traceability").glob("*.yaml"))
        if f"title: {old}\n" in path.read_text("utf-8")
    )
    _replace(root, relative, f"title: {old}\n", f"title: {new}\n")


def test_a_title_moves_only_the_tables_and_matrices_that_show_it(project: Path) -> None:
    """A software requirement's title is in the tables of requirements, in the link cells of the
    tests' table and in the matrices along requirements; the validation matrix (needs and tests),
    the SOUP table (used by software items) and the hazards' table do not show it, so their pages
    are not read again."""
    queries = [*TABLES, *MATRICES]
    before = _tables(project, queries)
    _retitle(project, "Show reading age", "Show how old the reading is")
    after = _tables(project, queries)
    moved = {query for query in queries if before[query][0] != after[query][0]}
    assert moved == {TABLES[0], TABLES[1], TABLES[3], MATRICES[0], MATRICES[1], MATRICES[3]}
    for query in moved:
        assert before[query][1] != after[query][1], query  # each shows the title
    _retitle(project, "Display", "Display unit")  # the software item a SOUP item is used by
    last = _tables(project, queries)
    assert last[TABLES[4]][0] != after[TABLES[4]][0]
    assert last[TABLES[4]][1] != after[TABLES[4]][1]
    assert last[MATRICES[2]][0] == after[MATRICES[2]][0]


def test_a_link_to_an_unknown_item_takes_a_lonely_test_out_of_the_matrices(project: Path) -> None:
    """A test linking to nothing starts a row of its own in the validation matrix; once it names a
    requirement (one no item has yet), it traces elsewhere and its row goes: the matrix's digest moves
    although no resolved link and no title changed."""
    lonely = "kind: test\nitems:\n  - id: TST-900\n    title: Lonely test\n    method: test\n"
    write_files(project, {"traceability/lonely.yaml": lonely})
    before = _matrices(project)
    validation = MATRICES[2]
    assert any("TST-900" in repr(row) for row in before[validation][1].table.rows)
    write_files(project, {"traceability/lonely.yaml": lonely + "    verifies: [SWR-404]\n"})
    after = _matrices(project)
    assert not any("TST-900" in repr(row) for row in after[validation][1].table.rows)
    assert after[validation][0] != before[validation][0]


def test_a_table_moves_with_the_fields_it_shows_or_filters_on_only(project: Path) -> None:
    """A table reads of its items their ids, titles and the fields it shows or filters on: a new
    text moves a table showing the text and leaves the tables of the same items that do not."""
    with_text = ("table", "software_requirement", "", "id, text")
    queries = [*TABLES, with_text]
    before = _tables(project, queries)
    _replace(project, "traceability/requirements.yaml", "whole minutes", "full minutes")
    after = _tables(project, queries)
    assert after[with_text][1] != before[with_text][1]
    assert after[with_text][0] != before[with_text][0]
    for query in (TABLES[0], TABLES[1], TABLES[2], TABLES[4]):  # the findings' table shows the suspect link
        assert after[query] == before[query], query  # the same digest and the same answer
    _replace(
        project,
        "traceability/requirements.yaml",
        "control_type: information_for_safety\n\n  - id: RCR",
        "control_type: protective_measure\n\n  - id: RCR",
    )
    last = _tables(project, queries)
    controls = TABLES[1]  # filtered on control_type, which it shows
    assert last[controls][1] != after[controls][1]
    assert last[controls][0] != after[controls][0]
    assert last[with_text] == after[with_text]
