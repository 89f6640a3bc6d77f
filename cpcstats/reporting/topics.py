"""The topic counts as a table and a figure: ``topics_yearly.{tex,md,csv}`` and ``.{pdf,png}``.

Why in reporting: counting texts (`cpcstats.topics`) is done while panels are built,
below them; writing the yearly table and figure uses the tables, the figure style and the
writer of this package.  Keeping the two apart lets the package graph go one way
(topics -> panels -> ... -> reporting).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from cpcstats.accounting import StageAccount
from cpcstats.io import write_frame
from cpcstats.reporting.style import figure_paths, finish_plot, new_figure, style
from cpcstats.reporting.tables import stats_table
from cpcstats.reporting.write import write_table
from cpcstats.study import Study
from cpcstats.topics import (
    TopicDictionary,
    load_dictionary,
    study_dictionary,
    tag_contacts,
    yearly_topics,
)

__all__ = [
    "plot_yearly_topics",
    "referenced_topics",
    "topic_table_frame",
    "unreferenced_note",
    "write_topic_outputs",
]


def referenced_topics(
    table: pd.DataFrame, dictionary: TopicDictionary
) -> tuple[list[str], list[str]]:
    """The dictionary's topics with at least one reference in ``table``, and those without.

    Why: a topic no text mentions in any year is a flat line at zero (and a column of
    "0 (0.0%)"); the figure and the table leave it out and say so in a note, so the
    reader knows it was looked for, not forgotten.
    """
    kept, dropped = [], []
    for topic in dictionary.topics:
        count = float(table[topic.name].sum()) if topic.name in table else 0.0
        (kept if count > 0 else dropped).append(topic.name)
    return kept, dropped


def unreferenced_note(dictionary: TopicDictionary, dropped: list[str], *, years: str) -> str:
    """ "Not shown, no references in 2002-2023: Tibet, Xinjiang." ('' when none is dropped)."""
    if not dropped:
        return ""
    labels = [t.label for t in dictionary.topics if t.name in dropped]
    return f"Not shown, no references in {years}: {', '.join(labels)}."


def _years(table: pd.DataFrame) -> str:
    return f"{int(table.index.min())}-{int(table.index.max())}" if len(table) else "any year"


def plot_yearly_topics(
    table: pd.DataFrame,
    dictionary: TopicDictionary,
    *,
    stem: Path | None = None,
    simulated: bool,
    unit: str,
    topics: list[str] | None = None,
) -> Figure:
    """Share of units mentioning each topic by year, one small panel per topic.

    ``topics`` None means every topic with at least one reference (`referenced_topics`);
    the ones left out are named in a note above the panels.  Returns the figure (saved to
    ``<stem>.pdf/.png`` when ``stem`` is given).
    """
    kept, dropped = referenced_topics(table, dictionary)
    names = kept if topics is None else [t for t in topics if t in dictionary.names]
    chosen = [t for t in dictionary.topics if t.name in names]
    if not chosen:
        raise ValueError("no topic to draw: none has a reference (or none of `topics` exists)")
    ncol = 3
    nrow = int(np.ceil(len(chosen) / ncol))
    with style():
        fig = new_figure(9.0, 2.2 * nrow + 0.8)
        axes = fig.subplots(nrow, ncol, squeeze=False)
        years = table.index.to_numpy()
        for ax, topic in zip(axes.ravel(), chosen, strict=False):
            share = 100 * table[f"{topic.name}_share"].to_numpy(dtype=float)
            ax.plot(years, share, marker="o", markersize=3, linewidth=1.4, color="tab:blue")
            ax.set_title(topic.label, fontsize=9)
            ax.set_ylim(bottom=0)
            ax.set_xlim(years.min() - 0.5, years.max() + 0.5)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
            ax.tick_params(labelsize=7)
        for ax in axes.ravel()[len(chosen) :]:
            ax.set_visible(False)
        what = "news items" if unit == "item" else "contacts"
        fig.supylabel(f"% of {what} mentioning the topic", fontsize=9)
        note = unreferenced_note(
            dictionary, [d for d in dropped if d not in names], years=_years(table)
        )
        if note:
            fig.suptitle(note, fontsize=8, color="0.3")
        return finish_plot(fig, stem, simulated=simulated)


def topic_table_frame(
    table: pd.DataFrame, dictionary: TopicDictionary, topics: list[str] | None = None
) -> pd.DataFrame:
    """The yearly table as shown: units, then per topic "count (share %)" (``topics``: which)."""
    shown: dict[str, Any] = {"Units with text": [f"{int(n):,}" for n in table["units"]]}
    for topic in dictionary.topics:
        if topics is not None and topic.name not in topics:
            continue
        count = table[topic.name].astype(int)
        share = 100 * table[f"{topic.name}_share"]
        shown[topic.label] = [f"{c} ({s:.1f}%)" for c, s in zip(count, share, strict=True)]
    frame = pd.DataFrame(shown, index=table.index.astype(str))
    frame.index.name = "Year"
    return frame


def write_topic_outputs(
    study: Study,
    out: Path,
    *,
    dictionary_path: str | Path | None = None,
    unit: str | None = None,
) -> tuple[list[Path], pd.DataFrame, StageAccount]:
    """Tag the study's contacts and write ``tables/topics_yearly.{tex,md,csv}`` and
    ``figures/topics_yearly.{pdf,png}``; options default to the study's ``[topics]``."""
    config = study.config.get("topics", {}) if isinstance(study.config, dict) else {}
    unit = unit or str(config.get("unit", "item"))
    dictionary = (
        load_dictionary(dictionary_path) if dictionary_path is not None else study_dictionary(study)
    )
    tagged, account = tag_contacts(study.contacts, dictionary, unit=unit)
    table = yearly_topics(tagged, dictionary)
    kept, dropped = referenced_topics(table, dictionary)
    what = "news items (contacts sharing a source_id count once)" if unit == "item" else "contacts"
    notes = [
        f"Counts of {what} whose text mentions each topic, and their share of the year's "
        f"{'items' if unit == 'item' else 'contacts'} with text; topics from "
        f"{Path(dictionary.source).name} (case-insensitive whole-word terms and regular "
        "expressions, after the topic's exclusions).",
        f"Sample: {study.label()}, {study.first_year}-{study.last_year}; "
        f"{account.rows_out:,} of {account.rows_in:,} contacts have text.",
    ]
    if dropped:
        notes.append(unreferenced_note(dictionary, dropped, years=_years(table)))
    tab = stats_table(
        topic_table_frame(table, dictionary, kept),
        title="References to topics in the contact reports, by year",
        label="tab:topics_yearly",
        notes=notes,
        simulated=bool(study.simulated),
    )
    out = Path(out)
    files = write_table(tab, out, "topics_yearly")
    files.append(write_frame(table.reset_index(), out / "tables" / "topics_yearly.csv"))
    if kept:
        stem = out / "figures" / "topics_yearly"
        plot_yearly_topics(table, dictionary, stem=stem, simulated=bool(study.simulated), unit=unit)
        files += figure_paths(stem)
    account.notes["topics_not_shown"] = list(dropped)
    return files, table, account
