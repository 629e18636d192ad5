"""Difficulty scores derived from one recording of training dynamics (:class:`DynamicsRecording`).

Every function is pure: a recording in, float64 ``(N,)`` out, in the dataset's position order, with **higher =
harder / more informative = kept by "prune the lowest"**. Where a paper ranks the other way (AUM flags *low*
margins, Data Maps call *low* confidence hard-to-learn), the function returns the paper's quantity reversed and
says so. Epoch arguments are 0-based indices into the recording; ``epochs=T`` uses its first T epochs (default:
all), and a score that needs more epochs than recorded raises ``ValueError`` saying how many it needs and got.

Missing presentations (an example not presented in an epoch, e.g. ``drop_last`` or training on a subset):
averages over epochs use the epochs the example was presented in; window statistics use the presented epochs of
each window and skip windows with fewer than two values; single-epoch scores need the example presented in that
epoch. An example left with nothing to score by raises ``ValueError`` naming it. With every example presented in
every epoch, each score is exactly its paper's formula.

Which need what: :func:`el2n_at`, :func:`tdds` and :func:`entropy` need the probability vectors
(``TrainingDynamics(..., keep_probabilities=True)``); :func:`dyn_unc`, :func:`dual` need at least ``window``
epochs and :func:`tdds` at least ``window`` (>= 3); the others need one epoch.
"""

from __future__ import annotations

import numpy as np

from datadiet.scores.recording_file import DynamicsRecording

__all__ = [
    "aum", "data_maps_confidence", "data_maps_correctness", "data_maps_variability", "dual", "dyn_unc", "el2n_at",
    "entropy", "forgetting_from", "least_confidence", "tdds",
]

_TDDS_EPS = 1e-8  # added inside the logarithms of TDDS's divergence, as in the official implementation


def forgetting_from(recording: DynamicsRecording) -> np.ndarray:
    """Forgetting events (Toneva et al., ICLR 2019, "An Empirical Study of Example Forgetting"), from a recording.

    Walks each example's presented epochs in order: an event is an epoch classified incorrectly right after a
    presented epoch classified correctly; the score is the number of events, ``+inf`` if never classified
    correctly (never learned, ranked above every learned example). High = forgotten often or never learned = kept.
    A recording keeps each example's last presentation per epoch, so this equals :class:`ForgettingCounter` fed
    the same batches when each example is presented at most once per epoch (full-data training, also with
    ``drop_last``); with repeats within an epoch the counter sees events this cannot. Never-presented examples
    raise ``ValueError``, as in the counter.
    """
    n = recording.num_examples
    last = np.full(n, -1, dtype=np.int8)
    events = np.zeros(n, dtype=np.int64)
    learned = np.zeros(n, dtype=bool)
    for seen, correct in zip(recording.presented, recording.correct):
        events += seen & (last == 1) & ~correct
        learned |= seen & correct
        last = np.where(seen, correct.astype(np.int8), last)
    scores = events.astype(np.float64)
    scores[~learned] = np.inf
    scores[last == -1] = np.nan
    return _complete(scores, "forgetting_from", f"presentation in epochs 0..{recording.num_epochs - 1}")


def aum(recording: DynamicsRecording, *, epochs: int | None = None) -> np.ndarray:
    """Negated Area Under the Margin (Pleiss et al., NeurIPS 2020, "Identifying Mislabeled Data using the Area
    Under the Margin Ranking", Eq. 1-2): ``-AUM = -(1/T) sum_t M_t``, ``M_t = z_y(t) - max_{k != y} z_k(t)``, the
    **logit** margin of each recorded epoch t < T (``epochs``, default all; the paper averages up to the first
    learning-rate drop). The paper flags *low* AUM as mislabeled / hard; we return ``-AUM`` so higher = smaller
    margin = harder = kept. Averaged over the epochs each example was presented in.
    """
    t = _length(recording, epochs, "aum")
    return _complete(-_mean(_rows(recording.margin, t)), "aum", _window_text(t))


def data_maps_confidence(recording: DynamicsRecording, *, epochs: int | None = None) -> np.ndarray:
    """Data Maps confidence reversed (Swayamdipta et al., EMNLP 2020, "Dataset Cartography", Eq. 1):
    ``1 - mu``, ``mu = (1/E) sum_e p_y(e)`` over the first E recorded epochs (``epochs``, default all, as in the
    paper). The paper calls low-confidence examples hard-to-learn; ``1 - mu`` ranks them highest (kept).
    """
    t = _length(recording, epochs, "data_maps_confidence")
    return _complete(1.0 - _mean(_rows(recording.true_prob, t)), "data_maps_confidence", _window_text(t))


def data_maps_variability(recording: DynamicsRecording, *, epochs: int | None = None) -> np.ndarray:
    """Data Maps variability (Swayamdipta et al., EMNLP 2020, Eq. 2): ``sigma = sqrt((1/E) sum_e (p_y(e) - mu)^2)``,
    the population standard deviation of ``p_y`` over the first E recorded epochs (default all). The paper's own
    direction: high variability = ambiguous, the region it keeps; returned as is (higher = kept).
    """
    t = _length(recording, epochs, "data_maps_variability")
    p = _rows(recording.true_prob, t)
    return _complete(np.sqrt(_mean((p - _mean(p)) ** 2)), "data_maps_variability", _window_text(t))


def data_maps_correctness(recording: DynamicsRecording, *, epochs: int | None = None) -> np.ndarray:
    """Data Maps correctness reversed (Swayamdipta et al., EMNLP 2020, Sec. 2): ``1 - (fraction of the first E
    recorded epochs in which argmax_k z_k = y)`` (default all). Low correctness is hard-to-learn in the paper;
    reversed, higher = harder = kept.
    """
    t = _length(recording, epochs, "data_maps_correctness")
    correct = np.where(recording.presented[:t], recording.correct[:t], np.nan)
    return _complete(1.0 - _mean(correct), "data_maps_correctness", _window_text(t))


def el2n_at(recording: DynamicsRecording, epoch: int) -> np.ndarray:
    """EL2N of one run at a recorded epoch (Paul et al., NeurIPS 2021, "Deep Learning on a Data Diet", Eq. 2):
    ``||p(e) - onehot(y)||_2`` on the recorded training forward pass of epoch ``epoch`` (negative counts from the
    end). High = large error = hard = kept (the paper's direction). Unlike :func:`datadiet.scores.el2n` this is
    the training pass (augmented inputs, training mode) of one run. Needs probabilities.
    """
    e = _epoch(recording, epoch, "el2n_at")
    probs = _probabilities(recording, "el2n_at")[e].astype(np.float64)
    probs[np.arange(recording.num_examples), np.maximum(recording.labels, 0)] -= 1.0
    return _complete(np.sqrt((probs**2).sum(1)), "el2n_at", f"presentation in epoch {e}")


def entropy(recording: DynamicsRecording, epoch: int = -1) -> np.ndarray:
    """Predictive entropy (Coleman et al., ICLR 2020, "Selection via Proxy", Sec. 3.1): ``-sum_k p_k log p_k``
    (``0 log 0 = 0``) at the recorded epoch ``epoch`` (default the last). High = uncertain = kept, the paper's
    direction. Needs probabilities.
    """
    e = _epoch(recording, epoch, "entropy")
    p = _probabilities(recording, "entropy")[e].astype(np.float64)
    terms = p * np.log(np.where(p > 0, p, 1.0))  # 0 log 0 = 0; NaN (not presented) stays NaN
    return _complete(-terms.sum(1), "entropy", f"presentation in epoch {e}")


def least_confidence(recording: DynamicsRecording, epoch: int = -1) -> np.ndarray:
    """Least confidence (Coleman et al., ICLR 2020, "Selection via Proxy", Sec. 3.1): ``1 - max_k p_k`` at the
    recorded epoch ``epoch`` (default the last). High = unconfident = kept, the paper's direction.

    Needs no probability vector: ``max_k p_k = p_y exp(max(0, -margin))`` because ``p_k / p_y = exp(z_k - z_y)``,
    computed as ``exp(-loss + max(0, -margin))`` from the recorded loss and logit margin.
    """
    e = _epoch(recording, epoch, "least_confidence")
    log_top = -recording.loss[e].astype(np.float64) + np.maximum(0.0, -recording.margin[e].astype(np.float64))
    return _complete(np.clip(1.0 - np.exp(log_top), 0.0, 1.0), "least_confidence", f"presentation in epoch {e}")


def dyn_unc(recording: DynamicsRecording, *, window: int = 10, epochs: int | None = None) -> np.ndarray:
    """Dynamic Uncertainty (He et al., CVPR Workshops 2024 / arXiv 2306.05175, "Large-scale Dataset Pruning with
    Dynamic Uncertainty", Eq. 1-2): for each sliding window of J = ``window`` consecutive epochs k..k+J-1 among
    the first T (``epochs``, default all), ``U_k = sqrt(sum_j (p_y(k+j) - mean_k)^2 / (J - 1))``, the sample
    standard deviation of ``p_y``; the score is the mean of ``U_k`` over the T - J + 1 windows. Default J = 10 (the
    paper's). High = prediction fluctuates = kept (the paper's direction).
    """
    t = _length(recording, epochs, "dyn_unc", window=window)
    p = _rows(recording.true_prob, t)
    windows = [_sample_std(p[k : k + window]) for k in range(t - window + 1)]
    return _complete(_mean(np.stack(windows)), "dyn_unc", _window_text(t, "window with two presentations in"))


def dual(recording: DynamicsRecording, *, window: int = 10, epochs: int | None = None) -> np.ndarray:
    """DUAL, difficulty- and uncertainty-aware score (Cho et al., ICML 2025 / arXiv 2502.06905, "Lightweight
    Dataset Pruning without Full Training via Example Difficulty and Prediction Uncertainty"): the mean over the
    T - J + 1 sliding windows of J = ``window`` epochs of ``U_k * (1 - mean_k)``, where ``U_k`` is the window's
    sample standard deviation of ``p_y`` (as :func:`dyn_unc`) and ``mean_k`` its mean. Default J = 10; the paper
    scores early, T = 30 epochs on CIFAR (pass ``epochs=30``; default all recorded). High = uncertain and
    difficult = kept (the paper's direction). The paper's Beta-distribution sampling is a selection rule, not
    part of the score.
    """
    t = _length(recording, epochs, "dual", window=window)
    p = _rows(recording.true_prob, t)
    windows = [_sample_std(p[k : k + window]) * (1.0 - _mean(p[k : k + window])) for k in range(t - window + 1)]
    return _complete(_mean(np.stack(windows)), "dual", _window_text(t, "window with two presentations in"))


def tdds(recording: DynamicsRecording, *, window: int = 10, epochs: int | None = None,
         decay: float = 0.9) -> np.ndarray:
    """Temporal Dual-Depth Scoring (Zhang et al., CVPR 2024, "Spanning Training Progress: Temporal Dual-Depth
    Scoring (TDDS) for Enhanced Dataset Pruning"), as in its official implementation:

    1. contribution at epoch t >= 1: ``g_t = sum_k |p_k(t) (log(p_k(t) + eps) - log(p_k(t-1) + eps))|``, the
       KL divergence of consecutive predictions taken term by term in absolute value, ``eps = 1e-8``;
    2. per window k of J = ``window`` epochs k..k+J-1 (its J - 1 contributions): ``R_k = ||g - mean(g)||_2``;
    3. ``score = sum_{k=0}^{K} beta (1 - beta)^(K - k) R_k`` with ``K = T - J`` (an exponential moving average of
       the windows, the latest weighted ``beta``), T = ``epochs`` (default all), beta = ``decay``.

    Defaults J = 10, beta = 0.9 (the paper's; it tunes T per dataset and pruning rate, e.g. T = 30 in its
    README). With gaps, ``R_k`` uses the present contributions (a ``g_t`` needs epochs t - 1 and t) rescaled to
    J - 1 of them, and the average runs over usable windows, rescaled to the full weight. High = variable
    contributions = kept (the paper's direction). Needs probabilities.
    """
    probabilities = _probabilities(recording, "tdds")
    t = _length(recording, epochs, "tdds", window=window, min_window=3)
    if not 0.0 < decay <= 1.0:
        raise ValueError(f"tdds: decay must be in (0, 1], got {decay}")
    p = probabilities[:t].astype(np.float64)
    g = np.abs(p[1:] * (np.log(p[1:] + _TDDS_EPS) - np.log(p[:-1] + _TDDS_EPS))).sum(2)
    last = t - window
    weights = decay * (1.0 - decay) ** (last - np.arange(last + 1))
    spread = np.stack([_deviation_norm(g[k : k + window - 1]) for k in range(last + 1)])
    usable = ~np.isnan(spread)
    total = (np.where(usable, spread, 0.0) * weights[:, None]).sum(0)
    weight = (usable * weights[:, None]).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = total / weight * weights.sum()
    return _complete(scores, "tdds", _window_text(t, "window with two divergences of consecutive presentations in"))


def _length(recording: DynamicsRecording, epochs: int | None, score: str, *, window: int | None = None,
            min_window: int = 2) -> int:
    """T, the number of leading epochs a score uses, checked against the recording and the window."""
    if epochs is not None and (isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1):
        raise ValueError(f"{score}: epochs must be a positive integer or None, got {epochs!r}")
    if window is not None and (isinstance(window, bool) or not isinstance(window, (int, np.integer))
                               or window < min_window):
        raise ValueError(f"{score}: window must be an integer >= {min_window}, got {window!r}")
    recorded = recording.num_epochs
    t = recorded if epochs is None else int(epochs)
    if window is not None and epochs is not None and window > t:
        raise ValueError(f"{score} with window {window} needs at least {window} epochs, got epochs={t}")
    needed = max(t, window or 1)
    if needed > recorded:
        what = f" with window {window}" if window is not None and window >= t else f" with epochs={t}" if epochs else ""
        raise ValueError(f"{score}{what} needs {needed} recorded epoch{'s' * (needed > 1)}, the recording has "
                         f"{recorded}")
    return t


def _epoch(recording: DynamicsRecording, epoch: int, score: str) -> int:
    recorded = recording.num_epochs
    if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or not -recorded <= epoch < recorded:
        raise ValueError(f"{score}: epoch {epoch!r} is not recorded (the recording has {recorded} epochs, "
                         f"0..{recorded - 1} or negative from the end)")
    return int(epoch) % recorded


def _probabilities(recording: DynamicsRecording, score: str) -> np.ndarray:
    if recording.probabilities is None:
        raise ValueError(f"{score} needs the probability vectors: record with "
                         "TrainingDynamics(..., keep_probabilities=True)")
    return recording.probabilities


def _rows(values: np.ndarray, t: int) -> np.ndarray:
    return values[:t].astype(np.float64)


def _mean(values: np.ndarray) -> np.ndarray:
    """Mean over axis 0 of the non-NaN values; NaN where there are none."""
    count = (~np.isnan(values)).sum(0)
    total = np.where(np.isnan(values), 0.0, values).sum(0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _sample_std(values: np.ndarray) -> np.ndarray:
    """Standard deviation with ``n - 1`` over axis 0 of the non-NaN values; NaN where fewer than two."""
    count = (~np.isnan(values)).sum(0)
    squares = np.where(np.isnan(values), 0.0, (values - _mean(values)) ** 2).sum(0)
    return np.where(count > 1, np.sqrt(squares / np.maximum(count - 1, 1)), np.nan)


def _deviation_norm(values: np.ndarray) -> np.ndarray:
    """``||v - mean(v)||_2`` over axis 0 of ``len(values)`` values, from the non-NaN ones rescaled to all of them;
    NaN where fewer than two."""
    count = (~np.isnan(values)).sum(0)
    squares = np.where(np.isnan(values), 0.0, (values - _mean(values)) ** 2).sum(0)
    return np.where(count > 1, np.sqrt(squares * len(values) / np.maximum(count, 1)), np.nan)


def _window_text(t: int, what: str = "presentation in") -> str:
    return f"{what} epochs 0..{t - 1}"


def _complete(scores: np.ndarray, score: str, what: str) -> np.ndarray:
    """``scores`` as float64, or ``ValueError`` naming the examples left without a value (NaN)."""
    missing = np.flatnonzero(np.isnan(scores))
    if len(missing):
        raise ValueError(f"{score}: {len(missing)} of {len(scores)} examples have no {what} (positions "
                         f"{missing[:5].tolist()}{'...' if len(missing) > 5 else ''})")
    return scores.astype(np.float64)
