"""EMA and variance updates against a per-example Python loop."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from reference import naive_ema_variance

from datadiet.dynamic.tracker import LossTracker


@pytest.mark.parametrize("alpha", [0.8, 0.3, 1.0])
def test_tracker_matches_loop_with_partial_observations(alpha):
    rng = np.random.default_rng(0)
    n, steps = 40, 6
    observations = []
    tracker = LossTracker(n, alpha)
    for t in range(steps):
        obs = np.full(n, np.nan)
        seen = rng.random(n) < (0.3 if t == 0 else 0.6)
        obs[seen] = rng.gamma(2.0, 1.0, seen.sum())
        observations.append(obs)
        idx = torch.as_tensor(np.flatnonzero(seen))
        tracker.observe(idx, torch.as_tensor(obs[seen], dtype=torch.float32))
        tracker.step()
    ema, var = naive_ema_variance(observations, alpha)
    np.testing.assert_allclose(tracker.ema.numpy(), np.array(ema), rtol=1e-5, equal_nan=True)
    np.testing.assert_allclose(tracker.var.numpy(), np.array(var), rtol=1e-5, atol=1e-6)
    assert all(math.isnan(e) == bool(torch.isnan(tracker.ema[i])) for i, e in enumerate(ema))


def test_full_observation_updates_and_pending():
    tracker = LossTracker(3, 0.8)
    tracker.observe_all(torch.tensor([1.0, 2.0, 3.0]))
    assert not tracker.pending.any()
    tracker.step()
    assert torch.equal(tracker.ema, torch.tensor([1.0, 2.0, 3.0])) and not tracker.var.any()
    tracker.observe(torch.tensor([0]), torch.tensor([2.0]))
    assert tracker.pending.tolist() == [True, False, False]
    tracker.step()
    assert tracker.ema[0].item() == pytest.approx(0.8 * 2 + 0.2 * 1)
    assert tracker.var[0].item() == pytest.approx(0.8 * 1.0)


def test_state_round_trip_and_shape_check():
    tracker = LossTracker(4, 0.5)
    tracker.observe_all(torch.arange(4.0))
    tracker.step()
    other = LossTracker(4, 0.5)
    other.load_state_dict(tracker.state_dict())
    assert torch.equal(other.ema, tracker.ema) and torch.equal(other.latest, tracker.latest)
    with pytest.raises(ValueError, match="shape"):
        LossTracker(5, 0.5).load_state_dict(tracker.state_dict())
