"""A pytest plugin that ties test cases to qms items: ``@pytest.mark.verifies("SWR-014")``.

Each id given to the marker is written into the JUnit XML as ``<property name="verifies"
value="SWR-014"/>`` (what ``record_property`` writes), so ``qms check`` counts the result as
evidence for that item without a hand-kept mapping. The properties are attached when the test
is collected, so a skipped or erroring test still names what it was meant to verify.

With ``--junitxml``, the plugin also writes which revision the results belong to, as testsuite
properties: ``qms:commit`` (git's HEAD, with ``+dirty`` appended when tracked files have
uncommitted changes) and ``qms:version`` (``device.version`` of the nearest ``qms.yaml``).
``qms check`` judges whether a result is stale against them (rule E407).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from qms.schema import ID_PATTERN

#: The JUnit property qms reads (``qms.evidence.VERIFIES_PROPERTY``; not imported from there, so
#: that every pytest session of a qms user does not load the XML readers).
VERIFIES_PROPERTY = "verifies"
#: The testsuite properties naming the revision (``qms.evidence.COMMIT_PROPERTY``, ``VERSION_PROPERTY``).
COMMIT_PROPERTY, VERSION_PROPERTY = "qms:commit", "qms:version"


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
            if not isinstance(value, str) or not ID_PATTERN.match(value):
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


def _git(root: Path, *arguments: str) -> str | None:
    try:
        done = subprocess.run(["git", *arguments], cwd=root, capture_output=True, text=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def revision(root: Path) -> tuple[str | None, str | None]:
    """The commit (``+dirty`` when tracked files changed) and the device version the tests run on."""
    commit = _git(root, "rev-parse", "--verify", "--quiet", "HEAD")
    if commit and _git(root, "status", "--porcelain", "--untracked-files=no"):
        commit += "+dirty"
    from qms.config import find_root, load_config

    project = find_root(root)
    version = None
    if project is not None:
        config, _ = load_config(project)
        version = config.device.version if config is not None and config.device.version else None
    return commit, version


def pytest_sessionstart(session: pytest.Session) -> None:
    try:
        from _pytest.junitxml import xml_key
    except ImportError:  # a pytest without the junitxml plugin's key: no revision properties
        return
    xml = session.config.stash.get(xml_key, None)
    if xml is None:
        return
    commit, version = revision(Path(session.config.rootpath))
    for name, value in ((COMMIT_PROPERTY, commit), (VERSION_PROPERTY, version)):
        if value:
            xml.add_global_property(name, value)
