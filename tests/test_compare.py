"""``benchmarks/compare.py`` writes the same items for every tool (ids, titles, texts and parent links), and
times qms with its bytecode compiled, as the other tools are."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from qms.project import load_project

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from bench_build import changed_requirement, edit_text  # noqa: E402  # a script folder, not a package
from compare import (  # noqa: E402
    STEPS,
    Edit,
    Run,
    Tool,
    bench,
    compiled_environment,
    each_run,
    entries,
    median,
    prepare,
    qms_edits,
    warm_up,
    write_doorstop,
    write_strictdoc,
)
from generate import _SEVERITY_NAMES, generate  # noqa: E402


def test_strictdoc_and_doorstop_get_every_item_with_its_title_text_and_parents(tmp_path: Path) -> None:
    items = entries(generate(120, tmp_path / "qms"))
    assert len(items) == 120 and any(entry.parents for entry in items)
    expected = {entry.id: entry for entry in items}

    write_doorstop(items, tmp_path / "doorstop")
    documents = {
        yaml.safe_load(path.read_text("utf-8"))["settings"]["prefix"]
        for path in (tmp_path / "doorstop").glob("*/.doorstop.yml")
    }
    assert len(documents) == len({entry.kind for entry in items})
    for path in (tmp_path / "doorstop").glob("*/[!.]*.yml"):
        written = yaml.safe_load(path.read_text("utf-8"))
        entry = expected[path.stem]
        assert (written["header"], written["text"].strip()) == (entry.title, entry.text)
        assert [next(iter(link)) for link in written["links"]] == list(entry.parents)
    assert len(list((tmp_path / "doorstop").glob("*/[!.]*.yml"))) == 120

    write_strictdoc(items, tmp_path / "strictdoc")
    text = "".join(path.read_text("utf-8") for path in sorted((tmp_path / "strictdoc").glob("*.sdoc")))
    blocks = text.split("[REQUIREMENT]\n")[1:]
    assert len(blocks) == 120
    for block in blocks:
        entry = expected[re.search(r"^UID: (.+)$", block, re.M).group(1)]  # type: ignore[union-attr]
        assert f"TITLE: {entry.title}\nSTATEMENT: >>>\n{entry.text}\n<<<" in block
        assert re.findall(r"VALUE: (.+)", block) == list(entry.parents)


@pytest.mark.slow
def test_qms_is_timed_with_its_bytecode_compiled_beforehand(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # as after pip install: a source checkout under PYTHONDONTWRITEBYTECODE compiles every module per command
    monkeypatch.setenv("PYTHONDONTWRITEBYTECODE", "1")
    environment = compiled_environment(tmp_path / "bytecode")
    assert "PYTHONDONTWRITEBYTECODE" not in environment
    warm_up(tmp_path, environment)
    compiled = {path.relative_to(tmp_path / "bytecode").as_posix() for path in (tmp_path / "bytecode").rglob("*.pyc")}
    for module in ("qms/cli/check", "qms/cli/build", "qms/sphinx/directives", "sphinx/application"):
        assert any(f"{module}.cpython-" in path for path in compiled), module
    assert (tmp_path / "warm-up" / "_build" / "html" / "index.html").exists()  # the build ran


@pytest.mark.slow
def test_the_commits_benchmark_times_each_step_of_a_day_in_git(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bench_commits import STEPS, main

    assert main(["--sizes", "60", "--workdir", str(tmp_path)]) == 0
    row = capsys.readouterr().out.strip().splitlines()[-1]
    assert row.startswith("| 60 |") and row.count(" s (") == len(STEPS)
    root = tmp_path / "qms-60"
    log = subprocess.run(["git", "log", "--format=%s"], cwd=root, capture_output=True, text=True, check=True)
    assert log.stdout.splitlines() == ["Nothing", "Reword one requirement", "Generated project"]
    status = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=True)
    assert status.stdout.strip().endswith(".yaml")  # the two later edits, not committed
    assert (root / "_build" / "html" / "index.html").is_file()


def test_qms_edits_change_one_title_one_link_and_one_severity_and_undo_to_the_same_bytes(tmp_path: Path) -> None:
    root = generate(200, tmp_path / "qms")
    edited, item_id = changed_requirement(root)
    before = load_project(root)
    edits = qms_edits(root, edited, item_id)
    assert [edit.step for edit in edits] == ["one title edit", "one link edit", "one severity edit"]
    for edit in edits:
        original = edit.path.read_bytes()
        assert original.decode("utf-8").count(edit.old) == 1
        edit_text(edit.path, edit.old, edit.new)
        after = load_project(root)
        assert not after.load_findings
        changed = {item.id for item in after.items.values() if item.fields != before.items[item.id].fields}
        assert len(changed) == 1, edit.step
        item, earlier = after.items[changed.pop()], before.items
        if edit.step == "one title edit":
            assert item.id == item_id and item.title == f"(edited) {earlier[item_id].title}"
        elif edit.step == "one link edit":
            assert item.id == item_id and len(item.links("derives_from")) != len(earlier[item_id].links("derives_from"))
        else:
            assert (
                item.kind == "hazard"
                and int(str(item.fields["severity"])) == int(str(earlier[item.id].fields["severity"])) + 1
            )
        edit_text(edit.path, edit.new, edit.old)
        assert edit.path.read_bytes() == original


def test_the_severity_edit_takes_a_hazard_whose_severity_is_written_as_a_level(tmp_path: Path) -> None:
    # the generator writes every other severity by name ("Minor"), which "severity: 2" -> "severity: 3"
    # would leave as it is: a timing of that edit would time no edit at all
    root = generate(200, tmp_path / "qms")
    edited, item_id = changed_requirement(root)
    first = next(edit for edit in qms_edits(root, edited, item_id) if edit.step == "one severity edit")
    level = re.search(r"severity: (\d)\n", first.old)
    assert level is not None
    named = first.old.replace(level.group(0), f"severity: {_SEVERITY_NAMES[int(level.group(1)) - 1]}\n")
    edit_text(first.path, first.old, named)
    second = next(edit for edit in qms_edits(root, edited, item_id) if edit.step == "one severity edit")
    assert second.old != named and second.old != second.new
    with pytest.raises(SystemExit, match="changes nothing"):
        edit_text(second.path, second.old, second.old)


#: A "build" that notes the state of the two files the edits change, one line per run.
_NOTE_STATE = (
    "import pathlib; pathlib.Path('runs').open('a').write(open('a.txt').read() + open('b.txt').read() + '\\n')"
)


@pytest.mark.parametrize("repeat", [1, 2, 3])
def test_each_rebuild_is_timed_repeat_times_each_run_after_a_real_edit_and_the_project_ends_as_it_began(
    tmp_path: Path, repeat: int
) -> None:
    (tmp_path / "a.txt").write_text("The software shall ", encoding="utf-8")
    (tmp_path / "b.txt").write_text("title: T", encoding="utf-8")
    title = Edit("one title edit", tmp_path / "b.txt", "title: T", "title: (edited) T")
    build = [sys.executable, "-c", _NOTE_STATE]
    tool = Tool("qms", tmp_path, None, build, tmp_path / "out", tmp_path / "a.txt", "The software shall ", (title,))
    results = bench(tool, cap=60, repeat=repeat)
    assert [step for step, run in results.items() if run is not None] == [
        "clean build",
        "no change",
        "one file touched",
        "one text edit",
        "one title edit",
    ]
    assert set(results) == set(STEPS)
    states = (tmp_path / "runs").read_text(encoding="utf-8").splitlines()
    base, text, titled = (
        "The software shall title: T",
        "The software (edited) shall title: T",
        "The software shall title: (edited) T",
    )
    made = [text if attempt % 2 == 0 else base for attempt in range(repeat)]
    made_title = [titled if attempt % 2 == 0 else base for attempt in range(repeat)]
    undone = [base] if repeat % 2 else []  # the project built as it was before the next edit
    assert states == [base] * (1 + 2 * repeat) + made + undone + made_title + undone
    assert (tmp_path / "a.txt").read_text(encoding="utf-8") + (tmp_path / "b.txt").read_text(encoding="utf-8") == base


#: A "check" that notes whether it found what the last run kept, then keeps something as qms's parse cache does.
_NOTE_CACHE = (
    "import pathlib; kept = pathlib.Path('_build/cache'); "
    "pathlib.Path('checks').open('a').write('warm\\n' if kept.exists() else 'cold\\n'); "
    "kept.parent.mkdir(exist_ok=True); kept.write_text('kept')"
)


@pytest.mark.parametrize("repeat", [1, 3])
def test_the_check_is_timed_repeat_times_each_run_cold_and_the_clean_build_once_after(
    tmp_path: Path, repeat: int
) -> None:
    (tmp_path / "a.txt").write_text("The software shall ", encoding="utf-8")
    check = [sys.executable, "-c", _NOTE_CACHE]
    build = [sys.executable, "-c", "import pathlib; pathlib.Path('checks').open('a').write('build\\n')"]
    tool = Tool("qms", tmp_path, check, build, tmp_path / "out", tmp_path / "a.txt", "The software shall ")
    results = bench(tool, cap=60, repeat=repeat)
    checked = results["check"]
    assert checked is not None and len(checked.runs) == repeat
    runs = (tmp_path / "checks").read_text(encoding="utf-8").splitlines()
    # every check found nothing kept; the clean build, once, came after the last; then the rebuilds
    assert runs[: repeat + 1] == ["cold"] * repeat + ["build"]
    assert runs.count("build") == 1 + 3 * repeat + (1 if repeat % 2 else 0)


def test_a_check_stopped_at_the_cap_is_not_run_again(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("The software shall ", encoding="utf-8")
    slow = [sys.executable, "-c", "import pathlib, time; pathlib.Path('checks').open('a').write('x'); time.sleep(30)"]
    build = [sys.executable, "-c", "import sys; sys.exit(3)"]  # never reached as a rebuild: the build is capped too
    tool = Tool("slow", tmp_path, slow, build, tmp_path / "out", tmp_path / "a.txt", "The software shall ")
    with pytest.raises(SystemExit, match="failed"):  # the check capped once, then the (failing) clean build
        bench(tool, cap=1, repeat=5)
    assert (tmp_path / "checks").read_text(encoding="utf-8") == "x"


def test_a_step_shows_the_median_of_its_runs_and_any_run_stopped_at_the_cap() -> None:
    runs = [Run(3.0, 2.0, 100), Run(1.0, 4.0, 300), Run(2.0, 3.0, 200)]
    assert median(runs) == Run(2.0, 3.0, 300, runs=(3.0, 1.0, 2.0))  # each run's wall, in the order they ran
    assert median([*runs, Run(60.0, 50.0, 10, capped=True)]).capped


def test_each_run_shows_every_wall_of_a_step_timed_more_than_once_a_column_a_tool() -> None:
    title = median([Run(2.04, 3.0, 100), Run(1.96, 3.0, 100), Run(1.5, 2.0, 100)])
    figures: dict[str, dict[str, Run | None]] = {
        "qms": dict.fromkeys(STEPS) | {"clean build": Run(9.0, 12.0, 300), "one title edit": title},
        "other": dict.fromkeys(STEPS) | {"clean build": Run(50.0, 50.0, 500)},
    }
    assert each_run(figures) == [
        "| step | qms | other |",
        "|---|---|---|",
        "| one title edit | 2.04 1.96 1.50 | — |",  # the clean build ran once: no row of it
    ]


@pytest.mark.slow
def test_a_second_run_into_the_same_folder_starts_from_fresh_projects(tmp_path: Path) -> None:
    first = prepare(30, tmp_path / "30", tmp_path / "venv")
    (first[0].folder / "_build" / "html").mkdir(parents=True)  # as the first run's clean build left it
    second = prepare(30, tmp_path / "30", tmp_path / "venv")
    assert [tool.name for tool in second] == [tool.name for tool in first]
    assert not (second[0].folder / "_build").exists()
    assert (tmp_path / "30" / "strictdoc").is_dir() and (tmp_path / "30" / "doorstop" / ".git").is_dir()
