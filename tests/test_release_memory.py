"""`release_free_memory`: the pages a finished task freed go back to the system (glibc),
and elsewhere the call does nothing and says so."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cpcstats.execution import memory
from cpcstats.execution.memory import release_free_memory

#: a fresh process (the heap of a long test session already holds free blocks of its own,
#: which the new ones fill): freeing one large mmapped block raises glibc's mmap threshold,
#: so the next blocks of a few MB come from the heap, as a design's arrays do after its
#: first large one; a small block above them keeps the heap's top from being free (no
#: automatic trim); prints the resident MiB before and after the trim
_HEAP = """
import numpy as np
from cpcstats.execution.memory import release_free_memory
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
del_me = np.ones(24 * 2**20 // 8)
del del_me
blocks = [np.ones(2**20 // 8) for _ in range(150)]  # 150 MiB on the heap
above = np.ones(2**16)
del blocks
before = rss()
assert release_free_memory()
print(before, rss(), above.sum())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_freed_heap_pages_go_back_to_the_system() -> None:
    if memory.malloc_trim() is None:
        pytest.skip("this C library has no malloc_trim (not glibc)")
    # glibc told outright that 1 MiB blocks come from the heap and that freeing never
    # trims on its own, whatever threshold it would otherwise have reached (in the suite it
    # once mapped them on their own, and there was nothing to trim)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "GLIBC_"))}
    env |= {"MALLOC_MMAP_THRESHOLD_": str(32 * 2**20), "MALLOC_TRIM_THRESHOLD_": str(2**40)}
    out = subprocess.run(
        [sys.executable, "-c", _HEAP], capture_output=True, text=True, check=True, env=env
    ).stdout.split()
    before, after = float(out[0]), float(out[1])
    assert before - after > 100, (before, after)
    assert float(out[2]) == 2**16


def test_nothing_is_done_where_there_is_no_malloc_trim(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "malloc_trim", lambda: None)
    assert release_free_memory() is False
