"""A build takes from the last build the fingerprints of the item blocks no edit can have changed
(:func:`qms.sphinx.views.items.reuse_blocks`): each one it takes must be the fingerprint it would
make afresh, and it takes none once something every block reads changed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from sphinx_support import build, copy_example, site_files

from qms.clauses import DEFAULT_EDITION
from qms.model import Item, Project
from qms.sphinx.state import load_build_data
from qms.sphinx.views.build import BuildData
from qms.sphinx.views.items import KEPT_BLOCKS, KeptBlocks, blocks_to_keep, reuse_blocks


def _data(root: Path) -> BuildData:
    return load_build_data(SimpleNamespace(), root, edition=DEFAULT_EDITION, prefix="", clause_table="")  # type: ignore[arg-type]


def _all_blocks(data: BuildData) -> dict[str, str]:
    """Every item's block fingerprint, as a build asks for them (taken where kept, else made)."""
    return {item_id: data.digest(("item", item_id)) for item_id in data.project.items}


def _kept(root: Path) -> KeptBlocks:
    """What a build of the project as it is keeps for the next."""
    data = _data(root)
    _all_blocks(data)
    kept = blocks_to_keep(data)
    assert kept is not None
    return kept


def _edited(tmp_path: Path, edit: Callable[[Path, Project], None]) -> tuple[Path, KeptBlocks, BuildData, int]:
    """The example after ``edit``, what its build before the edit kept, the build data after it with
    the fingerprints it took from those kept, and how many it took."""
    root = copy_example(tmp_path / "device")
    kept = _kept(root)
    edit(root, _data(root).project)
    after = _data(root)
    return root, kept, after, reuse_blocks(after, kept)


def _replace(root: Path, item: Item, old: str, new: str) -> None:
    """Replace the first ``old`` after the line declaring ``item`` in its file."""
    path = root / item.file
    text = path.read_text(encoding="utf-8")
    start = text.index(f"id: {item.id}\n")
    at = text.index(old, start)
    path.write_text(text[:at] + new + text[at + len(old) :], encoding="utf-8")


def _control_test(project: Project) -> tuple[Item, Item, Item]:
    """A hazard, one of its risk controls and a test verifying that control."""
    for hazard in project.of_kind("hazard"):
        for control_id in hazard.links("controls"):
            tests = project.incoming(control_id, "verifies", "test")
            if tests:
                return hazard, project.items[control_id], project.items[tests[0].source]
    raise AssertionError("the example has a hazard whose control a test verifies")


def _retitle_test(root: Path, project: Project) -> None:
    _, _, test = _control_test(project)
    _replace(root, test, f"title: {test.title}", "title: Checks the suspension once more")


def _edit_requirement_text(root: Path, project: Project) -> None:
    requirement = project.of_kind("software_requirement")[3]
    first = str(requirement.get("text")).split()[0]
    _replace(root, requirement, f" {first} ", f" Where the pump answers, {first.lower()} ")


def _add_link(root: Path, project: Project) -> None:
    _, _, test = _control_test(project)
    other = next(item for item in project.of_kind("software_requirement") if item.id not in test.links("verifies"))
    _replace(root, test, "verifies: [", f"verifies: [{other.id}, ")


def _add_finding(root: Path, project: Project) -> None:
    requirement = project.of_kind("software_requirement")[3]
    first = str(requirement.get("text")).split()[0]
    _replace(root, requirement, f" {first} ", " TBD ")


def _fail_a_record(root: Path, project: Project) -> None:
    folder = root / "verification_records"
    record = next(path for path in sorted(folder.rglob("*.yaml")))
    record.write_text(record.read_text(encoding="utf-8").replace("outcome: passed", "outcome: failed", 1), "utf-8")


def _unlink_a_test(root: Path, project: Project) -> None:
    _, _, test = _control_test(project)
    first = test.links("verifies")[0]
    _replace(root, test, f"verifies: [{first}, ", "verifies: [")


def _take_a_test_away(root: Path, project: Project) -> None:
    """Take the test verifying a hazard's control out of its file."""
    _, _, test = _control_test(project)
    path = root / test.file
    text = path.read_text(encoding="utf-8")
    start = text.index(f"  - id: {test.id}\n")
    end = text.find("\n  - id: ", start + 1)
    path.write_text(text[:start] + (text[end + 1 :] if end >= 0 else ""), encoding="utf-8")


def _add_a_test(root: Path, project: Project) -> None:
    """Add a test verifying a hazard's control."""
    _, control, test = _control_test(project)
    path = root / test.file
    added = (
        f"\n  - id: TST-S900\n    title: Added check\n    method: test\n    level: system\n"
        f"    verifies: [{control.id}]\n    steps:\n      - Run it.\n    expected: It passes.\n"
    )
    path.write_text(path.read_text(encoding="utf-8").rstrip("\n") + "\n" + added, encoding="utf-8")


def _rename_the_device(root: Path, project: Project) -> None:
    path = root / "qms.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("name: Example AID Controller", "name: AID", 1), "utf-8")


@pytest.mark.parametrize(
    "edit",
    [
        _retitle_test,
        _edit_requirement_text,
        _add_finding,
        _fail_a_record,
        _add_link,
        _unlink_a_test,
        _take_a_test_away,
        _add_a_test,
    ],
    ids=[
        "test title",
        "requirement text",
        "a finding",
        "an execution record",
        "a link added",
        "a link taken away",
        "an item taken away",
        "an item added",
    ],
)
def test_every_block_fingerprint_taken_is_the_one_made_afresh(
    tmp_path: Path, edit: Callable[[Path, Project], None]
) -> None:
    root, kept, after, taken = _edited(tmp_path, edit)
    assert 0 < taken < len(after.project)  # the edited item's block and its neighbours' are made again
    taken_digests = {query[1]: found for query, found in after.digests.items() if query[0] == "item"}
    fresh = _all_blocks(_data(root))
    assert taken_digests == {item_id: fresh[item_id] for item_id in taken_digests}
    assert _all_blocks(after) == fresh
    assert set(fresh.values()) != set(kept.digests.values())  # the edit changed some block


def test_a_title_edit_makes_again_the_blocks_two_links_away(tmp_path: Path) -> None:
    _, kept, after, _ = _edited(tmp_path, _retitle_test)
    hazard, control, test = _control_test(after.project)
    taken = {query[1] for query in after.digests if query[0] == "item"}
    assert not {hazard.id, control.id, test.id} & taken  # the hazard's block lists its controls' tests
    assert _all_blocks(after)[hazard.id] != kept.digests[hazard.id]


def _far_parent(project: Project) -> tuple[Item, str]:
    """A software requirement and one of its two or more parents that, once the link between them is
    taken away, no path of three links joins (so only the link taken away says its block changed)."""

    def linked(item_id: str, without: tuple[str, str]) -> set[str]:
        found = {link.target for link in project.links_from(item_id) if (item_id, link.target) != without}
        return found | {link.source for link in project.backlinks.get(item_id, ()) if (link.source, item_id) != without}

    for item in project.of_kind("software_requirement"):
        for parent in item.links("derives_from") if len(item.links("derives_from")) > 1 else ():
            reached = {item.id}
            for _ in range(3):
                reached |= {other for found in reached for other in linked(found, (item.id, parent))}
            if parent not in reached:
                return item, parent
    raise AssertionError("the example has a requirement whose second parent is far from it")


def _drop_a_far_parent(root: Path, project: Project) -> None:
    item, parent = _far_parent(project)
    parents = item.links("derives_from")
    kept = [other for other in parents if other != parent]
    _replace(root, item, f"derives_from: [{', '.join(parents)}]", f"derives_from: [{', '.join(kept)}]")


def test_a_link_taken_away_makes_again_the_block_of_the_item_it_linked_to(tmp_path: Path) -> None:
    _, parent = _far_parent(_data(copy_example(tmp_path / "before")).project)
    _, kept, after, _ = _edited(tmp_path, _drop_a_far_parent)
    taken = {query[1] for query in after.digests if query[0] == "item"}
    assert parent not in taken  # its block no longer lists the requirement refining it
    fresh = _all_blocks(_data(after.project.root))
    assert _all_blocks(after) == fresh and fresh[parent] != kept.digests[parent]


def test_nothing_is_taken_once_what_every_block_reads_changed(tmp_path: Path) -> None:
    _, kept, after, taken = _edited(tmp_path, _rename_the_device)
    assert taken == 0
    assert after.cache[KEPT_BLOCKS] is kept  # kept, to write only where the new ones differ


@pytest.mark.slow
def test_a_rebuild_after_edits_equals_a_clean_build(tmp_path: Path) -> None:
    root = copy_example(tmp_path / "device")
    assert build(root).exit_code == 0
    project = _data(root).project
    _retitle_test(root, project)
    assert build(root).exit_code == 0
    _edit_requirement_text(root, _data(root).project)
    assert build(root).exit_code == 0
    assert (root / "_build" / "doctrees" / "qms-block-digests.pickle").is_file()
    assert build(root, "--clean", "-o", str(tmp_path / "clean")).exit_code == 0
    assert site_files(root / "_build" / "html") == site_files(tmp_path / "clean")
