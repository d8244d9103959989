"""``qms serve``: a real server on a free port, real HTTP, real edits of item files."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from conftest import invoke_qms
from sphinx_support import REPOSITORY, build, new_project, site_files

from qms.cli import build as build_module
from qms.cli import serve as serve_command
from qms.model import Finding, Location, Severity
from qms.serve import BuildState, Preview, error_page, with_script

#: Seconds a change may take to show in the served pages (one incremental build of a small project).
BOUNDED = 90.0
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # straight to 127.0.0.1


class Served:
    """``qms serve --port 0`` on a project, in its own process; its output read as it comes."""

    def __init__(self, root: Path) -> None:
        environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "qms", "serve", "--port", "0", "--project", str(root)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=environment,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.output: list[str] = []
        assert self.process.stdout is not None
        self.reader = threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True)
        self.reader.start()
        self.url = self._serving_url()

    def _read(self, stream: object) -> None:
        for line in stream:  # type: ignore[attr-defined]
            self.lines.put(line)

    def _serving_url(self) -> str:
        deadline = time.monotonic() + BOUNDED
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=1)
            except queue.Empty:
                assert self.process.poll() is None, (self.output, self.process.stderr and self.process.stderr.read())
                continue
            self.output.append(line)
            if line.startswith("qms: serving "):
                return line.split()[2]
        raise AssertionError(f"no server after {BOUNDED} s: {self.output}")

    def get(self, path: str) -> str:
        with _OPENER.open(self.url + path, timeout=BOUNDED) as response:
            text: str = response.read().decode("utf-8")
            return text

    def state(self) -> dict[str, object]:
        state: dict[str, object] = json.loads(self.get("__qms__/state"))
        return state

    def wait_for(self, path: str, condition: Callable[[str], bool]) -> str:
        """The page at ``path`` once ``condition`` holds for it (asserted within :data:`BOUNDED` seconds)."""
        deadline = time.monotonic() + BOUNDED
        while True:
            page = self.get(path)
            if condition(page):
                return page
            assert time.monotonic() < deadline, f"{path} did not change in {BOUNDED} s: {page[-2000:]}"
            time.sleep(0.3)

    def interrupt(self) -> tuple[int, str, str]:
        """Ctrl-C: the exit status, standard output and error."""
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=BOUNDED)
        self.reader.join()
        assert self.process.stderr is not None
        error = self.process.stderr.read()
        while not self.lines.empty():
            self.output.append(self.lines.get())
        return self.process.returncode, "".join(self.output), error


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Callable[[Path], Served]]:
    started: list[Served] = []

    def start(root: Path) -> Served:
        started.append(Served(root))
        return started[-1]

    yield start
    for server in started:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.mark.slow
def test_an_edited_item_shows_in_the_served_page_and_ctrl_c_stops(
    tmp_path: Path, served: Callable[[Path], Served]
) -> None:
    root = new_project(tmp_path / "device")
    server = served(root)
    assert server.url.startswith("http://127.0.0.1:")  # this machine only
    page = server.get("software-requirements.html")
    assert "rounded down to whole minutes" in page
    assert '<script src="/__qms__/live.js" defer></script></body>' in page
    assert "fetch(STATE" in server.get("__qms__/live.js")
    first = server.state()["build"]

    _edit(root / "traceability" / "requirements.yaml", "whole minutes", "full minutes")
    server.wait_for("software-requirements.html", lambda text: "rounded down to full minutes" in text)
    assert server.state()["build"] != first  # the open pages see a new build and reload

    status, output, error = server.interrupt()
    assert status == 0, error
    assert "Traceback" not in error and "qms: stopped" in output
    served_site = root / "_build" / "serve" / "html"
    assert not [path for path in served_site.glob("*.html") if "__qms__" in path.read_text(encoding="utf-8")]
    assert build(root).exit_code == 0
    assert not [
        path for path in (root / "_build" / "html").rglob("*") if path.is_file() and b"__qms__" in path.read_bytes()
    ]


@pytest.mark.slow
def test_a_restart_with_nothing_changed_serves_the_site_without_building_it(
    tmp_path: Path, served: Callable[[Path], Served]
) -> None:
    root = new_project(tmp_path / "device")
    first = served(root)
    errors = first.state()["errors"]
    assert first.interrupt()[0] == 0
    page = root / "_build" / "serve" / "html" / "software-requirements.html"
    written = page.stat().st_mtime_ns

    second = served(root)
    assert any(line.startswith("qms: up to date: nothing the site shows changed") for line in second.output)
    assert f"qms check: {errors} error(s)" in "".join(second.output)  # the findings are still shown
    assert "rounded down to whole minutes" in second.get("software-requirements.html")
    assert page.stat().st_mtime_ns == written  # Sphinx did not run
    assert second.state()["errors"] == errors

    _edit(root / "traceability" / "requirements.yaml", "whole minutes", "full minutes")
    second.wait_for("software-requirements.html", lambda text: "rounded down to full minutes" in text)
    assert second.interrupt()[0] == 0

    (root / "conf.py").touch()  # its settings are read, not its time
    third = served(root)
    assert any(line.startswith("qms: up to date") for line in third.output)
    assert "rounded down to full minutes" in third.get("software-requirements.html")
    assert third.interrupt()[0] == 0


@pytest.mark.slow
def test_broken_yaml_shows_an_error_page_until_fixed(tmp_path: Path, served: Callable[[Path], Served]) -> None:
    root = new_project(tmp_path / "device")
    server = served(root)
    requirements = root / "traceability" / "requirements.yaml"
    good = requirements.read_text(encoding="utf-8")
    line = good.count("\n") + 1
    requirements.write_text(good + "  - id: [SWR-9\n", encoding="utf-8")  # an unclosed flow sequence, as typed

    error = server.wait_for("software-requirements.html", lambda text: "cannot be shown" in text)
    assert f"traceability/requirements.yaml:{line}:9: YAML syntax error" in error  # at the open [
    assert server.state()["blocking"]
    assert "live.js" in error  # the error page reloads itself once the file is fixed
    assert server.process.poll() is None  # the server lives on

    requirements.write_text(good, encoding="utf-8")
    server.wait_for("software-requirements.html", lambda text: "rounded down to whole minutes" in text)
    assert server.state()["blocking"] == []
    assert server.interrupt()[0] == 0


def test_a_port_in_use_is_refused_with_a_message(tmp_path: Path) -> None:
    root = new_project(tmp_path / "device")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = invoke_qms("serve", "--project", root, "--port", str(port))
    assert result.exit_code == 2
    assert f"cannot serve on 127.0.0.1:{port}: it is in use; pass another --port" in result.stderr


def test_the_script_goes_before_the_end_of_the_body_and_errors_are_escaped() -> None:
    assert with_script(b"<html><body>x</body></html>") == (
        b'<html><body>x<script src="/__qms__/live.js" defer></script></body></html>'
    )
    assert with_script(b"plain").endswith(b'live.js" defer></script>')
    page = error_page(["a.yaml:3:1: YAML syntax error: <b>&"]).decode()
    assert "a.yaml:3:1: YAML syntax error: &lt;b&gt;&amp;" in page and "<b>&" not in page


def test_a_build_failure_and_an_unreadable_file_block_the_site_other_findings_do_not() -> None:
    unreadable = Finding("Q001", Severity.ERROR, "YAML syntax error: x", Location("a.yaml", 3, 1))
    gap = Finding("T101", Severity.ERROR, "not verified", Location("b.yaml", 5, 3), "SWR-1")
    assert BuildState(findings=(gap,)).blocking() == []
    assert BuildState(findings=(gap, unreadable)).blocking() == ["a.yaml:3:1: YAML syntax error: x"]
    assert BuildState(failure="the build failed: bad template").blocking() == ["the build failed: bad template"]


_CHROMIUM = Path("/usr/bin/chromium")


def _many_requirements(added: int = 0, link: str = "SYS-001") -> str:
    """Forty software requirements with long texts (a page to scroll); ``added`` lines more in the first."""
    entries = "".join(
        f"  - id: SWR-{number}\n    title: Requirement {number}\n    text: |\n"
        + "".join(f"      The software shall do part {line} of duty {number}.\n" for line in range(8))
        + "".join(f"      Added line {line}.\n\n" for line in range(added if number == 100 else 0))
        + f"    derives_from: [{link if number == 130 else 'SYS-001'}]\n"
        for number in range(100, 140)
    )
    return f"kind: software_requirement\nitems:\n{entries}"


@pytest.mark.slow
@pytest.mark.skipif(not _CHROMIUM.exists() and not os.environ.get("CI"), reason="needs Debian's chromium")
def test_a_browser_reloads_at_the_item_it_showed_and_lists_findings_as_they_come_and_go(
    tmp_path: Path, served: Callable[[Path], Served]
) -> None:
    playwright_api = pytest.importorskip("playwright.sync_api")
    root = new_project(tmp_path / "device", files={"traceability/more.yaml": _many_requirements()})
    server = served(root)
    errors = server.state()["errors"]
    assert isinstance(errors, int)
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(_CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 700})
        page.goto(server.url + "software-requirements.html")
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")  # as a reader does
        page.evaluate("document.getElementById('SWR-120').scrollIntoView({behavior: 'instant'})")
        page.wait_for_timeout(300)
        before = page.evaluate("document.getElementById('SWR-120').getBoundingClientRect().top")
        page.evaluate("window.notReloaded = true")

        # an edit above the item read: the item moves down the page, and the reloaded page follows it
        (root / "traceability" / "more.yaml").write_text(_many_requirements(added=20), encoding="utf-8")
        page.wait_for_function("() => !window.notReloaded", timeout=BOUNDED * 1000)
        page.wait_for_load_state()
        assert "Added line 19." in page.locator("#SWR-100").inner_text()
        after = page.evaluate("document.getElementById('SWR-120').getBoundingClientRect().top")
        assert abs(after - before) <= 2, (before, after)
        assert page.evaluate("window.scrollY") > 1000

        panel = page.locator("#qms-serve-findings summary")
        (root / "traceability" / "more.yaml").write_text(_many_requirements(link="SYS-999"), encoding="utf-8")
        page.wait_for_function(
            f"() => (document.querySelector('#qms-serve-findings summary') || {{textContent: ''}})"
            f".textContent.startsWith('qms check: {errors + 1} error(s)')",
            timeout=BOUNDED * 1000,
        )
        panel.click()
        assert "SYS-999" in page.locator("#qms-serve-findings pre").inner_text()

        (root / "traceability" / "more.yaml").write_text(_many_requirements(), encoding="utf-8")
        page.wait_for_function(
            f"() => (document.querySelector('#qms-serve-findings summary') || {{textContent: 'qms check: 0 error(s)'}})"
            f".textContent.startsWith('qms check: {errors} error(s)')",
            timeout=BOUNDED * 1000,
        )
        browser.close()
    assert server.interrupt()[0] == 0


def test_a_rebuild_leaves_nothing_of_the_build_before_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A build's application and environment are cyclic garbage once it ends (Sphinx's logger no longer
    # holds them); a preview that left them to the collector grew by some 80 MB a rebuild at 10,000
    # items, and one that kept the latest carried it, frozen, through the next build.
    root = new_project(tmp_path / "device")
    apps: list[weakref.ref[Any]] = []
    real = build_module.sphinx_build

    def kept(*arguments: Any, **options: Any) -> Any:
        app = real(*arguments, **options)
        apps.append(weakref.ref(app))
        return app

    monkeypatch.setattr(build_module, "sphinx_build", kept)
    preview = Preview(root)
    requirements = root / "traceability" / "requirements.yaml"
    assert preview.rebuild().failure is None
    _edit(requirements, "whole minutes", "full minutes")
    assert preview.rebuild().failure is None
    assert preview.untidy  # freed once the preview is idle, after the new page was shown
    preview.tidy()
    assert len(apps) == 2
    assert apps[0]() is None and apps[1]() is None  # a tidy preview holds no build, the latest neither
    for old, new in (("full minutes", "whole minutes"), ("whole minutes", "full minutes")):
        _edit(requirements, old, new)
        assert preview.rebuild().failure is None  # one edit right after the other: no idle moment
    assert len(apps) == 4
    assert apps[2]() is None  # freed as the fourth build started, before it froze what it found
    preview.tidy()
    assert apps[3]() is None


@pytest.mark.slow
def test_a_preview_killed_half_way_builds_every_page_when_it_starts_again(tmp_path: Path) -> None:
    # a build killed after Sphinx saved what it read, before it wrote every page: the pages it had not
    # written would stay as they were, their data having been read
    root = new_project(tmp_path / "device")
    preview = Preview(root)
    assert preview.rebuild().failure is None
    note = preview.folder / "doctrees" / build_module.UNFINISHED
    assert not note.exists()  # removed once the build is done
    page = preview.site / "software-maintenance-plan.html"
    page.write_bytes(page.read_bytes() + b"<!-- not written by the killed build -->")
    note.touch()  # what the killed build left
    _edit(root / "traceability" / "requirements.yaml", "whole minutes", "full minutes")
    assert preview.rebuild().failure is None
    assert b"not written by the killed build" not in page.read_bytes()
    assert not note.exists()


@pytest.mark.slow
def test_the_preview_drops_the_page_of_a_deleted_page_of_the_project(tmp_path: Path) -> None:
    root = new_project(tmp_path / "device", files={"notes.rst": "Notes\n=====\n\nSome notes.\n"})
    preview = Preview(root)
    assert preview.rebuild().failure is None
    assert (preview.site / "notes.html").is_file()
    (root / "notes.rst").unlink()
    assert preview.rebuild().failure is None
    assert not (preview.site / "notes.html").exists() and (preview.site / "index.html").is_file()


@pytest.mark.slow
def test_a_static_file_taken_out_of_the_project_leaves_the_preview(tmp_path: Path) -> None:
    root = new_project(tmp_path / "device", files={"static/custom.css": "body {}\n"})
    with (root / "conf.py").open("a", encoding="utf-8") as conf:
        conf.write('\nhtml_static_path = ["static"]\n')
    preview = Preview(root)
    assert preview.rebuild().failure is None
    static = preview.site / "_static"
    assert (static / "custom.css").is_file()
    (root / "static" / "custom.css").unlink()
    assert preview.rebuild().failure is None
    assert not (static / "custom.css").exists()
    assert (static / "qms.css").is_file() and (static / "pygments.css").is_file()  # Sphinx copied the rest again


def test_the_preview_frees_the_last_builds_garbage_once_idle_after_a_build() -> None:
    calls: list[str] = []
    stopping = threading.Event()
    batches = [{"traceability/requirements.yaml"}, set(), set()]

    class Recorded:
        def rebuild(self) -> BuildState:
            calls.append("rebuild")
            return BuildState(1)

        def tidy(self) -> None:
            calls.append("tidy")

    def changes(timeout: float) -> set[str]:
        if not batches:
            stopping.set()
            return set()
        return batches.pop(0)

    serve_command.rebuild_on_changes(cast(Preview, Recorded()), changes, stopping)
    assert calls == ["rebuild"]  # idle, but not for long enough: the page may not be shown yet
    calls.clear()
    batches[:] = [{"traceability/requirements.yaml"}, set()]
    stopping.clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(serve_command, "TIDY_AFTER", 0.0)
        serve_command.rebuild_on_changes(cast(Preview, Recorded()), changes, stopping)
    assert calls == ["rebuild", "tidy", "tidy"]  # on every idle look; a tidy preview does nothing


def test_a_stop_whose_interrupt_was_lost_ends_the_preview_after_the_build() -> None:
    # Ctrl-C raises KeyboardInterrupt where the main thread is; inside a finalizer (the collector
    # freeing a build's objects) Python prints and drops it. The event the handler sets ends the
    # preview all the same, once the build under way is done.
    stopping = threading.Event()
    builds: list[int] = []

    class Interrupted:
        def rebuild(self) -> BuildState:
            builds.append(1)
            stopping.set()  # the handler ran; its KeyboardInterrupt was dropped
            return BuildState(len(builds))

    def changes(timeout: float) -> set[str]:
        assert len(builds) < 3, "the preview went on after it was told to stop"
        return {"traceability/requirements.yaml"}

    serve_command.rebuild_on_changes(cast(Preview, Interrupted()), changes, stopping)
    assert builds == [1]


def test_ctrl_c_sets_the_event_that_stops_the_preview() -> None:
    previous = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    try:
        stopping = serve_command._stop_on_signals()
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)  # the handler runs at the next instruction; the sleep is interrupted
        assert stopping.is_set()
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])


_FORKED_BUILDS = """
import json, os, signal, sys
from pathlib import Path
from qms.serve import Preview

forked, here = Preview(Path(sys.argv[1])), Preview(Path(sys.argv[2]))
forked.start_builder()
builder = forked.builder.pid
seen = []
for preview in (forked, here):
    first = preview.rebuild()
    path = preview.root / "traceability" / "requirements.yaml"
    path.write_text(path.read_text("utf-8").replace("whole minutes", "full minutes"), encoding="utf-8")
    second = preview.rebuild()
    seen.append([[state.failure, [repr(f) for f in state.findings], state.unchanged] for state in (first, second)])
    if preview is forked:
        imported = "sphinx.application" in sys.modules  # every build ran in a process of its own
forked.stop_builder()
try:
    os.kill(builder, 0)
    alive = True
except ProcessLookupError:
    alive = False
print(json.dumps({"forked": seen[0], "here": seen[1], "imported": imported, "alive": alive}))
"""


@pytest.mark.slow
def test_builds_forked_from_the_builder_give_what_builds_in_the_preview_give(tmp_path: Path) -> None:
    forked, here = new_project(tmp_path / "forked" / "device"), new_project(tmp_path / "here" / "device")
    seen = json.loads(_python(_FORKED_BUILDS, forked, here).splitlines()[-1])
    assert seen["forked"] == seen["here"]
    assert seen["forked"][1][0] is None and seen["forked"][1][1], "built, with the project's findings"
    assert not seen["imported"], "the preview's own process never imported Sphinx"
    assert not seen["alive"], "the builder is stopped with the preview"
    served = lambda root: {  # noqa: E731
        name: data for name, data in site_files(root / "_build" / "serve" / "html").items() if name != ".buildinfo"
    }
    assert served(forked) == served(here)


@pytest.mark.slow
def test_a_preview_whose_builder_died_builds_in_its_own_process(tmp_path: Path) -> None:
    root = new_project(tmp_path / "device")
    program = (
        "import os, signal, sys\nfrom pathlib import Path\nfrom qms.serve import Preview\n"
        "preview = Preview(Path(sys.argv[1])); preview.start_builder()\n"
        "os.kill(preview.builder.pid, signal.SIGKILL); os.waitpid(preview.builder.pid, 0)\n"
        "state = preview.rebuild()\n"
        "print(state.failure, preview.builder, 'sphinx.application' in sys.modules)"
    )
    assert _python(program, root).split() == ["None", "None", "True"]


def test_a_preview_with_threads_running_keeps_its_builds_in_its_own_process(
    tmp_path: Path, another_thread: threading.Thread
) -> None:
    # a forked copy of a process with threads may hold a lock no thread of it will release
    preview = Preview(tmp_path)
    preview.start_builder()
    assert preview.builder is None


@pytest.mark.slow
def test_a_verbose_preview_shows_the_progress_of_builds_forked_from_its_builder(tmp_path: Path) -> None:
    root = new_project(tmp_path / "device")
    program = (
        "import sys\nfrom pathlib import Path\nfrom qms.serve import Preview\n"
        "preview = Preview(Path(sys.argv[1]), verbose=True); preview.start_builder()\n"
        "assert preview.builder is not None and preview.rebuild().failure is None\n"
        "preview.stop_builder()"
    )
    assert "build succeeded" in _python(program, root)  # written by the process of the build, to the preview's output


def _python(program: str, *arguments: Path) -> str:
    """What ``program`` printed, run by a new interpreter of this checkout (with no thread of a test
    runner: a preview starts its builder only in a process without other threads)."""
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    command = [sys.executable, "-c", program, *map(str, arguments)]
    ran = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=600)
    assert ran.returncode == 0, ran.stderr
    return ran.stdout
