"""Give the memory a finished task freed back to the system (glibc), so that the next
task, and the peak of all a run's processes together, do not carry it.

Why: glibc's malloc keeps freed blocks in its heap for reuse and returns a page to the
system only when the top of the heap is free; numpy arrays of a few MB come from that
heap once the allocator has raised its mmap threshold, so after one large design a
worker kept 60-70 MB it no longer used.  ``malloc_trim(0)`` hands back every whole free
page.  Measured on the demo replication (2 processes, 3 cold runs each, alternating):
peak summed PSS 615 to 533-547 MiB, wall time unchanged (7.5-8.2 s against 7.9-8.2 s).
Elsewhere (macOS, musl) there is no such call and nothing is done.

Arrow's buffers (pandas' text columns are Arrow strings when pyarrow is installed) come
from Arrow's own allocator, mimalloc, which keeps the pages it freed for reuse and is
deaf to ``malloc_trim`` (its ``release_unused`` did not help either).  While a
replication runs they come from the C library's allocator instead (`system_arrow_pool`),
whose free pages the trim returns: the demo replication's peak summed PSS on 2 processes
went from 444-459 to 410-411 MiB (3 cold runs each, alternating), wall time 6.8-7.6 s to
6.5-6.6 s.  A user who chose Arrow's allocator (``ARROW_DEFAULT_MEMORY_POOL``) is left
alone.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from typing import Any

from cpcstats.c_allocator import malloc_trim

__all__ = [
    "ARROW_POOL_VARIABLE",
    "release_free_memory",
    "system_arrow_pool",
    "system_arrow_pool_here",
]

#: the variable with which a user picks Arrow's allocator (then left alone)
ARROW_POOL_VARIABLE = "ARROW_DEFAULT_MEMORY_POOL"


def release_free_memory() -> bool:
    """Return the C heap's free pages to the system; whether it could be asked."""
    trim = malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


def _arrow() -> Any:
    """pyarrow when it is loaded (pandas loads it at import when it is installed) and
    the user did not choose its allocator; else None."""
    if os.environ.get(ARROW_POOL_VARIABLE):
        return None
    return sys.modules.get("pyarrow")


@contextlib.contextmanager
def system_arrow_pool() -> Iterator[None]:
    """Arrow's new buffers from the C library's allocator while the block runs (the one
    before is restored after it; processes forked inside keep it), so that
    `release_free_memory` returns them too.  A buffer is always freed by the allocator
    that made it, so switching in the middle of a session is safe."""
    pa = _arrow()
    if pa is None:
        yield
        return
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pa.system_memory_pool())
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


def system_arrow_pool_here() -> None:
    """Arrow's new buffers from the C library's allocator for the rest of this process
    (a worker's start); a worker that has not loaded pyarrow yet (spawned) is told by
    the variable Arrow reads when it loads."""
    if os.environ.get(ARROW_POOL_VARIABLE):
        return
    pa = sys.modules.get("pyarrow")
    if pa is None:
        os.environ[ARROW_POOL_VARIABLE] = "system"
    else:
        pa.set_memory_pool(pa.system_memory_pool())
