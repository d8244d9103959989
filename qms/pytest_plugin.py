"""A pytest plugin that ties test cases to qms items: ``@pytest.mark.verifies("SWR-014")``.

Each id given to the marker is written into the JUnit XML as ``<property name="verifies"
value="SWR-014"/>`` (what ``record_property`` writes), so ``qms check`` counts the result as
evidence for that item without a hand-kept mapping. The properties are attached when the test
is collected, so a skipped or erroring test still names what it was meant to verify.
"""

from __future__ import annotations

import pytest

from qms.schema import ID_PATTERN

#: The JUnit property qms reads (``qms.evidence.VERIFIES_PROPERTY``; not imported from there, so
#: that every pytest session of a qms user does not load the XML readers).
VERIFIES_PROPERTY = "verifies"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "verifies(*ids): the qms items (tests, requirements, software items, needs) this test case verifies",
    )


def marked_ids(item: pytest.Item) -> list[str]:
    """The ids of every ``verifies`` marker on the test (function, class and module), in order."""
    ids: list[str] = []
    for marker in item.iter_markers(name=VERIFIES_PROPERTY):
        if not marker.args or marker.kwargs:
            raise pytest.UsageError(
                f"{item.nodeid}: @pytest.mark.verifies takes one or more item ids, e.g. "
                '@pytest.mark.verifies("SWR-014", "TST-U003")'
            )
        for value in marker.args:
            if not isinstance(value, str) or not ID_PATTERN.fullmatch(value):
                raise pytest.UsageError(
                    f"{item.nodeid}: @pytest.mark.verifies({value!r}): not a qms item id "
                    "(a letter, then letters, digits, '_', '.', '-')"
                )
            if value not in ids:
                ids.append(value)
    return ids


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for item_id in marked_ids(item):
            item.user_properties.append((VERIFIES_PROPERTY, item_id))
