"""Self-attention and the whole GPT in NumPy: the reference both frameworks are checked against.

Shapes: ``B`` batch, ``T`` sequence length, ``C`` width, ``H`` heads, ``Q = C/H`` head
size, ``V`` vocabulary. Weights are the arrays of :func:`bigmodel.gpt.param_shapes`
(input x output), so the same dictionary runs here, in :class:`bigmodel.torch.gpt.GPT`
and in :class:`bigmodel.tf.gpt.GPT`. Everything is computed in float64, so differences
from the frameworks are their float32 rounding.
"""

from __future__ import annotations

import math

import numpy as np

from .gpt import GPTConfig, check_params

__all__ = [
    "attention",
    "block",
    "causal_mask",
    "gelu",
    "gpt_forward",
    "layer_norm",
    "multi_head_attention",
    "param_breakdown",
    "softmax",
]


def softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """``exp(z) / sum(exp(z))`` along ``axis``, shifted by the maximum (no overflow);
    ``-inf`` entries get probability 0."""
    z = np.asarray(z, np.float64)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def causal_mask(T: int) -> np.ndarray:
    """``(T, T)`` booleans, True on and below the diagonal: position ``i`` sees ``j <= i``.

    The "lower-triangular trick": ``np.tril`` of ones. Masked scores are set to ``-inf``,
    which the softmax turns into weight 0.
    """
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


def layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray | None, eps: float = 1e-5) -> np.ndarray:
    """LayerNorm over the last axis: ``(x - mean) / √(var + eps) · gain + bias`` (biased var)."""
    x = np.asarray(x, np.float64)
    mean = x.mean(axis=-1, keepdims=True)
    var = x.var(axis=-1, keepdims=True)
    y = (x - mean) / np.sqrt(var + eps) * gain
    return y + bias if bias is not None else y


def gelu(x: np.ndarray) -> np.ndarray:
    """GELU, GPT-2's tanh approximation (Hendrycks and Gimpel, 2016)."""
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x**3)))


def _linear(x: np.ndarray, params: dict[str, np.ndarray], prefix: str) -> np.ndarray:
    y = x @ np.asarray(params[f"{prefix}.weight"], np.float64)
    bias = params.get(f"{prefix}.bias")
    return y + bias if bias is not None else y


def multi_head_attention(
    x: np.ndarray, params: dict[str, np.ndarray], prefix: str, n_head: int
) -> tuple[np.ndarray, np.ndarray]:
    """Causal multi-head self-attention of ``x (B, T, C)`` with the weights under ``prefix``
    (``"h.0.attn"``: ``c_attn`` makes q, k, v side by side, ``c_proj`` mixes the heads).

    Returns ``(y (B, T, C), weights (B, H, T, T))``.
    """
    B, T, C = x.shape
    if C % n_head:
        raise ValueError(f"width {C} is not divisible by n_head={n_head}")
    q, k, v = np.split(_linear(x, params, f"{prefix}.c_attn"), 3, axis=-1)  # 3 x (B, T, C)

    def heads(t: np.ndarray) -> np.ndarray:
        return t.reshape(B, T, n_head, C // n_head).transpose(0, 2, 1, 3)  # (B, H, T, Q)

    out, weights = attention(heads(q), heads(k), heads(v), causal=True)  # (B, H, T, Q)
    y = out.transpose(0, 2, 1, 3).reshape(B, T, C)  # heads side by side again
    return _linear(y, params, f"{prefix}.c_proj"), weights


def block(
    x: np.ndarray, params: dict[str, np.ndarray], i: int, config: GPTConfig
) -> tuple[np.ndarray, np.ndarray]:
    """Block ``i`` (pre-LayerNorm): ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``.

    Returns ``(x (B, T, C), attention weights (B, H, T, T))``.
    """
    p = f"h.{i}"
    a, weights = multi_head_attention(
        layer_norm(x, params[f"{p}.ln_1.weight"], params.get(f"{p}.ln_1.bias")),
        params, f"{p}.attn", config.n_head)
    x = x + a  # residual: the block adds to its input
    h = layer_norm(x, params[f"{p}.ln_2.weight"], params.get(f"{p}.ln_2.bias"))
    x = x + _linear(gelu(_linear(h, params, f"{p}.mlp.c_fc")), params, f"{p}.mlp.c_proj")
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
    check_params(params, config)
    idx = np.asarray(idx)
    if idx.ndim != 2 or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f"idx must be (B, T) integer token ids, got {idx.dtype} {idx.shape}")
    B, T = idx.shape
    if T > config.block_size:
        raise ValueError(f"sequence of {T} tokens is longer than block_size {config.block_size}")
    if idx.size and (idx.min() < 0 or idx.max() >= config.vocab_size):
        raise ValueError(f"token ids must be in [0, {config.vocab_size}), got {idx.min()}..{idx.max()}")
    wte = np.asarray(params["wte.weight"], np.float64)
    x = wte[idx] + np.asarray(params["wpe.weight"], np.float64)[:T]  # (B, T, C)
    maps = []
    for i in range(config.n_layer):
        x, weights = block(x, params, i, config)
        maps.append(weights)
    x = layer_norm(x, params["ln_f.weight"], params.get("ln_f.bias"))
    return x @ wte.T, maps  # (B, T, V)


def param_breakdown(config: GPTConfig) -> dict[str, int]:
    """Parameters per component: token and position embeddings, attention, MLP, LayerNorms.

    The tied output layer is the token embedding, counted once. The values add up to
    :func:`bigmodel.gpt.param_count`.
    """
    from .gpt import param_shapes

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
