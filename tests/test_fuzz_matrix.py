"""The matrix on random link graphs (links of any kind, the wrong ones too): what every row
claims holds, every item and every link between two columns is on some row, the order is
natural, and a cut matrix is the first rows of the whole one, said so."""

from __future__ import annotations

import itertools
from pathlib import Path
from types import MappingProxyType

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qms.config import Device, ProjectConfig
from qms.matrix import (
    DESIGN,
    Chain,
    Matrix,
    matrix_size,
    natural_key,
    retrace_matrix,
    shaped_trace_matrix,
    trace_matrix,
)
from qms.model import Item, Project
from qms.project import build_project
from qms.rules import CheckContext, run_rules

pytestmark = pytest.mark.fuzz

COLUMN = {kind: index for index, (kind,) in enumerate(DESIGN.columns)}
PREFIX = {"need": "N", "system_requirement": "S", "software_requirement": "W", "software_item": "I", "test": "T"}
#: the link fields of each kind (a random target may be of a kind the field does not allow: Q006)
FIELDS = {
    "need": (),
    "system_requirement": ("derives_from",),
    "software_requirement": ("derives_from",),
    "software_item": ("implements", "parent"),
    "test": ("verifies", "validates"),
}
CONFIG = ProjectConfig(Device("Fuzz", "C"))


@st.composite
def projects(draw: st.DrawFn) -> Project:
    kinds = draw(st.lists(st.sampled_from(list(PREFIX)), min_size=1, max_size=12))
    ids = [f"{PREFIX[kind]}-{index}" for index, kind in enumerate(kinds)]
    items: dict[str, Item] = {}
    line = 1
    for item_id, kind in zip(ids, kinds, strict=True):
        fields: dict[str, object] = {"title": item_id}
        positions: dict[tuple[str | int, ...], tuple[int, int]] = {(): (line, 5)}
        for field_name in FIELDS[kind]:
            targets = draw(st.lists(st.sampled_from(ids), max_size=4, unique=True))
            fields[field_name] = tuple(targets)
            for index in range(len(targets)):
                line += 1
                positions[(field_name, index)] = (line, 7)  # each link where it was written
        items[item_id] = Item(item_id, kind, MappingProxyType(fields), "items.yaml", MappingProxyType(positions))
        line += 1
    return build_project(Path("."), CONFIG, items, ("items.yaml",), [])


def cells(row: tuple[Item | None, ...]) -> list[tuple[int, Item]]:
    return [(column, item) for column, item in enumerate(row) if item is not None]


def linked(project: Project, one: str, other: str) -> bool:
    return any(link.target == other for link in project.links_from(one)) or any(
        link.target == one for link in project.links_from(other)
    )


def whole(project: Project) -> Matrix:
    return trace_matrix(project, DESIGN, max_rows=10**6)


@given(projects())
def test_each_item_links_to_the_nearest_item_to_its_left(project: Project) -> None:
    for row in whole(project).rows:
        present = cells(row)
        assert present, "a row shows at least one item"
        for (_, left), (_, right) in itertools.pairwise(present):
            assert linked(project, left.id, right.id), (left.id, right.id)


@given(projects())
def test_every_item_and_every_link_between_two_columns_is_on_some_row(project: Project) -> None:
    matrix = whole(project)
    shown = {item.id for row in matrix.rows for _, item in cells(row)}
    assert shown == {item.id for item in project}
    steps = {
        frozenset((left.id, right.id))
        for row in matrix.rows
        for (_, left), (_, right) in itertools.pairwise(cells(row))
    }
    for link in project.links:
        source, target = project.items[link.source], project.items[link.target]
        if COLUMN[source.kind] != COLUMN[target.kind]:
            assert frozenset((source.id, target.id)) in steps, link


@given(projects())
def test_rows_keep_the_natural_order_of_where_they_start(project: Project) -> None:
    starts = [cells(row)[0] for row in whole(project).rows]
    keys = [(column, natural_key(item.id)) for column, item in starts]
    assert keys == sorted(keys)


@given(projects(), st.integers(min_value=1, max_value=40))
def test_a_cut_matrix_is_the_first_rows_of_the_whole_and_says_so(project: Project, limit: int) -> None:
    full = whole(project)
    cut = trace_matrix(project, DESIGN, max_rows=limit)

    assert cut.rows == full.rows[:limit]
    assert cut.total_rows == len(full.rows) == matrix_size(project, DESIGN).total
    if len(full.rows) > limit:
        (said,) = cut.cuts
        assert (said.shown, said.total) == (limit, len(full.rows))
        assert said.resumes_at == cells(full.rows[limit])[0][1].id
    else:
        assert cut.cuts == ()


@given(projects())
def test_a_row_names_the_wrong_kind_findings_of_the_links_it_shows(project: Project) -> None:
    wrong = {finding.location: finding for finding in run_rules(CheckContext(project), ("Q006",))}
    matrix = whole(project)
    findings = matrix.findings or tuple(() for _ in matrix.rows)
    for row, found in zip(matrix.rows, findings, strict=True):
        present = cells(row)
        pairs = {frozenset((left.id, right.id)) for (_, left), (_, right) in itertools.pairwise(present)}
        ids = {item.id for _, item in present}
        expected = {
            wrong[link.location]
            for link in project.links
            if link.location in wrong
            and (
                frozenset((link.source, link.target)) in pairs
                or (
                    COLUMN[project.items[link.source].kind] == COLUMN[project.items[link.target].kind]
                    and {link.source, link.target} & ids
                )
            )
        }
        assert set(found) == expected


@given(projects())
def test_the_item_starting_the_most_rows_is_the_first_of_them_in_the_matrix(project: Project) -> None:
    # T107 names it: of the items starting the most rows, the one whose rows come first
    size = matrix_size(project, DESIGN)
    started: dict[str, int] = {}
    for row in whole(project).rows:
        first = cells(row)[0][1].id
        started[first] = started.get(first, 0) + 1
    if not started:
        assert (size.total, size.largest) == (0, None)
        return
    most = max(started.values())
    assert size.largest_rows == most
    assert size.largest is not None and size.largest.id == next(item for item, rows in started.items() if rows == most)


#: a chain of the same kinds whose rows start in its first column only (as the risk chain's)
FIRST_COLUMN_ONLY = Chain("No orphans", DESIGN.columns, orphans=False)


@st.composite
def edited_projects(draw: st.DrawFn) -> tuple[Project, Project]:
    """A project, and the same project after some items were edited: their links or their kind drawn
    again, removed (links to them left dangling), or new items added."""
    size = draw(st.integers(min_value=1, max_value=12))
    ids = [f"A-{number}" for number in range(size + 3)]

    def drawn() -> tuple[str, dict[str, tuple[str, ...]]]:
        kind = draw(st.sampled_from(list(PREFIX)))
        targets = st.lists(st.sampled_from(ids), max_size=3, unique=True)
        return kind, {name: tuple(draw(targets)) for name in FIELDS[kind]}

    before = {item_id: drawn() for item_id in ids[:size]}
    after = dict(before)
    for item_id in draw(st.lists(st.sampled_from(ids[:size]), max_size=3, unique=True)):
        if draw(st.booleans()):
            after[item_id] = drawn()
        else:
            del after[item_id]
    for item_id in ids[size : size + draw(st.integers(min_value=0, max_value=3))]:
        after[item_id] = drawn()
    return _built(before), _built(after)


def _built(spec: dict[str, tuple[str, dict[str, tuple[str, ...]]]]) -> Project:
    items: dict[str, Item] = {}
    line = 1
    for item_id, (kind, links) in spec.items():
        fields: dict[str, object] = {"title": item_id}
        positions: dict[tuple[str | int, ...], tuple[int, int]] = {(): (line, 5)}
        for field_name, targets in links.items():
            fields[field_name] = targets
            for index in range(len(targets)):
                line += 1
                positions[(field_name, index)] = (line, 7)
        items[item_id] = Item(item_id, kind, MappingProxyType(fields), "items.yaml", MappingProxyType(positions))
        line += 1
    return build_project(Path("."), CONFIG, items, ("items.yaml",), [])


def _ids(matrix: Matrix) -> list[tuple[str | None, ...]]:
    return [tuple(None if item is None else item.id for item in row) for row in matrix.rows]


@pytest.mark.parametrize("chain", [DESIGN, FIRST_COLUMN_ONLY], ids=["orphans", "first column only"])
@given(pair=edited_projects())
def test_a_matrix_made_again_from_its_rows_before_an_edit_is_the_matrix_walked_whole(
    chain: Chain, pair: tuple[Project, Project]
) -> None:
    before, after = pair
    earlier, shape = shaped_trace_matrix(before, chain)
    walked, walked_shape = shaped_trace_matrix(after, chain)
    made = retrace_matrix(after, chain, _ids(earlier), shape)
    assert made is not None
    assert _ids(made[0]) == _ids(walked) and made[0].cuts == walked.cuts == ()
    assert made[1] == walked_shape
    assert made[0].rows == walked.rows  # the items of this project, not the rows' earlier ones


@given(pair=edited_projects(), limit=st.integers(min_value=1, max_value=6))
def test_a_matrix_made_again_that_would_be_cut_is_left_to_be_walked_whole(
    pair: tuple[Project, Project], limit: int
) -> None:
    before, after = pair
    earlier, shape = shaped_trace_matrix(before, DESIGN)
    made = retrace_matrix(after, DESIGN, _ids(earlier), shape, max_rows=limit)
    walked = trace_matrix(after, DESIGN, max_rows=10**6)
    assert (made is None) == (len(walked.rows) > limit)


def test_an_item_linked_to_nothing_that_moves_to_another_column_is_on_its_new_column() -> None:
    """An item no link joins is in no shape: its row is placed again by its column now."""
    before = _built({"A-1": ("need", {}), "A-2": ("software_item", {"implements": (), "parent": ()})})
    after = _built(
        {"A-1": ("test", {"verifies": (), "validates": ()}), "A-2": ("software_item", {"implements": (), "parent": ()})}
    )
    earlier, shape = shaped_trace_matrix(before, DESIGN)
    made = retrace_matrix(after, DESIGN, _ids(earlier), shape)
    assert made is not None and _ids(made[0]) == _ids(trace_matrix(after, DESIGN))
    assert _ids(made[0]) == [(None, None, None, "A-2", None), (None, None, None, None, "A-1")]
