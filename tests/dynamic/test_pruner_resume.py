"""A run resumed from a state dict continues with exactly the selections of the uninterrupted run."""

from __future__ import annotations

import io

import pytest
import torch

from datadiet.dynamic import DynamicPruner

N, EPOCHS, STOP = 90, 10, 4
LABELS = torch.arange(N) % 3


def make(policy: str) -> DynamicPruner:
    if policy == "infobatch":
        return DynamicPruner(N, policy="infobatch", period=1, epochs=EPOCHS, seed=2)
    return DynamicPruner(N, policy=policy, keep=0.3, period=2, epochs=EPOCHS, seed=2, labels=LABELS)


def run(pruner: DynamicPruner, epochs: range, source: str) -> list[tuple[list[int], list[float]]]:
    """Each epoch's positions and loss weights, fed with losses that depend only on (epoch, position)."""
    out = []
    for epoch in epochs:
        losses = torch.sin(torch.arange(N) * (epoch + 1.0)) + 1.5
        if source == "pass" and pruner.needs_scores(epoch):
            pruner.score_all(losses)
        pruner.set_epoch(epoch)
        positions = pruner.epoch_positions()
        if source == "batch":
            pruner.update(positions, losses[positions])
        out.append((positions.tolist(), pruner.loss_weights(positions).tolist()))
    return out


def round_trip(state: dict) -> dict:
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer, weights_only=True)


@pytest.mark.parametrize("policy", ["ucb", "egreedy", "random", "infobatch"])
@pytest.mark.parametrize("source", ["pass", "batch"])
def test_resume_reproduces_remaining_selections(policy, source):
    full = run(make(policy), range(EPOCHS), source)
    first = make(policy)
    head = run(first, range(STOP), source)
    resumed = make(policy)
    resumed.load_state_dict(round_trip(first.state_dict()))
    tail = run(resumed, range(STOP, EPOCHS), source)
    assert head + tail == full
    assert torch.equal(resumed.counts, make_counts(policy, source))


def make_counts(policy: str, source: str) -> torch.Tensor:
    pruner = make(policy)
    run(pruner, range(EPOCHS), source)
    return pruner.counts


def test_resume_mid_period_keeps_the_current_selection():
    first = make("ucb")
    run(first, range(3), "batch")  # epoch 2 is inside the period that started at checkpoint 1
    resumed = make("ucb")
    resumed.load_state_dict(round_trip(first.state_dict()))
    assert not resumed.needs_scores(2)
    resumed.set_epoch(2)
    assert resumed.epoch_positions().tolist() == first.epoch_positions().tolist()


def test_state_from_another_configuration_is_refused():
    state = make("ucb").state_dict()
    other = DynamicPruner(N, policy="ucb", keep=0.4, period=2, epochs=EPOCHS, seed=2, labels=LABELS)
    with pytest.raises(ValueError, match="k: saved 27, now 36"):
        other.load_state_dict(state)
    with pytest.raises(ValueError, match="state format"):
        other.load_state_dict({"format": 99})
