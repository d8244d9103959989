"""Fuzzing table filters: any filter text is either accepted (and runs) or refused with a message."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from qms.model import Item
from qms.schema import KINDS
from qms.sphinx.filters import FilterError, field_values, matching, parse_filter

_NAMES = ["status", "level", "residual_risk", "risk", "id", "kind", "x-a", "control_type", "!level", "nope", ""]
_PARTS = st.tuples(
    st.sampled_from(_NAMES), st.sampled_from(["=", "!=", "", "=="]), st.text(max_size=12), st.sampled_from([",", ";"])
)


@pytest.mark.fuzz
@given(st.lists(_PARTS, max_size=6), st.sampled_from(sorted(KINDS)), st.text(max_size=20))
def test_any_filter_is_accepted_or_refused_with_a_message(
    parts: list[tuple[str, str, str, str]], kind: str, noise: str
) -> None:
    text = "".join(f"{name}{operator}{value}{separator}" for name, operator, value, separator in parts) + noise
    started = time.perf_counter()
    try:
        conditions = parse_filter(text, (kind,))
    except FilterError as error:
        assert str(error)
    else:
        item = Item(id="X-1", kind=kind, fields={"title": "t"}, file="items/x.yaml", positions={})
        matching([item], conditions, field_values)
    assert time.perf_counter() - started < 1
