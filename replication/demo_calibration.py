"""The demo's calibration table: published figure, process mean over seeds, shipped draw.

Why a script: the demo's contacts are simulated on the real party universe
(`cpcstats.demo.universe`) by a process whose parameters were tuned so that its *mean*
matches the reference study's published 2002-2017 figures; the shipped file is one draw.
A reader needs all three side by side to judge both the calibration and whether the
shipped draw is typical.  The output (``reports/demo_calibration.md``) is committed and
the README's calibration table is copied from it; ``tests/test_demo.py`` checks the
process mean on 20 seeds in CI.

Usage::

    .venv/bin/python replication/demo_calibration.py --seeds 100
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

import cpcstats
from cpcstats.demo import generate
from cpcstats.descriptives import contact_figures, study_figures

ROOT = Path(__file__).resolve().parents[1]
PERIOD = (2002, 2017)

ROWS: list[tuple[str, str, float | None, str]] = [
    ("contacts_total", "contacts, all actors", 3658, "{:,.0f}"),
    ("contacts_party", "contacts with parties", 2610, "{:,.0f}"),
    ("contacts_nonparty", "contacts with non-party actors", 1048, "{:,.0f}"),
    ("parties_contacted", "parties met", 462, "{:,.0f}"),
    ("party_countries", "countries whose parties were met", 161, "{:,.0f}"),
    ("share_ruling", "share of party contacts with ruling parties", 0.72, "{:.3f}"),
    ("share_opposition_free", "opposition contacts in Free countries", 0.65, "{:.3f}"),
    ("share_opposition_not_free", "opposition contacts in Not Free countries", 0.10, "{:.3f}"),
    ("share_parties_le2", "parties met once or twice", None, "{:.3f}"),
    ("share_parties_ge5", "parties met five times or more", 0.25, "{:.3f}"),
    ("top_partner_contacts", "contacts of the top partner", 121, "{:,.0f}"),
]
"""(figure, label, published value or None, format); the published values and their
wording are those of replication/published.toml and tests/test_demo.py."""


def figures_of(tables: dict) -> dict[str, float]:
    """The descriptive figures of freshly generated tables over the published period."""
    contacts = tables["contacts"].assign(
        iso3=lambda d: d["country"], year=lambda d: d["date"].str[:4].astype(int)
    )
    covariates = tables["country_covariates"].rename(columns={"country": "iso3"})
    return contact_figures(contacts, tables["party_status"], covariates, *PERIOD)


def table(seeds: int) -> str:
    """The Markdown table over seeds 1..``seeds`` (the shipped seed is 20200603)."""
    draws = []
    for seed in range(1, seeds + 1):
        params = generate.load_parameters()
        params["window"]["seed"] = seed
        draws.append(figures_of(generate.generate(params)))
    frame = pd.DataFrame(draws)
    shipped = study_figures(cpcstats.load_study("demo"), *PERIOD)
    lines = [
        f"| figure (2002-2017) | published | process mean ± SD ({seeds} seeds) | shipped draw "
        "| shipped z |",
        "|---|---|---|---|---|",
    ]
    for key, label, published, fmt in ROWS:
        mean, sd = float(frame[key].mean()), float(frame[key].std(ddof=1))
        if key == "top_partner_contacts":  # skewed: the median says more than the mean
            label = f"{label} (process median {fmt.format(frame[key].median())})"
        z = (shipped[key] - mean) / sd if sd > 0 else np.nan
        pub = "—" if published is None else fmt.format(published)
        lines.append(
            f"| {label} | {pub} | {fmt.format(mean)} ± {fmt.format(sd)} | "
            f"{fmt.format(shipped[key])} | {z:+.1f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--out", type=Path, default=ROOT / "reports" / "demo_calibration.md")
    args = parser.parse_args()
    text = (
        "# Demo calibration (SIMULATED contacts on the real party universe)\n\n"
        "Written by `replication/demo_calibration.py`. Published: the reference study's "
        '2002-2017 figures (shares marked there as "more than 70 %", "about a quarter" are '
        "given as 0.72 and 0.25).\n\n" + table(args.seeds)
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
