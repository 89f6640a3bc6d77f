"""The demo's real party universe: real parties, real government status, real regimes.

Why it exists: a demo that invents its parties cannot show what real data do to a study
(parties that come and go, coalitions, one-party states, countries V-Dem does not rate),
and its party names cannot meet the published Table 1.  Here only the *contacts* are
simulated (`cpcstats.demo.generate`); the parties, their countries and years, their
left-right positions, their government status and the countries' regime measures are
built from public data by the rules below, and shipped in ``data/`` as small derived
tables (sources and licences in ``cpcstats/demo/README.md``).

``python -m cpcstats.demo.universe --data ../shared/data`` rebuilds the three tables from
the distributors' files; a test checks that the shipped tables are what it writes.

Rules (each set-aside row is counted in ``accounts.json``):

* **Country-years**: the states of ``reference/states.csv`` in the window with a Freedom
  House rating (`cpcstats.adapters.read_freedom_house`): ``fh_status`` and ``fh_total``
  as democracyData holds it (PR + CL, 2-14, lower = freer).  ``polyarchy`` is V-Dem's
  ``v2x_polyarchy`` (`cpcstats.adapters.read_vdem`), missing where V-Dem does not code the
  country (kept missing: models that use it drop those rows, counted).  Country-years
  Freedom House does not rate are not in the demo (the contact process needs a regime).
* **Parties**: every V-Party party (`cpcstats.adapters.read_vparty`) of those countries
  with a party-year in the window, identified by its Party Facts id (``pf-<id>``, the
  hub that links V-Party, the DPI and a coder's names; ``vparty-<v2paid>`` for a party
  without one).  Two V-Party parties with one Party Facts id in a country: the one with
  more party-years is kept.
* **Status** per party-year, in this order (``source`` in ``party_status.csv``): (1)
  ``dpi``: the DPI's slot when the DPI names the party that year (``gov1`` senior,
  ``gov2``/``gov3`` junior, ``opp1``-``opp3`` opposition; DPI spellings linked to Party
  Facts by the name matcher and the Party Facts DPI import,
  `cpcstats.adapters.partyfacts.dpi_linked`) -- the study's own source; ``dpi-carried``: the
  DPI ends in 2020, and each country's last DPI year is carried to the end of the window;
  (2) ``vparty``: V-Party's ``v2pagovsup`` of the party's last election, carried forward
  as the V-Party adapter states (to the end of the window after a country's last V-Party
  election, 2019 at the latest); ``vparty-junior``: a V-Party ``senior`` becomes
  ``junior`` in a year in which the DPI names another party as the largest government
  party, or in which V-Party has another senior with a larger seat share and the DPI
  names none (one senior per country-year); (3) ``dpi-government``: ``opposition`` for a party
  V-Party has no status for in a year whose government the DPI names without it;
  ``neither``: ``opposition`` in a year inside the party's span in which neither source
  has it (it fell below V-Party's inclusion threshold between elections) -- a party the
  DPI does not name and V-Party does not include is not in government.  Party-years whose
  status is still missing, and those of a country before it was a state (Montenegro before
  2006, Kosovo before 2008), are dropped (counted).  Parties only the DPI names (e.g. the
  Communist Party of Vietnam, which V-Party records as the Fatherland Front) are in the
  universe with the register's names.
* **Party Facts' technical entries** (independents, "other", alliances; V-Party lists
  some, e.g. Japan's independents) are set aside: nobody can meet them.
* **Party attributes**: ``lr_position`` is the mean of V-Party's ``v2pariglef`` over the
  party's party-years in the window (higher = right), else the mean of its country's
  parties, else 0 (``lr_source`` says which); ``left_roots`` is 1 for communist,
  socialist, labour, workers' and revolutionary names (`LEFT_NAME`, on the English and
  short names) and for the liberation movements of `LIBERATION_MOVEMENTS` (a source per
  row); ``active_from``/``active_to`` are the first and last year with a status row;
  ``party_name`` is the English name with a one-word short name in parentheses
  ("Liberal Democratic Party (LDP)"), as coders write them.
"""

from __future__ import annotations

import argparse
import json
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cpcstats.adapters import read_dpi, read_freedom_house, read_partyfacts, read_vdem, read_vparty
from cpcstats.adapters.partyfacts import dpi_linked
from cpcstats.io import write_atomic
from cpcstats.reference import load_reference, state_years

HERE = Path(str(resources.files("cpcstats.demo")))

FILES = {
    "freedom_house": "freedom_house_1990_2024.csv",
    "vdem": "vdem_indices_1990_2024.csv",
    "vparty": "vparty_1990_2019.csv",
    "dpi": "dpi2020_1975_2020.csv",
    "partyfacts": "partyfacts_core_parties.csv",
    "partyfacts_vparty": "partyfacts_vparty_links.csv",
    "partyfacts_dpi": "partyfacts_dpi_parties.csv",
}
"""The distributors' files the universe is built from (``../shared/data`` in this repo)."""

LEFT_NAME = re.compile(
    r"communis|socialis|marxis|leninis|maois|\bworkers|\blabou?r\b|revolution|sandinista"
    r"|liberation|\bfrente\b.*\bliberaci",
    re.IGNORECASE,
)
"""Names that state communist, socialist, labour, workers' or revolutionary roots."""

LIBERATION_MOVEMENTS = HERE / "liberation_movements.csv"
"""The liberation movements among the demo's parties: party id, why, and a source per row
(the party's Wikipedia article, as Party Facts links it)."""


@dataclass
class Universe:
    """The three tables the demo ships and the account of every rule that set rows aside."""

    parties: pd.DataFrame
    party_status: pd.DataFrame
    country_covariates: pd.DataFrame
    accounts: dict[str, Any] = field(default_factory=dict)


def build_universe(data: Path, first_year: int = 2002, last_year: int = 2023) -> Universe:
    """Build the real party universe of the window from the distributors' files in ``data``."""
    accounts: dict[str, Any] = {"window": [first_year, last_year], "sources": dict(FILES)}
    covariates = _country_years(data, first_year, last_year, accounts)
    countries = set(covariates["country"])
    vparty = read_vparty(data / FILES["vparty"], first_year=first_year, last_year=last_year)
    extra = ["v2paid", "year", "v2paseatshare", "v2pashname"]  # not in the adapter's table
    raw = pd.read_csv(data / FILES["vparty"], usecols=extra)
    py = _vparty_years(vparty.table, countries, raw, accounts)
    dpi, register = _dpi_years(data, first_year, last_year, countries, accounts)
    py, dpi = _drop_technical(py, dpi, register, accounts)
    status = _status(py, dpi, accounts)
    status = _in_state_years(status, py, dpi, covariates, accounts)
    parties = _parties(py, status, register, raw, accounts)
    keep = covariates.set_index(["country", "year"]).index
    accounts["counts"] = {
        "countries": len(countries),
        "countries_with_parties": int(parties["country"].nunique()),
        "country_years": len(keep),
        "parties": len(parties),
        "party_years": len(status),
        "status": {str(k): int(v) for k, v in status["status"].value_counts().sort_index().items()},
        "status_source": {
            str(k): int(v) for k, v in status["source"].value_counts().sort_index().items()
        },
    }
    return Universe(parties, status, covariates, accounts)


def _country_years(data: Path, first: int, last: int, accounts: dict[str, Any]) -> pd.DataFrame:
    """States x years with a Freedom House rating, and V-Dem's polyarchy where coded."""
    frame = state_years(load_reference("states"), first, last)
    fh = read_freedom_house(data / FILES["freedom_house"], first_year=first, last_year=last).table
    vdem = read_vdem(data / FILES["vdem"], indices=("polyarchy",), first_year=first, last_year=last)
    out = frame.merge(
        fh[["iso3", "year", "fh_status", "fh_total"]], on=["iso3", "year"], how="left"
    )
    out = out.merge(vdem.table[["iso3", "year", "polyarchy"]], on=["iso3", "year"], how="left")
    unrated = out["fh_status"].isna()
    accounts["country_years"] = {
        "state_years": len(out),
        "dropped_no_freedom_house_rating": int(unrated.sum()),
        "dropped_countries": sorted(set(out.loc[unrated, "iso3"])),
        "kept_polyarchy_missing": int((~unrated & out["polyarchy"].isna()).sum()),
        "countries_polyarchy_missing": sorted(
            set(out.loc[~unrated & out["polyarchy"].isna(), "iso3"])
        ),
    }
    out = out[~unrated].rename(columns={"iso3": "country"})
    out["fh_total"] = out["fh_total"].round().astype(int)
    out["polyarchy"] = out["polyarchy"].round(3)
    return out.sort_values(["country", "year"]).reset_index(drop=True)


def _vparty_years(
    table: pd.DataFrame, countries: set[str], raw: pd.DataFrame, accounts: dict[str, Any]
) -> pd.DataFrame:
    """V-Party party-years of the demo's countries, keyed by the Party Facts id, with the
    seat share of the election each year's values come from."""
    t = table[table["iso3"].isin(countries)].copy()
    seats = raw.drop_duplicates(["v2paid", "year"], keep="last")
    seats = seats.set_index(["v2paid", "year"])["v2paseatshare"]
    number = t["party_id"].astype(str).str.removeprefix("vparty-").astype(int)
    key = pd.MultiIndex.from_arrays([number, t["election_year"]])
    t["seat_share"] = seats.reindex(key).to_numpy()
    pf = t["pf_party_id"].astype("Int64")
    t["party_id"] = np.where(
        pf.notna(), "pf-" + pf.astype("string").fillna(""), t["party_id"].astype(str)
    )
    t["vparty_id"] = table.loc[t.index, "party_id"].astype(str)
    sizes = t.groupby("vparty_id").size().rename("n")
    t = t.join(sizes, on="vparty_id")
    # one V-Party party per Party Facts id: the one with more party-years, then the lower id
    best = (
        t.sort_values(["party_id", "n", "vparty_id"], ascending=[True, False, True])
        .drop_duplicates("party_id")
        .set_index("party_id")["vparty_id"]
    )
    second = t["vparty_id"] != best.reindex(t["party_id"]).to_numpy()
    accounts["vparty"] = {
        "party_years_outside_countries": int((~table["iso3"].isin(countries)).sum()),
        "party_years_of_a_second_vparty_party_with_the_same_partyfacts_id": int(second.sum()),
        "without_partyfacts_id": int(t.loc[~second, "pf_party_id"].isna().sum()),
    }
    t = t[~second]
    return t[
        [
            "party_id",
            "vparty_id",
            "iso3",
            "year",
            "status",
            "lr_position",
            "pf_party_id",
            "party_name",
            "seat_share",
        ]
    ].reset_index(drop=True)


def _drop_technical(
    py: pd.DataFrame, dpi: pd.DataFrame, register: pd.DataFrame, accounts: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Set aside Party Facts' technical entries (independents, "other", alliances ...):
    V-Party lists some as parties (e.g. Japan's independents), but nobody can meet them."""
    technical = register.loc[register["technical"].notna(), "partyfacts_id"].astype(str)
    ids = set("pf-" + technical)
    vp = py["party_id"].isin(ids)
    dp = dpi["party_id"].isin(ids).fillna(False).astype(bool)
    accounts["technical_entries_set_aside"] = {
        "vparty_party_years": int(vp.sum()),
        "dpi_party_years": int(dp.sum()),
        "parties": sorted(set(py.loc[vp, "party_id"]) | set(dpi.loc[dp, "party_id"])),
    }
    dpi = dpi.copy()
    dpi.loc[dp, "party_id"] = None
    return py[~vp].reset_index(drop=True), dpi


def _dpi_years(
    data: Path, first: int, last: int, countries: set[str], accounts: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """DPI party-years with their Party Facts ids (``pf-<id>``), carried to ``last``; and
    the Party Facts register (names of the parties only the DPI names).

    The DPI ends in 2020: each country's last DPI year is carried forward to the end of
    the window, as the V-Party adapter carries a country's last election.
    """
    dpi = read_dpi(data / FILES["dpi"], first_year=first, last_year=last)
    register = read_partyfacts(
        data / FILES["partyfacts"],
        data / FILES["partyfacts_vparty"],
        data / FILES["partyfacts_dpi"],
    )
    table, by = dpi_linked(dpi, register, {})
    table = table[table["status"].notna() & table["iso3"].isin(countries)].copy()
    table["party_id"] = ("pf-" + table["pf_party_id"].astype("string")).astype(object)
    table["source"] = "dpi"
    final = table.groupby("iso3")["year"].transform("max")
    tail = table[(table["year"] == final) & (final < last)]
    lengths = (last - tail["year"]).to_numpy()
    carried = tail.loc[tail.index.repeat(lengths)].copy()
    offset = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths) + 1
    carried["source"] = "dpi-carried"
    carried["year"] = carried["year"].to_numpy() + offset
    table = pd.concat([table, carried], ignore_index=True)
    accounts["dpi"] = {
        "party_years_linked": by,
        "party_years_carried_forward": len(carried),
    }
    columns = ["iso3", "year", "party", "slot", "status", "party_id", "source"]
    return table[columns].reset_index(drop=True), register.table


def _spans(py: pd.DataFrame, dpi: pd.DataFrame) -> pd.DataFrame:
    """Every year of every party's span (first to last year either source has it)."""
    both = pd.concat(
        [
            py[["party_id", "iso3", "year"]],
            dpi.loc[dpi["party_id"].notna(), ["party_id", "iso3", "year"]],
        ]
    )
    span = both.groupby("party_id").agg(
        iso3=("iso3", "first"), lo=("year", "min"), hi=("year", "max")
    )
    lengths = (span["hi"] - span["lo"] + 1).to_numpy()
    start = np.repeat(span["lo"].to_numpy(), lengths)
    offset = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return pd.DataFrame(
        {
            "party_id": np.repeat(span.index.to_numpy(), lengths),
            "iso3": np.repeat(span["iso3"].to_numpy(), lengths),
            "year": start + offset,
        }
    )


def _lookup(frame: pd.DataFrame, keys: list[str], value: str, at: pd.DataFrame) -> pd.Series:
    """``frame[value]`` at the ``keys`` of ``at`` (first row per key), aligned with ``at``."""
    table = frame.drop_duplicates(keys, keep="first").set_index(keys)[value]
    return pd.Series(table.reindex(pd.MultiIndex.from_frame(at[keys])).to_numpy(), index=at.index)


def _status(py: pd.DataFrame, dpi: pd.DataFrame, accounts: dict[str, Any]) -> pd.DataFrame:
    """One status per party-year by the module's rules: DPI, V-Party, government named."""
    full = _spans(py, dpi)
    linked = dpi[dpi["party_id"].notna()]
    full["dpi"] = _lookup(linked, ["party_id", "year"], "status", full)
    full["dpi_source"] = _lookup(linked, ["party_id", "year"], "source", full)
    full["vparty"] = _lookup(py, ["party_id", "year"], "status", full)
    seniors = dpi[dpi["status"] == "senior"].assign(senior=lambda d: d["party_id"].fillna("?"))
    full["senior"] = _lookup(seniors, ["iso3", "year"], "senior", full)
    has_senior = full["senior"].notna()
    not_it = has_senior & (full["senior"] != full["party_id"])

    status = full["dpi"].astype(object)
    source = full["dpi_source"].astype(object)
    use_vp = status.isna() & full["vparty"].notna()
    status[use_vp], source[use_vp] = full.loc[use_vp, "vparty"], "vparty"
    full["seats"] = _lookup(py, ["party_id", "year"], "seat_share", full)
    vp_senior = use_vp & (full["vparty"] == "senior")
    # two V-Party seniors in a year the DPI names none: the larger seat share stays senior
    ranked = full[vp_senior & ~has_senior].sort_values(
        ["iso3", "year", "seats", "party_id"], ascending=[True, True, False, True]
    )
    runner_up = full.index.isin(ranked.index[ranked.duplicated(["iso3", "year"])])
    demote = vp_senior & (not_it | runner_up)
    status[demote], source[demote] = "junior", "vparty-junior"
    outside = status.isna() & not_it
    status[outside] = "opposition"
    source[outside] = "dpi-government"
    gap = status.isna() & full["vparty"].isna()
    status[gap], source[gap] = "opposition", "neither"
    missing = status.isna()
    accounts["status"] = {
        "party_years_in_spans": len(full),
        "by_rule": {
            str(k): int(v) for k, v in source[~missing].value_counts().sort_index().items()
        },
        "dropped_status_missing": int(missing.sum()),
    }
    out = full.assign(status=status, source=source)[~missing.to_numpy()]
    out = out[["party_id", "year", "status", "source"]]
    return out.sort_values(["party_id", "year"]).reset_index(drop=True)


def _in_state_years(
    status: pd.DataFrame,
    py: pd.DataFrame,
    dpi: pd.DataFrame,
    covariates: pd.DataFrame,
    accounts: dict[str, Any],
) -> pd.DataFrame:
    """Only the party-years of a country-year of the demo: V-Party codes Montenegro's and
    Kosovo's parties before independence, when they were not states (reference/states)."""
    home = pd.concat([py[["party_id", "iso3"]], dpi[["party_id", "iso3"]].dropna()])
    home = home.drop_duplicates("party_id").set_index("party_id")["iso3"]
    key = pd.MultiIndex.from_arrays([status["party_id"].map(home), status["year"]])
    inside = key.isin(pd.MultiIndex.from_frame(covariates[["country", "year"]]))
    accounts["status"]["dropped_country_not_a_state_that_year"] = int((~inside).sum())
    return status[inside].reset_index(drop=True)


def _left_roots(parties: pd.DataFrame) -> tuple[np.ndarray, list[str]]:
    """``left_roots`` by `LEFT_NAME` or `LIBERATION_MOVEMENTS`, and the rule used per party."""
    movements = pd.read_csv(LIBERATION_MOVEMENTS).set_index("party_id")["why"]
    why = parties["party_id"].map(movements)
    named = parties["party_name"].str.contains(LEFT_NAME) | parties["name_short"].fillna(
        ""
    ).str.contains(LEFT_NAME)
    rule = np.where(
        why.notna(), "liberation movement: " + why.fillna(""), np.where(named, "name", "")
    )
    return (rule != "").astype(int), list(rule)


def _names(
    py: pd.DataFrame, ids: pd.Index, register: pd.DataFrame, raw: pd.DataFrame
) -> pd.DataFrame:
    """Country, name, short name and V-Party id of each party: V-Party's latest row, else
    the Party Facts register (parties only the DPI names)."""
    short = (
        raw[["v2paid", "v2pashname"]]
        .dropna()
        .drop_duplicates("v2paid", keep="last")
        .set_index("v2paid")["v2pashname"]
    )
    latest = py.sort_values(["party_id", "year"]).groupby("party_id").tail(1).set_index("party_id")
    latest = latest.reindex(ids)
    reg = register.assign(party_id="pf-" + register["partyfacts_id"].astype(str))
    reg = reg.drop_duplicates("party_id").set_index("party_id").reindex(ids)
    number = latest["vparty_id"].str.removeprefix("vparty-")
    vp_short = pd.to_numeric(number, errors="coerce").map(short)
    english = reg["name_english"].where(reg["name_english"].notna(), reg["name"])
    return pd.DataFrame(
        {
            "party_id": ids.to_numpy(),
            "country": latest["iso3"].fillna(reg["iso3"]).astype(str).to_numpy(),
            "party_name": latest["party_name"]
            .fillna(english)
            .astype(str)
            .str.replace('""', '"', regex=False)  # V-Party doubles some inner quotes
            .str.strip()
            .to_numpy(),
            "name_short": vp_short.fillna(reg["name_short"]).to_numpy(),
            "vparty_id": latest["vparty_id"].fillna("").to_numpy(),
            "name_source": np.where(latest["iso3"].notna(), "vparty", "partyfacts"),
        }
    )


def _with_short_name(names: pd.Series, short: pd.Series) -> pd.Series:
    """ "Liberal Democratic Party (LDP)": a one-word short name in parentheses, the way a
    coder of the ID-CPC news items writes it and the party-name matcher reads it (the
    parenthesis is also a name of the party); left out when the name has it already."""
    out = []
    for name, abbr in zip(names, short.fillna(""), strict=True):
        abbr = str(abbr).strip()
        simple = abbr and " " not in abbr and len(abbr) >= 2 and "(" not in name
        out.append(f"{name} ({abbr})" if simple and abbr.lower() not in name.lower() else name)
    return pd.Series(out, index=names.index)


def _parties(
    py: pd.DataFrame,
    status: pd.DataFrame,
    register: pd.DataFrame,
    raw: pd.DataFrame,
    accounts: dict[str, Any],
) -> pd.DataFrame:
    """One row per party with status rows: names, years, position, roots, sources."""
    span = status.groupby("party_id")["year"].agg(["min", "max"])
    out = _names(py, span.index, register, raw)
    out["party_name"] = _with_short_name(out["party_name"], out["name_short"])
    out["active_from"] = span["min"].to_numpy()
    out["active_to"] = span["max"].to_numpy()
    lr = py.groupby("party_id")["lr_position"].mean().reindex(out["party_id"]).to_numpy()
    lr = pd.Series(lr, index=out.index)
    country_mean = lr.groupby(out["country"]).transform("mean")
    lr_source = np.where(lr.notna(), "vparty", np.where(country_mean.notna(), "country mean", "0"))
    out["lr_position"] = lr.fillna(country_mean).fillna(0.0).round(2)
    out["lr_source"] = lr_source
    out["left_roots"], out["left_roots_rule"] = _left_roots(out)
    accounts["parties"] = {
        "named_from_partyfacts_register": int((out["name_source"] == "partyfacts").sum()),
        "lr_position_from_country_mean": int((lr_source == "country mean").sum()),
        "lr_position_zero": int((lr_source == "0").sum()),
        "left_roots_by_name": int((out["left_roots_rule"] == "name").sum()),
        "left_roots_liberation_movement": int(
            out["left_roots_rule"].str.startswith("liberation").sum()
        ),
    }
    columns = [
        "party_id",
        "country",
        "party_name",
        "name_short",
        "left_roots",
        "lr_position",
        "active_from",
        "active_to",
        "vparty_id",
        "name_source",
        "lr_source",
        "left_roots_rule",
    ]
    return out[columns].sort_values(["country", "party_id"]).reset_index(drop=True)


def write(universe: Universe, folder: Path | None = None) -> list[Path]:
    """Write the three tables (CSV) and the accounts (JSON) atomically."""
    folder = folder or HERE / "data"
    paths = []
    for name in ("parties", "party_status", "country_covariates"):
        frame: pd.DataFrame = getattr(universe, name)
        paths.append(
            write_atomic(folder / f"{name}.csv", frame.to_csv(index=False, lineterminator="\n"))
        )
    text = json.dumps(universe.accounts, indent=2, sort_keys=True) + "\n"
    paths.append(write_atomic(folder / "universe_accounts.json", text))
    return paths


def load(folder: Path | None = None) -> Universe:
    """The shipped universe tables (what `cpcstats.demo.generate` simulates contacts on)."""
    folder = folder or HERE / "data"
    read = {
        "parties": pd.read_csv(folder / "parties.csv", keep_default_na=False, na_values=[""]),
        "party_status": pd.read_csv(folder / "party_status.csv"),
        "country_covariates": pd.read_csv(
            folder / "country_covariates.csv", keep_default_na=False, na_values=[""]
        ),
    }
    accounts = json.loads((folder / "universe_accounts.json").read_text(encoding="utf-8"))
    return Universe(**read, accounts=accounts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    for path in write(build_universe(args.data), args.out):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
