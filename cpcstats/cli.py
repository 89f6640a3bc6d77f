"""Command-line interface: a thin layer over the Python API.

Errors caused by input (``CpcError``) are printed as one message without a
traceback (exit code 2); ``--debug`` shows the traceback.  ``replicate``
exits with 1 when any model failed, ``check`` when any input row would be dropped
without a stated reason, so scripts can tell.  Anything else that goes wrong is a bug:
it is reported in one message with exit code 3 (traceback with ``--debug``).
An output that cannot be written (disk full, read-only folder, a file where the folder
should be, another run holding the folder) is exit code 2 with the path and the reason.
Ctrl-C exits with 130 and SIGTERM with 143, in one line and after the cleanup (temp
files, the staging folder and the lock of ``--out`` are removed).
"""

from __future__ import annotations

import argparse
import errno
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cpcstats.errors import CpcError, OutputError
from cpcstats.multiverse.command import add_parser as add_multiverse_command

if TYPE_CHECKING:
    from typing import TypeAlias

    import pandas as pd

    from cpcstats.estimation.results import FitResult
    from cpcstats.io import InputFile
    from cpcstats.spec import ModelSpec

    _Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def _cmd_replicate(args: argparse.Namespace) -> int:
    from cpcstats.replicate import replicate

    result = replicate(args.study, args.out, args.config)
    if result.failed:
        print("models that failed:", file=sys.stderr)
        for name, why in result.failed.items():
            print(f"  {name}: {why}", file=sys.stderr)
        return 1
    return 0


def _cmd_init(args: argparse.Namespace) -> int:
    from cpcstats.replicate import init_project

    written = init_project(args.dir, demo=args.demo)
    print(f"wrote {len(written)} files into {args.dir}/; next (see {args.dir}/README.txt):")
    print(f"  cpcstats check --study {args.dir}/study.toml")
    print(
        f"  cpcstats replicate --study {args.dir}/study.toml --config {args.dir}/replication.toml"
        f" --out {args.dir}/reports"
    )
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from cpcstats.check import check_study

    report = check_study(args.study)
    print(report.text())
    return 0 if report.ok else 1


def _cmd_topics(args: argparse.Namespace) -> int:
    from cpcstats.reporting.topics import write_topic_outputs
    from cpcstats.study import load_study

    study = load_study(args.study)
    files, table, account = write_topic_outputs(
        study, Path(args.out), dictionary_path=args.dictionary, unit=args.unit
    )
    print(account.summary())
    shown = table[[c for c in table.columns if not c.endswith("_share")]]
    print(shown.to_string())
    print("wrote " + ", ".join(str(f) for f in files))
    return 0


def _cmd_panel(args: argparse.Namespace) -> int:
    from cpcstats.io import write_frame
    from cpcstats.panels import country_year, party_year
    from cpcstats.study import load_study

    lags = _parse_lags(args.lag or [])
    study = load_study(args.study)
    build = party_year if args.level == "party-year" else country_year
    panel = build(study, lags=lags)
    for account in (*study.ledger.stages, *panel.accounts):
        print(account.summary())
    path = write_frame(panel.data, args.out)
    note = " (SIMULATED demo data)" if study.simulated else ""
    print(f"wrote {len(panel.data):,} {args.level} rows to {path}{note}")
    return 0


def _parse_lags(items: list[str]) -> dict[str, list[int]]:
    """``contacts=1,2`` -> {"contacts": [1, 2]}; a bare name means lag 1."""
    out: dict[str, list[int]] = {}
    for item in items:
        name, _, ks = item.partition("=")
        try:
            out[name.strip()] = [int(k) for k in ks.split(",")] if ks else [1]
        except ValueError as exc:
            raise CpcError(
                f"--lag {item!r} is not VARIABLE or VARIABLE=1,2", fix="e.g. --lag contacts=1,2"
            ) from exc
    return out


def _selected_specs(args: argparse.Namespace) -> list[ModelSpec]:
    """The specifications of the file, only those named by ``--name`` if given."""
    from cpcstats.spec import load_specs

    specs = load_specs(args.spec)
    if args.name:
        specs = [s for s in specs if s.name in args.name]
        if not specs:
            raise CpcError(
                f"no model named {', '.join(args.name)} in the file",
                file=args.spec,
                fix="check the names after --name",
            )
    return specs


def _read_data(path: str) -> tuple[pd.DataFrame, InputFile]:
    """The user's own panel file (``--data``), typed, and what was read, printed."""
    from cpcstats.io import read_panel

    # typed: numbers are numbers, NA/empty/. are missing in numeric columns only;
    # index = file row - 2 (row 1 = header), as fit() numbers rows in its messages
    frame, info = read_panel(path)
    kinds: dict[str, list[str]] = {}
    for column, kind in info.column_types or ():
        kinds.setdefault(kind, []).append(column)
    how = f" ({info.encoding}, delimiter {info.delimiter!r})" if info.encoding else ""
    print(f"read {info.path}{how}: {info.rows:,} rows")
    for kind, columns in kinds.items():
        print(f"  {kind}: {', '.join(columns)}")
    return frame, info


def _dropped_rows(spec: ModelSpec, frame: pd.DataFrame, result: FitResult) -> dict[str, list[int]]:
    """Which rows the model dropped for missing values, in the file's numbering.

    The same steps as fit's model sample (filter, then one variable at a time).
    """
    from cpcstats.formula import evaluate_filter

    if result.sample is None:
        return {}
    kept = frame
    if spec.sample:
        kept = kept[evaluate_filter(spec.sample, kept, file=spec.source).to_numpy()]
    rows: dict[str, list[int]] = {}
    for reason, count in result.sample.dropped.items():
        variable = reason.removeprefix("missing ")
        if reason == variable or not count or variable not in kept.columns:
            continue
        gone = kept[variable].isna().to_numpy()
        if int(gone.sum()) == count:
            rows[reason] = [int(label) + 2 for label in kept.index[gone]]
        kept = kept[~gone]
    return rows


def _report_data_sample(
    spec: ModelSpec,
    frame: pd.DataFrame,
    info: InputFile,
    result: FitResult,
    record: dict[str, object],
) -> None:
    """Print and record the rows a model on ``--data`` dropped, and its text columns."""
    from cpcstats.formula import parse_formula

    study_name = Path(info.path).name
    tabular = Path(info.path).suffix.lower() not in (".parquet", ".pq", ".dta")
    rows = _dropped_rows(spec, frame, result)
    print(result.sample.summary())
    text = {c for c, kind in info.column_types or () if kind == "text"}
    for variable in parse_formula(spec.formula, frame.columns).variables:
        if variable in text:  # say so: a number column would not be listed here
            levels = frame[variable].nunique()
            print(f"  {variable}: a text column, fitted as categories ({levels} levels)")
    for reason, numbers in rows.items():
        shown = ", ".join(map(str, numbers[:10]))
        more = f" and {len(numbers) - 10} more" if len(numbers) > 10 else ""
        where = (
            f"{'row' if len(numbers) == 1 else 'rows'} {shown}{more} of {study_name}; "
            "row 1 is the header"
            if tabular
            else f"records {', '.join(str(n - 1) for n in numbers[:10])}{more} "
            f"of {study_name}, counting from 1"
        )
        noun = "row" if len(numbers) == 1 else "rows"
        print(f"  dropped {len(numbers)} {noun} with {reason} ({where})")
    result.extra["dropped_rows"] = rows
    record["dropped_rows"] = rows
    record["input"] = info.to_dict()


def _cmd_fit(args: argparse.Namespace) -> int:
    from cpcstats.estimation.fit import fit
    from cpcstats.outputs import write_json
    from cpcstats.panels import country_year, party_year
    from cpcstats.reporting.tables import table
    from cpcstats.study import load_study

    specs = _selected_specs(args)
    out = Path(args.out)
    fitted = []
    if args.data:
        frame, info = _read_data(args.data)
        study_name, simulated = Path(info.path).name, False
    else:
        study = load_study(args.study)
        study_name, simulated = study.name, study.simulated
    panels: dict[str, object] = {}
    for spec in specs:
        if args.data:
            data = frame
        else:
            if spec.level not in panels:
                build = party_year if spec.level == "party-year" else country_year
                panels[spec.level] = build(study)
            data = panels[spec.level]
        result = fit(spec, data)
        print(result.summary())
        record: dict[str, object] = {
            "study": study_name,
            "simulated": simulated,
            "model": result.to_record(),
        }
        if args.data and result.sample is not None:
            _report_data_sample(spec, frame, info, result, record)
        print()
        fitted.append(result)
        write_json(out / f"{spec.name}.json", record)
    stem = Path(args.spec).stem if len(fitted) > 1 else fitted[0].name
    tab = table(fitted, irr=args.irr, title=f"Models of {Path(args.spec).name}")
    tab.to_latex(out / f"{stem}.tex")
    tab.to_markdown(out / f"{stem}.md")
    print(f"wrote {out / (stem + '.tex')}, {out / (stem + '.md')} and one JSON per model")
    return 0


def _version() -> str:
    from cpcstats import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cpcstats", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    parser.add_argument("--version", action="version", version=f"cpcstats {_version()}")
    # --debug is also accepted after the subcommand (SUPPRESS keeps the global value)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _add_project_commands(sub, common)
    _add_data_commands(sub, common)
    _add_fit_command(sub, common)
    add_multiverse_command(sub)
    return parser


def _add_project_commands(sub: _Subparsers, common: argparse.ArgumentParser) -> None:
    """``replicate`` and ``init``: the whole run, and a new project folder for it."""

    rep = sub.add_parser(
        "replicate", parents=[common], help="run the whole replication into a folder"
    )
    rep.add_argument("--study", default="demo", help="'demo' or a study TOML file")
    rep.add_argument("--out", default="reports", help="output folder (default: reports)")
    rep.add_argument(
        "--config",
        default=None,
        help="replication configuration (tables, figures, designs; its `models` folder holds "
        "the specifications). Default: for --study demo the configuration shipped with "
        "cpcstats (works from any folder); for a study file, the replication.toml beside it "
        "if there is one (the layout `cpcstats init` writes), else the shipped one",
    )
    rep.set_defaults(func=_cmd_replicate)

    ini = sub.add_parser(
        "init",
        parents=[common],
        help="write an editable project folder (study.toml, models/, replication.toml)",
        description="Write a new project folder for your own study: a commented study.toml "
        "template, models/ (the shipped specifications), replication.toml (pointing at "
        "them), published.toml and README.txt with the next commands. DIR must be new or "
        "empty (exit 2 otherwise); nothing is written outside it.",
        epilog="example: cpcstats init myproject --demo && cpcstats replicate --study "
        "myproject/study.toml --config myproject/replication.toml --out myproject/reports",
    )
    ini.add_argument("dir", metavar="DIR", help="the new (or empty) project folder")
    ini.add_argument(
        "--demo",
        action="store_true",
        help="a study.toml that reads the shipped demo data (SIMULATED), so the folder "
        "replicates at once",
    )
    ini.set_defaults(func=_cmd_init)


def _add_data_commands(sub: _Subparsers, common: argparse.ArgumentParser) -> None:
    """``check``, ``topics`` and ``panel``: the inputs, their texts and their panels."""
    chk = sub.add_parser(
        "check",
        parents=[common],
        help="validate a study file and its inputs; report matches and drops (no fit)",
    )
    chk.add_argument("--study", default="demo", help="'demo' or a study TOML file")
    chk.set_defaults(func=_cmd_check)

    top = sub.add_parser(
        "topics", parents=[common], help="yearly topic references in the contacts' texts"
    )
    top.add_argument("--study", default="demo", help="'demo' or a study TOML file")
    top.add_argument("--dictionary", help="a topic dictionary TOML (default: the study's topics)")
    top.add_argument("--unit", choices=["item", "contact"], help="count news items or contacts")
    top.add_argument("--out", default="reports", help="output folder (default: reports)")
    top.set_defaults(func=_cmd_topics)

    pan = sub.add_parser(
        "panel", parents=[common], help="build a panel and write it as CSV or Parquet"
    )
    pan.add_argument("--level", choices=["country-year", "party-year"], required=True)
    pan.add_argument("--study", default="demo")
    pan.add_argument("--out", required=True, help="FILE.csv or FILE.parquet")
    pan.add_argument(
        "--lag",
        action="append",
        metavar="VAR[=1,2]",
        help="add lagged copies of a variable (repeatable)",
    )
    pan.set_defaults(func=_cmd_panel)


def _add_fit_command(sub: _Subparsers, common: argparse.ArgumentParser) -> None:
    """``fit``: the models of one specification file, on a study or on one's own panel."""
    fit = sub.add_parser("fit", parents=[common], help="fit the model(s) of a specification file")
    fit.add_argument("spec", help="a TOML specification file")
    fit.add_argument("--name", action="append", help="fit only this model (repeatable)")
    fit.add_argument("--study", default="demo")
    fit.add_argument(
        "--data",
        help="fit on your own panel file (CSV/Parquet/Stata/Excel) instead of a study's panel",
    )
    fit.add_argument("--out", default="reports/fit")
    fit.add_argument("--irr", action="store_true", help="show incidence-rate ratios")
    fit.set_defaults(func=_cmd_fit)


class Terminated(BaseException):
    """SIGTERM as an exception, so that ``finally`` blocks remove temp files and locks.

    A BaseException like KeyboardInterrupt: ``except Exception`` in library code must not
    swallow it.
    """


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated()


# OS errors a user fixes (space, permissions, paths), as opposed to bugs
_USER_ERRNOS = {
    errno.ENOSPC,
    errno.EROFS,
    errno.EACCES,
    errno.EPERM,
    errno.ENOTDIR,
    errno.EISDIR,
    errno.EEXIST,
    errno.EFBIG,
    getattr(errno, "EDQUOT", errno.ENOSPC),
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        return int(args.func(args))
    except CpcError as exc:
        if args.debug:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        if args.debug:
            raise
        print("interrupted (Ctrl-C); stopped, temporary files removed", file=sys.stderr)
        return 130
    except Terminated:
        if args.debug:
            raise
        print("interrupted (SIGTERM); stopped, temporary files removed", file=sys.stderr)
        return 143
    except OSError as exc:
        if args.debug or exc.errno not in _USER_ERRNOS:
            return _internal_error(exc, args.debug)
        error = OutputError.from_os(exc, exc.filename or "(unknown path)", "cannot be written")
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug, not bad input: say so, without a traceback
        return _internal_error(exc, args.debug)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _internal_error(exc: Exception, debug: bool) -> int:
    """A bug, not bad input: say so without a traceback (``--debug`` re-raises)."""
    if debug:
        raise exc
    print(
        f"internal error ({type(exc).__name__}): {exc}\n"
        "  this is a bug in cpcstats, not a problem with your input; rerun with --debug "
        "and report the traceback",
        file=sys.stderr,
    )
    return 3


if __name__ == "__main__":
    raise SystemExit(main())
