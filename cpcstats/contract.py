"""The data contract: which columns each input table has and what they mean.

The four tables (contacts, parties, party status, country covariates) are
checked and normalised here, after the study's column and value mappings have
been applied.  Problems a user must fix raise `InputError` with the
file, row and column; rows that are legitimately out of scope are dropped with
a reason in a `StageAccount`, never silently.

Row numbers in messages are spreadsheet rows: row 1 is the header, row 2 the
first data row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from cpcstats.accounting import StageAccount
from cpcstats.countries import HarmonisationReport, harmonise_codes, harmonise_countries
from cpcstats.errors import InputError
from cpcstats.io.dates import parse_dates
from cpcstats.io.fastcsv import clean_text, factorize, missing_text

COUNTERPART_TYPES = ("party", "state", "other")
DIRECTIONS = ("inbound", "outbound", "unknown")
PARTY_STATUSES = ("senior", "junior", "support", "opposition")
RULING_STATUSES = ("senior", "junior")
FH_STATUSES = ("F", "PF", "NF")

# column -> (required?, meaning); the README's contract table is written from these.
CONTACT_COLUMNS: dict[str, tuple[str, str]] = {
    "date": ("date or year", "date of the contact (YYYY-MM-DD); `year` suffices"),
    "year": ("date or year", "calendar year, used when `date` is absent"),
    "country": ("required", "country of the counterpart: ISO3 code or a country name"),
    "counterpart_type": ("required", "`party`, `state` (officials) or `other` (think tanks ...)"),
    "party_id": ("party rows", "id of the party in the parties table"),
    "party_name": ("optional", "name of the party as reported"),
    "direction": (
        "required",
        "`inbound` (received in China), `outbound` (CPC abroad) or `unknown` (source silent)",
    ),
    "source_id": ("optional", "id of the news item that reports the contact"),
    "text": ("optional", "text or summary of the news item"),
}
PARTY_COLUMNS: dict[str, tuple[str, str]] = {
    "party_id": ("required", "unique party id"),
    "country": ("required", "country of the party: ISO3 code or name"),
    "party_name": ("required", "party name"),
    "left_roots": ("optional", "1 = communist, socialist or liberation-movement roots"),
    "lr_position": ("optional", "left-right position (higher = right), e.g. V-Party v2pariglef"),
    "active_from": ("optional", "first year the party exists (default: study start)"),
    "active_to": ("optional", "last year the party exists (default: study end)"),
}
STATUS_COLUMNS: dict[str, tuple[str, str]] = {
    "party_id": ("required", "party id"),
    "year": ("required", "year"),
    "status": ("required", "`senior`, `junior` (both = ruling), `support` or `opposition`"),
}
COVARIATE_COLUMNS: dict[str, tuple[str, str]] = {
    "country": ("required", "ISO3 code or name"),
    "year": ("required", "year"),
    "fh_status": ("optional", "Freedom House status `F`, `PF` or `NF`"),
    "fh_total": (
        "optional",
        "Freedom House total: the 0-100 aggregate, or PR + CL (2-14) from the FH adapter",
    ),
    "polyarchy": ("optional", "V-Dem electoral democracy index (0-1)"),
}


def file_row(index: int) -> int:
    """Spreadsheet row of a 0-based data row (row 1 is the header)."""
    return int(index) + 2


def require_columns(frame: pd.DataFrame, required: Iterable[str], *, file: str, table: str) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise InputError(
            f"the {table} table lacks the required column(s) {', '.join(missing)}; "
            f"it has: {', '.join(map(str, frame.columns))}",
            file=file,
            column=missing[0],
            fix=f"rename the file's column in the study's [{table}.columns] mapping, "
            f'e.g. "your_name" = "{missing[0]}"',
        )


def _clean_str(series: pd.Series) -> pd.Series:
    return clean_text(series)


def _taken(values: pd.Series, codes: np.ndarray, raw: pd.Series, distinct: pd.Series) -> pd.Series:
    """``values`` (one per distinct value of ``raw``) back on the rows of ``raw``.

    When no value changed (the usual clean file), that is ``raw`` as text, without
    building a column of millions of strings again."""
    if values.astype("string").equals(distinct.astype("string")):
        return raw.astype("string")
    return pd.Series(values.array.take(codes, allow_fill=True), index=raw.index)


def _clean_repeated(series: pd.Series) -> pd.Series:
    """`_clean_str` of a column with few distinct values, one value at a time.

    Why: contact columns repeat a few hundred values over millions of rows; cleaning (and
    checking) each distinct value once and taking the results back by code is what the same
    operations on every row give, at a fraction of the cost."""
    codes, distinct = factorize(series)
    return _taken(_clean_str(distinct), codes, series, distinct)


def _check_values(
    series: pd.Series, allowed: Iterable[str], *, file: str, column: str, table: str
) -> pd.Series:
    codes, distinct = factorize(series)
    cleaned = _clean_str(distinct)
    values = cleaned.str.lower() if column != "fh_status" else cleaned.str.upper()
    allowed = tuple(allowed)
    bad_value = (values.notna() & ~values.isin(allowed)).to_numpy(dtype=bool)
    if bad_value.any():
        bad = bad_value[codes] & (codes >= 0)
        first = series.index[int(np.flatnonzero(bad)[0])]
        # distinct values come in the order of their first row, as ``values[bad].unique()``
        examples = ", ".join(sorted(map(repr, values[bad_value].unique()[:5])))
        raise InputError(
            f"{int(bad.sum())} value(s) not in {', '.join(allowed)}: {examples}",
            file=file,
            row=file_row(first),
            column=column,
            fix=f"recode them, or map them in the study's [{table}.values.{column}] table",
        )
    return _taken(values, codes, series, distinct)


def _to_int(series: pd.Series, *, file: str, column: str, allow_missing: bool) -> pd.Series:
    numeric = pd.to_numeric(series, errors="coerce")
    bad = (series.notna() & numeric.isna()) | (numeric.notna() & (numeric % 1 != 0))
    if not allow_missing:
        bad |= series.isna()
    if bad.any():
        first = bad.idxmax()
        raise InputError(
            f"{int(bad.sum())} value(s) are not whole numbers (first: {series[first]!r})",
            file=file,
            row=file_row(first),
            column=column,
            fix="enter a whole number such as 2013",
        )
    return numeric.astype("Int64")


def _to_float(series: pd.Series, *, file: str, column: str) -> pd.Series:
    """Numbers from text; a decimal comma is read as a decimal point; junk is an error."""
    if pd.api.types.is_numeric_dtype(series):
        return _finite(series.astype(float), series, file=file, column=column)
    text = series.astype("string").str.strip()
    text = text.str.replace(r"^(-?\d+),(\d+)$", r"\1.\2", regex=True)
    numbers = pd.to_numeric(text, errors="coerce")
    bad = text.notna() & numbers.isna()
    if bad.any():
        first = bad.idxmax()
        raise InputError(
            f"{int(bad.sum())} value(s) are not numbers (first: {series[first]!r})",
            file=file,
            row=file_row(first),
            column=column,
            fix="write numbers such as 0.85 (leave the cell empty when the value is unknown)",
        )
    return _finite(numbers.astype(float), series, file=file, column=column)


def _finite(numbers: pd.Series, raw: pd.Series, *, file: str, column: str) -> pd.Series:
    """Refuse ``inf``/``-inf``: pandas reads them as numbers, and one infinite covariate
    turns a model's design matrix (and every estimate) into NaN without saying why."""
    infinite = pd.Series(np.isinf(numbers.to_numpy(dtype=float)), index=numbers.index)
    if infinite.any():
        first = int(np.flatnonzero(infinite.to_numpy())[0])
        raise InputError(
            f"{int(infinite.sum())} value(s) are infinite (first: {raw.iloc[first]!r})",
            file=file,
            row=file_row(first),
            column=column,
            fix="write a finite number, or leave the cell empty when the value is unknown",
        )
    return numbers


def _harmonise(
    frame: pd.DataFrame,
    *,
    file: str,
    overrides: Mapping[str, str] | None,
    exclude: Mapping[str, str] | None,
) -> tuple[pd.Series, HarmonisationReport]:
    return harmonise_countries(
        frame["country"], overrides=overrides, exclude=exclude, source=file, column="country"
    )


def _check_date_year(raw: pd.Series, from_date: pd.Series, stated: pd.Series, *, file: str) -> None:
    """A contact whose date and year column disagree is an error naming the row.

    Why not a rule: which of the two is the typo cannot be known (2013-05-01 with year 2015
    is as likely a wrong date as a wrong year), and using either one silently moves the
    contact into another panel year.  Rows with only one of the two are fine.
    """
    both = from_date.notna() & stated.notna()
    clash = both & (from_date != stated).fillna(False).astype(bool)
    if clash.any():
        first = int(np.flatnonzero(clash.to_numpy())[0])
        raise InputError(
            f"{int(clash.sum())} contact(s) have a date whose year contradicts the year column "
            f"(first: date {raw.iloc[first]!r}, year {int(stated.iloc[first])})",
            file=file,
            row=file_row(first),
            column="year",
            fix="correct the date or the year so they agree, or map only one of the two "
            "columns in [contacts.columns]",
        )


def normalise_contacts(
    frame: pd.DataFrame,
    *,
    file: str,
    overrides: Mapping[str, str] | None = None,
    exclude: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, list[StageAccount], HarmonisationReport]:
    """Check the contacts table and return one clean row per in-scope contact."""
    require_columns(
        frame, ["country", "counterpart_type", "direction"], file=file, table="contacts"
    )
    if "date" not in frame.columns and "year" not in frame.columns:
        raise InputError(
            "the contacts table needs a `date` or a `year` column; it has: "
            + ", ".join(frame.columns),
            file=file,
            column="date",
            fix="map the file's date column in [contacts.columns]",
        )
    frame = frame.reset_index(drop=True)
    rows = np.int32 if len(frame) < 2**31 - 3 else np.int64  # 32-bit rows, years: -80 MB at 1e7
    out = pd.DataFrame({"row": np.arange(2, len(frame) + 2, dtype=rows)})
    out["date"], year = _contact_dates(frame, file=file)
    out["year"], year = year.astype(np.int32), None  # freed before the memory peak
    _contact_kinds(frame, out, file=file)
    for column in ("party_id", "party_name", "source_id", "text"):
        clean = _clean_str if column in ("source_id", "text") else _clean_repeated
        out[column] = (
            clean(frame[column])
            if column in frame.columns
            else missing_text(frame.index)  # one shared block, not a buffer per cell
        )
    is_party = out["counterpart_type"] == "party"
    no_id = is_party & out["party_id"].isna()
    if no_id.any():
        first = no_id.idxmax()
        raise InputError(
            f"{int(no_id.sum())} party contact(s) have no party_id",
            file=file,
            row=file_row(first),
            column="party_id",
            fix="give every party contact the id of its party in the parties table",
        )
    codes, distinct = factorize(frame["country"])
    out["country_raw"] = _taken(_clean_str(distinct), codes, frame["country"], distinct)
    lookup, iso_codes, report = harmonise_codes(
        codes, distinct.array, overrides=overrides, exclude=exclude, source=file, column="country"
    )
    iso3 = pd.Series(pd.array(lookup, dtype="string"))
    if iso3.iloc[-1] is pd.NA:  # missing cells have no code: iso3 of each distinct value
        out["iso3"] = _taken(iso3.iloc[:-1], codes, frame["country"], distinct).array
    else:
        out["iso3"] = iso3.array.take(iso_codes)
    account = report.account("contacts: country harmonisation")
    keep = out["iso3"].notna()
    if keep.all():  # the usual case: no copy of a frame of millions of rows
        return out, [account], report
    return out[keep].reset_index(drop=True), [account], report


def _contact_dates(frame: pd.DataFrame, *, file: str) -> tuple[pd.Series, pd.Series]:
    """Each contact's date (NaT without a date column) and year: from the date, else the
    year column; a date that cannot be read, or a row with neither, is an error."""
    if "date" in frame.columns:
        raw = frame["date"]
        dates = parse_dates(raw)
        bad = raw.notna() & dates.isna()
        if bad.any():
            first = bad.idxmax()
            raise InputError(
                f"{int(bad.sum())} date(s) cannot be read (first: {raw[first]!r})",
                file=file,
                row=file_row(first),
                column="date",
                fix="write dates as YYYY-MM-DD, or give a `year` column instead",
            )
        year = dates.dt.year.astype("Int64")
        if "year" in frame.columns:
            stated = _to_int(frame["year"], file=file, column="year", allow_missing=True)
            _check_date_year(raw, year, stated, file=file)
            year = year.fillna(stated)
        date: Any = dates
    else:
        date = pd.NaT
        year = _to_int(frame["year"], file=file, column="year", allow_missing=True)
    if year.isna().any():
        first = year.isna().idxmax()
        raise InputError(
            f"{int(year.isna().sum())} contact(s) have neither a date nor a year",
            file=file,
            row=file_row(first),
            column="date",
            fix="fill in the date or year, or delete the row",
        )
    return date, year


def _contact_kinds(frame: pd.DataFrame, out: pd.DataFrame, *, file: str) -> None:
    """``counterpart_type`` and ``direction`` into ``out``: known values, none missing."""
    out["counterpart_type"] = _check_values(
        frame["counterpart_type"],
        COUNTERPART_TYPES,
        file=file,
        column="counterpart_type",
        table="contacts",
    )
    out["direction"] = _check_values(
        frame["direction"], DIRECTIONS, file=file, column="direction", table="contacts"
    )
    for column in ("counterpart_type", "direction"):
        if out[column].isna().any():
            first = out[column].isna().idxmax()
            raise InputError(
                f"{int(out[column].isna().sum())} contact(s) have no {column}",
                file=file,
                row=file_row(first),
                column=column,
                fix=f'fill it in, or set a default in [contacts.defaults] {column} = "..."',
            )


def normalise_parties(
    frame: pd.DataFrame, *, file: str, overrides: Mapping[str, str] | None = None
) -> tuple[pd.DataFrame, list[StageAccount]]:
    """Check the parties table: unique ids, a harmonised country for every party."""
    require_columns(frame, ["party_id", "country", "party_name"], file=file, table="parties")
    frame = frame.reset_index(drop=True)
    out = pd.DataFrame({"party_id": _clean_str(frame["party_id"])})
    dup = out["party_id"].duplicated(keep="first") & out["party_id"].notna()
    if dup.any():
        first = dup.idxmax()
        raise InputError(
            f"party_id {out['party_id'][first]!r} appears more than once",
            file=file,
            row=file_row(first),
            column="party_id",
            fix="give each party one row (its status by year belongs in the party-status table)",
        )
    if out["party_id"].isna().any():
        first = out["party_id"].isna().idxmax()
        raise InputError(
            "a party has no party_id",
            file=file,
            row=file_row(first),
            column="party_id",
            fix="fill in a unique id",
        )
    out["party_name"] = _clean_str(frame["party_name"])
    iso3, report = _harmonise(frame, file=file, overrides=overrides, exclude=None)
    if report.unmatched:
        first = iso3.isna().idxmax()
        raise InputError(
            f"the country of {int(iso3.isna().sum())} part(ies) is not recognised: "
            + ", ".join(f"{k!r} ({v} rows)" for k, v in report.unmatched.items()),
            file=file,
            row=file_row(first),
            column="country",
            fix="use ISO3 codes, or add the spelling to [countries.overrides] in the study file",
        )
    out["iso3"] = iso3.astype("string").values
    for column in ("left_roots", "active_from", "active_to"):
        if column in frame.columns:
            out[column] = _to_int(frame[column], file=file, column=column, allow_missing=True)
    if "active_from" in out.columns and "active_to" in out.columns:
        backwards = (out["active_from"] > out["active_to"]).fillna(False).astype(bool)
        if backwards.any():
            first = int(np.flatnonzero(backwards.to_numpy())[0])
            raise InputError(
                f"{int(backwards.sum())} part(ies) end before they begin (first: "
                f"{out['party_id'][first]!r}, active_from {out['active_from'][first]}, "
                f"active_to {out['active_to'][first]}); they would have no party-years",
                file=file,
                row=file_row(first),
                column="active_to",
                fix="swap or correct the years (active_from is the first year, active_to the last)",
            )
    if "lr_position" in frame.columns:
        out["lr_position"] = _to_float(frame["lr_position"], file=file, column="lr_position")
    extra = [c for c in frame.columns if c not in out.columns and c != "country"]
    for column in extra:
        out[column] = frame[column].values
    account = StageAccount("parties: import", len(frame), len(out))
    return out, [account]


def normalise_party_status(
    frame: pd.DataFrame, *, file: str
) -> tuple[pd.DataFrame, list[StageAccount]]:
    """Check the party-year government-status table."""
    require_columns(frame, ["party_id", "year", "status"], file=file, table="party_status")
    frame = frame.reset_index(drop=True)
    out = pd.DataFrame(
        {
            "party_id": _clean_str(frame["party_id"]),
            "year": _to_int(frame["year"], file=file, column="year", allow_missing=False).astype(
                int
            ),
            "status": _check_values(
                frame["status"], PARTY_STATUSES, file=file, column="status", table="party_status"
            ),
        }
    )
    dup = out.duplicated(["party_id", "year"], keep="first")
    if dup.any():
        first = dup.idxmax()
        raise InputError(
            f"party {out['party_id'][first]!r} has two status rows for {out['year'][first]}",
            file=file,
            row=file_row(first),
            column="year",
            fix="keep one row per party and year (the status that held for most of the year)",
        )
    return out, [StageAccount("party status: import", len(frame), len(out))]


def normalise_covariates(
    frame: pd.DataFrame,
    *,
    file: str,
    overrides: Mapping[str, str] | None = None,
    exclude: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, list[StageAccount], HarmonisationReport]:
    """Check a country-year covariate table (regime measures).

    Rows whose country matches no ISO3 code are dropped under "unmatched country name" and
    the report is returned, so that ``check`` lists the spellings and fails (they vanish
    from the panel otherwise).  The study's ``[countries.exclude]`` applies here too: a
    territory excluded from the contacts is excluded from its covariates with the same
    reason, instead of being counted as unmatched.
    """
    require_columns(frame, ["country", "year"], file=file, table="covariates")
    frame = frame.reset_index(drop=True)
    iso3, report = _harmonise(frame, file=file, overrides=overrides, exclude=exclude)
    out = pd.DataFrame(
        {
            "iso3": iso3.astype("string").values,
            "year": _to_int(frame["year"], file=file, column="year", allow_missing=False).astype(
                int
            ),
        }
    )
    if "fh_status" in frame.columns:
        out["fh_status"] = _check_values(
            frame["fh_status"], FH_STATUSES, file=file, column="fh_status", table="covariates"
        )
    for column in frame.columns:
        if column in ("country", "year", "fh_status"):
            continue
        values = frame[column]
        textual = not pd.api.types.is_numeric_dtype(values)
        parsed = (
            pd.to_numeric(
                values.astype("string").str.replace(",", ".", regex=False), errors="coerce"
            )
            if textual
            else values
        )
        if textual and values.notna().any() and parsed.notna().sum() == 0:
            out[column] = _clean_str(values).to_numpy()  # a text column (e.g. a label)
        else:
            out[column] = _to_float(values, file=file, column=column).to_numpy()
    keep = out["iso3"].notna()
    out = out[keep].reset_index(drop=True)
    dup = out.duplicated(["iso3", "year"], keep="first")
    if dup.any():
        first = int(np.flatnonzero(dup.to_numpy())[0])
        raise InputError(
            f"country {out['iso3'][first]} has two rows for {out['year'][first]} "
            "(two spellings of one country?)",
            file=file,
            column="country",
            fix="keep one row per country and year",
        )
    account = report.account("covariates: country harmonisation")
    return out, [account], report
