"""Row accounting: rows in, rows out and every reason for a drop.

Each pipeline stage (import, harmonisation, panel building, model sample)
returns a `StageAccount`.  The invariant ``rows_in == rows_out +
sum(dropped)`` is checked on construction, so a stage cannot lose rows
without naming why.  A `Ledger` collects the stages of one run and is
written into ``manifest.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class StageAccount:
    """What one stage did to the rows it received."""

    stage: str
    rows_in: int
    rows_out: int
    dropped: dict[str, int] = field(default_factory=dict)
    notes: dict[str, Any] = field(default_factory=dict)
    unstated: tuple[str, ...] = ()
    """Reasons in ``dropped`` that no rule of the study file states (a typo in an id, a
    spelling nobody mapped).  Such drops are still counted, but ``cpcstats check`` reports
    each one with a nonzero count as a problem and exits 1, because the user never decided
    that those rows should go."""

    def __post_init__(self) -> None:
        stray = [why for why in self.unstated if why not in self.dropped]
        if stray:
            raise AssertionError(
                f"stage '{self.stage}': unstated reason(s) {stray} are not drop reasons"
            )
        lost = self.rows_in - self.rows_out - sum(self.dropped.values())
        if lost != 0:
            raise AssertionError(
                f"stage '{self.stage}': {self.rows_in} rows in, {self.rows_out} out, "
                f"{sum(self.dropped.values())} dropped with a reason: {lost} unaccounted"
            )

    def summary(self) -> str:
        drops = ", ".join(f"{n} {why}" for why, n in self.dropped.items() if n) or "none dropped"
        return f"{self.stage}: {self.rows_in} in, {self.rows_out} out ({drops})"

    def unstated_drops(self) -> dict[str, int]:
        """Rows dropped for a reason no study rule states: reason -> count (nonzero only)."""
        return {why: self.dropped[why] for why in self.unstated if self.dropped.get(why)}

    def to_dict(self) -> dict[str, Any]:
        out = {
            "stage": self.stage,
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "dropped": dict(self.dropped),
            "notes": self.notes,
        }
        if self.unstated_drops():
            out["dropped_without_a_stated_rule"] = self.unstated_drops()
        return out


@dataclass
class Ledger:
    """An ordered collection of stage accounts for one run."""

    stages: list[StageAccount] = field(default_factory=list)

    def add(self, account: StageAccount) -> StageAccount:
        self.stages.append(account)
        return account

    def extend(self, accounts: list[StageAccount]) -> None:
        self.stages.extend(accounts)

    def to_list(self) -> list[dict[str, Any]]:
        return [a.to_dict() for a in self.stages]
