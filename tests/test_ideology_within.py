"""Design 5's FE Poisson compares parties of the same country and year (known truth).

A simulated party-year panel in which each country-year has a common shock that moves
with the share of left-roots parties active that year (parties enter and leave).  The
additive ``iso3 + year`` Poisson then credits the shock to left roots; the
country x year Poisson does not.  Truth: log IRR of left roots 0.5, lr_position 0.1,
ruling 0.4.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cpcstats
from cpcstats.designs import ideology
from cpcstats.errors import SpecError
from cpcstats.panels import Panel

TRUTH = {"left_roots": 0.5, "lr_position": 0.1, "ruling": 0.4}
SPECS = {s.name: s for s in cpcstats.load_specs(Path("models/designs.toml"))}


def _country(rng: np.random.Generator, c: int, years: int, parties: int) -> list[dict]:
    """One country's party-years: entry/exit, one ruling party a year, a shared shock."""
    level = rng.normal(0, 0.5)
    left = rng.random(parties) < 0.4
    lr = rng.normal(0, 1, parties)
    start = rng.integers(0, years, parties)
    end = np.minimum(years, start + rng.integers(4, years + 1, parties))
    start[:2], end[:2] = 0, years  # two parties active throughout
    rows = []
    for t in range(years):
        active = np.flatnonzero((start <= t) & (t < end))
        shock = 1.5 * (left[active].mean() - 0.4) + rng.normal(0, 0.3)
        ruler = rng.choice(active)
        for p in active:
            eta = (
                -0.3
                + level
                + 0.03 * t
                + TRUTH["left_roots"] * left[p]
                + TRUTH["lr_position"] * lr[p]
                + TRUTH["ruling"] * (p == ruler)
                + shock
            )
            rows.append(
                {
                    "party_id": f"C{c:02d}-{p}",
                    "iso3": f"C{c:02d}",
                    "year": 2000 + t,
                    "left_roots": int(left[p]),
                    "lr_position": lr[p],
                    "ruling": int(p == ruler),
                    "contacts": rng.poisson(np.exp(eta)),
                }
            )
    return rows


def _panel(seed: int) -> Panel:
    rng = np.random.default_rng(seed)
    rows = [row for c in range(80) for row in _country(rng, c, 16, 6)]
    return Panel(data=pd.DataFrame(rows), level="party-year", unit="party_id")


def test_country_year_effects_remove_country_year_shocks() -> None:
    fe = SPECS["design5_fe_ideology"]
    within = ideology.within_spec(fe)
    assert within.formula.endswith("| country_year")
    additive = ideology.within_spec(fe, "as_specified")
    estimates: dict[str, list[pd.Series]] = {"within": [], "additive": []}
    for seed in range(5):
        panel = ideology.with_country_year(_panel(seed))
        estimates["within"].append(cpcstats.fit(within, panel).params)
        estimates["additive"].append(cpcstats.fit(additive, panel).params)
    mean = {k: pd.concat(v, axis=1).mean(axis=1) for k, v in estimates.items()}
    # within country-year: unbiased (Monte Carlo SE of the 5-draw mean about 0.013)
    for term, value in TRUTH.items():
        assert abs(mean["within"][term] - value) < 0.05, (term, mean["within"][term])
    # additive effects: the shock is credited to left roots (about +0.1 in this process)
    assert mean["additive"]["left_roots"] - TRUTH["left_roots"] > 0.05


def test_within_spec_and_notes_agree() -> None:
    fe = SPECS["design5_fe_ideology"]
    within = ideology.within_spec(fe)
    assert within.title == "FE Poisson (country × year)"
    assert within.formula.split("|")[0] == fe.formula.split("|")[0]
    assert ideology.within_spec(within) is within  # already country x year: unchanged
    assert "same country in the same year" in ideology.fe_note(within)
    note = ideology.fe_note(ideology.within_spec(fe, "as_specified"))
    if set(fe.formula.split("|")[1].replace(" ", "").split("+")) == {"iso3", "year"}:
        assert "not within the same country-year" in note
    with pytest.raises(SpecError, match="fixed_effects must be one of"):
        ideology.within_spec(fe, "party")


def test_country_year_column() -> None:
    panel = _panel(0)
    data = ideology.with_country_year(panel).data
    assert data["country_year"].nunique() == len(data[["iso3", "year"]].drop_duplicates())
    assert ideology.with_country_year(Panel(data, "party-year", "party_id")).data is data
