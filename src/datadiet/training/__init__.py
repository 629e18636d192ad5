"""Training: the canonical SGD loop with callbacks, evaluation, devices and checkpoints."""

from datadiet.training.config import TrainConfig
from datadiet.training.device import default_device
from datadiet.training.evaluate import evaluate, predict_logits
from datadiet.training.hooks import BatchResult, Callback, RunCost
from datadiet.training.trainer import TrainingDiverged, TrainResult, train

__all__ = [
    "BatchResult", "Callback", "RunCost", "TrainConfig", "TrainingDiverged", "TrainResult",
    "default_device", "evaluate", "predict_logits", "train",
]
