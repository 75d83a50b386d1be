"""Keras' own multi-head attention layer run with the GPT's weights; mirrors
:mod:`bigmodel.torch.attention`. Used to check :func:`bigmodel.numpy.attention.multi_head_attention`
(and so the book's GPT) against the framework's standard implementation."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..inputs import positive_int

__all__ = ["multihead_attention"]


def multihead_attention(
    x: np.ndarray, params: dict[str, np.ndarray], prefix: str, n_head: int
) -> tuple[np.ndarray, np.ndarray]:
    """Causal self-attention of ``x (B, T, C)`` by ``tf.keras.layers.MultiHeadAttention``
    loaded with the GPT weights under ``prefix`` (``c_attn (C, 3C)``, ``c_proj (C, C)``,
    biases).

    Keras keeps one ``(C, H, Q)`` kernel and ``(H, Q)`` bias per projection (query, key,
    value) and an ``(H, Q, C)`` output kernel: the book's matrices, cut and reshaped.
    Computed in float64. Returns ``(y (B, T, C), weights (B, H, T, T))`` as NumPy arrays,
    like :func:`bigmodel.numpy.attention.multi_head_attention`.
    """
    n_head = positive_int(n_head, "n_head")
    x = np.asarray(x, np.float64)
    B, T, C = x.shape
    Q = C // n_head
    layer = tf.keras.layers.MultiHeadAttention(num_heads=n_head, key_dim=Q, dtype="float64")
    layer(x, x, use_causal_mask=True)  # builds the weights
    w, b = params[f"{prefix}.c_attn.weight"], params[f"{prefix}.c_attn.bias"]
    weights = []
    for j in range(3):  # query, key, value: side by side in c_attn
        cols = slice(j * C, (j + 1) * C)
        weights += [w[:, cols].reshape(C, n_head, Q), b[cols].reshape(n_head, Q)]
    weights += [params[f"{prefix}.c_proj.weight"].reshape(n_head, Q, C),
                params[f"{prefix}.c_proj.bias"]]
    layer.set_weights([np.asarray(a, np.float64) for a in weights])
    y, scores = layer(x, x, use_causal_mask=True, return_attention_scores=True)
    return y.numpy(), scores.numpy()
