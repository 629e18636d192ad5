"""Dynamics scores against slow oracles written from the papers' formulas, on a hand-made recording with a gap;
too-short recordings; and forgetting from a recording against the forgetting counter in a real training loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from datadiet.scores import ForgettingCounter
from datadiet.scores.dynamics import (
    aum, data_maps_confidence, data_maps_correctness, data_maps_variability, dual, dyn_unc, el2n_at, entropy,
    forgetting_from, least_confidence, tdds,
)
from datadiet.scores.recording import TrainingDynamics
from reference import (
    naive_aum, naive_data_maps, naive_dual, naive_dyn_unc, naive_el2n_at, naive_entropy, naive_forgetting,
    naive_least_confidence, naive_tdds,
)

LABELS = [0, 1, 2, 1]
# LOGITS[epoch][example]: 4 examples, 6 epochs, 3 classes. Example 0 is learned early and stays learned; example 1
# flips between right and wrong; example 2 is never classified correctly and misses epoch 1; example 3 is learned
# late and misses epoch 3.
LOGITS = [
    [[0.5, 0.2, 0.1], [0.9, 0.1, -0.3], [1.0, 0.0, 0.2], [0.1, 0.0, 0.4]],
    [[1.5, 0.1, -0.2], [0.1, 0.8, 0.0], None, [0.6, 0.2, 0.3]],
    [[2.2, -0.4, 0.0], [1.1, 0.2, 0.3], [0.4, 1.3, 0.0], [0.0, 0.5, 0.2]],
    [[2.9, -0.5, -0.8], [0.2, 1.4, -0.1], [1.2, 0.3, 0.9], None],
    [[3.1, -1.0, -0.7], [0.9, 0.4, 0.1], [0.3, 2.0, 1.1], [-0.2, 1.9, 0.4]],
    [[3.6, -1.2, -1.1], [0.0, 2.1, 0.5], [1.8, 0.1, 1.5], [-0.4, 2.6, 0.0]],
]
ATOL = 1e-3  # the recording keeps float16 values (measured differences are below 6e-4)


def _record(logits=LOGITS, labels=LABELS, keep_probabilities: bool = True):
    """Feed ``logits`` epoch by epoch in a shuffled order, skipping missing presentations."""
    dynamics = TrainingDynamics(len(labels), keep_probabilities=keep_probabilities)
    for epoch, rows in enumerate(logits):
        order = [i for i in (3, 0, 2, 1) if rows[i] is not None]
        dynamics.update(torch.tensor(order), torch.tensor([rows[i] for i in order]),
                        torch.tensor([labels[i] for i in order]), epoch)
    return dynamics.compute()


@pytest.fixture(scope="module")
def recording():
    return _record()


@pytest.mark.parametrize("score, oracle", [
    (aum, lambda: naive_aum(LOGITS, LABELS)),
    (data_maps_confidence, lambda: naive_data_maps(LOGITS, LABELS)[0]),
    (data_maps_variability, lambda: naive_data_maps(LOGITS, LABELS)[1]),
    (data_maps_correctness, lambda: naive_data_maps(LOGITS, LABELS)[2]),
    (lambda r: el2n_at(r, 2), lambda: naive_el2n_at(LOGITS, LABELS, 2)),
    (lambda r: entropy(r), lambda: naive_entropy(LOGITS, 5)),
    (lambda r: entropy(r, 0), lambda: naive_entropy(LOGITS, 0)),
    (lambda r: least_confidence(r), lambda: naive_least_confidence(LOGITS, 5)),
    (lambda r: least_confidence(r, 2), lambda: naive_least_confidence(LOGITS, 2)),
    (lambda r: dyn_unc(r, window=3), lambda: naive_dyn_unc(LOGITS, LABELS, 3)),
    (lambda r: dyn_unc(r, window=6), lambda: naive_dyn_unc(LOGITS, LABELS, 6)),
    (lambda r: dual(r, window=3), lambda: naive_dual(LOGITS, LABELS, 3)),
    (lambda r: tdds(r, window=3, decay=0.9), lambda: naive_tdds(LOGITS, LABELS, 3, 0.9)),
    (lambda r: tdds(r, window=4, decay=0.5), lambda: naive_tdds(LOGITS, LABELS, 4, 0.5)),
])
def test_each_score_matches_its_oracle_on_a_hand_made_recording(recording, score, oracle):
    got = score(recording)
    assert got.dtype == np.float64 and got.shape == (len(LABELS),)
    np.testing.assert_allclose(got, oracle(), rtol=1e-2, atol=ATOL)


def test_scores_over_the_first_epochs_equal_scores_of_the_shorter_recording(recording):
    short = _record(LOGITS[:5])
    for score in (aum, data_maps_confidence, data_maps_variability, data_maps_correctness):
        np.testing.assert_array_equal(score(recording, epochs=5), score(short))
    np.testing.assert_array_equal(dyn_unc(recording, window=3, epochs=5), dyn_unc(short, window=3))
    np.testing.assert_array_equal(dual(recording, window=3, epochs=5), dual(short, window=3))
    np.testing.assert_array_equal(tdds(recording, window=3, epochs=5), tdds(short, window=3))


def test_forgetting_from_a_recording_with_a_gap_matches_the_walk_over_presentations(recording):
    presentations = [([i for i in range(4) if rows[i] is not None],
                      [rows[i].index(max(rows[i])) == LABELS[i] for i in range(4) if rows[i] is not None])
                     for rows in LOGITS]
    got = forgetting_from(recording)
    assert got.tolist() == naive_forgetting(presentations, 4) == [0.0, 2.0, math.inf, 0.0]


def test_directions_follow_higher_is_harder(recording):
    # example 0 is learned with a growing margin, example 2 is never learned
    for score in (aum(recording), data_maps_confidence(recording), data_maps_correctness(recording),
                  least_confidence(recording)):
        assert score[2] > score[0]


@pytest.mark.parametrize("call, message", [
    (lambda r: dyn_unc(r, window=7), "dyn_unc with window 7 needs 7 recorded epochs, the recording has 6"),
    (lambda r: dual(r, epochs=30), "dual with epochs=30 needs 30 recorded epochs, the recording has 6"),
    (lambda r: tdds(r, window=8), "tdds with window 8 needs 8 recorded epochs, the recording has 6"),
    (lambda r: dyn_unc(r, window=4, epochs=3), "dyn_unc with window 4 needs at least 4 epochs, got epochs=3"),
    (lambda r: aum(r, epochs=7), "aum with epochs=7 needs 7 recorded epochs, the recording has 6"),
    (lambda r: el2n_at(r, 6), "el2n_at: epoch 6 is not recorded (the recording has 6 epochs"),
])
def test_a_score_needing_more_epochs_than_recorded_says_how_many(recording, call, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        call(recording)


def test_an_empty_recording_says_what_it_needs():
    empty = TrainingDynamics(3).compute()
    with pytest.raises(ValueError, match="^aum needs 1 recorded epoch, the recording has 0$"):
        aum(empty)
    with pytest.raises(ValueError, match="^dyn_unc with window 10 needs 10 recorded epochs, the recording has 0$"):
        dyn_unc(empty)


@pytest.mark.parametrize("call", [lambda r: el2n_at(r, 0), tdds, entropy])
def test_scores_needing_probabilities_say_so(call):
    with pytest.raises(ValueError, match="keep_probabilities=True"):
        call(_record(keep_probabilities=False))


def test_scores_without_probabilities_work_on_the_compact_recording(recording):
    compact = _record(keep_probabilities=False)
    np.testing.assert_array_equal(least_confidence(compact), least_confidence(recording))
    np.testing.assert_array_equal(dyn_unc(compact, window=3), dyn_unc(recording, window=3))


@pytest.mark.parametrize("call", [lambda r: el2n_at(r, 1), lambda r: entropy(r, 3), lambda r: least_confidence(r, 1)])
def test_a_single_epoch_score_names_examples_missing_in_that_epoch(recording, call):
    with pytest.raises(ValueError, match=r"1 of 4 examples have no presentation in epoch \d \(positions \[[23]\]\)"):
        call(recording)


def test_bad_windows_and_decay_are_one_line_errors(recording):
    for call in (lambda: dyn_unc(recording, window=1), lambda: tdds(recording, window=2),
                 lambda: tdds(recording, window=3, decay=0.0), lambda: aum(recording, epochs=0)):
        with pytest.raises(ValueError) as error:
            call()
        assert "\n" not in str(error.value)


def test_forgetting_from_the_recording_equals_the_counter_in_a_real_training_loop():
    """A plain PyTorch loop over a small synthetic dataset, every example once per epoch in shuffled batches."""
    torch.manual_seed(0)
    n, classes, epochs = 96, 3, 8
    x = torch.randn(n, 5)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
    y[:12] = torch.randint(0, classes, (12,))  # noisy labels: some are forgotten, some never learned
    model = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.ReLU(), torch.nn.Linear(16, classes))
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    counter, dynamics = ForgettingCounter(n), TrainingDynamics(n, epochs=epochs)
    for epoch in range(epochs):
        for positions in torch.randperm(n).split(16):
            logits = model(x[positions])
            loss = F.cross_entropy(logits, y[positions])
            opt.zero_grad()
            loss.backward()
            opt.step()
            counter.update(positions, logits.argmax(1) == y[positions])
            dynamics.update(positions, logits.detach(), y[positions], epoch)
    expected, got = counter.compute(), forgetting_from(dynamics.compute())
    np.testing.assert_array_equal(got, expected)
    assert (expected > 0).any() and (expected == 0).any()
