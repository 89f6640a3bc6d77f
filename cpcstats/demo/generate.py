"""Generator of the embedded demo study: simulated contacts on the real party universe.

Why it exists: the study's own ID-CPC data cannot be shipped, yet users need a
complete, realistic study to learn the package on, and tests need data whose
true parameters are known.  Everything but the contacts is real
(`cpcstats.demo.universe`: the V-Party / Party Facts parties of the real countries,
their years, left-right positions and government status from the DPI and V-Party,
Freedom House and V-Dem regimes, real Taiwan recognition and BRI signing).  The
contact process (``parameters.toml``) is:

1. Party-year contacts ~ NB2 with mean exp(x'b + u_party + v_country + gamma_year):
   ruling x regime, left roots, left-right, Xi era, persistent gamma party and
   log-normal country effects (mean one) that yield the strong concentration of the real data,
   common year shocks gamma_t, BRI effects that differ by signing cohort and event
   time, and a recognition-of-Beijing effect that grows after a switch, with only the
   part of the switch year after the switch date treated (``effects.py``).
2. Country-year contacts with non-party actors share the country-level terms: the
   same country effect v_country (drawn for every country, with parties or not), year
   shock, Xi era, BRI and recognition effects.
3. Each count becomes dated events (inbound/outbound, news-item ids); in a switch
   year a contact falls after the switch date with the probability implied by the
   treated share of the year's mean.

Run ``python -m cpcstats.demo.generate`` to rewrite ``data/contacts.csv`` and
``data/truth.json``; the output is byte-identical for the same parameters, universe
and package versions (a test checks).
"""

from __future__ import annotations

import json
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cpcstats.countries import country_name
from cpcstats.demo import effects, universe
from cpcstats.io import write_atomic
from cpcstats.reference import bri_years, load_reference, recognition_years

HERE = Path(str(resources.files("cpcstats.demo")))


def load_parameters(path: Path | None = None) -> dict[str, Any]:
    return tomllib.loads((path or HERE / "parameters.toml").read_text(encoding="utf-8"))


def _nb2(rng: np.random.Generator, mu: np.ndarray, alpha: float) -> np.ndarray:
    """NB2 draws as a gamma-Poisson mixture: Var = mu + alpha mu^2."""
    shape = 1.0 / alpha
    return rng.poisson(rng.gamma(shape, mu / shape))


def _dates(
    rng: np.random.Generator, years: np.ndarray, start: np.ndarray, after: np.ndarray
) -> np.ndarray:
    """A uniform date in each year: with probability ``after`` on or after ``start`` (day of
    year, 0-based), otherwise before it (``start = 0`` means anywhere in the year)."""
    lengths = np.where(
        pd.to_datetime(pd.DataFrame({"year": years, "month": 12, "day": 31})).dt.is_leap_year,
        366,
        365,
    )
    late = rng.random(len(years)) < after
    lo = np.where(late, start, 0)
    hi = np.where(late, lengths, start)
    day = lo + np.floor(rng.random(len(years)) * (hi - lo)).astype(int)
    return (
        (pd.to_datetime(years.astype(str), format="%Y") + pd.to_timedelta(day, unit="D"))
        .strftime("%Y-%m-%d")
        .to_numpy()
    )


def generate(parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    """Simulate the demo study; return its tables, the true parameters and the process.

    The steps draw from one random stream in a fixed order (regimes, parties,
    party-year contacts, country-year contacts, events), the year shocks and texts from
    their own streams, so the same parameters give the same files byte for byte.
    """
    params = parameters or load_parameters()
    win = params["window"]
    rng = np.random.default_rng(win["seed"])
    years = np.arange(win["first_year"], win["last_year"] + 1)
    real = universe.load()
    covariates = real.country_covariates.rename(columns={"country": "iso3"})
    covariates = covariates[covariates["year"].between(int(years[0]), int(years[-1]))]
    parties, status = real.parties, real.party_status
    frame = covariates[["iso3", "year"]]

    facts = (
        covariates[["iso3", "year", "fh_status"]]
        .merge(bri_years(load_reference("bri"), frame), on=["iso3", "year"])
        .merge(recognition_years(load_reference("taiwan"), frame), on=["iso3", "year"])
    )
    facts["xi_era"] = (facts["year"] >= win["break_year"]).astype(int)
    facts = _country_terms(rng, facts, years, params)
    py, country_effect = _party_year_contacts(rng, parties, status, facts, params["party_contacts"])
    cy = _country_year_contacts(
        rng, facts, country_effect, params["nonparty_contacts"], params["party_contacts"]
    )
    contacts = _events(rng, py, cy, params)
    return {
        "contacts": contacts,
        "parties": parties,
        "party_status": status,
        "country_covariates": real.country_covariates,
        "truth": effects.truth(params, py, cy, facts),
        # not written: the process behind the counts (means, effects), for tests and the
        # Monte Carlo, which build panels from it without expanding events
        "process": {"party_years": py, "country_years": cy},
    }


def _country_terms(
    rng: np.random.Generator, facts: pd.DataFrame, years: np.ndarray, params: dict[str, Any]
) -> pd.DataFrame:
    """Add the country-year terms shared by party and non-party contacts: the year shock,
    the BRI log effect and the recognition multiplier with its switch-year timing.
    ``rng`` is unused: the shocks come from their own stream."""
    h, b = params["heterogeneity"], params["party_contacts"]
    # own stream ([seed, 2]): adding the shocks leaves the other draws of a seed unchanged
    shock_rng = np.random.default_rng([params["window"]["seed"], 2])
    shocks = effects.year_shocks(shock_rng, years, h["year_shock_sd"])
    facts = facts.sort_values(["iso3", "year"]).reset_index(drop=True)
    facts["year_shock"] = shocks.reindex(facts["year"]).to_numpy()
    facts["bri_log_effect"] = effects.bri_log_effect(facts, b["bri_member"], h)
    facts["bri_lead_term"] = effects.bri_pretrend(facts, h.get("bri_pretrend", 0.0))
    terms = effects.taiwan_terms(facts, load_reference("taiwan"), b["recognizes_prc"], h)
    return pd.concat([facts, terms.drop(columns=["iso3", "year"])], axis=1)


def _shared_terms(frame: pd.DataFrame, b: dict[str, Any]) -> np.ndarray:
    """Log-mean terms every contact of a country-year shares (Xi era, year shock, BRI and
    its pre-trend, recognition of Beijing)."""
    return (
        b["xi_era"] * frame["xi_era"].to_numpy()
        + frame["year_shock"].to_numpy()
        + frame["bri_log_effect"].to_numpy()
        + frame["bri_lead_term"].to_numpy()
        + np.log(frame["tw_multiplier"].to_numpy())
    )


def _party_year_contacts(
    rng: np.random.Generator,
    parties: pd.DataFrame,
    status: pd.DataFrame,
    facts: pd.DataFrame,
    b: dict[str, Any],
) -> tuple[pd.DataFrame, pd.Series]:
    """Party-years with their process mean (``mu``) and NB2 contact count (``count``)
    from ``[party_contacts]``; also the drawn country effects (shared with non-party
    contacts)."""
    py = status.merge(
        parties[["party_id", "country", "left_roots", "lr_position"]], on="party_id"
    ).rename(columns={"country": "iso3"})
    py = py.merge(facts, on=["iso3", "year"], how="inner", validate="m:1")
    py = py.sort_values(["party_id", "year"]).reset_index(drop=True)
    ruling = py["status"].isin(["senior", "junior"]).astype(int).to_numpy()
    pf = (py["fh_status"] == "PF").astype(int).to_numpy()
    nf = (py["fh_status"] == "NF").astype(int).to_numpy()
    shape, csd = b["party_shape"], b["country_sd"]
    # gamma party effects with mean one: most parties are rarely met, the tail is light
    draws = np.log(rng.gamma(shape, 1.0 / shape, size=len(parties)))
    effect = pd.Series(draws, index=parties["party_id"].to_numpy())
    # every country of the window, with parties or not: non-party contacts share it
    all_countries = np.sort(facts["iso3"].unique())
    country_effect = pd.Series(
        rng.normal(-(csd**2) / 2, csd, size=len(all_countries)), index=all_countries
    )
    eta = (
        b["intercept"]
        + b["ruling"] * ruling
        + b["fh_PF"] * pf
        + b["fh_NF"] * nf
        + b["ruling_x_PF"] * ruling * pf
        + b["ruling_x_NF"] * ruling * nf
        + b["left_roots"] * py["left_roots"].to_numpy()
        + b["lr_position"] * py["lr_position"].to_numpy()
        + _shared_terms(py, b)
        + effect.reindex(py["party_id"]).to_numpy()
        + country_effect.reindex(py["iso3"]).to_numpy()
    )
    py["country_effect"] = country_effect.reindex(py["iso3"]).to_numpy()
    py["mu"] = np.exp(eta)
    py["count"] = _nb2(rng, py["mu"].to_numpy(), b["alpha"])
    return py, country_effect


def _country_year_contacts(
    rng: np.random.Generator,
    facts: pd.DataFrame,
    country_effect: pd.Series,
    c: dict[str, Any],
    b: dict[str, Any],
) -> pd.DataFrame:
    """Country-years with their mean (``mu``) and count of contacts with non-party actors
    (``[nonparty_contacts]``).

    They share the country-level terms of the party-year contacts: the same drawn
    country effect v_c, the year shock, and the Xi-era, BRI and recognition effects of
    ``b`` -- the same country-level drivers act on both kinds of contact, so a
    country-year panel's total is one country's contacts, not two unrelated processes.
    """
    cy = facts.sort_values(["iso3", "year"]).reset_index(drop=True)
    eta_c = (
        c["intercept"]
        + c["fh_PF"] * (cy["fh_status"] == "PF").to_numpy()
        + c["fh_NF"] * (cy["fh_status"] == "NF").to_numpy()
        + _shared_terms(cy, b)
        + country_effect.reindex(cy["iso3"]).to_numpy()
    )
    cy["country_effect"] = country_effect.reindex(cy["iso3"]).to_numpy()
    cy["mu"] = np.exp(eta_c)
    cy["count"] = _nb2(rng, cy["mu"].to_numpy(), c["alpha"])
    return cy


def _events(
    rng: np.random.Generator, py: pd.DataFrame, cy: pd.DataFrame, params: dict
) -> pd.DataFrame:
    """Expand counts into dated contact events with directions and news-item ids."""
    e = params["events"]
    timing = ["tw_start", "tw_after"]
    party = py.loc[py.index.repeat(py["count"]), ["iso3", "year", "party_id", *timing]]
    party["counterpart_type"] = "party"
    other = cy.loc[cy.index.repeat(cy["count"]), ["iso3", "year", *timing]]
    other["counterpart_type"] = np.where(
        rng.random(len(other)) < params["nonparty_contacts"]["state_share"], "state", "other"
    )
    events = pd.concat([party, other], ignore_index=True)
    # In the year of a switch to Beijing, a contact falls after the switch date with the
    # treated share of that year's mean (effects.taiwan_terms), otherwise before it.
    events["date"] = _dates(
        rng,
        events["year"].to_numpy(),
        events["tw_start"].to_numpy(),
        events["tw_after"].to_numpy(),
    )
    events["direction"] = np.where(
        rng.random(len(events)) < e["inbound_share"], "inbound", "outbound"
    )
    events = events.sort_values(
        ["date", "iso3", "counterpart_type", "party_id"], kind="stable", na_position="first"
    ).reset_index(drop=True)
    # news items: one per contact, but outbound party contacts in the same country-year are
    # sometimes reported together in one item (one contact per party, as the study counts).
    item = np.arange(len(events))
    outbound_party = (
        (events["direction"] == "outbound") & (events["counterpart_type"] == "party")
    ).to_numpy()
    shared = outbound_party & (rng.random(len(events)) < e["shared_news_item_share"])
    keys = events["iso3"] + events["year"].astype(str)
    first_item: dict[str, int] = {}
    for i in np.flatnonzero(shared):
        item[i] = first_item.setdefault(keys[i], int(item[i]))
    _, item = np.unique(item, return_inverse=True)
    events["source_id"] = [f"N{k + 1:05d}" for k in item]
    events = events.rename(columns={"iso3": "country"})
    if "texts" in params:
        events["text"] = _texts(events, params)
    columns = ["date", "country", "counterpart_type", "party_id", "direction", "source_id"]
    return events[[*columns, *(["text"] if "text" in events.columns else [])]]


_PHRASES = {
    "one_china": "The guests reaffirmed their adherence to the one-China policy.",
    "belt_and_road": "Both sides agreed to deepen cooperation under the Belt and Road Initiative.",
    "learning": "The visitors said they wish to learn from the CPC's experience of governance.",
    "peaceful_development": "The delegation praised China's peaceful development.",
    "harmonious_world": "Both sides support building a harmonious world.",
    "chinese_dream": "The hosts briefed the guests on the Chinese Dream.",
    "shared_future": "Both sides support a community with a shared future for mankind.",
}


def _texts(events: pd.DataFrame, params: dict) -> np.ndarray:
    """A short English text per news item (shared by its contacts) with topic phrases drawn
    by year from ``[texts]`` (planted yearly probabilities), from their own random stream."""
    rng = np.random.default_rng(params["window"]["seed"] + 1)
    items = events.drop_duplicates("source_id").reset_index(drop=True)
    year = items["date"].str[:4].astype(int).to_numpy()
    names = {iso: country_name(iso) for iso in items["country"].unique()}
    who = np.where(items["counterpart_type"] == "party", "a party delegation", "officials")
    body = [
        f"The ID-CPC received {w} from {names[c]} in Beijing."
        if d == "inbound"
        else f"An ID-CPC delegation visited {names[c]} and met {w.replace(' delegation', '')}."
        for d, c, w in zip(items["direction"], items["country"], who, strict=True)
    ]
    text = np.array(body, dtype=object)
    for topic, windows in params["texts"].items():
        prob = np.zeros(len(items))
        for first, last, p in windows:
            prob[(year >= first) & (year <= last)] = p
        hit = rng.random(len(items)) < prob
        text[hit] = text[hit] + " " + _PHRASES[topic]
    by_item = pd.Series(text, index=items["source_id"].to_numpy())
    return by_item.reindex(events["source_id"].to_numpy()).to_numpy()


def write(tables: dict[str, Any], folder: Path | None = None) -> list[Path]:
    """Write the simulated contacts as CSV and the truth as JSON, atomically (the real
    universe tables beside them are written by `cpcstats.demo.universe`)."""
    folder = folder or HERE / "data"
    paths = []
    for name in ("contacts",):
        frame: pd.DataFrame = tables[name]
        paths.append(
            write_atomic(folder / f"{name}.csv", frame.to_csv(index=False, lineterminator="\n"))
        )
    paths.append(
        write_atomic(
            folder / "truth.json", json.dumps(tables["truth"], indent=2, sort_keys=True) + "\n"
        )
    )
    return paths


def main() -> None:
    for path in write(generate()):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
