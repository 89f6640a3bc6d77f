"""``[figures] formats``: a run writes only the figure formats asked for, with the same
bytes as the default run's files of that format, and a typo is an error naming the key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from cpcstats.errors import SpecError
from cpcstats.replicate import replicate
from cpcstats.replicate.config import load_replication_config
from cpcstats.reporting.style import (
    check_figure_formats,
    current_figure_formats,
    figure_formats,
    figure_paths,
    save_figure,
)

REPO = Path(__file__).resolve().parents[1]


def _config(tmp_path: Path, figures_line: str) -> Path:
    """The shipped replication configuration, copied with its published figures, the models
    folder named absolutely and ``figures_line`` added to ``[figures]``."""
    folder = tmp_path / "config"
    shutil.copytree(REPO / "replication", folder, ignore=shutil.ignore_patterns("studies"))
    text = (folder / "replication.toml").read_text(encoding="utf-8")
    text = text.replace('models = "../models"', f"models = {str(REPO / 'models')!r}")
    text = text.replace("[figures]\n", f"[figures]\n{figures_line}\n")
    (folder / "replication.toml").write_text(text, encoding="utf-8")
    return folder / "replication.toml"


def test_the_default_is_pdf_and_png_in_that_order() -> None:
    assert current_figure_formats() == ("pdf", "png")
    assert [p.name for p in figure_paths("x/fig.v2")] == ["fig.v2.pdf", "fig.v2.png"]
    with figure_formats(["png", "pdf"]):  # written in the canonical order whatever the list
        assert current_figure_formats() == ("pdf", "png")
    with figure_formats(["png"]):
        assert [p.name for p in figure_paths("fig")] == ["fig.png"]
    assert current_figure_formats() == ("pdf", "png")  # restored


@pytest.mark.parametrize("bad", [["svg"], ["png", "png"], [], ["PNG"]])
def test_unknown_repeated_or_no_formats_are_refused(bad: list[str]) -> None:
    with pytest.raises(SpecError, match="figure format") as caught:
        check_figure_formats(bad, file="replication.toml")
    assert "[figures] formats" in str(caught.value)
    assert "'pdf'" in str(caught.value)  # the fix lists the formats


def test_a_typo_in_the_configuration_names_the_file_and_key(tmp_path: Path) -> None:
    path = _config(tmp_path, 'formats = ["png", "jpg"]')
    with pytest.raises(SpecError, match="'jpg'") as caught:
        load_replication_config(path)
    assert str(path) in str(caught.value)


def test_save_figure_writes_only_the_formats_asked_for(tmp_path: Path) -> None:
    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([0, 1], [1, 0])
    both = save_figure(fig, tmp_path / "both" / "f")
    with figure_formats(["png"]):
        only = save_figure(fig, tmp_path / "only" / "f")
    assert [p.name for p in both] == ["f.pdf", "f.png"]
    assert [p.name for p in only] == ["f.png"]
    assert sorted(p.name for p in (tmp_path / "only").iterdir()) == ["f.png"]
    assert only[0].read_bytes() == both[1].read_bytes()


def test_a_png_only_run_writes_no_pdf(tmp_path: Path) -> None:
    """End to end with two workers (the designs' figures are saved in the workers): no PDF
    anywhere, every figure as PNG, and the manifest lists exactly the files written (the
    PNGs' bytes equal the default's: `test_save_figure_writes_only_the_formats_asked_for`)."""
    import json

    config = _config(tmp_path, 'formats = ["png"]')
    out = tmp_path / "png"
    result = replicate("demo", out, config, progress=lambda _: None, workers=2)
    assert not result.failed, result.failed
    figures = sorted(p.name for p in (out / "figures").iterdir())
    assert not [f for f in figures if f.endswith(".pdf")]
    pngs = [f for f in figures if f.endswith(".png")]
    assert len(pngs) >= 14 and "design_taiwan.png" in pngs and "irr_main.png" in pngs
    assert "world_map.png" in pngs and "topics_yearly.png" in pngs  # drawn by the workers
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    listed = sorted(
        f["path"].split("/", 1)[1] for f in manifest["outputs"] if f["path"].startswith("figures/")
    )
    assert listed == figures
