"""`recognition_years` (one vectorised pass over all countries) against a plain per-row
reading of its documented rules, on the shipped history and on hostile histories:
events out of order, several in one year, countries the frame lacks, frames the
history lacks, contested reversals, a missing country code, an empty history."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cpcstats.reference import load_reference, recognition_years, state_years
from cpcstats.study import load_study


def _by_the_rules(taiwan: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    """Row by row: the last event (by date, then file order) in or before the year gives
    the status, before the first event its ``from``; the latest ``switch`` to the PRC
    by the window's end; a move away from the PRC inside the window."""
    events = taiwan[taiwan["iso3"].notna()]
    first, last = (int(frame["year"].min()), int(frame["year"].max())) if len(frame) else (0, 0)
    facts = {}
    for iso3, own in events.groupby("iso3"):
        own = own.sort_values("date", kind="stable")
        switches = own[(own["to"] == "PRC") & (own["kind"] == "switch")]["date"].dt.year
        switches = switches[switches <= last]
        away = own[(own["from"] == "PRC") & (own["to"] != "PRC")]["date"].dt.year
        facts[iso3] = (
            list(zip(own["date"].dt.year, own["to"], strict=True)),
            own["from"].iloc[0],
            int(switches.max()) if len(switches) else pd.NA,
            int(((away >= first) & (away <= last)).any()),
        )
    rows = []
    for iso3, year in zip(frame["iso3"], frame["year"], strict=True):
        if iso3 not in facts:
            rows.append((1, pd.NA, 0))
            continue
        dated, first_from, switch, moved = facts[iso3]
        before = [to for event_year, to in dated if event_year <= year]
        status = before[-1] if before else first_from
        rows.append((int(status == "PRC"), switch, moved))
    out = frame[["iso3", "year"]].copy()
    out["recognizes_prc"] = [r[0] for r in rows]
    out["prc_switch_year"] = pd.array([r[1] for r in rows], dtype="Int64")
    out["switched_to_roc"] = [r[2] for r in rows]
    out["taiwan_event_time"] = (out["year"] - out["prc_switch_year"]).astype("Int64")
    return out


@pytest.fixture(scope="module")
def taiwan() -> pd.DataFrame:
    return load_reference("taiwan")


@pytest.fixture(scope="module")
def states() -> pd.DataFrame:
    return load_study("demo").states


def _same(taiwan: pd.DataFrame, frame: pd.DataFrame) -> pd.DataFrame:
    got = recognition_years(taiwan, frame)
    pd.testing.assert_frame_equal(got, _by_the_rules(taiwan, frame), check_dtype=False)
    assert got["recognizes_prc"].dtype.kind == "i" and got["switched_to_roc"].dtype.kind == "i"
    assert str(got["prc_switch_year"].dtype) == "Int64"
    return got


@pytest.mark.parametrize("window", [(1950, 2023), (2002, 2023), (1990, 1999), (2013, 2013)])
def test_the_shipped_history_follows_the_rules(taiwan, states, window) -> None:
    got = _same(taiwan, state_years(states, *window))
    assert got["recognizes_prc"].between(0, 1).all()


def test_events_out_of_order_and_a_shuffled_frame(taiwan, states) -> None:
    shuffled = taiwan.sample(frac=1.0, random_state=3).reset_index(drop=True)
    frame = state_years(states, 1995, 2020).sample(frac=0.6, random_state=4)
    got = _same(shuffled, frame)
    ordered = recognition_years(taiwan, frame)
    pd.testing.assert_frame_equal(got, ordered)  # the file's order does not matter


def _history(*rows: tuple[str, str, str, str, str]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["iso3", "date", "from", "to", "kind"])
    frame["date"] = pd.to_datetime(frame["date"])
    return frame


def test_hostile_histories() -> None:
    taiwan = _history(
        ("AAA", "2005-03-01", "PRC", "ROC", "switch"),
        ("AAA", "2005-09-01", "ROC", "PRC", "switch"),  # reversed within the year
        ("BBB", "2010-01-01", "none", "ROC", "baseline"),
        ("BBB", "2016-06-01", "ROC", "PRC", "switch"),
        ("CCC", "1990-01-01", "ROC", "PRC", "switch"),  # switch before the window
        ("CCC", "2030-01-01", "PRC", "ROC", "contested"),  # after the window
        ("ZZZ", "2012-01-01", "PRC", "ROC", "switch"),  # not in the frame
        (None, "2012-01-01", "PRC", "ROC", "switch"),  # no country code
    )
    years = np.arange(2000, 2021)
    frame = pd.DataFrame(
        {"iso3": np.repeat(["AAA", "BBB", "CCC", "DDD"], len(years)), "year": np.tile(years, 4)}
    )
    got = _same(taiwan, frame).set_index(["iso3", "year"])
    assert got.loc[("AAA", 2005), "recognizes_prc"] == 1  # year-end status
    assert got.loc[("BBB", 2009), "recognizes_prc"] == 0  # before the first event: 'from'
    assert got.loc[("BBB", 2018), "taiwan_event_time"] == 2
    assert got.loc[("CCC", 2000), "prc_switch_year"] == 1990
    assert got.loc[("DDD", 2000), "recognizes_prc"] == 1 and pd.isna(
        got.loc[("DDD", 2000), "prc_switch_year"]
    )
    assert (
        got.xs("AAA")["switched_to_roc"].eq(1).all()
        and got.xs("CCC")["switched_to_roc"].eq(0).all()
    )


def test_empty_history_and_empty_frame(taiwan, states) -> None:
    frame = state_years(states, 2000, 2005)
    got = _same(taiwan.iloc[:0], frame)
    assert got["recognizes_prc"].eq(1).all() and got["prc_switch_year"].isna().all()
    assert _same(taiwan, frame.iloc[:0]).empty
