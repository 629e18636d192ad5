"""Batched training augmentation: whole-batch tensor operations on the batch's device, no per-image loop.

Random numbers are drawn from a CPU ``torch.Generator`` and then moved to the batch's device, so a seed gives
the same augmentation on every device. With "crop-flip", crop offsets are drawn before flip decisions.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["AUGMENTATIONS", "PAD", "augment_batch", "random_crop", "random_flip"]

AUGMENTATIONS = ("none", "flip", "crop", "crop-flip")
PAD = 4
"""Padding (pixels of zeros on each side) before a random crop back to the original size."""


def random_crop(x: torch.Tensor, generator: torch.Generator, pad: int = PAD) -> torch.Tensor:
    """Pad ``x`` ``(N, C, H, W)`` with ``pad`` zeros per side and crop each image at its own random offset.

    Offsets are uniform in ``0..2 * pad`` per axis; the crop is one advanced-indexing gather. Inputs are already
    normalized, so the zero padding has the training mean's value.
    """
    n, c, h, w = x.shape
    offsets = torch.randint(0, 2 * pad + 1, (2, n), generator=generator).to(x.device)
    padded = F.pad(x, (pad, pad, pad, pad))
    rows = offsets[0, :, None] + torch.arange(h, device=x.device)
    cols = offsets[1, :, None] + torch.arange(w, device=x.device)
    batch = torch.arange(n, device=x.device)[:, None, None, None]
    channel = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[batch, channel, rows[:, None, :, None], cols[:, None, None, :]]


def random_flip(x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Flip each image of ``x`` ``(N, C, H, W)`` horizontally with probability 1/2."""
    flip = (torch.rand(len(x), generator=generator) < 0.5).to(x.device)
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


def augment_batch(x: torch.Tensor, kind: str, generator: torch.Generator) -> torch.Tensor:
    """Augment a batch ``x`` ``(N, C, H, W)`` (or any shape for ``"none"``, e.g. sequences ``(N, 1, L)``).

    Args:
        kind: one of ``AUGMENTATIONS``: "none" (``x`` itself), "flip", "crop", or "crop-flip".
        generator: a CPU generator; the same seed gives the same result on any device.
    """
    if kind not in AUGMENTATIONS:
        raise ValueError(f"unknown augmentation {kind!r}; valid: {', '.join(AUGMENTATIONS)}")
    if kind == "none":
        return x
    if generator.device.type != "cpu":
        raise ValueError(f"augment_batch draws on a CPU generator, got one on {generator.device}")
    if x.dim() != 4:
        raise ValueError(f"augmentation {kind!r} needs images (N, C, H, W), got shape {tuple(x.shape)}")
    if "crop" in kind:
        x = random_crop(x, generator)
    if "flip" in kind:
        x = random_flip(x, generator)
    return x
