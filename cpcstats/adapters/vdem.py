"""V-Dem high-level democracy indices as a country-year table keyed by ISO3.

The layout read is V-Dem's country-year file as distributed by the
democracyData R package (``vdem_country_name, country_text_id, year,
v2x_polyarchy, v2x_libdem, ...``); V-Dem's own export, which names the country
column ``country_name``, works too.  V-Dem's ``country_text_id`` is ISO3 for
states and a private code for other units (DDR, PSG, SML, ZZB, YMD), so the
code is used where it is a valid ISO3 and the name only for the other rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from cpcstats.adapters.base import (
    NOT_A_STATE,
    SUCCESSOR_OVERRIDES,
    AdapterResult,
    Layout,
    RowTracker,
    check_year_range,
    filter_years,
    finish,
    harmonisation_notes,
    harmonise,
    read_source,
    resolve_duplicates,
    to_number,
    to_year,
)
from cpcstats.errors import InputError, SpecError

SOURCE = "vdem"
DROP_NO_VALUE = "no value for any requested index"

KNOWN_INDICES: tuple[str, ...] = ("polyarchy", "libdem", "partipdem", "delibdem", "egaldem")
"""The five high-level indices V-Dem publishes as ``v2x_<name>``."""

LAYOUT = Layout(
    source=SOURCE,
    description=(
        "the V-Dem country-year layout (V-Dem v13+ as distributed by the democracyData R "
        "package, download_vdem(), or V-Dem's own CSV)"
    ),
    required=(("vdem_country_name", "country_name"), "country_text_id", "year"),
    fix=(
        "export the data with democracyData (vdem_country_name, country_text_id, year, "
        "v2x_polyarchy, ...) or use V-Dem's country-year CSV unchanged"
    ),
)


def resolve_indices(indices: Sequence[str], columns: Sequence[str], path: Path) -> dict[str, str]:
    """Map each requested index to its column: output name -> file column.

    ``"partipdem"`` and ``"v2x_partipdem"`` both mean the column
    ``v2x_partipdem`` and give the output column ``partipdem``.  A known index
    the file lacks is a layout problem (InputError); a name that is neither a
    V-Dem index nor a column of the file is the caller's (SpecError), and
    both messages list what is available.
    """
    if isinstance(indices, str):
        indices = (indices,)
    if not indices:
        raise SpecError("no V-Dem index requested", fix="e.g. indices=('polyarchy', 'libdem')")
    available = sorted(c.removeprefix("v2x_") for c in columns if c.startswith("v2x_"))
    wanted: dict[str, str] = {}
    missing: list[str] = []
    for name in indices:
        short = str(name).strip().removeprefix("v2x_")
        column = f"v2x_{short}"
        if column in columns:
            wanted[short] = column
        elif str(name) in columns:
            wanted[str(name)] = str(name)
        elif short in KNOWN_INDICES:
            missing.append(column)
        else:
            raise SpecError(
                f"unknown V-Dem index '{name}'; available in {path.name}: "
                f"{', '.join(available) or 'none'} (V-Dem's high-level indices are "
                f"{', '.join(KNOWN_INDICES)})",
                file=str(path),
                fix=f"name one of the available indices, e.g. indices=('{available[0]}',)"
                if available
                else "use a V-Dem file that has the v2x_ index columns",
            )
    if missing:
        raise InputError(
            f"the file lacks the column(s) {', '.join(missing)}; expected {LAYOUT.description} "
            f"with the requested indices; available indices: {', '.join(available) or 'none'}",
            file=str(path),
            column=missing[0],
            fix="request only available indices, or export the file with these columns",
        )
    return wanted


def read_vdem(
    path: str | Path,
    *,
    indices: Sequence[str] = ("polyarchy", "libdem"),
    first_year: int | None = None,
    last_year: int | None = None,
    overrides: Mapping[str, str] | None = None,
    exclude: Mapping[str, str] | None = None,
) -> AdapterResult:
    """Read V-Dem indices: ``iso3, year`` and one column per requested index (short name).

    Rows are dropped, each under a reason in ``account``: units without an
    ISO3 code (excluded by rule or unmatched), years outside
    ``first_year..last_year``, rows with none of the requested indices, and
    duplicate country-years (a row whose ISO3 is V-Dem's own code beats one
    matched by name, e.g. Palestine/West Bank (PSE) beats Palestine/Gaza
    (PSG); then :func:`~cpcstats.adapters.base.resolve_duplicates`).  A row
    with some but not all requested indices is kept with the gaps as missing.
    """
    check_year_range(first_year, last_year)
    path = Path(path)
    raw, info, cols = read_source(path, LAYOUT)
    wanted = resolve_indices(indices, list(raw.columns), path)
    tracker = RowTracker(raw.index)

    name_col = cols["vdem_country_name"]
    table = pd.DataFrame(
        {
            "name": raw[name_col],
            "code": raw["country_text_id"],
            "year": to_year(raw, "year", path),
        }
    )
    for short, column in wanted.items():
        table[short] = to_number(raw, column, path)
    table["entity"] = table["code"].astype("string").fillna(table["name"].astype("string"))

    iso3, by_code, report = harmonise(
        table,
        tracker,
        path,
        name="name",
        code="code",
        overrides=overrides,
        exclude=exclude,
        default_overrides=SUCCESSOR_OVERRIDES,
        default_exclude=NOT_A_STATE,
    )
    table["iso3"] = iso3
    table["_by_code"] = by_code
    filter_years(table["year"], tracker, first_year, last_year)
    tracker.drop(table[list(wanted)].isna().all(axis=1), DROP_NO_VALUE)
    duplicates = resolve_duplicates(
        table, tracker, keys=["iso3", "year"], entity="entity", prefer=["_by_code"]
    )
    notes = [
        "ISO3 from country_text_id where it is a valid ISO3 code, else from the country name",
        f"indices read: {', '.join(f'{k} <- {v}' for k, v in wanted.items())}",
    ]
    named = sorted(set(table.loc[~by_code & iso3.notna(), "entity"].astype(str)))
    if named:
        notes.append(f"units matched by name, not by code: {', '.join(named)}")
    if duplicates:
        notes.append(
            "duplicate country-years resolved (V-Dem's own ISO3 code first, then the unit in "
            f"place at year end, then the main series, then file order): {duplicates}"
        )
    partial = int((tracker.alive & table[list(wanted)].isna().any(axis=1)).sum())
    if partial:
        notes.append(f"{partial} country-year(s) kept with some requested index missing")

    out = table[tracker.alive.to_numpy()][["iso3", "year", *wanted]]
    account_notes = {**harmonisation_notes(report), "duplicates": duplicates, "indices": wanted}
    return finish(
        out,
        source=SOURCE,
        path=path,
        tracker=tracker,
        report=report,
        notes=notes,
        info=info,
        account_notes=account_notes,
    )
