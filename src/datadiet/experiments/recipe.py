"""Experiment recipes: a TOML file of a base configuration, a grid of alternatives, named presets and figures.

Tables of a recipe (every unknown key is an error naming the valid ones):

- ``extends = "other.toml"`` (a top-level key): the recipe is ``other.toml`` (a path relative to this file)
  with this file's tables merged over it (see :func:`merge`), so a variant of a figure states only what differs.
  Relative paths of the merged recipe (``data_dir``) are taken relative to the extending file. A name without
  ``.toml`` (``extends = "paper2_fig2"``) extends the shipped recipe of that name (:mod:`datadiet.recipes`).
- ``[experiment]``: ``name`` (default: the file's stem), ``description``, ``epoch_seconds`` (seconds per
  full-data training epoch on the intended machine, used only by ``--dry-run`` estimates).
- ``[base]``: one run: ``method`` (a label), ``keep``, ``seed``, ``budget`` ("steps" | "epochs" | "samples"),
  ``epochs``, and the sub-tables ``[base.data]`` (``dataset`` and ``data_dir``, or the user's ``loader =
  "package.module:function"`` with ``options``; and the variants label_noise, imbalance, per_class,
  val_fraction, seed), ``[base.model]`` (``name`` and ``width``, or the user's ``factory =
  "package.module:function"`` with ``options``; see :mod:`datadiet.experiments.user_code`) and ``[base.train]``
  (TrainConfig options: batch_size, lr, momentum, nesterov, weight_decay, lr_milestones, lr_gamma, augment,
  eval_every, ...).
- ``[grid]``: lists of alternatives for any key of ``[base]`` (``keep = [0.9, 0.5]``, ``data.label_noise =
  [0.0, 0.1]``); the runs are the cartesian product, the first key varying slowest.
- ``[methods.LABEL]``: see :mod:`datadiet.experiments.methods` and the kinds in :mod:`datadiet.experiments.kinds`.
  A list value is a list of alternatives for that method only (``r = [0.3, 0.5]`` for InfoBatch).
- ``[plot]``: the main figure, curves of the runs: ``x`` ("pruned", "keep", "samples_seen" or a configuration
  path such as "method.at"), ``panels`` (``["accuracy"]`` or ``["accuracy", "wallclock"]``) and ``methods``.
- ``[figures.NAME]``: more figures, ``type`` one of :data:`~datadiet.experiments.figures.FIGURE_TYPES`
  (``curves``, ``selection_counts``, ``correlation``, ``stability``, ``noise``, ``gallery``, ``velocity``,
  ``barrier``) with its settings.
  Figures of static scores name static methods (``scores = ["el2n"]``), computed on the ``[base]``
  configuration; a recipe without any ``method`` is a pure analysis (no training runs, only score sets).
- ``[presets.NAME]``: tables ``experiment``, ``base``, ``grid``, ``methods``, ``plot``, ``figures`` merged over
  the recipe's own (tables merge key by key; any other value, a grid list included, is replaced; a data or model
  table that names another source, ``loader`` for ``dataset`` or ``factory`` for ``name``, replaces the keys of
  the source it is merged over, see :data:`~datadiet.experiments.config.SOURCES`). With
  ``extends = "cpu"`` a preset is a variant of the recipe's preset ``cpu``: its tables merge over that one's.

Runs that resolve to the same configuration are run once (``full`` ignores ``keep``, so one full-data run per
seed serves every fraction). Runs that a run reads (the source runs of ``always_sometimes``) join the
experiment.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import sys
import typing
from dataclasses import dataclass
from collections.abc import Callable
from pathlib import Path
from typing import Any

from datadiet.experiments.config import RUN_KEYS, SOURCES, DataConfig, RunConfig, parse_run
from datadiet.experiments.figures import CurvesFigure, FigureSpec, parse_figure
from datadiet.experiments.kinds import FullParams
from datadiet.experiments.methods import METHOD_KINDS, Method, parse_method, resolve_references
from datadiet.experiments.scoring import ScoreNeed
from datadiet.experiments.values import build, check_keys
from datadiet.recipes import is_recipe_name, recipe_path

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

__all__ = ["Experiment", "expand", "grid_points", "load_recipe", "merge", "read_recipe"]

RECIPE_KEYS = ("extends", "experiment", "base", "grid", "methods", "plot", "figures", "presets")
PRESET_KEYS = ("experiment", "base", "grid", "methods", "plot", "figures")


@dataclass(frozen=True)
class ExperimentInfo:
    """The ``[experiment]`` table."""

    name: str = ""
    description: str = ""
    epoch_seconds: float | None = None


@dataclass(frozen=True)
class Experiment:
    """A recipe with its preset applied and expanded into runs and figures.

    ``resolved`` is the recipe after the preset (without ``presets``), as plain TOML values.
    """

    name: str
    preset: str | None
    description: str
    runs: tuple[RunConfig, ...]
    plot: CurvesFigure
    epoch_seconds: float | None
    resolved: dict
    recipe: str | None = None
    figures: tuple[FigureSpec, ...] = ()

    def figure_needs(self) -> list[ScoreNeed]:
        """The distinct score sets the figures show."""
        needs = {need.key: need for figure in self.figures for need in figure.scores.values()}
        return list(needs.values())

    def with_data(self, move: Callable[[DataConfig], DataConfig]) -> Experiment:
        """The experiment with ``move(DataConfig) -> DataConfig`` applied to every run's and figure's data."""
        runs = tuple(dataclasses.replace(r, data=move(r.data)) for r in self.runs)
        figures = tuple(dataclasses.replace(
            f, scores={label: dataclasses.replace(n, data=move(n.data)) for label, n in f.scores.items()},
            data=None if f.data is None else move(f.data)) for f in self.figures)
        return dataclasses.replace(self, runs=runs, figures=figures)


def read_recipe(path: str | Path, _seen: tuple[Path, ...] = ()) -> dict:
    """Parse a recipe file (with the recipes it ``extends``); a missing file is a ``FileNotFoundError``, bad
    TOML a ``ValueError`` with the line."""
    path = Path(path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"recipe {path} does not exist")
    if path in _seen:
        raise ValueError(f"recipes extend each other in a cycle: {' -> '.join(p.name for p in (*_seen, path))}")
    try:
        recipe = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path}: {error}") from None
    parent = recipe.pop("extends", None)
    if parent is None:
        return recipe
    if not isinstance(parent, str):
        raise ValueError(f"{path}: extends must be the path or the name of a recipe, got {parent!r}")
    parent_path = recipe_path(parent) if is_recipe_name(parent) else path.parent / parent
    return merge(read_recipe(parent_path, (*_seen, path)), recipe)


def merge(base: dict, override: dict, _key: str | None = None) -> dict:
    """``override`` merged over ``base``: tables key by key, anything else replaced (a new dict).

    A ``data`` or ``model`` table of ``override`` that names one source (:data:`SOURCES`: ``loader`` or
    ``dataset``, ``factory`` or ``name``) first drops the keys of the other from ``base``'s.
    """
    out = copy.deepcopy(base)
    for source, other in itertools.permutations(() if _key is None else SOURCES.get(_key, ()), 2):
        if source[0] in override:
            out = {k: v for k, v in out.items() if k not in other}
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value, key)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_recipe(
    path: str | Path, *, preset: str | None = None, data_dir: str | Path | None = None, download: bool = False
) -> Experiment:
    """Read, apply ``preset`` and expand a recipe (a file, or a shipped recipe's name); ``data_dir`` replaces the
    data folder of every run that reads a built-in dataset."""
    path = recipe_path(str(path)) if is_recipe_name(str(path)) and not Path(path).is_file() else Path(path).resolve()
    recipe = read_recipe(path)
    experiment = expand(recipe, preset=preset, base_dir=path.parent, default_name=path.stem)
    experiment = dataclasses.replace(experiment, recipe=str(path))
    if data_dir is None and not download:
        return experiment
    folder = None if data_dir is None else str(Path(data_dir).expanduser().resolve())

    def move(data: DataConfig) -> DataConfig:
        if data.loader is not None:
            return data
        return dataclasses.replace(data, data_dir=folder or data.data_dir, download=download)

    return experiment.with_data(move)


def expand(
    recipe: dict, *, preset: str | None = None, base_dir: Path | None = None, default_name: str = "experiment"
) -> Experiment:
    """Apply ``preset`` to the parsed ``recipe`` and expand its grid into runs (duplicates removed)."""
    check_keys(recipe, RECIPE_KEYS, "the recipe")
    if "extends" in recipe:
        raise ValueError("extends names a recipe file: read the recipe with read_recipe or load_recipe")
    resolved = _apply_preset(recipe, preset)
    info = build(ExperimentInfo, resolved.get("experiment", {}), "experiment")
    methods = resolve_references(
        {label: _method_variants(label, table) for label, table in resolved.get("methods", {}).items()})
    figure_tables = resolved.get("figures", {})
    runs = _runs(resolved, methods, base_dir, analysis_only=bool(figure_tables))
    plot = build(CurvesFigure, resolved.get("plot", {}), "plot")
    plot.check("plot", runs, methods)
    context = _context(resolved.get("base", {}), base_dir)
    figures = tuple(parse_figure(name, _table(table, f"figures.{name}"), methods, runs, context)
                    for name, table in figure_tables.items())
    return Experiment(info.name or default_name, preset, info.description, runs, plot, info.epoch_seconds,
                      resolved, figures=figures)


def _runs(resolved: dict, methods: dict[str, list[Method]], base_dir: Path | None, *,
          analysis_only: bool) -> tuple[RunConfig, ...]:
    """Every run of the grid, the runs they read added, each configuration once."""
    runs: dict[str, RunConfig] = {}
    for point in grid_points(resolved.get("grid", {})):
        values = _set_paths(resolved.get("base", {}), point)
        label = values.get("method")
        if label is None and analysis_only:
            continue
        if label is None:
            raise ValueError("the run configuration needs 'method' (in [base], [grid] or a preset)")
        for method in methods.get(label) or _kind_named(label):
            run = parse_run(values, method, base_dir=base_dir)
            for required in run.method.params.required_runs(run):
                runs.setdefault(required.run_id, required)
            runs.setdefault(run.run_id, run)
    return tuple(runs.values())


def _context(base: dict, base_dir: Path | None) -> RunConfig | str:
    """The [base] configuration as a full-data run (what figures' scores are computed on), or why it is not one."""
    values = {k: v for k, v in base.items() if k not in ("method", "keep")}
    values.setdefault("seed", 0)
    try:
        return parse_run(values, Method("full", "full", FullParams()), base_dir=base_dir)
    except ValueError as error:
        return str(error)


def _table(value: Any, where: str) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"{where} must be a table, got {value!r}")
    return value


def _apply_preset(recipe: dict, preset: str | None) -> dict:
    presets = recipe.get("presets", {})
    base = {k: v for k, v in recipe.items() if k != "presets"}
    if preset is None:
        return base
    if preset not in presets:
        raise ValueError(f"unknown preset {preset!r}; this recipe has: {', '.join(presets) or 'none'}")
    return merge(base, _preset_tables(presets, preset, ()))


def _preset_tables(presets: dict, name: str, chain: tuple[str, ...]) -> dict:
    """The tables of preset ``name``, merged over those of the preset it extends, if any."""
    table = presets[name]
    check_keys(table, ("extends", *PRESET_KEYS), f"presets.{name}")
    own = {k: v for k, v in table.items() if k != "extends"}
    if "extends" not in table:
        return own
    parent = table["extends"]
    if not isinstance(parent, str) or parent not in presets:
        raise ValueError(f"presets.{name} extends {parent!r}, which is not a preset of this recipe; it has: "
                         f"{', '.join(presets)}")
    if parent in (*chain, name):
        raise ValueError(f"presets extend each other in a cycle: {' -> '.join((*chain, name, parent))}")
    return merge(_preset_tables(presets, parent, (*chain, name)), own)


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
    """One method per combination of the table's list values (a per-method grid).

    A parameter that is itself a list (``source_seeds``) takes a list of lists as alternatives.
    """
    kind = METHOD_KINDS.get(table.get("kind", label))
    plain = {k for k, hint in typing.get_type_hints(kind).items() if typing.get_origin(hint) is tuple} if kind else ()
    lists = {k: v for k, v in table.items()
             if isinstance(v, list) and (k not in plain or (v and all(isinstance(x, list) for x in v)))}
    if any(not v for v in lists.values()):
        raise ValueError(f"methods.{label}: a list of alternatives must not be empty")
    return [parse_method(label, {**table, **dict(zip(lists, combo))}) for combo in itertools.product(*lists.values())]


def _kind_named(label: str) -> list[Method]:
    """A method used by label without a table: allowed when the label names a kind (``full``, ``random``)."""
    try:
        return [parse_method(label, {})]
    except ValueError:
        raise ValueError(f"method {label!r} is not defined: add a [methods.{label}] table") from None
