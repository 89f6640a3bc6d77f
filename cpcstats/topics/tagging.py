"""Tagging contact reports with dictionary topics, and counting them by year and panel cell.

Counting only: the yearly table and figure are written by `cpcstats.reporting.topics`,
so this module imports nothing from reporting, designs or panels (panels call it).

Counting rule (``unit``), stated in every output because the two answer different
questions:

* ``"item"`` — one count per news item (``source_id``): a report of a delegation that met
  five parties and discussed the BRI is one BRI reference.  This is the study's reading of
  its Figures 6-8 ("references per year").  Contacts without a ``source_id`` are items of
  their own.
* ``"contact"`` — one count per contact: that report gives five BRI contacts.  Panel
  columns ``contacts_<topic>`` always use this rule (they are contact counts).

Matching uses vectorised regular expressions on Arrow strings with RE2 only
(`cpcstats.saferegex`: linear time in the text, so no pattern can hang on a long
report; patterns RE2 cannot run were refused when the dictionary was loaded),
case-insensitive, on the text after the topic's exclusions have been blanked out.
"""

from __future__ import annotations

from typing import Protocol, Self, TypeVar

import numpy as np
import pandas as pd

from cpcstats import saferegex
from cpcstats.accounting import StageAccount
from cpcstats.errors import SpecError
from cpcstats.topics.dictionary import Topic, TopicDictionary

COUNTING_UNITS = ("item", "contact")

_P = TypeVar("_P", bound="PanelLike")


class PanelLike(Protocol):
    """What `add_topic_counts` needs of a panel (`cpcstats.panels.Panel` has it).

    Why a protocol: panels call the counting here when they are built, so topics sits
    below panels and must not import them (the package graph goes one way).
    """

    @property
    def level(self) -> str: ...

    @property
    def data(self) -> pd.DataFrame: ...

    def with_data(self, data: pd.DataFrame, account: StageAccount | None = None) -> Self: ...


def _search(texts: pd.Series, pattern: str) -> np.ndarray:
    """Case-insensitive regex search over many texts (RE2: bounded time)."""
    return saferegex.contains(texts, pattern, ignore_case=True)


def _blank(texts: pd.Series, pattern: str) -> pd.Series:
    """The texts with every case-insensitive match of ``pattern`` replaced by a space."""
    return saferegex.replace(texts, pattern, " ", ignore_case=True)


def _tag_one(texts: pd.Series, topic: Topic) -> np.ndarray:
    if topic.exclude:
        texts = _blank(texts, topic.exclude)
    return _search(texts, topic.pattern)


def tag_texts(texts: pd.Series | list[str], dictionary: TopicDictionary) -> pd.DataFrame:
    """0/1 per topic (columns ``topic_<name>``) for each text; missing text is 0 everywhere."""
    series = pd.Series(texts) if not isinstance(texts, pd.Series) else texts
    series = saferegex.arrow_strings(series.fillna(""))
    # each distinct text is matched once (contacts of one news item share its text)
    codes, uniques = pd.factorize(series)
    distinct = pd.Series(uniques, dtype="string[pyarrow]")
    out = pd.DataFrame(index=series.index)
    for topic in dictionary.topics:
        hits = _tag_one(distinct, topic).astype(np.int8)
        out[topic.column] = hits[codes] if len(distinct) else np.zeros(len(series), np.int8)
    return out


def has_texts(contacts: pd.DataFrame) -> bool:
    """Whether any contact carries a text to tag (panels and the replication ask this)."""
    return "text" in contacts.columns and bool(contacts["text"].notna().any())


def _check_unit(unit: str) -> None:
    if unit not in COUNTING_UNITS:
        raise SpecError(
            f"unknown counting unit {unit!r}",
            column="unit",
            fix=f"use one of {', '.join(COUNTING_UNITS)}",
        )


def tag_contacts(
    contacts: pd.DataFrame, dictionary: TopicDictionary, *, unit: str = "item"
) -> tuple[pd.DataFrame, StageAccount]:
    """The contacts (``unit="contact"``) or their news items (``"item"``) with topic tags.

    Rows without text cannot be tagged: they are left out and counted in the account.
    With ``"item"``, contacts sharing a ``source_id`` form one item (its year is the
    earliest of its contacts, its text the first non-empty one).
    """
    _check_unit(unit)
    if "text" not in contacts.columns:
        raise SpecError(
            "the contacts have no `text` column, so there is nothing to tag",
            column="text",
            fix="map the news item's text or summary to `text` in [contacts.columns]",
        )
    has_text = contacts["text"].notna() & (contacts["text"].astype("string").str.strip() != "")
    with_text = contacts[has_text.to_numpy()]
    if unit == "contact":
        rows = with_text.reset_index(drop=True)
        stage = "topics: contacts tagged"
    else:
        key = with_text["source_id"] if "source_id" in with_text.columns else None
        if key is None:
            key = pd.Series(pd.NA, index=with_text.index, dtype="string")
        own = "row:" + pd.Series(np.arange(len(with_text)), index=with_text.index).astype(str)
        item = key.astype("string").fillna(own)
        rows = (
            with_text.assign(_item=item.to_numpy())
            .sort_values(["_item", "year"], kind="stable")
            .groupby("_item", sort=True)
            .agg(year=("year", "min"), text=("text", "first"), contacts=("year", "size"))
            .reset_index(names="source_id")
        )
        stage = "topics: news items tagged"
    tags = tag_texts(rows["text"], dictionary)
    tagged = pd.concat([rows.reset_index(drop=True), tags.reset_index(drop=True)], axis=1)
    account = StageAccount(
        stage,
        len(contacts),
        int(has_text.sum()),
        {"no text to tag": int((~has_text).sum())},
        notes={"unit": unit, "units_tagged": len(tagged), "dictionary": dictionary.source},
    )
    return tagged, account


def yearly_topics(tagged: pd.DataFrame, dictionary: TopicDictionary) -> pd.DataFrame:
    """Per year: units with text, and per topic the count and the share of those units."""
    columns = [t.column for t in dictionary.topics]
    grouped = tagged.groupby("year")
    out = pd.DataFrame({"units": grouped.size()})
    for topic, column in zip(dictionary.topics, columns, strict=True):
        count = grouped[column].sum().astype(int)
        out[f"{topic.name}"] = count
        out[f"{topic.name}_share"] = count / out["units"]
    out.index = out.index.astype(int)
    out.index.name = "year"
    return out


def add_topic_counts(panel: _P, contacts: pd.DataFrame, dictionary: TopicDictionary) -> _P:
    """``contacts_<topic>`` on a country-year or party-year panel: contacts whose text
    mentions the topic (the contact rule; contacts without text count as not mentioning)."""
    keys = ["party_id", "year"] if panel.level == "party-year" else ["iso3", "year"]
    events = contacts
    if panel.level == "party-year":
        events = events[events["counterpart_type"] == "party"]
    tags = tag_texts(
        events["text"]
        if "text" in events.columns
        else pd.Series(pd.NA, index=events.index, dtype="string"),
        dictionary,
    )
    frame = pd.concat([events[keys].reset_index(drop=True), tags.reset_index(drop=True)], axis=1)
    sums = frame.groupby(keys, sort=False)[[t.column for t in dictionary.topics]].sum()
    sums.columns = [f"contacts_{t.name}" for t in dictionary.topics]
    clash = [c for c in sums.columns if c in panel.data.columns]
    if clash:
        raise SpecError(
            f"the panel already has column(s) {', '.join(clash)}",
            column=clash[0],
            fix="rename the topic (its name becomes the column suffix)",
        )
    data = panel.data.merge(sums.reset_index(), on=keys, how="left", validate="1:1")
    for column in sums.columns:
        data[column] = data[column].fillna(0).astype(int)
    texts = events["text"].notna().sum() if "text" in events.columns else 0
    account = StageAccount(
        f"{panel.level}: topic counts",
        len(panel.data),
        len(data),
        {},
        notes={
            "contacts_with_text": int(texts),
            "contacts": len(events),
            "dictionary": dictionary.source,
        },
    )
    return panel.with_data(data, account)
