"""The qms domain's placements: the page each item links to, as its objects say now, however often
it was asked before and whatever changed since (pages read, cleared, merged from parallel reading)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from qms.sphinx.domain import QmsDomain

PAGES = ("software-requirements", "software-requirements-part-2", "verification", "design-traceability")
ITEMS = ("SWR-001", "SWR-002", "TC-001")
KINDS = {"SWR-001": "software_requirement", "SWR-002": "software_requirement", "TC-001": "test"}


def _domain() -> QmsDomain:
    return QmsDomain(SimpleNamespace(domaindata={}))  # type: ignore[arg-type]


def _as_computed(domain: QmsDomain, item_id: str) -> tuple[str, str, str] | None:
    """The placement a domain holding the same objects gives when asked for the first time."""
    fresh = _domain()
    for other, placements in domain.objects.items():
        for docname, (kind, title) in placements.items():
            fresh.note_item(other, kind, title, docname)
    return fresh.placement(item_id)


_NOTE = st.tuples(st.just("note"), st.sampled_from(ITEMS), st.text(max_size=3), st.sampled_from(PAGES))
_CLEAR = st.tuples(st.just("clear"), st.sampled_from(PAGES))
_MERGE = st.tuples(st.just("merge"), st.sampled_from(ITEMS), st.sampled_from(PAGES))
_ASK = st.tuples(st.just("ask"), st.sampled_from(ITEMS))


@given(st.lists(st.one_of(_NOTE, _CLEAR, _MERGE, _ASK), max_size=30))
def test_a_placement_is_what_the_objects_say_now(operations: list[tuple[Any, ...]]) -> None:
    domain = _domain()
    for operation in operations:
        if operation[0] == "note":
            _, item_id, title, docname = operation
            domain.note_item(item_id, KINDS[item_id], title, docname)
        elif operation[0] == "clear":
            domain.clear_doc(operation[1])
        elif operation[0] == "merge":  # a page read by another process
            _, item_id, docname = operation
            other = {"objects": {item_id: {docname: [KINDS[item_id], "merged"]}}}
            other.update({key: {} for key in ("dependencies", "read_digests", "controlled", "references", "histories")})
            domain.merge_domaindata({docname}, other)
        for item_id in ITEMS:
            assert domain.placement(item_id) == _as_computed(domain, item_id)


def test_an_item_shown_on_several_pages_links_to_its_home_document() -> None:
    """A software requirement shown in the design traceability and on the second page of the software
    requirements links to the latter; once that page no longer shows it, to the former."""
    domain = _domain()
    domain.note_item("SWR-001", "software_requirement", "Dose", "design-traceability")
    assert domain.placement("SWR-001") == ("design-traceability", "software_requirement", "Dose")
    domain.note_item("SWR-001", "software_requirement", "Dose", "software-requirements-part-2")
    assert domain.placement("SWR-001") == ("software-requirements-part-2", "software_requirement", "Dose")
    domain.clear_doc("software-requirements-part-2")
    assert domain.placement("SWR-001") == ("design-traceability", "software_requirement", "Dose")
    domain.clear_doc("design-traceability")
    assert domain.placement("SWR-001") is None
