"""Machine-readable outputs (``results.json``, ``manifest.json``) and the output folder.

Both JSON files are written with sorted keys, no timestamps and NaN as ``null`` so that
the same inputs give the same bytes, and atomically so that a crash never leaves a
half-written file.

An output folder never lies (`OutputFolder`).  The design, and why:

* **One run per folder.**  A run holds ``OUT/.cpcstats.lock`` (an ``flock`` on the file,
  which holds the run's pid).  A second run into the same folder refuses at once with an
  `cpcstats.errors.OutputError` (exit code 2) naming the lock, the pid and the fix.
  The kernel drops an ``flock`` when its process dies, so a lock file left by a killed
  run is not held: the next run takes it over and says so.
* **Write aside, then swap in.**  Every file of the run is written into
  ``OUT/.cpcstats-staging/`` (writes are confined there: a path outside is refused by
  `cpcstats.io.write_atomic`).  Only a run that finished moves its files into
  ``OUT`` (renames on the same file system, with SIGINT/SIGTERM held back meanwhile;
  the old ``manifest.json`` is removed first and the new one moved last).  A run that
  fails, is interrupted or is killed changes nothing in ``OUT``: the previous run's
  files and manifest stay consistent, the staging folder is removed (or, after a kill,
  by the next run).
* **Stale outputs go.**  A file the previous manifest lists that this run did not write
  (a table whose models now all fail, say) is deleted if its bytes still have the hash
  that manifest recorded; if someone edited it since, it is moved to ``OUT/.stale/``
  instead of being deleted.  Files that no manifest lists (a user's README, notes,
  ``.gitkeep``) are never touched.
* **The manifest lists exactly this run's files** with their SHA-256: it is built from
  the staging folder, which holds nothing else.
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import platform
import re
import shutil
import signal
import sys
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path, PurePosixPath
from types import TracebackType
from typing import Any

from cpcstats.errors import OutputError
from cpcstats.io import confine_writes, sha256_of, write_atomic

PACKAGES = (
    "cpcstats",
    "numpy",
    "pandas",
    "scipy",
    "statsmodels",
    "linearmodels",
    "patsy",
    "matplotlib",
    "seaborn",
    "country_converter",
    "pyarrow",
    "openpyxl",
)
PACKAGE_ROOT = Path(__file__).resolve().parent


def display_path(path: str | Path) -> str:
    """A path as a reader of the manifest can use it: package- or cwd-relative if possible."""
    p = Path(path).resolve()
    for root, prefix in ((PACKAGE_ROOT, "cpcstats"), (Path.cwd().resolve(), ".")):
        try:
            rel = p.relative_to(root)
        except ValueError:
            continue
        return f"{prefix}/{rel.as_posix()}"
    return p.as_posix()


def jsonable(value: Any) -> Any:
    """Plain JSON types, NaN/inf as None, numpy scalars unwrapped."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def write_json(path: str | Path, payload: dict[str, Any]) -> Path:
    text = json.dumps(jsonable(payload), indent=2, sort_keys=True, allow_nan=False)
    return write_atomic(path, text + "\n")


def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def file_record(path: str | Path) -> dict[str, str]:
    return {"path": display_path(path), "sha256": sha256_of(path)}


def environment() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "packages": package_versions(),
    }


LOCK_NAME = ".cpcstats.lock"
STAGING_NAME = ".cpcstats-staging"
STALE_NAME = ".stale"
MANIFEST_NAME = "manifest.json"
_RESERVED = (LOCK_NAME, STAGING_NAME, STALE_NAME)
_SHA256 = re.compile(r"[0-9a-f]{64}")


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM back while the run's files are swapped in (delivered after)."""
    held = {signal.SIGINT, signal.SIGTERM}
    try:
        old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, OSError, ValueError):  # pragma: no cover - not POSIX
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _lock_holder(fd: int) -> str:
    """The pid written in a lock file (``unknown`` when it is empty or not a number)."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 64).decode("ascii", "replace").strip()
    except OSError:
        return "unknown"
    return text if text.isdigit() else "unknown"


class OutputFolder:
    """The output folder of one run: locked, written aside, swapped in when complete.

    Use as ``with OutputFolder(out) as folder:`` write under ``folder.staging``, then call
    `commit`; leaving the block without a commit (an error, Ctrl-C, SIGTERM)
    discards the run's files and leaves ``out`` as it was.  See the module docstring.
    """

    def __init__(self, out: str | Path, progress: Callable[[str], None] = print) -> None:
        self.out = Path(out)
        self.staging = self.out / STAGING_NAME
        self.lock = self.out / LOCK_NAME
        self.progress = progress
        self._lock_fd: int | None = None
        self._confined: contextlib.AbstractContextManager[Path] | None = None
        self.removed: list[str] = []
        self.quarantined: list[str] = []

    # -- entering: folder, lock, staging -------------------------------------------------
    def __enter__(self) -> OutputFolder:
        self._make_folder()
        self._acquire()
        try:
            if self.staging.exists() or self.staging.is_symlink():
                self.progress(f"note: removing {self.staging}, left by an interrupted run")
                self._remove_staging()
            try:
                self.staging.mkdir()
            except OSError as exc:
                raise OutputError.from_os(exc, self.staging, "cannot create") from exc
            self._confined = confine_writes(self.staging)
            self._confined.__enter__()
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._confined is not None:
                self._confined.__exit__(None, None, None)
                self._confined = None
            self._remove_staging()
        finally:
            self._release()

    def _make_folder(self) -> None:
        if self.out.exists() and not self.out.is_dir():
            raise OutputError(
                "the output folder is a file, not a folder",
                file=str(self.out),
                fix="give a folder with --out (a new one is created), or move the file away",
            )
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            where = exc.filename or self.out
            raise OutputError.from_os(exc, where, "the output folder cannot be created") from exc

    def _acquire(self) -> None:
        import fcntl

        for _ in range(5):
            try:
                fd = os.open(self.lock, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as exc:
                raise OutputError.from_os(
                    exc, self.lock, "the lock file cannot be created (is the folder writable?)"
                ) from exc
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as exc:
                holder = _lock_holder(fd)
                os.close(fd)
                if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise OutputError.from_os(
                        exc, self.lock, "cannot lock the output folder"
                    ) from exc
                raise OutputError(
                    f"another cpcstats run (pid {holder}) is writing into this folder: it "
                    f"holds the lock file {self.lock}",
                    file=str(self.out),
                    fix="wait until that run has finished, or give this run another --out; "
                    f"if no cpcstats run is active, delete {self.lock}",
                ) from None
            # the previous holder unlinks the file before it lets go: a lock on an unlinked
            # file is no lock, so try again on the file that is there now
            try:
                same = os.fstat(fd).st_ino == os.stat(self.lock).st_ino
            except FileNotFoundError:
                same = False
            if not same:
                os.close(fd)
                continue
            previous = _lock_holder(fd)
            if previous != "unknown":
                self.progress(
                    f"note: took over the lock {self.lock} left by pid {previous}, which is no "
                    "longer running (a run that was killed)"
                )
            try:
                os.ftruncate(fd, 0)
                os.lseek(fd, 0, os.SEEK_SET)
                os.write(fd, f"{os.getpid()}\n".encode("ascii"))
            except OSError as exc:
                os.close(fd)
                raise OutputError.from_os(
                    exc, self.lock, "the lock file cannot be written"
                ) from exc
            self._lock_fd = fd
            return
        raise OutputError(
            "could not take the lock of the output folder: other runs keep replacing it",
            file=str(self.lock),
            fix="run one cpcstats at a time per --out",
        )

    def _release(self) -> None:
        fd, self._lock_fd = self._lock_fd, None
        if fd is None:
            return
        try:
            if os.fstat(fd).st_ino == os.stat(self.lock).st_ino:
                os.unlink(self.lock)  # before letting go, so that no one locks a dead file
        except OSError:
            pass
        finally:
            os.close(fd)

    def _remove_staging(self) -> None:
        if self.staging.is_symlink():
            self.staging.unlink()
        elif self.staging.exists():
            shutil.rmtree(self.staging, ignore_errors=True)

    # -- what the run wrote ---------------------------------------------------------------
    def staged(self) -> list[str]:
        """The run's files so far, as sorted paths relative to the folder."""
        return sorted(
            p.relative_to(self.staging).as_posix()
            for p in self.staging.rglob("*")
            if p.is_file() and not p.name.endswith(".tmp")
        )

    def final(self, path: str | Path) -> Path:
        """Where a file written under ``staging`` ends up after the commit."""
        path = Path(path)
        for inner, staging in ((path, self.staging), (path.resolve(), self.staging.resolve())):
            if inner.is_relative_to(staging):
                return self.out / inner.relative_to(staging)
        return path

    def output_records(self) -> list[dict[str, str]]:
        """``{"path", "sha256"}`` of every file of this run except the manifest itself."""
        return [
            {"path": rel, "sha256": sha256_of(self.staging / rel)}
            for rel in self.staged()
            if rel != MANIFEST_NAME
        ]

    # -- committing ------------------------------------------------------------------------
    def previous_outputs(self) -> dict[str, str]:
        """Files the folder's current manifest says cpcstats wrote, with their hashes.

        Only paths that stay inside the folder and hashes that look like SHA-256 count: the
        manifest is a file anyone can edit, and it decides what may be deleted.
        """
        path = self.out / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError):
            self.progress(f"note: {path} is not a readable manifest; no earlier file is removed")
            return {}
        entries = data.get("outputs") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            return {}
        root = self.out.resolve()
        found: dict[str, str] = {}
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            rel, sha = entry.get("path"), entry.get("sha256")
            if not isinstance(rel, str) or not isinstance(sha, str) or not _SHA256.fullmatch(sha):
                continue
            pure = PurePosixPath(rel)
            if pure.is_absolute() or ".." in pure.parts or rel.startswith("./"):
                continue
            if not pure.parts or pure.parts[0] in _RESERVED or rel == MANIFEST_NAME:
                continue
            if not (self.out / rel).resolve().is_relative_to(root):
                continue
            found[pure.as_posix()] = sha
        return found

    def commit(self) -> list[str]:
        """Swap the run's files into the folder; remove or quarantine stale ones.

        Returns the relative paths now in the folder from this run.
        """
        files = self.staged()
        root = self.out.resolve()
        for rel in files:  # refuse before changing anything
            target = self.out / rel
            if target.is_dir() and not target.is_symlink():
                raise OutputError(
                    "a folder has the name of an output file",
                    file=str(target),
                    fix="rename or remove that folder, or choose another --out",
                )
            for parent in target.parents:
                if parent == self.out:
                    break
                if parent.exists() and not parent.is_dir():
                    raise OutputError(
                        "a file has the name of an output folder",
                        file=str(parent),
                        fix="rename or remove that file, or choose another --out",
                    )
            if target.parent.exists() and not target.parent.resolve().is_relative_to(root):
                raise OutputError(
                    f"the folder links outside the output folder {self.out}",
                    file=str(target.parent),
                    fix="replace the symbolic link by a folder, or choose another --out",
                )
        previous = self.previous_outputs()
        with _signals_held():
            try:
                (self.out / MANIFEST_NAME).unlink(missing_ok=True)
                for rel in files:
                    if rel == MANIFEST_NAME:
                        continue
                    target = self.out / rel
                    target.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(self.staging / rel, target)
                for rel, sha in sorted(previous.items()):
                    if rel not in files:
                        self._retire(rel, sha)
                if MANIFEST_NAME in files:
                    os.replace(self.staging / MANIFEST_NAME, self.out / MANIFEST_NAME)
            except OSError as exc:
                where = exc.filename or self.out
                raise OutputError.from_os(
                    exc, where, "the run's files could not be moved into the output folder"
                ) from exc
            self._remove_staging()
        if self.removed:
            self.progress(
                f"      removed {len(self.removed)} file(s) of the previous run that this run "
                f"did not write: {', '.join(self.removed)}"
            )
        if self.quarantined:
            self.progress(
                f"      moved {len(self.quarantined)} edited file(s) of the previous run to "
                f"{self.out / STALE_NAME}: {', '.join(self.quarantined)}"
            )
        return files

    def _retire(self, rel: str, sha: str) -> None:
        """Delete a stale file cpcstats wrote, or quarantine it if it was edited since."""
        target = self.out / rel
        if target.is_symlink() or not target.is_file():
            return
        if sha256_of(target) == sha:
            target.unlink()
            self.removed.append(rel)
        else:
            moved = self.out / STALE_NAME / rel
            n = 0
            while moved.exists() or moved.is_symlink():  # an earlier quarantine is kept too
                n += 1
                moved = self.out / STALE_NAME / f"{rel}.{n}"
            moved.parent.mkdir(parents=True, exist_ok=True)
            os.replace(target, moved)
            self.quarantined.append(rel)
        for parent in target.parents:  # folders this emptied (never the output folder)
            if parent == self.out:
                break
            try:
                parent.rmdir()
            except OSError:
                break
