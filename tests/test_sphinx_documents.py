"""The document set: what each class gets, templates a project overrides, the IEC 62304 edition,
the document-control block from git, and a project tree left as it was."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from sphinx_support import build, new_project, page, row_of, site_page, text_of


def _git(root: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=Quality Engineer", "-c", "user.email=qe@example.org", *args]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def class_a(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = new_project(tmp_path_factory.mktemp("class-a") / "device", safety_class="A")
    result = build(root)
    assert result.exit_code == 0, result.output
    return root / "_build" / "html"


@pytest.mark.slow
def test_class_a_marks_what_it_need_not_produce(class_a: Path) -> None:
    architecture = page(class_a, "software-architecture.html")
    assert "Not required for software safety class A" in architecture
    assert "5.3.1 Software architecture: classes B, C only." in architecture
    assert "5.3.5 Segregation for risk control: class C only." in architecture
    assert site_page(class_a, "software-architecture.html").select_one("section#SOUP-01")  # 8.1.2: every class
    assert "Not required for software safety class" in page(class_a, "software-requirements.html")  # 5.2.3


@pytest.mark.slow
def test_class_a_clause_index_says_not_required(class_a: Path) -> None:
    row = row_of(site_page(class_a, "clause-index.html"), "5.3.1")
    assert [text_of(badge) for badge in row.select(".qms-badge-clause-not")] == ["not required"]


@pytest.mark.slow
def test_outside_git_the_documents_say_so(class_a: Path) -> None:
    assert "not under version control" in page(class_a, "risk-register.html")


@pytest.fixture(scope="module")
def git_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A class C project in git, with its own release notes purpose, an edition setting and stray pages."""
    root = new_project(
        tmp_path_factory.mktemp("class-c") / "device",
        files={
            "_templates/release-notes.rst.jinja": (
                '{% extends "default/release-notes.rst.jinja" %}\n{% block purpose %}\n'
                "Release notes written by the project's own template for {{ device.name }}.\n{% endblock %}\n"
            ),
            "README.rst": "Read me\n=======\n\nNot a page of the technical file.\n",
            "tests/notes.rst": "Test notes\n==========\n\nNot a page either.\n",
        },
    )
    with (root / "conf.py").open("a", encoding="utf-8") as conf:
        conf.write('qms_iec62304_edition = "2006"\n')
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "Device records")
    result = build(root)
    assert result.exit_code == 0, result.output
    assert "WARNING" not in result.stderr
    return root


@pytest.mark.slow
def test_a_project_template_overrides_the_shipped_one(git_project: Path) -> None:
    notes = page(git_project / "_build" / "html", "release-notes.html")
    assert "Release notes written by the project's own template for Test Device." in notes
    assert "Known residual anomalies" in notes  # the rest of the shipped template is kept


@pytest.mark.slow
def test_the_2006_edition_changes_the_clause_index(git_project: Path) -> None:
    index = site_page(git_project / "_build" / "html", "clause-index.html")
    assert "not in 2006" in [text_of(element) for element in row_of(index, "5.1.12").find_all(True)]
    assert "IEC 62304:2006 for software safety class C" not in text_of(index)  # the purpose is fixed text
    assert "IEC 62304:2006" in page(git_project / "_build" / "html", "index.html")


@pytest.mark.slow
def test_the_tree_stays_clean_and_stray_pages_are_not_read(git_project: Path) -> None:
    site = git_project / "_build" / "html"
    assert _git(git_project, "status", "--porcelain") == ""
    assert not (site / "README.html").exists() and not (site / "tests").exists()


@pytest.mark.slow
def test_document_control_shows_the_commit_and_the_dirty_tree(git_project: Path) -> None:
    commit = _git(git_project, "rev-parse", "HEAD").strip()
    site = git_project / "_build" / "html"
    shown = site_page(site, "risk-register.html").select("dl.qms-document-control code")
    assert commit in [text_of(code) for code in shown]
    assert "clean working tree" in page(site, "risk-register.html")
    needs = git_project / "traceability" / "needs.yaml"
    needs.write_text(needs.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    result = build(git_project)
    assert result.exit_code == 0, result.output
    for name in ("risk-register.html", "index.html", "gaps.html"):  # written again, though none was read again
        assert "with uncommitted changes" in page(site, name)


def _design_project(
    root: Path, items: tuple[tuple[str, str, str], ...], units: tuple[tuple[str, str, str], ...]
) -> BeautifulSoup:
    """A project with the software ``items`` (id, title, more YAML) and ``units`` (id, parents, more
    YAML), built: its detailed design page."""
    software_items = "".join(
        f"  - id: {item_id}\n    title: {title}\n    description: It {title.lower()}.\n{more}"
        for item_id, title, more in items
    )
    software_units = "".join(
        f"  - id: {unit}\n    title: Unit {unit}\n    design: D.\n    interfaces: I.\n    acceptance_criteria: [A.]\n"
        + (f"    parent: [{parents}]\n" if parents else "")
        + more
        for unit, parents, more in units
    )
    new_project(
        root,
        files={
            "traceability/items.yaml": f"kind: software_item\nitems:\n{software_items}",
            "traceability/units.yaml": f"kind: software_unit\nitems:\n{software_units}",
        },
    )
    assert build(root).exit_code == 0
    return site_page(root / "_build/html", "software-detailed-design.html")


def test_units_are_grouped_under_each_software_item_they_are_part_of_headed_by_its_id_and_title(
    tmp_path: Path,
) -> None:
    """A link field holds a list: its groups are headed by the item it names ("SI-2 Pump driver"), in
    id order, never by the list's Python spelling; a unit part of two items is under both."""
    html = _design_project(
        tmp_path / "device",
        (("SI-2", "Pump driver", ""), ("SI-10", "Dosing engine", "")),
        (("SU-1", "SI-10", ""), ("SU-2", "SI-2", ""), ("SU-3", "SI-2, SI-10", ""), ("SU-4", "", "")),
    )
    section = html.find(id="detailed-design-by-software-item")
    assert section is not None
    groups = {
        heading.get_text(strip=True).rstrip("¶"): [block["id"] for block in heading.parent.find_all(class_="qms-item")]
        for heading in section.find_all("h3")
    }
    assert list(groups) == ["SI-2 Pump driver", "SI-10 Dosing engine", "Other"]
    assert groups == {"SI-2 Pump driver": ["SU-2", "SU-3"], "SI-10 Dosing engine": ["SU-1", "SU-3"], "Other": ["SU-4"]}


def test_a_reverse_link_column_lists_only_the_links_that_carry_its_label(tmp_path: Path) -> None:
    """A software item's sub-items and units both name it in a field called ``parent``: its "contains"
    column lists the sub-items, its "detailed by unit" column the units, never one in the other's."""
    html = _design_project(
        tmp_path / "device",
        (("SI-1", "Dosing", ""), ("SI-2", "Dose limits", "    parent: [SI-1]\n")),
        (("SU-1", "SI-1", ""),),
    )
    table = html.find(id="sdd-coverage").find_next("table")
    headers = [text_of(header) for header in table.find_all("th")]
    cells = dict(zip(headers, [text_of(cell) for cell in row_of(table, "SI-1 Dosing").find_all("td")], strict=True))
    assert "SI-2" in cells["Contains"] and "SU-1" not in cells["Contains"]
    assert "SU-1" in cells["Detailed by unit"] and "SI-2" not in cells["Detailed by unit"]


def test_a_unit_without_a_class_of_its_own_shows_the_class_it_inherits(tmp_path: Path) -> None:
    """``safety_class`` is written where it differs (IEC 62304 4.3): a table shows the class an item
    has, its parent's or the device's, marked inherited, never a dash that reads as no class."""
    html = _design_project(
        tmp_path / "device",
        (("SI-1", "Dosing", ""), ("SI-2", "Display", "    safety_class: B\n")),
        (("SU-1", "SI-1", ""), ("SU-2", "SI-2", ""), ("SU-3", "SI-2", "    safety_class: A\n")),
    )
    table = html.find(id="sdd-units").find_next("table")
    headers = [text_of(header) for header in table.find_all("th")]
    column = headers.index("Safety class")
    shown = {
        unit: text_of(row_of(table, f"{unit} Unit {unit}").find_all("td")[column]) for unit in ("SU-1", "SU-2", "SU-3")
    }
    assert shown == {"SU-1": "C inherited", "SU-2": "B inherited", "SU-3": "A"}


def test_a_template_no_document_uses_is_a_warning_naming_the_one_it_was_meant_to_be(tmp_path: Path) -> None:
    """A misspelt override changes no page: the build says so, at the file, with the name it is close
    to. A correctly named override and a part another template includes are used: no warning."""
    root = new_project(
        tmp_path / "device",
        files={
            "_templates/software-requirement.rst.jinja": '{% extends "default/software-requirements.rst.jinja" %}\n',
            "_templates/gaps.rst.jinja": '{% extends "default/gaps.rst.jinja" %}{% include "_note.rst.jinja" %}\n',
            "_templates/_note.rst.jinja": "A note.\n",
        },
    )
    result = build(root)
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if "[qms.unused-template]" in line]
    assert warnings == [
        f"{root}/_templates/software-requirement.rst.jinja:1: WARNING: software-requirement.rst.jinja is the "
        "template of no document and no template uses it: it changes no page; did you mean "
        "software-requirements.rst.jinja? [qms.unused-template]"
    ]


def test_the_development_plan_counts_the_integration_tests_it_names(tmp_path: Path) -> None:
    """The plan says how many of the tests recorded are integration tests (it counted every test as
    one), and says so when the project states no integration strategy instead of claiming one."""
    test = "  - id: TST-9\n    title: Pump link\n    method: test\n    level: integration\n    verifies: [SWR-001]\n"
    root = new_project(tmp_path / "device")
    tests = root / "traceability" / "tests.yaml"
    tests.write_text(tests.read_text(encoding="utf-8") + test, encoding="utf-8")
    assert build(root).exit_code == 0
    plan = text_of(site_page(root / "_build/html", "software-development-plan.html"))
    assert "The plan states no integration strategy yet" in plan
    assert "(level integration: 1 of the 3 tests recorded)" in plan
    assert "integrated continuously" not in plan


def test_a_findings_column_says_none_where_an_item_has_none(tmp_path: Path) -> None:
    """The release notes list the anomalies with their findings: an empty cell reads as not filled in."""
    anomaly = (
        "kind: anomaly\nitems:\n  - id: ANOM-001\n    title: Slow banner\n    severity: 2\n"
        "    status: open\n    evaluation: The alarm still sounds.\n    affects: [SWR-001]\n"
    )
    root = new_project(tmp_path / "device", files={"traceability/anomalies.yaml": anomaly})
    assert build(root).exit_code == 0
    notes = site_page(root / "_build/html", "release-notes.html")
    table = next(table for table in notes.select("table") if "Findings" in [text_of(th) for th in table.select("th")])
    cell = row_of(table, "ANOM-001 Slow banner").find_all("td")[-1]
    assert text_of(cell) == "none" and cell.select_one(".qms-muted") is not None
