"""A pytest plugin that ties test cases to qms items: ``@pytest.mark.verifies("SWR-014")``.

Each id given to the marker is written into the JUnit XML as ``<property name="verifies"
value="SWR-014"/>`` (what ``record_property`` writes), so ``qms check --results`` counts the
result as evidence for that item without a hand-kept mapping.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "verifies(*ids): the qms items (requirements, tests) this test case verifies")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    for marker in item.iter_markers(name="verifies"):
        for item_id in marker.args:
            item.user_properties.append(("verifies", str(item_id)))
