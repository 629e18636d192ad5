"""``datadiet score --method grand --batchnorm batch``: GraNd with BatchNorm on each scoring batch's statistics,
the mode and the batch size stated in the score file."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from datadiet.cli.main import main
from datadiet.scores import ScoreFile

GRAND = ["score", "--dataset", "digits", "--per-class", "10", "--model", "small_cnn", "--width", "0.25", "--method",
         "grand", "--epoch", "0", "--no-progress"]


@pytest.mark.slow  # 100 backward passes of a 100-example batch
def test_the_score_file_states_batch_statistics(tmp_path):
    torch.set_num_threads(1)
    assert main([*GRAND, "--batchnorm", "batch", "--out", str(tmp_path / "batch.npz")]) == 0
    assert main([*GRAND, "--out", str(tmp_path / "running.npz")]) == 0
    batch, running = (ScoreFile.load(tmp_path / f"{name}.npz") for name in ("batch", "running"))
    assert batch.mode == "eval, BatchNorm on the statistics of each batch of 128 consecutive examples"
    assert running.mode == "eval" and batch.method == running.method == "grand"
    assert not np.allclose(batch.mean, running.mean, rtol=1e-2)


def test_the_flag_takes_the_scores_modes():
    from datadiet.cli import score_cmd
    from datadiet.scores.gradient_norm import BATCHNORM_MODES

    assert score_cmd._BATCHNORM == BATCHNORM_MODES
