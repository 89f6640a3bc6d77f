"""One BLAS thread per process while cpcstats runs processes side by side.

Why: OpenBLAS starts one thread per core it sees, and its threads spin while they wait.
Two processes on two cores with two BLAS threads each made a demo replication from
Python 13.1 s instead of 8.3 s (measured 2026-12-02; the command line already sets the
environment variables before numpy is imported, `cpcstats.console.limit_blas_threads`).
A process started from Python has imported numpy by the time it replicates, so the
variables no longer work; `threadpoolctl` sets the loaded libraries' thread counts
instead.  A user who set any of the variables has chosen, and is left alone.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

__all__ = ["BLAS_THREAD_VARIABLES", "one_blas_thread", "one_blas_thread_here", "user_chose"]

#: the variables BLAS libraries read at start (the same as `cpcstats.console`'s, which
#: cannot import this package: it sets them before anything imports numpy)
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def user_chose() -> bool:
    """Whether the environment sets a BLAS thread count (the user's, or the CLI's 1)."""
    return any(os.environ.get(name) for name in BLAS_THREAD_VARIABLES)


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """One thread for every loaded BLAS while the block runs (restored after it), unless
    the user chose; processes forked inside the block keep the one thread."""
    if user_chose():
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def one_blas_thread_here() -> None:
    """One thread for every loaded BLAS for the rest of this process (a worker's start),
    unless the user chose."""
    if not user_chose():
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")
