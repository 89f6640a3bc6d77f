"""Which allocator a replication's memory comes from: Arrow's buffers from the C library's
while a replication runs and in the workers (so that `release_free_memory` returns them),
unless the user chose; large arrays mapped on their own in the workers
(`fixed_mmap_threshold`), so that a task's big temporaries go back when freed."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cpcstats import c_allocator
from cpcstats.execution import BackgroundTasks, memory
from cpcstats.execution.memory import ARROW_POOL_VARIABLE, system_arrow_pool

pa = pytest.importorskip("pyarrow")
linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's allocator")


def arrow_backend(item: int = 0, shared: object = None) -> str:
    """The allocator Arrow's new buffers come from in the process that runs this."""
    return pa.default_memory_pool().backend_name


@pytest.fixture
def no_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ARROW_POOL_VARIABLE, raising=False)


def test_system_allocator_inside_the_block_and_the_old_one_after(no_choice: None) -> None:
    before = arrow_backend()
    with system_arrow_pool():
        assert arrow_backend() == "system"
        text = pa.array(["a", "bb", "ccc"] * 1000)  # made by the system allocator
    assert arrow_backend() == before
    # a buffer made inside the block is freed by its own allocator after it: no crash, and
    # the data is intact
    assert text.to_pylist()[:3] == ["a", "bb", "ccc"]
    del text


def test_restored_after_an_error(no_choice: None) -> None:
    before = arrow_backend()
    with pytest.raises(RuntimeError), system_arrow_pool():
        raise RuntimeError("a failed run")
    assert arrow_backend() == before


def test_a_users_choice_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ARROW_POOL_VARIABLE, "mimalloc")
    before = arrow_backend()
    with system_arrow_pool():
        assert arrow_backend() == before
    memory.system_arrow_pool_here()
    assert arrow_backend() == before


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_workers_use_the_system_allocator(no_choice: None, method: str) -> None:
    if arrow_backend() == "system":
        pytest.skip("this pyarrow has only the system allocator")
    with BackgroundTasks(arrow_backend, [0, 1], None, 2, method=method) as tasks:
        assert [tasks.result(i) for i in (0, 1)] == ["system", "system"]
    assert arrow_backend() != "system"  # the parent's is its own


def test_the_replication_runs_on_the_system_allocator(
    no_choice: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`replicate` holds the block for the whole run (its study is read inside it)."""
    run = importlib.import_module("cpcstats.replicate.run")
    seen: list[str] = []

    def fake(*args: object, **kwargs: object) -> object:
        seen.append(arrow_backend())
        raise RuntimeError("stop here")

    monkeypatch.setattr(run, "_replicate", fake)
    before = arrow_backend()
    with pytest.raises(RuntimeError, match="stop here"):
        run.replicate("demo", out=tmp_path / "out", progress=lambda _: None)
    assert seen == ["system"]
    assert arrow_backend() == before


#: a fresh process: free one 24 MiB array (glibc then raises its mmap threshold to 24 MiB,
#: so the next arrays of a few MiB come from the heap), make 40 arrays of 4 MiB each with
#: a small live block after each (the heap's top is never free, so nothing is trimmed on
#: its own), free the arrays, and print how much of the 160 MiB is still resident
_FRAGMENTED_HEAP = """
import sys
import numpy as np
from cpcstats.c_allocator import fixed_mmap_threshold
if sys.argv[1] == "fixed":
    assert fixed_mmap_threshold()
def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
del_me = np.ones(24 * 2**20 // 8); del del_me
base = rss()
arrays, pins = [], []
for _ in range(40):
    arrays.append(np.ones(4 * 2**20 // 8))
    pins.append(bytearray(200_000))
full = rss()
del arrays
print(full - base, rss() - base)
"""


@linux
def test_large_arrays_go_back_when_freed_with_the_fixed_threshold() -> None:
    if memory.malloc_trim() is None:
        pytest.skip("not glibc")
    held = {}
    for mode in ("dynamic", "fixed"):
        out = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(_FRAGMENTED_HEAP), mode],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        full, after = float(out[0]), float(out[1])
        assert full > 150, (mode, full)  # the 160 MiB were resident
        held[mode] = after
    assert held["dynamic"] > 120, held  # glibc's own threshold: the freed arrays stay
    assert held["fixed"] < 30, held  # mapped on their own: unmapped when freed


def test_no_threshold_where_there_is_no_mallopt(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(c_allocator, "_libc", lambda: None)
    assert c_allocator.fixed_mmap_threshold() is False


@pytest.mark.parametrize(("argv", "program"), [(None, True), (["--version"], False)])
def test_only_the_program_fixes_the_threshold_of_its_process(
    monkeypatch: pytest.MonkeyPatch, argv: list[str] | None, program: bool
) -> None:
    """``cpcstats ...`` (``main()`` with the process's own arguments) fixes the threshold
    for the process; ``main([...])`` called from Python (the tests, a user's script) does
    not touch the caller's allocator."""
    from cpcstats import cli

    calls: list[int] = []
    monkeypatch.setattr(c_allocator, "fixed_mmap_threshold", lambda: calls.append(1) or True)
    monkeypatch.setattr(sys, "argv", ["cpcstats", "--version"])
    with pytest.raises(SystemExit):
        cli.main(argv)
    assert calls == ([1] if program else [])
