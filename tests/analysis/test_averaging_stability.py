"""Averaging stability (paper 1, App. D.1) against a direct SciPy computation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

from datadiet.analysis import averaging_stability, averaging_stability_orderings, plot_averaging_stability


def noisy_runs(r: int = 6, n: int = 200, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.linspace(0, 1, n) + rng.normal(scale=0.5, size=(r, n))


def test_matches_direct_spearman_and_ends_at_one() -> None:
    runs = noisy_runs()
    runs[2, 5] = np.inf
    curve = averaging_stability(runs)
    reference = [spearmanr(runs[:k].mean(0), runs.mean(0)).statistic for k in range(1, 7)]
    assert curve.shape == (6,) and np.allclose(curve, reference)
    assert curve[-1] == pytest.approx(1.0)


def test_single_run_and_orderings() -> None:
    assert averaging_stability(noisy_runs(r=1)).tolist() == [1.0]
    runs = noisy_runs(r=5)
    curves = averaging_stability_orderings(runs, orderings=7, seed=3)
    assert curves.shape == (7, 5) and np.allclose(curves[:, -1], 1)
    assert np.array_equal(curves, averaging_stability_orderings(runs, orderings=7, seed=3))
    assert curves[:, 0].mean() < curves[:, 2].mean() < 1, "more runs agree better with the full average"


@pytest.mark.parametrize(
    ("runs", "message"),
    [
        (np.ones(5), "shape \\(R, N\\)"),
        (np.array([[1.0, np.nan], [1.0, 2.0]]), "NaN"),
        (np.array([[1.0, 1.0], [1.0, 2.0]]), "first 1 runs is constant"),
    ],
)
def test_invalid_runs(runs: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        averaging_stability(runs)


def test_plot_writes_png(tmp_path: Path) -> None:
    runs = noisy_runs(r=4)
    path = plot_averaging_stability(
        {"el2n": averaging_stability_orderings(runs, orderings=5), "grand": averaging_stability(runs)},
        tmp_path / "stability.png",
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000
