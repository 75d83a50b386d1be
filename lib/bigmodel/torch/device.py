"""Device and precision choice for PyTorch.

Policy (stated once, used everywhere):

- Device: CUDA, then Apple MPS, then CPU, unless the caller or ``BIGMODEL_DEVICE`` says.
- Precision: float32 weights. Mixed precision is bfloat16 autocast only on GPUs that
  compute bf16 natively (Ampere and newer); float16 autocast with a gradient scaler on
  older CUDA GPUs such as the T4; none on CPU and MPS.
- TF32: off by default (PyTorch's own default, "highest"), so results match the NumPy
  reference; :func:`set_matmul_precision` ("high") turns it on for speed on Ampere+.
"""

from __future__ import annotations

import os

import torch


def pick_device(prefer: str | None = None) -> torch.device:
    """Return the device to compute on.

    Args:
        prefer: ``"cuda"``, ``"mps"``, ``"cpu"`` (or ``"cuda:1"``); ``None`` reads
            ``BIGMODEL_DEVICE`` and else takes the best available.

    Raises:
        RuntimeError: the requested device is not available here.
    """
    prefer = prefer or os.environ.get("BIGMODEL_DEVICE") or None
    if prefer:
        kind = prefer.split(":")[0].lower()
        ok = {
            "cuda": torch.cuda.is_available(),
            "mps": torch.backends.mps.is_available(),
            "cpu": True,
        }.get(kind)
        if ok is None:
            raise ValueError(f"unknown device {prefer!r}; use cuda, mps or cpu")
        if not ok:
            raise RuntimeError(f"device {prefer!r} was requested but is not available")
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def describe_device(device: torch.device | str | None = None) -> str:
    """One line naming the device, e.g. ``'cuda:0 (NVIDIA T4, bf16: no)'`` or ``'cpu (2 threads)'``."""
    device = torch.device(device) if device is not None else pick_device()
    if device.type == "cuda":
        idx = device.index or 0
        name = torch.cuda.get_device_name(idx)
        bf16 = "yes" if torch.cuda.is_bf16_supported(including_emulation=False) else "no"
        return f"cuda:{idx} ({name}, native bf16: {bf16})"
    if device.type == "mps":
        return "mps (Apple GPU)"
    return f"cpu ({torch.get_num_threads()} threads)"


def autocast_dtype(device: torch.device | str) -> torch.dtype | None:
    """The autocast dtype for ``device``: bf16 where native, fp16 on other CUDA GPUs, else None.

    ``None`` means "train in float32". fp16 needs a ``torch.amp.GradScaler``; bf16 does not.
    """
    device = torch.device(device)
    if device.type != "cuda":
        return None
    if torch.cuda.is_bf16_supported(including_emulation=False):
        return torch.bfloat16
    return torch.float16


def set_matmul_precision(precision: str = "highest") -> None:
    """``"highest"`` (exact float32, the default) or ``"high"`` (TF32 on Ampere and newer)."""
    torch.set_float32_matmul_precision(precision)
