"""One run of an experiment as a configuration: data, model, method, keep fraction, seed, budget, training.

The **identity** of a run (:meth:`RunConfig.to_dict`) is everything that determines its result; its run id is
a hash of it. Where the data files lie (``data_dir``) and whether they may be downloaded are not part of it.

Data and network are built in (``dataset``, model ``name`` and ``width``) or the user's code named by import
path (``loader``, ``factory``, each with ``options`` passed as keyword arguments; see
:mod:`datadiet.experiments.user_code`); the import path and its options are part of the identity. The dataset
variants (label noise, imbalance, per-class, validation split) apply to the user's data too; built-in datasets
are normalized by their training split, the user's data is taken as the loader returns it.

Budgets: ``budget = "epochs"`` trains ``epochs`` passes over the training subset (paper 2: pruning saves time);
``budget = "steps"`` trains ``epochs * ceil(N / batch_size)`` optimizer steps whatever the subset size, N being
the whole training set (paper 1: the same number of steps as the full-data run); ``budget = "samples"`` trains
``round(epochs / keep)`` passes over a subset of ``keep`` (paper 2, Fig. 5: the same number of samples seen as
the full-data run, the learning-rate schedule stretched with the epochs, its milestones being fractions of the
run). Under ``"samples"`` a dynamic method with full-data warm-up or final epochs sees slightly more than N x
``epochs`` samples; methods that set no size (full data, InfoBatch) train ``epochs`` epochs.
"""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from datadiet.data import DataOptions, Splits, list_datasets, prepare
from datadiet.data.dataset import IndexedDataset
from datadiet.data.preparation import vary
from datadiet.experiments.user_code import build_model, check_call, load_data, resolve
from datadiet.experiments.values import build, check_keys, coerce, config_hash, field_values
from datadiet.models import create_model, list_models
from datadiet.training import TrainConfig

if TYPE_CHECKING:
    from datadiet.experiments.methods import Method

__all__ = [
    "BUDGETS", "EPOCH_BUDGETS", "IF_SET", "RUN_KEYS", "SOURCES", "TRAIN_KEYS", "DataConfig", "ModelConfig",
    "RunConfig", "identity_of", "parse_run",
]

BUDGETS = ("steps", "epochs", "samples")
EPOCH_BUDGETS = ("epochs", "samples")
"""Budgets counted in epochs of the training subset (a dynamic pruner needs one of them)."""
RUN_KEYS = ("method", "keep", "seed", "budget", "epochs", "data", "model", "train")
_SET_BY_RUN = ("epochs", "steps", "stop_at", "seed", "progress")
TRAIN_KEYS = tuple(f.name for f in dataclasses.fields(TrainConfig) if f.name not in _SET_BY_RUN)
SOURCES: dict[str, tuple[tuple[str, str], ...]] = {
    "data": (("dataset", "data_dir"), ("loader", "options")), "model": (("name", "width"), ("factory", "options")),
}
"""The alternative sources of a data or model table, each with the keys that go with it (a recipe table naming
one replaces the other's keys when merged over it, see :func:`datadiet.experiments.recipe.merge`)."""
_FORM = '"package.module:function"'


IF_SET = {"identity": "if_set"}
"""Metadata of a method parameter that is part of a run's identity only when it differs from its default, so that
a parameter added after runs were recorded leaves their run ids as they were."""


def identity_of(params: Any) -> Any:
    """``dataclasses.asdict`` of a method's parameters (nested ones included) without the :data:`IF_SET` fields
    that hold their default."""
    if dataclasses.is_dataclass(params) and not isinstance(params, type):
        return {f.name: identity_of(getattr(params, f.name)) for f in dataclasses.fields(params)
                if not (f.metadata == IF_SET and getattr(params, f.name) == _default(f))}
    if isinstance(params, (list, tuple)):
        return type(params)(identity_of(v) for v in params)
    if isinstance(params, dict):
        return {k: identity_of(v) for k, v in params.items()}
    return copy.deepcopy(params)


def _default(f: dataclasses.Field) -> Any:
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default


@dataclass(frozen=True)
class DataConfig:
    """A built-in ``dataset`` by name, or the user's ``loader`` called with ``loader_options``; ``options`` are
    the variants applied to either. ``data_dir`` and ``download`` say where a built-in dataset's files are (not
    identity)."""

    dataset: str | None = None
    options: DataOptions = DataOptions()
    data_dir: str | None = None
    download: bool = False
    loader: str | None = None
    loader_options: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.loader is not None:
            if self.dataset is not None or self.data_dir is not None:
                raise ValueError("data has a loader and a dataset or data_dir: give one (pass folders to your "
                                 "loader in options)")
            check_call(resolve(self.loader, "data.loader"), self.loader, "data.loader", **self.loader_options)
        elif self.dataset not in list_datasets():
            raise ValueError(f"unknown dataset {self.dataset!r}; valid: {', '.join(list_datasets())}, or a loader "
                             f"({_FORM})")
        elif self.loader_options:
            raise ValueError("data options are the arguments of a loader; a built-in dataset takes none")

    def __hash__(self) -> int:
        return hash((config_hash(self.identity()), self.data_dir, self.download))

    def identity(self) -> dict:
        source = {"dataset": self.dataset} if self.loader is None else {
            "loader": self.loader, "options": self.loader_options}
        return {**source, **dataclasses.asdict(self.options)}

    def load(self) -> Splits:
        """The prepared splits (cached in this process: runs of a sweep share them)."""
        return _load(self)

    def to_dict(self) -> dict:
        """The data as plain JSON values, data folder included (:meth:`from_dict` reads them back)."""
        source = {"dataset": self.dataset} if self.loader is None else {
            "loader": self.loader, "loader_options": self.loader_options}
        return {**source, "options": dataclasses.asdict(self.options), "data_dir": self.data_dir}

    @classmethod
    def from_dict(cls, values: dict) -> DataConfig:
        values = dict(values)
        return cls(options=DataOptions(**values.pop("options")), **values)


@lru_cache(maxsize=2)
def _load(data: DataConfig) -> Splits:
    if data.loader is None:
        return prepare(data.dataset, data.data_dir, data.options, download=data.download)
    return vary(load_data(data.loader, data.loader_options), data.options)


@dataclass(frozen=True)
class ModelConfig:
    """A built-in network by ``name`` and ``width``, or the user's ``factory`` called with ``options``."""

    name: str | None = None
    width: float = 1.0
    factory: str | None = None
    options: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.factory is not None:
            if self.name is not None or self.width != 1.0:
                raise ValueError("model has a factory and a name or width: give one (pass your factory its own "
                                 "options)")
            check_call(resolve(self.factory, "model.factory"), self.factory, "model.factory", num_classes=2,
                       input_shape=(1, 2), **self.options)
        elif self.name not in list_models():
            raise ValueError(f"unknown model {self.name!r}; valid: {', '.join(list_models())}, or a factory "
                             f"({_FORM})")
        elif self.options:
            raise ValueError("model options are the arguments of a factory; a built-in model takes width")

    def __hash__(self) -> int:
        return hash(config_hash(self.identity()))

    def identity(self) -> dict:
        if self.factory is None:
            return {"name": self.name, "width": self.width}
        return {"factory": self.factory, "options": self.options}

    def describe(self) -> tuple[str, dict]:
        """The network's name (or factory) and its keyword arguments, as score files record them."""
        if self.factory is not None:
            return self.factory, dict(self.options)
        assert self.name is not None  # __post_init__: a model without a factory has a built-in name
        return self.name, {"width": self.width}

    def build(self, data: IndexedDataset, seed: int) -> nn.Module:
        """A fresh network for ``data``, its initialization drawn from ``seed``."""
        torch.manual_seed(seed)
        if self.factory is not None:
            return build_model(self.factory, self.options, data.num_classes, data.input_shape)
        assert self.name is not None  # __post_init__: a model without a factory has a built-in name
        return create_model(self.name, data.num_classes, data.in_channels, width=self.width,
                            input_shape=data.input_shape)


@dataclass(frozen=True)
class RunConfig:
    """Everything one training run needs; see the module docstring for the budgets.

    ``keep`` is the fraction of examples kept, None for methods that set no size (full data, InfoBatch).
    ``train`` holds the :class:`~datadiet.training.TrainConfig` options (every one, defaults filled in).
    """

    method: Method
    data: DataConfig
    model: ModelConfig
    seed: int
    epochs: int
    budget: str = "steps"
    keep: float | None = None
    train: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.budget not in BUDGETS:
            raise ValueError(f"unknown budget {self.budget!r}; valid: {', '.join(BUDGETS)}")
        if self.seed < 0 or self.epochs < 1:
            raise ValueError(f"need seed >= 0 and epochs >= 1, got seed={self.seed}, epochs={self.epochs}")
        if self.method.params.uses_keep:
            if self.keep is None or not 0 < self.keep <= 1:
                raise ValueError(f"method {self.method.label!r} needs keep, a fraction in (0, 1], got {self.keep}")
        elif self.keep is not None:
            object.__setattr__(self, "keep", None)
        if self.budget == "samples" and self.keep is None:
            object.__setattr__(self, "budget", "epochs")  # without a size, the same run
        config = TrainConfig(epochs=self.epochs, seed=self.seed, **self.train)
        object.__setattr__(self, "train", {k: v for k, v in config.to_dict().items() if k in TRAIN_KEYS})
        self.method.params.check(self)

    def to_dict(self) -> dict:
        """The run's identity as plain JSON values."""
        return {
            "method": self.method.to_dict(), "keep": self.keep, "seed": self.seed, "budget": self.budget,
            "epochs": self.epochs, "data": self.data.identity(), "model": self.model.identity(),
            "train": self.train,
        }

    @property
    def run_id(self) -> str:
        """Hash of :meth:`to_dict` (16 hex characters)."""
        return config_hash(self.to_dict())

    @property
    def keep_fraction(self) -> float:
        """``keep`` of a run whose method takes it (checked at construction); ``ValueError`` for the others."""
        if self.keep is None:
            raise ValueError(f"method {self.method.label!r} sets no keep fraction")
        return self.keep

    @property
    def train_epochs(self) -> int:
        """Epochs the run trains under an epoch budget: ``epochs`` (or the method's own, see
        :meth:`~datadiet.experiments.kinds.base.MethodParams.run_epochs`), or ``round(epochs / keep)`` under
        "samples"."""
        epochs = self.method.params.run_epochs(self)
        if self.budget != "samples" or self.keep is None:
            return epochs
        return max(1, math.floor(epochs / self.keep + 0.5))

    def trainer_config(self, num_train: int) -> TrainConfig:
        """The trainer's configuration for a training set of ``num_train`` examples (N, before any subset)."""
        if self.budget in EPOCH_BUDGETS:
            return TrainConfig(epochs=self.train_epochs, seed=self.seed, progress=False, **self.train)
        steps = self.method.params.run_epochs(self) * math.ceil(num_train / self.train["batch_size"])
        return TrainConfig(steps=steps, seed=self.seed, progress=False, **self.train)

    def schedule(self) -> TrainConfig:
        """The full-data ``epochs``-epoch schedule (scoring runs are this schedule stopped early)."""
        return TrainConfig(epochs=self.epochs, seed=self.seed, progress=False, **self.train)


def parse_run(values: dict, method: Method, *, base_dir: Path | None = None) -> RunConfig:
    """A run from a resolved table whose ``method`` label the caller resolved to ``method``.

    Unknown keys and bad values raise ``ValueError`` naming them. A relative ``data.data_dir`` is taken
    relative to ``base_dir`` (the recipe's folder).
    """
    check_keys(values, RUN_KEYS, "the run configuration")
    for key in ("seed", "epochs", "data", "model"):
        if key not in values:
            raise ValueError(f"the run configuration needs {key!r} (in [base], [grid] or a preset)")
    train = field_values(TrainConfig, values.get("train", {}), "train", skip=_SET_BY_RUN)
    return RunConfig(
        method=method, data=_data(values["data"], base_dir), model=_model(values["model"]),
        seed=coerce(values["seed"], int, "seed"), epochs=coerce(values["epochs"], int, "epochs"),
        budget=coerce(values.get("budget", "steps"), str, "budget"),
        keep=coerce(values.get("keep"), float | None, "keep"), train=train,
    )


def _data(table: dict, base_dir: Path | None) -> DataConfig:
    table = dict(table)
    option_keys = [f.name for f in dataclasses.fields(DataOptions)]
    check_keys(table, ["dataset", "data_dir", *option_keys, "loader", "options"], "data")
    if "dataset" not in table and "loader" not in table:
        raise ValueError(f"data needs 'dataset' (one of {', '.join(list_datasets())}) or 'loader' ({_FORM})")
    data_dir = table.pop("data_dir", None)
    if data_dir is not None:
        data_dir = coerce(data_dir, str, "data.data_dir")
        data_dir = str(((base_dir or Path.cwd()) / Path(data_dir).expanduser()).resolve())
    dataset = coerce(table.pop("dataset", None), str | None, "data.dataset")
    loader = coerce(table.pop("loader", None), str | None, "data.loader")
    loader_options = coerce(table.pop("options", {}), dict, "data.options")
    return DataConfig(dataset, build(DataOptions, table, "data"), data_dir, loader=loader,
                      loader_options=loader_options)


def _model(table: dict) -> ModelConfig:
    if "name" not in table and "factory" not in table:
        raise ValueError(f"model needs 'name' (one of {', '.join(list_models())}) or 'factory' ({_FORM})")
    return build(ModelConfig, table, "model")
