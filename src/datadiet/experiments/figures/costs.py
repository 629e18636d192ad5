"""Each point's accuracy with its total compute relative to full data, the family of its method, and their table.

A run's total compute (:data:`COMPUTE`) is its wall-clock, training plus scoring (``total_seconds``: a static
method's scoring runs, embedding pass and selection are charged to every run that uses them; a dynamic pruner's
scoring passes are part of its run), or the examples it processed: trained on (``samples_forward``), forwarded by a
dynamic pruner's scoring passes (``scoring_forward``) and by the static scoring runs, their training and passes
(``static_scoring_samples``). A point's ratio is the mean over its seeds divided by the mean of the full-data
point on the same data, network and schedule (every configuration key but the method's and ``keep``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np

from datadiet.experiments.config import RunConfig
from datadiet.experiments.figures.base import Table
from datadiet.experiments.methods import ANALYSIS_KINDS
from datadiet.experiments.results import Point
from datadiet.selection import get_rule

__all__ = [
    "COMPUTE", "FAMILIES", "Costed", "check_against_full", "compute_table", "costed", "family", "run_compute",
    "setting_key",
]

COMPUTE = {"wallclock": "wall-clock incl. scoring", "samples": "examples processed incl. scoring"}
"""The measures of a run's total compute, by name, with their description."""
FAMILIES = ("difficulty scores", "coverage (CCS)", "rules on embeddings", "dynamic pruning", "other")
"""The families of pruning methods, in the order figures and tables show them; full data and static random
subsets are ``"reference"``."""


def family(method: dict) -> str:
    """The family of a method (its stored configuration): one of :data:`FAMILIES`, or ``"reference"``."""
    if method["kind"] in ("full", "random"):
        return "reference"
    if method["kind"] == "dynamic":
        return "dynamic pruning"
    if method["kind"] != "static":
        return "other"
    if method["rule"] == "ccs":
        return "coverage (CCS)"
    return "rules on embeddings" if "embeddings" in get_rule(method["rule"]).needs else "difficulty scores"


def check_against_full(where: str, shown: tuple[str, ...], runs: tuple[RunConfig, ...], measure: str) -> None:
    """Raise ``ValueError`` unless every ``shown`` label is a training method some run uses and full data is among
    the runs (``measure``, what is relative to it, names it in the message)."""
    used = {r.method.label for r in runs if r.method.kind not in ANALYSIS_KINDS}
    unknown = [m for m in shown if m not in used]
    if unknown:
        raise ValueError(f"{where}.methods: no run uses {unknown[0]!r}; used: {', '.join(sorted(used))}")
    if not any(r.method.params.is_reference for r in runs):
        raise ValueError(f"{where}: {measure} is relative to full data; add a full-data method to the runs")


@dataclass(frozen=True)
class Costed:
    """A point with its test accuracy (%) ``mean`` and ``std`` over seeds, its mean total ``compute`` and its
    ``ratio`` to full data (None while no full-data run of its configuration has finished)."""

    point: Point
    mean: float
    std: float
    compute: float
    ratio: float | None


def run_compute(metrics: dict[str, np.ndarray], measure: str) -> np.ndarray:
    """The total compute of each run of a point (its ``metrics``, one value per seed) by ``measure``."""
    if measure == "wallclock":
        return metrics["total_seconds"]
    zero = np.zeros_like(metrics["samples_forward"])
    return (metrics["samples_forward"] + metrics.get("scoring_forward", zero)
            + metrics.get("static_scoring_samples", zero))


def costed(points: list[Point], measure: str) -> list[Costed]:
    """``points`` (analysis points left out) with their accuracy and compute relative to full data."""
    points = [p for p in points if "test_accuracy" in p.metrics]
    full = {setting_key(p): float(run_compute(p.metrics, measure).mean()) for p in points if p.is_reference}
    out = []
    for p in points:
        accuracy = 100.0 * p.metrics["test_accuracy"]
        compute = float(run_compute(p.metrics, measure).mean())
        reference = full.get(setting_key(p))
        std = float(accuracy.std(ddof=1)) if len(accuracy) > 1 else 0.0
        out.append(Costed(p, float(accuracy.mean()), std, compute, compute / reference if reference else None))
    return out


def setting_key(p: Point) -> str:
    """The point's data, network and schedule: its configuration without the method and ``keep``."""
    return json.dumps({k: v for k, v in p.config.items() if not k.startswith("method.") and k != "keep"},
                      sort_keys=True)


def compute_table(points: list[Costed], measure: str) -> Table:
    """Accuracy mean ± std and compute ratio per method (rows, by family) and fraction pruned (columns).

    Methods that set their own size (full data, InfoBatch) have their cells in the last column with their
    realized fraction; one row per variant (InfoBatch's ``r``)."""
    fractions = sorted({p.point.pruned for p in points if p.point.keep is not None})
    order = ("reference", *FAMILIES)
    rows: dict[str, list[str]] = {}
    for p in sorted(points, key=lambda p: (order.index(family(p.point.method)), p.point.series, p.point.pruned)):
        label = p.point.series + (_variant(p, points) if p.point.keep is None else "")
        row = rows.setdefault(label, [label, *["-"] * (len(fractions) + 1)])
        if p.point.keep is None:
            row[-1] = f"{_cell(p)} at {p.point.pruned:.0%}"
        else:
            row[1 + fractions.index(p.point.pruned)] = _cell(p)
    headers = ["method", *(f"{f:.0%} pruned" for f in fractions), "own size"]
    note = (f"Test accuracy (%), mean ± standard deviation over seeds; in brackets the total compute "
            f"({COMPUTE[measure]}) relative to full data. 'own size': methods that set their own size, at the "
            "fraction they pruned.")
    return Table("Accuracy and total compute", headers, list(rows.values()), note)


def _cell(p: Costed) -> str:
    ratio = "?" if p.ratio is None else f"{p.ratio:.2f}x"
    return f"{p.mean:.2f} ± {p.std:.2f} ({ratio})"


def _variant(p: Costed, points: list[Costed]) -> str:
    """What tells ``p`` from the other points of its series: the method keys whose values differ."""
    same = [q.point.config for q in points if q.point.series == p.point.series]
    keys = sorted(k for k in p.point.config if k.startswith("method.")
                  and len({json.dumps(c.get(k)) for c in same}) > 1)
    return " (" + ", ".join(f"{k.split('.')[-1]}={p.point.config[k]}" for k in keys) + ")" if keys else ""
