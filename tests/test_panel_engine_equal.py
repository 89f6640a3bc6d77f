"""The pandas engine's one-lookup count gives what the per-event `MultiIndex` count gave.

`_old_count` is the code `cpcstats.panels.engine._count_pandas` replaced (a `MultiIndex`
of every event's keys, one masked bincount per split), kept as the reference.  The
frames are hostile: missing keys and splits, countries and years outside the panel,
keys of several dtypes, events in both panel levels (country-year, party-year), and a
grid too large to be dense (the hashed path).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cpcstats.panels import engine
from cpcstats.panels.engine import Counts, count_contacts


def _old_count(events: pd.DataFrame, panel: pd.DataFrame, keys: list[str]) -> Counts:
    index = pd.MultiIndex.from_frame(panel[keys])
    position = index.get_indexer(pd.MultiIndex.from_frame(events[keys]))
    matched = position >= 0
    row = position[matched]

    def where(column: str, value: str) -> np.ndarray:
        return (events[column] == value).to_numpy(dtype=bool, na_value=False)[matched]

    is_party = where("counterpart_type", "party")
    masks = {
        "contacts": np.ones(len(row), dtype=bool),
        "contacts_party": is_party,
        "contacts_nonparty": ~is_party,
        "contacts_inbound": where("direction", "inbound"),
        "contacts_outbound": where("direction", "outbound"),
    }
    counts = pd.DataFrame(
        {n: np.bincount(row[m], minlength=len(index)).astype(np.int64) for n, m in masks.items()}
    )
    outside = events.loc[~matched, keys[0]].value_counts()
    return Counts(counts, len(events), int(matched.sum()), outside)


def _events(n: int, seed: int, unit: str, dtype: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    units = np.array(["AAA", "BBB", "CCC", "DDD", "XXX", None, "aaa", "AAA "], dtype=object)
    panel = pd.DataFrame(
        [(c, y) for c in ("DDD", "AAA", "BBB", "CCC") for y in range(2000, 2005)],
        columns=[unit, "year"],
    ).astype({unit: dtype})
    panel = panel[~((panel[unit] == "DDD") & (panel["year"] > 2002))].reset_index(drop=True)
    events = pd.DataFrame(
        {
            unit: pd.array(rng.choice(units, n), dtype=dtype),
            "year": rng.integers(1998, 2006, n),
            "counterpart_type": pd.array(
                rng.choice(np.array(["party", "state", None, "Party"], dtype=object), n), dtype
            ),
            "direction": pd.array(
                rng.choice(np.array(["inbound", "outbound", None, "other"], dtype=object), n),
                dtype,
            ),
        },
        index=np.arange(n) * 3 + 7,  # a filtered frame's index (the party-year events)
    )
    return events, panel


def _assert_same(got: Counts, expected: Counts) -> None:
    pd.testing.assert_frame_equal(got.counts, expected.counts)
    assert (got.events, got.matched) == (expected.events, expected.matched)
    pd.testing.assert_series_equal(got.unmatched_countries, expected.unmatched_countries)
    assert list(got.unmatched_countries.index) == list(expected.unmatched_countries.index)


@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("unit", ["iso3", "party_id"])
@pytest.mark.parametrize("dtype", ["str", "string", "object"])
def test_one_lookup_count_equals_the_multiindex_count(seed: int, unit: str, dtype: str) -> None:
    events, panel = _events(3000, seed, unit, dtype)
    got = count_contacts(events, panel, keys=[unit, "year"], engine="pandas")
    expected = _old_count(events, panel, [unit, "year"])
    assert 0 < got.matched < got.events  # both matched and unmatched events are counted
    assert got.counts["contacts_inbound"].sum() > 0
    _assert_same(got, expected)


def test_hashed_path_for_a_large_key_grid_equals_the_dense_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    events, panel = _events(2000, 3, "iso3", "str")
    dense = count_contacts(events, panel, engine="pandas")
    monkeypatch.setattr(engine, "_GRID", 1)
    hashed = count_contacts(events, panel, engine="pandas")
    _assert_same(hashed, dense)
    _assert_same(hashed, _old_count(events, panel, ["iso3", "year"]))


@pytest.mark.parametrize("n", [0, 1])
def test_empty_and_single_event_frames(n: int) -> None:
    events, panel = _events(50, 4, "iso3", "str")
    events = events.iloc[:n]
    _assert_same(
        count_contacts(events, panel, engine="pandas"), _old_count(events, panel, ["iso3", "year"])
    )


def test_every_event_outside_the_panel() -> None:
    events, panel = _events(200, 5, "iso3", "str")
    events = events[events["iso3"].isin(["XXX", "aaa"]) | events["iso3"].isna()]
    got = count_contacts(events, panel, engine="pandas")
    assert got.matched == 0 and int(got.counts.to_numpy().sum()) == 0
    _assert_same(got, _old_count(events, panel, ["iso3", "year"]))
