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
