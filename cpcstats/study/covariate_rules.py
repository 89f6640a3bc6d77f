"""Rules a study file states for its own covariates file: columns used, identical repeats,
and columns a source observes only for some countries.

Why: an assembled country-year file (e.g. the China drivers file) can carry columns the
study does not use -- some of them the only difference between repeated rows of a bad join
-- and columns whose zeros outside the source's coverage are fill values, not zeros.  Each
rule is stated in the study file and counted:

* ``use = ["aid", ...]``: only these columns (besides country and year) are read; the
  others are named in the run log.
* ``drop_identical_rows = true``: a row that repeats an earlier one in every column used
  is counted once (the others must still be one row per country and year).
* ``missing = ["NA"]``: cells holding one of these codes are missing (R writes "NA").
* ``[covariates.coverage] column = ["AFG", ...]``: the column's values are missing outside
  the listed countries (ISO3), counted.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from cpcstats.accounting import StageAccount
from cpcstats.errors import SpecError

COVARIATE_RULE_KEYS: dict[str, type | tuple[type, ...]] = {
    "use": (str, list),
    "drop_identical_rows": bool,
    "coverage": dict,
    "missing": (str, list),
}
"""Keys of ``[covariates]`` for the study's own file, besides the input-table keys."""
DROP_REPEAT = "repeats an earlier row in every column used (drop_identical_rows = true)"


def used_columns(
    frame: pd.DataFrame, section: dict[str, Any], *, config_file: str
) -> tuple[pd.DataFrame, list[str]]:
    """``use`` and ``missing``: the frame reduced to country, year and the columns named,
    missing codes blanked; the notes.  Without either key the frame is returned as it is."""
    if "use" not in section and "missing" not in section:
        return frame, []  # the file as it is (no rule stated, no note)
    use = section.get("use", [c for c in frame.columns if c not in ("country", "year")])
    use = [use] if isinstance(use, str) else list(use)
    missing = [c for c in use if c not in frame.columns]
    if missing:
        raise SpecError(
            f"[covariates] use names column(s) {', '.join(map(repr, missing))} that the file "
            f"lacks; it has: {', '.join(map(str, frame.columns))}",
            file=config_file,
            column=missing[0],
            fix="name columns after the [covariates.columns] renames",
        )
    keep = ["country", "year", *(c for c in use if c not in ("country", "year"))]
    dropped = [c for c in frame.columns if c not in keep]
    notes = (
        [f"[covariates] use: {len(keep) - 2} column(s) read; not used: {', '.join(dropped)}"]
        if "use" in section
        else []
    )
    out = frame[[c for c in keep if c in frame.columns]].copy()
    codes = section.get("missing", [])
    codes = [codes] if isinstance(codes, str) else list(codes)
    if codes:
        cols = keep[2:]
        text = out[cols].astype("string").apply(lambda s: s.str.strip())
        hit = text.isin(codes)
        out[cols] = out[cols].mask(hit)
        notes.append(
            f"[covariates] missing codes {codes}: {int(hit.to_numpy().sum()):,} cell(s) missing"
        )
    return out, notes


def identical_rows(
    frame: pd.DataFrame, section: dict[str, Any]
) -> tuple[pd.DataFrame, StageAccount | None]:
    """``drop_identical_rows = true``: a row repeating an earlier one is counted once."""
    if not section.get("drop_identical_rows", False):
        return frame, None
    repeat = frame.duplicated(keep="first")
    account = StageAccount(
        "covariates: identical rows",
        len(frame),
        int((~repeat).sum()),
        {DROP_REPEAT: int(repeat.sum())},
    )
    return frame[~repeat].reset_index(drop=True), account


def coverage(
    covariates: pd.DataFrame, section: dict[str, Any], *, config_file: str
) -> tuple[pd.DataFrame, list[str]]:
    """``[covariates.coverage]``: values outside the listed countries set missing, counted."""
    rules = section.get("coverage", {})
    notes = []
    out = covariates
    for column, codes in rules.items():
        if column not in out.columns or not isinstance(codes, list):
            raise SpecError(
                f"[covariates.coverage] {column!r} must name a covariate column and list ISO3 "
                "codes",
                file=config_file,
                column=column,
                fix=f'{column} = ["AFG", "BGD"]',
            )
        outside = ~out["iso3"].isin([str(c).upper() for c in codes]).to_numpy()
        n = int(out.loc[outside, column].notna().sum())
        nonzero = int((out.loc[outside, column].fillna(0) != 0).sum())
        out = out.copy()
        out.loc[outside, column] = pd.NA
        notes.append(
            f"[covariates] coverage: {column} observed for {len(codes)} countries only; "
            f"{n:,} value(s) elsewhere set missing ({nonzero:,} of them not zero)"
        )
    return out, notes
