"""Fuzzing the parse cache: whatever its files hold, ``qms check`` reports what it reports without
one, never a traceback, and writes nothing outside the project."""

from __future__ import annotations

import hashlib
import marshal
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest
from conftest import invoke_qms
from hypothesis import given
from hypothesis import strategies as st

from qms import parsecache
from qms.config import DEFAULT_CACHE

FILES = {
    "qms.yaml": "device: {name: D, software_safety_class: C}\nsources: [items]\nrecords: [records]\n",
    "items/a.yaml": "id: SWR-1\nkind: software_requirement\ntitle: R\ntext: The software shall work.\n",
    "items/t.yaml": "id: TST-1\nkind: test\ntitle: T\nmethod: inspection\nverifies: [SWR-1]\n",
    "records/r.yaml": "records:\n  - {id: R-1, test: TST-1, outcome: passed, executed_by: D,"
    " executed_at: '2026-11-20T09:30:00Z', version: 1.0.0}\n",
}
_PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8) | st.binary(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


def _sealed(payload: Any) -> bytes:
    """Plain data under a valid digest: a cache file qms would read, holding anything."""
    data = marshal.dumps(payload)
    return parsecache.MAGIC + hashlib.blake2b(data, digest_size=32).digest() + data


_CACHE_FILES = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda tail: parsecache.MAGIC + tail, st.binary(max_size=300)),
    st.builds(_sealed, _PLAIN),
)


def _project() -> Path:
    root = Path(tempfile.mkdtemp())
    for relative, text in FILES.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text, encoding="utf-8")
    return root


def _same_with_the_cache(root: Path, expected: str) -> None:
    assert invoke_qms("check", "--all", cwd=root).output == expected  # an exception fails the test
    assert invoke_qms("check", "--all", cwd=root).output == expected
    assert sorted(path.name for path in root.iterdir()) == ["_build", "items", "qms.yaml", "records"]


@pytest.mark.fuzz
@given(st.sampled_from(["items.bin", "records.bin"]), _CACHE_FILES)
def test_any_cache_file_gives_the_findings_of_a_check_without_it(name: str, content: bytes) -> None:
    root = _project()
    try:
        expected = invoke_qms("check", "--all", "--no-cache", cwd=root).output
        (root / DEFAULT_CACHE).mkdir(parents=True)
        (root / DEFAULT_CACHE / name).write_bytes(content)
        _same_with_the_cache(root, expected)
    finally:
        shutil.rmtree(root)
