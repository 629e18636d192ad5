"""Analyses of scores: rank correlations, averaging stability and label-noise detection, with their plots."""

from .correlation import correlation_matrix, plot_correlation_matrix, rank_correlation
from .noise import noise_detection, plot_noise_histograms
from .stability import averaging_stability, averaging_stability_orderings, plot_averaging_stability

__all__ = [
    "rank_correlation",
    "correlation_matrix",
    "plot_correlation_matrix",
    "averaging_stability",
    "averaging_stability_orderings",
    "plot_averaging_stability",
    "noise_detection",
    "plot_noise_histograms",
]
