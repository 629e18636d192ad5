"""Noise detection: AUC against a pairwise reference, precision and recall at the noise rate, histograms."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from reference import naive_auc

from datadiet.analysis import noise_detection, plot_noise_histograms


def test_perfect_separation() -> None:
    noisy = np.zeros(100, dtype=bool)
    noisy[::10] = True
    scores = np.where(noisy, 5.0, 1.0) + np.linspace(0, 0.1, 100)
    result = noise_detection(scores, noisy)
    assert result == {"num_noisy": 10, "noise_rate": 0.1, "auc": 1.0, "precision": 1.0, "recall": 1.0}


def test_random_scores_give_chance_auc() -> None:
    rng = np.random.default_rng(0)
    noisy = rng.random(20000) < 0.1
    result = noise_detection(rng.random(20000), noisy)
    assert result["auc"] == pytest.approx(0.5, abs=0.02)
    assert result["precision"] == pytest.approx(0.1, abs=0.02)


@pytest.mark.parametrize("seed", range(5))
def test_auc_matches_pairwise_reference_with_ties_and_inf(seed: int) -> None:
    rng = np.random.default_rng(seed)
    noisy = rng.random(150) < 0.2
    scores = rng.integers(0, 6, 150) + 2.0 * noisy
    scores[rng.random(150) < 0.05] = np.inf
    assert noise_detection(scores, noisy)["auc"] == pytest.approx(naive_auc(scores, noisy))


def test_changed_mask_gives_separate_precision_and_recall() -> None:
    noisy = np.zeros(20, dtype=bool)
    noisy[:4] = True
    changed = noisy.copy()
    changed[3] = False
    scores = np.arange(20.0)[::-1]
    scores[3], scores[10] = -1.0, 100.0
    result = noise_detection(scores, noisy, changed_mask=changed)
    assert result["precision"] == result["recall"] == 0.75
    assert result["num_changed"] == 3
    assert result["precision_changed"] == 0.75 and result["recall_changed"] == 1.0
    assert result["auc_changed"] == pytest.approx(naive_auc(scores, changed))


@pytest.mark.parametrize(
    ("scores", "mask", "message"),
    [
        (np.array([1.0, np.nan]), np.array([True, False]), "NaN"),
        (np.array([1.0, 2.0]), np.array([1, 0]), "boolean array"),
        (np.array([1.0, 2.0]), np.array([False, False]), "some but not all"),
    ],
)
def test_invalid_inputs(scores: np.ndarray, mask: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        noise_detection(scores, mask)


def test_histograms_write_png(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    noisy = rng.random(500) < 0.1
    scores = rng.random(500) + noisy
    scores[:3] = np.inf
    path = plot_noise_histograms(scores, noisy, tmp_path / "noise.png", score_name="EL2N")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 1000
