"""The adapters' shared skeleton: one source file from its distributed layout to a row account.

Every adapter goes through the same steps: check the year bounds, read the
file as distributed and check its columns, build its own table, harmonise
countries to ISO3, drop years outside the bounds, resolve duplicate
country-years and finish with a sorted table and a balancing
`cpcstats.accounting.StageAccount`.  `Source` carries what
those steps share (the raw frame, its file info, the row tracker, the user's
year bounds and country rules, the harmonisation report), so that an adapter
module states only what is particular to its source: its layout, its default
country rules, its value columns and its own drop reasons.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cpcstats.adapters import base as ab
from cpcstats.countries import HarmonisationReport
from cpcstats.io import InputFile

DEFAULT_RULES: tuple[Mapping[str, str], Mapping[str, str]] = (
    ab.SUCCESSOR_OVERRIDES,
    ab.NOT_A_STATE,
)
"""(overrides, exclusions) most adapters start from: V-Dem's predecessor convention, non-states."""


@dataclass
class Source:
    """One source file on its way through the skeleton; methods are the shared steps."""

    layout: ab.Layout
    path: Path
    raw: pd.DataFrame
    info: InputFile
    columns: dict[str, str]
    """Required column -> the name found in the file (resolves alternatives)."""
    tracker: ab.RowTracker
    first_year: int | None = None
    last_year: int | None = None
    overrides: Mapping[str, str] | None = None
    exclude: Mapping[str, str] | None = None
    report: HarmonisationReport | None = field(default=None)

    # ------------------------------------------------------------------ reading

    def number(self, column: str, **bounds: Any) -> pd.Series:
        """A numeric column of the raw file (``whole``, ``low``, ``high`` as in to_number)."""
        return ab.to_number(self.raw, column, self.path, **bounds)

    def identifier(self, column: str, *, what: str, fix: str) -> pd.Series:
        """A whole-number id column that every row must have (InputError at the first gap)."""
        numeric = self.number(column, whole=True)
        ab.require_present(numeric, column, self.path, what=what, fix=fix)
        return numeric

    def year(self, column: str = "year") -> pd.Series:
        return ab.to_year(self.raw, column, self.path)

    def text(self, column: str) -> pd.Series:
        """A text value column: R/Stata missing codes blanked, whitespace stripped."""
        return ab.blank_missing(self.raw[column]).astype("string").str.strip()

    # ------------------------------------------------------------------ steps

    def harmonise(
        self,
        table: pd.DataFrame,
        *,
        name: str,
        code: str | None = None,
        rules: tuple[Mapping[str, str], Mapping[str, str]] = DEFAULT_RULES,
    ) -> pd.Series:
        """Add ``iso3`` (and ``_by_code`` when there is a code column) to ``table``.

        ``rules`` are the adapter's default (overrides, exclusions); the user's
        rules given to `open_source` beat them.  Returns which rows got
        their ISO3 from the code column.
        """
        iso3, by_code, self.report = ab.harmonise(
            table,
            self.tracker,
            self.path,
            name=name,
            code=code,
            overrides=self.overrides,
            exclude=self.exclude,
            default_overrides=rules[0],
            default_exclude=rules[1],
        )
        table["iso3"] = iso3
        if code is not None:
            table["_by_code"] = by_code
        return by_code

    def filter_years(self, years: pd.Series) -> None:
        ab.filter_years(years, self.tracker, self.first_year, self.last_year)

    def resolve_duplicates(
        self, table: pd.DataFrame, *, entity: str, prefer: Sequence[str] = ("_by_code",)
    ) -> dict[str, int]:
        """Country-year duplicates by the one documented rule (base.resolve_duplicates)."""
        return ab.resolve_duplicates(
            table, self.tracker, keys=["iso3", "year"], entity=entity, prefer=list(prefer)
        )

    def alive(self, table: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``table`` no step has dropped."""
        return table[self.tracker.alive.to_numpy()]

    # ------------------------------------------------------------------ finishing

    def account_notes(self, **more: Any) -> dict[str, Any]:
        """The harmonisation notes, then the adapter's own, in the order given."""
        assert self.report is not None, "harmonise() comes before account_notes()"
        return {**ab.harmonisation_notes(self.report), **more}

    def finish(
        self,
        out: pd.DataFrame,
        notes: list[str],
        account_notes: dict[str, Any],
        *,
        extra: dict[str, pd.DataFrame] | None = None,
        keys: tuple[str, ...] = ("iso3", "year"),
    ) -> ab.AdapterResult:
        """The sorted table with its account, harmonisation report and notes."""
        assert self.report is not None, "harmonise() comes before finish()"
        return ab.finish(
            out,
            source=self.layout.source,
            path=self.path,
            tracker=self.tracker,
            report=self.report,
            notes=notes,
            info=self.info,
            account_notes=account_notes,
            extra=extra,
            keys=keys,
        )


def open_source(
    path: str | Path,
    layout: ab.Layout,
    first_year: int | None = None,
    last_year: int | None = None,
    overrides: Mapping[str, str] | None = None,
    exclude: Mapping[str, str] | None = None,
) -> Source:
    """Check the year bounds, read the file and check its layout; start its row account.

    The bounds are checked first so that a wrong study file fails before a
    large source is read.  The options may be given by position, in the order
    every adapter's signature has them, so each adapter opens its file in one line.
    """
    ab.check_year_range(first_year, last_year)
    path = Path(path)
    raw, info, columns = ab.read_source(path, layout)
    return Source(
        layout=layout,
        path=path,
        raw=raw,
        info=info,
        columns=columns,
        tracker=ab.RowTracker(raw.index),
        first_year=first_year,
        last_year=last_year,
        overrides=overrides,
        exclude=exclude,
    )
