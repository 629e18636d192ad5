"""Pure selection rules on score tensors: which k examples to train on next.

Every function takes a 1-D ``priority`` tensor over candidate examples (**higher = more worth training on**) and
returns **indices into that tensor**. Examples whose priority is NaN (never scored) rank above every scored
example; ties at the boundary are broken uniformly at random with ``generator``, so a selection is a
deterministic function of the scores and the generator's seed.
"""

from __future__ import annotations

import torch

from datadiet.selection.budget import fraction_count

__all__ = ["epsilon_greedy", "random_k", "top_k", "ucb_over_runs", "ucb_priority", "VARIANCE_MODES"]

VARIANCE_MODES = ("raw", "normalized")


def random_k(n: int, k: int, generator: torch.Generator) -> torch.Tensor:
    """``k`` of ``range(n)`` uniformly without replacement, shape ``(k,)``, int64."""
    return torch.randperm(n, generator=generator)[:k]


def top_k(priority: torch.Tensor, k: int, generator: torch.Generator) -> torch.Tensor:
    """Indices of the ``k`` highest priorities, shape ``(k,)``; NaN ranks first.

    Every priority above the k-th largest is taken; among those equal to it, a uniformly random subset fills
    the remaining places (drawn from ``generator`` only when the tie has to be broken).
    """
    if k == 0:
        return torch.empty(0, dtype=torch.long)
    key = torch.nan_to_num(priority, nan=float("inf"))
    threshold = torch.topk(key, k, sorted=False).values.min()
    above = (key > threshold).nonzero().squeeze(1)
    tied = (key == threshold).nonzero().squeeze(1)
    if len(above) + len(tied) > k:
        tied = tied[random_k(len(tied), k - len(above), generator)]
    return torch.cat([above, tied])


def epsilon_greedy(priority: torch.Tensor, k: int, eps: float, generator: torch.Generator) -> torch.Tensor:
    """``k - e`` highest priorities plus ``e`` drawn uniformly from the rest, ``(k,)``.

    ``e = eps k`` rounded half up, as every size in the library (:func:`~datadiet.selection.budget.fraction_count`:
    ``eps = 0.25`` of ``k = 10`` explores 3). With ``eps = 0`` this is exactly :func:`top_k` with the same generator.
    """
    explore = fraction_count(eps, k)
    greedy = top_k(priority, k - explore, generator)
    if explore == 0:
        return greedy
    rest = torch.ones(len(priority), dtype=torch.bool)
    rest[greedy] = False
    others = rest.nonzero().squeeze(1)
    return torch.cat([greedy, others[random_k(len(others), explore, generator)]])


def ucb_priority(
    ema: torch.Tensor, var: torch.Tensor, c: float, *, variance: str = "raw", clip: float | None = None
) -> torch.Tensor:
    """Upper-confidence priority ``ema + c * bonus``, shape ``(N,)``: high mean loss or high loss variance.

    ``variance="raw"`` is the paper's rule (bonus = var). ``"normalized"`` rescales the variance to the mean
    loss, bonus = var / mean(var) * mean(ema), so that ``c`` weighs exploration against the loss whatever the
    loss scale (early-training variances of ~100 otherwise swamp the loss term). ``clip`` caps the bonus,
    in the bonus's own units (loss^2 for raw, loss for normalized). NaN entries (never scored) stay NaN.
    """
    if variance not in VARIANCE_MODES:
        raise ValueError(f"unknown variance mode {variance!r}; valid: {', '.join(VARIANCE_MODES)}")
    bonus = var
    if variance == "normalized":
        scored = ~torch.isnan(ema)
        mean_var = var[scored].mean() if bool(scored.any()) else var.new_zeros(())
        scale = ema[scored].mean() / mean_var if float(mean_var) > 0 else var.new_zeros(())
        bonus = var * scale
    if clip is not None:
        bonus = bonus.clamp(max=clip)
    return ema + c * bonus


def ucb_over_runs(runs: torch.Tensor, c: float) -> torch.Tensor:
    """UCB applied once to static scores of R independent runs ``(R, N)``: ``mean + c * var`` over runs, ``(N,)``.

    Paper 2, App. B ("EL2N + UCB"). The spread is the **variance** over runs, as the bonus of the paper's UCB is a
    variance (not a standard deviation), and the population variance (divided by R, not R - 1), as the UCB
    variance is a mean of squared deviations; one run has variance 0. High = kept.
    """
    return runs.mean(0) + c * runs.var(0, unbiased=False)
