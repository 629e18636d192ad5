"""Batched augmentation against per-image reference checks."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from datadiet.data import AUGMENTATIONS, augment_batch


def _batch(n=64, c=3, h=8, w=7, seed=0):
    return torch.randn(n, c, h, w, generator=torch.Generator().manual_seed(seed))


def _shift_of(image, padded):
    """All offsets (dy, dx) at which ``image`` is a window of ``padded`` (slow reference)."""
    h, w = image.shape[-2:]
    return [(dy, dx) for dy in range(padded.shape[-2] - h + 1) for dx in range(padded.shape[-1] - w + 1)
            if torch.equal(padded[..., dy:dy + h, dx:dx + w], image)]


def test_none_returns_the_batch_for_any_shape():
    x = torch.randn(5, 1, 40)
    assert augment_batch(x, "none", torch.Generator()) is x


@pytest.mark.parametrize("kind", ["flip", "crop", "crop-flip"])
def test_shape_dtype_and_determinism(kind):
    x = _batch().to(torch.bfloat16)
    a = augment_batch(x, kind, torch.Generator().manual_seed(1))
    b = augment_batch(x, kind, torch.Generator().manual_seed(1))
    c = augment_batch(x, kind, torch.Generator().manual_seed(2))
    assert a.shape == x.shape and a.dtype == x.dtype and torch.equal(a, b) and not torch.equal(a, c)


def test_flip_is_a_horizontal_flip_of_about_half():
    x = _batch(n=2000, h=4, w=4)
    out = augment_batch(x, "flip", torch.Generator().manual_seed(0))
    same = (out == x).flatten(1).all(1)
    flipped = (out == x.flip(-1)).flatten(1).all(1)
    assert bool((same ^ flipped).all())
    assert 0.45 < flipped.float().mean().item() < 0.55


def test_crop_is_a_shift_of_the_zero_padded_image():
    x = _batch(n=300, h=6, w=5)
    out = augment_batch(x, "crop", torch.Generator().manual_seed(0))
    padded = F.pad(x, (4, 4, 4, 4))
    offsets = [_shift_of(out[i], padded[i]) for i in range(len(x))]
    assert all(len(o) == 1 for o in offsets)
    assert {o[0] for o in offsets} >= {(0, 0), (8, 8), (0, 8), (8, 0), (4, 4)}
    assert len({o[0] for o in offsets}) > 70


def test_crop_flip_is_a_possibly_flipped_shift():
    x = _batch(n=50)
    out = augment_batch(x, "crop-flip", torch.Generator().manual_seed(0))
    padded = F.pad(x, (4, 4, 4, 4))
    assert all(_shift_of(out[i], padded[i]) or _shift_of(out[i].flip(-1), padded[i]) for i in range(len(x)))


class _CountOps(TorchFunctionMode):
    """Counts torch calls (functions, tensor methods, indexing): a per-image loop makes them grow with N."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.count += 1
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("kind", ["flip", "crop", "crop-flip"])
def test_number_of_tensor_ops_does_not_grow_with_the_batch(kind):
    counts = []
    for n in (2, 128):
        x = _batch(n=n)
        with _CountOps() as mode:
            augment_batch(x, kind, torch.Generator().manual_seed(0))
        counts.append(mode.count)
    assert counts[0] == counts[1]


def test_errors_list_the_valid_kinds():
    with pytest.raises(ValueError, match="unknown augmentation 'cutout'; valid: " + ", ".join(AUGMENTATIONS)):
        augment_batch(_batch(), "cutout", torch.Generator())
    with pytest.raises(ValueError, match=r"needs images \(N, C, H, W\), got shape \(5, 1, 40\)"):
        augment_batch(torch.randn(5, 1, 40), "crop", torch.Generator())


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_same_result_on_cuda():
    x = _batch()
    cpu = augment_batch(x, "crop-flip", torch.Generator().manual_seed(3))
    cuda = augment_batch(x.cuda(), "crop-flip", torch.Generator().manual_seed(3))
    assert torch.equal(cuda.cpu(), cpu)
