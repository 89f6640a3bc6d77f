"""Monte Carlo of the issue-4 designs over redraws of the demo process (other seeds).

Why: a test on the one shipped demo draw shows that a design recovers the planted effect
in that draw; whether that is luck or a property of the design needs the same design on
many draws of the same process.  For seeds 1..N this script regenerates the demo study
(cpcstats/demo/parameters.toml, only the seed changed), builds its country-year panel
and records, per draw:

* Taiwan event study (pooled pre-switch reference): whether each post-switch bin's 95 %
  interval covers the planted 3.0, the mean post estimate, the leads score-test p-value;
* BRI ETWFE Poisson: the overall log effect, its SE, whether the 95 % interval covers the
  planted 0.3, the joint lead score test and the pooled-lead test p-values;
* Xi-era break: the sup-Wald (level shift, country-year panel) break year and p-value,
  and the same test on 2002-2012 (no break: a placebo).

Run from the repository root (about 25 s per draw on two cores):

    python tests/reference/design_monte_carlo.py --draws 40 \
        --out tests/reference/design_monte_carlo.md

The output file is what ``tests/test_design_*.py`` cite; tests do not run this script.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import warnings
from dataclasses import replace
from pathlib import Path

import pandas as pd

from cpcstats.demo.generate import HERE, generate, load_parameters, write
from cpcstats.designs import breaks
from cpcstats.designs import bri as staggered
from cpcstats.designs import taiwan as es
from cpcstats.panels import country_year
from cpcstats.study import load_study


def one_draw(seed: int) -> dict[str, float | int | str | None]:
    params = load_parameters()
    params["window"]["seed"] = seed
    truth = params["party_contacts"]
    folder = Path(tempfile.mkdtemp())
    try:
        (folder / "data").mkdir()
        write(generate(params), folder / "data")
        shutil.copy(HERE / "study.toml", folder / "study.toml")
        panel = country_year(load_study(folder / "study.toml"))
    finally:
        shutil.rmtree(folder)
    row: dict[str, float | int | str | None] = {"seed": seed}
    try:
        ev = es.event_study(panel)
        post = ev.post()
        jump = truth["recognizes_prc"]
        row["tw_bins"] = int((post["status"] == "estimated").sum())
        row["tw_cover"] = int(((post["lower"] <= jump) & (post["upper"] >= jump)).sum())
        row["tw_mean"] = float(post["estimate"].mean())
        row["tw_lead_p"] = None if ev.leads_test is None else ev.leads_test.p_value
    except Exception as exc:
        row["tw_error"] = str(exc)[:200]
    try:
        et = staggered.etwfe_poisson(panel)
        low, high = et.ci("log_effect")
        row["bri"] = et.overall["log_effect"]
        row["bri_se"] = et.overall["log_effect_se"]
        row["bri_cover"] = int(low <= truth["bri_member"] <= high)
        row["bri_pretrend_p"] = None if et.pretrend is None else et.pretrend.p_value
        row["bri_lead_average_p"] = None if et.lead_average is None else et.lead_average["p_value"]
    except Exception as exc:
        row["bri_error"] = str(exc)[:200]
    try:
        sup = breaks.sup_wald(panel, shift="level")
        row["xi_break_year"] = sup.break_year
        row["xi_p"] = sup.p_value
        before = replace(panel, data=panel.data[panel.data["year"] <= 2012])
        row["xi_placebo_p"] = breaks.sup_wald(before, shift="level").p_value
    except Exception as exc:
        row["xi_error"] = str(exc)[:200]
    return row


def _markdown(frame: pd.DataFrame) -> str:
    """A plain Markdown table (no optional dependency)."""
    cells = frame.astype(object).where(frame.notna(), "")
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |"]
    lines.append("|" + "---|" * len(frame.columns))
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in cells.itertuples(index=False)]
    return "\n".join(lines)


def summary(frame: pd.DataFrame) -> str:
    n = len(frame)
    tw = frame.dropna(subset=["tw_bins"]) if "tw_bins" in frame else frame.iloc[:0]
    lines = [
        "# Monte Carlo of the designs over redraws of the demo process",
        "",
        f"{n} draws (seeds {int(frame['seed'].min())}-{int(frame['seed'].max())}) of "
        "`cpcstats/demo/parameters.toml`; written by `tests/reference/design_monte_carlo.py`.",
        "",
        "| design | quantity | value |",
        "|---|---|---|",
        f"| Taiwan event study | draws identified | {len(tw)} of {n} |",
        f"| | post bins whose 95 % CI covers 3.0 | "
        f"{tw['tw_cover'].sum() / max(tw['tw_bins'].sum(), 1):.1%} |",
        f"| | mean post estimate (planted 3.0) | {tw['tw_mean'].mean():.3f} |",
        f"| | leads score test rejects at 5 % | {(tw['tw_lead_p'] < 0.05).sum()} of {len(tw)} |",
        f"| BRI ETWFE | mean log effect (planted 0.3) | {frame['bri'].mean():.3f} |",
        f"| | SD of the estimates / mean SE | {frame['bri'].std():.3f} / "
        f"{frame['bri_se'].mean():.3f} |",
        f"| | 95 % CI covers 0.3 | {int(frame['bri_cover'].sum())} of {n} |",
        f"| | joint lead score test rejects at 5 % | "
        f"{(frame['bri_pretrend_p'] < 0.05).sum()} of {n} |",
        f"| | pooled-lead test rejects at 5 % | "
        f"{(frame['bri_lead_average_p'] < 0.05).sum()} of {n} |",
        f"| Xi break (country-year sup-Wald, level) | break year within 2013 ± 1 | "
        f"{(frame['xi_break_year'].sub(2013).abs() <= 1).sum()} of {n} |",
        f"| | rejects at 5 % | {(frame['xi_p'] < 0.05).sum()} of {n} |",
        f"| | placebo 2002-2012 rejects at 5 % | {(frame['xi_placebo_p'] < 0.05).sum()} of {n} |",
        "",
        "Per draw:",
        "",
        _markdown(frame.round(4)),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=40)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    rows = []
    for seed in range(1, args.draws + 1):
        rows.append(one_draw(seed))
        print(json.dumps(rows[-1]), flush=True)
    text = summary(pd.DataFrame(rows))
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
