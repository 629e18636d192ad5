"""Slow, obviously correct reference implementations (oracles) for the tests."""


# --- selection and score-analysis oracles -------------------------------------------------------------------


def naive_count(fraction: float, n: int) -> int:
    """A fraction of n, rounded half up, with the fraction taken exactly as written in decimal."""
    from fractions import Fraction

    return int(Fraction(repr(fraction)) * n + Fraction(1, 2))


def naive_ranked(scores) -> list[int]:
    """Positions sorted by (score, position) with Python's tuple sort."""
    return [i for _, i in sorted((float(s), i) for i, s in enumerate(scores))]


def naive_keep_highest(scores, k: int) -> list[int]:
    return sorted(naive_ranked(scores)[len(scores) - k:])


def naive_keep_lowest(scores, k: int) -> list[int]:
    return sorted(naive_ranked(scores)[:k])


def naive_window(scores, offset: float, size: float) -> list[int]:
    """Drop the lowest offset fraction, keep the next size fraction (moved down if rounding overshoots)."""
    n = len(scores)
    count = naive_count(size, n)
    start = min(naive_count(offset, n), n - count)
    return sorted(naive_ranked(scores)[start:start + count])


def naive_largest_remainder(sizes: list[int], k: int) -> list[int]:
    """Hamilton apportionment of k seats by exact fractions; ties go to the earlier class."""
    from fractions import Fraction

    total = sum(sizes)
    quotas = [Fraction(k * s, total) for s in sizes]
    seats = [int(q) for q in quotas]
    order = sorted(range(len(sizes)), key=lambda c: (-(quotas[c] - seats[c]), c))
    for c in order[: k - sum(seats)]:
        seats[c] += 1
    return seats


def naive_auc(scores, positive) -> float:
    """ROC AUC as the probability that a positive outscores a negative (ties count one half), by all pairs."""
    pos = [s for s, p in zip(scores, positive) if p]
    neg = [s for s, p in zip(scores, positive) if not p]
    wins = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a in pos for b in neg)
    return wins / (len(pos) * len(neg))


# --- per-example score oracles ------------------------------------------------------------------------------


def loop_grad_norms(model, x, y):
    """Per-example loss-gradient norms by one backward pass per example, in evaluation mode.

    For each example: ``model.zero_grad()``, ``cross_entropy(model(x_i), y_i).backward()``, then the square root of
    the sum of squared ``.grad`` over every parameter that received one. Returns a list of floats.
    """
    import torch
    import torch.nn.functional as F

    model.eval()
    norms = []
    for i in range(len(y)):
        model.zero_grad(set_to_none=True)
        F.cross_entropy(model(x[i : i + 1]), y[i : i + 1]).backward()
        total = sum(float((p.grad.double() ** 2).sum()) for p in model.parameters() if p.grad is not None)
        norms.append(total**0.5)
    model.zero_grad(set_to_none=True)
    return norms


def naive_forgetting(presentations, num_examples: int) -> list[float]:
    """Forgetting events by walking the presentations one example at a time.

    ``presentations`` is a sequence of ``(indices, correct)`` batches in training order. An event is a presentation
    classified incorrectly right after a presentation of the same example classified correctly. Examples never
    classified correctly score ``inf``; examples never presented are left as ``None``.
    """
    last = [None] * num_examples
    events = [0] * num_examples
    learned = [False] * num_examples
    for indices, correct in presentations:
        for i, c in zip(list(indices), list(correct)):
            i, c = int(i), bool(c)
            if last[i] is True and not c:
                events[i] += 1
            learned[i] = learned[i] or c
            last[i] = c
    return [None if last[i] is None else float(events[i]) if learned[i] else float("inf") for i in range(num_examples)]


# --- dynamic pruning oracles --------------------------------------------------------------------------------


def naive_ema_variance(observations, alpha: float):
    """EMA and variance of each example over checkpoints, one example and one checkpoint at a time.

    ``observations`` is a list (one entry per checkpoint) of per-example losses, NaN where an example has not been
    observed yet; an example observed before keeps its last observed loss. The first observed loss sets the EMA,
    variance 0; afterwards ``var = (1 - a) var + a (s - ema)^2`` with the previous EMA, then
    ``ema = a s + (1 - a) ema``. Returns two lists of floats (NaN = never observed).
    """
    import math

    n = len(observations[0])
    last = [math.nan] * n
    ema = [math.nan] * n
    var = [0.0] * n
    for obs in observations:
        for i in range(n):
            if not math.isnan(float(obs[i])):
                last[i] = float(obs[i])
            s = last[i]
            if math.isnan(s):
                continue
            if math.isnan(ema[i]):
                ema[i], var[i] = s, 0.0
            else:
                var[i] = (1 - alpha) * var[i] + alpha * (s - ema[i]) ** 2
                ema[i] = alpha * s + (1 - alpha) * ema[i]
    return ema, var


def naive_below_mean(scores) -> list[int]:
    """Positions whose score is strictly below the mean of the non-NaN scores, by a Python loop."""
    import math

    seen = [float(s) for s in scores if not math.isnan(float(s))]
    if not seen:
        return []
    mean = sum(seen) / len(seen)
    return [i for i, s in enumerate(scores) if not math.isnan(float(s)) and float(s) < mean]


def loop_cross_entropy(model, x, y) -> list[float]:
    """Per-example cross-entropy, one example at a time, in evaluation mode without gradients."""
    import torch
    import torch.nn.functional as F

    model.eval()
    with torch.no_grad():
        return [float(F.cross_entropy(model(x[i : i + 1]), y[i : i + 1])) for i in range(len(y))]



# --- training-dynamics oracles ------------------------------------------------------------------------------


def loop_logit_kernel(model, x):
    """Psi Psi^T with Psi built row by row: one backward pass per logit ``f_k(x_i)``, in evaluation mode.

    Row ``i * K + k`` of Psi is the gradient of logit k of example i with respect to every parameter, flattened
    and concatenated in ``model.parameters()`` order. Returns a float64 ``(m K, m K)`` tensor.
    """
    import torch

    model.eval()
    rows = []
    for i in range(len(x)):
        num_classes = model(x[i : i + 1]).shape[1]
        for k in range(num_classes):
            model.zero_grad(set_to_none=True)
            model(x[i : i + 1])[0, k].backward()
            rows.append(torch.cat([p.grad.flatten().double() for p in model.parameters()]))
    model.zero_grad(set_to_none=True)
    psi = torch.stack(rows)
    return psi @ psi.T


def loop_interpolation_errors(make_model, state_a, state_b, x, y, alphas) -> list[float]:
    """Error of ``(1 - a) w_a + a w_b`` for each a: a fresh model per a, weights set entry by entry, one example
    at a time. For networks without BatchNorm."""
    import torch

    errors = []
    for a in alphas:
        model = make_model()
        with torch.no_grad():
            for name, p in model.named_parameters():
                p.copy_((1 - a) * state_a[name] + a * state_b[name])
        model.eval()
        wrong = sum(int(model(x[i : i + 1]).argmax(1).item() != int(y[i])) for i in range(len(y)))
        errors.append(wrong / len(y))
    return errors
