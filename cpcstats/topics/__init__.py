"""Content analysis of contact reports: dictionary topics, tagging, yearly counts.

* `load_dictionary` — a topic dictionary (TOML, user-editable) checked and compiled.
* `tag_texts` — 0/1 per topic for every text (vectorised regular expressions).
* `tag_contacts` — the study's contacts tagged, per news item or per contact.
* `yearly_topics` — yearly counts and shares per topic (the study's Figures 6-8).
* `add_topic_counts` — ``contacts_<topic>`` columns on a country-year or party-year
  panel, so a model can use e.g. ``contacts_belt_and_road`` as its outcome.

The yearly table and figure (`cpcstats.reporting.topics.write_topic_outputs`,
`cpcstats.reporting.topics.plot_yearly_topics`) live in `cpcstats.reporting.topics`:
this package only counts, below the panels that use it.
"""

from __future__ import annotations

from cpcstats.topics.dictionary import (
    DEFAULT_DICTIONARY,
    Topic,
    TopicDictionary,
    load_dictionary,
    study_dictionary,
)
from cpcstats.topics.tagging import (
    COUNTING_UNITS,
    PanelLike,
    add_topic_counts,
    has_texts,
    tag_contacts,
    tag_texts,
    yearly_topics,
)

__all__ = [
    "COUNTING_UNITS",
    "DEFAULT_DICTIONARY",
    "PanelLike",
    "Topic",
    "TopicDictionary",
    "add_topic_counts",
    "has_texts",
    "load_dictionary",
    "study_dictionary",
    "tag_contacts",
    "tag_texts",
    "yearly_topics",
]
