"""Self-attention in NumPy: the reference both frameworks' attention is checked against.

Shapes: ``B`` batch, ``T`` sequence length, ``C`` width, ``H`` heads, ``Q = C/H`` head
size. Mirrors :mod:`bigmodel.torch.attention` and :mod:`bigmodel.tf.attention`.
Weights are the arrays of :func:`bigmodel.gpt.param_shapes` (input x output), so the
same dictionary runs here and in both frameworks. Everything is computed in float64, so
differences from the frameworks are their float32 rounding.
"""

from __future__ import annotations

import math

import numpy as np

from ..inputs import integer, positive_int

__all__ = ["attention", "causal_mask", "linear", "multi_head_attention", "softmax"]


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """``exp(z) / sum(exp(z))`` along ``axis``, shifted by the maximum (no overflow);
    ``-inf`` entries get probability 0."""
    axis = integer(axis, "axis")
    z = np.asarray(z, np.float64)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def causal_mask(T: int) -> np.ndarray:
    """``(T, T)`` booleans, True on and below the diagonal: position ``i`` sees ``j <= i``.

    The "lower-triangular trick": ``np.tril`` of ones. Masked scores are set to ``-inf``,
    which the softmax turns into weight 0.
    """
    T = integer(T, "T", low=0)
    return np.tril(np.ones((T, T), dtype=bool))


def attention(
    q: np.ndarray, k: np.ndarray, v: np.ndarray, causal: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """Scaled dot-product attention: ``softmax(q kᵀ / √d) v``.

    Args:
        q, k, v: ``(..., T, d)`` queries, keys and values (any leading axes, e.g. ``B, H``).
        causal: mask the future (position ``i`` attends to ``j <= i`` only).

    Returns:
        ``(out (..., T, d), weights (..., T, T))``; each row of ``weights`` sums to 1.

    The scores are divided by ``√d`` because a dot product of two vectors of ``d``
    independent entries of variance 1 has variance ``d``: unscaled, the softmax of large
    scores saturates towards one-hot and its gradients vanish.
    """
    q, k, v = (np.asarray(a, np.float64) for a in (q, k, v))
    if not (q.shape[-1] == k.shape[-1] and k.shape[-2] == v.shape[-2]):
        raise ValueError(f"attention needs q (..., T, d), k (..., S, d), v (..., S, d_v); got "
                         f"{q.shape}, {k.shape}, {v.shape}")
    d = q.shape[-1]
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(d)  # (..., T, S)
    if causal:
        T, S = scores.shape[-2:]
        if T != S:
            raise ValueError(f"a causal mask needs as many queries as keys, got {T} and {S}")
        scores = np.where(causal_mask(T), scores, -np.inf)
    weights = softmax(scores)
    return weights @ v, weights


def linear(x: np.ndarray, params: dict[str, np.ndarray], prefix: str) -> np.ndarray:
    """``x @ W + b`` with the weight and bias named ``{prefix}.weight`` and ``{prefix}.bias``
    (the bias may be absent); ``W`` is ``(in, out)``."""
    y = x @ np.asarray(params[f"{prefix}.weight"], np.float64)
    bias = params.get(f"{prefix}.bias")
    return y + bias if bias is not None else y


def multi_head_attention(
    x: np.ndarray, params: dict[str, np.ndarray], prefix: str, n_head: int,
    causal: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Multi-head self-attention of ``x (B, T, C)`` with the weights under ``prefix``
    (``"h.0.attn"``: ``c_attn`` makes q, k, v side by side, ``c_proj`` mixes the heads);
    causal (a GPT's) unless ``causal=False`` (an encoder's, :mod:`bigmodel.numpy.encoder`).

    Returns ``(y (B, T, C), weights (B, H, T, T))``.
    """
    n_head = positive_int(n_head, "n_head")
    B, T, C = x.shape
    if C % n_head:
        raise ValueError(f"width {C} is not divisible by n_head={n_head}")
    q, k, v = np.split(linear(x, params, f"{prefix}.c_attn"), 3, axis=-1)  # 3 x (B, T, C)

    def heads(t: np.ndarray) -> np.ndarray:
        return t.reshape(B, T, n_head, C // n_head).transpose(0, 2, 1, 3)  # (B, H, T, Q)

    out, weights = attention(heads(q), heads(k), heads(v), causal=causal)  # (B, H, T, Q)
    y = out.transpose(0, 2, 1, 3).reshape(B, T, C)  # heads side by side again
    return linear(y, params, f"{prefix}.c_proj"), weights


