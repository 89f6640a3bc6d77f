"""The command-line interface: outputs, exit codes and error messages without tracebacks."""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import re
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import cpcstats
from cpcstats.cli import main
from cpcstats.errors import CpcError, SpecError

REPO = Path(__file__).resolve().parents[1]
PARTY_MODELS = REPO / "models" / "party_year.toml"
DEMO_CONTACTS = REPO / "cpcstats" / "demo" / "data" / "contacts.csv"
ACCOUNT = re.compile(
    r"^(?P<stage>.+?): (?P<rows_in>\d+) in, (?P<rows_out>\d+) out \((?P<drops>.*)\)$"
)


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cpcstats.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def accounts(stdout: str) -> dict[str, tuple[int, int, int]]:
    """Printed stage accounts: stage -> (rows in, rows out, rows dropped)."""
    out = {}
    for line in stdout.splitlines():
        match = ACCOUNT.match(line.strip())
        if not match:
            continue
        drops = match["drops"]
        dropped = (
            0 if drops == "none dropped" else sum(int(n) for n in re.findall(r"(\d+) ", drops))
        )
        out[match["stage"]] = (int(match["rows_in"]), int(match["rows_out"]), dropped)
    return out


@pytest.fixture(scope="module")
def demo() -> cpcstats.Study:
    return cpcstats.load_study("demo")


# --------------------------------------------------------------------------- panel
def test_panel_country_year_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], demo: cpcstats.Study
) -> None:
    out = tmp_path / "tmp" / "cy.csv"
    assert main(["panel", "--level", "country-year", "--study", "demo", "--out", str(out)]) == 0
    printed = capsys.readouterr()
    assert "SIMULATED" in printed.out
    assert printed.err == ""

    panel = pd.read_csv(out)
    n_contacts = len(pd.read_csv(DEMO_CONTACTS))
    stages = accounts(printed.out)
    contact_stages = [s for s in stages if s.startswith("contacts:")] + [
        "country-year: contact counts"
    ]
    assert stages[contact_stages[0]][0] == n_contacts  # the first stage sees every row
    for earlier, later in itertools.pairwise(contact_stages):
        assert stages[earlier][1] == stages[later][0], (earlier, later)  # rows flow on
    for stage in contact_stages:
        rows_in, rows_out, dropped = stages[stage]
        assert rows_in == rows_out + dropped, stage
    total_dropped = sum(stages[s][2] for s in contact_stages)
    assert panel["contacts"].sum() == n_contacts - total_dropped

    api = cpcstats.country_year(demo).data
    assert panel["contacts"].sum() == api["contacts"].sum()
    assert len(panel) == len(api)
    assert f"wrote {len(panel):,} country-year rows" in printed.out
    assert not panel.duplicated(["iso3", "year"]).any()
    assert (panel["contacts"] == panel["contacts_inbound"] + panel["contacts_outbound"]).all()
    # the panel and its sidecar (the SIMULATED mark and the data file's SHA-256), no temp file
    assert sorted(p.name for p in out.parent.iterdir()) == ["cy.csv", "cy.csv.cpcstats.json"]
    side = json.loads((out.parent / "cy.csv.cpcstats.json").read_text())
    assert side["simulated"] is True and side["level"] == "country-year"
    assert side["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    assert (panel["simulated_data"] == "SIMULATED").all()


def test_panel_party_year_parquet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["panel", "--level", "party-year", "--out", "x.parquet"]) == 0
    printed = capsys.readouterr().out
    path = tmp_path / "x.parquet"
    raw = path.read_bytes()
    assert raw[:4] == b"PAR1" and raw[-4:] == b"PAR1"
    panel = pd.read_parquet(path)
    assert {"party_id", "iso3", "year", "contacts", "ruling"} <= set(panel.columns)
    assert not panel.duplicated(["party_id", "year"]).any()
    assert f"wrote {len(panel):,} party-year rows" in printed
    assert "SIMULATED" in printed


def test_panel_unknown_output_suffix_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "panel.ods"
    assert main(["panel", "--level", "country-year", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "cannot write" in err
    assert not out.exists()


def test_panel_subprocess_exit_code_and_no_traceback(tmp_path: Path) -> None:
    proc = run_cli("panel", "--level", "country-year", "--out", "cy.csv", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "SIMULATED" in proc.stdout
    assert (tmp_path / "cy.csv").stat().st_size > 0


# --------------------------------------------------------------------------- fit
def test_fit_writes_json_tex_and_md(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], demo: cpcstats.Study
) -> None:
    out = tmp_path / "fit"
    code = main(["fit", str(PARTY_MODELS), "--name", "party_poisson_ruling_fh", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "party_poisson_ruling_fh" in printed
    assert sorted(p.name for p in out.iterdir()) == [
        "party_poisson_ruling_fh.json",
        "party_poisson_ruling_fh.md",
        "party_poisson_ruling_fh.tex",
    ]

    payload = json.loads((out / "party_poisson_ruling_fh.json").read_text(encoding="utf-8"))
    assert payload["simulated"] is True
    assert payload["study"] == demo.name
    record = payload["model"]
    for key in ("name", "family", "level", "formula", "nobs", "n_clusters", "loglik", "aic"):
        assert key in record, key
    assert "alpha" in record
    assert record["name"] == "party_poisson_ruling_fh"
    assert record["family"] == "poisson"
    assert record["level"] == "party-year"
    assert record["formula"].startswith("contacts ~ ruling * C(fh_status)")
    assert record["alpha"] is None  # Poisson has no dispersion parameter

    panel = cpcstats.party_year(demo).data
    assert record["nobs"] == len(panel)  # no filter, no missing values in the demo
    assert record["n_clusters"] == panel["iso3"].nunique()
    assert record["loglik"] < 0

    terms = record["terms"]
    assert {"Intercept", "ruling", "ruling:C(fh_status)[T.NF]", "xi_era"} <= set(terms)
    for term, values in terms.items():
        assert set(values) >= {"estimate", "std_error", "p_value", "irr"}, term
        assert values["std_error"] > 0, term
        assert 0 <= values["p_value"] <= 1, term
        assert values["irr"] == pytest.approx(math.exp(values["estimate"])), term
    # AIC of a Poisson model without fixed effects: one parameter per term
    assert record["aic"] == pytest.approx(-2 * record["loglik"] + 2 * len(terms))

    tex = (out / "party_poisson_ruling_fh.tex").read_text(encoding="utf-8")
    md = (out / "party_poisson_ruling_fh.md").read_text(encoding="utf-8")
    assert "\\begin{tabular}" in tex and "Poisson" in tex  # the estimator row
    assert "ruling" in md.lower() and "|" in md
    ruling = f"{terms['ruling']['estimate']:.3f}"
    assert ruling in tex and ruling in md


def test_fit_unknown_model_name_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "fit"
    assert main(["fit", str(PARTY_MODELS), "--name", "no_such_model", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "no_such_model" in err
    assert not out.exists()


HOSTILE_SPEC = """
name = "evil"
level = "country-year"
family = "poisson"
formula = "contacts ~ __import__('os').system('touch PWNED')"
"""


def test_fit_hostile_formula_exits_2_without_traceback(tmp_path: Path) -> None:
    spec = tmp_path / "evil.toml"
    spec.write_text(HOSTILE_SPEC, encoding="utf-8")
    proc = run_cli("fit", str(spec), "--out", "fit", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error:")
    assert "Traceback" not in proc.stderr
    assert "evil.toml" in proc.stderr
    assert proc.stdout == ""
    assert not (tmp_path / "PWNED").exists()
    assert not (tmp_path / "fit").exists()


def test_fit_hostile_formula_in_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    spec = tmp_path / "evil.toml"
    spec.write_text(HOSTILE_SPEC.replace("__import__('os').system('touch PWNED')", "eval('1')"))
    assert main(["fit", str(spec)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "eval" in err and "fix:" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.toml"]


def test_fit_filter_type_mismatch_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "typed.toml"
    spec.write_text(
        'name = "typed"\nlevel = "country-year"\nfamily = "poisson"\n'
        'formula = "contacts ~ xi_era"\nsample = "year > \'2005\'"\n',
        encoding="utf-8",
    )
    assert main(["fit", str(spec), "--out", str(tmp_path / "fit")]) == 2
    assert "sample" in capsys.readouterr().err


# --------------------------------------------------------------------------- errors
def test_missing_study_file_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no_such_study.toml"
    out = tmp_path / "cy.csv"
    assert (
        main(["panel", "--level", "country-year", "--study", str(missing), "--out", str(out)]) == 2
    )
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "no_such_study.toml" in err
    assert "does not exist" in err
    assert "Traceback" not in err
    assert not out.exists()


def test_missing_study_file_subprocess(tmp_path: Path) -> None:
    proc = run_cli(
        "fit", str(PARTY_MODELS), "--study", "nowhere/study.toml", "--out", "fit", cwd=tmp_path
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert str(tmp_path / "nowhere" / "study.toml") in proc.stderr


def test_debug_reraises(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    args = ["panel", "--level", "country-year", "--study", str(missing)]
    with pytest.raises(CpcError) as info:
        main(["--debug", *args, "--out", str(tmp_path / "cy.csv")])
    assert isinstance(info.value, SpecError)
    assert info.value.file == str(missing)


def test_argparse_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["panel", "--level", "region-year", "--out", "x.csv"])
    assert info.value.code == 2
    assert "region-year" in capsys.readouterr().err


def test_fit_spec_file_with_custom_level_is_rejected(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "custom.toml"
    spec.write_text(
        'name = "c"\nlevel = "custom"\nfamily = "poisson"\nformula = "contacts ~ xi_era"\n',
        encoding="utf-8",
    )
    assert main(["fit", str(spec), "--out", str(tmp_path / "fit")]) == 2
    assert "level" in capsys.readouterr().err


def test_panel_lags_from_the_command_line(tmp_path: Path) -> None:
    import pandas as pd

    out = tmp_path / "cy.csv"
    assert (
        main(["panel", "--level", "country-year", "--out", str(out), "--lag", "contacts=1,2"]) == 0
    )
    data = pd.read_csv(out).set_index(["iso3", "year"]).sort_index()
    vnm = data.loc["VNM"]
    assert vnm.loc[2010, "contacts_lag1"] == vnm.loc[2009, "contacts"]
    assert vnm.loc[2010, "contacts_lag2"] == vnm.loc[2008, "contacts"]
    assert pd.isna(vnm.loc[2002, "contacts_lag1"])
    assert main(["panel", "--level", "country-year", "--out", str(out), "--lag", "x=a"]) == 2


def test_check_on_the_demo_reports_inputs_stages_and_panels(capsys: pytest.CaptureFixture) -> None:
    from cpcstats.cli import main as cli_main

    assert cli_main(["check", "--study", "demo"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("SIMULATED demo study")
    for needle in ("sha256", "contacts: study window", "party-year: 19,698 rows", "OK: every"):
        assert needle in out, needle
    assert "Published-figure comparison: enabled" in out


def test_check_names_a_bad_study_file(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from cpcstats.cli import main as cli_main

    bad = tmp_path / "bad.toml"
    bad.write_text("[study]\nfirst_year = 2002\nlast_year = 2003\n[contacts]\npath = 'x.csv'\n")
    assert cli_main(["check", "--study", str(bad)]) == 2
    assert "x.csv" in capsys.readouterr().err


def test_debug_is_accepted_after_the_subcommand(capsys: pytest.CaptureFixture[str]) -> None:
    """`cpcstats check --study X --debug` (the usual place) shows the traceback as
    `cpcstats --debug check ...` does; without it the same error is one line, exit 2."""
    assert main(["check", "--study", "no/such/study.toml"]) == 2
    assert "Traceback" not in capsys.readouterr().err
    for argv in (
        ["--debug", "check", "--study", "no/such/study.toml"],
        ["check", "--study", "no/such/study.toml", "--debug"],
    ):
        with pytest.raises(cpcstats.CpcError):
            main(argv)
