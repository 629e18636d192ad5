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


def loop_cross_entropy(model, x, y, autocast_dtype=None) -> list[float]:
    """Per-example cross-entropy, one example at a time, in evaluation mode without gradients; with
    ``autocast_dtype`` the forward pass runs under CPU autocast to it, the loss taken in float32."""
    import contextlib

    import torch
    import torch.nn.functional as F

    model.eval()
    cast = torch.autocast("cpu", dtype=autocast_dtype) if autocast_dtype is not None else contextlib.nullcontext()
    with torch.no_grad(), cast:
        return [float(F.cross_entropy(model(x[i : i + 1]).float(), y[i : i + 1])) for i in range(len(y))]



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


# --- any data: one example at a time, tensor or dict inputs, models returning logits or .logits ---------------


def _example_logits(model, inputs):
    """Logits ``(1, K)`` of one example: ``inputs`` is a tensor (no batch axis) or a dict of them.

    Floating inputs are cast to the dtype of the model's parameters (so a float64 copy of a model runs in float64);
    integer inputs such as token ids are left alone. A dict is passed as ``model(**inputs)``. The output may be
    the logits or anything with a ``logits`` attribute or key (a Hugging Face model output).
    """
    dtype = next(model.parameters()).dtype

    def one(t):
        return (t.to(dtype) if t.dtype.is_floating_point else t)[None]

    out = model(**{k: one(v) for k, v in inputs.items()}) if isinstance(inputs, dict) else model(one(inputs))
    if not hasattr(out, "shape"):
        out = out["logits"] if isinstance(out, dict) else out.logits
    return out


def loop_example_el2n(model, examples) -> list[float]:
    """EL2N ``||softmax(f(x_i)) - onehot(y_i)||_2`` of each ``(inputs, label)`` in ``examples``, one example at a
    time, in evaluation mode without gradients, summed by a Python loop over the classes."""
    import math

    import torch

    model.eval()
    out = []
    with torch.no_grad():
        for inputs, label in examples:
            probs = _example_logits(model, inputs)[0].double().softmax(0).tolist()
            out.append(math.sqrt(sum((p - (k == int(label))) ** 2 for k, p in enumerate(probs))))
    return out


def loop_example_losses(model, examples) -> list[float]:
    """Cross-entropy of each ``(inputs, label)`` in ``examples``, one example at a time, in evaluation mode."""
    import torch
    import torch.nn.functional as F

    model.eval()
    with torch.no_grad():
        return [float(F.cross_entropy(_example_logits(model, inputs).double(), torch.tensor([int(label)])))
                for inputs, label in examples]


def loop_example_grad_norms(model, examples) -> list[float]:
    """Loss-gradient norm over every parameter of each ``(inputs, label)`` in ``examples``: one backward pass per
    example in evaluation mode, like :func:`loop_grad_norms`, for tensor or dict inputs."""
    import torch
    import torch.nn.functional as F

    model.eval()
    norms = []
    for inputs, label in examples:
        model.zero_grad(set_to_none=True)
        F.cross_entropy(_example_logits(model, inputs), torch.tensor([int(label)])).backward()
        total = sum(float((p.grad.double() ** 2).sum()) for p in model.parameters() if p.grad is not None)
        norms.append(total**0.5)
    model.zero_grad(set_to_none=True)
    return norms


# --- training-dynamics score oracles: one example and one epoch at a time, from the papers' formulas ---------
# ``logits[e][i]`` is example i's logit list at epoch e, or None where it was not presented; ``labels[i]`` its label.


def _naive_softmax(z) -> list[float]:
    import math

    top = max(z)
    exps = [math.exp(v - top) for v in z]
    return [v / sum(exps) for v in exps]


def _naive_series(logits, labels, i: int, value) -> list:
    """``value(z, y)`` for each epoch's logits of example i, None where it was not presented."""
    return [None if epoch[i] is None else value(list(epoch[i]), int(labels[i])) for epoch in logits]


def _naive_mean(values) -> float:
    return sum(values) / len(values)


def _naive_sample_std(values) -> float:
    m = _naive_mean(values)
    return (sum((v - m) ** 2 for v in values) / (len(values) - 1)) ** 0.5


def naive_aum(logits, labels) -> list[float]:
    """-AUM (Pleiss et al. 2020): minus the mean over presented epochs of ``z_y - max_{k != y} z_k``."""
    def margin(z, y):
        return z[y] - max(v for k, v in enumerate(z) if k != y)

    return [-_naive_mean([m for m in _naive_series(logits, labels, i, margin) if m is not None])
            for i in range(len(labels))]


def naive_data_maps(logits, labels) -> tuple[list[float], list[float], list[float]]:
    """Data Maps (Swayamdipta et al. 2020) over presented epochs: (1 - confidence, variability with 1/E,
    1 - correctness), confidence = mean p_y, correctness = fraction of epochs whose argmax is y."""
    confidence, variability, correctness = [], [], []
    for i in range(len(labels)):
        p = [v for v in _naive_series(logits, labels, i, lambda z, y: _naive_softmax(z)[y]) if v is not None]
        ok = [v for v in _naive_series(logits, labels, i, lambda z, y: z.index(max(z)) == y) if v is not None]
        mu = _naive_mean(p)
        confidence.append(1 - mu)
        variability.append(_naive_mean([(v - mu) ** 2 for v in p]) ** 0.5)
        correctness.append(1 - sum(ok) / len(ok))
    return confidence, variability, correctness


def naive_el2n_at(logits, labels, epoch: int) -> list[float]:
    """``||softmax(z) - onehot(y)||_2`` at one epoch, summed over classes by a loop."""
    return [sum((p - (k == int(labels[i]))) ** 2 for k, p in enumerate(_naive_softmax(logits[epoch][i]))) ** 0.5
            for i in range(len(labels))]


def naive_entropy(logits, epoch: int) -> list[float]:
    import math

    return [-sum(p * math.log(p) for p in _naive_softmax(z) if p > 0) for z in logits[epoch]]


def naive_least_confidence(logits, epoch: int) -> list[float]:
    return [1 - max(_naive_softmax(z)) for z in logits[epoch]]


def _naive_windows(logits, labels, window: int, statistic) -> list[float]:
    """Mean over sliding windows of ``statistic(p_y values present in the window)``, windows with < 2 skipped."""
    scores = []
    for i in range(len(labels)):
        p = _naive_series(logits, labels, i, lambda z, y: _naive_softmax(z)[y])
        stats = []
        for k in range(len(p) - window + 1):
            present = [v for v in p[k : k + window] if v is not None]
            if len(present) >= 2:
                stats.append(statistic(present))
        scores.append(_naive_mean(stats))
    return scores


def naive_dyn_unc(logits, labels, window: int) -> list[float]:
    """Dyn-Unc (He et al. 2023): mean over windows of J epochs of the sample standard deviation (J - 1) of p_y."""
    return _naive_windows(logits, labels, window, _naive_sample_std)


def naive_dual(logits, labels, window: int) -> list[float]:
    """DUAL (Cho et al. 2025): mean over windows of std(p_y) * (1 - mean(p_y))."""
    return _naive_windows(logits, labels, window, lambda p: _naive_sample_std(p) * (1 - _naive_mean(p)))


def naive_tdds(logits, labels, window: int, decay: float) -> list[float]:
    """TDDS (Zhang et al. 2024): g_t = sum_k |p_k(t) log((p_k(t) + 1e-8) / (p_k(t-1) + 1e-8))| for presented t - 1
    and t; per window of J epochs, R_k = ||g - mean g||_2 over its J - 1 contributions (from the present ones,
    scaled by sqrt((J - 1) / present), windows with < 2 skipped); score = sum_k decay (1 - decay)^(K - k) R_k,
    K = T - J, over usable windows, scaled by (all weights) / (usable weights)."""
    import math

    scores = []
    for i in range(len(labels)):
        g = []
        for t in range(1, len(logits)):
            if logits[t][i] is None or logits[t - 1][i] is None:
                g.append(None)
                continue
            now, before = _naive_softmax(logits[t][i]), _naive_softmax(logits[t - 1][i])
            g.append(sum(abs(a * (math.log(a + 1e-8) - math.log(b + 1e-8))) for a, b in zip(now, before)))
        last = len(logits) - window
        total, usable, weights = 0.0, 0.0, 0.0
        for k in range(last + 1):
            w = decay * (1 - decay) ** (last - k)
            weights += w
            present = [v for v in g[k : k + window - 1] if v is not None]
            if len(present) >= 2:
                m = _naive_mean(present)
                total += w * (sum((v - m) ** 2 for v in present) * (window - 1) / len(present)) ** 0.5
                usable += w
        scores.append(total / usable * weights)
    return scores


# --- training-dynamics oracles (paper 1, Sec. 5) ------------------------------------------------------------


def naive_error_barrier(errors, alphas) -> float:
    """Paper 1, eq. 5: the largest ``err(a) - ((1 - a) err(0) + a err(1))`` over the points of the path, one point
    at a time (``errors[0]`` is at a = 0, ``errors[-1]`` at a = 1)."""
    gaps = []
    for a, e in zip(alphas, errors):
        gaps.append(float(e) - ((1 - float(a)) * float(errors[0]) + float(a) * float(errors[-1])))
    return max(gaps)


def naive_same_epoch_velocities(make_model, states, x, y, ranks, window: int) -> tuple[list, list]:
    """Fig. 3 by brute force, curve t from ``states[t]`` to ``states[t + 1]``: the EL2N of every example under
    ``states[t]`` (:func:`loop_example_el2n`), positions sorted by (score, position), the ``window`` positions from
    each starting rank, and the velocity ``1 - <K_t, K_t+1>_F / (||K_t||_F ||K_t+1||_F)`` of their
    :func:`loop_logit_kernel` at ``states[t]`` and ``states[t + 1]``. Returns (windows[t][r], velocity[t][r])."""
    def loaded(state):
        model = make_model()
        model.load_state_dict(state)
        return model

    windows, velocities = [], []
    for t in range(len(states) - 1):
        scores = loop_example_el2n(loaded(states[t]), zip(x, y))
        ranked = naive_ranked(scores)
        windows.append([ranked[r : r + window] for r in ranks])
        row = []
        for positions in windows[-1]:
            a = loop_logit_kernel(loaded(states[t]), x[positions])
            b = loop_logit_kernel(loaded(states[t + 1]), x[positions])
            row.append(1 - float((a * b).sum()) / float(a.norm() * b.norm()))
        velocities.append(row)
    return windows, velocities


# --- embedding-based selection oracles ----------------------------------------------------------------------


def naive_distance(a, b) -> float:
    """Euclidean distance by the definition, sqrt(sum_d (a_d - b_d)^2)."""
    return sum((float(u) - float(v)) ** 2 for u, v in zip(a, b)) ** 0.5


def naive_kcenter(x, count: int, start: int) -> list[int]:
    """k-center greedy (Sener & Savarese 2018) with the full distance matrix: from ``start``, repeatedly the row
    farthest from its nearest chosen row (ties: the first row), in order of selection."""
    d = [[naive_distance(a, b) for b in x] for a in x]
    chosen = [start]
    while len(chosen) < count:
        rest = [i for i in range(len(x)) if i not in chosen]
        chosen.append(max(rest, key=lambda i: (min(d[i][j] for j in chosen), -i)))
    return chosen


def naive_herding(x, count: int) -> list[int]:
    """Herding (Welling 2009): each step the row that brings the chosen rows' mean nearest the mean of all rows,
    || mu - (sum_S + x_i) / (t + 1) ||, ties to the first row; in order of selection. Exact rational arithmetic
    (the embeddings' floats taken exactly), so that equal distances tie."""
    from fractions import Fraction

    rows = [[Fraction(float(v)) for v in r] for r in x]
    n, dim = len(rows), len(rows[0])
    mu = [sum(r[d] for r in rows) / n for d in range(dim)]
    chosen: list[int] = []
    def gap(i, size):
        mean = [(sum(rows[j][d] for j in chosen) + rows[i][d]) / size for d in range(dim)]
        return sum((m - v) ** 2 for m, v in zip(mu, mean))

    for t in range(count):
        rest = [i for i in range(n) if i not in chosen]
        chosen.append(min(rest, key=lambda i: (gap(i, t + 1), i)))
    return chosen


def naive_knn(x, k: int) -> list[list[int]]:
    """The k nearest other rows of each row, by (distance, row number)."""
    return [sorted((j for j in range(len(x)) if j != i), key=lambda j: (naive_distance(x[i], x[j]), j))[:k]
            for i in range(len(x))]


def naive_facility_similarity(x, k: int) -> list[list[float]]:
    """Dense matrix of the sparse facility-location similarity: sim(i, j) = d_max - d(i, j) for j = i or one of
    the k nearest neighbours of i, else 0; d_max = the largest neighbour distance."""
    knn = naive_knn(x, k)
    d_max = max((naive_distance(x[i], x[j]) for i in range(len(x)) for j in knn[i]), default=0.0)
    return [[d_max - naive_distance(x[i], x[j]) if j == i or j in knn[i] else 0.0 for j in range(len(x))]
            for i in range(len(x))]


def naive_facility_value(sim, chosen) -> float:
    """F(S) = sum_i max_{j in S} sim(i, j), with the max over no element 0; summed exactly (math.fsum), so that
    equal gains tie whatever the order of the terms."""
    import math

    return math.fsum(max((row[j] for j in chosen), default=0.0) for row in sim)


def naive_facility_greedy(sim, count: int) -> list[int]:
    """Plain greedy on F: each step evaluates F(S + j) for every j not in S and adds the best (ties: first)."""
    chosen: list[int] = []
    for _ in range(count):
        rest = [j for j in range(len(sim)) if j not in chosen]
        chosen.append(max(rest, key=lambda j: (naive_facility_value(sim, chosen + [j]), -j)))
    return chosen


def naive_d2(scores, x, count: int, k: int, gamma: float, gamma_forward: float) -> list[int]:
    """D2 Pruning (Maharana et al. 2024): s'_i = s_i + sum_{j in kNN(i)} exp(-gamma_f d_ij) s_j; then repeatedly
    take the largest s' (ties: first) and set s'_j -= exp(-gamma_r d_kj) s'_k for its neighbours j."""
    import math

    knn = naive_knn(x, k)
    s = [float(scores[i]) + sum(math.exp(-gamma_forward * naive_distance(x[i], x[j])) * float(scores[j])
                                for j in knn[i]) for i in range(len(x))]
    chosen: list[int] = []
    for _ in range(count):
        best = max((i for i in range(len(x)) if i not in chosen), key=lambda i: (s[i], -i))
        chosen.append(best)
        for j in knn[best]:
            if j not in chosen:
                s[j] -= math.exp(-gamma * naive_distance(x[best], x[j])) * s[best]
    return chosen


def naive_lloyd(x, centroids, iterations: int, spherical: bool):
    """Lloyd's k-means from given centroids, one row at a time: assign to the nearest centroid (Euclidean, or the
    largest cosine for spherical, ties: first), move each non-empty centroid to its rows' mean (spherical: the
    mean's direction); stop when no assignment changes. Returns the centroids and each row's distance to its
    nearest (Euclidean, or 1 - cos)."""
    def nearest(row):
        if spherical:
            sims = [sum(float(a) * float(b) for a, b in zip(row, c)) for c in centroids]
            best = max(range(len(sims)), key=lambda c: (sims[c], -c))
            return best, 1 - sims[best]
        dists = [naive_distance(row, c) for c in centroids]
        best = min(range(len(dists)), key=lambda c: (dists[c], c))
        return best, dists[best]

    centroids = [[float(v) for v in c] for c in centroids]
    assigned = None
    for _ in range(iterations):
        labels = [nearest(row)[0] for row in x]
        if labels == assigned:
            break
        assigned = labels
        for c in range(len(centroids)):
            rows = [x[i] for i in range(len(x)) if labels[i] == c]
            total = [sum(float(r[d]) for r in rows) for d in range(len(x[0]))]
            length = sum(v * v for v in total) ** 0.5 if spherical else len(rows)
            if rows and length > 0:
                centroids[c] = [v / length for v in total]
    return centroids, [nearest(row)[1] for row in x]


def naive_moderate(x, labels, count: int) -> list[int]:
    """Moderate-DS (Xia et al. 2023): d_i = distance to the coordinate-wise median of i's class; keep the count
    rows with the smallest |d_i - median(d)| (ties: first rows)."""
    import statistics

    centre = {}
    for c in set(labels):
        rows = [x[i] for i in range(len(x)) if labels[i] == c]
        centre[c] = [statistics.median(float(r[d]) for r in rows) for d in range(len(x[0]))]
    d = [naive_distance(x[i], centre[labels[i]]) for i in range(len(x))]
    m = statistics.median(d)
    return sorted(sorted(range(len(x)), key=lambda i: (abs(d[i] - m), i))[:count])


def loop_sequential_features(model, x, upto: int):
    """Input of module ``upto`` of an ``nn.Sequential``, one example at a time through the modules before it, in
    evaluation mode (the mode is restored): shape (N, D)."""
    import torch

    mode = model.training
    model.eval()
    rows = []
    with torch.no_grad():
        for example in x:
            h = example[None]
            for module in list(model)[:upto]:
                h = module(h)
            rows.append(h.reshape(-1))
    model.train(mode)
    return torch.stack(rows)


# --- selection-count mixture oracle (paper 2, Fig. 3): a truncated normal's mass on each integer's cell ---------


def naive_count_log_probabilities(means, stds, upper: int) -> list[list[float]]:
    """log P_k(j) for j = 0..upper (rows) and each component k (columns), from the definition: the normal's mass
    on the cell [j - 1/2, j + 1/2] clipped to [0, upper] over its mass on [0, upper], a mass on [l, h] being
    Phi(h') - Phi(l') = (erfc(l' / sqrt 2) - erfc(h' / sqrt 2)) / 2 for standardized l', h' (written from the side
    of the centre where the cell lies, so that the two terms do not cancel), in 50-digit arithmetic."""
    import mpmath as mp

    def mass(lo, hi):
        if lo + hi < 0:
            lo, hi = -hi, -lo
        return (mp.erfc(lo / mp.sqrt(2)) - mp.erfc(hi / mp.sqrt(2))) / 2

    with mp.workdps(50):
        table = []
        for j in range(upper + 1):
            lo, hi = max(j - mp.mpf(1) / 2, 0), min(j + mp.mpf(1) / 2, upper)
            row = []
            for m, s in zip(means, stds):
                m, s = mp.mpf(float(m)), mp.mpf(float(s))
                row.append(float(mp.log(mass((lo - m) / s, (hi - m) / s) / mass(-m / s, (upper - m) / s))))
            table.append(row)
    return table


def naive_count_log_likelihood(counts, weights, means, stds, upper: int) -> float:
    """sum over examples of log sum_k w_k P_k(count), one example at a time."""
    import math

    table = naive_count_log_probabilities(means, stds, upper)
    return sum(math.log(sum(w * math.exp(table[int(c)][k]) for k, w in enumerate(weights))) for c in counts)


# --- dynamic pruning on static scores (paper 2, App. B and Table 1) -------------------------------------------


def naive_mean_and_variance_over_runs(runs) -> tuple[list[float], list[float]]:
    """Per example, the mean of its R runs' scores and their population variance (sum of squared deviations from
    the mean divided by R), one example and one run at a time. ``runs`` is a list of R lists of N scores."""
    r, n = len(runs), len(runs[0])
    means, variances = [], []
    for i in range(n):
        values = [float(runs[j][i]) for j in range(r)]
        mean = sum(values) / r
        means.append(mean)
        variances.append(sum((v - mean) ** 2 for v in values) / r)
    return means, variances


def naive_static_ucb(runs, c: float, k: int) -> list[int]:
    """Paper 2, App. B, "EL2N + UCB": the k highest mean + c * variance over runs, positions sorted."""
    means, variances = naive_mean_and_variance_over_runs(runs)
    return naive_keep_highest([m + c * v for m, v in zip(means, variances)], k)


# --- total compute of a static method, and the accuracy-compute table ----------------------------------------


def naive_scoring_samples(kind: str, at: int, runs: int, embed: bool, n: int) -> int:
    """Examples forwarded to compute ``runs`` runs of a score at epoch ``at`` over ``n`` examples: each run trains
    ``at`` epochs of ``n`` (a training score is recorded during them), a model score forwards the ``n`` once more,
    and the embeddings of the first run's network take one more pass; a score of the data alone forwards nothing."""
    if kind == "data":
        return 0
    one_run = at * n + (n if kind == "model" else 0)
    return runs * one_run + (n if embed else 0)


def naive_accuracy_compute(rows, measure: str) -> dict:
    """``{(label, keep): (mean accuracy %, sample std %, compute ratio)}`` of rows ``{"label", "keep", "accuracy",
    "metrics"}``: a run's compute is its ``total_seconds`` (``measure = "wallclock"``) or the examples it trained
    on plus those forwarded for scoring (``"samples"``); the ratio is the mean compute of the (label, keep) over
    the mean of the label ``"full"``."""
    import statistics

    def compute(m) -> float:
        if measure == "wallclock":
            return m["total_seconds"]
        return m["samples_forward"] + m["scoring_forward"] + m["static_scoring_samples"]

    groups: dict = {}
    for row in rows:
        groups.setdefault((row["label"], row["keep"]), []).append(row)
    full = [compute(r["metrics"]) for r in rows if r["label"] == "full"]
    full_mean = sum(full) / len(full)
    out = {}
    for key, members in groups.items():
        accuracies = [100.0 * r["accuracy"] for r in members]
        std = statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0
        cost = sum(compute(r["metrics"]) for r in members) / len(members)
        out[key] = (sum(accuracies) / len(accuracies), std, cost / full_mean)
    return out


def loop_batch_statistics_grad_norms(model, x, y, batch_size: int) -> list[float]:
    """GraNd with BatchNorm on batch statistics, by one backward pass per example.

    The examples are cut into batches of ``batch_size`` consecutive ones. For each example i of a batch: a fresh copy
    of ``model`` in training mode (BatchNorm normalizes with the batch's mean and biased variance; models without
    dropout only) forwards the whole batch, ``cross_entropy(logits[i], y[i]).backward()``, then the square root of
    the sum of squared ``.grad`` over every parameter. Returns a list of floats.
    """
    import copy

    import torch.nn.functional as F

    norms = []
    for start in range(0, len(y), batch_size):
        xb, yb = x[start : start + batch_size], y[start : start + batch_size]
        for i in range(len(yb)):
            copied = copy.deepcopy(model).train()
            F.cross_entropy(copied(xb)[i : i + 1], yb[i : i + 1]).backward()
            total = sum(float((p.grad.double() ** 2).sum()) for p in copied.parameters() if p.grad is not None)
            norms.append(total**0.5)
    return norms


def naive_stale_losses(model, x, y, trained: dict) -> tuple[list[float], int]:
    """The pruner's losses after a partial scoring pass: ``trained`` maps the positions trained on since the last
    checkpoint to their training-batch loss, which they keep; every other example gets its cross-entropy under
    ``model`` in evaluation mode, one example at a time. Returns the N losses and how many examples were forwarded."""
    fresh = loop_cross_entropy(model, x, y)
    return [trained[i] if i in trained else fresh[i] for i in range(len(y))], len(y) - len(trained)


def naive_time_to_accuracy(curves, full_curves, tolerance: float) -> tuple[list[float], list[float]]:
    """Per seed: the wall-clock ratio to full data's and the time to target over full data's total (NaN if never).

    ``curves`` and ``full_curves`` hold one list per seed of ``(cumulative seconds, accuracy %)`` pairs, the last
    pair the run's end; the target is the mean of the full runs' last accuracies minus ``tolerance``."""
    target = sum(c[-1][1] for c in full_curves) / len(full_curves) - tolerance
    ratios, times = [], []
    for curve, full in zip(curves, full_curves):
        total = full[-1][0]
        ratios.append(curve[-1][0] / total)
        times.append(next((s / total for s, a in curve if a >= target), float("nan")))
    return ratios, times
