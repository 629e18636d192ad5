"""Device and numeric precision: CUDA when present, mixed precision there, fp32 on the CPU by default."""

from __future__ import annotations

import contextlib

import torch

__all__ = ["default_device", "parse_device", "autocast", "needs_grad_scaler"]


def default_device() -> torch.device:
    """CUDA if available, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def parse_device(text: str | torch.device | None) -> torch.device:
    """The device named by ``text`` (None: :func:`default_device`); ``ValueError`` if the name is not a device
    or names one this machine and PyTorch build do not have."""
    if text is None:
        return default_device()
    try:
        device = torch.device(text)
    except RuntimeError:
        raise ValueError(f"unknown device {str(text)!r}; valid: cpu, cuda, cuda:N, mps") from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {str(text)!r}: CUDA is not available (a CPU build of PyTorch, or no GPU); "
                             "use cpu")
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise ValueError(f"device {str(text)!r}: there are {torch.cuda.device_count()} CUDA device(s), "
                             f"cuda:0..cuda:{torch.cuda.device_count() - 1}")
    elif device.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device {str(text)!r}: MPS is not available on this machine; use cpu")
    return device


def _dtype(precision: str, device: torch.device) -> torch.dtype | None:
    if precision == "auto":
        if device.type != "cuda":
            return None
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if precision == "fp16" and device.type != "cuda":
        raise ValueError("precision fp16 needs a CUDA device; use bf16 or fp32 on the CPU")
    return {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}[precision]


def autocast(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """Autocast context for ``precision`` ("auto", "fp32", "bf16", "fp16") on ``device``."""
    dtype = _dtype(precision, device)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def needs_grad_scaler(precision: str, device: torch.device) -> bool:
    """Whether the loss must be scaled (float16 autocast)."""
    return _dtype(precision, device) is torch.float16
