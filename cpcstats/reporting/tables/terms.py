"""Readable row labels for patsy term names, and the model parts a term belongs to.

Why separate from the table: the coefficient figure (`cpcstats.reporting.figures`)
labels its rows exactly as the table does, so both take their labels from here.  The
parsing lives in `cpcstats.reporting.labels` (which the tables import, so it cannot
import them); this module keeps the names the tables and figures have always used.
"""

from __future__ import annotations

from cpcstats.reporting.labels import (
    COUNT_PART_TITLE,
    PART_TITLES,
    Labels,
    default_labels,
    split_interaction,
    split_part,
)

__all__ = ["COUNT_PART_TITLE", "PART_TITLES", "pretty_term", "split_interaction", "split_part"]


def pretty_term(term: str, labels: Labels | None = None) -> str:
    """Readable label for a patsy term name, from ``labels`` (default: the packaged ones).

    ``C(fh_status)[T.NF]`` becomes the level's label ("Not Free"), interactions are
    joined with ``×`` and ``Intercept`` becomes ``Constant``.  A part prefix
    (``inflate:``) is dropped because the table shows the part as a block header.
    """
    return (labels or default_labels()).term(term)
