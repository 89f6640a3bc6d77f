"""User-facing errors.

Every problem a user can fix by editing an input (a data file, a study or a
model specification) is raised as a :class:`CpcError` subclass whose message
names the file, the row/column and the fix.  The CLI prints these as one
message without a traceback; everything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class CpcError(Exception):
    """Base class for errors caused by user input, not by a bug."""

    def __init__(
        self,
        problem: str,
        *,
        file: str | None = None,
        row: int | None = None,
        column: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.problem = problem
        self.file = None if file is None else str(file)
        self.row = row
        self.column = column
        self.fix = fix
        super().__init__(self.render())

    def render(self) -> str:
        where = []
        if self.file:
            where.append(f"file {self.file}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column '{self.column}'")
        head = f"{', '.join(where)}: " if where else ""
        text = f"{head}{self.problem}"
        if self.fix:
            text += f"\n  fix: {self.fix}"
        return text


class InputError(CpcError):
    """A data file is missing, unreadable or breaks the data contract."""


class SpecError(CpcError):
    """A model specification or study configuration is invalid."""


class EstimationError(CpcError):
    """A model could not be estimated (singular design, no observations ...)."""


class OutputError(CpcError):
    """An output could not be written: the folder is a file, read-only, full, or in use.

    Why a user error: the fix is on the user's side (another ``--out``, free space,
    permissions, waiting for the other run), so the CLI exits with code 2 and names the
    path and the operating system's reason instead of reporting a bug.
    """

    @classmethod
    def from_os(
        cls, exc: OSError, path: object, action: str = "cannot be written"
    ) -> OutputError:
        """An OSError while writing ``path`` as one message: path, OS reason, fix."""
        import errno

        reason = exc.strerror or str(exc)
        code = exc.errno
        if code in (errno.ENOSPC, getattr(errno, "EDQUOT", -1), errno.EFBIG):
            fix = "free disk space (or raise the quota) and run again, or choose another --out"
        elif code in (errno.EROFS, errno.EACCES, errno.EPERM):
            fix = "choose a folder you may write to with --out (this one is read-only for you)"
        elif code in (errno.ENOTDIR, errno.EEXIST):
            fix = "a part of the path is a file, not a folder: remove it or choose another --out"
        elif code == errno.EISDIR:
            fix = "a folder has the name of an output file: remove it or choose another --out"
        else:
            fix = "check that the output folder exists, is writable and has free space"
        return cls(f"{action}: {reason}", file=str(path), fix=fix)
