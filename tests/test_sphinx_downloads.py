"""The site's Excel workbook is written again whenever anything it shows may have changed: the key
under which a build keeps the previous workbook covers every input the export reads."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import invoke_qms
from fixtures.excel.workbooks import SHEETS
from sphinx_support import build, copy_example, new_project, run_example_tests

from qms.clauses import DEFAULT_EDITION
from qms.excel import export, sheetcache
from qms.excel.sheetcache import SUFFIX
from qms.matrix import Chain
from qms.sphinx import downloads
from qms.sphinx.state import load_build_data
from qms.sphinx.views import tables


def _key(root: Path) -> str:
    data = load_build_data(SimpleNamespace(), root, edition=DEFAULT_EDITION, prefix="", clause_table="")  # type: ignore[arg-type]
    return downloads.fingerprint(data)


def _first_outcome_failed(root: Path) -> None:
    record = root / "verification_records" / "2026-12-01-integration.yaml"
    text = record.read_text(encoding="utf-8")
    assert "outcome: passed" in text
    record.write_text(text.replace("outcome: passed", "outcome: failed", 1), encoding="utf-8")


def _item_edited(root: Path) -> None:
    item = root / "traceability" / "needs.yaml"
    item.write_text(item.read_text(encoding="utf-8") + "\n", encoding="utf-8")


def _item_file_touched(root: Path) -> None:
    """An item change git holds no commit of dates from its file's time (the staleness of its results)."""
    item = root / "traceability" / "needs.yaml"
    modified = item.stat().st_mtime_ns
    os.utime(item, ns=(modified + 10**9, modified + 10**9))


def _config_edited(root: Path) -> None:
    config = root / "qms.yaml"
    config.write_text(config.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")


def _results_edited(root: Path) -> None:
    results = root / "reports" / "aid-controller.xml"
    results.write_text(results.read_text(encoding="utf-8") + "\n", encoding="utf-8")


def _code_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheetcache, "code_digest", lambda: b"another version of qms")


def _openpyxl_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sheetcache, "version", lambda name: "0.0.0")


def _xml_library_changed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENPYXL_LXML", "False")


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_example(tmp_path_factory.mktemp("downloads") / "device")
    run_example_tests(root)
    return root


def _device(example: Path, tmp_path: Path) -> Path:
    """A copy of the example with the results of its tests."""
    root = tmp_path / "device"
    copy_example(root)
    (root / "reports").mkdir(exist_ok=True)
    (root / "reports" / "aid-controller.xml").write_bytes((example / "reports" / "aid-controller.xml").read_bytes())
    return root


@pytest.mark.parametrize(
    "change",
    [_first_outcome_failed, _item_edited, _item_file_touched, _config_edited, _results_edited],
    ids=["execution record", "item file", "item file touched", "qms.yaml", "result file"],
)
def test_each_file_the_workbook_reads_is_in_its_key(
    example: Path, tmp_path: Path, change: Callable[[Path], None]
) -> None:
    root = _device(example, tmp_path)
    before = _key(root)
    assert _key(root) == before
    change(root)
    assert _key(root) != before


@pytest.mark.parametrize(
    "change", [_code_changed, _openpyxl_changed, _xml_library_changed], ids=["qms", "openpyxl", "XML library"]
)
def test_the_code_that_writes_the_workbook_is_in_its_key(
    example: Path, monkeypatch: pytest.MonkeyPatch, change: Callable[[pytest.MonkeyPatch], None]
) -> None:
    before = _key(example)
    change(monkeypatch)
    assert _key(example) != before


@pytest.mark.slow
def test_a_changed_execution_record_writes_the_workbook_again(example: Path, tmp_path: Path) -> None:
    """The case that once kept a stale workbook: the records changed, the items and the git state did not."""
    root = _device(example, tmp_path)
    assert build(root).exit_code == 0
    downloads_folder = root / "_build" / "html" / "downloads"
    workbook = next(downloads_folder.glob("*.xlsx"))
    before, matrix = workbook.read_bytes(), (downloads_folder / "traceability-matrix.csv").read_bytes()
    _first_outcome_failed(root)
    assert build(root).exit_code in (0, 1)
    assert workbook.read_bytes() != before
    assert (downloads_folder / "traceability-matrix.csv").read_bytes() != matrix
    _same_as_the_commands(root, tmp_path)


@pytest.mark.slow
def test_after_an_item_edit_the_site_workbook_is_the_exported_one(example: Path, tmp_path: Path) -> None:
    """The workbook's kept sheets give a stale one never: the edited item's sheet is written again."""
    root = _device(example, tmp_path)
    assert build(root).exit_code == 0
    kept = root / "_build" / "doctrees" / downloads.SHEETS
    before = _whole_sheets(kept)
    assert len(before) == SHEETS
    needs = root / "traceability" / "needs.yaml"
    text = needs.read_text(encoding="utf-8")
    assert "Keep glucose in range with less effort" in text
    needs.write_text(text.replace("Keep glucose in range with less effort", "Keep glucose in range"), encoding="utf-8")
    assert build(root).exit_code in (0, 1)
    after = _whole_sheets(kept)
    assert len(after) == SHEETS and 0 < len(after - before) < SHEETS
    _same_as_the_commands(root, tmp_path)


def _whole_sheets(kept: Path) -> set[str]:
    """The kept sheets (beside them, the runs of rows long sheets are put together from)."""
    return {path.name for path in kept.glob(f"*{SUFFIX}") if b"<worksheet" in path.read_bytes()}


def _same_as_the_commands(root: Path, tmp_path: Path) -> None:
    downloads_folder = root / "_build" / "html" / "downloads"
    exported = invoke_qms("export", "xlsx", str(tmp_path / "records.xlsx"), cwd=root)
    assert exported.exit_code == 0, exported.output
    assert next(downloads_folder.glob("*.xlsx")).read_bytes() == (tmp_path / "records.xlsx").read_bytes()
    matrix = invoke_qms("matrix", "--format", "csv", "-o", str(tmp_path / "matrix.csv"), cwd=root)
    assert matrix.exit_code == 0, matrix.output
    assert (downloads_folder / "traceability-matrix.csv").read_bytes() == (tmp_path / "matrix.csv").read_bytes()


def _walked_beside(monkeypatch: pytest.MonkeyPatch, noted: Path) -> None:
    """Note in ``noted`` each chain whose matrix a process other than this one walks link by link,
    whole or where its paths changed (noted ``again``)."""
    here = os.getpid()

    def noting(walk: Callable[..., object], how: str) -> Callable[..., object]:
        def walked(project: object, chain: Chain, *rest: object, **options: object) -> object:
            if os.getpid() != here:
                with noted.open("a", encoding="utf-8") as stream:
                    stream.write(chain.title + how + "\n")
            return walk(project, chain, *rest, **options)

        return walked

    for name, how in (("trace_matrix", ""), ("shaped_trace_matrix", ""), ("retrace_matrix", " again")):
        monkeypatch.setattr(tables, name, noting(getattr(tables, name), how))


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(os, "fork"), reason="the workbook is written in a forked process")
def test_the_workbook_takes_the_matrix_rows_the_last_build_kept_while_the_links_are_theirs(
    example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _device(example, tmp_path)
    assert build(root).exit_code == 0
    noted = tmp_path / "walked.txt"
    _walked_beside(monkeypatch, noted)
    _item_edited(root)  # the same links
    assert build(root).exit_code in (0, 1)
    assert not noted.exists()  # the workbook's process took the rows the build kept
    _same_as_the_commands(root, tmp_path)
    tests = root / "traceability" / "verification" / "integration.yaml"
    text = tests.read_text(encoding="utf-8")
    assert "verifies: [SWR-001, SWR-011, SWR-073]" in text
    tests.write_text(
        text.replace("verifies: [SWR-001, SWR-011, SWR-073]", "verifies: [SWR-001, SWR-011]"), encoding="utf-8"
    )
    assert build(root).exit_code in (0, 1)
    walked = noted.read_text(encoding="utf-8").splitlines()  # another link: its paths walked again, not all
    assert "Design traceability again" in walked and all(chain.endswith(" again") for chain in walked)
    _same_as_the_commands(root, tmp_path)


@pytest.mark.slow
def test_without_fork_the_downloads_are_written_in_the_build(
    example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where processes cannot be forked the build writes the workbook and matrix itself; a build with
    the same records keeps both, and a changed record writes both again."""
    monkeypatch.setattr(downloads.multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    root = _device(example, tmp_path)
    assert build(root).exit_code == 0
    _same_as_the_commands(root, tmp_path)
    made = []
    monkeypatch.setattr(downloads, "_matrix_bytes", lambda *arguments: made.append(1) or b"not written again")
    with (root / "conf.py").open("a", encoding="utf-8") as conf:
        conf.write("# edited: the site is built again, from the same records\n")
    assert build(root).exit_code == 0
    assert not made
    monkeypatch.undo()
    monkeypatch.setattr(downloads.multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    _first_outcome_failed(root)
    assert build(root).exit_code in (0, 1)
    _same_as_the_commands(root, tmp_path)


def test_the_workbook_process_is_forked_where_no_other_thread_runs() -> None:
    assert downloads.may_fork() == ("fork" in multiprocessing.get_all_start_methods())


def test_no_workbook_process_is_forked_while_another_thread_runs(another_thread: threading.Thread) -> None:
    # the preview's builds made in its own process run beside its server's and watcher's threads
    assert not downloads.may_fork()


@pytest.mark.parametrize("refused", [False, True], ids=["lowered", "refused by the system"])
def test_the_workbook_is_written_at_a_lower_priority_than_the_build(
    example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refused: bool
) -> None:
    """The workbook's process yields the cores to the build's own processes where they want both
    (pages changed in place by a second one), instead of slowing them: it runs ``nice``-r. Where the
    system refuses, it writes the workbook at the build's priority."""
    data = load_build_data(SimpleNamespace(), example, edition=DEFAULT_EDITION, prefix="", clause_table="")  # type: ignore[arg-type]

    def priority(*arguments: object) -> bytes:  # the workbook's process's own, as its bytes
        return str(os.getpriority(os.PRIO_PROCESS, 0)).encode("ascii")

    monkeypatch.setattr(export, "workbook_bytes", priority)
    if refused:

        def refuse(increment: int) -> int:
            raise PermissionError(1, "Operation not permitted")

        monkeypatch.setattr(downloads.os, "nice", refuse)
    now = os.getpriority(os.PRIO_PROCESS, 0)
    written = tmp_path / "workbook.xlsx"
    arguments = (data, str(written), tmp_path / "sheets", "", tmp_path / "kept")  # as start_workbook forks it
    process = multiprocessing.get_context("fork").Process(target=downloads._write_workbook, args=arguments)
    process.start()
    process.join()
    assert process.exitcode == 0
    assert downloads.WORKBOOK_NICENESS > 0
    lowered = now if refused else min(19, now + downloads.WORKBOOK_NICENESS)
    assert int(written.read_text(encoding="ascii")) == lowered


def test_the_workbook_starts_once_the_project_is_read_and_before_the_rules_run(
    example: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The workbook's process needs the items, evidence, records, statuses and git state, not the
    findings: it is started before the check's rules, which then run beside it."""
    from qms.sphinx import state

    root = _device(example, tmp_path)
    _first_outcome_failed(root)  # findings on items, which the build data indexes once they come

    events: list[str] = []
    rules = state.run_rules
    monkeypatch.setattr(
        state, "run_rules", lambda context, **options: events.append(f"rules {options}") or rules(context, **options)
    )

    def started(data: object) -> None:
        assert isinstance(data, state.BuildData)
        events.append(f"started with {len(data.findings)} findings, {len(data.project)} items")
        assert data.statuses is not None and data.evidence is not None and data.records is not None

    loaded = load_build_data(
        SimpleNamespace(),  # type: ignore[arg-type]
        root,
        edition=DEFAULT_EDITION,
        prefix="",
        clause_table="",
        before_rules=started,
    )
    # the second core is the workbook's: the rules of the project alone do not fork a process beside it
    assert events == [f"started with 0 findings, {len(loaded.project)} items", "rules {'beside': False}"]
    again = load_build_data(SimpleNamespace(), root, edition=DEFAULT_EDITION, prefix="", clause_table="")  # type: ignore[arg-type]
    assert loaded.findings == again.findings
    assert loaded.findings_by_item == again.findings_by_item and loaded.findings_by_item


def _offered(root: Path) -> list[str]:
    return sorted(path.name for path in (root / "_build" / "html" / "downloads").iterdir() if path.is_file())


@pytest.mark.slow
def test_a_workbook_the_site_no_longer_offers_leaves_the_site(tmp_path: Path) -> None:
    """A build starts from the previous site: the workbook under the device's former name, and the
    workbook once it is turned off, are removed, not left beside what the pages list."""
    root = new_project(tmp_path / "device", name="Reading Device")
    assert build(root).exit_code == 0
    assert _offered(root) == ["reading-device-records.xlsx", "traceability-matrix.csv"]
    config = root / "qms.yaml"
    config.write_text(config.read_text(encoding="utf-8").replace("Reading Device", "Glucose Reader"), encoding="utf-8")
    assert build(root).exit_code == 0
    assert _offered(root) == ["glucose-reader-records.xlsx", "traceability-matrix.csv"]
    with (root / "conf.py").open("a", encoding="utf-8") as conf:
        conf.write("qms_workbook_download = False\n")
    assert build(root).exit_code == 0
    assert _offered(root) == ["traceability-matrix.csv"]
    assert "records.xlsx" not in (root / "_build" / "html" / "index.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_workbook_that_could_not_be_written_is_not_offered_from_an_earlier_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = new_project(tmp_path / "device")
    assert build(root).exit_code == 0
    assert "test-device-records.xlsx" in _offered(root)
    _item_edited(root)

    def fails(*arguments: object) -> None:
        raise SystemExit(3)

    monkeypatch.setattr(downloads, "_write_workbook", fails)
    result = build(root)
    assert "the Excel workbook could not be written (exit status 3)" in result.output
    assert _offered(root) == ["traceability-matrix.csv"]
