"""Policy equivalences, the paper's rules against loop references, and hyper-parameter errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from reference import naive_ema_variance, naive_keep_highest

from datadiet.dynamic import PAPER_OPTIONS, DynamicPruner, make_policy

N, EPOCHS = 120, 12


def run(policy, options=None, *, losses=None, seed=0, period=2, **kwargs):
    """Selections at each checkpoint of a pruner fed the same random scoring passes."""
    losses = losses if losses is not None else score_sequence()
    pruner = DynamicPruner(N, policy=policy, policy_options=options, keep=0.25, period=period, seed=seed,
                           epochs=EPOCHS, **{**PAPER_OPTIONS, **kwargs})
    selections = []
    for epoch in range(EPOCHS):
        if pruner.needs_scores(epoch):
            pruner.score_all(losses[epoch])
        pruner.set_epoch(epoch)
        if epoch % period == 0:
            selections.append(sorted(pruner.selection.tolist()))
    return selections


def score_sequence(seed: int = 0) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return [torch.rand(N, generator=g) * (3.0 / (1 + e)) for e in range(EPOCHS)]


def test_epsilon_zero_equals_greedy_ema():
    assert run("egreedy", {"eps": 0.0, "alpha": 0.6}) == run("uncertainty-ema", {"alpha": 0.6})


def test_ucb_with_c_zero_equals_ema():
    assert run("ucb", {"c": 0.0}) == run("uncertainty-ema")


def test_ema_with_alpha_one_equals_uncertainty():
    assert run("uncertainty-ema", {"alpha": 1.0}) == run("uncertainty")


def test_policies_differ_when_they_should():
    assert run("ucb", {"c": 5.0}) != run("uncertainty-ema")
    assert run("egreedy", {"eps": 0.5}) != run("uncertainty-ema")


@pytest.mark.parametrize("policy,options", [("uncertainty-ema", {"alpha": 0.8}), ("ucb", {"alpha": 0.8, "c": 0.7})])
def test_paper_rules_match_loop_reference(policy, options):
    losses = score_sequence(3)
    selections = run(policy, options, losses=losses)
    k = round(0.25 * N)
    for j, selection in enumerate(selections):
        ema, var = naive_ema_variance([losses[2 * i].numpy() for i in range(j + 1)], options["alpha"])
        priority = [e + options.get("c", 0.0) * v for e, v in zip(ema, var)]
        assert selection == naive_keep_highest(priority, k)


def test_random_dynamic_covers_every_example_at_the_expected_rate():
    n, keep, checkpoints = 500, 0.2, 250
    pruner = DynamicPruner(n, policy="random", keep=keep, period=1, seed=1, **PAPER_OPTIONS)
    for epoch in range(checkpoints):
        pruner.set_epoch(epoch)
    counts = pruner.counts.numpy()
    assert pruner.num_checkpoints == checkpoints and counts.sum() == round(keep * n) * checkpoints
    # each example is in a uniform k-subset with probability keep, independently per checkpoint: Binomial counts
    mean, sd = checkpoints * keep, np.sqrt(checkpoints * keep * (1 - keep))
    assert counts.min() > 0
    assert np.abs(counts - mean).max() < 5 * sd
    assert 0.8 < counts.var() / sd**2 < 1.2


def test_selection_is_deterministic_per_seed():
    assert run("egreedy", seed=4) == run("egreedy", seed=4)
    assert run("egreedy", seed=4) != run("egreedy", seed=5)
    assert run("random", seed=4) != run("random", seed=5)


@pytest.mark.parametrize(
    "name,options,message",
    [
        ("nope", {}, "valid: random, uncertainty, uncertainty-ema, egreedy, ucb, infobatch"),
        ("ucb", {"beta": 1}, "valid: alpha, c, variance, clip"),
        ("random", {"alpha": 0.5}, "valid: none"),
        ("uncertainty-ema", {"alpha": 0.0}, r"alpha must be in \(0, 1\]"),
        ("ucb", {"alpha": 1.5}, r"alpha must be in \(0, 1\]"),
        ("egreedy", {"eps": -0.1}, r"eps must be in \[0, 1\]"),
        ("egreedy", {"eps": 1.1}, r"eps must be in \[0, 1\]"),
        ("ucb", {"c": -1.0}, r"c must be in \[0, inf\)"),
        ("ucb", {"variance": "std"}, "valid: raw, normalized"),
        ("ucb", {"clip": 0.0}, r"clip must be in \(0, inf\)"),
        ("infobatch", {"r": 1.0}, r"r must be in \[0, 1\)"),
        ("infobatch", {"r": -0.1}, r"r must be in \[0, 1\)"),
        ("egreedy", {"eps": float("nan")}, "must be a number"),
    ],
)
def test_bad_policies_fail_with_the_valid_choices(name, options, message):
    with pytest.raises(ValueError, match=message):
        make_policy(name, options)
