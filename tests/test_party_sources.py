"""Party status and parties from registers in a study file, on the real DPI / Party Facts files.

``[party_status] source = "dpi"``, ``[parties] source = "partyfacts" | "dpi"``,
``[covariates] dpi / partyfacts / leaders_global`` and contacts that carry only a
``party_name``.  The expected parties and statuses are facts of Japanese, Cambodian and
Vietnamese politics, not numbers of one run.

Year convention: the DPI records each year's situation on January 1 (its codebook), and
the study keeps the DPI's years.  So the tests read the DPI's 2010 row for "Japan 2010"
(the DPJ, in power since the August 2009 election) and its 2015 row for "Japan 2015"
(LDP-Komeito since December 2012); Cambodia's 2015 row has the CNRP that entered the
assembly in July 2013.  The same facts hold for these years under ``year_end = true``
(tested below), so the assertions do not hinge on the convention; the 2009 row does
(LDP on January 1, 2009; DPJ at the end of 2009).

Skipped when ../shared/data is absent.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from cpcstats.check import check_study
from cpcstats.cli import main
from cpcstats.errors import SpecError
from cpcstats.panels import party_year
from cpcstats.study import load_study
from cpcstats.study.registers import DROP_NAME_UNMATCHED, DROP_NO_STATUS

DPI = "dpi2020_1975_2020.csv"
PF = "partyfacts_core_parties.csv"
PF_DPI = "partyfacts_dpi_parties.csv"
LG = "leaders_global_1880_2020.csv"

# Party Facts ids, looked up in partyfacts_core_parties.csv.
DPJ, LDP, KOMEITO, CPV, CPP, CNRP = 1804, 1746, 1515, 4898, 3765, 5521

NAMED = [
    ("2010-05-01", "Vietnam", "party", "Communist Party of Vietnam (CPV)"),
    ("2011-05-01", "Vietnam", "party", "Vietnamese Communist Party"),
    ("2015-03-01", "Japan", "party", "Japan's New Komeito"),
    ("2015-04-01", "Japan", "party", "Liberal Democratic Party"),
    ("2010-04-01", "Japan", "party", "Democratic Party of Japan"),
    ("2015-06-01", "Cambodia", "party", "Cambodian People's Party"),
    ("2015-07-01", "Cambodia", "party", "Cambodia National Rescue Party"),
    ("2012-02-01", "Germany", "state", ""),
]


def _contacts(folder: Path, rows: list[tuple[str, str, str, str]]) -> None:
    frame = pd.DataFrame(rows, columns=["date", "country", "counterpart_type", "party_name"])
    frame["direction"] = "inbound"
    frame.to_csv(folder / "contacts.csv", index=False)


def _study(folder: Path, data: Path, body: str, rows: list | None = None) -> Path:
    _contacts(folder, NAMED if rows is None else rows)
    head = (
        "[study]\nname = 'parties'\nfirst_year = 2005\nlast_year = 2017\n"
        "[contacts]\npath = 'contacts.csv'\n"
    )
    text = (head + body).replace("DATA/", data.as_posix() + "/")
    path = folder / "study.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _need(data: Path, *files: str) -> None:
    for name in files:
        if not (data / name).is_file():
            pytest.skip(f"{name} not in {data}")


DPI_ONLY = "[party_status]\nsource = 'dpi'\n[covariates]\ndpi = 'DATA/dpi2020_1975_2020.csv'\n"
REGISTER = """
[parties]
source = "partyfacts"
[party_status]
source = "dpi"
[covariates.partyfacts]
path = "DATA/partyfacts_core_parties.csv"
dpi_links = "DATA/partyfacts_dpi_parties.csv"
[covariates]
dpi = "DATA/dpi2020_1975_2020.csv"
leaders_global = "DATA/leaders_global_1880_2020.csv"
"""

NAMES_ONLY = (
    "[covariates]\npartyfacts = 'DATA/partyfacts_core_parties.csv'\n"
    "[parties]\nsource = 'partyfacts'\n"
)


@pytest.fixture(scope="module")
def dpi_study(shared_data: Path, tmp_path_factory: pytest.TempPathFactory):
    """DPI status with the DPI's own parties (no [parties]): ids dpi-ISO3-spelling."""
    _need(shared_data, DPI)
    rows = [("2010-05-01", "Vietnam", "state", ""), ("2015-05-01", "Japan", "state", "")]
    return load_study(_study(tmp_path_factory.mktemp("dpi"), shared_data, DPI_ONLY, rows))


@pytest.fixture(scope="module")
def pf_study(shared_data: Path, tmp_path_factory: pytest.TempPathFactory):
    """DPI status on Party Facts parties; contacts named only by party_name."""
    _need(shared_data, DPI, PF, PF_DPI, LG)
    return load_study(_study(tmp_path_factory.mktemp("pf"), shared_data, REGISTER))


def _status(study, party: str, year: int) -> str | None:
    s = study.party_status.set_index(["party_id", "year"])["status"]
    return s.get((party, year))


def test_dpi_status_japan_cambodia_vietnam(dpi_study) -> None:
    st = dpi_study
    assert _status(st, "dpi-JPN-DPJ", 2010) == "senior"
    assert _status(st, "dpi-JPN-LDP", 2010) == "opposition"
    assert _status(st, "dpi-JPN-New Komeito", 2010) == "opposition"
    assert _status(st, "dpi-JPN-LDP", 2015) == "senior"
    assert _status(st, "dpi-JPN-New Komeito", 2015) == "junior"
    assert _status(st, "dpi-JPN-DPJ", 2015) == "opposition"
    assert _status(st, "dpi-KHM-CPP", 2015) == "senior"
    assert _status(st, "dpi-KHM-CNRP", 2015) == "opposition"
    vnm = st.party_status[st.party_status["party_id"].str.startswith("dpi-VNM-")]
    assert set(vnm["party_id"]) == {"dpi-VNM-CPV"}
    assert sorted(vnm["year"]) == list(range(2005, 2018))
    assert (vnm["status"] == "senior").all()
    panel = party_year(st).data.set_index(["party_id", "year"])
    assert panel.loc[("dpi-JPN-DPJ", 2010), "ruling"] == 1
    assert panel.loc[("dpi-JPN-New Komeito", 2015), "ruling"] == 1
    assert panel.loc[("dpi-JPN-DPJ", 2015), "opposition"] == 1
    assert (panel.loc["dpi-VNM-CPV", "ruling"] == 1).all()


def test_dpi_status_rows_are_accounted(dpi_study, shared_data: Path) -> None:
    """Status rows = DPI party-years of the window minus those without status, which are
    exactly the executive-only rows of country-years that name other parties (recomputed
    from the raw file with plain pandas)."""
    (account,) = [a for a in dpi_study.ledger.stages if a.stage == "party status: from the DPI"]
    assert account.rows_in == account.rows_out + account.dropped[DROP_NO_STATUS]
    assert account.rows_out == len(dpi_study.party_status)
    raw = pd.read_csv(shared_data / DPI, dtype=str, keep_default_na=False)
    raw = raw[raw["year"].astype(int).between(2005, 2017)]

    def named(v: str) -> bool:
        text = v.strip()
        return text not in ("", "NA", "-999", "0") and not text.lstrip("-").isdigit()

    gov = raw[["gov1me", "gov2me", "gov3me"]].map(named).any(axis=1)
    slots = raw[["gov1me", "gov2me", "gov3me", "opp1me", "opp2me", "opp3me"]]
    in_slot = [
        ex.strip().casefold() in {s.strip().casefold() for s in row}
        for ex, row in zip(raw["execme"], slots.to_numpy(), strict=True)
    ]
    exec_only = raw["execme"].map(named) & ~pd.Series(in_slot, index=raw.index) & gov
    # The adapter also drops non-party executives ("independent") and excluded units; the
    # count here may only exceed the adapter's by such rows.
    assert 0 < account.dropped[DROP_NO_STATUS] <= int(exec_only.sum())


def test_year_end_relabels_the_dpi_rows(shared_data: Path, tmp_path: Path) -> None:
    _need(shared_data, DPI)
    body = DPI_ONLY.replace(
        "dpi = 'DATA/dpi2020_1975_2020.csv'",
        "dpi = { path = 'DATA/dpi2020_1975_2020.csv', year_end = true }",
    )
    st = load_study(_study(tmp_path, shared_data, body, [("2010-05-01", "Japan", "state", "")]))
    assert _status(st, "dpi-JPN-DPJ", 2009) == "senior"  # the DPI's 2010 row
    assert _status(st, "dpi-JPN-DPJ", 2010) == "senior"
    assert _status(st, "dpi-JPN-LDP", 2015) == "senior"
    assert _status(st, "dpi-JPN-New Komeito", 2015) == "junior"


def test_partyfacts_parties_with_dpi_status(pf_study) -> None:
    st = pf_study
    ids = {f"pf-{p}" for p in (DPJ, LDP, KOMEITO, CPV, CPP, CNRP)}
    assert ids <= set(st.parties["party_id"])
    assert _status(st, f"pf-{DPJ}", 2010) == "senior"
    assert _status(st, f"pf-{LDP}", 2010) == "opposition"
    assert _status(st, f"pf-{KOMEITO}", 2010) == "opposition"
    assert _status(st, f"pf-{LDP}", 2015) == "senior"
    assert _status(st, f"pf-{KOMEITO}", 2015) == "junior"
    assert _status(st, f"pf-{DPJ}", 2015) == "opposition"
    assert _status(st, f"pf-{CPP}", 2015) == "senior"
    assert _status(st, f"pf-{CNRP}", 2015) == "opposition"
    vnm = st.party_status[st.party_status["party_id"] == f"pf-{CPV}"]
    assert sorted(vnm["year"]) == list(range(2005, 2018)) and (vnm["status"] == "senior").all()
    assert st.party_status.duplicated(["party_id", "year"]).sum() == 0
    for account in st.ledger.stages:
        assert account.rows_in == account.rows_out + sum(account.dropped.values()), account


def test_named_contacts_are_linked(pf_study) -> None:
    st = pf_study
    party = st.contacts[st.contacts["counterpart_type"] == "party"]
    got = dict(zip(party["party_name"], party["party_id"], strict=True))
    assert got["Communist Party of Vietnam (CPV)"] == got["Vietnamese Communist Party"]
    assert got["Communist Party of Vietnam (CPV)"] == f"pf-{CPV}"
    assert got["Japan's New Komeito"] == f"pf-{KOMEITO}"
    assert got["Democratic Party of Japan"] == f"pf-{DPJ}"
    assert got["Cambodia National Rescue Party"] == f"pf-{CNRP}"
    assert {m.how for m in st.party_matching.matches} <= {"exact", "normalised"}
    panel = party_year(st).data.set_index(["party_id", "year"])
    assert panel.loc[(f"pf-{CPV}", 2010), "contacts"] == 1
    assert panel.loc[(f"pf-{KOMEITO}", 2015), "contacts"] == 1
    assert panel.loc[(f"pf-{KOMEITO}", 2015), "ruling"] == 1


def test_dpi_parties_with_named_contacts(shared_data: Path, tmp_path: Path) -> None:
    """``[parties] source = "dpi"``: the DPI's ids; a named contact reaches its DPI party
    through the Party Facts id both its name and the DPI spelling are matched to."""
    _need(shared_data, DPI, PF)
    body = (
        "[parties]\nsource = 'dpi'\n[party_status]\nsource = 'dpi'\n[covariates]\n"
        "dpi = 'DATA/dpi2020_1975_2020.csv'\npartyfacts = 'DATA/partyfacts_core_parties.csv'\n"
    )
    st = load_study(_study(tmp_path, shared_data, body))
    party = st.contacts[st.contacts["counterpart_type"] == "party"]
    got = dict(zip(party["party_name"], party["party_id"], strict=True))
    assert got["Vietnamese Communist Party"] == "dpi-VNM-CPV"
    assert got["Japan's New Komeito"] == "dpi-JPN-New Komeito"
    assert got["Cambodia National Rescue Party"] == "dpi-KHM-CNRP"
    assert _status(st, "dpi-JPN-New Komeito", 2015) == "junior"
    assert st.parties.set_index("party_id").loc["dpi-JPN-LDP", "partyfacts_id"] == LDP


def test_vparty_status_on_partyfacts_parties(shared_data: Path, tmp_path: Path) -> None:
    """V-Party status re-keyed to Party Facts ids through V-Party's own pf_party_id; named
    contacts reach the same ids.  Japan 2015 (V-Party's 2014 election row, carried
    forward): LDP senior, Komeito junior, DPJ opposition."""
    _need(shared_data, PF, "vparty_1990_2019.csv")
    body = (
        "[parties]\nsource = 'partyfacts'\n[party_status]\nsource = 'vparty'\n[covariates]\n"
        "vparty = 'DATA/vparty_1990_2019.csv'\npartyfacts = 'DATA/partyfacts_core_parties.csv'\n"
    )
    st = load_study(_study(tmp_path, shared_data, body))
    assert _status(st, f"pf-{LDP}", 2015) == "senior"
    assert _status(st, f"pf-{KOMEITO}", 2015) == "junior"
    assert _status(st, f"pf-{DPJ}", 2015) == "opposition"
    party = st.contacts[st.contacts["counterpart_type"] == "party"]
    assert f"pf-{KOMEITO}" in set(party["party_id"])
    (linked,) = [a for a in st.ledger.stages if "linked to Party Facts" in a.stage]
    assert linked.rows_in == linked.rows_out + sum(linked.dropped.values())


def test_published_names_meet_the_register_parties(pf_study) -> None:
    """The Table 1 lookup on this study: published names (the paper's spelling) find the
    Party Facts parties through the register the study keeps (``party_register``)."""
    from cpcstats.party_names import match_known_party

    p = pf_study.parties
    known = pd.DataFrame(
        {
            "party_id": p["party_id"],
            "party": p["party_name"],
            "iso3": p["iso3"],
            "partyfacts_id": p["partyfacts_id"],
        }
    )
    register = pf_study.party_register
    assert register is not None
    for name, iso3, pid in [
        ("Komeito", "JPN", KOMEITO),
        ("Communist Party of Vietnam", "VNM", CPV),
        ("Cambodian People's Party", "KHM", CPP),
        ("Democratic Party of Japan", "JPN", DPJ),
    ]:
        m = match_known_party(name, iso3, known, register=register)
        assert m.problem is None and m.found["party_id"].tolist() == [f"pf-{pid}"], (name, m)


def test_executive_party_covariate_from_leaders_global(pf_study, shared_data: Path) -> None:
    cov = pf_study.covariates.set_index(["iso3", "year"])
    raw = pd.read_csv(shared_data / LG, low_memory=False)
    jpn = raw[(raw["country_short"] == "JPN") & (raw["year"] == 2010)].iloc[0]
    assert cov.loc[("JPN", 2010), "executive_party"] == int(jpn["HoG_party_id"]) == DPJ
    assert cov.loc[("JPN", 2015), "executive_party"] == LDP
    assert cov.loc[("VNM", 2012), "executive_party"] == CPV
    (note,) = [n for n in pf_study.notes if "DPI execme vs Leaders Global" in n]
    found = re.search(r"agree in ([\d,]+) of ([\d,]+) country-years", note)
    assert found is not None, note
    agree, total = (int(g.replace(",", "")) for g in found.groups())
    # The adapter-level test measures 87.9 % over 1975-2020 (tests/test_adapters_parties.py).
    assert total > 1000 and 0.8 < agree / total < 1.0


def test_unmatched_name_fails_check_and_an_override_settles_it(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Names only (no status source), so that the two loads stay quick."""
    _need(shared_data, PF)
    rows = [*NAMED, ("2012-07-01", "Cambodia", "party", "Khmer Rising Sun Movement")]
    path = _study(tmp_path, shared_data, NAMES_ONLY, rows)
    assert main(["check", "--study", str(path)]) == 1
    out = capsys.readouterr().out
    assert "'Khmer Rising Sun Movement' -> (none) [unmatched" in out
    assert DROP_NAME_UNMATCHED in out.split("NOT READY:")[1]
    body = NAMES_ONLY + '[parties.overrides]\n"KHM:Khmer Rising Sun Movement" = 3762\n'
    report = check_study(_study(tmp_path, shared_data, body, rows))
    assert report.ok, report.problems
    st = report.study
    assert "pf-3762" in set(st.contacts["party_id"])
    assert [m.how for m in st.party_matching.matches if m.name.startswith("Khmer")] == ["override"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[party_status]\nsource = 'wiki'\n", "not a known source"),
        ("[party_status]\nsource = 'dpi'\n", "needs the DPI file"),
        ("[parties]\nsource = 'partyfacts'\n", "needs the Party Facts file"),
        ("[parties]\nsource = 'ches'\n", "not a known party register"),
        ("[parties]\nsource = 'dpi'\npath = 'p.csv'\n", "both a path and a source"),
        (
            "[parties.overrides]\n'X' = 'abc'\n[covariates]\npartyfacts = 'pf.csv'\n",
            "not a Party Facts id",
        ),
        ("[parties.overrides]\n'X' = 12\n", "names no partyfacts file"),
    ],
)
def test_party_source_mistakes_are_spec_errors(tmp_path: Path, body: str, message: str) -> None:
    path = _study(tmp_path, tmp_path, body, [("2010-05-01", "Japan", "state", "")])
    with pytest.raises(SpecError, match=message):
        load_study(path)
