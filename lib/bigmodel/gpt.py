"""The framework-neutral half of the GPT: configuration, parameter names, counts, FLOPs,
GPT-3's published shape and sampling (generation: :mod:`bigmodel.gpt_base`; training:
:mod:`bigmodel.gpt_train`; checkpoints: :mod:`bigmodel.checkpoint`).

The model itself lives in :mod:`bigmodel.torch.gpt` and :mod:`bigmodel.tf.gpt`. Both store
their weights under the names and in the layout of :func:`param_shapes`: every matrix is
input x output (``x @ W``), as in :mod:`bigmodel.numpy.fcnn`, so one dictionary of NumPy arrays
(and one safetensors file) loads into either framework.

The architecture is GPT-2's (Radford et al., 2019): token and position embeddings, ``n_layer``
pre-LayerNorm blocks of causal multi-head self-attention and a 4x MLP with GELU (tanh
approximation), a final LayerNorm, and an output layer tied to the token embedding.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields

import numpy as np

from .hardware import GPUS, find_gpu
from .inputs import number, positive_int

__all__ = [
    "CONFIGS",
    "GPT3_175B",
    "GPT3_TRAINING_TOKENS",
    "PEAK_FLOPS",
    "GPTConfig",
    "check_params",
    "check_sampling",
    "check_tokens",
    "flops_per_token",
    "gpt3_params",
    "gpt3_training_flops",
    "init_params",
    "mfu",
    "param_count",
    "param_shapes",
    "peak_flops",
    "sample_next",
    "training_flops",
]

@dataclass(frozen=True)
class GPTConfig:
    """The shape of a GPT; one config drives the PyTorch and the TensorFlow model.

    Attributes:
        vocab_size: number of token ids ``V`` (65 characters for Tiny Shakespeare).
        block_size: context length ``T``, the most tokens the model sees at once.
        n_layer: Transformer blocks ``L``.
        n_head: attention heads ``H`` per block.
        n_embd: model width ``C`` (``d_model``); ``C / H`` is the head size ``Q``.
        dropout: dropout probability on embeddings, attention weights and residual outputs.
        bias: biases in the linear layers and LayerNorms (GPT-2 and GPT-3 have them).
    """

    vocab_size: int = 65
    block_size: int = 64
    n_layer: int = 2
    n_head: int = 4
    n_embd: int = 64
    dropout: float = 0.0
    bias: bool = True

    def __post_init__(self) -> None:
        for name in ("vocab_size", "block_size", "n_layer", "n_head", "n_embd"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 1:
                raise ValueError(f"GPTConfig.{name} must be a positive int, got {v!r}")
        if self.n_embd % self.n_head:
            raise ValueError(
                f"GPTConfig.n_embd={self.n_embd} is not divisible by n_head={self.n_head}: "
                "each head gets n_embd / n_head dimensions"
            )
        number(self.dropout, "GPTConfig.dropout", 0, 1, high_open=True)
        if not isinstance(self.bias, bool):
            raise ValueError(f"GPTConfig.bias must be True or False, got {self.bias!r}")

    @property
    def head_size(self) -> int:
        """``Q = n_embd / n_head``."""
        return self.n_embd // self.n_head

    def to_dict(self) -> dict:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> GPTConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"unknown GPTConfig fields {sorted(unknown)}")
        return cls(**d)

    def replace(self, **changes) -> GPTConfig:
        """A copy with some fields changed (validated again)."""
        return GPTConfig(**{**self.to_dict(), **changes})


# Named sizes for the notebook and the benchmark. Character level, vocabulary of 65.
CONFIGS: dict[str, GPTConfig] = {
    "nano": GPTConfig(block_size=32, n_layer=1, n_head=2, n_embd=32),
    "tiny": GPTConfig(block_size=64, n_layer=2, n_head=4, n_embd=64),
    "small": GPTConfig(block_size=128, n_layer=4, n_head=4, n_embd=128),
    # nanoGPT's "shakespeare_char" size: about 10.8 M parameters, a GPU job.
    "shakespeare": GPTConfig(block_size=256, n_layer=6, n_head=6, n_embd=384, dropout=0.2),
}

# GPT-3 175B as published: Brown et al. (2020), "Language Models are Few-Shot Learners",
# Table 2.1 (n_layers 96, d_model 12288, n_heads 96, d_head 128, context 2048) and §2.2
# (300 billion training tokens). The vocabulary is GPT-2's byte-level BPE, 50,257 tokens.
# (GPT-3 alternates dense and locally banded sparse attention layers; the parameter count
# does not depend on that.)
GPT3_175B = GPTConfig(vocab_size=50257, block_size=2048, n_layer=96, n_head=96, n_embd=12288)
GPT3_TRAINING_TOKENS = 300e9

# Peak dense matrix-multiply throughput in FLOP/s (no sparsity) in the precision the book
# trains in on each GPU (bf16 on Ampere and newer, fp16 on the T4): :data:`bigmodel.hardware.GPUS`.
PEAK_FLOPS: dict[str, float] = {name: spec.peak[spec.precision] for name, spec in GPUS.items()}


def peak_flops(device_name: str) -> float | None:
    """Peak FLOP/s of the GPU whose name contains a key of :data:`PEAK_FLOPS`, else ``None``.

    ``peak_flops("NVIDIA H100 80GB HBM3") == 989e12``; a CPU gives ``None`` (no MFU then).
    """
    spec = find_gpu(device_name)
    return None if spec is None else spec.peak[spec.precision]


# ---------------------------------------------------------------- parameters


def param_shapes(config: GPTConfig) -> dict[str, tuple[int, ...]]:
    """Parameter name -> shape, in a fixed order; the naming shared by both frameworks.

    Matrices are input x output. ``wte.weight (V, C)`` is also the output layer
    (weight tying: ``logits = x @ wte.weight.T``), so it appears once.
    """
    C, V, T = config.n_embd, config.vocab_size, config.block_size
    shapes: dict[str, tuple[int, ...]] = {"wte.weight": (V, C), "wpe.weight": (T, C)}

    def linear(prefix: str, n_in: int, n_out: int) -> None:
        shapes[f"{prefix}.weight"] = (n_in, n_out)
        if config.bias:
            shapes[f"{prefix}.bias"] = (n_out,)

    def norm(prefix: str) -> None:
        shapes[f"{prefix}.weight"] = (C,)
        if config.bias:
            shapes[f"{prefix}.bias"] = (C,)

    for i in range(config.n_layer):
        norm(f"h.{i}.ln_1")
        linear(f"h.{i}.attn.c_attn", C, 3 * C)  # q, k, v side by side
        linear(f"h.{i}.attn.c_proj", C, C)
        norm(f"h.{i}.ln_2")
        linear(f"h.{i}.mlp.c_fc", C, 4 * C)
        linear(f"h.{i}.mlp.c_proj", 4 * C, C)
    norm("ln_f")
    return shapes


def param_count(config: GPTConfig, include_position: bool = True) -> int:
    """Number of trainable scalars, the tied output layer counted once.

    Per block ``12·C² + 13·C`` with biases (``12·C² + 2·C`` without), plus ``V·C`` token
    and ``T·C`` position embeddings and the final LayerNorm. For GPT-3's shape this is
    174.6 billion, the "175B" of the paper.

    Args:
        include_position: count the ``T·C`` position embeddings (they cost no FLOPs).
    """
    n = sum(math.prod(s) for s in param_shapes(config).values())
    if not include_position:
        n -= config.block_size * config.n_embd
    return n


def init_params(config: GPTConfig, rng: np.random.Generator | int = 0) -> dict[str, np.ndarray]:
    """GPT-2's initialisation as float32 arrays: weights N(0, 0.02²), residual projections
    (``c_proj``) N(0, (0.02/√(2L))²), biases 0, LayerNorm gains 1."""
    rng = np.random.default_rng(rng)
    out = {}
    for name, shape in param_shapes(config).items():
        if name.endswith(".bias"):
            out[name] = np.zeros(shape, np.float32)
        elif len(shape) == 1:  # LayerNorm gain
            out[name] = np.ones(shape, np.float32)
        else:
            std = 0.02 / math.sqrt(2 * config.n_layer) if "c_proj" in name else 0.02
            out[name] = rng.normal(0.0, std, shape).astype(np.float32)
    return out


def check_params(params: dict[str, np.ndarray], config: GPTConfig) -> None:
    """Raise ``ValueError`` naming the first tensor that is missing, extra or misshapen.

    The message reads ``tensor 'h.0.attn.c_attn.weight': expected shape (64, 192), got
    (32, 96)``.
    """
    shapes = param_shapes(config)
    for name, shape in shapes.items():
        if name not in params:
            raise ValueError(f"tensor {name!r} is missing (expected shape {shape})")
        got = tuple(np.shape(params[name]))
        if got != shape:
            raise ValueError(f"tensor {name!r}: expected shape {shape}, got {got}")
    extra = sorted(set(params) - set(shapes))
    if extra:
        raise ValueError(f"unexpected tensors {extra} for this configuration")


# ---------------------------------------------------------------- FLOPs


def flops_per_token(config: GPTConfig) -> float:
    """Training FLOPs per token, forward and backward: ``6·N + 12·L·H·Q·T``.

    ``N`` counts the parameters that take part in matrix products (all but the position
    embeddings; the tied output layer counts once), ``6·N`` is 2 FLOPs per multiply-add
    times 3 for forward plus backward, and ``12·L·H·Q·T`` is the attention scores and
    weighted sum over a full context of ``T`` tokens (Chowdhery et al., 2022, appendix B).
    """
    n = param_count(config, include_position=False)
    return 6 * n + 12 * config.n_layer * config.n_head * config.head_size * config.block_size


def training_flops(n_params: float, n_tokens: float) -> float:
    """The ``6·N·D`` estimate of training compute in FLOPs (Kaplan et al., 2020)."""
    n_params, n_tokens = number(n_params, "n_params", 0), number(n_tokens, "n_tokens", 0)
    return 6.0 * n_params * n_tokens


def gpt3_params() -> int:
    """Parameters of GPT-3 175B computed from its published shape (174.6 billion)."""
    return param_count(GPT3_175B)


def gpt3_training_flops() -> float:
    """``6·N·D`` for GPT-3 175B on its 300 B tokens: about 3.14e23 FLOPs."""
    return training_flops(gpt3_params(), GPT3_TRAINING_TOKENS)


def mfu(tokens_per_second: float, config: GPTConfig, peak: float | None) -> float | None:
    """Model FLOPs utilisation: achieved ``tokens/s · flops_per_token`` over ``peak`` FLOP/s.

    ``None`` when the peak is unknown (CPUs): there is then no honest denominator.
    """
    tokens_per_second = number(tokens_per_second, "tokens_per_second", 0)
    if peak is None:
        return None
    peak = number(peak, "peak", 0, low_open=True, hint="FLOP/s, or None where unknown")
    return tokens_per_second * flops_per_token(config) / peak


# ---------------------------------------------------------------- sampling


def check_sampling(temperature: float, top_k: int | None, top_p: float | None) -> None:
    """Raise ``ValueError`` for ``temperature <= 0``, ``top_k < 1`` or ``top_p`` outside (0, 1]."""
    number(temperature, "temperature", 0, low_open=True,
           hint="for greedy decoding use top_k=1")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer))
                              or top_k < 1):
        raise ValueError(f"top_k must be an int >= 1 or None, got {top_k!r}")
    if top_p is not None:
        number(top_p, "top_p", 0, 1, low_open=True, hint="or None to keep every token")


def sample_next(
    logits: np.ndarray,
    rng: np.random.Generator,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
) -> np.ndarray:
    """Draw one token id per row from ``logits (B, V)``; returns ``(B,)`` int64.

    ``logits`` are divided by ``temperature``; ``top_k`` keeps the ``k`` largest, ``top_p``
    the smallest set of most likely tokens whose probability reaches ``p`` (nucleus
    sampling). ``top_k=1`` is greedy decoding and uses no randomness. Both frameworks call
    this on NumPy logits, so the same logits and seed give the same text in both.
    """
    check_sampling(temperature, top_k, top_p)
    z = np.asarray(logits, np.float64)
    if z.ndim != 2:
        raise ValueError(f"logits must be (B, V), got shape {z.shape}")
    if top_k == 1:
        return z.argmax(axis=1).astype(np.int64)
    z = z / temperature
    if top_k is not None and top_k < z.shape[1]:
        kth = np.sort(z, axis=1)[:, -top_k][:, None]
        z = np.where(z < kth, -np.inf, z)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    if top_p is not None and top_p < 1.0:
        order = np.argsort(-p, axis=1, kind="stable")
        sorted_p = np.take_along_axis(p, order, axis=1)
        # keep a token if the mass before it is below top_p (the first is always kept)
        keep_sorted = (np.cumsum(sorted_p, axis=1) - sorted_p) < top_p
        keep = np.zeros_like(keep_sorted)
        np.put_along_axis(keep, order, keep_sorted, axis=1)
        p = np.where(keep, p, 0.0)
        p /= p.sum(axis=1, keepdims=True)
    u = rng.random((p.shape[0], 1))
    ids = (np.cumsum(p, axis=1) < u).sum(axis=1)
    return np.minimum(ids, p.shape[1] - 1).astype(np.int64)


# ---------------------------------------------------------------- training pieces


def check_tokens(
    tokens: np.ndarray, block_size: int, vocab_size: int, split: str = "tokens"
) -> np.ndarray:
    """``tokens`` as a 1-D integer array long enough for one window, or a clear error.

    Args:
        split: which data the tokens are (``"train"``, ``"val"``), named in the message.
    """
    block_size = positive_int(block_size, "block_size")
    vocab_size = positive_int(vocab_size, "vocab_size")
    arr = np.asarray(tokens)
    if arr.ndim != 1:
        raise ValueError(
            f"{split} tokens have shape {arr.shape}; expected one 1-D sequence of token ids "
            "(the batches are cut from it). Join the rows first, e.g. tokens.reshape(-1)."
        )
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{split} tokens have dtype {arr.dtype}; expected integer token ids")
    if len(arr) < block_size + 1:
        raise ValueError(
            f"the {split} split has {len(arr)} tokens; a window needs block_size + 1 = "
            f"{block_size + 1}. Give it more text, or use a smaller block_size."
        )
    if arr.min() < 0 or arr.max() >= vocab_size:
        raise ValueError(
            f"{split} tokens range from {arr.min()} to {arr.max()}; the model's vocabulary "
            f"has {vocab_size} ids, 0 to {vocab_size - 1}"
        )
    return arr
