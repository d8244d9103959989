"""Coverage-guided fuzzing of the YAML loader with atheris (libFuzzer), on demand; pytest does not collect it.

    pip install atheris
    python tests/fuzz_atheris/fuzz_loader.py -max_total_time=600 -rss_limit_mb=2048 [CORPUS_DIR]

Each input is loaded as an item file and, where it is small, as ``qms.yaml`` beside an item
file, through the real loader. Anything but findings (an exception escaping the loader) is a
crash that libFuzzer reports with the input that caused it; ``-timeout`` and ``-rss_limit_mb``
catch hangs and memory blow-ups.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports():
    from qms.loading import read_items
    from qms.project import load_project
    from qms.risk import DEFAULT_POLICY
    from qms.yamlfile import parse_bytes

NEED = b"kind: need\nitems:\n  - id: NEED-1\n    title: t\n    text: t\n"
WORKSPACE = Path(tempfile.mkdtemp(prefix="qms-atheris-"))
(WORKSPACE / "items").mkdir()
(WORKSPACE / "items" / "needs.yaml").write_bytes(NEED)


def test_one_input(data: bytes) -> None:
    document = parse_bytes(data, "items/fuzz.yaml")
    read_items(document, DEFAULT_POLICY)
    if len(data) <= 4096:
        (WORKSPACE / "qms.yaml").write_bytes(data)
        load_project(WORKSPACE)


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
