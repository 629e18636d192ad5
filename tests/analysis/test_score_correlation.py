"""Rank correlations against SciPy, and the correlation heatmap."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

from datadiet.analysis import correlation_matrix, plot_correlation_matrix, rank_correlation

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_identical_and_reversed_scores() -> None:
    a = np.random.default_rng(0).random(200)
    assert rank_correlation(a, a) == pytest.approx(1.0)
    assert rank_correlation(a, -a) == pytest.approx(-1.0)
    assert rank_correlation(a, np.exp(3 * a)) == pytest.approx(1.0), "monotone transforms do not matter"


@pytest.mark.parametrize("seed", range(5))
def test_matches_scipy_spearman_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 10, 300).astype(float)
    b = a + rng.normal(scale=3, size=300)
    assert rank_correlation(a, b) == pytest.approx(spearmanr(a, b).statistic, abs=1e-12)


def test_inf_counts_as_the_top_rank() -> None:
    a = np.array([0.0, 1.0, 2.0, np.inf, np.inf])
    b = np.array([0.0, 1.0, 2.0, 1e9, 1e9])
    assert rank_correlation(a, b) == pytest.approx(1.0)


def test_matrix_is_symmetric_with_unit_diagonal() -> None:
    rng = np.random.default_rng(1)
    scores = {"el2n": rng.random(100), "grand": rng.random(100), "forgetting": rng.integers(0, 4, 100)}
    names, m = correlation_matrix(scores)
    assert names == ["el2n", "grand", "forgetting"] and m.shape == (3, 3)
    assert np.allclose(m, m.T) and np.allclose(np.diag(m), 1)
    assert m[0, 2] == pytest.approx(spearmanr(scores["el2n"], scores["forgetting"]).statistic)


@pytest.mark.parametrize(
    ("a", "b", "message"),
    [
        ([1.0, np.nan, 2.0], [1.0, 2.0, 3.0], "NaN"),
        ([1.0, 1.0, 1.0], [1.0, 2.0, 3.0], "constant"),
        ([1.0, 2.0, 3.0], [1.0, 2.0], "same examples"),
    ],
)
def test_invalid_inputs(a: list[float], b: list[float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rank_correlation(np.array(a), np.array(b))


def test_heatmap_writes_png(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    names, m = correlation_matrix({"a": rng.random(50), "b": rng.random(50)})
    path = plot_correlation_matrix(names, m, tmp_path / "figs" / "corr.png")
    assert path.read_bytes()[:8] == PNG_MAGIC and path.stat().st_size > 1000
