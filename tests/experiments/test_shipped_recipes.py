"""The recipes ship with the package: listed, shown, copied out and run by name from the command line; built into
the wheel."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from datadiet.cli.main import main
from datadiet.experiments import load_recipe
from datadiet.experiments.recipe import read_recipe
from datadiet.recipes import FOLDER, copy_recipe, describe, list_recipes, recipe_path

REPO = Path(__file__).resolve().parents[2]


def test_the_shipped_recipes_are_listed_with_their_descriptions(capsys):
    names = list_recipes()
    assert len(names) >= 25 and "paper1_fig1_bottom" in names and "paper2_fig2" in names
    assert main(["recipes", "list"]) == 0
    out = capsys.readouterr().out
    for name in names:
        assert f"\n{name}  " in f"\n{out}" and describe(name), name
    assert describe("paper1_fig1_bottom").startswith("Paper 1, Fig. 1 bottom")


@pytest.mark.parametrize("name", list_recipes())
def test_every_shipped_recipe_loads_by_name_under_every_preset(name):
    presets = read_recipe(recipe_path(name))["presets"]
    assert {"paper", "cpu", "tiny"} <= set(presets)
    for preset in presets:
        experiment = load_recipe(name, preset=preset)
        assert experiment.recipe == str(FOLDER / f"{name}.toml") and (experiment.runs or experiment.figures)


def test_a_copied_recipe_runs_as_the_shipped_one_and_is_not_overwritten(tmp_path, capsys):
    assert main(["recipes", "copy", "paper2_fig21_vgg16", str(tmp_path)]) == 0
    copied = tmp_path / "paper2_fig21_vgg16.toml"
    assert f"copied paper2_fig21_vgg16 to {copied}" in capsys.readouterr().out
    assert copied.read_text() == recipe_path("paper2_fig21_vgg16").read_text()
    ids = [[r.run_id for r in load_recipe(path, preset="tiny").runs] for path in (copied, "paper2_fig21_vgg16")]
    assert ids[0] == ids[1]  # it extends paper2_fig2 by name, found in the package wherever the copy lies
    assert main(["recipes", "copy", "paper2_fig21_vgg16", str(copied)]) == 2
    assert capsys.readouterr().err == f"datadiet recipes: error: {copied} exists; choose another destination, or " \
                                      "overwrite it\n"
    assert copy_recipe("paper2_fig2", copied, overwrite=True) == copied


def test_show_prints_the_recipe_and_an_unknown_name_lists_the_shipped_ones(capsys):
    assert main(["recipes", "show", "paper1_fig1_bottom"]) == 0
    assert capsys.readouterr().out == recipe_path("paper1_fig1_bottom").read_text()
    assert main(["recipes", "show", "paper9"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("datadiet recipes: error: no shipped recipe 'paper9'; shipped: benchmark_all_methods, "
                          "paper1_fig11_architectures")
    assert err.count("\n") == 1


def test_sweep_takes_a_shipped_recipes_name(tmp_path, capsys):
    assert main(["sweep", "paper2_fig2", "--preset", "tiny", "--out", str(tmp_path), "--dry-run"]) == 0
    assert "estimated cost" in capsys.readouterr().out
    assert main(["sweep", "paper9", "--preset", "tiny", "--out", str(tmp_path)]) == 2
    assert "no shipped recipe 'paper9'" in capsys.readouterr().err


def test_a_preset_that_reads_files_asks_for_data_dir(tmp_path, capsys):
    assert main(["sweep", "paper1_fig1_bottom", "--preset", "cpu", "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("datadiet sweep: error: dataset 'fashion-mnist' is read from files: ") and "--data-dir" in err
    assert err.count("\n") == 1 and not (tmp_path / "out").exists()
    assert main(["sweep", "paper1_fig1_bottom", "--preset", "cpu", "--out", str(tmp_path / "out"),
                 "--data-dir", str(tmp_path / "nowhere")]) == 2
    assert "does not exist (pass --data-dir, or --download)" in capsys.readouterr().err


def test_no_recipe_names_a_folder_of_this_repository():
    for name in list_recipes():
        text = recipe_path(name).read_text()
        assert "data_dir" not in text and "shared/" not in text and "experiments/" not in text, name


@pytest.mark.slow
def test_the_wheel_ships_the_recipes_and_an_installed_copy_lists_and_loads_them(tmp_path):
    """Build the wheel from a copy of the sources (no dependencies fetched, nothing written into the
    repository), install it into a folder outside the repository, and run the installed ``datadiet recipes
    list`` and a tiny sweep by name from there."""
    source = tmp_path / "source"
    shutil.copytree(REPO / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w",
                    str(tmp_path / "wheel"), str(source)], check=True, capture_output=True)
    (wheel,) = (tmp_path / "wheel").glob("datadiet-*.whl")
    files = zipfile.ZipFile(wheel).namelist()
    assert {f"datadiet/recipes/{name}.toml" for name in list_recipes()} <= set(files)
    assert "datadiet/recipes/README.md" in files
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target), str(wheel)],
                   check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(target)}
    run = [sys.executable, "-c", "import sys, datadiet.cli.main as m; sys.exit(m.main())"]
    where = subprocess.run([sys.executable, "-c", "import datadiet.recipes as r; print(r.FOLDER)"], env=env,
                           cwd=tmp_path, capture_output=True, text=True, check=True).stdout.strip()
    assert Path(where) == target / "datadiet" / "recipes"
    listed = subprocess.run([*run, "recipes", "list"], env=env, cwd=tmp_path, capture_output=True, text=True)
    assert listed.returncode == 0 and "paper1_fig1_bottom" in listed.stdout, listed.stderr
    swept = subprocess.run([*run, "sweep", "paper1_fig1_bottom", "--preset", "tiny", "--out", "out", "--no-progress"],
                           env=env, cwd=tmp_path, capture_output=True, text=True)
    assert swept.returncode == 0 and "0 failed" in swept.stdout, swept.stderr
