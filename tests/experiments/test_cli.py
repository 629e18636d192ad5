"""The sweep, plot, report and export commands through ``datadiet``'s entry point."""

from __future__ import annotations

import pytest

from datadiet.cli import main as cli
from datadiet.experiments import ResultStore

OURS = ("sweep", "plot", "report", "export")


@pytest.fixture
def datadiet(monkeypatch):
    """``datadiet(*argv) -> exit status`` with our sub-commands registered."""
    monkeypatch.setattr(cli, "COMMANDS", tuple(dict.fromkeys(cli.COMMANDS + OURS)))
    return lambda *argv: cli.main([str(a) for a in argv])


def test_dry_run_lists_runs_and_an_estimate_without_running(datadiet, tmp_path, capsys, write_recipe):
    recipe = write_recipe(tmp_path)
    assert datadiet("sweep", recipe, "--out", tmp_path / "out", "--dry-run") == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == ["run", "status", "method", "kind", "keep", "seed", "budget", "epochs", "est.", "epochs"]
    assert sum(" todo " in line and len(line.split()[0]) == 16 for line in lines) == 14 + 1  # 14 runs + 1 score set
    assert "el2n at epoch 1, seeds 0-1" in out and "estimated cost:" in out and "rough estimate" in out
    assert not (tmp_path / "out").exists()


def test_sweep_then_plot_report_export(datadiet, tmp_path, capsys, write_recipe, tiny_text):
    recipe = write_recipe(tmp_path, tiny_text.replace("seed = [0, 1]", "seed = [0]"))
    out = tmp_path / "out"
    assert datadiet("sweep", recipe, "--out", out, "--no-progress") == 0
    assert "7 runs: 0 finished before, 7 now, 0 failed" in capsys.readouterr().out
    assert datadiet("sweep", recipe, "--out", out, "--no-progress") == 0
    assert "7 runs: 7 finished before, 0 now" in capsys.readouterr().out
    assert datadiet("sweep", recipe, "--out", out, "--dry-run") == 0
    assert capsys.readouterr().out.count(" done ") == 7
    assert datadiet("plot", out) == 0 and (out / "figures" / "tiny.png").is_file()
    assert datadiet("report", out) == 0 and (out / "report.html").is_file()
    assert datadiet("export", out, "--format", "csv") == 0 and (out / "results.csv").is_file()
    with ResultStore(out / "results.sqlite") as store:
        assert len(store) == 7


def test_user_errors_are_one_line_and_status_2(datadiet, tmp_path, capsys, write_recipe, tiny_text):
    recipe = write_recipe(tmp_path, tiny_text.replace("[plot]", "[plot]\ncolour = 1"))
    assert datadiet("sweep", recipe, "--out", tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert err.startswith("datadiet sweep: error: unknown key 'colour' in plot; valid: x, panels")
    assert datadiet("sweep", recipe, "--preset", "gpu", "--out", tmp_path / "out") == 2
    assert "unknown preset 'gpu'" in capsys.readouterr().err
    assert datadiet("plot", tmp_path) == 2 and "experiment.json does not exist" in capsys.readouterr().err


def test_a_folder_holds_one_experiment(datadiet, tmp_path, capsys, write_recipe, tiny_text):
    out = tmp_path / "out"
    small = tiny_text.replace("seed = [0, 1]", "seed = [0]").replace('keep = [0.5, 0.8]', 'keep = [0.5]')
    assert datadiet("sweep", write_recipe(tmp_path, small), "--out", out, "--no-progress") == 0
    other = write_recipe(tmp_path, small.replace('name = "tiny"', 'name = "other"'), "other.toml")
    assert datadiet("sweep", other, "--out", out) == 2
    assert "holds experiment 'tiny' (preset None), not 'other'" in capsys.readouterr().err


def test_files_datasets_need_a_folder(datadiet, tmp_path, capsys, write_recipe, tiny_text):
    recipe = write_recipe(tmp_path, tiny_text.replace('dataset = "digits"', 'dataset = "fashion-mnist"'))
    assert datadiet("sweep", recipe, "--out", tmp_path / "out") == 2
    assert "dataset 'fashion-mnist' is read from files: set data.data_dir" in capsys.readouterr().err
    assert datadiet("sweep", recipe, "--out", tmp_path / "out", "--data-dir", tmp_path / "nowhere") == 2
    assert "nowhere of dataset 'fashion-mnist' does not exist" in capsys.readouterr().err


ANALYSIS = """
[experiment]
name = "scores"
[base]
epochs = 2
seed = 0
[base.data]
dataset = "digits"
per_class = 20
[base.model]
name = "mlp"
width = 0.25
[methods.el2n]
kind = "static"
score = "el2n"
at = 1
runs = 1
[methods.norm]
kind = "static"
score = "input_norm"
runs = 1
[figures.corr]
type = "correlation"
scores = ["el2n", "norm"]
"""


def test_an_analysis_recipe_sweeps_its_scores_and_plots_its_figure(datadiet, tmp_path, capsys, write_recipe):
    recipe = write_recipe(tmp_path, ANALYSIS, "scores.toml")
    out = tmp_path / "out"
    assert datadiet("sweep", recipe, "--out", out, "--dry-run") == 0
    plan = capsys.readouterr().out
    assert plan.startswith("no training runs") and "el2n at epoch 1, seed 0" in plan
    assert datadiet("sweep", recipe, "--out", out, "--no-progress") == 0
    assert "0 runs: 0 finished before, 0 now, 0 failed, 2 score runs computed" in capsys.readouterr().out
    assert datadiet("plot", out) == 0
    assert capsys.readouterr().out.split() == [str(out / "figures" / "scores-corr.png")]
    assert datadiet("report", out) == 0 and "Figure corr (correlation)" in (out / "report.html").read_text()
