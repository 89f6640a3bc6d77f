"""The time-varying and heterogeneous parts of the demo process, and the truth they imply.

Why a module of its own: the designs (Xi-era break, BRI staggered adoption, Taiwan
switches) must be tested on data that break their convenient assumptions, so the demo
process contains what a referee would raise -- common year shocks, BRI effects that
differ by signing cohort and event time, post-switch effects that grow with event time,
and the year-end timing of late-year switches -- and the true effects a design should
recover are then no longer single coefficients but aggregates over the treated rows.
This module draws the shocks, builds the per-row log effects and multipliers
(``[heterogeneity]`` in ``parameters.toml``) and computes those aggregates from the
process means (expected values given the drawn party, country and year effects, not the
drawn counts).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


def year_shocks(rng: np.random.Generator, years: np.ndarray, sd: float) -> pd.Series:
    """gamma_t ~ N(0, sd^2) on the log scale, one per calendar year, shared by every
    party-year and country-year of that year (what year fixed effects absorb and
    unit-clustered standard errors ignore)."""
    return pd.Series(rng.normal(0.0, sd, size=len(years)), index=years.astype(int))


def _ramp(e: np.ndarray, ramp: list[float]) -> np.ndarray:
    """Share of the full effect at event time ``e`` (``ramp[e]``, 1 from ``len(ramp)`` on)."""
    table = np.asarray([*ramp, 1.0])
    return table[np.clip(e, 0, len(ramp))]


def _bri_profile(facts: pd.DataFrame, h: dict[str, Any]) -> np.ndarray:
    """Relative BRI effect of each row before scaling: cohort multiplier times event ramp."""
    g = facts["bri_signing_year"].fillna(0).astype(int).to_numpy()
    group = np.searchsorted(np.asarray(h["bri_cohort_first"]), g, side="right") - 1
    cohort = np.asarray(h["bri_cohort_relative"], dtype=float)[np.clip(group, 0, None)]
    e = (facts["year"].to_numpy() - g).clip(0)
    member = facts["bri_member"].to_numpy() == 1
    return np.where(member, cohort * _ramp(e, h["bri_event_ramp"]), 0.0)


def bri_log_effect(facts: pd.DataFrame, mean_effect: float, h: dict[str, Any]) -> np.ndarray:
    """Log BRI effect per country-year: ``scale * cohort_relative[g] * ramp[e]`` on member
    rows, with ``scale`` set so that the plain mean over the window's member country-years
    is ``mean_effect`` (``party_contacts.bri_member``) -- the treated rows are fixed by the
    reference list, so the mean is exact, not a draw."""
    profile = _bri_profile(facts, h)
    member = facts["bri_member"].to_numpy() == 1
    return profile * (mean_effect / profile[member].mean()) if member.any() else profile


def bri_pretrend(facts: pd.DataFrame, slope: float) -> np.ndarray:
    """Log term ``slope * e`` on the rows before signing (``e = year - signing year < 0``)
    of countries that sign inside the window, 0 elsewhere: a differential pre-trend that
    stops at signing.  0 in the shipped process; the Monte Carlo plants 0.04 a year to
    measure the power of the lead tests."""
    g = facts["bri_signing_year"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    e = facts["year"].to_numpy() - g
    lead = (e < 0) & (g <= facts["year"].max())
    return np.where(lead, slope * np.nan_to_num(e), 0.0)


def taiwan_switches(taiwan: pd.DataFrame) -> pd.DataFrame:
    """Switches to Beijing (rows ``to == PRC`` of kind ``switch``) with their year, the
    0-based day of year of the switch (``start``) and the share of the year on or after it
    (``share``).  Contested rows (Vanuatu 2004, reversed within the year) are not switches."""
    s = taiwan[(taiwan["to"] == "PRC") & (taiwan["kind"] == "switch")].copy()
    s["year"] = s["date"].dt.year
    s["start"] = s["date"].dt.day_of_year - 1
    length = np.where(s["date"].dt.is_leap_year, 366, 365)
    s["share"] = (length - s["start"]) / length
    return s.sort_values(["iso3", "date"])[["iso3", "year", "start", "share"]]


def taiwan_terms(
    facts: pd.DataFrame, taiwan: pd.DataFrame, level: float, h: dict[str, Any]
) -> pd.DataFrame:
    """Per country-year: the multiplier of the mean from recognising Beijing and the
    switch-year timing.

    ``recognizes_prc`` is the year-end status.  A row recognising Beijing whose latest
    switch to Beijing on or before its year was at event time ``e`` gets the log effect
    ``level * taiwan_event_ramp[e]`` (the full ``level`` from ``len(ramp)`` years on, and
    for countries with no such switch: always-recognisers keep the level difference).
    In the switch year only the share ``f`` of the year after the switch is treated:
    ``mu = mu0 * (1 - f + f * exp(delta_0))``; ``after`` is the probability that a contact
    of that year falls after the switch date (the events are dated accordingly).
    ``tw_event_time`` is ``e`` on treated rows of switches inside the window, else -1.
    """
    out = facts[["iso3", "year"]].copy()
    n = len(out)
    switch_year, start, share = np.full(n, np.nan), np.zeros(n), np.ones(n)
    for iso3, sw in taiwan_switches(taiwan).groupby("iso3"):
        rows = np.flatnonzero(out["iso3"].to_numpy() == iso3)
        k = np.searchsorted(sw["year"].to_numpy(), out["year"].to_numpy()[rows], side="right") - 1
        ok = k >= 0
        switch_year[rows[ok]] = sw["year"].to_numpy()[k[ok]]
        start[rows[ok]] = sw["start"].to_numpy()[k[ok]]
        share[rows[ok]] = sw["share"].to_numpy()[k[ok]]
    latest = pd.DataFrame({"switch_year": switch_year, "start": start, "share": share})
    e = (out["year"] - latest["switch_year"]).to_numpy()
    has_switch = ~np.isnan(e)
    e_int = np.where(has_switch, e, 99).astype(int)
    delta = level * np.where(has_switch, _ramp(e_int, h["taiwan_event_ramp"]), 1.0)
    share = np.where(e_int == 0, latest["share"].to_numpy(), 1.0)
    share = np.nan_to_num(share, nan=1.0)
    treated = facts["recognizes_prc"].to_numpy() == 1
    after_mass = share * np.exp(delta)
    multiplier = np.where(treated, 1.0 - share + after_mass, 1.0)
    in_window = latest["switch_year"].to_numpy() >= out["year"].min()
    out["tw_event_time"] = np.where(has_switch & treated & in_window, e_int, -1)
    out["tw_multiplier"] = multiplier
    out["tw_start"] = np.where(treated & (e_int == 0), latest["start"].fillna(0), 0).astype(int)
    out["tw_after"] = np.where(treated & (e_int == 0), after_mass / multiplier, 1.0)
    return out


def _att(frame: pd.DataFrame, by: str | None) -> dict[str, float] | float:
    """log(sum mu1 / sum mu0) over ``frame``'s rows, overall or by a column."""
    if by is None:
        return float(np.log(frame["mu1"].sum() / frame["mu0"].sum()))
    sums = frame.groupby(by)[["mu1", "mu0"]].sum()
    return {str(int(k)): float(np.log(r.mu1 / r.mu0)) for k, r in sums.iterrows()}


def _bri_block(rows: pd.DataFrame) -> dict[str, Any]:
    """BRI truth for one panel level: rows are the member rows with mu1, mu0."""
    rows = rows.assign(
        cohort=rows["bri_signing_year"].astype(int),
        event_time=rows["year"] - rows["bri_signing_year"].astype(int),
    )
    return {
        "att_log": _att(rows, None),
        "att_count_ratio": float(np.exp(_att(rows, None))),
        "by_cohort": _att(rows, "cohort"),
        "by_event_time": _att(rows, "event_time"),
        "by_year": _att(rows, "year"),
        "mean_log_effect": float(rows["bri_log_effect"].mean()),
        "rows": len(rows),
    }


def _taiwan_block(rows: pd.DataFrame) -> dict[str, Any]:
    """Taiwan truth for one panel level: switchers' post-switch rows with mu1, mu0."""
    return {
        "post_att_log": _att(rows, None),
        "by_event_time": _att(rows, "tw_event_time"),
        "rows": len(rows),
        "switchers": int(rows["iso3"].nunique()),
    }


def true_effects(py: pd.DataFrame, cy: pd.DataFrame) -> dict[str, Any]:
    """The true ATTs of the shipped draw, from its process means.

    ``py`` (party-years) and ``cy`` (country-years) carry ``mu`` (the expected count given
    the drawn party, country and year effects), ``bri_log_effect`` and ``tw_multiplier``.
    Country-year means are the sum of the country's party-year means and its non-party
    mean (the country-year panel's ``contacts`` counts both).  BRI: ``mu0 = mu /
    exp(bri_log_effect)`` on member rows.  Taiwan: ``mu0 = mu / tw_multiplier`` on the
    rows of countries that switched to Beijing in the window, at event time ``e >= 0``
    while they recognise Beijing (the year of the switch is ``e = 0``).
    """
    party_mu = py.groupby(["iso3", "year"])["mu"].sum()
    cyt = cy.set_index(["iso3", "year"])
    cyt = cyt.assign(mu=cyt["mu"] + party_mu.reindex(cyt.index, fill_value=0.0)).reset_index()
    out: dict[str, Any] = {"bri": {}, "taiwan": {}}
    for name, frame in (("country_year", cyt), ("party_year", py)):
        member = frame[frame["bri_member"] == 1]
        member = member.assign(
            mu1=member["mu"], mu0=member["mu"] / np.exp(member["bri_log_effect"])
        )
        out["bri"][name] = _bri_block(member)
        post = frame[frame["tw_event_time"] >= 0]
        post = post.assign(mu1=post["mu"], mu0=post["mu"] / post["tw_multiplier"])
        out["taiwan"][name] = _taiwan_block(post)
    return out


TRUTH_DESCRIPTION = (
    "True parameters of the demo study's generating process (cpcstats/demo/parameters.toml); "
    "coefficients on the log scale. party_year_effects: the constant coefficients; "
    "bri_member is the plain mean of the heterogeneous BRI log effect over the window's "
    "member country-years and recognizes_prc the level for countries that recognise Beijing "
    "without a switch in the window (switchers reach it after len(taiwan_event_ramp) years). "
    "year_shocks: the drawn common shocks gamma_t (log scale), in every party-year and "
    "country-year of year t. true_effects: computed from the process means mu (expected "
    "counts given the drawn party, country and year effects, not the drawn counts) of the "
    "shipped rows; an ATT is log(sum mu1 / sum mu0) over the treated rows, mu1 the mean with "
    "the effect and mu0 without it (everything else unchanged). bri: member rows "
    "(country-year: party plus non-party contacts, the panel's 'contacts'; party-year: party "
    "contacts), overall, by cohort (signing year), by event time (year - signing year) and "
    "by calendar year. taiwan: rows of countries that switched to Beijing inside the window, "
    "at event time e = year - switch year >= 0 while they recognise Beijing; e = 0 counts "
    "only the share of the year after the switch date as treated; post_att_log pools all "
    "those rows. xi_era_with_shocks: xi_era plus the mean year shock of 2013-2023 minus "
    "that of 2002-2012, the step a model without year effects recovers in this draw."
)


def truth(
    params: dict[str, Any], py: pd.DataFrame, cy: pd.DataFrame, facts: pd.DataFrame
) -> dict[str, Any]:
    """truth.json: the parameters, the coefficients a model of the demo should recover and
    the true aggregate effects of the shipped draw (``effects.true_effects``)."""
    b = params["party_contacts"]
    shocks = facts.groupby("year")["year_shock"].first()
    post = shocks.index >= params["window"]["break_year"]
    return {
        "simulated": True,
        "description": TRUTH_DESCRIPTION,
        "parameters": params,
        "year_shocks": {str(int(k)): round(float(v), 6) for k, v in shocks.items()},
        "xi_era_with_shocks": round(
            b["xi_era"] + float(shocks[post].mean() - shocks[~post].mean()), 6
        ),
        "true_effects": _rounded(true_effects(py, cy)),
        "party_year_effects": {
            "ruling": b["ruling"],
            "C(fh_status)[T.PF]": b["fh_PF"],
            "C(fh_status)[T.NF]": b["fh_NF"],
            "ruling:C(fh_status)[T.PF]": b["ruling_x_PF"],
            "ruling:C(fh_status)[T.NF]": b["ruling_x_NF"],
            "left_roots": b["left_roots"],
            "lr_position": b["lr_position"],
            "xi_era": b["xi_era"],
            "bri_member": b["bri_member"],
            "recognizes_prc": b["recognizes_prc"],
        },
        "country_year_effects": {
            "xi_era": b["xi_era"],
            "bri_member": b["bri_member"],
            "recognizes_prc": b["recognizes_prc"],
        },
        "party_alpha_conditional": b["alpha"],
        "party_effect_gamma_shape": b["party_shape"],
        "country_effect_sd": b["country_sd"],
    }


def _rounded(value: Any) -> Any:
    """Floats to 6 decimals, recursively: the truth file stays readable and stable."""
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, float):
        return round(value, 6)
    return value
