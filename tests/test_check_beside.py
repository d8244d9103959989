"""The check a build starts beside it (``qms.checking.check_beside``): its findings are the rules'
own on the same files, and the build runs the rules itself wherever that cannot be vouched for."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sphinx_support import build, new_project, site_files

import qms.sphinx as qms_sphinx
from qms import checking, fingerprints
from qms.atomic import read_kept
from qms.checking import (
    Beside,
    Made,
    check_beside,
    check_context,
    findings_beside,
    fingerprints_beside,
    release_beside,
    release_findings,
)
from qms.cli import build as build_command
from qms.fingerprints import FAMILIES, Checked, link_rows, made_beside
from qms.model import Finding, Project
from qms.project import load_project
from qms.rules import run_rules
from qms.sphinx import sources, state
from qms.sphinx.fragments import code_digest
from qms.sphinx.views.items import BLOCKS_FILE, KeptBlocks


def _rules_run_here(root: Path) -> list[Finding]:
    return run_rules(check_context(load_project(root, cache=True), cache=True), beside=False)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    made = new_project(tmp_path / "device")
    assert _rules_run_here(made), "the project has findings to hand over (its tests never ran)"
    return made


def test_the_findings_found_beside_are_those_the_rules_give_here(root: Path) -> None:
    check_beside(root, lambda: True)
    project = load_project(root, cache=True)
    found = findings_beside(project)
    assert found is not None and found.findings == _rules_run_here(root)
    assert findings_beside(project) is None, "taken once"
    assert fingerprints_beside(project) == Made({}, None), "no build folder named: none made"
    assert fingerprints_beside(project) is None, "taken once"
    context = check_context(load_project(root, cache=True), cache=True)
    assert release_beside(project) == release_findings(context, _rules_run_here(root))
    checking.discard_beside(root)  # as the build does once it ends
    assert not checking._BESIDE and release_beside(project) is None


def test_the_fingerprints_made_beside_are_those_the_build_makes_itself(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[dict[tuple[str, ...], str]] = []
    keep = sources.keep_keys

    def noted(doctrees: Path, digests: dict[tuple[str, ...], str]) -> None:
        made.append(dict(digests))
        keep(doctrees, digests)

    monkeypatch.setattr(sources, "keep_keys", noted)
    with monkeypatch.context() as alone:
        alone.setattr(checking, "can_fork", lambda: False)  # the build makes every fingerprint itself
        assert build(root).exit_code == 0
    (by_build,) = made
    doctrees = root / "_build" / "doctrees"
    kept_blocks = read_kept(doctrees / BLOCKS_FILE, code_digest())
    assert isinstance(kept_blocks, KeptBlocks)

    check_beside(root, lambda: True, doctrees)
    project = load_project(root, cache=True)
    assert findings_beside(project) is not None
    made = fingerprints_beside(project)
    assert made is not None
    assert {key[0] for key in made.fingerprints} == set(FAMILIES), "the project's pages read every family"
    assert made.fingerprints == {key: value for key, value in by_build.items() if key[0] in FAMILIES}
    assert made.found_of_items == kept_blocks.found
    checking.discard_beside(root)


def test_keys_that_name_no_fingerprint_are_left_out(root: Path) -> None:
    project = load_project(root, cache=True)
    checked = Checked(project, check_context(project, cache=True).statuses, {})
    keys = [("link-cells", "title", "need"), ("no-such-family", "need"), ("trace-rows",), "need", ("link-rows", "need")]
    assert made_beside(checked, keys) == {("link-rows", "need"): link_rows(checked, "need")}
    assert made_beside(Checked(project, None, {}), None) == {}, "no keys kept: none made"


def test_no_findings_are_taken_where_an_input_changed_while_they_were_found(root: Path) -> None:
    check_beside(root, lambda: False)
    project = load_project(root, cache=True)
    assert findings_beside(project) is None
    assert fingerprints_beside(project) is None and release_beside(project) is None, "none of findings not given"
    checking.discard_beside(root)
    assert not checking._BESIDE


def test_no_findings_are_taken_where_the_build_read_an_item_file_otherwise(root: Path) -> None:
    check_beside(root, lambda: True, root / "_build" / "doctrees")
    checking._BESIDE[root.resolve()].parts[-1]()  # the process has read the files, found, and ended
    needs = root / "traceability" / "needs.yaml"
    needs.write_text(needs.read_text(encoding="utf-8").replace("  - id: NEED-01", "  - id: NEED-09"), encoding="utf-8")
    project = load_project(root, cache=True)
    assert findings_beside(project) is None
    assert fingerprints_beside(project) is None and release_beside(project) is None, "of other files"
    checking.discard_beside(root)  # as the build does once it ends
    assert not checking._BESIDE


def test_the_build_takes_the_findings_while_the_check_beside_it_makes_their_fingerprints(
    root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The check beside the build gives its findings as soon as the rules ran; the build takes them,
    goes on, and takes the fingerprints made of them before the first page's (here they are made
    only once the build has taken the findings and loaded the project: a build that waited for them
    there would wait for a minute, and then take none)."""
    assert build(root).exit_code == 0
    loaded = tmp_path / "loaded"
    make = fingerprints.made_beside

    def made_once_loaded(checked: Checked, keys: object) -> dict[tuple[str, ...], str]:
        deadline = time.monotonic() + 60
        while not loaded.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        return make(checked, keys) if loaded.exists() else {}

    monkeypatch.setattr(fingerprints, "made_beside", made_once_loaded)  # in the process the build forks
    load = qms_sphinx.load_build_data

    def noted_loaded(*arguments: Any, **options: Any) -> state.BuildData:
        data = load(*arguments, **options)
        loaded.touch()
        return data

    monkeypatch.setattr(qms_sphinx, "load_build_data", noted_loaded)
    taken: list[Made | None] = []
    monkeypatch.setattr(state, "fingerprints_beside", lambda project: taken.append(fingerprints_beside(project)))
    needs = root / "traceability" / "needs.yaml"
    needs.write_text(needs.read_text(encoding="utf-8").replace("Know the current reading", "Know the reading"))
    assert build(root).exit_code == 0
    (made,) = taken
    assert made is not None and {key[0] for key in made.fingerprints} == set(FAMILIES)
    assert not checking._BESIDE


def test_no_findings_are_taken_where_no_check_was_started(root: Path) -> None:
    assert findings_beside(load_project(root, cache=True)) is None


@pytest.mark.slow
def test_a_site_built_with_the_findings_found_beside_is_the_site_built_without(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = new_project(tmp_path / "device")
    assert build(root).exit_code == 0
    taken: list[bool] = []  # whether the build took the findings found beside it, then their fingerprints

    def noted(project: Project) -> Beside | None:
        found = findings_beside(project)
        taken.append(found is not None)
        return found

    def noted_made(project: Project) -> Made | None:
        made = fingerprints_beside(project)
        taken.append(made is not None and bool(made.fingerprints) and made.found_of_items is not None)
        return made

    monkeypatch.setattr(state, "findings_beside", noted)
    monkeypatch.setattr(state, "fingerprints_beside", noted_made)
    needs = root / "traceability" / "needs.yaml"
    needs.write_text(needs.read_text(encoding="utf-8").replace("Know the current reading", "Know the reading"))
    assert build(root).exit_code == 0
    assert taken == [True, True] and not checking._BESIDE
    with monkeypatch.context() as alone:
        alone.setattr(checking, "can_fork", lambda: False)
        clean = build(root, "--clean", "-o", str(tmp_path / "clean"))
    assert clean.exit_code == 0, clean.output
    assert site_files(root / "_build" / "html") == site_files(tmp_path / "clean")


def test_the_build_vouches_for_the_findings_only_while_its_inputs_are_those_it_started_from(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert build(root).exit_code == 0
    target, doctrees = root / "_build" / "html", root / "_build" / "doctrees"
    vouched: list[Callable[[], bool]] = []
    monkeypatch.setattr(checking, "check_beside", lambda project_root, unchanged, kept: vouched.append(unchanged))
    build_command.check_beside_build(root, target, doctrees, build_command.starting(root, target, doctrees))
    (unchanged,) = vouched
    assert unchanged()
    results = root / "reports" / "late.xml"
    results.parent.mkdir(exist_ok=True)
    results.write_text('<testsuite name="late" tests="0"/>', encoding="utf-8")  # a result file arrives
    assert not unchanged()


def test_a_build_that_fails_before_it_takes_the_findings_leaves_no_check_behind(root: Path) -> None:
    assert build(root).exit_code == 0
    conf = root / "conf.py"
    conf.write_text(conf.read_text(encoding="utf-8") + "\nraise RuntimeError('stop here')\n", encoding="utf-8")
    started: list[Path] = []
    check = checking.check_beside

    def noted(project_root: Path, unchanged: Callable[[], bool], doctrees: Path) -> None:
        started.append(project_root)
        check(project_root, unchanged, doctrees)

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(checking, "check_beside", noted)
        assert build(root).exit_code != 0
    assert started == [root] and not checking._BESIDE and not checking._READ


@pytest.mark.parametrize("fork", [True, False], ids=["beside", "alone"])
def test_the_build_reads_the_project_once(root: Path, monkeypatch: pytest.MonkeyPatch, fork: bool) -> None:
    """Where the check starts beside the build, it is the check that reads the project as the build
    starts, and the build takes what it read; else the build reads it."""
    read: list[Path] = []

    def noted(project_root: Path, cache: bool = False) -> Project:
        read.append(project_root)
        return load_project(project_root, cache=cache)

    monkeypatch.setattr(checking, "load_project", noted)
    monkeypatch.setattr(state, "load_project", noted)
    if not fork:
        monkeypatch.setattr(checking, "can_fork", lambda: False)
    assert build(root, "--clean").exit_code == 0
    assert read == [root]
    assert not checking._READ and not checking._BESIDE


def test_a_project_the_check_cannot_read_as_the_build_starts_is_read_by_the_build(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reading a project gives its problems as findings; where it fails all the same as the build
    starts (a file system's error), no check starts beside the build, which reads the project and
    runs the rules itself, and meets the error again if it is still there."""
    read: list[Path] = []

    def failing(project_root: Path, cache: bool = False) -> Project:
        raise OSError("the disk is busy")

    def noted(project_root: Path, cache: bool = False) -> Project:
        read.append(project_root)
        return load_project(project_root, cache=cache)

    monkeypatch.setattr(checking, "load_project", failing)
    monkeypatch.setattr(state, "load_project", noted)
    taken: list[Beside | None] = []
    monkeypatch.setattr(state, "findings_beside", lambda project: taken.append(findings_beside(project)))
    assert build(root, "--clean").exit_code == 0
    assert read == [root] and taken == [None]
    assert not checking._READ and not checking._BESIDE


@pytest.mark.parametrize("fork", [True, False], ids=["beside", "alone"])
def test_the_workbook_starts_once_the_findings_found_beside_are_taken(
    root: Path, monkeypatch: pytest.MonkeyPatch, fork: bool
) -> None:
    """The workbook's process starts with what the check beside the build made (its fingerprints,
    which the workbook's matrices would make again), and with the links that break a kind rule
    found here wherever it starts in a process of its own: walking every link there would copy the
    project's pages one by one. Where the build runs the rules itself, the workbook starts before them."""
    assert build(root).exit_code == 0  # the fingerprints the check makes are those this build made
    seen: list[tuple[bool, bool, bool]] = []
    start = qms_sphinx.start_workbook

    def noted(app: object, data: state.BuildData) -> object:
        job = start(app, data)  # type: ignore[arg-type]
        made = any(key[0] == "link-rows" for key in data.digests)
        seen.append((bool(data.findings), made, ("wrong-kind-findings",) in data.cache))
        return job

    monkeypatch.setattr(qms_sphinx, "start_workbook", noted)
    if not fork:
        monkeypatch.setattr(checking, "can_fork", lambda: False)
    needs = root / "traceability" / "needs.yaml"
    needs.write_text(needs.read_text(encoding="utf-8").replace("Know the current reading", "Know the reading"))
    assert build(root).exit_code == 0
    assert seen == [(True, True, True)] if fork else [(False, False, True)]
