"""glibc's allocator, asked through ctypes: give free pages back (``malloc_trim``) and
map large blocks on their own (``mallopt``); the standard library only, so that the
command line can call it before numpy is loaded (`cpcstats.console.set_up_process`).

Where the C library has neither (macOS, musl) nothing is done, and the callers say so.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable

__all__ = ["MMAP_THRESHOLD", "fixed_mmap_threshold", "malloc_trim"]


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """The C library, or None where it cannot be loaded."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


@functools.cache
def malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    trim = getattr(_libc(), "malloc_trim", None)
    if trim is not None:
        trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


#: glibc's ``mallopt`` parameter for the mmap threshold (``M_MMAP_THRESHOLD``)
_M_MMAP_THRESHOLD = -3
#: blocks from this size on are mapped on their own and unmapped when freed
MMAP_THRESHOLD = 1 << 20


def fixed_mmap_threshold(size: int = MMAP_THRESHOLD) -> bool:
    """Blocks of ``size`` bytes and more (numpy arrays from 128k float64 on) mapped on
    their own, for the rest of this process; whether the C library could be told.

    Why: glibc starts by mapping blocks of 128 kB and more on their own, but each time
    one is freed it raises that threshold to the freed block's size (up to 32 MiB), so
    after a design's first large array the next ones of a few MiB come from the heap,
    where the blocks left between them keep the pages resident until the task ends and
    `release_free_memory` trims them: a task's peak carries every temporary it freed.  A
    fixed threshold unmaps them when freed.  Set in the workers and by the command line
    (processes cpcstats owns), not in a Python user's: it holds for the rest of the
    process.  Measured on the demo replication (2 processes, 3 cold runs each,
    alternating): in the workers, peak summed PSS 405-411 to 395-405 MiB; in the command
    line's process too, 390-398 (wall time 6.5-7.0 s throughout).
    """
    mallopt = getattr(_libc(), "mallopt", None)
    if mallopt is None:
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, int(size)))
