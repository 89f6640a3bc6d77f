"""The study's descriptive figures, computed from any study's contact events.

These are the numbers the reference study reports in its text (totals, the
ruling/opposition split, regime shares, concentration).  Computing them with
one function lets the replication print them beside the published values, so
a replicator sees at once whether their data reproduce the paper (and the
demo shows how closely its simulation is calibrated).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd

from cpcstats.contract import RULING_STATUSES
from cpcstats.study import Study


def _share(part: int, whole: int) -> float:
    return float(part / whole) if whole else float("nan")


def study_figures(
    study: Study, first_year: int | None = None, last_year: int | None = None
) -> dict[str, float]:
    """Totals, ruling/opposition split, regime shares and concentration of a study's contacts.

    ``first_year``/``last_year`` restrict the events to a period (e.g. the published
    study's 2002-2017 when the study's own window is longer).
    """
    return contact_figures(
        study.contacts, study.party_status, study.covariates, first_year, last_year
    )


def contact_figures(
    contacts: pd.DataFrame,
    party_status: pd.DataFrame | None = None,
    covariates: pd.DataFrame | None = None,
    first_year: int | None = None,
    last_year: int | None = None,
) -> dict[str, float]:
    """The figures of :func:`study_figures` from the tables themselves.

    ``contacts`` needs ``iso3``, ``year``, ``counterpart_type`` and ``party_id``;
    ``party_status`` ``party_id``, ``year``, ``status``; ``covariates`` ``iso3``, ``year``,
    ``fh_status``.  Shares that need a missing table are left out.
    """
    events = contacts
    if first_year is not None:
        events = events[events["year"] >= first_year]
    if last_year is not None:
        events = events[events["year"] <= last_year]
    party = events[events["counterpart_type"] == "party"]
    out: dict[str, float] = {
        "contacts_total": len(events),
        "contacts_party": len(party),
        "contacts_nonparty": len(events) - len(party),
        "parties_contacted": int(party["party_id"].nunique()),
        "party_countries": int(party["iso3"].nunique()),
    }
    per_party = party["party_id"].value_counts()
    out["share_parties_le2"] = _share(int((per_party <= 2).sum()), len(per_party))
    out["share_parties_ge5"] = _share(int((per_party >= 5).sum()), len(per_party))
    out["top_partner_contacts"] = int(per_party.max()) if len(per_party) else 0
    per_country = party.groupby("iso3")["party_id"].nunique()
    out["share_countries_le3_parties"] = _share(int((per_country <= 3).sum()), len(per_country))
    out["share_countries_1_party"] = _share(int((per_country == 1).sum()), len(per_country))
    if party_status is not None:
        tagged = party.merge(party_status, on=["party_id", "year"], how="left")
        ruling = tagged["status"].isin(RULING_STATUSES)
        opposition = tagged["status"] == "opposition"
        out["contacts_ruling"] = int(ruling.sum())
        out["contacts_opposition"] = int(opposition.sum())
        out["share_ruling"] = _share(int(ruling.sum()), len(tagged))
        if covariates is not None and "fh_status" in covariates:
            regime = tagged.merge(
                covariates[["iso3", "year", "fh_status"]], on=["iso3", "year"], how="left"
            )
            opp = regime[regime["status"] == "opposition"]
            out["share_opposition_free"] = _share(int((opp["fh_status"] == "F").sum()), len(opp))
            out["share_opposition_not_free"] = _share(
                int((opp["fh_status"] == "NF").sum()), len(opp)
            )
            pf = regime[regime["fh_status"] == "PF"]
            out["share_ruling_partly_free"] = _share(
                int(pf["status"].isin(RULING_STATUSES).sum()), len(pf)
            )
    return out


def _format(value: float, kind: str) -> str:
    return f"{value:.1%}" if kind == "share" else f"{value:,.0f}"


def load_published(path: str | Path) -> list[dict[str, object]]:
    return list(tomllib.loads(Path(path).read_text(encoding="utf-8"))["figure"])


def published_period(path: str | Path) -> tuple[int | None, int | None]:
    """The period the published figures cover (``[period]`` of the file), if stated."""
    period = tomllib.loads(Path(path).read_text(encoding="utf-8")).get("period", {})
    first, last = period.get("first_year"), period.get("last_year")
    return (None if first is None else int(first), None if last is None else int(last))


def compare_published(
    study: Study,
    published: list[dict[str, object]],
    *,
    first_year: int | None = None,
    last_year: int | None = None,
) -> pd.DataFrame:
    """One row per published figure: the paper's value, ours, and the difference.

    Ours are computed over ``first_year``-``last_year`` (the published period) when given.
    """
    ours = study_figures(study, first_year, last_year)
    rows = []
    for item in published:
        key = str(item["key"])
        value = ours.get(key)
        pub = float(item["value"])  # type: ignore[arg-type]
        kind = str(item.get("kind", "count"))
        if value is None:
            verdict = "not computable"
        elif kind == "share":
            diff = value - pub
            verdict = "match" if abs(diff) < 0.005 else f"differs by {diff * 100:+.1f} points"
        else:
            diff = value - pub
            verdict = "match" if diff == 0 else f"differs by {diff:+,.0f} ({diff / pub:+.1%})"
        rows.append(
            {
                "figure": str(item.get("label", key)),
                "published": _format(pub, kind),
                "computed": None if value is None else _format(value, kind),
                "published_value": pub,
                "computed_value": value,
                "kind": kind,
                "comparison": verdict,
            }
        )
    return pd.DataFrame(rows)
