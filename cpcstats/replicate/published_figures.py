"""The published figures of a study's reference paper, each with its match rule, against ours.

Why the rule is data: a paper prints "3,658", "65 %", "about one quarter" or "more than
50 %", and each wording is a different claim.  Every ``[[figure]]`` of the published file
(``replication/published.toml``) states its ``relation`` ("exactly", "about", "more than",
"less than") and, where it needs one, its ``tolerance``; `compare_published` honours it,
so 49.8 % does not "match" "more than 50 %".  The figures themselves are computed by
`cpcstats.descriptives.study_figures`; figures read from the contacts' texts (the Belt and
Road meetings) use the study's topic dictionary (`cpcstats.topics`).
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd

from cpcstats.descriptives import study_figures
from cpcstats.errors import SpecError
from cpcstats.study import Study
from cpcstats.topics import has_texts, study_dictionary, tag_texts

__all__ = ["RELATIONS", "TOPIC_KEYS", "compare_published", "load_published", "published_rule"]


def _format(value: float, kind: str) -> str:
    return f"{value:.1%}" if kind == "share" else f"{value:,.0f}"


#: How a published figure states its value: the comparison honours the wording.
RELATIONS = ("exactly", "about", "more than", "less than")
#: Figures computed from the contacts' texts: ``key`` -> what is counted (needs ``topic``).
TOPIC_KEYS = {"party_contacts_mentioning": "party contacts whose text mentions the topic"}


def load_published(path: str | Path) -> list[dict[str, object]]:
    """The ``[[figure]]`` entries, each checked for a known ``relation`` and its ``tolerance``.

    Why checked: the relation is the match rule ("more than 50 %" is not matched by
    49.8 %), so an entry without a usable rule would be compared by a rule nobody stated.
    ``relation`` defaults to ``"exactly"``; ``"about"`` needs a ``tolerance`` (in the
    figure's unit: counts, or proportions for shares); ``"exactly"`` may have one (the
    rounding of the printed value, e.g. 0.005 for a whole percent).
    """
    figures = list(tomllib.loads(Path(path).read_text(encoding="utf-8"))["figure"])
    for n, item in enumerate(figures, start=1):
        where = f"[[figure]] number {n} ({item.get('key', '?')})"
        if "approx" in item:
            raise SpecError(
                f"{where}: 'approx' is no longer read; the match rule is 'relation'",
                fix='write relation = "about" with a tolerance, or "more than" / "less than"',
            )
        relation = item.setdefault("relation", "exactly")
        tolerance = item.setdefault("tolerance", 0.0)
        if relation not in RELATIONS:
            raise SpecError(
                f"{where}: unknown relation {relation!r}", fix=f"use one of {RELATIONS}"
            )
        if not isinstance(tolerance, int | float) or tolerance < 0:
            raise SpecError(f"{where}: tolerance must be a number >= 0", fix="e.g. 0.025")
        if relation == "about" and tolerance == 0:
            raise SpecError(f"{where}: 'about' needs a tolerance > 0", fix="e.g. 0.025")
        if item["key"] in TOPIC_KEYS and not item.get("topic"):
            raise SpecError(f"{where}: needs the topic it counts", fix='topic = "belt_and_road"')
    return figures


def published_rule(item: dict[str, object]) -> str:
    """The published figure as the paper words it, e.g. "more than 50.0 %" or "about 25.0 %
    (within 2.5 points)"."""
    kind, relation = str(item.get("kind", "count")), str(item.get("relation", "exactly"))
    shown = _format(float(item["value"]), kind)  # type: ignore[arg-type]
    tolerance = float(item.get("tolerance", 0.0))  # type: ignore[arg-type]
    if relation in ("more than", "less than"):
        return f"{relation} {shown}"
    if relation == "about":
        width = f"{tolerance * 100:.1f} points" if kind == "share" else f"{tolerance:,.0f}"
        return f"about {shown} (within {width})"
    return shown


def _verdict(value: float, item: dict[str, object]) -> str:
    """ "match" when the computed value satisfies the published relation, else by how much not."""
    pub, kind = float(item["value"]), str(item.get("kind", "count"))  # type: ignore[arg-type]
    relation, tolerance = str(item["relation"]), float(item["tolerance"])  # type: ignore[arg-type]
    diff = value - pub
    ok = {
        "more than": diff > 0,
        "less than": diff < 0,
    }.get(relation, abs(diff) <= tolerance + 1e-12)
    if ok:
        return "match"
    if relation in ("more than", "less than"):
        return f"not {relation} {_format(pub, kind)}"
    if kind == "share":
        return f"differs by {diff * 100:+.1f} points"
    return f"differs by {diff:+,.0f} ({diff / pub:+.1%})"


def _topic_count(study: Study, topic: str, first: int | None, last: int | None) -> float | None:
    """Party contacts in the period whose text mentions ``topic`` (None: no texts or topic)."""
    dictionary = study_dictionary(study)
    chosen = [t for t in dictionary.topics if t.name == topic]
    if not has_texts(study.contacts) or not chosen:
        return None
    party = study.contacts[study.contacts["counterpart_type"] == "party"]
    party = party[party["year"].between(first or -9999, last or 9999)]
    return int(tag_texts(party["text"], dictionary)[chosen[0].column].sum())


def compare_published(
    study: Study,
    published: list[dict[str, object]],
    *,
    first_year: int | None = None,
    last_year: int | None = None,
) -> pd.DataFrame:
    """One row per published figure: the paper's statement, ours, and whether ours satisfies it.

    Ours are computed over ``first_year``-``last_year`` (the published period) unless the
    figure gives its own ``first_year``/``last_year`` (the BRI meetings cover 2014-2017).
    The comparison honours the figure's ``relation`` (see `load_published`).
    """
    cache: dict[tuple[int | None, int | None], dict[str, float]] = {}
    rows = []
    for item in published:
        item = {"relation": "exactly", "tolerance": 0.0} | item
        key, kind = str(item["key"]), str(item.get("kind", "count"))
        period = (item.get("first_year", first_year), item.get("last_year", last_year))
        if key in TOPIC_KEYS:
            value = _topic_count(study, str(item.get("topic")), *period)  # type: ignore[arg-type]
        else:
            if period not in cache:
                cache[period] = study_figures(study, *period)  # type: ignore[arg-type]
            value = cache[period].get(key)
        rows.append(
            {
                "figure": str(item.get("label", key)),
                "published": published_rule(item),
                "computed": None if value is None else _format(value, kind),
                "published_value": float(item["value"]),  # type: ignore[arg-type]
                "computed_value": value,
                "kind": kind,
                "relation": item["relation"],
                "comparison": "not computable" if value is None else _verdict(value, item),
            }
        )
    return pd.DataFrame(rows)
