"""Monte Carlo of the designs over redraws of the demo process (issue 14).

Why: a test on the one shipped demo draw shows that a design recovers the planted effect
in that draw; whether its tests hold their size and its intervals their coverage needs
the same design on many draws of the same process -- a process that contains what the
designs' convenient assumptions leave out (common year shocks, BRI effects by cohort and
event time, post-switch effects that grow, late-year switches, all-zero cohort cells).

Scenarios (each a set of changes to ``cpcstats/demo/parameters.toml``):

* ``shipped``: the shipped process.  Bias and 95 % coverage of every ATT and event-time
  effect the BRI and Taiwan designs report, against the true effects of the draw
  (``log(sum mu1 / sum mu0)`` over the treated rows, from the process means); size of
  their lead tests (no pre-trend is planted).
* ``no_break``: ``xi_era = 0`` and the BRI and recognition effects off (the recognition
  level moved into the intercepts), so that the only time variation of the mean is the
  year shocks: the size of every test the Xi design reports.
* ``pretrend``: the shipped process plus a pre-trend of 0.04 a year before BRI signing
  (``bri_pretrend``): power of the BRI lead tests.

Each draw's seed comes from ``numpy.random.SeedSequence(ROOT_SEED).spawn``, indexed by
the draw, so results do not depend on the number of workers.  Panels are built directly
from the process frames (``generate()["process"]``), without the event expansion; that
they equal the panels built from the events is checked by
``tests/test_design_monte_carlo.py``.  A design runs through its own ``run()`` (what it
reports), with its table and figure writers replaced by no-ops; one small function per
design turns its record into rows.

Run from the repository root (results are appended per draw, so a run cut short keeps
what it did; ``--summarise`` rewrites the tables from the JSON lines):

    python tests/reference/design_monte_carlo.py --scenario no_break --draws 100 --workers 2
    python tests/reference/design_monte_carlo.py --summarise
"""

from __future__ import annotations

import os

# one BLAS thread per process, set before numpy loads: with two worker processes on two
# cores, OpenBLAS's own threads oversubscribe them (a Taiwan draw took 10-50 s wall on the
# shared machine with its default threads, 1-2 s with one)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse
import copy
import json
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from design_monte_carlo_extract import Z95, extract_bri, extract_taiwan, extract_xi

from cpcstats.contract import RULING_STATUSES
from cpcstats.demo.generate import HERE, generate, load_parameters, write
from cpcstats.panels import Panel
from cpcstats.study import load_study

ROOT_SEED = 20261201
FOLDER = Path(__file__).resolve().parent
# CPCSTATS_MC_OUT: write the results elsewhere (a trial run that must not touch the committed ones)
OUT = Path(os.environ.get("CPCSTATS_MC_OUT", str(FOLDER)))
RESULTS = OUT / "design_monte_carlo.jsonl"
JSON_OUT = OUT / "design_monte_carlo.json"
MARKDOWN = OUT / "design_monte_carlo.md"

SCENARIOS: dict[str, dict[str, Any]] = {
    "shipped": {"overrides": {}, "designs": ("bri", "taiwan")},
    "no_break": {
        "overrides": {
            ("party_contacts", "xi_era"): 0.0,
            ("party_contacts", "bri_member"): 0.0,
            ("party_contacts", "recognizes_prc"): 0.0,
            ("party_contacts", "intercept"): ("add", 3.0),
            ("nonparty_contacts", "intercept"): ("add", 3.0),
        },
        "designs": ("xi",),
    },
    "pretrend": {"overrides": {("heterogeneity", "bri_pretrend"): 0.04}, "designs": ("bri",)},
}


def draw_seed(index: int) -> int:
    """The demo seed of draw ``index`` (0-based), from spawned SeedSequences."""
    child = np.random.SeedSequence(ROOT_SEED).spawn(index + 1)[index]
    return int(child.generate_state(1, dtype=np.uint32)[0])


def scenario_parameters(scenario: str, seed: int) -> dict[str, Any]:
    """The demo parameters with the scenario's changes and the draw's seed."""
    params = copy.deepcopy(load_parameters())
    params["window"]["seed"] = seed
    for (section, key), value in SCENARIOS[scenario]["overrides"].items():
        if isinstance(value, tuple):
            params[section][key] = params[section][key] + value[1]
        else:
            params[section][key] = value
    return params


# ----------------------------------------------------------------------------- panels
def direct_panels(tables: dict[str, Any]) -> dict[str, Panel]:
    """Country-year and party-year panels from the process frames (no event expansion).

    The columns are those of ``cpcstats.country_year`` / ``party_year`` that the designs
    read; counts are the drawn counts (an event always falls in its own year and state).
    """
    py = tables["process"]["party_years"]
    cy = tables["process"]["country_years"]
    cov = tables["country_covariates"].rename(columns={"country": "iso3"})
    party = py.groupby(["iso3", "year"])["count"].sum()
    key = pd.MultiIndex.from_frame(cy[["iso3", "year"]])
    c = cy.drop(columns=["fh_status"]).merge(cov, on=["iso3", "year"], how="left")
    c["contacts_party"] = party.reindex(key, fill_value=0).to_numpy().astype(np.int64)
    c["contacts_nonparty"] = cy["count"].to_numpy().astype(np.int64)
    c["contacts"] = c["contacts_party"] + c["contacts_nonparty"]
    c["months"] = 12
    p = py.drop(columns=["fh_status"]).merge(cov, on=["iso3", "year"], how="left")
    p["contacts"] = p["count"].astype(np.int64)
    p["ruling"] = p["status"].isin(RULING_STATUSES).astype(int)
    p["opposition"] = (p["status"] == "opposition").astype(int)
    p["months"] = 12
    drop = ["count", "mu", "country_effect", "year_shock", "bri_log_effect", "bri_lead_term"]
    drop += ["tw_event_time", "tw_multiplier", "tw_start", "tw_after"]
    c = c.drop(columns=drop).sort_values(["iso3", "year"]).reset_index(drop=True)
    p = p.drop(columns=drop).sort_values(["party_id", "year"]).reset_index(drop=True)
    return {
        "country-year": Panel(c, "country-year", "iso3", simulated=True, study="demo draw"),
        "party-year": Panel(p, "party-year", "party_id", simulated=True, study="demo draw"),
    }


# ----------------------------------------------------------------------------- truth
def _log_ratio(frame: pd.DataFrame, by: str | None = None) -> Any:
    if by is None:
        return float(np.log(frame["mu1"].sum() / frame["mu0"].sum()))
    s = frame.groupby(by)[["mu1", "mu0"]].sum()
    return {int(k): float(np.log(r["mu1"] / r["mu0"])) for k, r in s.iterrows()}


def harness_truth(tables: dict[str, Any], *, exclude_away: bool = True) -> dict[str, Any]:
    """True effects of one draw from its process means, computed here (not by the
    generator): BRI on member country-years (party plus non-party means), Taiwan on the
    switchers' post-switch rows, by event time and with e >= 5 pooled (the design's
    last bin).  ``exclude_away`` drops countries that switched to Taipei in the window
    (the Taiwan design excludes them by default)."""
    py = tables["process"]["party_years"]
    cy = tables["process"]["country_years"]
    party = py.groupby(["iso3", "year"])["mu"].sum()
    key = pd.MultiIndex.from_frame(cy[["iso3", "year"]])
    mu = cy["mu"].to_numpy() + party.reindex(key, fill_value=0.0).to_numpy()
    frame = cy.assign(mu_total=mu)
    member = frame[frame["bri_member"] == 1]
    member = member.assign(
        mu1=member["mu_total"],
        mu0=member["mu_total"] / np.exp(member["bri_log_effect"]),
        cohort=member["bri_signing_year"].astype(int),
        e=member["year"] - member["bri_signing_year"].astype(int),
    )
    post = frame[frame["tw_event_time"] >= 0]
    if exclude_away:
        post = post[post["switched_to_roc"] == 0]
    post = post.assign(
        mu1=post["mu_total"],
        mu0=post["mu_total"] / post["tw_multiplier"],
        e=post["tw_event_time"].clip(upper=5),
    )
    return {
        "bri_att": _log_ratio(member),
        "bri_by_event_time": _log_ratio(member, "e"),
        "bri_by_cohort": _log_ratio(member, "cohort"),
        "bri_by_year": _log_ratio(member, "year"),
        "bri_cells": {
            (int(g), int(e)): (float(r["mu1"]), float(r["mu0"]))
            for (g, e), r in member.groupby(["cohort", "e"])[["mu1", "mu0"]].sum().iterrows()
        },
        "taiwan_post": _log_ratio(post),
        "taiwan_by_event_time": _log_ratio(post, "e"),
        "taiwan_from": {k: _log_ratio(post[post["tw_event_time"] >= k]) for k in range(0, 8)},
        "taiwan_by_event_time_raw": _log_ratio(post.assign(e=post["tw_event_time"]), "e"),
    }


# ----------------------------------------------------------------------------- designs
def design_params(design: str, seed: int) -> dict[str, Any]:
    """Options passed to a design's ``run()``: 199 bootstrap / randomisation replicates
    (enough for a rejection decision at 5 %; the designs' default is 999) with a seed of
    the draw's own, so that replicates are independent across draws."""
    return {
        "xi": {"bootstrap_reps": 199, "bootstrap_seed": seed},
        # the few-cluster p-values (wild bootstrap, randomisation) test the post-switch
        # effect, a false null here: off, to keep draws fast; the coverage uses the CIs
        "taiwan": {"B": 199, "seed": seed, "few_cluster": False},
        "bri": {"B": 199, "seed": seed},
    }.get(design, {})


def _quiet_run(
    module: Any, study: Any, panels: dict[str, Panel], params: dict[str, Any]
) -> dict[str, Any]:
    """``module.run`` with its table and figure writers replaced by no-ops for the call
    (the record is what the design reports; drawing it is not what is measured)."""
    saved = {}
    for name in dir(module):
        writer = name.startswith("plot_") or "figure" in name or name == "write_table"
        if writer and callable(getattr(module, name)):
            saved[name] = getattr(module, name)
            setattr(module, name, lambda *a, **k: [])
    out = Path(tempfile.mkdtemp())
    try:
        result = module.run(study, panels, out, **params)
    finally:
        for name, value in saved.items():
            setattr(module, name, value)
        shutil.rmtree(out, ignore_errors=True)
    if getattr(result, "skipped", None):
        raise RuntimeError(f"skipped: {result.skipped}")
    return dict(result.record)


#: ETWFE (the package's FE-Poisson with every cohort-year cell and a leads model) costs
#: 10-70 s a draw against about 1-4 s for the imputation estimator: it runs on the first
#: ETWFE_DRAWS draws of a scenario only (``--etwfe-draws``)
ETWFE_DRAWS = 5


def record_bri(study: Any, panels: dict[str, Panel], params: dict, draw: int) -> dict:
    """The BRI estimates the design reports, from its own functions: the imputation
    estimator with and without the recognition control (overall, cohort, calendar, event
    time, balanced event time, binned lead test), TWFE, and ETWFE on the first draws."""
    from cpcstats.designs import bri
    from cpcstats.methods.imputation import imputation_fit

    panel = panels["country-year"]
    layout = bri.staggered_cohorts(panel)
    common = {"yname": "contacts", "idname": "iso3", "tname": "year", "cluster": "iso3"}
    record: dict[str, Any] = {"imputation": {}}
    for name, covariates in (("main", ("recognizes_prc",)), ("no_control", ())):
        imp = imputation_fit(layout, covariates=covariates, **common)
        record["imputation"][name] = imp.to_record()
    tw = bri.twfe_poisson(panel)
    b, se = float(tw.params["bri_member"]), float(tw.std_errors["bri_member"])
    record["twfe"] = {"estimate": b, "ci": [b - Z95 * se, b + Z95 * se]}
    if draw < ETWFE_DRAWS:
        record["etwfe"] = bri.etwfe_poisson(panel).to_record()
    return record


def _runner(module: Any) -> Callable[..., dict[str, Any]]:
    def run_design(study: Any, panels: dict[str, Panel], params: dict, draw: int) -> dict:
        return _quiet_run(module, study, panels, params)

    return run_design


def _designs() -> dict[str, tuple[Callable[..., dict[str, Any]], Callable[..., list[dict]]]]:
    """Per design: how to get its record for one draw, and how to read it."""
    from cpcstats.designs import taiwan, xi_break

    return {
        "xi": (_runner(xi_break), extract_xi),
        "bri": (record_bri, extract_bri),
        "taiwan": (_runner(taiwan), extract_taiwan),
    }


# ----------------------------------------------------------------------------- one draw
def load_draw(tables: dict[str, Any], folder: Path) -> Any:
    """The drawn study as a Study (the Xi design's yearly series reads its contacts)."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    write(tables, folder / "data")  # the simulated contacts and truth
    for name in ("parties.csv", "party_status.csv", "country_covariates.csv"):
        shutil.copy(HERE / "data" / name, folder / "data" / name)  # the real universe
    shutil.copy(HERE / "study.toml", folder / "study.toml")
    return load_study(folder / "study.toml")


def one_draw(
    scenario: str, index: int, designs: tuple[str, ...] | None = None
) -> list[dict[str, Any]]:
    """All rows of one draw of one scenario (a design that fails gives an error row)."""
    warnings.filterwarnings("ignore")
    seed = draw_seed(index)
    tables = generate(scenario_parameters(scenario, seed))
    truth = harness_truth(tables)
    folder = Path(tempfile.mkdtemp())
    try:
        study = load_draw(tables, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    panels = direct_panels(tables)
    rows: list[dict[str, Any]] = []
    for design in designs or SCENARIOS[scenario]["designs"]:
        get_record, extract = _designs()[design]
        start = time.perf_counter()
        try:
            record = get_record(study, panels, design_params(design, seed), index)
            found = extract(record, truth)
        except Exception as exc:  # a failing draw is a result, not a crash of the run
            found = [{"quantity": "error", "kind": "error", "error": str(exc)[:300]}]
        seconds = time.perf_counter() - start
        for r in found:
            rows.append(
                {
                    "scenario": scenario,
                    "draw": index,
                    "seed": seed,
                    "design": design,
                    "seconds": round(seconds, 2),
                    **r,
                }
            )
    return rows


def _commit() -> str:
    """The repository's HEAD (which committed designs a run measured)."""
    import subprocess

    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=FOLDER
    )
    return head.stdout.strip()


def run(
    scenario: str,
    draws: int,
    workers: int,
    first: int = 0,
    designs: tuple[str, ...] | None = None,
    minutes: float | None = None,
) -> float:
    """Draws ``first .. first + draws - 1`` of ``scenario``, appended to the JSON lines as
    they finish; returns the wall time.  With ``minutes``, draws not started by then are
    cancelled (the running ones finish and are kept; ``draws`` in the timing record is
    the number completed)."""
    start = time.perf_counter()
    done = 0
    with ProcessPoolExecutor(max_workers=workers) as pool, RESULTS.open("a") as out:
        jobs = [pool.submit(one_draw, scenario, i, designs) for i in range(first, first + draws)]
        for job in jobs:
            if minutes is not None and time.perf_counter() - start > 60 * minutes:
                for pending in jobs:
                    pending.cancel()
            if job.cancelled():
                continue
            for row in job.result():
                out.write(json.dumps(row) + "\n")
            out.flush()
            done += 1
    wall = time.perf_counter() - start
    timing = {
        "scenario": scenario,
        "kind": "timing",
        "draws": done,
        "first": first,
        "designs": list(designs or SCENARIOS[scenario]["designs"]),
        "workers": workers,
        "wall_seconds": round(wall, 1),
        "commit": _commit(),
    }
    with RESULTS.open("a") as out:
        out.write(json.dumps(timing) + "\n")
    return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--draws", type=int, default=100)
    parser.add_argument("--first", type=int, default=0, help="index of the first draw")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--designs", help="comma-separated subset of the scenario's designs")
    parser.add_argument("--summarise", action="store_true")
    parser.add_argument("--etwfe-draws", type=int, default=ETWFE_DRAWS)
    parser.add_argument("--minutes", type=float, help="stop starting draws after this")
    args = parser.parse_args()
    if args.scenario:
        designs = tuple(args.designs.split(",")) if args.designs else None
        globals()["ETWFE_DRAWS"] = args.etwfe_draws  # forked workers inherit it
        wall = run(args.scenario, args.draws, args.workers, args.first, designs, args.minutes)
        print(f"{args.scenario}: {args.draws} draws in {wall:.0f} s", file=sys.stderr)
    if args.summarise or args.scenario:
        from design_monte_carlo_summary import write_summary

        print(write_summary().to_string())


if __name__ == "__main__":
    main()
