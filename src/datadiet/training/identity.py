"""A run's identity: every setting that changes its result, stored in its checkpoint and compared on resume.

The trainer records its own settings (the training configuration, which examples it trains on, the training
data's name, size and fingerprints, and the settings of each callback that has an ``identity()`` method); a caller
adds what only it knows (the
model and its options, how the data was made: noise rate, seeds, ...) as ``extra``. A resume with any of them
changed is refused with a message naming the settings that differ, the caller's first.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch

from datadiet.data.dataset import IndexedDataset, fingerprint
from datadiet.training.config import TrainConfig

__all__ = ["run_identity", "check_same_run"]

_SHOWN = 6
"""Differing settings named in a message at most."""


def run_identity(config: TrainConfig, data: IndexedDataset, positions: torch.Tensor, callbacks: list,
                 extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The identity of a run: ``extra`` (the caller's settings) and the trainer's own, as plain values."""
    own = {
        "training": {k: v for k, v in config.to_dict().items() if k != "progress"},
        "train_data": {"name": data.name, "num_examples": len(data), "labels": data.label_fingerprint(),
                       "inputs": data.input_fingerprint()},
        "trained_positions": {"count": len(positions), "fingerprint": fingerprint(positions)},
        "callbacks": [_callback_identity(cb) for cb in callbacks if hasattr(cb, "identity")],
    }
    return _plain({"settings": dict(extra or {}), **own})


def _callback_identity(callback: Any) -> dict[str, Any]:
    """A callback's type and the settings its ``identity()`` method returns (callbacks without one, which change
    nothing a resume could mix up, are left out)."""
    return {"type": type(callback).__name__, **callback.identity()}


def check_same_run(saved: Mapping[str, Any], now: Mapping[str, Any], out_dir: Path) -> None:
    """Raise ``ValueError`` naming the differing settings if ``saved`` (a checkpoint's identity) is not ``now``."""
    saved, now = _settings(saved), _settings(now)
    differ = [key for key in dict.fromkeys([*now, *saved]) if saved.get(key) != now.get(key)]
    if not differ:
        return
    named = [key for key in differ if key.startswith(("settings.", "training."))] or differ
    shown = "; ".join(f"{_name(key)}: saved {_show(saved.get(key))}, now {_show(now.get(key))}"
                      for key in named[:_SHOWN])
    more = f"; and {len(named) - _SHOWN} more" if len(named) > _SHOWN else ""
    raise ValueError(f"--out {out_dir} holds a run with other settings ({shown}{more}); use another --out or "
                     "delete it to start over")


def _settings(identity: Mapping[str, Any]) -> dict[str, Any]:
    """An identity as one flat dict: the caller's settings each whole, the trainer's sections flattened."""
    plain: dict[str, Any] = _plain(dict(identity))
    extra = plain.pop("settings", {})
    return {**{f"settings.{key}": value for key, value in extra.items()}, **_flat(plain)}


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts and lists as dotted keys: ``{"a": [{"b": 1}]}`` -> ``{"a.0.b": 1}``."""
    items: Iterable[tuple[Any, Any]]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        items = enumerate(value)
    else:
        return {prefix.rstrip("."): value}
    out: dict[str, Any] = {}
    for key, v in items:
        out.update(_flat(v, f"{prefix}{key}."))
    return out if out else {prefix.rstrip("."): value}


def _name(key: str) -> str:
    """A setting's name in a message: the caller's settings and the training options by their own name."""
    return key.removeprefix("settings.").removeprefix("training.")


def _show(value: Any) -> str:
    """A value in a message, at most 40 characters."""
    text = "none" if value is None else value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _plain(value: Any) -> Any:
    """The value as it comes back from a weights-only checkpoint (tuples become lists)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
