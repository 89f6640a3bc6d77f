"""``cpcstats multiverse FILE``: expand, fit (resuming), and write results, figure, table.

Why the heavy imports are inside `run`: the command line builds every parser at
start, and ``cpcstats --help`` must not import the estimation stack or Dask.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "run"]


_EPILOG = """Examples:
  cpcstats multiverse models/multiverse/ruling_premium.toml --study demo --workers 2
  cpcstats multiverse my_multiverse.toml --study study.toml --scheduler tcp://host:8786
  cpcstats multiverse models/multiverse/ruling_premium.toml --draws 0   # no joint inference

Output: progress lines on stderr (none with --quiet); --json is not offered for this
command (the results are in results.parquet and inference.json).

Exit codes: 0 every specification fitted; 1 some failed (recorded, the others go on);
2 bad input (the message names the file, key and fix); 3 a bug in cpcstats;
130/143 interrupted (finished specifications are kept; a rerun resumes)."""


def add_parser(subparsers: Any) -> None:
    """Register the ``multiverse`` subcommand on the CLI's subparsers."""
    p = subparsers.add_parser(
        "multiverse",
        help="fit a specification curve (multiverse) and draw it",
        description="Fit every specification of a multiverse file (resuming from the results "
        "already in --out), then write the results (Parquet), the specification-curve "
        "figure, the leave-one-out influence figure and the summary table.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=_EPILOG,
    )
    p.add_argument("file", help="multiverse TOML file, e.g. models/multiverse/ruling_premium.toml")
    p.add_argument("--study", default="demo", help="'demo' or a study TOML file")
    p.add_argument("--out", default="reports", help="output folder (default: reports)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=None, help="local processes (default 1)")
    where.add_argument("--scheduler", default=None, help="Dask scheduler, tcp://host:8786")
    p.add_argument("--seed", type=int, default=None, help="seed (default: the file's seed)")
    p.add_argument(
        "--draws",
        type=int,
        default=None,
        help="null draws of the [inference] table (default: the file's; 0 skips it)",
    )
    p.add_argument(
        "--quiet", action="store_true", default=argparse.SUPPRESS, help="no progress lines"
    )
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="tracebacks")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the command; 0 if every specification was fitted, 1 if some failed."""
    from cpcstats.execution import make_executor, stderr_progress
    from cpcstats.io import confine_writes
    from cpcstats.multiverse.config import load_multiverse
    from cpcstats.multiverse.outputs import write_outputs
    from cpcstats.multiverse.run import run_multiverse
    from cpcstats.panels import country_year, party_year
    from cpcstats.study import load_study

    mv = load_multiverse(args.file)
    study = load_study(args.study)
    panel = (party_year if mv.level == "party-year" else country_year)(study)
    executor = make_executor(args.workers or mv.workers, args.scheduler or mv.scheduler)
    root = Path(args.out)
    folder = root / "multiverse" / mv.name
    with confine_writes(root):
        outcome = run_multiverse(
            mv,
            panel,
            folder / "results.parquet",
            executor,
            progress=None if getattr(args, "quiet", False) else stderr_progress,
            seed=args.seed,
        )
        paths = write_outputs(mv, outcome.results, folder, simulated=panel.simulated)
        if mv.inference is not None and args.draws != 0:
            paths += _inference(mv, panel, outcome.results, executor, folder, args)
    _report(outcome, paths)
    return 1 if outcome.failures else 0


def _inference(
    mv: Any, panel: Any, results: Any, executor: Any, folder: Path, args: argparse.Namespace
) -> list[Path]:
    """The joint inference of the [inference] table (SSN 2020), its table, figure and JSON."""
    from cpcstats.execution import stderr_progress
    from cpcstats.multiverse.inference import run_inference
    from cpcstats.multiverse.inference_outputs import write_inference
    from cpcstats.multiverse.outputs import quantity_label

    inf = run_inference(
        mv,
        panel,
        results,
        executor,
        draws=args.draws,
        progress=None if getattr(args, "quiet", False) else stderr_progress,
        seed=args.seed,
    )
    p = ", ".join(f"{k} {v:.3f}" for k, v in inf.p_values.items())
    print(
        f"joint inference: {inf.draws} null draws of {inf.specifications} specifications in "
        f"{inf.seconds:.0f} s; p-values: {p}"
    )
    label = quantity_label(mv)[0]
    return write_inference(inf, folder, label=label, simulated=panel.simulated)


def _report(outcome: Any, paths: list[Path]) -> None:
    results = outcome.results
    ok = results[results["error"] == ""]
    print(
        f"multiverse: {len(results)} specifications ({outcome.fitted} fitted now, "
        f"{outcome.reused} reused from {outcome.path}); median estimate "
        f"{ok['estimate'].median():.4g}"
    )
    failed = results[results["error"] != ""]
    if len(failed):
        print(f"{len(failed)} specifications failed:", file=sys.stderr)
        dims = [c for c in results.columns if c.startswith("dim_")]
        for row in failed.head(10).to_dict("records"):
            choice = ", ".join(f"{d[4:]}={row[d]}" for d in dims)
            print(f"  {row['spec_id']} ({choice}): {row['error'][:200]}", file=sys.stderr)
    for path in paths:
        print(f"  wrote {path}")
