"""The replication runs outside the repository, and ``cpcstats init`` writes a project folder.

Why: ``cpcstats replicate`` used to default to ``replication/replication.toml`` relative to the
working folder, so it worked only from the repository's root; the package now ships the
configuration and the specifications it names (``cpcstats/project/``).  Two copies must not
drift, so the first test compares them byte for byte with the repository's.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cpcstats.cli import build_parser, main
from cpcstats.replicate import (
    PACKAGED_CONFIG,
    PACKAGED_MODELS,
    PROJECT_DIR,
    default_config,
    init_project,
    load_replication_config,
)
from cpcstats.spec import load_specs
from cpcstats.study import load_study
from cpcstats.tomlio import load_toml

REPO = Path(__file__).resolve().parents[1]


def test_packaged_configuration_and_models_are_the_repository_files() -> None:
    repo_models = sorted(p.name for p in (REPO / "models").glob("*.toml"))
    assert repo_models == sorted(p.name for p in PACKAGED_MODELS.glob("*.toml"))
    pairs = [(REPO / "models" / n, PACKAGED_MODELS / n) for n in repo_models]
    pairs += [
        (REPO / "replication" / n, PROJECT_DIR / "replication" / n)
        for n in ("replication.toml", "published.toml")
    ]
    drifted = [str(a.relative_to(REPO)) for a, b in pairs if a.read_bytes() != b.read_bytes()]
    assert not drifted, (
        f"the package's copies differ from {drifted}: edit both (cp models/X.toml "
        "cpcstats/project/models/, cp replication/X.toml cpcstats/project/replication/)"
    )


def test_packaged_configuration_names_packaged_models() -> None:
    cfg = load_replication_config(PACKAGED_CONFIG)
    assert cfg.models_dir == PACKAGED_MODELS
    assert cfg.published == PROJECT_DIR / "replication" / "published.toml"
    names = {s.name for s in load_specs(cfg.models_dir)}
    wanted = {m for t in cfg.tables for m in t.models}
    assert wanted and wanted <= names


def test_default_config_is_the_packaged_one_for_the_demo_and_beside_a_study_file(
    tmp_path: Path,
) -> None:
    assert default_config("demo") == PACKAGED_CONFIG
    assert default_config(load_study("demo")) == PACKAGED_CONFIG
    study = tmp_path / "study.toml"
    study.write_text("", encoding="utf-8")
    assert default_config(study) == PACKAGED_CONFIG
    (tmp_path / "replication.toml").write_text('models = "models"\n', encoding="utf-8")
    assert default_config(study) == (tmp_path / "replication.toml").resolve()
    assert default_config(str(study)) == (tmp_path / "replication.toml").resolve()


def test_replicate_has_no_working_folder_relative_default() -> None:
    args = build_parser().parse_args(["replicate"])
    assert args.config is None
    helptext = build_parser()._subparsers._group_actions[0].choices["replicate"].format_help()
    assert "beside it" in helptext and "any folder" in helptext


def test_init_writes_a_project_folder_that_loads(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "proj"
    assert main(["init", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"cpcstats check --study {folder}/study.toml" in out
    assert {p.name for p in folder.iterdir()} == {
        "README.txt",
        "study.toml",
        "replication.toml",
        "published.toml",
        "models",
    }
    cfg = load_replication_config(folder / "replication.toml")
    assert cfg.models_dir == (folder / "models").resolve()
    assert cfg.published == (folder / "published.toml").resolve()
    assert {s.name for s in load_specs(cfg.models_dir)} == {
        s.name for s in load_specs(PACKAGED_MODELS)
    }
    readme = (folder / "README.txt").read_text(encoding="utf-8")
    assert "{dir}" not in readme
    assert f"cpcstats check --study {folder}/study.toml" in readme
    assert f"--study {folder}/study.toml --config {folder}/replication.toml" in readme
    template = load_toml(folder / "study.toml", "study file")
    assert template["contacts"]["path"] == "data/contacts.csv"
    # the template points at the file the user fills in: check names it
    assert main(["check", "--study", str(folder / "study.toml")]) == 2
    err = capsys.readouterr().err
    assert "contacts.csv" in err and "Traceback" not in err


def test_init_refuses_a_folder_that_is_not_empty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "proj"
    folder.mkdir()
    (folder / "study.toml").write_text("# mine\n", encoding="utf-8")
    assert main(["init", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "not empty" in err and "fix:" in err and "Traceback" not in err
    assert os.listdir(folder) == ["study.toml"]
    assert (folder / "study.toml").read_text(encoding="utf-8") == "# mine\n"
    a_file = tmp_path / "file"
    a_file.write_text("x", encoding="utf-8")
    assert main(["init", str(a_file)]) == 2
    assert "fix:" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["file", "proj"]


def test_init_writes_nothing_outside_its_folder(tmp_path: Path) -> None:
    before = set(os.listdir(tmp_path))
    written = init_project(tmp_path / "a" / "b", demo=True)
    assert set(os.listdir(tmp_path)) == before | {"a"}
    assert all((tmp_path / "a" / "b") in p.parents for p in written)
    (tmp_path / "empty").mkdir()  # an existing empty folder is fine
    assert (tmp_path / "empty" / "study.toml") in init_project(tmp_path / "empty")


def test_init_demo_study_reads_the_demo_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "proj"
    assert main(["init", str(folder), "--demo"]) == 0
    study = load_study(folder / "study.toml")
    demo = load_study("demo")
    assert study.simulated and len(study.contacts) == len(demo.contacts)
    # the same seed and planted values as the demo, so the folder replicates as the demo does
    assert study.seed == demo.seed and study.truth == demo.truth and demo.truth
    assert default_config(folder / "study.toml") == (folder / "replication.toml").resolve()
    capsys.readouterr()
    assert main(["check", "--study", str(folder / "study.toml")]) == 0
