"""Table 1: the always set plus a static or per-checkpoint draw from the sometimes set."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from datadiet.dynamic import AlwaysPlusSometimes, DynamicPruner

N = 100
ALWAYS, SOMETIMES = np.arange(0, 20), np.arange(20, 70)


def selections(mode: str, seed: int = 0) -> list[list[int]]:
    policy = AlwaysPlusSometimes(ALWAYS, SOMETIMES, mode=mode, seed=7)
    pruner = DynamicPruner(N, policy=policy, keep=0.4, period=2, seed=seed, class_balanced=False)
    out = []
    for epoch in range(1, 9, 2):
        pruner.set_epoch(epoch)
        out.append(sorted(pruner.selection.tolist()))
    return out


@pytest.mark.parametrize("mode", ["static", "dynamic"])
def test_always_kept_rest_from_sometimes(mode):
    for selection in selections(mode):
        assert len(selection) == 40 and set(ALWAYS) <= set(selection)
        assert set(selection) - set(ALWAYS) <= set(SOMETIMES)


def test_static_draws_once_dynamic_redraws():
    static = selections("static")
    assert all(s == static[0] for s in static)
    assert static == selections("static", seed=3)  # static draw depends on the policy's seed only
    dynamic = selections("dynamic")
    assert len({tuple(s) for s in dynamic}) == len(dynamic)


@pytest.mark.parametrize(
    "always,sometimes,keep,message",
    [
        (ALWAYS, SOMETIMES, 0.1, r"must lie in \[20, 70\]"),
        (ALWAYS, SOMETIMES, 0.8, r"must lie in \[20, 70\]"),
        (ALWAYS, np.arange(10, 40), 0.4, "disjoint"),
        (ALWAYS, np.arange(90, 110), 0.3, r"must be in \[0, 100\)"),
    ],
)
def test_bad_sets_fail_at_construction(always, sometimes, keep, message):
    with pytest.raises(ValueError, match=message):
        DynamicPruner(N, policy=AlwaysPlusSometimes(always, sometimes), keep=keep, period=1, class_balanced=False)


def test_no_class_balanced_variant():
    with pytest.raises(ValueError, match="no class-balanced variant"):
        DynamicPruner(N, policy=AlwaysPlusSometimes(ALWAYS, SOMETIMES), keep=0.4, period=1,
                      labels=torch.zeros(N, dtype=torch.long), class_balanced=True)
    with pytest.raises(ValueError, match="valid: static, dynamic"):
        AlwaysPlusSometimes(ALWAYS, SOMETIMES, mode="fixed")
