"""The names the command line accepts, as plain constants: building the parser (and ``--help``) imports no torch.

Each tuple mirrors a registry of the library (``tests/cli/test_help.py`` checks that they agree); the registry
stays the authority at run time.
"""

from __future__ import annotations

__all__ = [
    "AUGMENTATIONS", "DATASETS", "EXECUTORS", "EXPORT_FORMATS", "MODELS", "POLICIES", "PRECISIONS",
    "RECORDED_SCORE_OPTIONS", "RECORDED_SCORES", "RULES", "SCORES", "SCORE_PRECISIONS", "SCORE_SOURCES",
]

DATASETS = ("cifar10", "cifar100", "cinic10", "digits", "fashion-mnist", "folder", "kmnist", "mnist", "mnist1d", "npz")
"""``datadiet.data.list_datasets()``."""
MODELS = ("basic_cnn", "cnn1d", "mlp", "resnet18", "resnet34", "resnet50", "small_cnn", "vgg16")
"""``datadiet.models.list_models()``."""
AUGMENTATIONS = ("none", "flip", "crop", "crop-flip")
"""``datadiet.data.AUGMENTATIONS``."""
PRECISIONS = ("auto", "fp32", "bf16", "fp16")
"""``datadiet.training.config.PRECISIONS``."""
SCORES = (
    "aum", "data_maps_confidence", "data_maps_correctness", "data_maps_variability", "dual", "dyn_unc", "el2n",
    "el2n_train", "entropy", "forgetting", "grand", "grand_last_layer", "input_norm", "least_confidence", "loss",
    "margin", "tdds",
)
"""``datadiet.scores.list_scores()``."""
RECORDED_SCORES = {
    "aum": False, "data_maps_confidence": False, "data_maps_correctness": False, "data_maps_variability": False,
    "dual": False, "dyn_unc": False, "el2n_train": True, "entropy": True, "least_confidence": False, "tdds": True,
}
"""``datadiet.scores.runs.recorded_scores()``: the scores derived from a training-dynamics recording, each with
whether it needs the recording's probability vectors."""
RECORDED_SCORE_OPTIONS = {
    "window": ("dual", "dyn_unc", "tdds"),
    "epochs": ("aum", "data_maps_confidence", "data_maps_correctness", "data_maps_variability", "dual", "dyn_unc",
               "tdds"),
    "decay": ("tdds",),
    "epoch": ("el2n_train", "entropy", "least_confidence"),
}
"""The recorded scores' keyword options and the scores that take each (the score registry's
``check_options``)."""
RULES = (
    "ccs", "d2", "facility_location", "herding", "kcenter", "keep_highest", "keep_lowest", "moderate", "prototypes",
    "random", "sliding_window",
)
"""``datadiet.selection.list_rules()``."""
POLICIES = ("random", "uncertainty", "uncertainty-ema", "egreedy", "ucb", "infobatch")
"""``datadiet.dynamic.POLICIES``."""
SCORE_SOURCES = ("pass", "batch", "stale")
"""``datadiet.dynamic.scoring.SCORE_SOURCES``."""
SCORE_PRECISIONS = ("fp32", "bf16")
"""``datadiet.dynamic.scoring.SCORE_PRECISIONS``."""
EXECUTORS = ("local", "ray")
"""``datadiet.experiments.executors.EXECUTORS``."""
EXPORT_FORMATS = ("csv", "parquet")
"""``datadiet.experiments.export.FORMATS``."""
