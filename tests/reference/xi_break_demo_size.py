"""Size of every p-value the Xi design reports, on the demo process without a break.

Why: the size studies of ``xi_break_size.py`` use a synthetic panel; the demo process has
more in it (parties founded and dissolved, party turnover and AR(1) regime scores, so
unit-level terms that persist over years, lognormal year shocks, NB2 noise).  This script
draws the demo process with ``xi_era = 0`` and the BRI and recognition effects off (the
``no_break`` scenario of ``design_monte_carlo.py``), runs the Xi design's ``run()`` through
that harness's ``one_draw`` (the same records and the same extraction of every
``p_value``: 199 bootstrap replicates, a seed per draw), and reports the share of draws
with p < 0.05 with a 95 % Wilson band.  Roles as the harness's summary: ``test`` (a
reported decision), ``interval`` (a coefficient's 95 % CI read as a z-test), ``comparison``
(asymptotic values shown for reference).  Beside it, per draw, the panels' level-shift SE
from the Driscoll-Kraay panel variance and from the composition-adjusted year totals (the
reported one), and the lag-1 autocorrelation of the units' Pearson residuals under the
no-break FE-Poisson fit (is the units' persistence what breaks the year bootstrap?).

    python tests/reference/xi_break_demo_size.py 100     # -> xi_break_demo_size.md

Draws are those of the harness (``draw_seed``); nothing is written except the Markdown
(and ``xi_break_demo_size.jsonl`` beside it while running, not committed).
"""

from __future__ import annotations

import json
import math
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

FOLDER = Path(__file__).resolve().parent
sys.path.insert(0, str(FOLDER))

from design_monte_carlo import direct_panels, draw_seed, one_draw, scenario_parameters  # noqa: E402
from design_monte_carlo_summary import role  # noqa: E402

from cpcstats.demo.generate import generate  # noqa: E402
from cpcstats.designs import xi_break  # noqa: E402
from cpcstats.estimation.hdfe import fit_ppml_hdfe  # noqa: E402
from cpcstats.methods.breaks import BootstrapOptions  # noqa: E402

LINES = FOLDER / "xi_break_demo_size.jsonl"
MARKDOWN = FOLDER / "xi_break_demo_size.md"
Z95 = 1.959963984540054


def residual_ac1(frame: pd.DataFrame, unit: str) -> float:
    """Lag-1 autocorrelation of the units' Pearson residuals, no-break FE-Poisson + trend."""
    f = frame.sort_values([unit, "year"])
    y = f["contacts"].to_numpy(float)
    t = f["year"].to_numpy(float)
    codes = pd.factorize(f[unit])[0]
    res = fit_ppml_hdfe(y, (t - t.min())[:, None], [codes])
    r = (y[res.keep] - res.mu) / np.sqrt(res.mu)
    u, tt = codes[res.keep], t[res.keep]
    same = (u[1:] == u[:-1]) & (tt[1:] == tt[:-1] + 1)
    return float(np.corrcoef(r[1:][same], r[:-1][same])[0, 1])


def diagnostics(index: int) -> dict[str, Any]:
    """SEs of the panels' level shift (Driscoll-Kraay vs reported) and residual AC(1)."""
    warnings.filterwarnings("ignore")
    tables = generate(scenario_parameters("no_break", draw_seed(index)))
    panels = direct_panels(tables)
    out: dict[str, Any] = {"draw": index, "kind": "diagnostic"}
    for name, unit in (("country-year", "iso3"), ("party-year", "party_id")):
        kb = xi_break.known_break(panels[name], 2013, bootstrap=BootstrapOptions(reps=0))
        est = kb.estimates().loc["post_break"]
        out[f"{name} level shift"] = float(est["estimate"])
        out[f"{name} SE reported"] = float(est["std_error"])
        out[f"{name} SE Driscoll-Kraay"] = float(est.get("std_error_panel", est["std_error"]))
        out[f"{name} residual AC(1)"] = residual_ac1(panels[name].data, unit)
    return out


def wilson(k: int, n: int) -> tuple[float, float]:
    """95 % Wilson interval of a binomial proportion."""
    p, z2 = k / n, Z95**2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def summarise(rows: list[dict[str, Any]], seconds: float) -> str:
    """The Markdown result: rejection rates by quantity and role, then the diagnostics."""
    tests = pd.DataFrame([r for r in rows if r.get("kind") == "test"])
    diag = pd.DataFrame([r for r in rows if r.get("kind") == "diagnostic"])
    draws = int(tests["draw"].nunique())
    lines = [
        "# Xi design: size on the demo process without a break",
        "",
        f"`python tests/reference/xi_break_demo_size.py {draws}`: {draws} draws of the demo "
        "process with `xi_era = 0`, BRI and recognition effects off, year shocks SD 0.10 "
        "(the `no_break` scenario of `design_monte_carlo.py`, its seeds and extraction), "
        f"199 bootstrap replicates per test; {seconds:.0f} s wall (2 loaded cores).",
        "",
        "| p-value (record path) | role | draws | rejects at 5 % | 95 % band |",
        "|---|---|---|---|---|",
    ]
    for quantity, g in tests.groupby("quantity", sort=True):
        p = g["p_value"].dropna()
        k, n = int((p < 0.05).sum()), len(p)
        lo, hi = wilson(k, n)
        lines.append(
            f"| `{quantity}` | {role(str(quantity))} | {n} | {k / n:.3f} | {lo:.3f}–{hi:.3f} |"
        )
    lines += ["", "Diagnostics (means over draws; SD in brackets):", ""]
    for col in [c for c in diag.columns if c not in ("draw", "kind")]:
        lines.append(f"- {col}: {diag[col].mean():.4f} ({diag[col].std():.4f})")
    for name in ("country-year", "party-year"):
        ratio = diag[f"{name} SE Driscoll-Kraay"] / diag[f"{name} SE reported"]
        z = diag[f"{name} level shift"].abs() / diag[f"{name} SE reported"]
        zdk = diag[f"{name} level shift"].abs() / diag[f"{name} SE Driscoll-Kraay"]
        lines.append(
            f"- {name}: SD over draws of the level shift {diag[f'{name} level shift'].std():.4f}"
            f"; mean SE reported {diag[f'{name} SE reported'].mean():.4f}, Driscoll-Kraay "
            f"{diag[f'{name} SE Driscoll-Kraay'].mean():.4f} (ratio {ratio.mean():.2f}); "
            f"|z| > 1.96: reported {(z > Z95).mean():.3f}, Driscoll-Kraay "
            f"{(zdk > Z95).mean():.3f}"
        )
    return "\n".join(lines) + "\n"


def main(draws: int) -> None:
    """Run ``draws`` draws (appending per draw), then write the Markdown."""
    start = time.perf_counter()
    LINES.unlink(missing_ok=True)
    for index in range(draws):
        found = one_draw("no_break", index, ("xi",))
        found.append(diagnostics(index))
        with LINES.open("a") as fh:
            for r in found:
                fh.write(json.dumps(r, default=str) + "\n")
        print(index, flush=True)
    rows = [json.loads(line) for line in LINES.read_text().splitlines()]
    MARKDOWN.write_text(summarise(rows, time.perf_counter() - start))
    print(MARKDOWN.read_text())


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
