"""Device and precision choice for PyTorch.

Policy (stated once, used everywhere):

- Device: CUDA, then Apple MPS, then CPU, unless the caller or ``BIGMODEL_DEVICE`` says.
- Precision (:func:`precision`, the same words in both frameworks): float32 weights;
  ``"bfloat16"`` autocast on CUDA GPUs of compute capability 8.0 and newer (Ampere on),
  ``"float16"`` autocast with a gradient scaler on older CUDA GPUs such as the T4,
  ``"float32"`` on CPU and MPS (:func:`bigmodel.hardware.precision_for`).
- TF32: off, in matrix products and in cuDNN's convolutions, so results match the NumPy
  reference; :func:`set_matmul_precision` ("high") turns it on for both, for speed on
  Ampere and newer. PyTorch's own defaults differ (no TF32 in matrix products, TF32 in
  convolutions: a CNN's logits moved by 2.7e-3 on an H200), so importing this module
  applies the policy.
"""

from __future__ import annotations

import os

import torch

from ..hardware import KINDS, parse_device, precision_for


def _available(kind: str, index: int) -> bool:
    if kind == "cuda":
        return torch.cuda.is_available() and index < torch.cuda.device_count()
    if kind == "mps":
        return torch.backends.mps.is_available()
    return True


def _device(spec: torch.device | str, source: str = "device") -> torch.device:
    """A ``torch.device`` for an available device, or a clear error naming what is missing."""
    if isinstance(spec, torch.device):
        kind, index = spec.type, spec.index or 0
        if kind not in KINDS:
            raise ValueError(f"{source}={spec!r}: only cuda, mps and cpu are supported")
    else:
        kind, index = parse_device(spec, source)
    if not _available(kind, index):
        seen = torch.cuda.device_count() if kind == "cuda" else 0
        raise RuntimeError(
            f"{source}={str(spec)!r} was requested but is not available here "
            f"(PyTorch sees {seen} CUDA GPU(s); MPS available: {torch.backends.mps.is_available()}). "
            "Pick another device, or unset BIGMODEL_DEVICE to choose automatically."
        )
    return torch.device(kind, index) if kind == "cuda" else torch.device(kind)


def pick_device(prefer: str | None = None) -> torch.device:
    """Return the device to compute on.

    Args:
        prefer: ``"cuda"``, ``"mps"``, ``"cpu"`` (or ``"cuda:1"``, any case; see
            :mod:`bigmodel.hardware`); ``None`` reads ``BIGMODEL_DEVICE`` and else takes
            the best available.

    Raises:
        ValueError: not a device name. RuntimeError: the device is not available here.
    """
    if prefer:
        return _device(prefer)
    env = os.environ.get("BIGMODEL_DEVICE", "").strip()
    if env:
        return _device(env, "BIGMODEL_DEVICE")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def describe_device(device: torch.device | str | None = None) -> str:
    """One line naming the device, e.g. ``'cuda:0 (NVIDIA T4, bf16: no)'`` or ``'cpu (2 threads)'``."""
    device = _device(device) if device is not None else pick_device()
    if device.type == "cuda":
        idx = device.index or 0
        name = torch.cuda.get_device_name(idx)
        bf16 = "yes" if torch.cuda.is_bf16_supported(including_emulation=False) else "no"
        return f"cuda:{idx} ({name}, native bf16: {bf16})"
    if device.type == "mps":
        return "mps (Apple GPU)"
    return f"cpu ({torch.get_num_threads()} threads)"


def precision(device: torch.device | str) -> str:
    """The training precision on ``device``: ``"bfloat16"``, ``"float16"`` or ``"float32"``.

    The book's policy (:func:`bigmodel.hardware.precision_for`): bfloat16 on CUDA GPUs of
    compute capability 8.0 and newer, float16 on older ones (T4), float32 elsewhere;
    ``BIGMODEL_PRECISION`` overrides it.

    Raises:
        RuntimeError: ``device`` is not available here (asking about ``"cuda"`` on a machine
            without CUDA is a mistake, not a float32 answer).
    """
    device = _device(device)
    capability = torch.cuda.get_device_capability(device) if device.type == "cuda" else None
    return precision_for(device.type, capability)


def autocast_dtype(device: torch.device | str) -> torch.dtype | None:
    """The autocast dtype of :func:`precision` on ``device``; ``None`` means float32.

    ``torch.float16`` needs a ``torch.amp.GradScaler``; ``torch.bfloat16`` does not.
    """
    name = precision(device)
    return None if name == "float32" else getattr(torch, name)


def set_matmul_precision(precision: str = "highest") -> None:
    """``"highest"`` (exact float32, the default) or ``"high"`` (TF32 on Ampere and newer).

    Covers matrix products and cuDNN's convolutions alike (PyTorch's legacy flags, the ones
    PyTorch reads back without error: the newer ``fp32_precision`` flags must not be mixed
    with them).
    """
    if precision not in ("highest", "high"):
        raise ValueError(f"precision must be 'highest' or 'high', got {precision!r}")
    torch.set_float32_matmul_precision(precision)
    torch.backends.cudnn.allow_tf32 = precision == "high"


set_matmul_precision("highest")
