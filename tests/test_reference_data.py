"""Checks on the hand-compiled reference tables in ``cpcstats/reference``."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

REF = Path(__file__).resolve().parents[1] / "cpcstats" / "reference"
ISO3 = r"^[A-Z]{3}$"


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / name, dtype=str, keep_default_na=False, encoding="utf-8")


@pytest.fixture(scope="module")
def recog() -> pd.DataFrame:
    df = _read("taiwan_recognition.csv")
    df["parsed"] = pd.to_datetime(df["date"], format="%Y-%m-%d", errors="coerce")
    return df


@pytest.fixture(scope="module")
def bri() -> pd.DataFrame:
    return _read("bri_signatories.csv")


@pytest.fixture(scope="module")
def states() -> pd.DataFrame:
    return _read("states.csv")


def _status(recog: pd.DataFrame, iso3: str, date: str) -> str:
    rows = recog[recog["iso3"] == iso3].sort_values("parsed", kind="stable")
    assert not rows.empty, iso3
    before = rows[rows["parsed"] <= pd.Timestamp(date)]
    return rows.iloc[0]["from"] if before.empty else before.iloc[-1]["to"]


def _events(recog, iso3, year=None, frm=None, to=None, kind=None):
    sel = recog[recog["iso3"] == iso3]
    if year is not None:
        years = {year} if isinstance(year, int) else set(year)
        sel = sel[sel["parsed"].dt.year.isin(years)]
    if frm is not None:
        sel = sel[sel["from"] == frm]
    if to is not None:
        sel = sel[sel["to"] == to]
    if kind is not None:
        sel = sel[sel["kind"] == kind]
    return sel


# ---------------------------------------------------------------- common shape
@pytest.mark.parametrize(
    "name, cols",
    [
        (
            "taiwan_recognition.csv",
            ["iso3", "country", "date", "from", "to", "kind", "note", "source"],
        ),
        (
            "bri_signatories.csv",
            ["iso3", "country", "signing_year", "signing_date", "exit_year", "note", "source"],
        ),
        ("states.csv", ["iso3", "name", "first_year", "last_year", "note", "source"]),
    ],
)
def test_columns_sources_and_codes(name, cols):
    df = _read(name)
    assert list(df.columns) == cols
    assert len(df) > 0
    assert (df["source"].str.strip() != "").all(), df.loc[
        df["source"].str.strip() == "", "iso3"
    ].tolist()
    assert df["iso3"].str.fullmatch(ISO3).all(), df.loc[
        ~df["iso3"].str.fullmatch(ISO3), "iso3"
    ].tolist()


# ----------------------------------------------------------------- recognition
def test_recognition_values(recog):
    assert recog["parsed"].notna().all(), recog.loc[recog["parsed"].isna(), "date"].tolist()
    assert set(recog["from"]) <= {"PRC", "ROC", "none"}
    assert set(recog["to"]) <= {"PRC", "ROC", "none"}
    assert set(recog["kind"]) <= {"switch", "establish", "baseline", "contested"}
    assert (recog["from"] != recog["to"]).all()
    assert (recog["country"].str.strip() != "").all()
    # baselines predate 1990; everything else is from 1990 on
    assert (recog.loc[recog["kind"] == "baseline", "parsed"] < pd.Timestamp("1990-01-01")).all()
    assert (recog.loc[recog["kind"] != "baseline", "parsed"] >= pd.Timestamp("1990-01-01")).all()


def test_recognition_chains_in_date_order(recog):
    for iso3, rows in recog.groupby("iso3", sort=False):
        assert rows["parsed"].is_monotonic_increasing, iso3
        assert rows["country"].nunique() == 1, iso3
        tos = rows["to"].tolist()
        froms = rows["from"].tolist()
        for i in range(1, len(rows)):
            assert froms[i] == tos[i - 1], (iso3, rows.iloc[i]["date"])


def test_every_country_recognised_roc_since_1990(recog):
    for iso3, rows in recog.groupby("iso3"):
        on_1990 = _status(recog, iso3, "1990-01-01") == "ROC"
        later = (rows.loc[rows["parsed"] >= pd.Timestamp("1990-01-01"), "to"] == "ROC").any()
        assert on_1990 or later, iso3
        if on_1990:
            assert (rows["kind"] == "baseline").any(), iso3


@pytest.mark.parametrize(
    "iso3, year, frm, to",
    [
        ("PAN", 2017, "ROC", "PRC"),
        ("HND", 2023, "ROC", "PRC"),
        ("NIC", 2021, "ROC", "PRC"),
        ("NIC", 1990, "PRC", "ROC"),
        ("SEN", 2005, "ROC", "PRC"),
        ("CRI", 2007, "ROC", "PRC"),
        ("NRU", 2024, "ROC", "PRC"),
        ("NRU", 2005, "PRC", "ROC"),
        ("NRU", 2002, "ROC", "PRC"),
        ("SAU", 1990, "ROC", "PRC"),
        ("KOR", 1992, "ROC", "PRC"),
        ("ZAF", 1998, "ROC", "PRC"),
        ("SLV", 2018, "ROC", "PRC"),
        ("DOM", 2018, "ROC", "PRC"),
        ("BFA", 2018, "ROC", "PRC"),
        ("SLB", 2019, "ROC", "PRC"),
        ("KIR", 2019, "ROC", "PRC"),
        ("KIR", 2003, "PRC", "ROC"),
        ("LCA", 2007, "PRC", "ROC"),
        ("GMB", 2016, "none", "PRC"),
        ("MKD", 2001, "ROC", "PRC"),
        ("PLW", 1999, "none", "ROC"),
    ],
)
def test_recognition_spot_facts(recog, iso3, year, frm, to):
    assert not _events(recog, iso3, year, frm, to).empty, (iso3, year, frm, to)


def test_malawi_dated_by_the_public_establishment_rule(recog):
    """The 2007-12-28 communiqué was confidential until 2008-01-14: a 2008 switcher."""
    switch = _events(recog, "MWI", to="PRC", kind="switch")
    assert switch["date"].tolist() == ["2008-01-14"]
    assert _events(recog, "MWI", 2007, "ROC", "PRC").empty


def test_confidential_communiques_take_the_announcement_date(recog):
    """Rows whose note says the communiqué was kept confidential are dated later than it.

    The rule (README): the later of the day relations took effect and the day
    they became public.  Each such note names the communiqué's signing date,
    which must be earlier than the row's date.
    """
    confidential = recog[recog["note"].str.contains("kept confidential")]
    assert set(confidential["iso3"]) == {"MWI", "CRI"}
    for _, row in confidential.iterrows():
        signed = pd.Timestamp(re.findall(r"\d{4}-\d{2}-\d{2}", row["note"])[0])
        assert signed < row["parsed"], row["iso3"]


def _panel_status(iso3: str, years: range) -> list[int]:
    from cpcstats.reference import load_reference, recognition_years

    frame = pd.DataFrame({"iso3": iso3, "year": list(years)})
    return recognition_years(load_reference("taiwan"), frame)["recognizes_prc"].tolist()


@pytest.mark.parametrize(
    "iso3, years, expected",
    [
        # Palau: independent 1994, first row 1999-12-29 none -> ROC
        ("PLW", range(1994, 2001), [0, 0, 0, 0, 0, 0, 0]),
        # North Macedonia: none until 1993-10-12, ROC 1999-2001 (year-end rule)
        ("MKD", range(1991, 2003), [0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1]),
        # Malawi: ROC until the 2008-01-14 announcement
        ("MWI", range(2006, 2010), [0, 0, 1, 1]),
        # Latvia: first row 1991-09-12 none -> PRC; contested 1992-94 episode
        ("LVA", range(1991, 1996), [1, 0, 0, 1, 1]),
        # no rows at all: recognises the PRC throughout
        ("FRA", range(1990, 1993), [1, 1, 1]),
    ],
)
def test_panel_status_before_first_row_is_its_from(iso3, years, expected):
    assert _panel_status(iso3, years) == expected


def test_status_before_first_row_on_a_synthetic_table():
    """The code reads ``from`` of the first row, not a default of "PRC"."""
    from cpcstats.reference import recognition_years

    taiwan = pd.DataFrame(
        {
            "iso3": ["AAA", "BBB", "CCC"],
            "date": pd.to_datetime(["2003-06-01", "2003-06-01", "2003-06-01"]),
            "from": ["none", "ROC", "PRC"],
            "to": ["ROC", "PRC", "ROC"],
            "kind": ["establish", "switch", "switch"],
        }
    )
    frame = pd.DataFrame({"iso3": ["AAA", "BBB", "CCC"] * 2, "year": [2002] * 3 + [2003] * 3})
    out = recognition_years(taiwan, frame).set_index(["iso3", "year"])["recognizes_prc"]
    assert out.to_dict() == {
        ("AAA", 2002): 0,
        ("BBB", 2002): 0,
        ("CCC", 2002): 1,
        ("AAA", 2003): 0,
        ("BBB", 2003): 1,
        ("CCC", 2003): 0,
    }


def test_contested_episodes(recog):
    assert not _events(recog, "VUT", 2004, kind="contested").empty
    assert not _events(recog, "PNG", 1999, kind="contested").empty
    assert not _events(recog, "LVA", 1992, kind="contested").empty
    # contested episodes never leave a full switch behind
    for iso3 in ("VUT", "PNG", "LVA"):
        assert _status(recog, iso3, "2010-01-01") == "PRC"


@pytest.mark.parametrize(
    "iso3, date, status",
    [
        ("LBR", "2000-06-30", "ROC"),
        ("LBR", "1995-06-30", "PRC"),
        ("GMB", "2015-01-01", "none"),
        ("GMB", "2010-01-01", "ROC"),
        ("ZAF", "1995-01-01", "ROC"),
        ("NRU", "2003-01-01", "PRC"),
        ("NRU", "2010-01-01", "ROC"),
        ("LCA", "2000-01-01", "PRC"),
        ("NIC", "1989-06-30", "PRC"),
        ("VAT", "2025-01-01", "ROC"),
        ("PRY", "2025-01-01", "ROC"),
    ],
)
def test_status_at_date(recog, iso3, date, status):
    assert _status(recog, iso3, date) == status


def test_current_roc_allies(recog):
    allies = {
        iso3 for iso3 in recog["iso3"].unique() if _status(recog, iso3, "2025-06-30") == "ROC"
    }
    assert allies == {
        "PRY",
        "GTM",
        "HTI",
        "SWZ",
        "VAT",
        "TUV",
        "MHL",
        "PLW",
        "KNA",
        "VCT",
        "BLZ",
        "LCA",
    }


# ------------------------------------------------------------------------- BRI
def test_bri_rows(bri):
    assert len(bri) >= 140
    assert bri["iso3"].is_unique
    assert "CHN" not in set(bri["iso3"])
    years = pd.to_numeric(bri["signing_year"], errors="raise")
    assert years.between(2013, 2025).all()
    dated = bri[bri["signing_date"] != ""]
    parsed = pd.to_datetime(dated["signing_date"], format="%Y-%m-%d", errors="raise")
    assert (parsed.dt.year == dated["signing_year"].astype(int)).all()
    exits = bri[bri["exit_year"] != ""]
    assert (exits["exit_year"].astype(int) >= exits["signing_year"].astype(int)).all()


def test_bri_spot_facts(bri):
    row = bri.set_index("iso3")
    assert row.loc["ITA", "signing_year"] == "2019"
    assert row.loc["ITA", "exit_year"] == "2023"
    assert row.loc["PAN", "signing_year"] == "2017"
    assert row.loc["PAN", "exit_year"] == "2025"
    assert row.loc["HUN", "signing_year"] == "2015"
    assert row.loc["NZL", "signing_year"] == "2017"
    assert row.loc["ARG", "signing_year"] == "2022"
    # Taipei's current allies have not signed
    assert not {"PRY", "GTM", "HTI", "SWZ", "VAT", "TUV"} & set(bri["iso3"])
    # exits are rare
    assert set(bri.loc[bri["exit_year"] != "", "iso3"]) == {"ITA", "PAN"}


# ---------------------------------------------------------------------- states
def test_states(states):
    assert states["iso3"].is_unique
    assert not {"CHN", "TWN", "HKG", "MAC"} & set(states["iso3"])
    first = states.set_index("iso3")["first_year"].astype(int)
    last = pd.to_numeric(states.set_index("iso3")["last_year"].replace("", None))
    assert first.loc["SSD"] == 2011
    assert first.loc["TLS"] == 2002
    assert first.loc["MNE"] == 2006
    assert first.loc["XKX"] == 2008
    assert first.loc["CZE"] == first.loc["SVK"] == 1993
    assert last.loc["DDR"] == 1990 and last.loc["SUN"] == 1991 and last.loc["CSK"] == 1992
    assert {"VAT", "PSE", "XKX", "SRB", "DEU", "YEM", "RUS"} <= set(states["iso3"])
    ok = last.isna() | (last >= first)
    assert ok.all()

    def existing(year):
        return set(first.index[(first <= year) & (last.isna() | (last >= year))])

    assert len(existing(2017)) >= 190
    assert len(existing(2017)) == 195  # 192 UN members (no China) + VAT, PSE, XKX
    assert "SSD" not in existing(2010) and "SSD" in existing(2011)


def test_reference_codes_are_states(recog, bri, states):
    known = set(states["iso3"])
    assert set(recog["iso3"]) <= known, set(recog["iso3"]) - known
    assert set(bri["iso3"]) - known == {"COK", "NIU"}
