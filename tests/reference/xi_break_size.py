"""Size and power of the Xi-era break tests on synthetic panels with common year shocks.

Run from the repository root (about 10 minutes for 100 draws on one core):

    .venv/bin/python tests/reference/xi_break_size.py 100 --out tests/reference/xi_break_size.md
    .venv/bin/python tests/reference/xi_break_size.py 100 --rho 0.5 \
        --out tests/reference/xi_break_size_ar1.md

Each draw is a panel from `xi_break_sim.synthetic_panel` (40 units x 22 years 2002-2023 as
the demo, year shocks SD 0.10, NB2 alpha 0.3, unit trends SD 0.01) without a break (size)
and with a 0.55 step in 2013 (power; the demo's planted Xi-era effect).  On each: the
panel known-2013 test and the panel sup tests (level; level and trend) with asymptotic
p-values (unit-clustered SEs as shipped before issue 14, known date only; Driscoll-Kraay
SEs with chi2 / Andrews values) and the bootstrap p-values now reported (wild score
bootstrap over years), and the same on the yearly totals (quasi-Poisson; Andrews asymptotic
and the parametric NB2 bootstrap); the panel's level-shift z-test and joint Wald with the
Driscoll-Kraay SEs and with the reported ones (quasi-Poisson of the year totals with the
panel's composition as offset, `cpcstats.methods.break_design.panel_to_series`).  Prints and
writes a Markdown table of rejection rates at 5 %.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from xi_break_sim import synthetic_panel, yearly

from cpcstats.estimation.postestimation import wald_test
from cpcstats.methods.breaks import (
    BootstrapOptions,
    known_break_test,
    sup_wald_test,
)

OPTIONS = BootstrapOptions(reps=499)
SHIFT = ("post_break", "post_trend")
#: the bootstraps reported before xi2 (independent years): wild score over years for
#: panels, NB2 for the series
WILD = BootstrapOptions(reps=499, panel="wild")
IID = BootstrapOptions(reps=499, serial=False)


def one_draw(seed: int, step: float, rho: float = 0.0) -> dict[str, float]:
    """Asymptotic and bootstrap p-values of every test on one synthetic panel."""
    panel = synthetic_panel(seed, units=40, first=2002, last=2023, step=step, rho=rho)
    series = yearly(panel)
    cols = {"yname": "y", "tname": "t"}
    out: dict[str, float] = {}
    old = {"idname": "unit", "cluster": "unit", "bootstrap": BootstrapOptions(reps=0)}
    out["panel known 2013: Wald, unit-clustered (before), chi2"] = known_break_test(
        panel, 2013, **old, **cols
    ).wald.p_value
    kb = known_break_test(
        panel, 2013, idname="unit", se="driscoll-kraay", bootstrap=OPTIONS, **cols
    )
    out["panel known 2013: Wald DK, chi2"] = wald_test(kb.result, list(SHIFT)).p_value
    out["panel known 2013: Wald of the year totals (reported), chi2"] = kb.wald.p_value
    out["panel known 2013: level shift z, DK"] = float(kb.result.pvalues["post_break"])
    out["panel known 2013: level shift z, year totals (reported)"] = float(
        kb.estimates().loc["post_break", "p_value"]
    )
    out["panel known 2013: aggregate AR(1) bootstrap (reported)"] = kb.p_value
    out["panel known 2013: wild score bootstrap (before)"] = known_break_test(
        panel, 2013, idname="unit", se="driscoll-kraay", bootstrap=WILD, **cols
    ).p_value
    ks = known_break_test(series, 2013, bootstrap=OPTIONS, **cols)
    out["series known 2013: quasi-Poisson Wald, chi2"] = ks.wald.p_value
    out["series known 2013: AR(1) bootstrap (reported)"] = ks.p_value
    out["series known 2013: NB2 bootstrap (before)"] = known_break_test(
        series, 2013, bootstrap=IID, **cols
    ).p_value
    for shift in ("level", "level+trend"):
        pan = {"idname": "unit", "se": "driscoll-kraay", "shift": shift}
        sw = sup_wald_test(panel, bootstrap=OPTIONS, **pan, **cols)
        out[f"panel sup {shift}: sup-Wald DK, Andrews"] = sw.p_value_asymptotic
        out[f"panel sup {shift}: aggregate AR(1) bootstrap (reported)"] = sw.p_value
        out[f"panel sup {shift}: wild score bootstrap (before)"] = sup_wald_test(
            panel, bootstrap=WILD, **pan, **cols
        ).p_value
        ss = sup_wald_test(series, shift=shift, bootstrap=OPTIONS, **cols)
        out[f"series sup {shift}: Andrews asymptotic"] = ss.p_value_asymptotic
        out[f"series sup {shift}: AR(1) bootstrap (reported)"] = ss.p_value
        out[f"series sup {shift}: NB2 bootstrap (before)"] = sup_wald_test(
            series, shift=shift, bootstrap=IID, **cols
        ).p_value
    return out


def main(draws: int, out: Path | None, rho: float = 0.0) -> str:
    start = time.perf_counter()
    size, power = [], []
    for i in range(draws):
        size.append(one_draw(1000 + i, 0.0, rho))
        power.append(one_draw(5000 + i, 0.55, rho))
        print(f"draw {i + 1}/{draws} ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    seconds = time.perf_counter() - start
    band = 1.96 * np.sqrt(0.05 * 0.95 / draws)
    lines = [
        "# Xi-era break tests: size and power under common year shocks",
        "",
        f"Generated by `tests/reference/xi_break_size.py {draws}` ({seconds:.0f} s). Process: "
        "40 units x 22 years (2002-2023, as the demo), year shocks N(0, 0.10^2) on the log "
        f"scale (AR(1) with rho = {rho}), NB2 overdispersion alpha = 0.3, unit levels SD "
        "0.8, unit trends 0.04 + "
        f"N(0, 0.01^2); size: no break; power: a 0.55 step in 2013 (the demo's Xi-era "
        f"effect). {draws} draws each; bootstraps {OPTIONS.reps} replicates (the design uses "
        "999); reported: parametric bootstrap with AR(1) year shocks of the series and of "
        "the panel's composition-adjusted year totals; 'before': NB2 with independent "
        "years (series) and the wild score (LM) bootstrap over years (panels). Monte Carlo "
        "95 % band around 5 %: "
        f"+-{band:.3f}. Rows marked 'bootstrap' are the p-values the design reports; the "
        "others show what asymptotic critical values would give.",
        "",
        "| Test and p-value | Size (rejects at 5 %, no break) | Power (0.55 step) |",
        "|---|---|---|",
    ]
    for key in size[0]:
        s = np.mean([d[key] < 0.05 for d in size])
        p = np.mean([d[key] < 0.05 for d in power])
        lines.append(f"| {key} | {s:.3f} | {p:.3f} |")
    text = "\n".join(lines) + "\n"
    if out is not None:
        out.write_text(text, encoding="utf-8")
    return text


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    target = None
    if "--out" in sys.argv:
        target = Path(sys.argv[sys.argv.index("--out") + 1])
        args = [a for a in args if a != str(target)]
    rho = 0.0
    if "--rho" in sys.argv:
        rho = float(sys.argv[sys.argv.index("--rho") + 1])
        args = [a for a in args if a != str(sys.argv[sys.argv.index("--rho") + 1])]
    print(main(int(args[0]) if args else 100, target, rho))
