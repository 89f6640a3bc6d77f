"""Taiwan recognition switches as an event study: contact around a switch to Beijing.

Why: the study's claim (driver 4) is that the CPC "rewards" a switch of diplomatic
recognition from Taipei to Beijing with immediate, regular party contact.  A static
two-way FE coefficient on ``recognizes_prc`` cannot tell a jump at the switch from a
pre-existing rise (rapprochement before the switch) or a slow build-up after it.  An
event study estimates one coefficient per year relative to the switch, so the leads test
the "no pre-trend" assumption and the lags show the shape of the response.

* :func:`event_time_dummies` — event-time indicators around each country's switch to
  Beijing inside the window (binned endpoints, reference period omitted) and the record of
  which countries are switchers, controls or excluded.
* :func:`event_study` — FE-Poisson (PPML) of contacts on the indicators with country and
  year fixed effects, SEs clustered by country, and the joint test of the leads (a robust
  score test with the default pooled pre-switch reference, a Wald test with a single
  reference year).
* :func:`run` — the ``design_taiwan`` table and figure of the replication.

Timing follows the reference tables (``cpcstats/reference/README.md``): ``recognizes_prc``
in year t is the status on 31 December, so event time 0 is the first year that *ends*
with recognition of Beijing, and e = -1 is the last full year of recognition of Taipei
(or of no relations).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from cpcstats.countries import country_name
from cpcstats.designs.base import (
    DesignOutput,
    country_year_panel,
    observed_indicators,
    planted_effect,
    sample_note,
)
from cpcstats.errors import CpcError, EstimationError, SpecError
from cpcstats.estimation.fit import fit
from cpcstats.estimation.postestimation import WaldTest, estimation_sample, wald_test
from cpcstats.estimation.results import FitResult
from cpcstats.estimation.score import ScoreTest, score_test
from cpcstats.panels import Panel
from cpcstats.reporting.style import mark_simulated, new_figure, save_figure, style
from cpcstats.reporting.tables import stats_table
from cpcstats.reporting.write import write_table
from cpcstats.study import Study

__all__ = [
    "EventDummies",
    "EventStudyResult",
    "event_study",
    "event_term",
    "event_time_dummies",
    "run",
]

NAME = "design_taiwan"
TITLE = "Taiwan recognition switches and party contact: event study (FE-Poisson)"
UNIT = "iso3"
TIME = "year"
STATUS = "recognizes_prc"
SWITCH = "prc_switch_year"
AWAY_FLAG = "switched_to_roc"
TO_PRC = "to_prc"  # kind of event: a switch to Beijing
AWAY = "away"  # kind of event: a switch away from Beijing (only with away="separate")
PREFIX = {TO_PRC: "ev", AWAY: "away"}
AWAY_OPTIONS = ("exclude", "separate")
#: ``reference="pre"``: every pre-switch event time (e < 0) pooled into the reference
POOLED = "pre"
Z95 = float(stats.norm.ppf(0.975))
#: below this many switching countries, clustered SEs are flagged as fragile in the notes
FEW_SWITCHERS = 20

LEFT_INSIDE = "left Beijing inside the window (switched_to_roc)"
AT_START = "switched_to_roc and outside Beijing from the window's first year"
NOT_OBSERVED = "not estimable: no switching country with contacts observed at this event time"
SEPARATED = "not estimable: all contacts zero at this event time (separated, omitted)"
DROPPED = "not estimable: omitted by the fit"


# --------------------------------------------------------------------------- indicators
def event_term(event_time: int, prefix: str = "ev") -> str:
    """Formula-safe name of an event-time indicator: -5 -> ``ev_m5``, 0 -> ``ev_p0``."""
    return f"{prefix}_m{-event_time}" if event_time < 0 else f"{prefix}_p{event_time}"


def _minus(value: object) -> str:
    """Typographic minus for labels and notes (LaTeX renders it as a math minus)."""
    return str(value).replace("-", "−")


def _bin_label(event_time: int, leads: int, lags: int) -> str:
    if event_time == -leads:
        return f"≤ −{leads}"
    if event_time == lags:
        return f"≥ {lags}"
    return _minus(event_time)


def _as_frame(panel: Panel | pd.DataFrame) -> pd.DataFrame:
    """A copy of the panel's rows that keeps the simulated flag for ``fit``."""
    if isinstance(panel, Panel):
        frame = panel.data.copy()
        frame.attrs.update({"simulated": panel.simulated, "study": panel.study})
        return frame
    frame = panel.copy()
    frame.attrs.update(panel.attrs)
    return frame


def _name(iso3: str) -> str:
    try:
        return country_name(iso3)
    except ValueError:
        return iso3


def _check_window(leads: int, lags: int, reference: int | str, away: str) -> None:
    if int(leads) != leads or int(lags) != lags or leads < 1 or lags < 0:
        raise SpecError(
            f"leads must be >= 1 and lags >= 0 (whole numbers), got leads={leads}, lags={lags}",
            column="leads",
            fix="e.g. leads=5, lags=5",
        )
    if reference == POOLED:
        pass
    elif isinstance(reference, str) or not -leads < reference < lags:
        raise SpecError(
            f"the reference period {reference} must lie strictly inside the binned window "
            f"({-leads}, {lags}): an endpoint bin pools several event times",
            column="reference",
            fix=f'use reference=-1 or reference="{POOLED}" (pooled pre-period), or widen '
            "leads/lags",
        )
    if away not in AWAY_OPTIONS:
        raise SpecError(
            f"away={away!r} is not one of {', '.join(AWAY_OPTIONS)}",
            column="away",
            fix='away="exclude" (default) or away="separate"',
        )


def _away_years(frame: pd.DataFrame, first: int) -> tuple[dict[str, int], list[str], list[str]]:
    """Latest year-end exit from Beijing per country; flagged countries that never exit;
    flagged countries already outside Beijing in the first year.

    Why: ``switched_to_roc`` marks any move away from Beijing dated in the window, but the
    panel's status is the 31 December one; a move reversed within the year (Vanuatu,
    Nov-Dec 2004) never shows in ``recognizes_prc`` and the country stays a control.
    An exit is a year t with status 0 after status 1 in t - 1, or a flagged country whose
    first window year already ends outside Beijing (exit year set to the first year: right
    when the exit falls in that year, an approximation when the panel was cut after the
    flag was computed).
    """
    years: dict[str, int] = {}
    reversed_in_year: list[str] = []
    at_start: list[str] = []
    flagged = (
        set(frame.loc[frame[AWAY_FLAG].fillna(0).astype(int) == 1, UNIT])
        if AWAY_FLAG in frame.columns
        else set()
    )
    for iso, rows in frame.sort_values([UNIT, TIME]).groupby(UNIT, sort=True):
        status = rows[STATUS].to_numpy(dtype=float)
        year = rows[TIME].to_numpy(dtype=int)
        exits = [int(year[i]) for i in range(1, len(year)) if status[i - 1] == 1 and status[i] == 0]
        if not exits and iso in flagged and year[0] == first and status[0] == 0:
            exits = [first]
            at_start.append(str(iso))
        if exits:
            years[str(iso)] = max(exits)
        elif iso in flagged:
            reversed_in_year.append(str(iso))
    return years, reversed_in_year, at_start


@dataclass(frozen=True)
class EventDummies:
    """Event-time indicators and the classification of every country of the panel.

    ``data`` holds the rows kept with one 0/1 column per indicator in ``columns``;
    ``bins`` has one row per event time of each kind (``to_prc``, and ``away`` with
    ``away="separate"``) including the reference, with its term, label, whether it is a lead,
    and how many switching countries and rows it covers.  ``switch_years`` maps each
    country switching to Beijing inside the window to its switch year, ``away_years`` each
    country leaving Beijing inside the window to its (latest) exit year.  ``excluded`` lists
    the countries dropped (name, rows, year, reason); ``pre_window`` the countries whose
    switch to Beijing predates the window (controls); ``reversed_in_year`` the countries
    flagged ``switched_to_roc`` whose year-end status never left Beijing (controls).
    """

    data: pd.DataFrame
    columns: tuple[str, ...]
    bins: pd.DataFrame
    switch_years: dict[str, int]
    away_years: dict[str, int]
    excluded: pd.DataFrame
    pre_window: tuple[str, ...]
    reversed_in_year: tuple[str, ...]
    leads: int
    lags: int
    reference: int | str
    away: str
    first_year: int
    last_year: int
    #: with reference="pre": lead indicators e = -leads … -2 kept in ``data`` (not fitted)
    #: for the score test that the pre-switch period is flat
    test_columns: tuple[str, ...] = ()

    @property
    def pooled(self) -> bool:
        """Whether the reference is the pooled pre-switch period."""
        return self.reference == POOLED

    @property
    def reference_text(self) -> str:
        """The reference period in words, for notes and legends."""
        if self.pooled:
            return f"the pooled pre-switch period (all e < 0, e ≤ −{self.leads} included)"
        return f"e = {_minus(self.reference)}"

    def terms(self, kind: str = TO_PRC, *, lead: bool | None = None) -> list[str]:
        """Indicator names of one kind; ``lead=True`` only leads, ``False`` only e >= 0."""
        b = self.bins[(self.bins["kind"] == kind) & ~self.bins["reference"]]
        if lead is not None:
            b = b[b["lead"] == lead]
        return list(b["term"])

    @property
    def excluded_text(self) -> str:
        """Excluded countries by name with their row counts, for notes."""
        if self.excluded.empty:
            return "none"
        return "; ".join(
            f"{r.country} ({r.iso3}, left Beijing {'by ' if r.reason == AT_START else ''}"
            f"{r.year}; {r.rows} rows)"
            for r in self.excluded.itertuples()
        )

    @property
    def excluded_rows(self) -> int:
        return int(self.excluded["rows"].sum()) if not self.excluded.empty else 0


def _indicators(
    frame: pd.DataFrame,
    years: Mapping[str, int],
    kind: str,
    leads: int,
    lags: int,
    ref: int | str,
) -> tuple[dict[str, np.ndarray], list[dict[str, Any]], dict[str, np.ndarray]]:
    event = frame[UNIT].map(years).astype(float)
    e = (frame[TIME] - event).to_numpy(dtype=float)  # NaN for countries without the event
    binned = np.clip(e, -leads, lags)
    columns: dict[str, np.ndarray] = {}
    tests: dict[str, np.ndarray] = {}
    rows: list[dict[str, Any]] = []
    for k in range(-leads, lags + 1):
        on = binned == k
        term = event_term(k, PREFIX[kind])
        is_ref = k < 0 if ref == POOLED else k == ref
        if not is_ref:
            columns[term] = on.astype(int)
        elif ref == POOLED and k < -1:
            tests[term] = on.astype(int)
        rows.append(
            {
                "kind": kind,
                "event_time": k,
                "term": None if is_ref else term,
                "label": _bin_label(k, leads, lags),
                "lead": k < 0,
                "reference": is_ref,
                "n_countries": int(frame.loc[on, UNIT].nunique()),
                "n_rows": int(on.sum()),
            }
        )
    return columns, rows, tests


def event_time_dummies(
    panel: Panel | pd.DataFrame,
    *,
    leads: int = 5,
    lags: int = 5,
    reference: int | str = POOLED,
    away: str = "exclude",
) -> EventDummies:
    """Indicators ``ev_m5 … ev_m2, ev_p0 … ev_p5`` around each switch to Beijing in the window.

    Why each choice:

    * Event time e = year - ``prc_switch_year`` (the latest switch to Beijing up to the
      panel's last year), for countries whose switch lies in the panel's window.  Event
      times at or below ``-leads`` share the first bin and those at or above ``lags`` the
      last (binned endpoints), so every row of a switching country is in exactly one bin
      or the reference; without binning, the fixed effects could not separate long-run
      event times from the country and year effects.  The reference has no indicator.
      By default (``reference="pre"``) every pre-switch event time is the reference (no
      lead indicators are fitted): countries recognising Taipei have almost no contact,
      so a single reference year often has none at all and the classic design is not
      identified, while the pooled pre-period usually has some.  ``reference=-1`` (or
      another inner event time) gives the classic design with one reference year (e = -1
      is the last year that ends without recognition of Beijing).  With the pooled
      reference the lead indicators e = -leads … -2 are kept in ``data``
      (``test_columns``) for the score test that the pre-period is flat.
    * Controls have all indicators 0: countries that recognise Beijing throughout the
      window, countries that recognise Taipei throughout, and countries whose switch to
      Beijing predates the window (their pre-switch years are unobserved, so within the
      window they are always-Beijing countries; any slow build-up after an early switch is
      assumed finished by the window's start).
    * Countries that left Beijing inside the window (``switched_to_roc``, judged by the
      31 December status) are a different treatment, a loss of recognition.  With
      ``away="exclude"`` (default) all their rows are dropped, because as controls they
      would contaminate the year effects with their own drop in contact; they are listed
      by name and row count in ``excluded``.  With ``away="separate"`` they stay, with their
      own indicators ``away_m5 … away_p5`` around the (latest) exit year; a country that
      also switched to Beijing inside the window gets both sets, which add up on the log
      scale.  Countries flagged ``switched_to_roc`` whose year-end status never leaves
      Beijing (Vanuatu's Nov-Dec 2004 episode) stay as controls (``reversed_in_year``).
    """
    _check_window(leads, lags, reference, away)
    frame = _as_frame(panel)
    missing = [c for c in (UNIT, TIME, STATUS, SWITCH) if c not in frame.columns]
    if missing:
        raise SpecError(
            f"the panel has no {', '.join(missing)} column(s)",
            column=missing[0],
            fix="build it with cpcstats.country_year(study) (Taiwan recognition covariates)",
        )
    first, last = int(frame[TIME].min()), int(frame[TIME].max())
    switch = pd.to_numeric(frame.groupby(UNIT, sort=True)[SWITCH].max(), errors="coerce")
    in_window = switch[(switch >= first) & (switch <= last)].astype(int)
    pre_window = tuple(sorted(str(i) for i in switch[switch < first].index))
    away_years, reversed_in_year, at_start = _away_years(frame, first)

    excluded_rows: list[dict[str, Any]] = []
    if away == "exclude":
        counts = frame[UNIT].value_counts()
        for iso, year in sorted(away_years.items()):
            excluded_rows.append(
                {
                    UNIT: iso,
                    "country": _name(iso),
                    "rows": int(counts[iso]),
                    "year": int(year),
                    "reason": AT_START if iso in at_start else LEFT_INSIDE,
                }
            )
        frame = frame[~frame[UNIT].isin(list(away_years))].copy()
        in_window = in_window[~in_window.index.isin(list(away_years))]
        away_used: dict[str, int] = {}
    else:
        away_used = dict(away_years)
    pre_window = tuple(i for i in pre_window if i not in away_years)

    switch_years = {str(k): int(v) for k, v in in_window.items()}
    columns, bins, tests = _indicators(frame, switch_years, TO_PRC, leads, lags, reference)
    if away == "separate":
        more, more_bins, more_tests = _indicators(frame, away_used, AWAY, leads, lags, reference)
        columns.update(more)
        tests.update(more_tests)
        bins += more_bins
    clash = [c for c in [*columns, *tests] if c in frame.columns]
    if clash:
        raise SpecError(
            f"the panel already has column(s) {', '.join(clash)}",
            column=clash[0],
            fix="rename them before building event-time indicators",
        )
    data = pd.concat(
        [
            frame.reset_index(drop=True),
            pd.DataFrame({**columns, **tests}, index=range(len(frame))),
        ],
        axis=1,
    )
    data.attrs.update(frame.attrs)
    excluded = pd.DataFrame(excluded_rows, columns=[UNIT, "country", "rows", "year", "reason"])
    return EventDummies(
        data=data,
        columns=tuple(columns),
        bins=pd.DataFrame(bins),
        switch_years=switch_years,
        away_years=away_used,
        excluded=excluded,
        pre_window=pre_window,
        reversed_in_year=tuple(reversed_in_year),
        leads=int(leads),
        lags=int(lags),
        reference=reference if reference == POOLED else int(reference),
        away=away,
        first_year=first,
        last_year=last,
        test_columns=tuple(tests),
    )


# --------------------------------------------------------------------------- estimation
@dataclass
class EventStudyResult:
    """The fitted event study: model, per-bin coefficients and the joint test of the leads.

    ``coefficients`` has one row per event time of each kind, the reference included (0 by
    construction), with ``estimate``, ``std_error``, ``lower``/``upper`` (95 %), ``p_value``,
    ``n_countries``/``n_rows`` (switching countries and rows in that bin in the model's
    sample, before separated rows are dropped) and ``status`` (``estimated``,
    ``reference`` or why it is not estimable).
    ``leads_test`` is the Wald test that all estimable leads of the switch to Beijing are
    0 — or, with the pooled pre-period reference, the robust score test that adding the
    leads changes nothing (a flat pre-period) — None with ``leads_note`` saying why when
    none can be tested.
    """

    model: FitResult
    dummies: EventDummies
    coefficients: pd.DataFrame
    leads_test: WaldTest | ScoreTest | None
    leads_note: str = ""
    away_leads_test: WaldTest | ScoreTest | None = None
    outcome: str = "contacts"
    controls: tuple[str, ...] = ()
    n_switchers_sample: int = 0

    def post(self, kind: str = TO_PRC) -> pd.DataFrame:
        """Rows for e >= 0 of one kind."""
        c = self.coefficients
        return c[(c["kind"] == kind) & (c["event_time"] >= 0)]

    def leads(self, kind: str = TO_PRC) -> pd.DataFrame:
        """Rows for e < 0 of one kind, the reference included."""
        c = self.coefficients
        return c[(c["kind"] == kind) & (c["event_time"] < 0)]

    def to_record(self) -> dict[str, Any]:
        """Plain JSON types: coefficients, tests, sample and the country classification."""
        d = self.dummies
        return {
            "coefficients": [
                {k: _plain(v) for k, v in row.items()}
                for row in self.coefficients.to_dict(orient="records")
            ],
            "leads_test": None if self.leads_test is None else self.leads_test.to_dict(),
            "leads_note": self.leads_note,
            "away_leads_test": (
                None if self.away_leads_test is None else self.away_leads_test.to_dict()
            ),
            "nobs": int(self.model.nobs),
            "n_clusters": self.model.n_clusters,
            "n_countries": int(self.model.design.frame[UNIT].nunique())
            if self.model.design is not None
            else None,
            "switch_years": dict(d.switch_years),
            "n_switchers_window": len(d.switch_years),
            "n_switchers_sample": int(self.n_switchers_sample),
            "away": d.away,
            "away_years": dict(d.away_years),
            "excluded": [
                {k: _plain(v) for k, v in row.items()}
                for row in d.excluded.to_dict(orient="records")
            ],
            "excluded_rows": d.excluded_rows,
            "pre_window_controls": list(d.pre_window),
            "reversed_in_year_controls": list(d.reversed_in_year),
            "leads": d.leads,
            "lags": d.lags,
            "reference": d.reference,
            "outcome": self.outcome,
            "controls": list(self.controls),
            "sample": dict(self.model.sample.dropped) if self.model.sample else {},
            "warnings": list(self.model.warnings),
        }


def _plain(value: Any) -> Any:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if not np.isfinite(value) else float(value)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return value


def _reference_contacts(d: EventDummies, kind: str, outcome: str) -> tuple[float, int]:
    """Outcome total and row count of the event countries in the reference period."""
    years = d.switch_years if kind == TO_PRC else d.away_years
    data = d.data
    e = data[TIME] - data[UNIT].map(years).astype(float)
    rows = e < 0 if d.pooled else e == d.reference
    return float(data.loc[rows, outcome].sum()), int(rows.sum())


def _model_rows(result: FitResult) -> pd.DataFrame:
    """The model's sample before separated rows are dropped (all-zero countries are out).

    Why: counting a separated bin's countries after the separation drop would report 0
    countries for a bin that has switchers but no contact.
    """
    return result.design.frame.reset_index(drop=True)


def _coefficients(
    result: FitResult, d: EventDummies, fitted_terms: Sequence[str]
) -> tuple[pd.DataFrame, int]:
    used = _model_rows(result)
    params, ses, pvals = result.params, result.std_errors, result.pvalues
    rows = []
    for b in d.bins.itertuples():
        term = b.term
        row: dict[str, Any] = {
            "kind": b.kind,
            "event_time": int(b.event_time),
            "label": b.label,
            "term": term,
            "lead": bool(b.lead),
            "estimate": np.nan,
            "std_error": np.nan,
            "lower": np.nan,
            "upper": np.nan,
            "p_value": np.nan,
            "n_countries": 0,
            "n_rows": 0,
        }
        if b.reference:
            years = d.switch_years if b.kind == TO_PRC else d.away_years
            e = (used[TIME] - used[UNIT].map(years).astype(float)).clip(-d.leads, d.lags)
            on = (e == b.event_time).to_numpy()
            row.update(estimate=0.0, status="reference")
        else:
            on = used[term].to_numpy() == 1 if term in used.columns else np.zeros(len(used), bool)
            if term in params.index:
                est, se = float(params[term]), float(ses[term])
                row.update(
                    estimate=est,
                    std_error=se,
                    lower=est - Z95 * se,
                    upper=est + Z95 * se,
                    p_value=float(pvals[term]),
                    status="estimated",
                )
            elif term not in fitted_terms:
                row["status"] = NOT_OBSERVED
            elif any(term in w and "separated" in w for w in result.warnings):
                row["status"] = SEPARATED
            else:
                row["status"] = DROPPED
        row["n_countries"] = int(used.loc[on, UNIT].nunique())
        row["n_rows"] = int(on.sum())
        rows.append(row)
    switchers = used.loc[used[UNIT].isin(list(d.switch_years)), UNIT].nunique()
    return pd.DataFrame(rows), int(switchers)


def _lead_score_test(result: FitResult, d: EventDummies, kind: str) -> tuple[ScoreTest | None, str]:
    """Score test of the lead indicators e = -leads … -2 left out of a pooled-reference fit."""
    prefix = PREFIX[kind] + "_m"
    frame = estimation_sample(result)
    candidates = [t for t in d.test_columns if t.startswith(prefix)]
    terms = [t for t in candidates if t in frame.columns and bool((frame[t] == 1).any())]
    if not terms:
        return None, "no switching country has rows in two distinct pre-switch bins"
    try:
        return score_test(result, terms), ""
    except CpcError as exc:
        return None, exc.problem


def _lead_test(result: FitResult, terms: list[str]) -> tuple[WaldTest | None, str]:
    tested = [t for t in terms if t in result.params.index]
    if not tested:
        return None, "no lead is estimable, so the pre-trend test is not defined"
    try:
        return wald_test(result, tested), ""
    except EstimationError as exc:
        return None, exc.problem


def event_study(
    panel: Panel | pd.DataFrame,
    *,
    leads: int = 5,
    lags: int = 5,
    reference: int | str = POOLED,
    away: str = "exclude",
    outcome: str = "contacts",
    controls: Sequence[str] = (),
    cluster: str = UNIT,
    dummies: EventDummies | None = None,
) -> EventStudyResult:
    """FE-Poisson of contacts on event-time indicators with country and year FE.

    Why: PPML keeps the zeros of a sparse count (most country-years have no contact) and
    is consistent under any distribution of the count given its mean; country FE remove
    each country's level, year FE the common trend (Xi era, reporting), so each
    coefficient is the change in log expected contact at that event time relative to the
    reference year, against the change in control countries.  SEs are clustered by
    country (CR1) because a country's years share shocks.

    Bins with no switching country are left out and reported; bins whose contacts are all
    zero are separated (their coefficient would be -inf) and are omitted by the fit and
    reported.  With ``reference="pre"`` the post-switch coefficients are relative to the
    pooled pre-switch period and the leads are tested by a robust score test (clustered
    like the fit) of adding them, computed at the restricted fit, so it exists even when
    a lead bin has no contact.  When the switching countries have no contact at all in the
    reference period
    every coefficient is +inf (the Poisson MLE does not exist): that raises
    :class:`EstimationError` instead of returning arbitrary numbers.  ``dummies`` reuses
    indicators built by :func:`event_time_dummies` (then ``panel`` and the window options
    are ignored).
    """
    if dummies is None:
        dummies = event_time_dummies(panel, leads=leads, lags=lags, reference=reference, away=away)
    d = dummies
    if outcome not in d.data.columns:
        raise SpecError(f"the panel has no outcome column {outcome!r}", column=outcome)
    if not d.switch_years and not d.away_years:
        raise EstimationError(
            f"no country switches to Beijing within {d.first_year}-{d.last_year}",
            column=SWITCH,
            fix="widen the window or check the recognition table",
        )
    kinds = [TO_PRC] if d.switch_years else []
    kinds += [AWAY] if d.away_years else []
    for kind in kinds:
        total, n = _reference_contacts(d, kind, outcome)
        if total <= 0:
            what = "switch to Beijing" if kind == TO_PRC else "exit from Beijing"
            n_countries = len(d.switch_years if kind == TO_PRC else d.away_years)
            raise EstimationError(
                f"the event study is not identified: the {n_countries} countries with a "
                f"{what} in {d.first_year}-{d.last_year} have no "
                f"{outcome} at all in the reference period, {d.reference_text} ({n} rows), so "
                "every event-time coefficient relative to it is +inf (the Poisson MLE does "
                "not exist)",
                column=outcome,
                fix=(
                    "report the switch as not estimable"
                    if d.pooled
                    else f'use reference="{POOLED}" (the pooled pre-switch period), or report '
                    "the switch as not estimable"
                ),
            )
    # a bin seen only in countries (or years) without any contact is reported, not fitted
    fitted_terms = observed_indicators(d.data, d.columns, outcome, UNIT, TIME)
    controls = tuple(controls)
    formula = f"{outcome} ~ {' + '.join([*fitted_terms, *controls])} | {UNIT} + {TIME}"
    result = fit(formula, d.data, family="fe-poisson", cluster=cluster, name="event_study")
    coefficients, n_switchers = _coefficients(result, d, fitted_terms)
    lead_test: WaldTest | ScoreTest | None
    away_test: WaldTest | ScoreTest | None = None
    if d.pooled:
        lead_test, lead_note = _lead_score_test(result, d, TO_PRC)
        if d.away_years:
            away_test, _ = _lead_score_test(result, d, AWAY)
    else:
        lead_test, lead_note = _lead_test(result, d.terms(TO_PRC, lead=True))
        if d.away_years:
            away_test, _ = _lead_test(result, d.terms(AWAY, lead=True))
    if lead_test is not None and not d.pooled:
        skipped = [t for t in d.terms(TO_PRC, lead=True) if t not in lead_test.terms]
        if skipped:
            lead_note = f"not estimable and not tested: {', '.join(skipped)}"
    return EventStudyResult(
        model=result,
        dummies=d,
        coefficients=coefficients,
        leads_test=lead_test,
        leads_note=lead_note,
        away_leads_test=away_test,
        outcome=outcome,
        controls=controls,
        n_switchers_sample=n_switchers,
    )


# --------------------------------------------------------------------------- run
_KIND_LABEL = {TO_PRC: "Switch to Beijing", AWAY: "Exit from Beijing"}


def _estimate_cell(row: Any, pooled: bool = False) -> Any:
    if row.status == "estimated":
        return float(row.estimate)
    if row.status == "reference":
        return "0 (pooled reference)" if pooled else "0 (reference)"
    if row.status == SEPARATED:
        return "n.e. (all zero)"
    if row.status == NOT_OBSERVED:
        return "n.e. (no switcher)"
    return "n.e. (omitted)"


def _table_frame(es: EventStudyResult) -> pd.DataFrame:
    d = es.dummies
    kinds = list(dict.fromkeys(es.coefficients["kind"]))
    rows: list[tuple[Any, ...]] = []
    for r in es.coefficients.itertuples():
        prefix = f"{_KIND_LABEL[r.kind]}: " if len(kinds) > 1 else ""
        relation = "" if r.label[0] in "≤≥" else "= "
        label = f"{prefix}e {relation}{r.label}"
        ok = r.status == "estimated"
        rows.append(
            (
                label,
                _estimate_cell(r, d.pooled),
                float(r.std_error) if ok else None,
                float(r.lower) if ok else None,
                float(r.upper) if ok else None,
                float(r.p_value) if ok else None,
                int(r.n_countries),
            )
        )

    def stat(label: str, value: Any) -> None:
        rows.append((label, value, None, None, None, None, None))

    tests = [("Leads", es.leads_test)]
    if d.away_years:
        tests.append(("Exit leads", es.away_leads_test))
    kind = "score" if d.pooled else "Wald"
    for name, test in tests:
        if test is None:
            stat(f"{name}: joint {kind} χ² (all = 0)", "not defined")
            continue
        stat(f"{name}: joint {kind} χ² (all = 0)", float(test.statistic))
        stat(f"{name}: df", int(test.df))
        stat(f"{name}: p-value", float(test.p_value))
    stat("N (country-years)", int(es.model.nobs))
    stat("Countries (clusters)", int(es.model.n_clusters or 0))
    stat("Switching countries: in window", len(d.switch_years))
    stat("Switching countries: in sample", int(es.n_switchers_sample))
    if d.away == "exclude":
        stat(
            "Excluded countries (left Beijing)",
            f"{len(d.excluded)} ({d.excluded_rows} rows)" if len(d.excluded) else "none",
        )
    else:
        stat("Countries leaving Beijing (own indicators)", len(d.away_years))
    frame = pd.DataFrame(
        rows, columns=["", "Estimate", "SE", "95% CI lower", "95% CI upper", "p", "Switchers"]
    )
    frame = frame.set_index("").astype(object)
    frame.index.name = ""
    return frame.where(frame.notna(), None)


def _switch_list(years: Mapping[str, int]) -> str:
    ordered = sorted(years.items(), key=lambda kv: (kv[1], _name(kv[0])))
    return ", ".join(f"{_name(iso)} {year}" for iso, year in ordered) or "none"


def _notes(study: Study, es: EventStudyResult) -> list[str]:
    d = es.dummies
    m = es.model
    dropped = m.sample.dropped if m.sample else {}
    zero = sum(v for k, v in dropped.items() if "only zero" in k)
    sep = sum(v for k, v in dropped.items() if "separated" in k)
    pre = ", ".join(_name(i) for i in d.pre_window) or "none"
    notes = [
        sample_note(
            study,
            "country-year",
            int(m.nobs),
            f"Switches to Beijing in the window ({len(d.switch_years)}): "
            f"{_switch_list(d.switch_years)}; {es.n_switchers_sample} of them have at least "
            "one contact and identify the coefficients. Controls: countries recognising "
            "Beijing throughout the window (including those whose switch predates it: "
            f"{pre}) or Taipei throughout. Rows dropped by the model: {zero:,} in countries "
            f"(or years) without any contact, {sep:,} separated.",
        ),
        "Estimator: FE-Poisson (PPML) of contacts on event-time indicators with country and "
        "year fixed effects"
        + (f" and controls {', '.join(es.controls)}" if es.controls else "")
        + "; coefficients on the log scale. Event time e = year − year of the switch to "
        "Beijing; recognition is the status on 31 December, so e = 0 is the first year "
        f"ending with recognition of Beijing. Binning: e ≤ −{d.leads} and e ≥ {d.lags} are "
        "pooled into the endpoint bins; the reference period, "
        f"{d.reference_text}, has no indicator (coefficient 0)"
        + (
            ", so each coefficient compares contact at e with the switchers' average "
            "pre-switch level (a single reference year often has no contact at all)."
            if d.pooled
            else "."
        ),
        "Standard errors clustered by country (CR1); normal 95% intervals. Leads test: "
        + (
            "robust score (Lagrange multiplier) χ² test, clustered by country, that adding "
            f"lead indicators e = −{d.leads} … −2 (relative to e = −1) changes nothing, i.e. "
            "that the pre-switch period is flat; it is computed at the fitted model, so it "
            "exists even when a lead bin has no contact. "
            if d.pooled
            else "joint Wald χ² test that all estimable lead coefficients are zero. "
        )
        + "n.e. = not estimable: "
        "a bin whose contacts are all zero is separated (its coefficient would be −∞) and "
        "omitted. Switchers = switching countries with rows in the bin.",
    ]
    if es.n_switchers_sample < FEW_SWITCHERS:
        notes.append(
            f"Caution: only {es.n_switchers_sample} switching countries identify the "
            "event-time coefficients; clustered standard errors with few treated clusters "
            "understate the uncertainty (MacKinnon and Webb 2017), so the intervals are "
            "likely too narrow."
        )
    if d.away == "exclude":
        away = (
            "Countries that left Beijing inside the window (switched_to_roc, judged by the "
            f"31 December status) are excluded with all their rows: {d.excluded_text}."
            if len(d.excluded)
            else "No country left Beijing inside the window."
        )
    else:
        away = (
            "Countries that left Beijing inside the window keep their rows with their own "
            f"exit indicators (same bins, reference {d.reference_text}): "
            f"{_switch_list(d.away_years)}."
        )
    if d.reversed_in_year:
        away += (
            " Moves away from Beijing reversed within the year (status on 31 December "
            f"unchanged) are controls: {', '.join(_name(i) for i in d.reversed_in_year)}."
        )
    notes.append(away)
    if es.leads_note:
        notes.append(f"Leads test: {es.leads_note}.")
    planted = planted_effect(study, STATUS)
    if planted is not None:
        notes.append(
            f"Planted effect of recognising Beijing in the simulation (log scale): {planted:g}, "
            "a jump at e = 0 with no pre-trend."
        )
    notes.extend(f"Warning: {w}" for w in m.warnings)
    return notes


def plot_event_study(
    es: EventStudyResult, *, stem: Path, simulated: bool, planted: float | None = None
) -> list[Path]:
    """Coefficients by event time with 95 % CIs, zero line, reference marked, bins labelled."""
    d = es.dummies
    c = es.coefficients
    series = [(TO_PRC, "tab:blue", "o", 0.0), (AWAY, "tab:orange", "s", 0.18)]
    with style():
        fig = new_figure(7.0, 4.2)
        ax = fig.add_subplot()
        ax.axhline(0.0, color="0.3", linewidth=1.0, zorder=1)
        ax.axvline(-0.5, color="0.6", linestyle=":", linewidth=1.0, zorder=1)
        for kind, colour, marker, shift in series:
            rows = c[(c["kind"] == kind) & (c["status"] == "estimated")]
            if rows.empty:
                continue
            ax.errorbar(
                rows["event_time"].to_numpy(dtype=float) + shift,
                rows["estimate"].to_numpy(dtype=float),
                yerr=Z95 * rows["std_error"].to_numpy(dtype=float),
                fmt=marker,
                color=colour,
                capsize=2.5,
                markersize=4.5,
                elinewidth=1.2,
                label=_KIND_LABEL[kind] if d.away_years else "Estimate (95% CI)",
            )
            missing = c[(c["kind"] == kind) & c["status"].str.startswith("not estimable")]
            for e in missing["event_time"]:
                ax.annotate(
                    "n.e.",
                    (float(e) + shift, 0.0),
                    xytext=(0, -12 if kind == TO_PRC else -22),
                    textcoords="offset points",
                    ha="center",
                    fontsize=7,
                    color=colour,
                )
        reference = list(range(-d.leads, 0)) if d.pooled else [d.reference]
        test = es.leads_test
        ax.plot(
            reference,
            [0.0] * len(reference),
            marker="D",
            color="0.25",
            markerfacecolor="white",
            linestyle="none",
            label=(
                "Pooled reference (all e < 0)"
                if d.pooled
                else f"Reference period (e = {_minus(d.reference)})"
            )
            + ("" if test is None else f"; leads test p = {test.p_value:.2f}"),
        )
        if planted is not None:
            ax.axhline(
                planted,
                color="tab:red",
                linestyle="--",
                linewidth=1.0,
                label=f"Planted effect ({planted:g}, simulated)",
            )
            if d.away_years:
                ax.axhline(
                    -planted,
                    color="tab:orange",
                    linestyle="--",
                    linewidth=1.0,
                    label=f"Planted exit effect ({_minus(f'{-planted:g}')}, simulated)",
                )
        ticks = list(range(-d.leads, d.lags + 1))
        ax.set_xticks(ticks, [_bin_label(k, d.leads, d.lags) for k in ticks])
        ax.set_xlim(-d.leads - 0.6, d.lags + 0.6)
        what = "switch" if d.away_years else "switch to Beijing"
        ax.set_xlabel(f"Years since the {what} (e = year − switch year; ends binned)")
        ax.set_ylabel("Effect on log expected contacts (95% CI)")
        ax.legend(frameon=True, framealpha=0.85, fontsize=8, loc="best")
        if simulated:
            mark_simulated(fig)
        fig.tight_layout(rect=(0, 0.04 if simulated else 0, 1, 1))
        return save_figure(fig, stem)


def _reference_option(value: Any) -> int | str:
    return POOLED if value == POOLED else int(value)


def run(study: Study, panels: Any, out: str | Path, **params: Any) -> DesignOutput:
    """Fit the Taiwan-switch event study; write table and figure ``design_taiwan``.

    ``panels`` is the replication's ``{level: Panel}`` mapping (the country-year panel is
    built when absent); ``params`` may set ``leads``, ``lags``, ``reference``, ``away``,
    ``outcome``, ``controls`` and ``cluster``.  Skipped, with the reason, when no switch to
    Beijing falls in the window or the switches cannot identify the coefficients.
    """
    out = Path(out)
    panel = country_year_panel(study, panels)
    options = {
        "leads": int(params.get("leads", 5)),
        "lags": int(params.get("lags", 5)),
        "reference": _reference_option(params.get("reference", POOLED)),
        "away": str(params.get("away", "exclude")),
    }
    try:
        dummies = event_time_dummies(panel, **options)
    except SpecError as exc:
        return DesignOutput(NAME, TITLE, skipped=f"cannot build event-time indicators: {exc}")
    if not dummies.switch_years:
        where = f"{dummies.first_year}-{dummies.last_year}"
        extra = (
            f" (excluded as switching away: {dummies.excluded_text})"
            if len(dummies.excluded)
            else ""
        )
        return DesignOutput(
            NAME, TITLE, skipped=f"no switch to Beijing falls in the window {where}{extra}"
        )
    try:
        es = event_study(
            panel,
            dummies=dummies,
            outcome=str(params.get("outcome", "contacts")),
            controls=tuple(params.get("controls", ())),
            cluster=str(params.get("cluster", UNIT)),
        )
    except CpcError as exc:
        return DesignOutput(NAME, TITLE, skipped=f"event study not estimable: {exc}")
    table = stats_table(
        _table_frame(es),
        title=TITLE,
        label=f"tab:{NAME}",
        notes=_notes(study, es),
        digits={"Switchers": 0},
        simulated=study.simulated,
    )
    files = write_table(table, out, NAME)
    planted = planted_effect(study, STATUS)
    files += plot_event_study(
        es, stem=out / "figures" / NAME, simulated=study.simulated, planted=planted
    )
    record = {
        "simulated": bool(study.simulated),
        "planted_log_effect": planted,
        "estimator": "fe-poisson with country and year fixed effects",
        "se": "clustered by country (CR1)",
        **es.to_record(),
    }
    return DesignOutput(NAME, TITLE, files=files, models=[es.model], record=record)
