"""Shared machinery of the covariate adapters: layout check, harmonisation, row accounting.

An adapter turns one public source, in the layout its distributor publishes,
into a tidy table keyed by ISO3.  The steps that must be done identically for
every source live here so that each adapter module only states what is
particular to its source:

* `read_source` reads the file with `cpcstats.io.read_table` and
  fails with an `cpcstats.errors.InputError` naming the file, the
  missing columns and the expected source/version when the layout is wrong;
* `RowTracker` counts every row an adapter removes under a reason, so
  the `cpcstats.accounting.StageAccount` it returns balances
  (rows in = rows out + dropped);
* `harmonise` maps the source's code or name column to ISO3 with
  `cpcstats.countries.harmonise_countries`, preferring the source's own
  ISO3-like code where it has one;
* `resolve_duplicates` applies the one documented rule for country-years
  that several source entities claim after harmonisation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cpcstats.accounting import StageAccount
from cpcstats.countries import (
    DROP_EXCLUDED,
    DROP_UNMATCHED,
    HarmonisationReport,
    harmonise_countries,
    is_iso3,
)
from cpcstats.errors import InputError, SpecError
from cpcstats.io import InputFile, read_table

R_MISSING: frozenset[str] = frozenset({"NA", "NaN", "nan", "."})
"""Text that means a missing value in files exported from R (``NA``) or Stata (``.``)."""

DROP_BEFORE = "year before first_year"
DROP_AFTER = "year after last_year"
DROP_DUPLICATE = "duplicate country-year (resolved by rule)"
DROP_ADAPTER_EXCLUDED = "excluded by adapter rule (territory or unit without its own ISO3)"

# Predecessor states mapped to the ISO3 of their continuator.  This is V-Dem's
# convention (its country_text_id codes the USSR as RUS, Yugoslavia and Serbia
# and Montenegro as SRB, Czechoslovakia as CZE), so all adapters put a
# predecessor's years under the same code as V-Dem does.  coco finds none of
# the first four names.
SUCCESSOR_OVERRIDES: dict[str, str] = {
    "USSR": "RUS",
    "Soviet Union": "RUS",
    "Yugoslavia": "SRB",
    "Serbia and Montenegro": "SRB",
    "Czechoslovakia": "CZE",
}

# Units that several sources list but that have no ISO3 code of their own.  The
# ones coco would map to a state (Somaliland -> SOM, Gaza -> PSE, South Yemen ->
# YEM) would otherwise give that state's code to a different polity; excluding
# them with a reason keeps `unmatched` for genuinely unknown spellings.  A
# study can map any of them with an override, which replaces the exclusion.
NOT_A_STATE: dict[str, str] = {
    "German Democratic Republic": "GDR, acceded to Germany in 1990; no ISO3 code of its own",
    "Germany East": "GDR, acceded to Germany in 1990; no ISO3 code of its own",
    "South Yemen": "merged into Yemen in 1990; YEM continues North Yemen, as in V-Dem",
    "Yemen South": "merged into Yemen in 1990; YEM continues North Yemen, as in V-Dem",
    "Zanzibar": "semi-autonomous part of Tanzania (V-Dem code ZZB); not a state",
    "Somaliland": "unrecognised; its name match SOM denotes Somalia",
    "Palestine/Gaza": "Gaza is rated apart from the West Bank; PSE is V-Dem's Palestine/West Bank",
    "Gaza Strip": "Gaza is rated apart from the West Bank; PSE is V-Dem's Palestine/West Bank",
}


@dataclass(frozen=True)
class Layout:
    """The columns a source's distributed file has, and how to describe it in errors."""

    source: str
    description: str
    required: tuple[str | tuple[str, ...], ...]
    """Required columns; a tuple lists alternative names for one column (first found wins)."""
    fix: str

    def columns_text(self) -> str:
        return ", ".join(c if isinstance(c, str) else " or ".join(c) for c in self.required)


@dataclass
class AdapterResult:
    """What an adapter returns: the tidy table and everything needed to audit it."""

    table: pd.DataFrame
    source: str
    path: Path
    account: StageAccount
    harmonisation: HarmonisationReport
    notes: list[str] = field(default_factory=list)
    extra: dict[str, pd.DataFrame] = field(default_factory=dict)
    input_file: InputFile | None = None
    """Path, SHA-256 and row count of the file read, for the run manifest."""

    def summary(self) -> str:
        """Account, rules applied and harmonisation, as plain text for the run log."""
        lines = [self.account.summary(), *(f"  - {note}" for note in self.notes)]
        lines.append(self.harmonisation.summary())
        return "\n".join(lines)


def finish(
    out: pd.DataFrame,
    *,
    source: str,
    path: Path,
    tracker: RowTracker,
    report: HarmonisationReport,
    notes: list[str],
    info: InputFile | None,
    account_notes: dict[str, Any],
    extra: dict[str, pd.DataFrame] | None = None,
    keys: tuple[str, ...] = ("iso3", "year"),
) -> AdapterResult:
    """Every adapter's last step: a sorted table plus its account, report and notes."""
    out = out.sort_values(list(keys), kind="mergesort").reset_index(drop=True)
    return AdapterResult(
        table=out,
        source=source,
        path=path,
        account=tracker.account(f"adapter:{source}", account_notes),
        harmonisation=report,
        notes=notes,
        extra=extra or {},
        input_file=info,
    )


# --------------------------------------------------------------------------- reading


def read_source(path: str | Path, layout: Layout) -> tuple[pd.DataFrame, InputFile, dict[str, str]]:
    """Read a source file and check its layout; return the frame, its file info, column names.

    The mapping returned resolves alternatives: for ``("vdem_country_name",
    "country_name")`` it gives the name actually found under the first name.
    """
    frame, info = read_table(path)
    frame = frame.reset_index(drop=True)
    return frame, info, check_columns(frame, layout, Path(path))


def check_columns(frame: pd.DataFrame, layout: Layout, path: Path) -> dict[str, str]:
    """Raise InputError naming the file, the missing columns and the expected source."""
    found: dict[str, str] = {}
    missing: list[str] = []
    for spec in layout.required:
        options = (spec,) if isinstance(spec, str) else spec
        hit = next((c for c in options if c in frame.columns), None)
        if hit is None:
            missing.append(" or ".join(options))
        else:
            found[options[0]] = hit
    if missing:
        have = list(map(str, frame.columns))
        shown = ", ".join(have[:25]) + (f" ... ({len(have)} columns)" if len(have) > 25 else "")
        raise InputError(
            f"the file lacks the column(s) {', '.join(missing)}; expected {layout.description} "
            f"(columns {layout.columns_text()}); it has: {shown}",
            file=str(path),
            column=missing[0],
            fix=layout.fix,
        )
    return found


def spreadsheet_row(position: int) -> int:
    """Row number a user sees in a spreadsheet: row 1 is the header."""
    return int(position) + 2


def blank_missing(series: pd.Series) -> pd.Series:
    """Turn R's ``NA`` and Stata's ``.`` (left as text by ``read_table``) into missing values.

    Only for value columns: in a country column "NA" could be a code (Namibia's ISO2).
    """
    if series.dtype == object or isinstance(series.dtype, pd.StringDtype):
        text = series.astype("string").str.strip()
        return series.mask(text.isin(R_MISSING) | (text == ""))
    return series


def to_number(
    frame: pd.DataFrame,
    column: str,
    path: Path,
    *,
    whole: bool = False,
    low: float | None = None,
    high: float | None = None,
) -> pd.Series:
    """Numeric column; text that is not a number (or out of range) is an InputError with its row.

    CSV files arrive as text (``read_table`` reads every cell as a string), so
    conversion must be explicit and must not turn a typo into a silent NaN.
    """
    raw = blank_missing(frame[column])
    numeric = pd.to_numeric(raw, errors="coerce").astype("float64")
    bad = raw.notna() & numeric.isna()
    what = "not a number"
    if whole:
        frac = numeric.notna() & (numeric % 1 != 0)
        if frac.any() and not bad.any():
            bad, what = frac, "not a whole number"
    if not bad.any() and np.isinf(numeric.to_numpy()).any():
        # ``inf`` is a number to pandas, but no source codes a rating or an index as
        # infinite; passed on, it makes every model using the column NaN.
        bad, what = pd.Series(np.isinf(numeric.to_numpy()), index=numeric.index), "infinite"
    if not bad.any() and (low is not None or high is not None):
        lo = -np.inf if low is None else low
        hi = np.inf if high is None else high
        out = numeric.notna() & ((numeric < lo) | (numeric > hi))
        if out.any():
            bad, what = out, f"outside {low}..{high}"
    if bad.any():
        first = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"{int(bad.sum())} value(s) are {what} (first: {raw.iloc[first]!r})",
            file=str(path),
            row=spreadsheet_row(first),
            column=column,
            fix="correct the cell(s) or export the source's file again",
        )
    return numeric


def to_year(frame: pd.DataFrame, column: str, path: Path) -> pd.Series:
    """Whole-number year column; a missing or non-numeric year is an InputError with its row."""
    numeric = to_number(frame, column, path, whole=True)
    require_present(
        numeric,
        column,
        path,
        what="year",
        fix="every row of this source has a year; export the file again",
    )
    return numeric.astype("int64")


def require_present(numeric: pd.Series, column: str, path: Path, *, what: str, fix: str) -> None:
    """Raise InputError at the first row where a key column (year, an id) is missing."""
    if numeric.isna().any():
        first = int(np.flatnonzero(numeric.isna().to_numpy())[0])
        raise InputError(
            f"{int(numeric.isna().sum())} row(s) have no {what}",
            file=str(path),
            row=spreadsheet_row(first),
            column=column,
            fix=fix,
        )


def check_year_range(first_year: int | None, last_year: int | None) -> None:
    if first_year is not None and last_year is not None and first_year > last_year:
        raise SpecError(
            f"first_year {first_year} is after last_year {last_year}",
            fix="swap them or leave one out",
        )


# --------------------------------------------------------------------------- accounting


class RowTracker:
    """Marks rows as dropped under a reason; builds the balancing StageAccount.

    A row is counted under the first reason that removes it, so reasons never
    double count and ``rows_in == rows_out + sum(dropped)`` holds by design.
    """

    def __init__(self, index: pd.Index) -> None:
        self.alive = pd.Series(True, index=index)
        self.dropped: dict[str, int] = {}

    @property
    def rows_in(self) -> int:
        return len(self.alive)

    def drop(self, mask: pd.Series | np.ndarray, reason: str) -> int:
        """Drop the still-alive rows where ``mask`` is true; return how many."""
        mask = pd.Series(np.asarray(mask, dtype=bool), index=self.alive.index)
        new = mask & self.alive
        n = int(new.sum())
        self.dropped[reason] = self.dropped.get(reason, 0) + n
        self.alive &= ~new
        return n

    def account(self, stage: str, notes: dict[str, Any]) -> StageAccount:
        return StageAccount(
            stage=stage,
            rows_in=self.rows_in,
            rows_out=int(self.alive.sum()),
            dropped=dict(self.dropped),
            notes=notes,
        )


def filter_years(
    years: pd.Series, tracker: RowTracker, first_year: int | None, last_year: int | None
) -> None:
    """Drop rows outside first_year..last_year, each bound counted under its own reason."""
    if first_year is not None:
        tracker.drop(years < first_year, DROP_BEFORE)
    if last_year is not None:
        tracker.drop(years > last_year, DROP_AFTER)


# --------------------------------------------------------------------------- countries


def _rule_key(name: str) -> str:
    """How harmonise_countries compares rule names: whitespace-collapsed, case-insensitive."""
    return " ".join(str(name).split()).casefold()


def merge_rules(
    default_overrides: Mapping[str, str],
    default_exclude: Mapping[str, str],
    overrides: Mapping[str, str] | None,
    exclude: Mapping[str, str] | None,
) -> tuple[dict[str, str], dict[str, str]]:
    """Adapter defaults plus the user's rules; a user rule replaces a default for the same name.

    Names compare case-insensitively, as in `harmonise_countries`, which
    refuses a name that is both overridden and excluded; hence a user override
    removes a default exclusion of that name and vice versa.
    """

    user_over = dict(overrides or {})
    user_excl = dict(exclude or {})
    taken = {_rule_key(n) for n in [*user_over, *user_excl]}
    over = {n: v for n, v in default_overrides.items() if _rule_key(n) not in taken}
    excl = {n: v for n, v in default_exclude.items() if _rule_key(n) not in taken}
    over.update(user_over)
    excl.update(user_excl)
    return over, excl


def harmonise(
    frame: pd.DataFrame,
    tracker: RowTracker,
    path: Path,
    *,
    name: str,
    code: str | None = None,
    overrides: Mapping[str, str] | None = None,
    exclude: Mapping[str, str] | None = None,
    default_overrides: Mapping[str, str] | None = None,
    default_exclude: Mapping[str, str] | None = None,
) -> tuple[pd.Series, pd.Series, HarmonisationReport]:
    """ISO3 per row; rows without one are dropped (unmatched or excluded) in ``tracker``.

    Where the source has an ISO3-like ``code`` column, a valid ISO3 code there
    is used as is and only the other rows fall back to their ``name``; the
    second Series returned says which rows got their ISO3 from the code, which
    the duplicate rule prefers.  Overrides and exclusions match the value that
    was looked up: the code where it is a valid ISO3, else the name.
    """
    names = frame[name].astype("string").str.strip()
    if code is not None:
        codes = frame[code].astype("string").str.strip()
        by_code = codes.map(lambda c: bool(is_iso3(c)) if isinstance(c, str) else False)
        by_code = by_code.astype(bool)
        keys = codes.where(by_code, names)
        column = f"{code} (else {name})"
    else:
        by_code = pd.Series(False, index=frame.index)
        keys = names
        column = name
    over, excl = merge_rules(default_overrides or {}, default_exclude or {}, overrides, exclude)
    iso3, report = harmonise_countries(
        keys.astype(object).where(keys.notna(), None),
        overrides=over,
        exclude=excl,
        source=str(path),
        column=column,
    )
    user_keys = {_rule_key(n) for n in [*(overrides or {}), *(exclude or {})]}
    by_user = [n for n in report.excluded if _rule_key(n) in user_keys]
    by_adapter = [n for n in report.excluded if _rule_key(n) not in user_keys]
    tracker.drop(keys.isin(by_user).fillna(False).astype(bool), DROP_EXCLUDED)
    tracker.drop(keys.isin(by_adapter).fillna(False).astype(bool), DROP_ADAPTER_EXCLUDED)
    tracker.drop(iso3.isna(), DROP_UNMATCHED)
    return iso3, by_code, report


def harmonisation_notes(report: HarmonisationReport) -> dict[str, Any]:
    """The parts of the report a ledger reader needs: what was dropped and what was remapped."""
    notes: dict[str, Any] = {
        "country_column": report.column,
        "unmatched": dict(report.unmatched),
        "excluded": {
            n: {"reason": r, "rows": report.counts.get(n, 0)} for n, r in report.excluded.items()
        },
        "overridden": dict(report.overridden),
        "match_rate": match_rate(report),
    }
    if report.ambiguous:
        notes["ambiguous"] = {k: list(v) for k, v in report.ambiguous.items()}
    return notes


def match_rate(report: HarmonisationReport) -> float:
    """Share of rows that got an ISO3 code; excluded rows count in the base (as not matched)."""
    if report.rows == 0:
        return 1.0
    return round(1 - (report.rows_unmatched + report.rows_excluded) / report.rows, 4)


# --------------------------------------------------------------------------- duplicates


def resolve_duplicates(
    frame: pd.DataFrame,
    tracker: RowTracker,
    *,
    keys: Sequence[str],
    entity: str,
    prefer: Sequence[str] = (),
) -> dict[str, int]:
    """Keep one row per ``keys`` among the alive rows; drop the others as duplicates.

    The rule, in order: prefer rows whose boolean columns in ``prefer`` are
    true (e.g. ISO3 from the source's own code; coded by the source as a
    state), then the row whose ``entity`` (the source's own country unit)
    continues into the next year, i.e. is in place at the end of the year,
    then the entity with most rows in the file (the main series), then file
    order.  Returns ``{"<dropped entity> -> <kept entity>": rows}`` for notes.
    """
    tracker.dropped.setdefault(DROP_DUPLICATE, 0)
    alive = frame[tracker.alive.to_numpy()]
    dup = alive.duplicated(list(keys), keep=False)
    if not dup.any():
        return {}
    ent = frame[entity].astype("string").fillna("<missing>")
    entity_years = set(zip(ent, frame["year"], strict=True))
    work = pd.DataFrame(index=frame.index)
    for col in prefer:
        work[f"_p_{col}"] = frame[col].astype(bool)
    work["_continues"] = [
        (e, y + 1) in entity_years for e, y in zip(ent, frame["year"], strict=True)
    ]
    work["_entity_rows"] = ent.map(ent.value_counts())
    work["_pos"] = np.arange(len(frame))
    order = [*(f"_p_{c}" for c in prefer), "_continues", "_entity_rows", "_pos"]
    ascending = [False] * (len(order) - 1) + [True]
    cand = work.loc[dup[dup].index].join(frame[list(keys)])
    cand = cand.sort_values(order, ascending=ascending, kind="mergesort")
    loser = cand.duplicated(list(keys), keep="first")
    kept = cand[~loser].set_index(list(keys))
    lost = cand[loser]
    detail: dict[str, int] = {}
    for idx, row in lost.iterrows():
        winner = kept.loc[tuple(row[k] for k in keys), "_pos"]
        label = f"{ent.loc[idx]} -> {ent.iloc[int(winner)]}"
        detail[label] = detail.get(label, 0) + 1
    mask = pd.Series(False, index=frame.index)
    mask.loc[lost.index] = True
    tracker.drop(mask, DROP_DUPLICATE)
    return detail
