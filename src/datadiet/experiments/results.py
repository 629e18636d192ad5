"""The finished runs of an experiment folder, grouped into the points of its figures and tables.

A **point** is a set of runs that differ only in their seed; its statistics over seeds are the mean and the
16th-84th percentile band (the papers' reporting). Points are grouped into **series** by method label (plus
any other grid dimension that varies, such as the label noise, except the x axis). The x coordinate of a point
(:meth:`Point.x`) is its fraction ``pruned``, ``1 - keep`` (a method that sets no size, full data or InfoBatch,
is placed at its realized fraction, ``1 - samples seen / (epochs * N)``, and its parameter values are the points
of its curve), the fraction kept, the mean of a metric (``samples_seen``), or a configuration value by its
dotted path (``method.at``, ``method.offset``, ``data.label_noise``).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from datadiet.experiments.layout import DATABASE
from datadiet.experiments.methods import ANALYSIS_KINDS
from datadiet.experiments.store import ResultRow, ResultStore
from datadiet.experiments.sweep import read_experiment

__all__ = ["AXES", "METRICS", "ExperimentResults", "Point", "flatten", "load_results", "spread"]

METRICS = {
    "accuracy": ("test_accuracy", "test accuracy (%)", 100.0),
    "wallclock": ("total_seconds", "wall-clock incl. scoring (s)", 1.0),
    "train_seconds": ("train_seconds", "training (s)", 1.0),
    "scoring_seconds": ("scoring_seconds", "scoring (s)", 1.0),
    "samples_seen": ("samples_seen", "samples seen", 1.0),
}
"""Name -> (metric key, axis label, scale) of the quantities shown in figures and tables."""

AXES = ("pruned", "keep", "samples_seen")
"""Named x axes; any other x is a dotted configuration path."""


def spread(values: np.ndarray) -> tuple[float, float, float]:
    """Mean, 16th and 84th percentile of ``values`` ``(n,)``."""
    low, high = np.percentile(values, [16, 84])
    return float(np.mean(values)), float(low), float(high)


@dataclass(frozen=True)
class Point:
    """Runs that differ only in seed: ``series`` label, ``method`` configuration, ``pruned`` fraction.

    ``metrics`` holds every numeric metric of the runs, one value per seed (in the order of ``seeds``);
    ``config`` the runs' common configuration as dotted keys; ``run_ids`` the runs, in the order of ``seeds``.
    """

    series: str
    method: dict = field(compare=False)
    pruned: float
    keep: float | None
    seeds: tuple[int, ...]
    metrics: dict[str, np.ndarray] = field(compare=False)
    config: dict = field(default_factory=dict, compare=False)
    run_ids: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        return self.method["kind"]

    @property
    def is_reference(self) -> bool:
        """Whether the point is full data on its setting's schedule, what the others are measured against (a
        full-data method with ``epochs`` of its own is not: see :mod:`datadiet.experiments.kinds.full`)."""
        return self.kind == "full" and self.method.get("epochs") is None

    def x(self, axis: str) -> float | None:
        """The point's coordinate on ``axis`` (see the module docstring); None if its runs have no such key."""
        if axis == "pruned":
            return self.pruned
        if axis == "keep":
            return 1.0 - self.pruned
        if axis in METRICS:
            return self.stats(axis)[0]
        value = self.config.get(axis)
        return None if isinstance(value, (bool, str)) or value is None else float(value)

    def stats(self, name: str) -> tuple[float, float, float]:
        """Mean, 16th and 84th percentile of metric ``name`` (a key of :data:`METRICS`), scaled for display."""
        key, _, scale = METRICS[name]
        return spread(self.metrics[key] * scale)


@dataclass(frozen=True)
class ExperimentResults:
    """``info``: the folder's experiment.json; ``rows``: its finished runs (of the latest expansion)."""

    folder: Path
    info: dict
    rows: list[ResultRow]

    @property
    def missing(self) -> int:
        return len(self.info["run_ids"]) - len(self.rows)

    def points(self, x: str = "pruned", methods: tuple[str, ...] = ()) -> list[Point]:
        """Every point (of the methods labelled ``methods``, default all), in order of series then fraction
        pruned; the configuration key ``x`` (an axis) does not name series."""
        rows = [r for r in self.rows if not methods or r.config["method"]["label"] in methods]
        skip = ("seed", "keep", x)
        extra = _varying(rows, skip_method=True, skip=skip)
        by_label: dict[str, list[ResultRow]] = defaultdict(list)
        for row in rows:
            by_label[row.config["method"]["label"]].append(row)
        own = {label: _varying(members, skip_method=False, skip=skip) for label, members in by_label.items()}
        groups: dict[str, list[ResultRow]] = defaultdict(list)
        for row in rows:
            groups[json.dumps({k: v for k, v in row.config.items() if k != "seed"}, sort_keys=True)].append(row)
        points = [_point(members, extra + own[members[0].config["method"]["label"]]) for members in groups.values()]
        return sorted(points, key=lambda p: (p.series, p.pruned))

    def score_records(self) -> list[dict]:
        """The records of the cached score sets (what, seconds, samples)."""
        folder = self.folder / "cache" / "scores"
        return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))] if folder.exists() else []


def load_results(folder: str | Path) -> ExperimentResults:
    """Read an experiment folder written by :func:`~datadiet.experiments.run_sweep`."""
    folder = Path(folder)
    info = read_experiment(folder)
    if not (folder / DATABASE).is_file():
        raise FileNotFoundError(f"{folder / DATABASE} does not exist: no run of this experiment has finished")
    with ResultStore(folder / DATABASE, create=False) as store:
        wanted = set(info["run_ids"])
        rows = [r for r in store.rows() if r.run_id in wanted]
    return ExperimentResults(folder, info, rows)


def flatten(value: dict, prefix: str = "") -> dict:
    """Nested tables as dotted keys: ``{"data": {"seed": 0}}`` -> ``{"data.seed": 0}``."""
    out = {}
    for key, v in value.items():
        if isinstance(v, dict):
            out.update(flatten(v, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = v
    return out


def _varying(rows: list[ResultRow], *, skip_method: bool, skip: tuple[str, ...]) -> list[str]:
    """Configuration keys (besides those in ``skip``) that take several values in ``rows``.

    With ``skip_method`` the method's own keys are left out; without, only they are considered.
    """
    values: dict[str, set] = defaultdict(set)
    for row in rows:
        for key, v in flatten(row.config).items():
            if key not in skip and key.startswith("method.") != skip_method:
                values[key].add(json.dumps(v))
    return sorted(k for k, v in values.items() if len(v) > 1)


def _point(rows: list[ResultRow], varying: list[str]) -> Point:
    """The point of ``rows`` (same configuration but the seed); ``varying`` keys name its series.

    A method that sets no size has its own varying parameters as points of one curve, not as series.
    """
    first = rows[0].config
    flat = flatten(first)
    if first["method"]["kind"] in ANALYSIS_KINDS:
        pruned = 0.0  # an analysis measures training dynamics on all the data
    elif first["keep"] is None:
        varying = [k for k in varying if not k.startswith("method.")]
        pruned = float(np.mean([1 - r.metrics["samples_seen"] / (r.config["epochs"] * r.metrics["num_train"])
                                for r in rows]))
    else:
        pruned = round(1.0 - first["keep"], 12)
    series = first["method"]["label"]
    if varying:
        series += " (" + ", ".join(f"{k.split('.')[-1]}={flat[k]}" for k in varying) + ")"
    metrics = {key: np.array([r.metrics[key] for r in rows], dtype=np.float64) for key in _numeric_metrics(rows)}
    config = {k: v for k, v in flat.items() if k != "seed"}
    return Point(series, first["method"], max(pruned, 0.0), first["keep"],
                 tuple(r.config["seed"] for r in rows), metrics, config, tuple(r.run_id for r in rows))


def _numeric_metrics(rows: list[ResultRow]) -> list[str]:
    """Metric keys whose value is a number in every row."""
    def number(v: object) -> bool:
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    return [k for k in rows[0].metrics if all(number(r.metrics.get(k)) for r in rows)]
