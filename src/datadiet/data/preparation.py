"""Dataset variants of the papers as one option set, applied in a fixed order by :func:`prepare`."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from pathlib import Path

from datadiet.data.normalize import standardize
from datadiet.data.registry import load_raw
from datadiet.data.splits import Splits
from datadiet.data.variants import PAPER_IMBALANCE, add_label_noise, imbalance, per_class, split_validation

__all__ = ["DataOptions", "prepare", "vary"]


def _is_number(v: object) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _is_int(v: object) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


@dataclass(frozen=True)
class DataOptions:
    """Variants of the training split.

    Attributes:
        label_noise: fraction of training examples whose labels are permuted among themselves, in [0, 1).
        imbalance: False, True (the paper's 10-class table :data:`PAPER_IMBALANCE`), or per-class keep rates.
        per_class: keep this many examples of every class (None: all).
        val_fraction: fraction of each class held out of train as a validation split, in [0, 1).
        seed: seed of every random choice above.
    """

    label_noise: float = 0.0
    imbalance: bool | tuple[float, ...] = False
    per_class: int | None = None
    val_fraction: float = 0.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not (_is_number(self.label_noise) and 0 <= self.label_noise < 1):
            raise ValueError(f"label_noise must be a fraction in [0, 1), got {self.label_noise!r}")
        if not isinstance(self.imbalance, bool):
            rates = tuple(self.imbalance) if isinstance(self.imbalance, (list, tuple)) else ()
            if not rates or not all(_is_number(r) and 0 < r <= 1 for r in rates):
                raise ValueError(f"imbalance must be True, False or keep rates in (0, 1], got {self.imbalance!r}")
            object.__setattr__(self, "imbalance", rates)
        if self.per_class is not None and not (_is_int(self.per_class) and self.per_class > 0):
            raise ValueError(f"per_class must be None or a positive integer, got {self.per_class!r}")
        if not (_is_number(self.val_fraction) and 0 <= self.val_fraction < 1):
            raise ValueError(f"val_fraction must be a fraction in [0, 1), got {self.val_fraction!r}")
        if not (_is_int(self.seed) and self.seed >= 0):
            raise ValueError(f"seed must be a non-negative integer, got {self.seed!r}")

    def keep_rates(self, num_classes: int) -> tuple[float, ...] | None:
        """Per-class keep rates of the imbalance option, or None if it is off."""
        if self.imbalance is False:
            return None
        rates = PAPER_IMBALANCE if self.imbalance is True else self.imbalance
        if len(rates) != num_classes:
            source = "the paper's default table" if self.imbalance is True else "imbalance"
            raise ValueError(f"{source} has {len(rates)} keep rates, but the dataset has {num_classes} classes")
        return rates


def prepare(
    name: str, data_dir: str | Path | None = None, options: DataOptions = DataOptions(), *, download: bool = False
) -> Splits:
    """:func:`load_splits` with the training-split variants of ``options`` applied, deterministic in its seed.

    Order: imbalance, then per-class downsampling, then the validation split, then label noise (so the
    validation split is always clean). Normalization statistics are computed on the final training split (after
    all subsetting) and applied to train, val and test. The test split is never changed.
    """
    return standardize(vary(load_raw(name, data_dir, download=download), options))


def vary(splits: Splits, options: DataOptions) -> Splits:
    """The training-split variants of ``options`` applied to ``splits`` in :func:`prepare`'s order (no
    normalization); a validation split of ``splits`` is kept, and cannot be combined with ``val_fraction``."""
    train, test, val = splits
    if val is not None and options.val_fraction > 0:
        raise ValueError("the splits already hold a validation split: val_fraction must be 0")
    rates = options.keep_rates(train.num_classes)
    if rates is not None:
        train = imbalance(train, rates, options.seed)
    if options.per_class is not None:
        train = per_class(train, options.per_class, options.seed)
    if options.val_fraction > 0:
        train, val = split_validation(train, options.val_fraction, options.seed)
    if options.label_noise > 0:
        train = add_label_noise(train, options.label_noise, options.seed)
    return Splits(train, test, val)
