"""The adapters' shared skeleton (cpcstats/adapters/pipeline.py) on a toy source.

Why: a new adapter is meant to be written against :class:`Source` alone (read, harmonise,
bound the years, resolve duplicates, finish); this shows the skeleton's account balances and
its errors name the file, the row and the fix, without any of the real sources.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cpcstats.adapters.base import DROP_AFTER, DROP_DUPLICATE, AdapterResult, Layout
from cpcstats.adapters.pipeline import open_source
from cpcstats.errors import InputError, SpecError

TOY = Layout(
    source="toy",
    description="a toy country-year layout",
    required=(("country", "nation"), "year", "score"),
    fix="give the columns country, year, score",
)


def _toy(tmp_path: Path, rows: list[tuple[object, ...]]) -> Path:
    path = tmp_path / "toy.csv"
    pd.DataFrame(rows, columns=["nation", "year", "score", "uid"]).to_csv(path, index=False)
    return path


def _read(path: Path, last_year: int | None = None) -> AdapterResult:
    src = open_source(path, TOY, None, last_year)
    uid = src.identifier("uid", what="unit id", fix="number every row")
    table = pd.DataFrame(
        {"name": src.raw[src.columns["country"]], "year": src.year(), "score": src.number("score")}
    )
    table["uid"] = uid
    src.harmonise(table, name="name")
    src.filter_years(table["year"])
    duplicates = src.resolve_duplicates(table, entity="name", prefer=())
    out = src.alive(table)[["iso3", "year", "score"]]
    return src.finish(out, ["toy rule"], src.account_notes(duplicates=duplicates))


def test_the_skeleton_accounts_for_every_row(tmp_path: Path) -> None:
    path = _toy(
        tmp_path,
        [("Norway", 2000, 1.0, 1), ("Norway", 2001, 2.0, 2), ("Kingdom of Norway", 2001, 3.0, 3)],
    )
    res = _read(path, last_year=2000)
    account = res.account
    assert account.stage == "adapter:toy"
    assert account.rows_in == 3
    assert account.rows_out == 1
    assert account.dropped[DROP_AFTER] == 2
    assert account.dropped[DROP_DUPLICATE] == 0
    assert list(account.notes)[-1] == "duplicates"
    assert res.table["iso3"].tolist() == ["NOR"]


def test_a_missing_id_and_reversed_years_are_errors(tmp_path: Path) -> None:
    path = _toy(tmp_path, [("Norway", 2000, 1.0, 1), ("Sweden", 2000, 1.0, None)])
    with pytest.raises(InputError) as err:
        _read(path)
    assert err.value.row == 3
    assert "1 row(s) have no unit id" in str(err.value)
    with pytest.raises(SpecError, match="first_year 2005 is after last_year 2000"):
        open_source(path, TOY, 2005, 2000)
