"""Analyses of scores: rank correlations, averaging stability and label-noise detection, with their plots; and of
training dynamics: kernel velocity along the score ranking and the linear-mode-connectivity error barrier."""

from .barrier import (
    SpawnBarriers, error_barrier, plot_error_barriers, score_subsets, seeded_spawn_barriers, spawn_barriers,
)
from .correlation import correlation_matrix, plot_correlation_matrix, rank_correlation
from .interpolation import (
    DEFAULT_ALPHAS, alpha_grid, error_rate, interpolate_states, interpolation_errors, recompute_batchnorm,
)
from .kernel import kernel_velocity, logit_kernel
from .noise import noise_detection, plot_noise_histograms
from .spawning import continuation_config, train_child
from .stability import averaging_stability, averaging_stability_orderings, plot_averaging_stability
from .state_recorder import StateRecorder, copy_state
from .velocity import (
    TrackedVelocity, check_ranks, epoch_scores, evenly_spaced_ranks, independent_epoch_scores, noise_title,
    plot_kernel_velocity, rank_windows, recorded_states, tracked_velocity, velocity_sweep,
)

__all__ = [
    "rank_correlation",
    "correlation_matrix",
    "plot_correlation_matrix",
    "averaging_stability",
    "averaging_stability_orderings",
    "plot_averaging_stability",
    "noise_detection",
    "plot_noise_histograms",
    "logit_kernel",
    "kernel_velocity",
    "rank_windows",
    "check_ranks",
    "evenly_spaced_ranks",
    "velocity_sweep",
    "recorded_states",
    "epoch_scores",
    "independent_epoch_scores",
    "TrackedVelocity",
    "tracked_velocity",
    "noise_title",
    "plot_kernel_velocity",
    "StateRecorder",
    "copy_state",
    "DEFAULT_ALPHAS",
    "alpha_grid",
    "error_rate",
    "interpolate_states",
    "recompute_batchnorm",
    "interpolation_errors",
    "continuation_config",
    "train_child",
    "error_barrier",
    "score_subsets",
    "SpawnBarriers",
    "spawn_barriers",
    "seeded_spawn_barriers",
    "plot_error_barriers",
]
