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

from cpcstats.cli_data import parse_lags, read_data, report_data_sample
from cpcstats.console import (
    GLOBAL_OPTIONS,
    RAW,
    STUDY_HELP,
    TOP_EPILOG,
    command_output,
    emit_json,
    epilog,
    error_record,
    replication_progress,
    set_up_process,
    subcommand,
    wants_display,
)
from cpcstats.errors import CpcError, OutputError
from cpcstats.multiverse.command import add_parser as add_multiverse_command

if TYPE_CHECKING:
    from typing import TypeAlias

    from cpcstats.spec import ModelSpec

    _Subparsers: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def _cmd_replicate(args: argparse.Namespace) -> int:
    from cpcstats.replicate import replicate

    with replication_progress(wants_display(args.quiet, args.json)) as progress:
        result = replicate(  # the command returns no models: their payload can go
            args.study, args.out, args.config, progress, args.workers, keep_fits=False
        )
    flagged = list(result.flagged())  # tables' and designs' models that are not results
    args.record = {
        "out": str(result.out_dir),
        "fitted": len(result.all_fits()),
        "flagged": len(flagged),
        "failed": len(result.failed),
        "skipped": len(result.skipped),
        "flagged_models": flagged,
        "failed_models": result.failed,
        "skipped_models": result.skipped,
        "tables": [str(p) for p in result.files if p.parent.name == "tables"],
        "figures": [str(p) for p in result.files if p.parent.name == "figures"],
        "files": len(result.files),
    }
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
    args.record = {
        "study": report.study.name,
        "simulated": report.study.simulated,
        "ok": report.ok,
        "problems": report.problems,
        "accounts": [a.to_dict() for a in report.study.ledger.stages],
    }
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
    from cpcstats.io import write_panel_file
    from cpcstats.panels import country_year, party_year
    from cpcstats.study import load_study

    lags = parse_lags(args.lag or [])
    study = load_study(args.study)
    build = party_year if args.level == "party-year" else country_year
    panel = build(study, lags=lags)
    for account in (*study.ledger.stages, *panel.accounts):
        print(account.summary())
    path, *side = write_panel_file(
        panel.data, args.out, simulated=study.simulated, study=study.name, level=args.level
    )
    note = " (SIMULATED demo data, marked in the file)" if study.simulated else ""
    print(
        f"wrote {len(panel.data):,} {args.level} rows to {path}{note}"
        + "".join(f" and {p}" for p in side)
    )
    args.record = {
        "level": args.level,
        "rows": len(panel.data),
        "columns": list(panel.data.columns),
        "path": str(path),
        "files": [str(p) for p in (path, *side)],
        "simulated": study.simulated,
        "accounts": [a.to_dict() for a in (*study.ledger.stages, *panel.accounts)],
    }
    return 0


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
        frame, info = read_data(args.data)
        study_name, simulated = (
            frame.attrs["study"] or Path(info.path).name,
            frame.attrs["simulated"],
        )
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
            report_data_sample(spec, frame, info, result, record)
            record["mark"] = frame.attrs["mark"]
        print()
        fitted.append(result)
        write_json(out / f"{spec.name}.json", record)
    stem = Path(args.spec).stem if len(fitted) > 1 else fitted[0].name
    tab = table(fitted, irr=args.irr, title=f"Models of {Path(args.spec).name}")
    tab.to_latex(out / f"{stem}.tex")
    tab.to_markdown(out / f"{stem}.md")
    print(f"wrote {out / (stem + '.tex')}, {out / (stem + '.md')} and one JSON per model")
    args.record = {
        "study": study_name,
        "simulated": simulated,
        "models": {r.name: r.to_record() for r in fitted},
        "tables": [str(out / f"{stem}.tex"), str(out / f"{stem}.md")],
    }
    return 0


def _version() -> str:
    from cpcstats import __version__

    return __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cpcstats",
        description=__doc__.splitlines()[0],
        epilog=TOP_EPILOG,
        formatter_class=RAW,
    )
    parser.add_argument("--version", action="version", version=f"cpcstats {_version()}")
    # the global options are also accepted after the subcommand (SUPPRESS keeps the
    # value given before it)
    common = argparse.ArgumentParser(add_help=False)
    for flag, text in GLOBAL_OPTIONS.items():
        parser.add_argument(flag, action="store_true", help=text)
        common.add_argument(flag, action="store_true", default=argparse.SUPPRESS, help=text)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_project_commands(sub, common)
    _add_data_commands(sub, common)
    _add_fit_command(sub, common)
    add_multiverse_command(sub)
    return parser


def _add_project_commands(sub: _Subparsers, common: argparse.ArgumentParser) -> None:
    """``replicate`` and ``init``: the whole run, and a new project folder for it."""

    rep = subcommand(
        sub,
        common,
        "replicate",
        help="run the whole replication into a folder",
        description="Fit every model; write the tables, figures, results.json and\n"
        "manifest.json into --out (written aside, swapped in at the end).",
        epilog=epilog(
            "cpcstats replicate --out reports",
            "cpcstats replicate --study mystudy.toml --config replication.toml --out out",
            "cpcstats replicate --quiet --out reports   # only the 'done:' line",
            "cpcstats replicate --json > run.json       # counts and files as JSON",
        ),
    )
    rep.add_argument("--study", default="demo", help=STUDY_HELP)
    rep.add_argument("--out", default="reports", help="output folder (default: reports)")
    rep.add_argument(
        "--config",
        default=None,
        help="replication configuration (tables, figures, designs; its `models` folder holds "
        "the specifications). Default: for --study demo the configuration shipped with "
        "cpcstats (works from any folder); for a study file, the replication.toml beside it "
        "if there is one (the layout `cpcstats init` writes), else the shipped one",
    )
    rep.add_argument(
        "--workers",
        type=int,
        help="processes the run uses, this one included (it also takes tasks; default: "
        "[execution] workers, else every core; 1 = one process; same files for any)",
    )
    rep.set_defaults(func=_cmd_replicate)

    ini = subcommand(
        sub,
        common,
        "init",
        help="write an editable project folder (study.toml, models/, replication.toml)",
        description="Write a new project folder for your own study: a commented study.toml\n"
        "template, models/ (the shipped specifications), replication.toml (pointing at\n"
        "them), published.toml and README.txt with the next commands. DIR must be new or\n"
        "empty (exit 2 otherwise); nothing is written outside it.",
        epilog=epilog(
            "cpcstats init myproject",
            "cpcstats init myproject --demo && cpcstats replicate --study "
            "myproject/study.toml --config myproject/replication.toml --out myproject/reports",
        ),
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
    chk = subcommand(
        sub,
        common,
        "check",
        help="validate a study file and its inputs; report matches and drops (no fit)",
        epilog=epilog(
            "cpcstats check",
            "cpcstats check --study mystudy.toml",
            "cpcstats check --study mystudy.toml --json   # accounts and problems",
        ),
    )
    chk.add_argument("--study", default="demo", help=STUDY_HELP)
    chk.set_defaults(func=_cmd_check)

    top = subcommand(
        sub,
        common,
        "topics",
        help="yearly topic references in the contacts' texts",
        epilog=epilog(
            "cpcstats topics --out reports",
            "cpcstats topics --unit contact --dictionary mytopics.toml --out reports",
        ),
    )
    top.add_argument("--study", default="demo", help=STUDY_HELP)
    top.add_argument("--dictionary", help="a topic dictionary TOML (default: the study's topics)")
    top.add_argument(
        "--unit",
        choices=["item", "contact"],
        help="count news items or contacts (default: the dictionary's unit, else item)",
    )
    top.add_argument("--out", default="reports", help="output folder (default: reports)")
    top.set_defaults(func=_cmd_topics)

    pan = subcommand(
        sub,
        common,
        "panel",
        help="build a panel and write it as CSV, Parquet or Excel (marked if SIMULATED)",
        epilog=epilog(
            "cpcstats panel --level country-year --out cy.csv",
            "cpcstats panel --level party-year --lag contacts=1,2 --out py.parquet",
            "cpcstats panel --level party-year --out py.csv --json   # rows and accounts",
        ),
    )
    pan.add_argument(
        "--level",
        choices=["country-year", "party-year"],
        required=True,
        help="one row per country and year, or per foreign party and year",
    )
    pan.add_argument("--study", default="demo", help=STUDY_HELP)
    pan.add_argument("--out", required=True, help="FILE.csv, FILE.parquet or FILE.xlsx to write")
    pan.add_argument(
        "--lag",
        action="append",
        metavar="VAR[=1,2]",
        help="add lagged copies of a variable (repeatable)",
    )
    pan.set_defaults(func=_cmd_panel)


def _add_fit_command(sub: _Subparsers, common: argparse.ArgumentParser) -> None:
    """``fit``: the models of one specification file, on a study or on one's own panel."""
    fit = subcommand(
        sub,
        common,
        "fit",
        help="fit the model(s) of a specification file",
        epilog=epilog(
            "cpcstats fit models/party_year.toml",
            "cpcstats fit models/party_year.toml --name party_nb_ruling_fh --irr",
            "cpcstats fit mymodels.toml --data mypanel.csv --out fits",
            "cpcstats fit models/party_year.toml --json   # estimates, SE and p as JSON",
        ),
    )
    fit.add_argument("spec", help="a TOML specification file")
    fit.add_argument("--name", action="append", help="fit only this model (repeatable)")
    fit.add_argument("--study", default="demo", help=STUDY_HELP)
    fit.add_argument(
        "--data",
        help="fit on your own panel file (CSV/Parquet/Stata/Excel) instead of a study's panel",
    )
    fit.add_argument(
        "--out",
        default="reports/fit",
        help="folder for the table (.tex, .md) and one JSON per model (default: reports/fit)",
    )
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
    set_up_process(program=argv is None)  # argv given: called from Python, not the program
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # a usage error (2): under --json, say so as JSON too
        if exc.code == 2 and "--json" in argv:
            emit_json({"error": "invalid command line (usage on stderr)", "exit_code": 2})
        raise
    args.record = {}
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        with command_output(args.quiet, args.json):
            code = int(args.func(args))
        if args.json:
            emit_json({"command": args.command, **args.record, "exit_code": code})
        return code
    except CpcError as exc:
        if args.debug:
            raise
        return _fail(args, f"error: {exc}", 2, exc)
    except KeyboardInterrupt:
        if args.debug:
            raise
        return _fail(args, "interrupted (Ctrl-C); stopped, temporary files removed", 130)
    except Terminated:
        if args.debug:
            raise
        return _fail(args, "interrupted (SIGTERM); stopped, temporary files removed", 143)
    except OSError as exc:
        if args.debug or exc.errno not in _USER_ERRNOS:
            return _internal_error(exc, args)
        error = OutputError.from_os(exc, exc.filename or "(unknown path)", "cannot be written")
        return _fail(args, f"error: {error}", 2, error)
    except Exception as exc:  # a bug, not bad input: say so, without a traceback
        return _internal_error(exc, args)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _fail(
    args: argparse.Namespace, message: str, code: int, exc: BaseException | None = None
) -> int:
    """Report a failure on stderr, and as the JSON object on stdout under ``--json``."""
    print(message, file=sys.stderr)
    if args.json:
        record = error_record(message.removeprefix("error: "), code, exc)
        emit_json({"command": args.command, **record})
    return code


def _internal_error(exc: Exception, args: argparse.Namespace) -> int:
    """A bug, not bad input: say so without a traceback (``--debug`` re-raises)."""
    if args.debug:
        raise exc
    message = (
        f"internal error ({type(exc).__name__}): {exc}\n"
        "  this is a bug in cpcstats, not a problem with your input; rerun with --debug "
        "and report the traceback"
    )
    return _fail(args, message, 3, exc)


if __name__ == "__main__":
    raise SystemExit(main())
