"""Per-example importance scores: exact and fast, for any model and data.

Every score is a function of ``(model, data)`` returning a float64 array ``(N,)`` in the dataset's position order
(= original order), where **higher = harder / more important** (kept by "prune the lowest"):

- :func:`el2n`, :func:`loss_scores`, :func:`margin`: one forward pass in evaluation mode;
- :func:`grand`: the exact per-example loss-gradient norm over all parameters; :func:`grand_last_layer`, the
  cheaper last-layer-only norm (a different score);
- :class:`ForgettingCounter`: forgetting events counted during training (``+inf`` = never learned), an
  accumulator fed from training batches by :func:`feed_forgetting`;
- :func:`input_norm`: the input's norm, a control;
- :class:`TrainingDynamics`: one recording of a training run (fed by :func:`feed_dynamics`) from which the
  training-dynamics scores derive: :func:`aum`, Data Maps (:func:`data_maps_confidence`,
  :func:`data_maps_variability`, :func:`data_maps_correctness`), :func:`el2n_at`, :func:`dyn_unc`, :func:`dual`,
  :func:`tdds`, :func:`entropy`, :func:`least_confidence` and :func:`forgetting_from`.

:func:`score_runs` averages a score over independent runs at a time point (initialization, epoch or step), trained
by your own training function (:class:`TrainFn`), and keeps every run; :class:`ScoreFile` saves them with their
provenance. With ``recordings_dir``, :func:`score_runs` also saves each run's training-dynamics recording, from
which :meth:`ScoreFile.from_recordings` derives any of the :func:`recorded_scores` again without retraining.
"""

from datadiet.scores.dynamics import (
    aum, data_maps_confidence, data_maps_correctness, data_maps_variability, dual, dyn_unc, el2n_at, entropy,
    forgetting_from, least_confidence, tdds,
)
from datadiet.scores.forgetting import ForgettingCounter, feed_forgetting
from datadiet.scores.gradient_norm import grand, grand_last_layer
from datadiet.scores.io import ScoreFile
from datadiet.scores.outputs import el2n, input_norm, loss_scores, margin
from datadiet.scores.recording import DynamicsRecording, TrainingDynamics, feed_dynamics
from datadiet.scores.registry import SCORES, ScoreMethod, get_score, list_scores
from datadiet.scores.runs import ScoreRuns, TrainFn, recorded_scores, recording_name, score_runs

__all__ = [
    "SCORES", "DynamicsRecording", "ForgettingCounter", "ScoreFile", "ScoreMethod", "ScoreRuns", "TrainFn",
    "TrainingDynamics", "aum", "data_maps_confidence", "data_maps_correctness", "data_maps_variability", "dual",
    "dyn_unc", "el2n", "el2n_at", "entropy", "feed_dynamics", "feed_forgetting", "forgetting_from", "get_score",
    "grand", "grand_last_layer", "input_norm", "least_confidence", "list_scores", "loss_scores", "margin",
    "recorded_scores", "recording_name", "score_runs", "tdds",
]
