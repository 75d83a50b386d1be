"""A LoRA linear layer in NumPy: the reference both frameworks' adapters are checked against.

Mirrors :mod:`bigmodel.torch.lora` and :mod:`bigmodel.tf.lora`; the configuration, the
initialisation and the merge are framework-neutral, in :mod:`bigmodel.lora`. Computed in
float64, so differences from the frameworks are their float32 rounding.
"""

from __future__ import annotations

import numpy as np

from ..inputs import number

__all__ = ["lora_linear"]


def lora_linear(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    A: np.ndarray,
    B: np.ndarray,
    scale: float,
) -> np.ndarray:
    """``x @ W + b + scale * (x @ A) @ B``: ``(..., n_in)`` -> ``(..., n_out)``, float64.

    ``weight (n_in, n_out)`` and ``bias (n_out,)`` are the frozen layer, ``A (n_in, r)`` and
    ``B (r, n_out)`` the adapter, ``scale`` is ``alpha / r``. The update goes through the
    ``r``-wide bottleneck, ``(..., r)``, and is never formed as an ``(n_in, n_out)`` matrix.

    Raises:
        ValueError: the shapes do not chain (the message gives them all).
    """
    x, w = np.asarray(x, np.float64), np.asarray(weight, np.float64)
    a, b = np.asarray(A, np.float64), np.asarray(B, np.float64)
    n_in, n_out = w.shape if w.ndim == 2 else (None, None)
    if (w.ndim != 2 or x.shape[-1:] != (n_in,) or a.shape[:1] != (n_in,) or a.ndim != 2
            or b.shape != (a.shape[1], n_out) or (bias is not None and np.shape(bias) != (n_out,))):
        raise ValueError(
            f"shapes do not chain: x {x.shape}, weight {w.shape}, bias "
            f"{None if bias is None else np.shape(bias)}, A {a.shape}, B {b.shape}; "
            f"expected x (..., n_in), weight (n_in, n_out), A (n_in, r), B (r, n_out)"
        )
    y = x @ w + number(scale, "scale") * ((x @ a) @ b)  # (..., n_out), through (..., r)
    return y + np.asarray(bias, np.float64) if bias is not None else y
