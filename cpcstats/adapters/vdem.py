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

from cpcstats.adapters import base as ab
from cpcstats.adapters.pipeline import Source, open_source
from cpcstats.errors import InputError, SpecError

SOURCE = "vdem"
DROP_NO_VALUE = "no value for any requested index"

KNOWN_INDICES: tuple[str, ...] = ("polyarchy", "libdem", "partipdem", "delibdem", "egaldem")
"""The five high-level indices V-Dem publishes as ``v2x_<name>``."""

LAYOUT = ab.Layout(
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
) -> ab.AdapterResult:
    """Read V-Dem indices: ``iso3, year`` and one column per requested index (short name).

    Rows are dropped, each under a reason in ``account``: units without an
    ISO3 code (excluded by rule or unmatched), years outside
    ``first_year..last_year``, rows with none of the requested indices, and
    duplicate country-years (a row whose ISO3 is V-Dem's own code beats one
    matched by name, e.g. Palestine/West Bank (PSE) beats Palestine/Gaza
    (PSG); then `cpcstats.adapters.base.resolve_duplicates`).  A row
    with some but not all requested indices is kept with the gaps as missing.
    """
    src = open_source(path, LAYOUT, first_year, last_year, overrides, exclude)
    wanted = resolve_indices(indices, list(src.raw.columns), src.path)
    table = _indices(src, wanted)
    by_code = src.harmonise(table, name="name", code="code")
    src.filter_years(table["year"])
    src.tracker.drop(table[list(wanted)].isna().all(axis=1), DROP_NO_VALUE)
    duplicates = src.resolve_duplicates(table, entity="entity")
    notes = [
        "ISO3 from country_text_id where it is a valid ISO3 code, else from the country name",
        f"indices read: {', '.join(f'{k} <- {v}' for k, v in wanted.items())}",
    ]
    named = sorted(set(table.loc[~by_code & table["iso3"].notna(), "entity"].astype(str)))
    if named:
        notes.append(f"units matched by name, not by code: {', '.join(named)}")
    if duplicates:
        notes.append(
            "duplicate country-years resolved (V-Dem's own ISO3 code first, then the unit in "
            f"place at year end, then the main series, then file order): {duplicates}"
        )
    partial = int((src.tracker.alive & table[list(wanted)].isna().any(axis=1)).sum())
    if partial:
        notes.append(f"{partial} country-year(s) kept with some requested index missing")
    out = src.alive(table)[["iso3", "year", *wanted]]
    return src.finish(out, notes, src.account_notes(duplicates=duplicates, indices=wanted))


def _indices(src: Source, wanted: dict[str, str]) -> pd.DataFrame:
    """Name, code, year and the requested indices; ``entity`` is the code, else the name."""
    table = pd.DataFrame(
        {
            "name": src.raw[src.columns["vdem_country_name"]],
            "code": src.raw["country_text_id"],
            "year": src.year(),
        }
    )
    for short, column in wanted.items():
        table[short] = src.number(column)
    table["entity"] = table["code"].astype("string").fillna(table["name"].astype("string"))
    return table
