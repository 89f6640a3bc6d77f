"""`release_free_memory`: the pages a finished task freed go back to the system (glibc),
and elsewhere the call does nothing and says so."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from cpcstats.execution import memory
from cpcstats.execution.memory import release_free_memory


def _rss_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_freed_heap_pages_go_back_to_the_system() -> None:
    if memory.malloc_trim() is None:
        pytest.skip("this C library has no malloc_trim (not glibc)")
    # freeing one large mmapped block raises glibc's mmap threshold, so the next blocks of
    # a few MB come from the heap, as a design's arrays do after its first large one
    del_me = np.ones(24 * 2**20 // 8)
    del del_me
    blocks = [np.ones(2**20 // 8) for _ in range(150)]  # 150 MiB on the heap
    above = np.ones(2**16)  # above them: the heap's top is not free, so no automatic trim
    del blocks
    before = _rss_mib()
    assert release_free_memory()
    after = _rss_mib()
    assert before - after > 100, (before, after)
    assert above.sum() == 2**16


def test_nothing_is_done_where_there_is_no_malloc_trim(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "malloc_trim", lambda: None)
    assert release_free_memory() is False
