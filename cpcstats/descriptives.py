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


def study_figures(study: Study) -> dict[str, float]:
    """Totals, ruling/opposition split, regime shares and concentration of contacts."""
    events = study.contacts
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
    if study.party_status is not None:
        tagged = party.merge(study.party_status, on=["party_id", "year"], how="left")
        ruling = tagged["status"].isin(RULING_STATUSES)
        opposition = tagged["status"] == "opposition"
        out["contacts_ruling"] = int(ruling.sum())
        out["contacts_opposition"] = int(opposition.sum())
        out["share_ruling"] = _share(int(ruling.sum()), len(tagged))
        if study.covariates is not None and "fh_status" in study.covariates:
            regime = tagged.merge(
                study.covariates[["iso3", "year", "fh_status"]], on=["iso3", "year"], how="left"
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


def compare_published(study: Study, published: list[dict[str, object]]) -> pd.DataFrame:
    """One row per published figure: the paper's value, ours, and the difference."""
    ours = study_figures(study)
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
