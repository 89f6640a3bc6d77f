"""The DuckDB engine counts contacts into the same panels, with the same accounts, as pandas.

Independent check: the pandas engine is the reference; a brute-force count (a Python
loop over the events) checks the pandas engine itself on a small frame with the awkward
cases (countries that are not states, missing directions, tied unmatched counts).
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cpcstats.errors import SpecError
from cpcstats.panels import country_year, party_year
from cpcstats.panels.engine import SPLITS, count_contacts, resolve_engine
from cpcstats.study import load_study

duckdb = pytest.importorskip("duckdb")


@pytest.fixture(scope="module")
def demo():
    return load_study("demo")


def _with_engine(study, engine: str):
    config = copy.deepcopy(study.config)
    config.setdefault("contacts", {})["engine"] = engine
    return replace(study, config=config)


def _events(n: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Events over 6 countries x 4 years, two of them not states in the panel."""
    rng = np.random.default_rng(seed)
    panel = pd.DataFrame(
        [(c, y) for c in ("AAA", "BBB", "CCC", "DDD") for y in range(2000, 2004)],
        columns=["iso3", "year"],
    ).astype({"iso3": "str"})
    panel = panel[~((panel["iso3"] == "DDD") & (panel["year"] == 2003))]  # DDD ends 2002
    events = pd.DataFrame(
        {
            "iso3": pd.array(rng.choice(["AAA", "BBB", "CCC", "DDD", "XXX", "YYY"], n), "str"),
            "year": rng.integers(2000, 2004, n),
            "counterpart_type": pd.array(rng.choice(["party", "state", "other"], n), "str"),
            "direction": pd.array(rng.choice(["inbound", "outbound", None], n), "str"),
        }
    )
    return events, panel.reset_index(drop=True)


def _brute_force(events: pd.DataFrame, panel: pd.DataFrame) -> tuple[pd.DataFrame, Counter]:
    cells = {(r.iso3, r.year): i for i, r in enumerate(panel.itertuples())}
    counts = {name: [0] * len(panel) for name in SPLITS}
    outside: Counter = Counter()
    for e in events.itertuples():
        i = cells.get((e.iso3, e.year))
        if i is None:
            outside[e.iso3] += 1
            continue
        counts["contacts"][i] += 1
        counts["contacts_party" if e.counterpart_type == "party" else "contacts_nonparty"][i] += 1
        if e.direction == "inbound":
            counts["contacts_inbound"][i] += 1
        if e.direction == "outbound":
            counts["contacts_outbound"][i] += 1
    return pd.DataFrame(counts, dtype=np.int64), outside


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_both_engines_match_a_brute_force_count(seed: int) -> None:
    events, panel = _events(3_000, seed)
    expected, outside = _brute_force(events, panel)
    for engine in ("pandas", "duckdb"):
        got = count_contacts(events, panel, engine=engine)
        pd.testing.assert_frame_equal(got.counts, expected)
        assert got.events == len(events)
        assert got.matched == len(events) - sum(outside.values())
        assert dict(got.unmatched_countries.items()) == dict(outside)
    pandas_order = list(count_contacts(events, panel, engine="pandas").unmatched_countries.items())
    duck_order = list(count_contacts(events, panel, engine="duckdb").unmatched_countries.items())
    assert duck_order == pandas_order  # the ledger's notes keep their order


def test_tied_unmatched_countries_keep_pandas_order() -> None:
    events = pd.DataFrame(
        {
            "iso3": pd.array(["ZZZ", "AAA", "YYY", "ZZZ", "YYY", "QQQ"], "str"),
            "year": [2001, 2001, 2001, 2001, 2001, 2001],
            "counterpart_type": pd.array(["party"] * 6, "str"),
            "direction": pd.array(["inbound"] * 6, "str"),
        }
    )
    panel = pd.DataFrame({"iso3": pd.array(["AAA"], "str"), "year": [2001]})
    orders = [
        list(count_contacts(events, panel, engine=e).unmatched_countries.items())
        for e in ("pandas", "duckdb")
    ]
    assert orders[0] == orders[1] == [("ZZZ", 2), ("YYY", 2), ("QQQ", 1)]


def test_demo_panels_are_identical_under_both_engines(demo) -> None:
    for build in (country_year, party_year):
        a = build(_with_engine(demo, "pandas"))
        b = build(_with_engine(demo, "duckdb"))
        pd.testing.assert_frame_equal(a.data, b.data)
        assert [x.to_dict() for x in a.accounts] == [x.to_dict() for x in b.accounts]
        assert int(a.data["contacts"].sum()) > 0


def test_parquet_dataset_is_counted_without_loading_it(demo, tmp_path: Path) -> None:
    """A glob of Parquet parts (engine chosen automatically) counts as the frame does."""
    events = demo.contacts[["iso3", "year", "counterpart_type", "direction"]]
    cut = len(events) // 3
    for i, part in enumerate((events.iloc[:cut], events.iloc[cut:])):
        part.to_parquet(tmp_path / f"part-{i}.parquet", index=False)
    panel = country_year(demo).data
    from_frame = count_contacts(events, panel, engine="pandas")
    for source in (str(tmp_path / "part-*.parquet"), tmp_path):
        assert resolve_engine(None, source) == "duckdb"
        got = count_contacts(source, panel)
        pd.testing.assert_frame_equal(got.counts, from_frame.counts)
        assert (got.events, got.matched) == (from_frame.events, from_frame.matched)
        assert list(got.unmatched_countries.items()) == list(from_frame.unmatched_countries.items())


def test_engine_errors_name_the_key_and_fix(tmp_path: Path) -> None:
    events, panel = _events(10, 1)
    with pytest.raises(SpecError, match="engine = 'polars'") as info:
        count_contacts(events, panel, engine="polars")
    assert "duckdb" in str(info.value)
    with pytest.raises(SpecError, match="pandas engine"):
        count_contacts(tmp_path / "x.parquet", panel, engine="pandas")
    with pytest.raises(SpecError, match="no Parquet file"):
        count_contacts(str(tmp_path / "none-*.parquet"), panel, engine="duckdb")
