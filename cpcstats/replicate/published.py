"""Tables that compare a study with published figures (``[published]`` of the study file).

What the published study is, and how its tables are cited, is data: the ``[source]``
table of the published-figures file (the packaged ``published.toml`` names the reference
study); a file of one's own without it is cited by its file name.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cpcstats.descriptives import (
    compare_top_partners,
    load_published_partners,
    published_period,
    published_source,
)
from cpcstats.replicate.config import ReplicationConfig
from cpcstats.replicate.published_figures import TOPIC_KEYS, compare_published, load_published
from cpcstats.reporting.tables import stats_table
from cpcstats.reporting.write import write_table
from cpcstats.study import PUBLISHED_DEFAULT, Study

RULE_NOTE = (
    "A figure matches when the computed value satisfies the study's wording (the file's "
    "relation): a count printed exactly must be equal, a share printed as a whole percent "
    "within its rounding (0.5 points), 'about' within the stated tolerance, 'more than' / "
    "'less than' strictly above / below."
)
TOPIC_NOTE = (
    "Topic figures count party contacts whose text mentions the topic in the study's topic "
    "dictionary (one count per contact); without texts they are not computable."
)

MATCHING_NOTE = (
    "Parties are matched within the published country by the package's party-name matcher "
    "(equal name, Party Facts ids when the study names the register, initials, normalised "
    "forms, a fuzzy score of at least 0.92); ties and misses are reported, never taken or "
    "dropped."
)


def published_file(study: Study, cfg: ReplicationConfig) -> Path | None:
    """The published figures a study asked to be compared with (``[published]``), if any.

    ``enabled = true`` means the reference study's figures shipped beside the replication
    configuration; ``path = FILE`` a user's own file.
    """
    if study.published is None:
        return None
    if study.published == PUBLISHED_DEFAULT:
        return cfg.published
    return study.published


def write_published_tables(study: Study, cfg: ReplicationConfig, out: Path) -> list[Path]:
    """The published figures and top partners next to the values of this study's data."""
    published = published_file(study, cfg)
    if published is None:
        return []
    source = published_source(published)
    first, last = published_period(published)
    figures = load_published(published)
    frame = compare_published(study, figures, first_year=first, last_year=last)
    notes = [
        source.get("figures_note", f"Published: {published.name}; shares as proportions."),
        RULE_NOTE,
    ]
    if any(str(item["key"]) in TOPIC_KEYS for item in figures):
        notes.append(TOPIC_NOTE)
    if first is not None or last is not None:
        own = (
            " unless the figure names its years" if any("first_year" in f for f in figures) else ""
        )
        notes.append(
            f"Computed from this study's contacts in {first or study.first_year}-"
            f"{last or study.last_year}, the period the published figures cover{own} "
            f"(the study's own window is {study.first_year}-{study.last_year})."
        )
    if study.simulated:
        notes.append(
            "The demo study is simulated and calibrated to these published "
            "figures; differences show the calibration, not a replication."
        )
    tab = stats_table(
        frame.set_index("figure")[["published", "computed", "comparison"]],
        title="Published figures and the values computed from this study's data",
        label="tab:published",
        notes=notes,
        simulated=study.simulated,
    )
    files = write_table(tab, out, "published_figures")
    return files + _write_partner_table(study, published, source, out, (first, last))


def _partner_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The comparison of top partners as the table shows it (rank as the index)."""
    shown = pd.DataFrame(
        {
            "rank": frame["published_rank"].astype(int).to_numpy(),
            "party (published)": frame["published_party"].to_numpy(),
            "country": frame["published_country"].to_numpy(),
            "published": frame["published_contacts"].astype(int).to_numpy(),
            "computed": frame["computed_contacts"].astype(object).to_numpy(),
            "comparison": frame["comparison"].to_numpy(),
        }
    )
    shown["computed"] = shown["computed"].where(shown["computed"].notna(), None)
    return shown.set_index("rank")


def _write_partner_table(
    study: Study,
    published: Path,
    source: dict[str, str],
    out: Path,
    period: tuple[int | None, int | None],
) -> list[Path]:
    """The published top partners against this study's party contacts."""
    partners = load_published_partners(published)
    if not partners:
        return []
    first, last = period
    frame = compare_top_partners(
        study.contacts,
        study.parties,
        partners,
        first_year=first,
        last_year=last,
        register=study.party_register,
    )
    cited = source.get("partners_note", f"Published: the top partners of {published.name}.")
    notes = [f"{cited} {MATCHING_NOTE}"]
    if study.simulated:
        notes.append(
            "The parties are real but the contacts are simulated: each party's affinity is a "
            "random draw, so the counts of the published partners found here are not theirs; "
            "the matching is the check a replicator gets on real data."
        )
    hints = [h for h in frame.get("hint", pd.Series(dtype=object)).dropna() if h]
    if hints and not study.simulated:
        notes.append("Not found: " + "; ".join(hints) + ".")
    tab = stats_table(
        _partner_frame(frame),
        title=source.get("partners_title", "Published top partners and this study's counts"),
        label="tab:published_partners",
        notes=notes,
        simulated=study.simulated,
    )
    return write_table(tab, out, "published_partners")
