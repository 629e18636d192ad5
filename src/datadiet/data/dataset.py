"""The in-memory dataset every part of datadiet works on.

An :class:`IndexedDataset` holds a whole split as tensors together with each example's **original index** in the
official files. Positions ``0..N-1`` address examples inside this object; ``index[i]`` is the original index of
position ``i`` and is always strictly increasing, so scores stored by position are also in original order.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

import numpy as np
import torch

__all__ = ["IndexedDataset", "fingerprint"]


def fingerprint(array: np.ndarray | torch.Tensor) -> str:
    """Short SHA-256 fingerprint of an array's dtype, shape and bytes (16 hex characters)."""
    a = array.detach().cpu().numpy() if isinstance(array, torch.Tensor) else np.asarray(array)
    a = np.ascontiguousarray(a)
    h = hashlib.sha256(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.tobytes())
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class IndexedDataset(torch.utils.data.Dataset):
    """A split held as tensors.

    Attributes:
        x: inputs, shape ``(N, ...)``, float32, already normalized.
        y: labels, shape ``(N,)``, int64 (possibly noisy, see ``noise_mask``).
        index: original index of each example in the official files, shape ``(N,)``, int64, increasing.
        num_classes: number of classes K.
        name: dataset name, including variants (e.g. ``"fashion-mnist+noise0.1"``).
        classes: class names, length K.
        noise_mask: bool ``(N,)`` marking examples whose labels were permuted, or None.
        clean_y: the labels before noise was added, or None.
        augment: name of the default training augmentation (``"none"``, ``"flip"``, ``"crop"``, ``"crop-flip"``).
    """

    x: torch.Tensor
    y: torch.Tensor
    index: torch.Tensor
    num_classes: int
    name: str
    classes: tuple[str, ...] = ()
    noise_mask: torch.Tensor | None = None
    clean_y: torch.Tensor | None = None
    augment: str = "none"
    meta: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        n = len(self.x)
        if len(self.y) != n or len(self.index) != n:
            raise ValueError(f"x, y and index must have the same length, got {n}, {len(self.y)}, {len(self.index)}")
        if n > 1 and not bool((self.index[1:] > self.index[:-1]).all()):
            raise ValueError("index must be strictly increasing (original order)")

    def __len__(self) -> int:
        return len(self.y)

    def __getitem__(self, i: int) -> tuple[int, torch.Tensor, torch.Tensor]:
        """Return ``(position, x, y)`` of position ``i``: what ``DynamicPruner.update`` takes (``index[i]`` is the
        example's original index in the official files)."""
        return int(i), self.x[i], self.y[i]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x.shape[1:])

    @property
    def in_channels(self) -> int:
        return int(self.x.shape[1]) if self.x.dim() >= 3 else 1

    def label_fingerprint(self) -> str:
        """Fingerprint of (original index, label) pairs: identifies which examples carry which labels."""
        return fingerprint(np.stack([self.index.cpu().numpy(), self.y.cpu().numpy()]))

    def input_fingerprint(self) -> str:
        """Fingerprint of the inputs (a hash over all bytes: cheap next to any training)."""
        return fingerprint(self.x)

    def subset(self, positions: np.ndarray | torch.Tensor, name: str | None = None) -> IndexedDataset:
        """The examples at ``positions`` (any order; returned in original order)."""
        pos = torch.as_tensor(np.asarray(positions), dtype=torch.long).sort().values
        pick = lambda t: None if t is None else t[pos]  # noqa: E731
        return replace(
            self, x=self.x[pos], y=self.y[pos], index=self.index[pos], name=name or self.name,
            noise_mask=pick(self.noise_mask), clean_y=pick(self.clean_y),
        )

    def positions_of(self, original: np.ndarray) -> np.ndarray:
        """Map original indices to positions; raise ``ValueError`` naming any index not in this dataset."""
        original = np.asarray(original, dtype=np.int64)
        idx = self.index.cpu().numpy()
        pos = np.searchsorted(idx, original).clip(0, len(idx) - 1)
        missing = original[idx[pos] != original]
        if len(missing):
            raise ValueError(
                f"{len(missing)} indices are not examples of {self.name} (N={len(self)}), e.g. {missing[:5].tolist()}"
            )
        return pos

    def to(self, device: torch.device | str) -> IndexedDataset:
        """Copy the inputs and labels to ``device`` (indices and masks stay on the CPU)."""
        return replace(self, x=self.x.to(device), y=self.y.to(device))
