"""Write scenario transcripts from what qms prints now: ``python tests/update_scenarios.py NAME...``.

For a new scenario (its ``expected.txt`` holding only the commands) or one whose output changed on
purpose. It runs each named scenario as the test does and rewrites its ``expected.txt`` with the
actual output and exit codes; read every line it wrote (code, item, line, column) before committing.
The scenario test itself always compares: updating is this command, never a passing test.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from scenario_support import SCENARIOS, TRANSCRIPT, run_scenario, scenario_names, write_transcript


def update(scenario: Path) -> bool:
    """Rewrite the scenario's transcript from its actual output; whether anything changed."""
    path = scenario / TRANSCRIPT
    before = path.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as folder:
        comments, _, actual = run_scenario(scenario, Path(folder) / "project")
    write_transcript(path, comments, actual)
    return path.read_text(encoding="utf-8") != before


def main(arguments: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help="scenario folders under tests/scenarios")
    parser.add_argument("--all", action="store_true", help="every scenario")
    options = parser.parse_args(arguments)
    known = scenario_names()
    names = known if options.all else options.names
    unknown = [name for name in names if name not in known]
    if not names or unknown:
        parser.error(f"unknown scenario {', '.join(unknown)}" if unknown else "name a scenario, or --all")
    for name in names:
        changed = update(SCENARIOS / name)
        print(f"{'wrote' if changed else 'unchanged'} tests/scenarios/{name}/{TRANSCRIPT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
