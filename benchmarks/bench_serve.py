"""Time ``qms serve``'s rebuilds after one item changes.

    python benchmarks/bench_serve.py [--size 10000] [--edits 5] [--workdir DIR] [--in-process]

:mod:`generate` writes the class C project (with results, records and ``qms.lock``, as
``compare.py``'s); the preview ``qms serve`` rebuilds with on every change
(:class:`qms.serve.Preview`) builds it once, then one software requirement in the middle of the
project has its text changed ``--edits`` times, each followed by the rebuild the server makes,
then its title as many times, then one of its links and a hazard's severity as many times each
(``compare.py``'s link and severity edits, made and undone in turn: each is one change). After
each rebuild the preview frees what the build before left, as the server does once it is idle
(:meth:`~qms.serve.Preview.tidy`, timed apart). Each build is forked from the preview's builder,
as ``qms serve`` makes it (:meth:`~qms.serve.Preview.start_builder`); ``--in-process`` makes them in
the preview's own process instead, with a thread running beside them as the server's run (so that a
build forks no process: what ``qms serve`` did before it had a builder). Printed: each
rebuild's wall-clock seconds (until the new page can be served) and the median of each kind, and
the median collection. What a
browser waits for besides is the watcher's debounce (0.4 s after the last change of a burst), the
page's next look for a new build (every 0.5 s) and its reload. Tests
never assert on wall time: this is the place the figures come from.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from bench_build import EDITS, QMS_CONF, changed_requirement, edit_text
from compare import qms_edits
from generate import generate

from qms.cli import YOUNG_COLLECTION
from qms.serve import Preview


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=10000)
    parser.add_argument("--edits", type=int, default=5, help="rebuilds after each kind of change")
    parser.add_argument("--workdir", type=Path, default=None, help="keep the generated project here")
    parser.add_argument("--in-process", action="store_true", help="build in the preview's own process")
    arguments = parser.parse_args(argv)
    gc.set_threshold(YOUNG_COLLECTION, *gc.get_threshold()[1:])  # as the `qms` command runs
    with tempfile.TemporaryDirectory() as temporary:
        root = generate(arguments.size, (arguments.workdir or Path(temporary)) / f"serve-{arguments.size}")
        (root / "conf.py").write_text(QMS_CONF, encoding="utf-8")
        path, item_id = changed_requirement(root)
        preview = Preview(root)
        if arguments.in_process:  # a thread runs, as the server's do: no build forks a process
            threading.Thread(target=threading.Event().wait, daemon=True).start()
        else:
            getattr(preview, "start_builder", lambda: None)()  # an earlier qms built in the preview's process
        started = time.perf_counter()
        state = preview.rebuild()
        print(f"{arguments.size} items: first build {time.perf_counter() - started:.2f} s")
        if state.failure is not None:
            raise SystemExit(state.failure)
        tidy = getattr(preview, "tidy", lambda: None)  # an earlier qms collected within the rebuild
        collections = []
        for kind in ("text", "title", "link", "severity"):
            times = []
            changes = _changes(root, path, item_id, kind, arguments.edits)
            for edited, old, new in changes:
                started = time.perf_counter()
                tidy()
                collections.append(time.perf_counter() - started)
                edit_text(edited, old, new)
                started = time.perf_counter()
                state = preview.rebuild()
                times.append(time.perf_counter() - started)
                if state.failure is not None or state.unchanged:
                    raise SystemExit(state.failure or "the edit changed nothing the site shows")
            shown = ", ".join(f"{seconds:.2f}" for seconds in times)
            print(f"  one {kind} edit: {shown} s (median {statistics.median(times):.2f} s)")
        print(f"  freeing what a build left, while idle: median {statistics.median(collections):.2f} s")
        getattr(preview, "stop_builder", lambda: None)()
    return 0


def _changes(root: Path, path: Path, item_id: str, kind: str, count: int) -> list[tuple[Path, str, str]]:
    """``count`` edits of one kind, each as (file, old text, new text), in the order they are made:
    the text and the title changed again each time, the link and the severity made and undone in
    turn (read from the files as they are now, after the edits before)."""
    if kind in EDITS:
        before, inserted = EDITS[kind]
        texts = [before] + [before + inserted.format(attempt=attempt) for attempt in range(count)]
        return [(path, old, new) for old, new in itertools.pairwise(texts)]
    edit = next(edit for edit in qms_edits(root, path, item_id) if edit.step == f"one {kind} edit")
    made, undone = (edit.path, edit.old, edit.new), (edit.path, edit.new, edit.old)
    return [made if attempt % 2 == 0 else undone for attempt in range(count)]


if __name__ == "__main__":
    raise SystemExit(main())
