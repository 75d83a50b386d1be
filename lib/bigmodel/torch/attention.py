"""PyTorch's own multi-head attention layer run with the GPT's weights; mirrors
:mod:`bigmodel.tf.attention`. Used to check :func:`bigmodel.numpy.attention.multi_head_attention`
(and so the book's GPT) against the framework's standard implementation."""

from __future__ import annotations

import numpy as np
import torch

from ..inputs import positive_int
from ..numpy.attention import causal_mask

__all__ = ["multihead_attention"]


def multihead_attention(
    x: np.ndarray, params: dict[str, np.ndarray], prefix: str, n_head: int
) -> tuple[np.ndarray, np.ndarray]:
    """Causal self-attention of ``x (B, T, C)`` by ``torch.nn.MultiheadAttention`` loaded
    with the GPT weights under ``prefix`` (``c_attn (C, 3C)``, ``c_proj (C, C)``, biases).

    The layer stores ``in_proj_weight`` as ``(3C, C)``, output x input: the transpose of
    the book's ``c_attn``. Computed in float64. Returns ``(y (B, T, C), weights (B, H, T, T))``
    as NumPy arrays, like :func:`bigmodel.numpy.attention.multi_head_attention`.
    """
    n_head = positive_int(n_head, "n_head")
    x = np.asarray(x, np.float64)
    B, T, C = x.shape
    layer = torch.nn.MultiheadAttention(C, n_head, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        layer.in_proj_weight.copy_(torch.as_tensor(params[f"{prefix}.c_attn.weight"].T))
        layer.in_proj_bias.copy_(torch.as_tensor(params[f"{prefix}.c_attn.bias"]))
        layer.out_proj.weight.copy_(torch.as_tensor(params[f"{prefix}.c_proj.weight"].T))
        layer.out_proj.bias.copy_(torch.as_tensor(params[f"{prefix}.c_proj.bias"]))
        xt = torch.as_tensor(x)
        blocked = ~torch.as_tensor(causal_mask(T))  # PyTorch's mask: True = may NOT attend
        y, w = layer(xt, xt, xt, attn_mask=blocked, average_attn_weights=False)
    return y.numpy(), w.numpy()
