"""Tests for country harmonisation (cpcstats.countries)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cpcstats.accounting import StageAccount
from cpcstats.countries import (
    DEFAULT_OVERRIDES,
    DROP_EXCLUDED,
    DROP_UNMATCHED,
    MISSING,
    HarmonisationReport,
    country_name,
    harmonise_countries,
    is_iso3,
)
from cpcstats.errors import InputError, SpecError

VITAE = "china_vitae_elite_engagements_2003_2018.csv"

# Messy spellings seen in diplomatic-event data and the ISO3 code each must get.
MESSY = [
    ("England", "GBR"),
    ("Wales", "GBR"),
    ("Scotland", "GBR"),
    ("Northern Ireland", "GBR"),
    ("United Kingdom", "GBR"),
    ("Antigua", "ATG"),
    ("Antigua and Barbuda", "ATG"),
    ("Macedonia", "MKD"),
    ("North Macedonia", "MKD"),
    ("East Timor", "TLS"),
    ("Timor-Leste", "TLS"),
    ("Ivory Coast", "CIV"),
    ("Côte d'Ivoire", "CIV"),
    ("Cote d'Ivoire", "CIV"),
    ("Congo", "COG"),
    ("Republic of the Congo", "COG"),
    ("Democratic Republic of the Congo", "COD"),
    ("DR Congo", "COD"),
    ("Congo, Dem. Rep.", "COD"),
    ("Republic of Korea", "KOR"),
    ("South Korea", "KOR"),
    ("DPRK", "PRK"),
    ("North Korea", "PRK"),
    ("Burma", "MMR"),
    ("Myanmar", "MMR"),
    ("Swaziland", "SWZ"),
    ("Eswatini", "SWZ"),
    ("Czech Republic", "CZE"),
    ("Czechia", "CZE"),
    ("Cape Verde", "CPV"),
    ("Cabo Verde", "CPV"),
    ("Micronesia", "FSM"),
    ("Vatican", "VAT"),
    ("Holy See", "VAT"),
    ("Palestine", "PSE"),
    ("Kosovo", "XKX"),
    ("Taiwan", "TWN"),
    ("Cook Islands", "COK"),
    ("United Arab Emirates", "ARE"),
    ("UAE", "ARE"),
    ("Niger", "NER"),
    ("Nigeria", "NGA"),
    ("Dominica", "DMA"),
    ("Dominican Republic", "DOM"),
    ("Sudan", "SDN"),
    ("South Sudan", "SSD"),
    ("Guinea", "GIN"),
    ("Equatorial Guinea", "GNQ"),
    ("Guinea-Bissau", "GNB"),
    ("Papua New Guinea", "PNG"),
    ("Samoa", "WSM"),
    ("Laos", "LAO"),
    ("Vietnam", "VNM"),
    ("Russia", "RUS"),
    ("Iran", "IRN"),
    ("  south   korea ", "KOR"),
]


def _series(*values: object) -> pd.Series:
    return pd.Series(list(values), dtype=object)


@pytest.mark.parametrize(("raw", "expected"), MESSY)
def test_messy_name_maps_to_iso3(raw: str, expected: str) -> None:
    iso, report = harmonise_countries(_series(raw))
    assert iso.iloc[0] == expected
    assert raw in report.matched or raw in report.overridden
    assert not report.unmatched


def test_whole_table_in_one_call() -> None:
    raws = [raw for raw, _ in MESSY]
    iso, report = harmonise_countries(pd.Series(raws))
    assert iso.tolist() == [expected for _, expected in MESSY]
    assert report.counts == dict.fromkeys(raws, 1)


def test_uk_constituent_countries_are_reported_as_overrides() -> None:
    _, report = harmonise_countries(_series("England", "Wales", "Scotland", "Northern Ireland"))
    assert report.overridden == {name: "GBR" for name in DEFAULT_OVERRIDES}
    assert not report.matched
    assert "'Wales' -> GBR" in report.summary()


def test_iso3_codes_pass_through() -> None:
    iso, report = harmonise_countries(_series("GBR", "CHN", "XKX", " USA ", "TWN"))
    assert iso.tolist() == ["GBR", "CHN", "XKX", "USA", "TWN"]
    assert report.matched == {
        "GBR": "GBR",
        "CHN": "CHN",
        "XKX": "XKX",
        " USA ": "USA",
        "TWN": "TWN",
    }


def test_three_letter_non_codes_go_to_the_library() -> None:
    # "UAE" is not an ISO3 code; coco must not look it up as one.
    iso, _ = harmonise_countries(_series("UAE", "PRC"))
    assert iso.tolist() == ["ARE", "CHN"]


def test_overrides_beat_the_library_and_are_reported() -> None:
    values = _series("Taiwan", "taiwan", "Japan", "Atlantis")
    iso, report = harmonise_countries(values, overrides={"  TAIWAN ": "chn", "Atlantis": "GRC"})
    assert iso.tolist() == ["CHN", "CHN", "JPN", "GRC"]
    assert report.overridden == {"Taiwan": "CHN", "taiwan": "CHN", "Atlantis": "GRC"}
    assert "Taiwan" not in report.matched
    assert report.matched == {"Japan": "JPN"}


def test_user_override_replaces_a_default_one() -> None:
    iso, report = harmonise_countries(_series("Wales"), overrides={"wales": "GBR"})
    assert iso.tolist() == ["GBR"]
    assert report.overridden == {"Wales": "GBR"}


def test_override_to_unknown_code_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="Atlantis"):
        harmonise_countries(_series("Atlantis"), overrides={"Atlantis": "ATL"})


def test_name_both_overridden_and_excluded_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="both overridden and excluded"):
        harmonise_countries(
            _series("Taiwan"), overrides={"Taiwan": "TWN"}, exclude={"taiwan": "not UN member"}
        )


def test_exclusion_without_reason_is_a_spec_error() -> None:
    with pytest.raises(SpecError, match="no reason"):
        harmonise_countries(_series("Taiwan"), exclude={"Taiwan": " "})


def test_exclusions_reported_with_reason() -> None:
    values = _series("Taiwan", "Japan", "Cook Islands", "TAIWAN ", "Wales")
    iso, report = harmonise_countries(
        values,
        exclude={
            "taiwan": "not a UN member state",
            "Cook Islands": "not a UN member state",
            "WALES": "sub-national visit",
        },
    )
    assert iso.isna().tolist() == [True, False, True, True, True]
    assert iso.iloc[1] == "JPN"
    assert report.excluded == {
        "Taiwan": "not a UN member state",
        "Cook Islands": "not a UN member state",
        "TAIWAN ": "not a UN member state",
        "Wales": "sub-national visit",
    }
    assert not report.unmatched
    account = report.account("countries")
    assert account.dropped == {DROP_UNMATCHED: 0, DROP_EXCLUDED: 4}
    assert account.rows_out == 1
    assert account.notes["excluded"]["Taiwan"] == {"reason": "not a UN member state", "rows": 1}
    assert "sub-national visit" in report.summary()


def test_unmatched_names_reported_and_na_exactly_there() -> None:
    values = pd.Series(
        ["Japan", "Atlantis", np.nan, "Atlantis", "", "Narnia", None, "France", "  "],
        index=[10, 11, 12, 13, 14, 15, 16, 17, 18],
        dtype=object,
    )
    iso, report = harmonise_countries(values)
    assert iso.index.equals(values.index)
    expected_na = [False, True, True, True, True, True, True, False, True]
    assert iso.isna().tolist() == expected_na
    assert iso[10] == "JPN" and iso[17] == "FRA"
    assert report.unmatched == {"Atlantis": 2, MISSING: 4, "Narnia": 1}
    assert report.counts == {"Japan": 1, "Atlantis": 2, MISSING: 4, "Narnia": 1, "France": 1}
    summary = report.summary()
    assert "'Atlantis': 2 rows" in summary
    assert "'Narnia': 1 rows" in summary
    assert "[countries.overrides]" in summary


def test_ambiguous_library_match_is_unmatched_not_guessed() -> None:
    iso, report = harmonise_countries(_series("Niger Nigeria", "Niger"))
    assert iso.isna().tolist() == [True, False]
    assert report.unmatched == {"Niger Nigeria": 1}
    assert report.ambiguous == {"Niger Nigeria": ["NER", "NGA"]}


def test_account_invariant_holds() -> None:
    values = _series("Japan", "Atlantis", None, "Taiwan", "England", "Japan")
    _, report = harmonise_countries(values, exclude={"Taiwan": "study rule"})
    account = report.account("harmonise countries")
    assert isinstance(account, StageAccount)
    assert account.rows_in == 6
    assert account.rows_in == account.rows_out + sum(account.dropped.values())
    assert account.dropped == {DROP_UNMATCHED: 2, DROP_EXCLUDED: 1}
    assert account.rows_out == 3
    assert account.notes["unmatched"] == {"Atlantis": 1, MISSING: 1}
    assert account.notes["overridden"] == {"England": "GBR"}


def test_aliases_detected_for_two_spellings_of_one_country() -> None:
    values = _series("Burma", "Myanmar", "MMR", "Japan", "England", "Wales")
    _, report = harmonise_countries(values)
    assert report.aliases == {"GBR": ["England", "Wales"], "MMR": ["Burma", "MMR", "Myanmar"]}


def test_strict_raises_with_spelling_count_row_and_fix() -> None:
    values = _series("Japan", "Atlantis", "Atlantis", "Narnia", "France")
    with pytest.raises(InputError) as caught:
        harmonise_countries(values, strict=True, source="events.csv", column="host")
    message = str(caught.value)
    assert "events.csv" in message
    assert "'host'" in message
    assert "'Atlantis' (2 rows, first at row 3)" in message
    assert "'Narnia' (1 rows, first at row 5)" in message
    assert "[countries.overrides]" in message
    assert "'Wales' = 'GBR'" in message
    assert caught.value.row == 3


def test_strict_passes_when_everything_matches_or_is_excluded() -> None:
    iso, report = harmonise_countries(
        _series("Japan", "Taiwan"), strict=True, exclude={"Taiwan": "study rule"}
    )
    assert iso.iloc[0] == "JPN"
    assert report.excluded == {"Taiwan": "study rule"}


@pytest.mark.parametrize("dtype", [object, "string", "category"])
def test_dtypes_and_missing_can_be_excluded(dtype: object) -> None:
    values = pd.Series(["Japan", None, "Wales", "Atlantis"], dtype=dtype)
    iso, report = harmonise_countries(values, exclude={"<MISSING>": "no host recorded"})
    assert iso.tolist()[0] == "JPN" and iso.tolist()[2] == "GBR"
    assert iso.isna().tolist() == [False, True, False, True]
    assert report.excluded == {MISSING: "no host recorded"}
    assert report.unmatched == {"Atlantis": 1}


def test_empty_series() -> None:
    iso, report = harmonise_countries(pd.Series([], dtype=object))
    assert iso.empty
    assert report.account("countries").rows_in == 0


def test_many_rows_few_spellings_are_converted_once() -> None:
    spellings = [raw for raw, _ in MESSY[:48]] + ["Atlantis", None]
    rng = np.random.default_rng(7)
    picks = rng.integers(0, len(spellings), size=200_000)
    values = pd.Series(np.array(spellings, dtype=object)[picks])
    iso, report = harmonise_countries(values)
    expected = dict(MESSY)
    want = np.array([expected.get(s) for s in spellings], dtype=object)[picks]
    assert (iso.isna().to_numpy() == pd.isna(want)).all()
    assert (iso.dropna().to_numpy() == want[~pd.isna(want)]).all()
    assert report.rows == 200_000
    assert report.unmatched == {
        "Atlantis": int((picks == 48).sum()),
        MISSING: int((picks == 49).sum()),
    }


def test_helpers() -> None:
    assert is_iso3("GBR") and is_iso3("XKX") and is_iso3("TWN")
    assert not is_iso3("gbr") and not is_iso3("UK") and not is_iso3("ATL") and not is_iso3(None)
    assert country_name("KOR") == "South Korea"
    assert country_name("xkx") == "Kosovo"
    assert country_name("GBR") == "United Kingdom"
    with pytest.raises(ValueError, match="ATL"):
        country_name("ATL")


def test_report_is_plain_dataclass() -> None:
    report = HarmonisationReport()
    assert report.account("empty").rows_in == 0
    assert "0 rows" in report.summary()


# --------------------------------------------------------------------------- real data


@pytest.fixture(scope="module")
def vitae(shared_data) -> pd.DataFrame:
    path = shared_data / VITAE
    if not path.is_file():
        pytest.skip(f"{VITAE} not in {shared_data}")
    return pd.read_csv(path)


def test_real_china_vitae_every_spelling_accounted_for(vitae: pd.DataFrame) -> None:
    iso, report = harmonise_countries(vitae["country"], source=VITAE)
    raw = vitae["country"].fillna(MISSING).astype(str)
    assert set(report.counts) == set(raw.unique())
    for name in report.counts:
        assert (
            (name in report.matched) + (name in report.overridden) + (name in report.unmatched)
        ) == 1, name
    assert sum(report.counts.values()) == len(vitae)
    assert report.counts == raw.value_counts().to_dict()
    account = report.account("china vitae countries")
    assert account.rows_in == len(vitae)
    assert account.rows_out == int(iso.notna().sum())
    assert account.dropped[DROP_UNMATCHED] == sum(report.unmatched.values())
    unmatched_rows = raw.isin(list(report.unmatched))
    assert iso.isna().equals(unmatched_rows)


def test_real_china_vitae_known_names(vitae: pd.DataFrame) -> None:
    iso, report = harmonise_countries(vitae["country"], exclude={"Taiwan": "not a UN member"})
    by_name = dict(zip(vitae["country"], iso, strict=True))
    known = {
        "England": "GBR",
        "Wales": "GBR",
        "Antigua": "ATG",
        "Macedonia": "MKD",
        "East Timor": "TLS",
        "Cook Islands": "COK",
        "North Korea": "PRK",
        "South Korea": "KOR",
        "Myanmar": "MMR",
        "Democratic Republic of the Congo": "COD",
        "Republic of the Congo": "COG",
        "Czech Republic": "CZE",
        "Cape Verde": "CPV",
        "Micronesia": "FSM",
        "United States": "USA",
    }
    for name, expected in known.items():
        assert by_name[name] == expected, name
    assert pd.isna(by_name["Taiwan"])
    assert report.excluded == {"Taiwan": "not a UN member"}
    assert report.overridden == {"England": "GBR", "Wales": "GBR"}
    assert report.aliases["GBR"] == ["England", "Wales"]


def test_iso3_table_without_the_converter_equals_the_converters_table() -> None:
    """`_converter_data` repeats coco's row selection; the ISO3 table must not change."""
    from cpcstats.countries import _converter, _converter_data

    ours = _converter_data()
    theirs = _converter().data.reset_index(drop=True)
    pd.testing.assert_frame_equal(ours[theirs.columns], theirs)
