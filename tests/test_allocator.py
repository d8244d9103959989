"""The C library's allocator keeps the memory a command frees (glibc), for the command to use again."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

GLIBC = hasattr(os, "confstr") and (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")

#: a process that touches 8 MiB in one block, frees it, and prints its resident pages before and after
FREED = textwrap.dedent(
    """
    import sys
    from qms.allocator import keep_freed_memory
    tuned = keep_freed_memory() if sys.argv[1] == "tuned" else False
    def resident():
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1])
    block = b"x" * (8 << 20)
    held = resident()
    del block
    print(tuned, held - resident())
    """
)


def _freed_pages(mode: str) -> tuple[str, int]:
    done = subprocess.run([sys.executable, "-c", FREED, mode], capture_output=True, text=True, check=True, timeout=60)
    tuned, given_back = done.stdout.split()
    return tuned, int(given_back)


@pytest.mark.skipif(not GLIBC, reason="the allocator is tuned where the C library is glibc")
def test_a_block_freed_is_kept_by_a_tuned_allocator_and_given_back_by_glibcs_default() -> None:
    pages = (8 << 20) // os.sysconf("SC_PAGE_SIZE")
    tuned, kept_back = _freed_pages("tuned")
    assert tuned == "True"
    assert kept_back < pages // 8  # the 8 MiB stay the process's, to be used again without faults
    untuned, given_back = _freed_pages("default")
    assert untuned == "False"
    assert given_back >= pages * 3 // 4  # glibc unmaps a block that large as it is freed


def test_the_command_line_tunes_the_allocator_before_any_command(monkeypatch: pytest.MonkeyPatch) -> None:
    import qms.cli

    called: list[bool] = []
    monkeypatch.setattr(qms.cli, "keep_freed_memory", lambda: called.append(True) or True)
    monkeypatch.setattr(qms.cli, "main", lambda: sys.exit(0))
    monkeypatch.setattr(qms.cli.atexit, "_run_exitfuncs", lambda: None)  # this session's own, not the command's
    monkeypatch.setattr(qms.cli.os, "_exit", lambda code: (_ for _ in ()).throw(SystemExit(code)))
    with pytest.raises(SystemExit) as leaving:
        qms.cli.run()
    assert leaving.value.code == 0
    assert called == [True]
