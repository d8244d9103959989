"""The release check's result as the technical file states it: the findings of ``qms check
--release``, computed by the same function, apart from the approval of the documents themselves."""

from __future__ import annotations

import dataclasses
import functools
import inspect
import re
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from conftest import invoke_qms, write_files
from sphinx_support import build, new_project, page

from qms.checking import RELEASE_INDEPENDENT, check_context, check_project, release_context, release_findings
from qms.project import load_project
from qms.rules import RULES, CheckContext, run_rules
from qms.rules.registry import CHECKS, PROJECT_RULES, RELEASE_RULES, CheckFunction, Hit
from qms.sphinx.claim_directives import ReleaseCheckDirective
from qms.sphinx.claims import ReleaseCheckView

#: Off in the test project, so that its release check finds exactly what the test sets up.
QUIET = "rules:\n  E405: 'off'\n  Q008: 'off'\n"

UNIT = """\
kind: software_unit
items:
  - id: SU-01
    title: Reading age
    parent: [SI-01]
    design: Whole minutes since the reading, rounded down.
    interfaces: "age_minutes(reading_time, now) -> int"
    acceptance_criteria:
      - 59 seconds is 0 minutes; 60 seconds is 1 minute.
"""


def _device(root: Path) -> Path:
    """A class C project whose release check finds only L707 on SI-01 and the documents' approval."""
    root = new_project(root)
    config = root / "qms.yaml"
    text = config.read_text(encoding="utf-8")
    config.write_text(re.sub(r"^rules:\n(  .*\n)+", QUIET, text, flags=re.MULTILINE), encoding="utf-8")
    return root


def _add_unit(root: Path) -> None:
    """Give SI-01 its detailed design and a test that verifies it: L707 and L706 are met."""
    write_files(root, {"traceability/units.yaml": UNIT})
    tests = root / "traceability" / "tests.yaml"
    text = tests.read_text(encoding="utf-8")
    assert "verifies: [SYS-001, SWR-001]" in text
    tests.write_text(
        text.replace("verifies: [SYS-001, SWR-001]", "verifies: [SYS-001, SWR-001, SU-01]", 1), encoding="utf-8"
    )


def _codes(output: str) -> list[str]:
    return re.findall(r"\b(?:error|warning) ([A-Z]\d{3})\b", output)


def test_the_release_check_is_the_commands_check(tmp_path: Path) -> None:
    """``qms check --release`` and the release findings of a development check's context are the same
    findings, and the development check itself does not report the release-only ones."""
    root = _device(tmp_path / "device")
    project = load_project(root)
    context = check_context(project)
    assert not context.release
    shared = release_findings(context)
    assert shared == check_project(project, release=True)
    assert {finding.rule for finding in shared} == {"A601", "L707"}
    assert "L707" not in {finding.rule for finding in check_project(project)}
    result = invoke_qms("check", "--release", "--project", root)
    assert result.exit_code == 1
    assert sorted(_codes(result.output)) == sorted(finding.rule for finding in shared)


def test_the_release_context_shares_only_what_does_not_depend_on_release(tmp_path: Path) -> None:
    """Every value a context computed once is shared with its release context (none depends on
    the release flag), what it did not is left to the release context, and the development
    context stays a development one."""
    cached = {name for name, value in vars(CheckContext).items() if isinstance(value, functools.cached_property)}
    assert set(RELEASE_INDEPENDENT) == cached
    root = _device(tmp_path / "device")
    context = check_context(load_project(root))
    statuses = context.statuses
    release = release_context(context)
    assert release.release and not context.release
    assert release.statuses is statuses
    assert "documents" not in vars(release)  # not computed for a release check that may not ask
    assert release.documents is not context.documents and release.documents == context.documents
    # computed once, on the development context, and used by both: the build runs the rules and
    # then the release check from the same context
    context = check_context(load_project(root))
    run_rules(context)
    assert {"approvals", "item_hits", "project_hits", "statuses"} <= set(vars(context))
    release = release_context(context)
    for name in set(vars(context)) & set(RELEASE_INDEPENDENT):
        assert getattr(release, name) is getattr(context, name), name
    assert release_context(release) is release


def _counted(runs: Counter[str], code: str, check: CheckFunction) -> CheckFunction:
    """``check``, counting its runs in ``runs``."""

    def run(context: CheckContext) -> Iterable[Hit]:
        runs[code] += 1
        return check(context)

    return run


def test_a_build_runs_the_rules_of_the_project_alone_once_for_both_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The development check and the release check a build states both take the findings of the
    rules that read the project alone from one run of them (they do not depend on the release flag)."""
    root = _device(tmp_path / "device")
    runs: Counter[str] = Counter()
    for code in PROJECT_RULES:
        monkeypatch.setitem(CHECKS, code, _counted(runs, code, CHECKS[code]))
    context = check_context(load_project(root))
    development, release = run_rules(context), release_findings(context)
    assert runs and set(runs.values()) == {1}
    monkeypatch.undo()
    fresh = load_project(root)
    assert development == check_project(fresh)
    assert release == check_project(fresh, release=True)


def test_the_release_check_of_checked_records_runs_again_only_the_rules_that_read_the_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the development check's findings, the release check runs only the rules marked
    ``at_release`` and keeps the others' findings: the same findings as a release check from scratch."""
    root = _device(tmp_path / "device")
    runs: Counter[str] = Counter()
    for code, registered in RULES.items():
        if registered.check is not None and code not in PROJECT_RULES:  # those run once per context anyway
            monkeypatch.setitem(
                RULES, code, dataclasses.replace(registered, check=_counted(runs, code, registered.check))
            )
    context = check_context(load_project(root))
    development = run_rules(context)
    first = Counter(runs)
    release = release_findings(context, development)
    again = {code for code in runs if runs[code] > first[code]}
    assert again and again <= RELEASE_RULES
    monkeypatch.undo()
    assert {finding.rule for finding in release} == {"A601", "L707"}
    assert release == release_findings(check_context(load_project(root)))
    tagged = release_context(context)
    assert release_findings(tagged, run_rules(tagged)) == run_rules(tagged)


def _called_source(check: CheckFunction) -> str:
    """A check function's source with that of the functions of its module it calls."""
    module = inspect.getmodule(check)
    source = inspect.getsource(check)
    helpers = [
        value
        for name, value in vars(module).items()
        if inspect.isfunction(value)
        and value is not check
        and value.__module__ == module.__name__
        and re.search(rf"\b{re.escape(name)}\(", source)
    ]
    return "\n".join([source, *(inspect.getsource(helper) for helper in helpers)])


def test_every_rule_that_reads_the_release_flag_is_marked() -> None:
    """A rule reading ``context.release`` unmarked would keep its development findings in the
    release check; a marked rule that never reads it would only run twice."""
    reading = {code for code, check in CHECKS.items() if "context.release" in _called_source(check)}
    assert reading == RELEASE_RULES
    assert not RELEASE_RULES & PROJECT_RULES


@pytest.mark.parametrize(
    ("view", "expected"),
    [
        (ReleaseCheckView(True, 0, 0, (), "gaps"), "reports no error and no warning, apart from the approval"),
        (ReleaseCheckView(True, 2, 1, (), "gaps"), "reports 2 errors and 1 warning, apart from the approval"),
        (ReleaseCheckView(False, 0, 0, (), "gaps"), "was not run for these pages: they state no result of it"),
    ],
)
def test_the_sentence_states_the_result_and_nothing_more(view: ReleaseCheckView, expected: str) -> None:
    sentence = ReleaseCheckDirective.sentence(view)
    assert expected in sentence
    assert ("not verified as complete" in sentence) == bool(view.errors)


def _release_check(site: Path, name: str) -> tuple[str, list[tuple[str, str]]]:
    """The release check's sentence on a page, and its findings as (rule, item link target)."""
    soup = BeautifulSoup(page(site, name), "html.parser")
    (sentence,) = soup.select("p[class*=qms-release-check-]")
    rows = []
    for table in soup.select("table.qms-release-check"):
        assert table.find_parent("div", class_="qms-interactive") is not None  # filterable and sortable
        for row in table.select("tbody tr"):
            cells = row.find_all("td")
            link = cells[1].find("a")
            rows.append((cells[0].get_text(" ", strip=True), str(link["href"]) if link else ""))
    return sentence.get_text(" ", strip=True), rows


@pytest.mark.slow
def test_the_pages_state_what_the_release_check_reports(tmp_path: Path) -> None:
    """With an L707 open, the release notes, the front page and the open findings state it with
    its item; once the unit is designed and verified, they state that the check reports none. The
    release notes say that no previous release is named, then print why there is none."""
    root = _device(tmp_path / "device")
    result = build(root)
    assert result.exit_code == 0, result.output
    site = root / "_build" / "html"
    for name in ("release-notes.html", "index.html", "gaps.html"):
        sentence, rows = _release_check(site, name)
        assert "reports 1 error and 0 warnings, apart from the approval of these documents" in sentence
        assert "not verified as complete" in sentence
        assert len(rows) == 1
        assert rows[0][0] == "L707 error" and "SI-01" in rows[0][1]
    assert "No previous release is named" in page(site, "release-notes.html")
    _add_unit(root)
    with (root / "qms.yaml").open("a", encoding="utf-8") as config:
        config.write('release: {no_baseline: "Version 0.0.9 predates these records."}\n')
    assert set(_codes(invoke_qms("check", "--release", "--project", root).output)) == {"A601"}
    result = build(root)
    assert result.exit_code == 0, result.output
    for name in ("release-notes.html", "index.html", "gaps.html"):
        sentence, rows = _release_check(site, name)
        assert "reports no error and no warning, apart from the approval of these documents" in sentence
        assert rows == []
    notes = BeautifulSoup(page(site, "release-notes.html"), "html.parser").get_text(" ", strip=True)
    assert "No previous release can be compared with: Version 0.0.9 predates these records." in notes


@pytest.mark.slow
def test_a_project_without_a_version_gets_release_notes_that_say_so(tmp_path: Path) -> None:
    """``device.version`` is optional while a project starts: the generated pages must still be valid
    markup (no warning located in a generated source), and the notes say that no version is set
    instead of printing an empty one."""
    root = _device(tmp_path / "device")
    config = root / "qms.yaml"
    text = config.read_text(encoding="utf-8")
    assert "  version: 0.1.0\n" in text
    config.write_text(text.replace("  version: 0.1.0\n", ""), encoding="utf-8")
    result = build(root)
    assert result.exit_code == 0, result.output
    assert "qms-sources" not in result.output
    notes = " ".join(
        BeautifulSoup(page(root / "_build" / "html", "release-notes.html"), "html.parser").get_text().split()
    )
    assert "No version identifies this release of Test Device: device.version in qms.yaml is not set" in notes
    assert "The change requests whose release is this version (none is set), each with" in notes
