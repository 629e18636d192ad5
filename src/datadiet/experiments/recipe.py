"""Experiment recipes: a TOML file of a base configuration, a grid of alternatives and named presets.

Tables of a recipe (every unknown key is an error naming the valid ones):

- ``[experiment]``: ``name`` (default: the file's stem), ``description``, ``epoch_seconds`` (seconds per
  full-data training epoch on the intended machine, used only by ``--dry-run`` estimates).
- ``[base]``: one run: ``method`` (a label), ``keep``, ``seed``, ``budget`` ("steps" | "epochs"), ``epochs``,
  and the sub-tables ``[base.data]`` (``dataset``, ``data_dir``, label_noise, imbalance, per_class,
  val_fraction, seed), ``[base.model]`` (``name``, ``width``) and ``[base.train]`` (TrainConfig options:
  batch_size, lr, momentum, nesterov, weight_decay, lr_milestones, lr_gamma, augment, eval_every, ...).
- ``[grid]``: lists of alternatives for any key of ``[base]`` (``keep = [0.9, 0.5]``, ``data.label_noise =
  [0.0, 0.1]``); the runs are the cartesian product, the first key varying slowest.
- ``[methods.LABEL]``: see :mod:`datadiet.experiments.methods`. A list value is a list of alternatives for
  that method only (``r = [0.3, 0.5]`` for InfoBatch).
- ``[plot]``: ``x`` ("pruned" or "keep") and ``panels`` (``["accuracy"]`` or ``["accuracy", "wallclock"]``).
- ``[presets.NAME]``: tables ``experiment``, ``base``, ``grid``, ``methods``, ``plot`` merged over the
  recipe's own (tables merge key by key; any other value, a grid list included, is replaced).

Runs that resolve to the same configuration are run once (``full`` ignores ``keep``, so one full-data run per
seed serves every fraction).
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datadiet.experiments.config import RUN_KEYS, RunConfig, parse_run
from datadiet.experiments.methods import Method, parse_method
from datadiet.experiments.values import build, check_keys

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

__all__ = ["Experiment", "PlotSettings", "expand", "grid_points", "load_recipe", "merge", "read_recipe"]

RECIPE_KEYS = ("experiment", "base", "grid", "methods", "plot", "presets")
PRESET_KEYS = ("experiment", "base", "grid", "methods", "plot")
X_AXES = ("pruned", "keep")
PANELS = ("accuracy", "wallclock")


@dataclass(frozen=True)
class ExperimentInfo:
    """The ``[experiment]`` table."""

    name: str = ""
    description: str = ""
    epoch_seconds: float | None = None


@dataclass(frozen=True)
class PlotSettings:
    """The ``[plot]`` table: the x axis (fraction ``pruned`` or ``keep``) and the panels of the figure."""

    x: str = "pruned"
    panels: tuple[str, ...] = ("accuracy",)

    def __post_init__(self) -> None:
        if self.x not in X_AXES:
            raise ValueError(f"unknown plot.x {self.x!r}; valid: {', '.join(X_AXES)}")
        bad = [p for p in self.panels if p not in PANELS]
        if bad or not self.panels:
            raise ValueError(f"plot.panels must be a non-empty list of {', '.join(PANELS)}, got {list(self.panels)}")


@dataclass(frozen=True)
class Experiment:
    """A recipe with its preset applied and expanded into runs.

    ``resolved`` is the recipe after the preset (without ``presets``), as plain TOML values.
    """

    name: str
    preset: str | None
    description: str
    runs: tuple[RunConfig, ...]
    plot: PlotSettings
    epoch_seconds: float | None
    resolved: dict
    recipe: str | None = None


def read_recipe(path: str | Path) -> dict:
    """Parse a recipe file; a missing file is a ``FileNotFoundError``, bad TOML a ``ValueError`` with the line."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"recipe {path} does not exist")
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path}: {error}") from None


def merge(base: dict, override: dict) -> dict:
    """``override`` merged over ``base``: tables key by key, anything else replaced (a new dict)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_recipe(
    path: str | Path, *, preset: str | None = None, data_dir: str | Path | None = None, download: bool = False
) -> Experiment:
    """Read, apply ``preset`` and expand a recipe; ``data_dir`` replaces every run's data folder."""
    path = Path(path).resolve()
    recipe = read_recipe(path)
    experiment = expand(recipe, preset=preset, base_dir=path.parent, default_name=path.stem)
    experiment = dataclasses.replace(experiment, recipe=str(path))
    if data_dir is None and not download:
        return experiment
    folder = None if data_dir is None else str(Path(data_dir).expanduser().resolve())
    runs = tuple(dataclasses.replace(r, data=dataclasses.replace(
        r.data, data_dir=folder or r.data.data_dir, download=download)) for r in experiment.runs)
    return dataclasses.replace(experiment, runs=runs)


def expand(
    recipe: dict, *, preset: str | None = None, base_dir: Path | None = None, default_name: str = "experiment"
) -> Experiment:
    """Apply ``preset`` to the parsed ``recipe`` and expand its grid into runs (duplicates removed)."""
    check_keys(recipe, RECIPE_KEYS, "the recipe")
    resolved = _apply_preset(recipe, preset)
    info = build(ExperimentInfo, resolved.get("experiment", {}), "experiment")
    methods = {label: _method_variants(label, table) for label, table in resolved.get("methods", {}).items()}
    runs: dict[str, RunConfig] = {}
    for point in grid_points(resolved.get("grid", {})):
        values = _set_paths(resolved.get("base", {}), point)
        label = values.get("method")
        if label is None:
            raise ValueError("the run configuration needs 'method' (in [base], [grid] or a preset)")
        variants = methods.get(label) or _kind_named(label)
        for method in variants:
            run = parse_run(values, method, base_dir=base_dir)
            runs.setdefault(run.run_id, run)
    plot = build(PlotSettings, resolved.get("plot", {}), "plot")
    return Experiment(info.name or default_name, preset, info.description, tuple(runs.values()), plot,
                      info.epoch_seconds, resolved)


def _apply_preset(recipe: dict, preset: str | None) -> dict:
    presets = recipe.get("presets", {})
    base = {k: v for k, v in recipe.items() if k != "presets"}
    if preset is None:
        return base
    if preset not in presets:
        raise ValueError(f"unknown preset {preset!r}; this recipe has: {', '.join(presets) or 'none'}")
    check_keys(presets[preset], PRESET_KEYS, f"presets.{preset}")
    return merge(base, presets[preset])


def grid_points(grid: dict) -> list[dict[tuple[str, ...], Any]]:
    """The cartesian product of a grid as ``{path: value}`` dicts, the first key varying slowest.

    Nested tables (``data.label_noise = [...]``) give paths such as ``("data", "label_noise")``.
    """
    axes = _flatten(grid, ())
    for path, values in axes:
        if path[0] not in RUN_KEYS:
            raise ValueError(f"unknown key {path[0]!r} in grid; valid: {', '.join(RUN_KEYS)}")
        if not isinstance(values, list) or not values:
            raise ValueError(f"grid.{'.'.join(path)} must be a non-empty list of values, got {values!r}")
    return [dict(zip((p for p, _ in axes), combo)) for combo in itertools.product(*(v for _, v in axes))]


def _flatten(table: dict, prefix: tuple[str, ...]) -> list[tuple[tuple[str, ...], Any]]:
    out = []
    for key, value in table.items():
        if isinstance(value, dict):
            out.extend(_flatten(value, (*prefix, key)))
        else:
            out.append(((*prefix, key), value))
    return out


def _set_paths(base: dict, point: dict[tuple[str, ...], Any]) -> dict:
    values = copy.deepcopy(base)
    for path, value in point.items():
        target = values
        for part in path[:-1]:
            target = target.setdefault(part, {})
            if not isinstance(target, dict):
                raise ValueError(f"grid key {'.'.join(path)}: {part!r} is not a table in [base]")
        target[path[-1]] = value
    return values


def _method_variants(label: str, table: dict) -> list[Method]:
    """One method per combination of the table's list values (a per-method grid)."""
    lists = {k: v for k, v in table.items() if isinstance(v, list)}
    if any(not v for v in lists.values()):
        raise ValueError(f"methods.{label}: a list of alternatives must not be empty")
    return [parse_method(label, {**table, **dict(zip(lists, combo))}) for combo in itertools.product(*lists.values())]


def _kind_named(label: str) -> list[Method]:
    """A method used by label without a table: allowed when the label names a kind (``full``, ``random``)."""
    try:
        return [parse_method(label, {})]
    except ValueError:
        raise ValueError(f"method {label!r} is not defined: add a [methods.{label}] table") from None
