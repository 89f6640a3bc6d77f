"""Indicator columns shared by the difference-in-differences estimators.

Why here: the event study and ETWFE both add 0/1 columns to a copy of the panel, must not
silently overwrite a column the user already has, and must leave out indicators that are
on only in rows a fixed-effects Poisson fit drops (units or periods whose outcome is zero
throughout), because such an indicator cannot vary in the estimation sample.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from cpcstats.errors import SpecError
from cpcstats.estimation.hdfe import drop_zero_groups
from cpcstats.panels import Panel

__all__ = ["as_frame", "attach_columns", "observed_indicators"]


def as_frame(panel: Panel | pd.DataFrame) -> pd.DataFrame:
    """A copy of the panel's rows that keeps the simulated flag for ``fit``."""
    if isinstance(panel, Panel):
        frame = panel.data.copy()
        frame.attrs.update({"simulated": panel.simulated, "study": panel.study})
        return frame
    frame = panel.copy()
    frame.attrs.update(panel.attrs)
    return frame


def attach_columns(frame: pd.DataFrame, columns: Mapping[str, np.ndarray]) -> pd.DataFrame:
    """``frame`` (new 0..n-1 index) with ``columns`` appended; its attrs are kept.

    Raises `SpecError` when a new column name is already in ``frame``.
    """
    clash = [c for c in columns if c in frame.columns]
    if clash:
        raise SpecError(
            f"the panel already has column(s) {', '.join(clash)}",
            column=clash[0],
            fix="rename them before building event-time indicators",
        )
    data = pd.concat(
        [frame.reset_index(drop=True), pd.DataFrame(dict(columns), index=range(len(frame)))],
        axis=1,
    )
    data.attrs.update(frame.attrs)
    return data


def observed_indicators(
    data: pd.DataFrame, terms: Iterable[str], yname: str, *, idname: str, tname: str
) -> list[str]:
    """The 0/1 indicators among ``terms`` that are on in some row the FE-Poisson keeps.

    Why: rows of a unit (or period) with a zero outcome throughout carry no information
    and are dropped by the fit (`hdfe.drop_zero_groups`, the one rule), so an indicator
    seen only there cannot vary in the sample;
    estimators report such bins or cells as not estimable instead of failing the fit.
    """
    y = pd.to_numeric(data[yname]).to_numpy(dtype=float)
    codes = [pd.factorize(data[c])[0] for c in (idname, tname)]
    # the fit's own rule: outcome sums of 0, integer facts only
    kept = data.loc[drop_zero_groups(y, codes)]
    return [t for t in terms if bool((kept[t] == 1).any())]
