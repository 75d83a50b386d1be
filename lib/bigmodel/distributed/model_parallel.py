"""Model parallelism, the framework-neutral half. Tensor parallelism: how a GPT block's
matrices split over ``N`` devices (Megatron-LM, Shoeybi et al., 2019), that split computed
in NumPy, and what it communicates. Pipeline parallelism: which blocks each stage holds
(:func:`stage_layers`) and the idle share of GPipe's schedule (:func:`bubble_fraction`).

Each block has two pairs of matrices, and each pair splits the same way: the first by
columns, the second by rows.

- MLP: device ``r`` holds the columns of ``c_fc`` for an ``N``-th of the hidden units
  and the rows of ``c_proj`` for the same units, and computes
  ``gelu(x @ W1_r + b1_r) @ W2_r``, a partial sum of the output. GELU acts on each unit
  alone, so no device needs another's units.
- Attention: device ``r`` holds the columns of ``c_attn`` that make q, k and v for
  ``H/N`` whole heads (:func:`qkv_columns`), and the rows of ``c_proj`` that read those
  heads. Heads attend independently, so again each device computes a partial sum.

One all-reduce then adds the ``N`` partial sums (and the bias of ``c_proj`` once): two
all-reduces of a ``(B, T, C)`` activation per block in the forward pass, and, by the same
argument, two of the gradient of the block's input in the backward pass
(:func:`tensor_parallel_traffic`). LayerNorms, embeddings and the head are replicated.
The PyTorch version, on PyTorch's own tensor-parallel engine, is
:mod:`bigmodel.torch.tensor_parallel`.
"""

from __future__ import annotations

import numpy as np

from ..gpt import GPTConfig
from ..inputs import integer, positive_int
from ..numpy.attention import attention
from ..numpy.gpt import gelu, layer_norm
from .costs import allreduce_bytes

__all__ = ["bubble_fraction", "check_tensor_parallel", "qkv_columns", "random_batch",
           "stage_layers", "tensor_parallel_block", "tensor_parallel_traffic"]


def check_tensor_parallel(config: GPTConfig, world_size: int) -> int:
    """``world_size`` if the model's heads split evenly over that many devices, else a
    ``ValueError`` saying which sizes do."""
    n = positive_int(world_size, "world_size")
    if config.n_head % n:
        sizes = [k for k in range(1, config.n_head + 1) if config.n_head % k == 0]
        raise ValueError(f"{config.n_head} heads do not split over {n} devices; tensor "
                         f"parallelism needs a divisor of n_head: {sizes}")
    return n


def qkv_columns(config: GPTConfig, world_size: int) -> np.ndarray:
    """The order of ``c_attn``'s ``3C`` columns that gives device ``r`` the ``r``-th of
    ``N`` equal contiguous blocks holding the q, k and v columns of its heads.

    ``c_attn.weight[:, qkv_columns(...)]`` split into ``N`` blocks of ``3C/N`` columns:
    block ``r`` is ``[q_r, k_r, v_r]``, each ``C/N`` wide, for heads ``r·H/N`` to
    ``(r+1)·H/N - 1``. The plain layout ``[q, k, v]`` would give device 0 all of q.
    """
    n = check_tensor_parallel(config, world_size)
    C, share = config.n_embd, config.n_embd // n
    own = [np.arange(r * share, (r + 1) * share) for r in range(n)]
    return np.concatenate([np.concatenate([cols, C + cols, 2 * C + cols]) for cols in own])


def _linear(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    y = x @ np.asarray(w, np.float64)
    return y + b if b is not None else y


def tensor_parallel_block(
    x: np.ndarray, params: dict[str, np.ndarray], i: int, config: GPTConfig, world_size: int
) -> np.ndarray:
    """Block ``i`` of the GPT on ``x (B, T, C)`` as ``world_size`` devices compute it, each
    with only its share of the four matrices; the sums over devices are the all-reduces.

    Float64, no dropout; equal to :func:`bigmodel.numpy.gpt.block` up to rounding.
    """
    n = check_tensor_parallel(config, world_size)
    i = integer(i, "i", low=0, high=config.n_layer - 1)
    p, B, T = f"h.{i}", x.shape[0], x.shape[1]
    C, H = config.n_embd, config.n_head
    Q, c_r, h_r, u_r = C // H, C // n, H // n, 4 * C // n  # head size, and per device
    get = params.get

    h = layer_norm(x, params[f"{p}.ln_1.weight"], get(f"{p}.ln_1.bias"))
    cols = qkv_columns(config, n)
    w_qkv, b_qkv = params[f"{p}.attn.c_attn.weight"][:, cols], get(f"{p}.attn.c_attn.bias")
    b_qkv = b_qkv[cols] if b_qkv is not None else None
    attn = np.zeros((B, T, C))
    for r in range(n):  # device r
        own = slice(r * 3 * c_r, (r + 1) * 3 * c_r)
        qkv = _linear(h, w_qkv[:, own], b_qkv[own] if b_qkv is not None else None)
        q, k, v = (t.reshape(B, T, h_r, Q).transpose(0, 2, 1, 3)  # (B, H/N, T, Q)
                   for t in np.split(qkv, 3, axis=-1))
        out, _ = attention(q, k, v, causal=True)
        y = out.transpose(0, 2, 1, 3).reshape(B, T, c_r)  # its heads side by side
        attn += _linear(y, params[f"{p}.attn.c_proj.weight"][r * c_r:(r + 1) * c_r], None)
    b = get(f"{p}.attn.c_proj.bias")
    x = x + (attn + b if b is not None else attn)  # all-reduce, then the bias once

    h = layer_norm(x, params[f"{p}.ln_2.weight"], get(f"{p}.ln_2.bias"))
    mlp = np.zeros((B, T, C))
    b_fc = get(f"{p}.mlp.c_fc.bias")
    for r in range(n):
        units = slice(r * u_r, (r + 1) * u_r)  # this device's hidden units
        a = gelu(_linear(h, params[f"{p}.mlp.c_fc.weight"][:, units],
                         b_fc[units] if b_fc is not None else None))  # (B, T, 4C/N)
        mlp += _linear(a, params[f"{p}.mlp.c_proj.weight"][units], None)
    b = get(f"{p}.mlp.c_proj.bias")
    return x + (mlp + b if b is not None else mlp)


def tensor_parallel_traffic(config: GPTConfig, batch: int, world_size: int,
                            bytes_per_value: int = 4) -> dict:
    """What tensor parallelism sends per training step, counted from the split.

    Returns ``{"allreduces_forward", "allreduces_backward"`` (2 per block each),
    ``"values_per_allreduce"`` (``B·T·C``), ``"bytes_per_device"`` (a ring all-reduce
    sends ``2(N-1)/N`` times its size, :func:`bigmodel.distributed.allreduce_bytes`)``}``.
    """
    n = check_tensor_parallel(config, world_size)
    values = positive_int(batch, "batch") * config.block_size * config.n_embd
    count = 2 * config.n_layer
    per = allreduce_bytes(values, n, bytes_per_value)
    return {"allreduces_forward": count, "allreduces_backward": count,
            "values_per_allreduce": values, "bytes_per_device": 2 * count * per}


def stage_layers(n_layer: int, n_stages: int) -> list[range]:
    """The blocks each of ``n_stages`` pipeline stages holds, in order, as equal as they
    split (the first stages take one more when they do not). Stage 0 also holds the
    embeddings, the last stage the final LayerNorm and the output layer."""
    n_layer, p = positive_int(n_layer, "n_layer"), positive_int(n_stages, "n_stages")
    if p > n_layer:
        raise ValueError(f"{p} pipeline stages need at least {p} blocks; the model has "
                         f"{n_layer}: use at most {n_layer} stages")
    edges = np.cumsum([0] + [n_layer // p + (s < n_layer % p) for s in range(p)])
    return [range(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:], strict=True)]


def bubble_fraction(n_stages: int, n_micro: int) -> float:
    """GPipe's idle share of each stage, ``(p - 1) / (m + p - 1)`` (Huang et al., 2019).

    With ``p`` stages of equal time per micro-batch and ``m`` micro-batches, the forward
    passes take ``m + p - 1`` slots, of which each stage works ``m``: the last stage waits
    ``p - 1`` slots for the first micro-batch, the first stage ``p - 1`` after its last
    one; the backward passes mirror that. Communication time is not counted.
    """
    p, m = positive_int(n_stages, "n_stages"), positive_int(n_micro, "n_micro")
    return (p - 1) / (m + p - 1)


def random_batch(config: GPTConfig, batch: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The batch the model-parallel workers and their one-process references share: token
    ids ``x`` and targets ``y``, each ``(batch, block_size)`` int64, uniform over the
    vocabulary, from ``numpy.random.default_rng([seed, 1])``."""
    batch, seed = positive_int(batch, "batch"), integer(seed, "seed", low=0)
    rng = np.random.default_rng([seed, 1])
    x = rng.integers(0, config.vocab_size, (batch, config.block_size))
    y = rng.integers(0, config.vocab_size, (batch, config.block_size))
    return x, y
