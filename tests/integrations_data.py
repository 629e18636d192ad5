"""Bring-your-own-data fixtures: a TensorDataset, a lazy PNG class-folder dataset, Hugging Face token ids.

Each builder makes something a user would have before hearing of datadiet: tensors in a ``TensorDataset`` with a
tiny MLP; a folder of PNG files per class, opened with PIL one item at a time and turned into normalized tensors
by a hand-written transform, with a tiny CNN (Conv2d, BatchNorm2d, Linear); an in-memory ``datasets.Dataset`` of
token ids with a small randomly initialised ``transformers`` BERT classifier (built from a config, nothing
downloaded). :func:`examples_of` lists any of them one example at a time, in dataset order, for the oracles of
``tests/reference.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn
from torch.utils.data import Dataset, TensorDataset

CLASSES = 3
IMAGE_CLASSES = ("ant", "bee", "cat")
IMAGE_SIZE = 12
TOKEN_KEYS = ("input_ids", "attention_mask")


# --- tensors ------------------------------------------------------------------------------------------------


def blob_dataset(n: int = 60, dim: int = 6, seed: int = 0) -> TensorDataset:
    """Gaussian blobs ``x (n, dim)`` float32 around one centre per class, labels ``y (n,)`` cycling over 3."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % CLASSES
    x = torch.randn(CLASSES, dim, generator=g)[y] * 1.5 + torch.randn(n, dim, generator=g)
    return TensorDataset(x, y)


def make_mlp(dim: int = 6, seed: int = 0) -> nn.Module:
    """Linear, ReLU, Linear: ``(B, dim)`` -> logits ``(B, 3)``."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(dim, 16), nn.ReLU(), nn.Linear(16, CLASSES))


# --- PNG files read lazily ----------------------------------------------------------------------------------


def write_png_tree(root: Path, per_class: int = 20, seed: int = 0) -> Path:
    """Write ``root/<class>/<i>.png``: 12x12 RGB noise, brighter in the channel of the image's class."""
    rng = np.random.default_rng(seed)
    for c, name in enumerate(IMAGE_CLASSES):
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = rng.normal(90, 35, (IMAGE_SIZE, IMAGE_SIZE, 3))
            pixels[..., c] += 90
            Image.fromarray(pixels.clip(0, 255).astype(np.uint8), "RGB").save(root / name / f"{i:03d}.png")
    return root


class ToNormalizedTensor:
    """PIL RGB image ``(H, W)`` -> float32 ``(3, H, W)``: pixels / 255, minus ``mean``, over ``std``, per channel."""

    def __init__(self, mean: tuple[float, float, float] = (0.45, 0.45, 0.45),
                 std: tuple[float, float, float] = (0.2, 0.2, 0.2)) -> None:
        self.mean = torch.tensor(mean)[:, None, None]
        self.std = torch.tensor(std)[:, None, None]

    def __call__(self, image: Image.Image) -> torch.Tensor:
        pixels = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255).permute(2, 0, 1)
        return (pixels - self.mean) / self.std


class PngFolder(Dataset):
    """``root/<class>/*.png`` listed once at construction (class, then file name); each item opened on access.

    Items are ``(transform(image), label)``; ``targets`` holds the labels and ``classes`` the folder names, like
    torchvision's ``ImageFolder``.
    """

    def __init__(self, root: Path, transform: ToNormalizedTensor | None = None) -> None:
        self.classes = sorted(d.name for d in root.iterdir() if d.is_dir())
        pairs = [(str(f), c) for c, name in enumerate(self.classes) for f in sorted((root / name).glob("*.png"))]
        self.files = [f for f, _ in pairs]
        self.targets = [c for _, c in pairs]
        self.transform = transform or ToNormalizedTensor()

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        with Image.open(self.files[i]) as image:
            return self.transform(image.convert("RGB")), self.targets[i]


class TinyCNN(nn.Module):
    """Conv2d, BatchNorm2d, ReLU, 4x4 average pooling, Linear: ``(B, 3, 12, 12)`` -> logits ``(B, 3)``."""

    def __init__(self, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.conv, self.bn = nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4)
        self.fc = nn.Linear(4 * 3 * 3, CLASSES)
        g = torch.Generator().manual_seed(seed)
        self.bn.running_mean.copy_(torch.rand(4, generator=g) - 0.5)  # statistics that look trained
        self.bn.running_var.copy_(torch.rand(4, generator=g) + 0.5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = nn.functional.avg_pool2d(torch.relu(self.bn(self.conv(x))), 4)
        return self.fc(h.flatten(1))


# --- Hugging Face: token ids and a BERT classifier ----------------------------------------------------------


def token_dataset(n: int = 40, length: int = 8, vocab: int = 50, seed: int = 0) -> Any:
    """``datasets.Dataset`` with columns ``input_ids`` and ``attention_mask`` ``(length,)`` and ``label``, in the
    torch format. Every third sequence is padded (token 0, mask 0) after its first 5 tokens."""
    import datasets

    rng = np.random.default_rng(seed)
    ids = rng.integers(1, vocab, (n, length))
    mask = np.ones((n, length), dtype=np.int64)
    mask[::3, 5:] = 0
    ids[mask == 0] = 0
    columns = {"input_ids": ids.tolist(), "attention_mask": mask.tolist(), "label": (np.arange(n) % CLASSES).tolist()}
    return datasets.Dataset.from_dict(columns).with_format("torch")


def tiny_bert(seed: int = 0) -> nn.Module:
    """A randomly initialised ``BertForSequenceClassification`` (1 layer, width 16, 3 labels), in eval mode."""
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(seed)
    config = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=32, max_position_embeddings=32, num_labels=CLASSES)
    return BertForSequenceClassification(config).eval()


# --- the oracles' view --------------------------------------------------------------------------------------


def examples_of(dataset: Dataset) -> list[tuple[torch.Tensor | dict[str, torch.Tensor], int]]:
    """Every example as ``(inputs, label)``, read one at a time with ``dataset[i]`` in dataset order.

    Inputs are a tensor, or (for dict items) the dict of :data:`TOKEN_KEYS`; no batch axis.
    """
    out = []
    for i in range(len(dataset)):
        item = dataset[i]
        if isinstance(item, Mapping):
            out.append(({k: item[k] for k in TOKEN_KEYS}, int(item["label"])))
        else:
            x, y = item
            out.append((x, int(y)))
    return out


def labels_in_order(dataset: Dataset) -> torch.Tensor:
    """Labels ``(N,)`` int64 of :func:`examples_of`'s examples."""
    return torch.tensor([y for _, y in examples_of(dataset)])
