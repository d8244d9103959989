"""The C library's allocator keeps the memory a command frees, for the command to use again.

A page of memory the process touches for the first time costs a fault into the kernel, which
clears it (some 2 µs). glibc's ``malloc`` gives each block of 128 KiB and more (a page's HTML, a
file read whole, a long list) its own mapping and returns it to the system when freed, and returns
the top of its heap once 128 KiB of it are free, raising both limits as it goes: a one-edit rebuild
at 10,000 items took some 18,000 such faults more than it needed (0.05 s of its 2 s) by touching
fresh pages for blocks like those it had just freed. Here blocks up to 32 MiB (glibc's own upper
limit of the first) come from the heap, and the heap keeps up to 512 MiB it no longer uses: the
process never holds more than its peak, and a command ends soon after. Where the C library is not
glibc, nothing is changed.
"""

from __future__ import annotations

import os

#: ``mallopt`` parameters (glibc's ``malloc.h``)
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3

#: blocks up to this size come from the heap, not from mappings of their own
HEAP_BLOCKS_UP_TO = 32 * 1024 * 1024
#: free memory the heap keeps at its top before it gives some back to the system
KEPT_FREE = 512 * 1024 * 1024


def keep_freed_memory() -> bool:
    """Set glibc's allocator as the module says; whether it was (not glibc, or it refused: False)."""
    try:
        if not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"):
            return False
    except (ValueError, OSError, AttributeError):  # no such name here (not glibc, not POSIX)
        return False
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    # both at once: setting either one stops glibc from raising the other as blocks are freed
    return bool(mallopt(M_MMAP_THRESHOLD, HEAP_BLOCKS_UP_TO)) and bool(mallopt(M_TRIM_THRESHOLD, KEPT_FREE))
