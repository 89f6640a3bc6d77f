"""User-facing errors.

Every problem a user can fix by editing an input (a data file, a study or a
model specification) is raised as a `CpcError` subclass whose message
names the file, the row/column and the fix.  The CLI prints these as one
message without a traceback; everything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class CpcError(Exception):
    """Base class for errors caused by user input, not by a bug.

    Why one base class: a caller (the CLI, a notebook, a pipeline) can catch
    ``CpcError`` to tell "fix your input" from a bug, and every message has the same
    parts (where, what, the fix) so it can be shown without a traceback.

    Parameters
    ----------
    problem : str
        What is wrong, in one sentence.
    file : str, optional
        The file the problem is in (a path; stored as text).
    row : int, optional
        The row of that file, counted as the user sees it.
    column : str, optional
        The column (or specification key) at fault.
    fix : str, optional
        What the user should change.

    Attributes
    ----------
    problem, file, row, column, fix
        The parts as given, so that callers can report them separately.

    Examples
    --------
    >>> err = cpcstats.SpecError("unknown family 'negbinn'", column="family", fix="use 'negbin'")
    >>> print(err)
    column 'family': unknown family 'negbinn'
      fix: use 'negbin'
    >>> try:
    ...     cpcstats.load_study("no-such-study.toml")
    ... except cpcstats.CpcError as exc:
    ...     print(exc.problem)
    the study file does not exist
    """

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
        """The message: ``file F, row R, column 'C': problem`` and a ``fix:`` line.

        Returns
        -------
        str
            The text ``str(error)`` shows (the CLI prints it without a traceback).

        Examples
        --------
        >>> cpcstats.InputError("empty file", file="contacts.csv", row=1).render()
        'file contacts.csv, row 1: empty file'
        """
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
    """A data file is missing, unreadable or breaks the data contract.

    Raised while a study's files are read and checked (`cpcstats.load_study`):
    a missing or unreadable file, a missing column, a value of the wrong type, a
    duplicate key.  The message names the file, row and column.

    Examples
    --------
    >>> issubclass(cpcstats.InputError, cpcstats.CpcError)
    True
    """


class SpecError(CpcError):
    """A model specification or study configuration is invalid.

    Raised for a study TOML or model TOML with an unknown key or a wrong type, a
    formula naming a column the panel lacks, an unknown family or se type, or an
    argument a function cannot use (e.g. a non-Poisson model passed to a Poisson test).

    Examples
    --------
    >>> try:
    ...     cpcstats.load_study("no-such-study.toml")
    ... except cpcstats.SpecError as exc:
    ...     print(exc.fix)
    give a path to a .toml study file, or use --study demo
    """


class EstimationError(CpcError):
    """A model could not be estimated (singular design, no observations ...).

    Raised by `cpcstats.fit` and the tests after it when the data cannot
    identify the model: no observations left, a singular design, terms that do not
    vary or are absorbed by the fixed effects, a diverging likelihood, or two fits a
    test cannot compare (e.g. the same model twice in `cpcstats.vuong_test`).

    Examples
    --------
    >>> issubclass(cpcstats.EstimationError, cpcstats.CpcError)
    True
    """


class OutputError(CpcError):
    """An output could not be written: the folder is a file, read-only, full, or in use.

    Why a user error: the fix is on the user's side (another ``--out``, free space,
    permissions, waiting for the other run), so the CLI exits with code 2 and names the
    path and the operating system's reason instead of reporting a bug.
    """

    @classmethod
    def from_os(cls, exc: OSError, path: object, action: str = "cannot be written") -> OutputError:
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
