"""Covariate adapters: real public files (skipped when absent) and small synthetic files.

Real-data tests recompute each fact from the raw file with plain pandas and
compare it with the adapter, so they fail if the adapter misreads the layout,
loses rows or applies a rule other than the documented one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cpcstats.accounting import Ledger
from cpcstats.adapters import (
    ADAPTERS,
    AdapterResult,
    read_dpi,
    read_freedom_house,
    read_leaders_global,
    read_partyfacts,
    read_reign,
    read_vdem,
    read_vparty,
)
from cpcstats.adapters.base import DROP_ADAPTER_EXCLUDED, DROP_DUPLICATE
from cpcstats.adapters.reign import DROP_EARLIER_REGIME
from cpcstats.adapters.vparty import (
    DROP_DUPLICATE_COUNTRY,
    DROP_SAME_YEAR,
    DROP_SUPERSEDED,
)
from cpcstats.countries import DROP_UNMATCHED
from cpcstats.errors import InputError, SpecError

# The location the brief fixes; conftest's ``shared_data`` fixture resolves the same folder.
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
FH = "freedom_house_1990_2024.csv"
VDEM = "vdem_indices_1990_2024.csv"
VPARTY = "vparty_1990_2019.csv"
REIGN = "reign_regimes_1990_2021.csv"
GOV = {0: "senior", 1: "junior", 2: "support", 3: "opposition"}


def _file(shared_data: Path, name: str) -> Path:
    path = shared_data / name
    if not path.is_file():
        pytest.skip(f"{name} not in {shared_data}")
    return path


def _balanced(result: AdapterResult, raw_rows: int) -> None:
    """Every raw row is either returned or dropped under a named reason."""
    acc = result.account
    assert acc.rows_in == raw_rows
    assert acc.rows_in == acc.rows_out + sum(acc.dropped.values())
    assert all(n >= 0 for n in acc.dropped.values())
    json.dumps(acc.to_dict())  # ledger-able: the manifest is JSON
    Ledger().add(acc)


def test_shared_fixture_is_the_documented_folder(shared_data: Path) -> None:
    if os.environ.get("CPCSTATS_SHARED_DATA"):
        pytest.skip("CPCSTATS_SHARED_DATA points the fixture elsewhere")
    assert shared_data.resolve() == SHARED.resolve()


def test_registry_names_every_adapter() -> None:
    expected = {
        "freedom_house": read_freedom_house,
        "vdem": read_vdem,
        "vparty": read_vparty,
        "reign": read_reign,
        "dpi": read_dpi,
        "leaders_global": read_leaders_global,
        "partyfacts": read_partyfacts,
    }
    assert expected == ADAPTERS


# --------------------------------------------------------------------------- Freedom House


@pytest.fixture(scope="module")
def fh(shared_data: Path) -> tuple[pd.DataFrame, AdapterResult]:
    path = _file(shared_data, FH)
    return pd.read_csv(path), read_freedom_house(path)


def test_fh_well_known_statuses(fh: tuple[pd.DataFrame, AdapterResult]) -> None:
    _, res = fh
    t = res.table.set_index(["iso3", "year"])
    assert (t.loc["NOR", "fh_status"] == "F").all()
    assert (t.loc["PRK", "fh_status"] == "NF").all()
    assert t.loc[("CHN", 2015), "fh_status"] == "NF"
    assert len(t.loc["NOR"]) == 35


@pytest.mark.parametrize(
    ("iso3", "raw_name"),
    [
        ("NOR", "Norway"),
        ("PRK", "North Korea"),
        ("CHN", "China"),
        ("USA", "United States"),
        ("IND", "India"),  # not "Indian Kashmir"
        ("CYP", "Cyprus"),  # not "Northern Cyprus"
        ("GBR", "United Kingdom"),  # not "Northern Ireland"
        ("VEN", "Venezuela"),
        ("SRB", "Yugoslavia"),
        ("SRB", "Serbia and Montenegro"),
        ("RUS", "USSR"),
        ("PSE", "West Bank"),  # not "Gaza Strip"
    ],
)
def test_fh_values_equal_raw_rows(
    fh: tuple[pd.DataFrame, AdapterResult], iso3: str, raw_name: str
) -> None:
    raw, res = fh
    want = raw[raw["fh_country"] == raw_name].set_index("year")
    got = res.table[res.table["iso3"] == iso3].set_index("year").loc[want.index]
    assert len(want) > 0
    assert (got["fh_status"] == want["status"]).all()
    assert (got["fh_pr"].astype(float) == want["pr"]).all()
    assert (got["fh_cl"].astype(float) == want["cl"]).all()
    assert np.allclose(got["fh_total"], want["fh_total"])


def test_fh_rows_add_up(fh: tuple[pd.DataFrame, AdapterResult]) -> None:
    raw, res = fh
    _balanced(res, len(raw))
    assert len(res.table) == res.account.rows_out
    assert not res.table.duplicated(["iso3", "year"]).any()
    # The dropped rows are exactly the raw rows of the excluded/unmatched spellings.
    gone = set(res.harmonisation.excluded) | set(res.harmonisation.unmatched)
    assert sum(res.account.dropped.values()) == int(raw["fh_country"].isin(gone).sum())
    assert {"Tibet", "Indian Kashmir", "Northern Cyprus"} <= gone
    assert res.harmonisation.rows_unmatched == 0


def test_fh_year_window_counts(shared_data: Path) -> None:
    path = _file(shared_data, FH)
    raw = pd.read_csv(path)
    res = read_freedom_house(path, first_year=2000, last_year=2010)
    assert res.table["year"].between(2000, 2010).all()
    kept_names = ~raw["fh_country"].isin(list(res.harmonisation.excluded))
    assert res.account.dropped["year before first_year"] == int(
        (kept_names & (raw["year"] < 2000)).sum()
    )
    assert res.account.dropped["year after last_year"] == int(
        (kept_names & (raw["year"] > 2010)).sum()
    )
    _balanced(res, len(raw))


# --------------------------------------------------------------------------- V-Dem


@pytest.fixture(scope="module")
def vdem(shared_data: Path) -> tuple[pd.DataFrame, AdapterResult]:
    path = _file(shared_data, VDEM)
    return pd.read_csv(path), read_vdem(path, indices=("polyarchy", "libdem", "partipdem"))


def test_vdem_values_equal_raw_for_sampled_rows(vdem: tuple[pd.DataFrame, AdapterResult]) -> None:
    raw, res = vdem
    sample = raw[raw["v2x_polyarchy"].notna()].sample(40, random_state=7)
    sample = sample[sample["country_text_id"].str.fullmatch(r"[A-Z]{3}")]
    sample = sample[~sample["country_text_id"].isin(["PSG", "SML", "ZZB", "DDR", "YMD"])]
    got = res.table.set_index(["iso3", "year"])
    for row in sample.itertuples():
        here = got.loc[(row.country_text_id, row.year)]
        assert here["polyarchy"] == pytest.approx(row.v2x_polyarchy)
        assert here["partipdem"] == pytest.approx(row.v2x_partipdem, nan_ok=True)
    assert len(sample) >= 30


def test_vdem_rows_add_up(vdem: tuple[pd.DataFrame, AdapterResult]) -> None:
    raw, res = vdem
    _balanced(res, len(raw))
    assert not res.table.duplicated(["iso3", "year"]).any()
    assert list(res.table.columns) == ["iso3", "year", "polyarchy", "libdem", "partipdem"]
    no_value = raw[["v2x_polyarchy", "v2x_libdem", "v2x_partipdem"]].isna().all(axis=1)
    assert res.account.dropped["no value for any requested index"] == int(no_value.sum())
    # PSE is V-Dem's Palestine/West Bank; the Gaza unit (PSG) is excluded, not merged.
    pse = raw[(raw["country_text_id"] == "PSE") & (raw["year"] == 2015)]["v2x_polyarchy"]
    got = res.table.query("iso3 == 'PSE' and year == 2015")["polyarchy"]
    assert got.item() == pytest.approx(pse.item())
    psg_rows = int((raw["country_text_id"] == "PSG").sum())
    assert res.account.notes["excluded"]["Palestine/Gaza"]["rows"] == psg_rows


def test_vdem_index_names(shared_data: Path) -> None:
    path = _file(shared_data, VDEM)
    a = read_vdem(path, indices=("partipdem",))
    b = read_vdem(path, indices=("v2x_partipdem",))
    assert list(a.table.columns) == ["iso3", "year", "partipdem"]
    pd.testing.assert_frame_equal(a.table, b.table)
    with pytest.raises(SpecError) as err:
        read_vdem(path, indices=("polyarchy", "freedom"))
    assert "freedom" in str(err.value)
    assert "partipdem" in str(err.value) and "egaldem" in str(err.value)


# --------------------------------------------------------------------------- V-Party


@pytest.fixture(scope="module")
def vparty(shared_data: Path) -> tuple[pd.DataFrame, AdapterResult]:
    path = _file(shared_data, VPARTY)
    return pd.read_csv(path), read_vparty(path)


def _direct_party_years(raw: pd.DataFrame, v2paid: int, years: range) -> dict[int, tuple]:
    """Status and position of a party per year: its row at the country's latest election.

    Computed by looking up, for each year, the country's latest election at or
    before it; the party has a value only if it has a row at that election.
    """
    rows = raw[raw["v2paid"] == v2paid]
    country = rows["country_text_id"].iloc[0]
    elections = np.sort(raw.loc[raw["country_text_id"] == country, "year"].unique())
    out: dict[int, tuple] = {}
    for year in years:
        before = elections[elections <= year]
        if len(before) == 0:
            continue
        row = rows[rows["year"] == before.max()]
        if row.empty:
            continue
        code = row["v2pagovsup"].item()
        status = GOV.get(int(code)) if pd.notna(code) else None
        out[year] = (status, row["v2pariglef"].item(), int(before.max()))
    return out


def test_vparty_carry_forward_equals_direct_computation(
    vparty: tuple[pd.DataFrame, AdapterResult],
) -> None:
    raw, res = vparty
    # PRD (MEX), CPC (CHN), D66 (NLD: absent in 2003 and 2006), Slovenian National
    # Party (absent 1996-2000), Communist Party of Chile (absent 2009), plus a sample.
    chosen = [216, 5124, 45, 96, 162]
    excluded = {"DDR", "SML", "ZZB"}
    pool = raw.loc[~raw["country_text_id"].isin(excluded), "v2paid"].drop_duplicates()
    chosen += pool.sample(25, random_state=3).tolist()
    t = res.table
    for v2paid in chosen:
        want = _direct_party_years(raw, v2paid, range(1990, 2020))
        got = t[t["party_id"] == f"vparty-{v2paid}"].set_index("year")
        assert sorted(got.index) == sorted(want), v2paid
        for year, (status, lr, election) in want.items():
            here = got.loc[year]
            assert (None if pd.isna(here["status"]) else here["status"]) == status
            assert here["lr_position"] == pytest.approx(lr, nan_ok=True)
            assert here["election_year"] == election


def test_vparty_gap_years_are_absent(vparty: tuple[pd.DataFrame, AdapterResult]) -> None:
    _, res = vparty
    d66 = res.table[res.table["party_id"] == "vparty-45"].set_index("year")
    assert 2002 in d66.index and 2010 in d66.index
    # The Netherlands voted in 2003 and 2006 without D66 in V-Party: no rows until 2010.
    assert not set(range(2003, 2010)) & set(d66.index)


def test_vparty_status_codes_and_accounts(vparty: tuple[pd.DataFrame, AdapterResult]) -> None:
    raw, res = vparty
    _balanced(res, len(raw))
    notes = res.account.notes
    assert notes["status_code_4_not_applicable"] == int((raw["v2pagovsup"] == 4).sum())
    assert notes["party_years_out"] == len(res.table)
    assert set(res.table["status"].dropna()) == {"senior", "junior", "support", "opposition"}
    assert not res.table.duplicated(["party_id", "year"]).any()
    cpc = res.table[res.table["party_id"] == "vparty-5124"]
    assert set(cpc["status"]) == {"senior"} and set(cpc["iso3"]) == {"CHN"}
    parties = res.extra["parties"]
    assert parties["party_id"].is_unique
    assert set(parties["party_id"]) == set(res.table["party_id"])
    prd = parties.set_index("party_id").loc["vparty-216"]
    assert prd["iso3"] == "MEX" and prd["pf_party_id"] == 216


# --------------------------------------------------------------------------- REIGN


@pytest.fixture(scope="module")
def reign(shared_data: Path) -> tuple[pd.DataFrame, AdapterResult]:
    path = _file(shared_data, REIGN)
    return pd.read_csv(path), read_reign(path)


def test_reign_one_row_per_country_year(reign: tuple[pd.DataFrame, AdapterResult]) -> None:
    raw, res = reign
    _balanced(res, len(raw))
    assert not res.table.duplicated(["iso3", "year"]).any()
    # Country-years in the raw file (after the adapter's name mapping) = output rows.
    iso = raw["reign_country"].map({**res.harmonisation.matched, **res.harmonisation.overridden})
    raw_years = raw.assign(iso3=iso).dropna(subset=["iso3"])
    direct = raw_years.groupby(["iso3", "year"]).size()
    assert len(res.table) == len(direct)
    resolved = res.account.notes["end_of_year_rule"]["resolved"]
    assert resolved == int((direct > 1).sum())
    assert res.account.dropped[DROP_EARLIER_REGIME] == int((direct - 1).sum())
    # Plain count by REIGN's own country name, for the record: most resolved years.
    by_name = raw.groupby(["reign_country", "year"]).size()
    assert resolved >= int((by_name > 1).sum()) - 2  # Germany East/Yemen South are excluded


def test_reign_end_of_year_regime_starts_next_year(
    reign: tuple[pd.DataFrame, AdapterResult],
) -> None:
    """The regime kept for a year of change is the one the next year starts with."""
    raw, res = reign
    iso = raw["reign_country"].map({**res.harmonisation.matched, **res.harmonisation.overridden})
    raw = raw.assign(iso3=iso).dropna(subset=["iso3"])
    size = raw.groupby(["iso3", "year"]).size()
    first = raw.groupby(["iso3", "year"])["gwf_regimetype"].first()
    got = res.table.set_index(["iso3", "year"])["regime_type"]
    checked = 0
    for iso3, year in size[size > 1].index:
        if (iso3, year + 1) in first.index:
            assert got[(iso3, year)] == first[(iso3, year + 1)], (iso3, year)
            checked += 1
    assert checked > 150
    assert got[("USA", 2000)] == "presidential"
    assert got[("TCD", 2020)] == "personal"  # the 2021 junta's stray 2020 row is not kept


# --------------------------------------------------------------------------- synthetic files


def _csv(tmp_path: Path, name: str, frame: pd.DataFrame) -> Path:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return path


def _fh_rows(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["fh_country", "year", "pr", "cl", "status", "GWn"])
    frame["fh_total"] = frame["pr"] + frame["cl"]
    return frame


@pytest.mark.parametrize(
    ("reader", "missing", "source"),
    [
        (read_freedom_house, ["fh_country", "status"], "Freedom House 'Freedom in the World'"),
        (read_vdem, ["country_text_id"], "V-Dem"),
        (read_vparty, ["v2paid", "v2pagovsup", "v2pariglef"], "V-Party"),
        (read_reign, ["reign_country", "gwf_regimetype"], "REIGN"),
    ],
)
def test_wrong_layout_names_file_columns_and_source(
    tmp_path: Path, reader, missing: list[str], source: str
) -> None:
    path = _csv(tmp_path, "mine.csv", pd.DataFrame({"country": ["Norway"], "year": [2000]}))
    with pytest.raises(InputError) as err:
        reader(path)
    text = str(err.value)
    assert str(path) in text
    for column in missing:
        assert column in text
    assert source in text
    assert "democracyData" in text or "vdemdata" in text or "V-Dem" in text
    assert err.value.fix


def test_unmatched_names_are_counted_not_lost(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "fh.csv",
        _fh_rows(
            [
                ("Norway", 2000, 1, 1, "F", 385),
                ("Atlantis", 2000, 3, 3, "PF", None),
                ("Atlantis", 2001, 3, 3, "PF", None),
                ("Tibet", 2000, 7, 7, "NF", None),
            ]
        ),
    )
    res = read_freedom_house(path)
    assert res.table[["iso3", "year"]].values.tolist() == [["NOR", 2000]]
    assert res.account.dropped[DROP_UNMATCHED] == 2
    assert res.account.dropped[DROP_ADAPTER_EXCLUDED] == 1
    assert res.harmonisation.unmatched == {"Atlantis": 2}
    _balanced(res, 4)
    # A study override maps the name and replaces nothing else.
    mapped = read_freedom_house(path, overrides={"Atlantis": "ISL"})
    assert mapped.account.dropped[DROP_UNMATCHED] == 0
    assert (mapped.table["iso3"] == "ISL").sum() == 2


def test_fh_duplicate_country_year_rule(tmp_path: Path) -> None:
    # Serbia and Yugoslavia both rated in 2006: Serbia continues into 2007 and wins.
    path = _csv(
        tmp_path,
        "fh.csv",
        _fh_rows(
            [
                ("Yugoslavia", 2005, 3, 2, "PF", 345),
                ("Yugoslavia", 2006, 4, 4, "PF", 345),
                ("Serbia", 2006, 3, 2, "F", 340),
                ("Serbia", 2007, 3, 2, "F", 340),
                # Cyprus vs a territory mapped onto it by the user: the state-coded row wins.
                ("Northern Cyprus", 2006, 2, 2, "F", None),
                ("Cyprus", 2006, 1, 1, "F", 352),
            ]
        ),
    )
    res = read_freedom_house(path, overrides={"Northern Cyprus": "CYP"})
    t = res.table.set_index(["iso3", "year"])
    assert t.loc[("SRB", 2006), "fh_status"] == "F"
    assert t.loc[("SRB", 2005), "fh_status"] == "PF"
    assert t.loc[("CYP", 2006), "fh_pr"] == 1
    assert res.account.dropped[DROP_DUPLICATE] == 2
    assert res.account.notes["duplicates"] == {
        "Yugoslavia -> Serbia": 1,
        "Northern Cyprus -> Cyprus": 1,
    }
    assert any("duplicate" in n for n in res.notes)


def test_fh_bad_status_names_row(tmp_path: Path) -> None:
    path = _csv(tmp_path, "fh.csv", _fh_rows([("Norway", 2000, 1, 1, "Free-ish", 385)]))
    with pytest.raises(InputError) as err:
        read_freedom_house(path)
    assert err.value.row == 2 and err.value.column == "status"


def test_vdem_code_beats_name(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "vdem_country_name": ["Serbia", "Yugoslavia", "Norway"],
            "country_text_id": ["SRB", "YUG", "NOR"],
            "year": [1995, 1995, 1995],
            "v2x_polyarchy": [0.3, 0.2, 0.9],
            "v2x_libdem": [0.2, 0.1, 0.8],
        }
    )
    res = read_vdem(_csv(tmp_path, "vdem.csv", frame))
    t = res.table.set_index(["iso3", "year"])
    assert t.loc[("SRB", 1995), "polyarchy"] == 0.3
    assert res.account.dropped[DROP_DUPLICATE] == 1
    with pytest.raises(InputError) as err:
        read_vdem(_csv(tmp_path, "vdem.csv", frame), indices=("polyarchy", "egaldem"))
    assert "v2x_egaldem" in str(err.value)


def _vparty_rows(rows: list[tuple]) -> pd.DataFrame:
    cols = ["v2paid", "country_text_id", "country_name", "year", "v2pagovsup", "v2pariglef"]
    frame = pd.DataFrame(rows, columns=cols)
    frame["v2paenname"] = "Party " + frame["v2paid"].astype(str)
    frame["pf_party_id"] = frame["v2paid"] + 1000
    frame["historical_date"] = frame["year"].astype(str) + "-06-01"
    return frame


def test_vparty_stopping_rule(tmp_path: Path) -> None:
    # Norway votes in 2001, 2005, 2009.  Party 1 misses 2005; party 2 misses 2009.
    path = _csv(
        tmp_path,
        "vp.csv",
        _vparty_rows(
            [
                (1, "NOR", "Norway", 2001, 0, 1.0),
                (2, "NOR", "Norway", 2001, 3, -1.0),
                (2, "NOR", "Norway", 2005, 1, -0.5),
                (1, "NOR", "Norway", 2009, 3, 1.5),
            ]
        ),
    )
    res = read_vparty(path, last_year=2011)
    t = res.table.set_index(["party_id", "year"])
    one = t.loc["vparty-1"]
    assert list(one.index) == [2001, 2002, 2003, 2004, 2009, 2010, 2011]
    assert list(one["status"]) == ["senior"] * 4 + ["opposition"] * 3
    two = t.loc["vparty-2"]
    assert list(two.index) == list(range(2001, 2009))  # stops at Norway's 2009 election
    assert list(two["status"]) == ["opposition"] * 4 + ["junior"] * 4
    assert two.loc[2007, "lr_position"] == -0.5
    assert any("beyond the file's last year" in n for n in res.notes)
    _balanced(res, 4)

    later = read_vparty(path, first_year=2006, last_year=2008)
    assert later.account.dropped[DROP_SUPERSEDED] == 2  # both 2001 rows end in 2004
    assert later.account.dropped["year after last_year"] == 1
    assert list(later.table["year"]) == [2006, 2007, 2008]
    _balanced(later, 4)


def test_vparty_code_4_is_missing_and_reported(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "vp.csv",
        _vparty_rows(
            [
                (1, "ESP", "Spain", 2015, 4, 0.5),
                (1, "ESP", "Spain", 2016, 0, 0.6),
                (2, "ESP", "Spain", 2015, None, -0.4),
            ]
        ),
    )
    res = read_vparty(path)
    t = res.table.set_index(["party_id", "year"])
    assert pd.isna(t.loc[("vparty-1", 2015), "status"])
    assert t.loc[("vparty-1", 2016), "status"] == "senior"
    assert pd.isna(t.loc[("vparty-2", 2015), "status"])
    assert res.account.notes["status_code_4_not_applicable"] == 1
    assert res.account.notes["status_code_missing"] == 1
    assert res.account.rows_out == 3  # missing status is reported, not dropped
    bad = _vparty_rows([(1, "ESP", "Spain", 2015, 7, 0.5)])
    with pytest.raises(InputError) as err:
        read_vparty(_csv(tmp_path, "bad.csv", bad))
    assert err.value.column == "v2pagovsup"


def test_vparty_same_year_and_duplicate_country(tmp_path: Path) -> None:
    frame = _vparty_rows(
        [
            (1, "GRC", "Greece", 2012, 3, 0.1),
            (1, "GRC", "Greece", 2012, 0, 0.1),
            (5, "TZA", "Tanzania", 2010, 0, 0.0),
            (6, "XTZ", "Tanzania", 2010, 3, 0.0),  # no ISO3 code: name gives TZA again
        ]
    )
    frame.loc[0, "historical_date"] = "2012-05-06"
    frame.loc[1, "historical_date"] = "2012-06-17"
    res = read_vparty(_csv(tmp_path, "vp.csv", frame))
    t = res.table.set_index(["party_id", "year"])
    assert t.loc[("vparty-1", 2012), "status"] == "senior"  # the June election
    assert res.account.dropped[DROP_SAME_YEAR] == 1
    assert res.account.dropped[DROP_DUPLICATE_COUNTRY] == 1
    assert res.account.notes["duplicate_countries"] == {"XTZ": "TZA"}
    assert "vparty-6" not in set(res.table["party_id"])
    _balanced(res, 4)


def _reign_rows(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        rows, columns=["reign_cowcode", "reign_country", "gwf_casename", "gwf_regimetype", "year"]
    )


def test_reign_end_of_year_rule(tmp_path: Path) -> None:
    path = _csv(
        tmp_path,
        "reign.csv",
        _reign_rows(
            [
                # 2000: the new regime is listed first, yet it is the one still there in 2001.
                (90, "Guatemala", "Guatemala2", "military", 2000),
                (90, "Guatemala", "Guatemala1", "personal", 2000),
                (90, "Guatemala", "Guatemala2", "military", 2001),
                # 2002 is the file's last year: no continuation, so the last row wins.
                (90, "Guatemala", "Guatemala2", "military", 2002),
                (90, "Guatemala", "Guatemala3", "presidential", 2002),
                (92, "Cen African Rep", "CAR1", "personal", 2002),
            ]
        ),
    )
    res = read_reign(path)
    t = res.table.set_index(["iso3", "year"])["regime_type"]
    assert t[("GTM", 2000)] == "military"
    assert t[("GTM", 2002)] == "presidential"
    assert t[("CAF", 2002)] == "personal"
    stats = res.account.notes["end_of_year_rule"]
    assert stats["resolved"] == 2 and stats["by_continuation_not_file_order"] == 1
    assert res.account.dropped[DROP_EARLIER_REGIME] == 2
    _balanced(res, 6)


def test_reign_month_column_decides(tmp_path: Path) -> None:
    frame = _reign_rows(
        [
            (90, "Guatemala", "Guatemala2", "military", 2000),
            (90, "Guatemala", "Guatemala1", "personal", 2000),
        ]
    )
    frame["month"] = [11, 3]
    res = read_reign(_csv(tmp_path, "reign.csv", frame))
    assert res.table["regime_type"].tolist() == ["military"]
    assert "latest month" in res.notes[0]


def test_r_export_na_text_is_missing(tmp_path: Path) -> None:
    """write.csv() in R writes missing values as NA; they must not break or be misread."""
    path = tmp_path / "vp.csv"
    path.write_text(
        "v2paid,v2paenname,pf_party_id,country_text_id,country_name,year,v2pagovsup,v2pariglef\n"
        "1,Party 1,NA,NOR,Norway,2001,NA,NA\n"
        "1,Party 1,NA,NOR,Norway,2005,3,0.5\n"
    )
    res = read_vparty(path)
    assert res.table["status"].isna().sum() == 4
    assert res.table["pf_party_id"].isna().all()
    assert res.account.notes["status_code_missing"] == 1


@pytest.mark.parametrize(("reader", "name"), [(read_freedom_house, FH), (read_reign, REIGN)])
def test_parquet_reads_like_csv(shared_data: Path, tmp_path: Path, reader, name: str) -> None:
    """read_table gives typed columns for Parquet and text for CSV; results must agree."""
    path = _file(shared_data, name)
    parquet = tmp_path / "copy.parquet"
    pd.read_csv(path).to_parquet(parquet)
    a, b = reader(path), reader(parquet)
    pd.testing.assert_frame_equal(a.table, b.table, check_dtype=False)
    assert a.account.dropped == b.account.dropped
