"""The whole GPT in NumPy: the reference both frameworks' GPTs are checked against.

Mirrors :mod:`bigmodel.torch.gpt` and :mod:`bigmodel.tf.gpt` (pre-LayerNorm blocks, GELU,
weight tying), as nanoGPT's ``model.py``. Shapes: ``B`` batch, ``T`` sequence length,
``C`` width, ``H`` heads, ``V`` vocabulary. Weights are the arrays of
:func:`bigmodel.gpt.param_shapes` (input x output), so the same dictionary runs here, in
:class:`bigmodel.torch.gpt.GPT` and in :class:`bigmodel.tf.gpt.GPT`. Everything is computed
in float64, so differences from the frameworks are their float32 rounding. The config,
shapes and initialisation are framework-neutral and live in :mod:`bigmodel.gpt`.
"""

from __future__ import annotations

import math

import numpy as np

from ..gpt import GPTConfig, check_params, param_shapes
from ..inputs import integer, number
from .attention import linear, multi_head_attention

__all__ = ["block", "gelu", "gpt_forward", "gpt_hidden", "layer_norm", "param_breakdown"]


def layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray | None, eps: float = 1e-5) -> np.ndarray:
    """LayerNorm over the last axis: ``(x - mean) / √(var + eps) · gain + bias`` (biased var)."""
    eps = number(eps, "eps", 0, low_open=True)
    x = np.asarray(x, np.float64)
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    y = (x - mean) / np.sqrt(var + eps) * gain
    return y + bias if bias is not None else y


def gelu(x: np.ndarray) -> np.ndarray:
    """GELU, GPT-2's tanh approximation (Hendrycks and Gimpel, 2016)."""
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def block(
    x: np.ndarray, params: dict[str, np.ndarray], i: int, config: GPTConfig,
    causal: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Block ``i`` (pre-LayerNorm): ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``;
    ``causal=False`` lets attention see both sides (an encoder's block).

    Returns ``(x (B, T, C), attention weights (B, H, T, T))``.
    """
    i = integer(i, "i", low=0, high=config.n_layer - 1)
    p = f"h.{i}"
    a, weights = multi_head_attention(
        layer_norm(x, params[f"{p}.ln_1.weight"], params.get(f"{p}.ln_1.bias")),
        params, f"{p}.attn", config.n_head, causal)
    x = x + a  # residual: the block adds to its input
    h = layer_norm(x, params[f"{p}.ln_2.weight"], params.get(f"{p}.ln_2.bias"))
    x = x + linear(gelu(linear(h, params, f"{p}.mlp.c_fc")), params, f"{p}.mlp.c_proj")
    return x, weights


def gpt_forward(
    params: dict[str, np.ndarray], idx: np.ndarray, config: GPTConfig
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The whole GPT on token ids ``idx (B, T)``, in float64, without dropout.

    Returns ``(logits (B, T, V), [attention weights (B, H, T, T) of each block])``.
    The output layer is the token embedding (weight tying).

    Raises:
        ValueError: wrong weights for ``config``, ``T > block_size`` or ids outside the
            vocabulary (the messages say which).
    """
    x, maps = gpt_hidden(params, idx, config)  # (B, T, C)
    return x @ np.asarray(params["wte.weight"], np.float64).T, maps  # (B, T, V)


def gpt_hidden(
    params: dict[str, np.ndarray], idx: np.ndarray, config: GPTConfig, causal: bool = True
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The last layer's normalised states ``(B, T, C)`` of token ids ``idx (B, T)``, in
    float64, and the attention weights of each block: :func:`gpt_forward` before its
    output layer (``causal=False``: the encoder's, :mod:`bigmodel.numpy.encoder`).

    Raises:
        ValueError: as :func:`gpt_forward`.
    """
    check_params(params, config)
    idx = np.asarray(idx)
    if idx.ndim != 2 or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f"idx must be (B, T) integer token ids, got {idx.dtype} {idx.shape}")
    T = idx.shape[1]
    if T > config.block_size:
        raise ValueError(f"sequence of {T} tokens is longer than block_size {config.block_size}")
    if idx.size and (idx.min() < 0 or idx.max() >= config.vocab_size):
        raise ValueError(f"token ids must be in [0, {config.vocab_size}), got {idx.min()}..{idx.max()}")
    wte = np.asarray(params["wte.weight"], np.float64)
    x = wte[idx] + np.asarray(params["wpe.weight"], np.float64)[:T]  # (B, T, C)
    maps = []
    for i in range(config.n_layer):
        x, weights = block(x, params, i, config, causal)
        maps.append(weights)
    return layer_norm(x, params["ln_f.weight"], params.get("ln_f.bias")), maps


def param_breakdown(config: GPTConfig) -> dict[str, int]:
    """Parameters per component: token and position embeddings, attention, MLP, LayerNorms.

    The tied output layer is the token embedding, counted once. The values add up to
    :func:`bigmodel.gpt.param_count`.
    """
    parts = {"token embedding": 0, "position embedding": 0, "attention": 0, "MLP": 0,
             "LayerNorm": 0}
    for name, shape in param_shapes(config).items():
        n = math.prod(shape)
        if name.startswith("wte"):
            parts["token embedding"] += n
        elif name.startswith("wpe"):
            parts["position embedding"] += n
        elif ".attn." in name:
            parts["attention"] += n
        elif ".mlp." in name:
            parts["MLP"] += n
        else:
            parts["LayerNorm"] += n
    return parts
