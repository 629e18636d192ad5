"""A recipe on the user's network and data, named by import path: this module defines both, and the shipped
``paper1_fig1_bottom`` recipe's tiny preset runs on them; every bad path or return value is a one-line error."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from datadiet.cli.main import main
from datadiet.data import DataOptions, IndexedDataset, Splits
from datadiet.experiments import load_recipe, load_results, run_sweep
from datadiet.experiments.config import DataConfig
from datadiet.experiments.recipe import expand, merge

NOT_CALLABLE = 3
HERE = __name__  # "test_user_code": pytest puts this folder on the module search path


def small_net(num_classes: int, input_shape: tuple[int, ...], hidden: int = 16) -> nn.Module:
    """A two-layer perceptron for examples of ``input_shape``."""
    return nn.Sequential(nn.Flatten(), nn.Linear(math.prod(input_shape), hidden), nn.ReLU(),
                         nn.Linear(hidden, num_classes))


def not_a_net(num_classes: int, input_shape: tuple[int, ...]) -> str:
    return "a network"


class Blobs(torch.utils.data.Dataset):
    """A map-style torch dataset of ``(x, y)``: ``classes`` Gaussian blobs in ``dim`` dimensions."""

    def __init__(self, per_class: int, classes: int, dim: int, seed: int) -> None:
        generator = torch.Generator().manual_seed(seed)
        centers = torch.randn(classes, dim, generator=torch.Generator().manual_seed(0)) * 3
        self.y = torch.arange(classes).repeat_interleave(per_class)
        self.x = centers[self.y] + torch.randn(len(self.y), dim, generator=generator)

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        return self.x[i], int(self.y[i])


def blobs(per_class: int = 40, classes: int = 3, dim: int = 8) -> tuple[Blobs, Blobs]:
    """Train and test blobs as torch datasets."""
    return Blobs(per_class, classes, dim, seed=1), Blobs(10, classes, dim, seed=2)


def indexed_blobs(per_class: int = 40) -> Splits:
    """The same blobs as :class:`IndexedDataset` s in a :class:`Splits`."""
    train, test = blobs(per_class)
    return Splits(*(IndexedDataset(d.x, d.y, torch.arange(len(d)), 3, name) for d, name in
                    ((train, "train"), (test, "test"))))


def a_list() -> list:
    return [1, 2]


def train_and_text() -> tuple:
    return blobs()[0], "test"


def own_tables(model: dict | None = None, data: dict | None = None) -> dict:
    """The tiny preset's model and data replaced by this module's."""
    model = model or {"factory": f"{HERE}:small_net", "options": {"hidden": 8}}
    data = data or {"loader": f"{HERE}:blobs", "options": {"per_class": 40}}
    return {"presets": {"tiny": {"base": {"model": model, "data": data}}}}


def own_recipe(tmp_path, tables: dict | None = None):
    """A recipe file that extends the shipped paper1_fig1_bottom with ``tables`` (default: this module's code)."""
    lines = ['extends = "paper1_fig1_bottom"']
    for key, table in (tables or own_tables())["presets"]["tiny"]["base"].items():
        lines.append(f"[presets.tiny.base.{key}]")
        lines += [f"{k} = {_toml(v)}" for k, v in table.items()]
    path = tmp_path / "mine.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _toml(value) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    return f'"{value}"' if isinstance(value, str) else str(value)


def test_paper1_fig1_bottom_tiny_runs_on_a_network_and_data_named_by_import_path(tmp_path, capsys):
    recipe = own_recipe(tmp_path)
    experiment = load_recipe(recipe, preset="tiny")
    assert {r.model.factory for r in experiment.runs} == {f"{HERE}:small_net"}
    assert {r.data.loader for r in experiment.runs} == {f"{HERE}:blobs"}
    assert {r.method.label for r in experiment.runs} == {"full", "random", "grand_init", "el2n", "forgetting"}
    assert main(["sweep", str(recipe), "--preset", "tiny", "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    assert "0 failed" in capsys.readouterr().out
    points = load_results(tmp_path / "out").points()
    assert {p.method["label"] for p in points} == {r.method.label for r in experiment.runs}
    assert all(p.metrics["num_train"] == [90] for p in points)  # the preset's per_class = 30, on 3 classes
    assert all(a > 0 for p in points for a in p.metrics["test_accuracy"])


def test_the_import_path_and_its_options_are_part_of_the_run_id():
    ids = {tuple(r.run_id for r in expand(merge(load_tables(), tables), preset="tiny").runs)
           for tables in (own_tables(), own_tables(model={"factory": f"{HERE}:small_net", "options": {"hidden": 9}}),
                          own_tables(data={"loader": f"{HERE}:indexed_blobs"}), {})}
    assert len(ids) == 4


def load_tables() -> dict:
    from datadiet.experiments.recipe import read_recipe
    from datadiet.recipes import recipe_path

    return read_recipe(recipe_path("paper1_fig1_bottom"))


def test_a_factory_replaces_the_name_and_width_it_is_merged_over_and_a_loader_the_dataset():
    resolved = merge(load_tables(), own_tables())["presets"]["tiny"]["base"]
    assert resolved["model"] == {"factory": f"{HERE}:small_net", "options": {"hidden": 8}}
    assert resolved["data"] == {"per_class": 30, "loader": f"{HERE}:blobs", "options": {"per_class": 40}}
    back = merge(resolved, {"model": {"name": "mlp"}, "data": {"dataset": "digits"}}, "base")
    assert back == {**resolved, "model": {"name": "mlp"}, "data": {"per_class": 30, "dataset": "digits"}}


@pytest.mark.parametrize("loader", ["blobs", "indexed_blobs"])
def test_the_dataset_variants_apply_to_the_users_data(loader):
    options = DataOptions(label_noise=0.2, per_class=20, val_fraction=0.25)
    train, test, val = DataConfig(loader=f"{HERE}:{loader}", loader_options={"per_class": 40}, options=options).load()
    assert (len(train), len(val), len(test)) == (45, 15, 30)
    assert int(train.noise_mask.sum()) > 0 and val.noise_mask is None
    assert (train.num_classes, train.input_shape) == (3, (8,))


BAD_MODELS = [
    ({"factory": f"{HERE}.small_net"}, f"model.factory = '{HERE}.small_net' is not an import path; write it as "
                                       '"package.module:function"'),
    ({"factory": "no_such_module_here:make"}, "model.factory = 'no_such_module_here:make': cannot import module "
                                              "'no_such_module_here' (ModuleNotFoundError"),
    ({"factory": f"{HERE}:nothing_here"}, f"'{HERE}' has no attribute 'nothing_here'; its functions: "),
    ({"factory": f"{HERE}:NOT_CALLABLE"}, f"model.factory = '{HERE}:NOT_CALLABLE' is a int, not a function or class"),
    ({"factory": f"{HERE}:small_net", "options": {"depth": 2}},
     f"model.factory = '{HERE}:small_net' cannot be called as small_net(num_classes=..., input_shape=..., depth=...)"),
    ({"factory": f"{HERE}:small_net", "name": "mlp"}, "model has a factory and a name or width: give one"),
    ({"factory": f"{HERE}:small_net", "size": 2}, "unknown key 'size' in model; valid: name, width, factory, options"),
    ({"name": "mlp", "options": {"hidden": 2}}, "model options are the arguments of a factory"),
]


@pytest.mark.parametrize(("model", "message"), BAD_MODELS)
def test_a_bad_factory_is_an_error_when_the_recipe_is_read(model, message):
    with pytest.raises(ValueError) as error:
        expand(merge(load_tables(), own_tables(model=model)), preset="tiny")
    assert message in str(error.value) and "\n" not in str(error.value), str(error.value)


BAD_DATA = [
    ({"loader": f"{HERE}.blobs"}, "data.loader = 'test_user_code.blobs' is not an import path"),
    ({"loader": "no_such_module_here:load"}, "cannot import module 'no_such_module_here'"),
    ({"loader": f"{HERE}:nowhere"}, f"'{HERE}' has no attribute 'nowhere'; its functions: "),
    ({"loader": f"{HERE}:NOT_CALLABLE"}, "is a int, not a function or class"),
    ({"loader": f"{HERE}:blobs", "options": {"size": 3}}, "cannot be called as blobs(size=...)"),
    ({"loader": f"{HERE}:blobs", "data_dir": "/data"}, "data has a loader and a dataset or data_dir: give one"),
    ({"loader": f"{HERE}:blobs", "noise": 0.1}, "unknown key 'noise' in data; valid: dataset, data_dir, "),
]


@pytest.mark.parametrize(("data", "message"), BAD_DATA)
def test_a_bad_loader_is_an_error_when_the_recipe_is_read(data, message):
    with pytest.raises(ValueError) as error:
        expand(merge(load_tables(), {"presets": {"tiny": {"base": {"data": data}}}}), preset="tiny")
    assert message in str(error.value) and "\n" not in str(error.value), str(error.value)


@pytest.mark.parametrize(("tables", "message"), [
    (own_tables(model={"factory": f"{HERE}:not_a_net"}),
     f"model.factory = '{HERE}:not_a_net' returned a str; it must return a torch.nn.Module"),
    (own_tables(data={"loader": f"{HERE}:a_list"}),
     f"data.loader = '{HERE}:a_list' returned a list; it must return (train, test) or a datadiet.data.Splits"),
    (own_tables(data={"loader": f"{HERE}:train_and_text"}),
     "test is a str; valid: a datadiet.data.IndexedDataset or a map-style torch Dataset of (x, y) pairs"),
])
def test_what_the_users_code_returns_is_checked_before_any_run_starts(tables, message, tmp_path, capsys):
    with pytest.raises(ValueError, match="returned|is a str") as error:
        run_sweep(expand(merge(load_tables(), tables), preset="tiny"), tmp_path / "out", progress=False)
    assert message in str(error.value)
    assert not (tmp_path / "out" / "runs").exists()
    recipe = own_recipe(tmp_path, tables)
    assert main(["sweep", str(recipe), "--preset", "tiny", "--out", str(tmp_path / "cli")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("datadiet sweep: error: ") and message in err and err.count("\n") == 1


def test_a_bad_import_path_is_one_line_on_the_command_line(tmp_path, capsys):
    recipe = own_recipe(tmp_path, own_tables(model={"factory": "no_colon"}))
    assert main(["sweep", str(recipe), "--preset", "tiny", "--out", str(tmp_path / "out"), "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert err == ("datadiet sweep: error: model.factory = 'no_colon' is not an import path; write it as "
                   '"package.module:function"\n')
