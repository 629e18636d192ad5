"""Training: the canonical SGD loop with callbacks, evaluation, devices and checkpoints.

It is one client of the core: :class:`DynamicPruningCallback` feeds a :class:`~datadiet.dynamic.DynamicPruner`
from its epochs and batches, and :func:`trainer_fn` makes it the training function of
:func:`~datadiet.scores.score_runs`. Callbacks follow :class:`datadiet.callbacks.Callback`.
"""

from datadiet.training.config import TrainConfig
from datadiet.training.cost import RunCost
from datadiet.training.device import default_device, parse_device
from datadiet.training.dynamic_pruning import SCORE_SOURCES, DynamicPruningCallback
from datadiet.training.evaluate import evaluate, predict_logits
from datadiet.training.train_fn import TrainerFn, trainer_fn
from datadiet.training.trainer import TrainingDiverged, TrainResult, train

__all__ = [
    "SCORE_SOURCES", "DynamicPruningCallback", "RunCost", "TrainConfig", "TrainerFn", "TrainingDiverged",
    "TrainResult", "default_device", "evaluate", "parse_device", "predict_logits", "train", "trainer_fn",
]
