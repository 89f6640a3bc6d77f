"""The break regressors and the one estimation setting every candidate break date shares.

Why a setting object: a sup-Wald test fits the same model at every candidate date; deciding
series vs panel, family, fixed effects and SEs once (`break_setting`) guarantees the
candidates differ only in the date, so their Wald statistics and likelihoods compare.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import pandas as pd

from cpcstats.errors import SpecError
from cpcstats.estimation.fit import fit
from cpcstats.estimation.results import FitResult
from cpcstats.panels import Panel
from cpcstats.spec_registry import get_family

__all__ = [
    "LEVEL",
    "SHIFT_TERMS",
    "TREND",
    "TREND_SHIFT",
    "BreakSetting",
    "break_setting",
    "estimator_text",
    "fit_break",
    "with_break",
]

TREND = "trend"  # t - break date (so the level shift is the jump at the break date)
LEVEL = "post_break"  # 1{t >= break date}
TREND_SHIFT = "post_trend"  # (t - break date) * post_break
SHIFT_TERMS: dict[str, tuple[str, ...]] = {
    "level": (LEVEL,),
    "level+trend": (LEVEL, TREND_SHIFT),
}


@dataclass(frozen=True)
class BreakSetting:
    """One estimation setting shared by every candidate break: data, columns, model, SEs."""

    frame: pd.DataFrame
    panel: Panel | None
    yname: str
    tname: str
    idname: str | None  # unit fixed effects, or None
    family: str
    cluster: str | None
    se: str | None
    kind: str  # how tables name the sample: "yearly series", "country-year panel", ...
    simulated: bool
    series: bool  # one row per period (no panel)
    controls: tuple[str, ...] = ()

    @property
    def first(self) -> int:
        """The first period of the sample."""
        return int(self.frame[self.tname].min())

    @property
    def last(self) -> int:
        """The last period of the sample."""
        return int(self.frame[self.tname].max())


def _frame_of(data: Panel | pd.DataFrame, tname: str) -> pd.DataFrame:
    frame = data.data if isinstance(data, Panel) else data
    if not isinstance(frame, pd.DataFrame) or tname not in frame.columns:
        raise SpecError(
            f"break tests need a Panel or a DataFrame with a {tname!r} column",
            fix="pass tname= naming the time column",
        )
    return frame


def break_setting(
    data: Panel | pd.DataFrame,
    *,
    yname: str,
    tname: str,
    idname: str | None = None,
    family: str | None = None,
    cluster: str | None = None,
    controls: Sequence[str] = (),
    sample: str | None = None,
    se: str | None = None,
) -> BreakSetting:
    """Decide series vs panel, FE, family and SEs once, so every candidate uses the same.

    A DataFrame whose ``tname`` never repeats is a series: ``poisson`` with quasi-Poisson
    SEs (HC variances are biased downwards with a few dozen points; one Pearson scale
    factor captures the aggregate's overdispersion) or ``negbin`` with HC1 SEs.  Otherwise
    a panel: ``fe-poisson`` with ``idname`` fixed effects, or ``poisson`` without,
    SEs clustered by ``cluster`` (HC1 when no cluster is given), or with
    ``se="driscoll-kraay"`` Driscoll-Kraay SEs by ``tname`` (robust to shocks common to
    every unit of a period, which unit clustering ignores; ``cluster`` is then unused).
    ``sample`` names the sample in tables (default ``"series"``, ``"<level> panel"`` or
    ``"panel"``).
    """
    panel = data if isinstance(data, Panel) else None
    frame = _frame_of(data, tname)
    if yname not in frame.columns:
        raise SpecError(f"no outcome column {yname!r}", fix="pass yname= naming the outcome")
    simulated = panel.simulated if panel is not None else bool(frame.attrs.get("simulated"))
    controls = tuple(controls)
    if panel is None and not frame[tname].duplicated().any():
        if idname is not None or cluster is not None:
            raise SpecError(
                f"idname/cluster given for a series (one row per {tname})",
                fix="use idname=None and cluster=None for a series, or pass a panel",
            )
        fam = family or "poisson"
        if fam not in ("poisson", "negbin"):
            raise SpecError(f"family {fam!r} for a series", fix="use 'poisson' or 'negbin'")
        se = "quasi" if get_family(fam).quasi else "hc1"
        kind = sample or "series"
        return BreakSetting(
            frame, None, yname, tname, None, fam, None, se, kind, simulated, True, controls
        )
    fam = family or ("fe-poisson" if idname else "poisson")
    if get_family(fam).needs_fe and idname is None:
        raise SpecError(f"family {fam!r} needs unit fixed effects", fix="pass idname=")
    if se == "driscoll-kraay":
        cluster = tname
    else:
        se = se or ("cluster" if cluster is not None else "hc1")
    kind = sample or (f"{panel.level} panel" if panel is not None else "panel")
    return BreakSetting(
        frame, panel, yname, tname, idname, fam, cluster, se, kind, simulated, False, controls
    )


def with_break(frame: pd.DataFrame, tname: str, break_year: int) -> pd.DataFrame:
    """Add the trend and break regressors for one candidate break date."""
    out = frame.copy()
    year = pd.to_numeric(out[tname]).astype(float)
    out[TREND] = year - break_year
    out[LEVEL] = (year >= break_year).astype(int)
    out[TREND_SHIFT] = out[TREND] * out[LEVEL]
    return out


def fit_break(s: BreakSetting, break_year: int, terms: Sequence[str], name: str) -> FitResult:
    """Fit the setting's model with the trend, the break ``terms`` and the controls."""
    frame = with_break(s.frame, s.tname, break_year)
    formula = f"{s.yname} ~ {' + '.join([TREND, *terms, *s.controls])}"
    if s.idname:
        formula += f" | {s.idname}"
    source: Panel | pd.DataFrame
    if s.panel is not None:
        source = replace(s.panel, data=frame)
    else:
        frame.attrs["simulated"] = s.simulated
        source = frame
    return fit(formula, source, family=s.family, cluster=s.cluster, se=s.se, name=name)


def estimator_text(result: FitResult, s: BreakSetting) -> str:
    """One sentence a table note can carry: model, fixed effects, standard errors."""
    label = result.extra.get("family_label", result.family)
    fe = f" with {s.idname} fixed effects" if s.idname else ""
    return f"{s.kind}: {label}{fe}; SEs {result.se_description}"
