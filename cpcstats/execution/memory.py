"""Give the memory a finished task freed back to the system (glibc), so that the next
task, and the peak of all a run's processes together, do not carry it.

Why: glibc's malloc keeps freed blocks in its heap for reuse and returns a page to the
system only when the top of the heap is free; numpy arrays of a few MB come from that
heap once the allocator has raised its mmap threshold, so after one large design a
worker kept 60-70 MB it no longer used.  ``malloc_trim(0)`` hands back every whole free
page.  Measured on the demo replication (2 processes, 3 cold runs each, alternating):
peak summed PSS 615 to 533-547 MiB, wall time unchanged (7.5-8.2 s against 7.9-8.2 s).
Elsewhere (macOS, musl) there is no such call and nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable

__all__ = ["release_free_memory"]


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where the C library has none."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    trim = getattr(libc, "malloc_trim", None)
    if trim is not None:
        trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    return trim


def release_free_memory() -> bool:
    """Return the C heap's free pages to the system; whether it could be asked."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
