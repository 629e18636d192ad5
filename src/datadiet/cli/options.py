"""Options shared by every command that takes a dataset, a model or a training budget."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import TYPE_CHECKING

from datadiet.cli.names import AUGMENTATIONS, DATASETS, MODELS, PRECISIONS

if TYPE_CHECKING:
    from torch import nn

    from datadiet.data import Splits
    from datadiet.data.dataset import IndexedDataset
    from datadiet.training import TrainConfig

__all__ = [
    "add_data_options", "load_data", "add_model_options", "build_model", "add_train_options", "train_config",
    "positive_int", "fraction", "finite_float", "positive_float", "non_negative_float", "device_name",
    "check_figure_file", "time_and_schedule",
]


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def finite_float(text: str) -> float:
    """A finite number (not nan or inf)."""
    value = float(text)
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text}")
    return value


def positive_float(text: str) -> float:
    """A finite number above 0."""
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def non_negative_float(text: str) -> float:
    """A finite number at or above 0."""
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


def device_name(text: str) -> str:
    """A device this machine has (cpu, cuda, cuda:1, ...), checked before any work; kept as given."""
    from datadiet.training import parse_device

    try:
        parse_device(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def check_figure_file(path: str | None, what: str = "--plot") -> None:
    """Raise ``ValueError`` unless a figure can be written to ``path`` (None: no figure): a format matplotlib
    writes (by the file's suffix) in a writable place."""
    if path is None:
        return
    from matplotlib.backend_bases import FigureCanvasBase

    from datadiet.files import check_output_file

    formats = FigureCanvasBase.get_supported_filetypes()
    if Path(path).suffix.lstrip(".").lower() not in formats:
        raise ValueError(f"{what} {path}: name a figure file ending in one of .{', .'.join(sorted(formats))}")
    check_output_file(path, what)


def fraction(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be a fraction in [0, 1], got {text}")
    return value


def add_data_options(parser: argparse.ArgumentParser) -> None:
    g = parser.add_argument_group("data")
    g.add_argument("--dataset", required=True, metavar="NAME", help=f"one of: {', '.join(DATASETS)}")
    g.add_argument("--data-dir", metavar="DIR", help="folder holding the dataset's official files")
    g.add_argument("--download", action="store_true", help="fetch missing files and verify their checksums")
    g.add_argument("--label-noise", type=fraction, default=0.0, metavar="FRACTION",
                   help="permute the labels of this random fraction of training examples")
    g.add_argument("--imbalance", action="store_true", help="keep 25/50/75/100%% of classes 0-1/2-4/5-6/7-9")
    g.add_argument("--per-class", type=positive_int, metavar="N", help="downsample training data to N per class")
    g.add_argument("--val-fraction", type=fraction, default=0.0, help="hold out a stratified validation split")
    g.add_argument("--data-seed", type=int, default=0, help="seed of the noise / imbalance / downsampling draws")


def load_data(args: argparse.Namespace) -> Splits:
    from datadiet.data import DataOptions, prepare

    options = DataOptions(
        label_noise=args.label_noise, imbalance=args.imbalance, per_class=args.per_class,
        val_fraction=args.val_fraction, seed=args.data_seed,
    )
    return prepare(args.dataset, args.data_dir, options, download=args.download)


def add_model_options(parser: argparse.ArgumentParser, default: str | None = None) -> None:
    g = parser.add_argument_group("model")
    g.add_argument("--model", default=default, required=default is None, metavar="NAME",
                   help=f"one of: {', '.join(MODELS)}")
    g.add_argument("--width", type=positive_float, default=1.0, help="channel width multiplier (thinner for CPU runs)")


def build_model(args: argparse.Namespace, data: IndexedDataset, seed: int) -> nn.Module:
    """A freshly initialized model for ``data``, its initialization drawn from ``seed``."""
    import torch

    from datadiet.models import create_model

    torch.manual_seed(seed)
    return create_model(args.model, data.num_classes, data.in_channels, width=args.width,
                        input_shape=data.input_shape)


def add_train_options(parser: argparse.ArgumentParser, *, budget_required: bool = True) -> None:
    g = parser.add_argument_group("training (defaults: the papers' SGD recipe)")
    budget = g.add_mutually_exclusive_group(required=budget_required)
    budget.add_argument("--epochs", type=positive_int, help="passes over the training subset (schedule length)")
    budget.add_argument("--steps", type=positive_int, help="optimizer steps, whatever the subset size")
    g.add_argument("--batch-size", type=positive_int, default=128)
    g.add_argument("--lr", type=finite_float, default=0.1)
    g.add_argument("--weight-decay", type=finite_float, default=5e-4)
    g.add_argument("--seed", type=int, default=0, help="seed of initialization, data order and augmentation")
    g.add_argument("--augment", choices=AUGMENTATIONS, help="default: the dataset's")
    g.add_argument("--precision", choices=PRECISIONS, default="auto", help="auto: mixed precision on CUDA")
    g.add_argument("--device", type=device_name, help="cpu, cuda, cuda:1, ... (default: CUDA when present)")
    g.add_argument("--no-progress", action="store_true", help="no progress bar")


def train_config(args: argparse.Namespace, **overrides) -> TrainConfig:
    from datadiet.training import TrainConfig

    values = dict(
        epochs=args.epochs, steps=args.steps, batch_size=args.batch_size, lr=args.lr,
        weight_decay=args.weight_decay, seed=args.seed, augment=args.augment, precision=args.precision,
        progress=not args.no_progress,
    )
    return TrainConfig(**{**values, **overrides})


def time_and_schedule(args: argparse.Namespace) -> tuple[int | None, TrainConfig | None]:
    """The time point of ``--epoch``/``--step`` and the training schedule the runs follow (None at initialization);
    a schedule not given is the time point's."""
    at = args.epoch if args.epoch is not None else args.step
    if at is not None and at < 0:
        raise ValueError(f"the time point must be >= 0, got {at}")
    if at == 0:
        return 0, None
    if args.epochs is None and args.steps is None:
        if at is None:
            raise ValueError("give a time point (--epoch/--step T) or a schedule (--epochs/--steps N)")
        if args.epoch is not None:
            args.epochs = at
        else:
            args.steps = at
    if (args.epoch is not None and args.steps is not None) or (args.step is not None and args.epochs is not None):
        raise ValueError("the time point and the schedule must use the same unit (--epoch with --epochs)")
    return at, train_config(args)
