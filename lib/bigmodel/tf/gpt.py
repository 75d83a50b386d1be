"""A decoder-only Transformer (GPT) in TensorFlow; mirrors :mod:`bigmodel.torch.gpt`.

The same module tree as the PyTorch model, class by class (``_Linear``, ``_LayerNorm``,
``_CausalSelfAttention``, ``_MLP``, ``_Block``, ``GPT``), built from plain ``tf.Module``
and ``tf.Variable``; attention is written out with ``tf.matmul`` and a causal mask built
by hand, where PyTorch calls one fused function. Shapes: ``B`` batch, ``T`` sequence
length, ``C`` width, ``H`` heads, ``Q = C/H``, ``V`` vocabulary. The variables are named
as PyTorch's parameters (:func:`bigmodel.gpt.param_shapes`, input x output): the same
NumPy arrays and safetensors files load here and into the PyTorch model, and give the
same logits. Mixed precision: each piece computes in the dtype of its input and casts
its float32 variables to it (``GPT.compute_dtype`` sets that dtype once, at the
embeddings). Generation, checkpoints and the parameter count are
:class:`bigmodel.gpt_base.GPTBase`'s, shared with PyTorch.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence

import numpy as np
import tensorflow as tf

from ..checkpoint import load_checkpoint
from ..gpt import GPTConfig, check_params, init_params, param_shapes
from ..gpt_base import GPTBase, KVCache, check_kind, default_seed
from ..inputs import integer, positive_int
from .device import _device

__all__ = ["GPT", "KVCache", "causal_mask"]


class _Linear(tf.Module):
    """``x @ weight + bias`` with ``weight`` of shape ``(n_in, n_out)`` (input x output)."""

    def __init__(self, n_in: int, n_out: int, bias: bool):
        super().__init__()
        self.weight = tf.Variable(tf.zeros([n_in, n_out]), name="weight")
        self.bias = tf.Variable(tf.zeros([n_out]), name="bias") if bias else None
        self.lora: tf.Module | None = None  # a low-rank update (bigmodel.tf.lora)

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        y = tf.matmul(x, tf.cast(self.weight, x.dtype))
        if self.bias is not None:
            y = y + tf.cast(self.bias, x.dtype)
        return y if self.lora is None else y + self.lora(x)


class _LayerNorm(tf.Module):
    """LayerNorm over the last axis, eps 1e-5, with an optional bias; in float32."""

    def __init__(self, n: int, bias: bool):
        super().__init__()
        self.weight = tf.Variable(tf.ones([n]), name="weight")
        self.bias = tf.Variable(tf.zeros([n]), name="bias") if bias else None

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        x32 = tf.cast(x, tf.float32)
        mean, var = tf.nn.moments(x32, axes=[-1], keepdims=True)  # biased variance, as torch
        y = (x32 - mean) * tf.math.rsqrt(var + 1e-5) * self.weight
        if self.bias is not None:
            y = y + self.bias
        return tf.cast(y, x.dtype)


class _Embedding(tf.Module):
    """Rows of ``weight (n, C)`` looked up by index."""

    def __init__(self, n: int, C: int):
        super().__init__()
        self.weight = tf.Variable(tf.zeros([n, C]), name="weight")

    def __call__(self, idx: tf.Tensor) -> tf.Tensor:
        return tf.gather(self.weight, idx)


def _dropout(x: tf.Tensor, rate: float, training: bool) -> tf.Tensor:
    return tf.nn.dropout(x, rate=rate) if training and rate > 0 else x


def causal_mask(T: int, past: int = 0) -> tf.Tensor:
    """``(T, past + T)`` booleans: query ``i`` (at position ``past + i``) sees key ``j``
    if ``j <= past + i``."""
    T, past = positive_int(T, "T"), integer(past, "past", low=0)
    q_pos = tf.range(T)[:, None] + past
    k_pos = tf.range(past + T)[None, :]
    return k_pos <= q_pos


class _CausalSelfAttention(tf.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        C = config.n_embd
        self.c_attn = _Linear(C, 3 * C, config.bias)  # q, k, v for all heads at once
        self.c_proj = _Linear(C, C, config.bias)
        self.n_head = config.n_head
        self.dropout = config.dropout
        self.causal = True  # False: every position sees every other (bigmodel.tf.encoder)

    def __call__(
        self, x: tf.Tensor, cache: KVCache | None = None, layer: int = 0, training: bool = False
    ) -> tf.Tensor:
        B, T, C = x.shape[0], x.shape[1], x.shape[2]
        B = B if B is not None else tf.shape(x)[0]
        H, Q = self.n_head, C // self.n_head
        q, k, v = tf.split(self.c_attn(x), 3, axis=-1)  # 3 x (B, T, C)

        def heads(t: tf.Tensor) -> tf.Tensor:
            return tf.transpose(tf.reshape(t, [B, T, H, Q]), [0, 2, 1, 3])  # (B, H, T, Q)

        q, k, v = heads(q), heads(k), heads(v)
        past = 0
        if cache is not None:
            if cache.layers[layer] is not None:
                pk, pv = cache.layers[layer]
                past = int(pk.shape[2])
                k = tf.concat([pk, k], axis=2)  # (B, H, past + T, Q)
                v = tf.concat([pv, v], axis=2)
            cache.layers[layer] = (k, v)
        att = tf.matmul(q, k, transpose_b=True)  # (B, H, T, past + T)
        att = tf.cast(att, tf.float32) * (1.0 / math.sqrt(Q))  # softmax in float32
        if self.causal:
            att = tf.where(causal_mask(T, past), att, tf.constant(-math.inf, tf.float32))
        att = tf.nn.softmax(att, axis=-1)
        att = _dropout(att, self.dropout, training)
        y = tf.matmul(tf.cast(att, v.dtype), v)  # (B, H, T, Q)
        y = tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [B, T, C])  # heads side by side again
        return _dropout(self.c_proj(y), self.dropout, training)  # (B, T, C)


class _MLP(tf.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = _Linear(config.n_embd, 4 * config.n_embd, config.bias)
        self.c_proj = _Linear(4 * config.n_embd, config.n_embd, config.bias)
        self.dropout = config.dropout

    def __call__(self, x: tf.Tensor, training: bool = False) -> tf.Tensor:
        # GPT-2's GELU is the tanh approximation; PyTorch uses the same one
        h = tf.nn.gelu(self.c_fc(x), approximate=True)  # (B, T, 4C)
        return _dropout(self.c_proj(h), self.dropout, training)  # (B, T, C)


class _Block(tf.Module):
    """Pre-LayerNorm block: ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = _LayerNorm(config.n_embd, config.bias)
        self.attn = _CausalSelfAttention(config)
        self.ln_2 = _LayerNorm(config.n_embd, config.bias)
        self.mlp = _MLP(config)

    def __call__(
        self, x: tf.Tensor, cache: KVCache | None = None, layer: int = 0, training: bool = False
    ) -> tf.Tensor:
        x = x + self.attn(self.ln_1(x), cache, layer, training)
        return x + self.mlp(self.ln_2(x), training)


def _named_variables(module: tf.Module, prefix: str = "") -> Iterator[tuple[str, tf.Variable]]:
    """``(dotted name, variable)`` pairs of a module tree, named as PyTorch's
    ``named_parameters()`` names them (``h.0.attn.c_attn.weight``)."""
    for attr, value in vars(module).items():
        if attr.startswith("_"):
            continue
        if isinstance(value, tf.Variable):
            yield prefix + attr, value
        elif isinstance(value, tf.Module):
            yield from _named_variables(value, f"{prefix}{attr}.")
        elif isinstance(value, Sequence) and not isinstance(value, str):
            for i, item in enumerate(value):
                if isinstance(item, tf.Module):
                    yield from _named_variables(item, f"{prefix}{attr}.{i}.")


class GPT(GPTBase, tf.Module):
    """GPT-2-style language model; see :class:`bigmodel.gpt.GPTConfig`.

    Args:
        config: the shape.
        params: NumPy arrays named as :func:`bigmodel.gpt.param_shapes`; default: GPT-2's
            initialisation drawn with ``seed``.
        seed: seed of that initialisation; ``None`` draws one with
            :func:`bigmodel.gpt_base.default_seed` (NumPy's global generator, seeded by
            :func:`bigmodel.tf.seed_everything`). The same seed gives the same weights as
            :class:`bigmodel.torch.gpt.GPT`.
        compute_dtype: ``"float32"`` (default), or ``"bfloat16"``/``"float16"`` for mixed
            precision: the variables stay float32 and are cast for the matrix products;
            LayerNorm, softmax and the loss run in float32. An attribute, which
            :func:`bigmodel.tf.gpt_train.train` sets for a run and restores.
    """

    def __init__(
        self,
        config: GPTConfig,
        params: dict[str, np.ndarray] | None = None,
        seed: int | None = None,
        compute_dtype: str = "float32",
    ):
        super().__init__(name="gpt")
        self.config = config
        self.compute_dtype = tf.as_dtype(compute_dtype)
        if params is None:
            seed = default_seed() if seed is None else integer(seed, "seed", low=0)
            params = init_params(config, rng=seed)
        self.wte = _Embedding(config.vocab_size, config.n_embd)  # also the output layer
        self.wpe = _Embedding(config.block_size, config.n_embd)
        self.h = [_Block(config) for _ in range(config.n_layer)]
        self.ln_f = _LayerNorm(config.n_embd, config.bias)
        named = dict(_named_variables(self))
        self.variables_by_name: dict[str, tf.Variable] = {
            name: named[name] for name in param_shapes(config)
        }
        self.load_numpy(params)

    # ------------------------------------------------------------ forward

    def __call__(
        self,
        idx: tf.Tensor,
        targets: tf.Tensor | None = None,
        cache: KVCache | None = None,
        training: bool = False,
        checkpoint: bool = False,
    ) -> tuple[tf.Tensor, tf.Tensor | None]:
        """Logits for every position, and the loss if ``targets`` are given.

        Args:
            idx: token ids ``(B, T)`` int, ``T <= block_size`` (minus what ``cache`` holds).
            targets: next-token ids ``(B, T)``; the loss is the mean cross-entropy in nats.
            cache: a :class:`KVCache` to read and extend (generation only).
            training: apply dropout.
            checkpoint: activation checkpointing (``tf.recompute_grad``): keep only each
                block's input and recompute its inside in the backward pass.

        Returns:
            ``(logits (B, T, V) float32, loss or None)``.
        """
        x = self._states(idx, cache, training, checkpoint)  # (B, T, C)
        logits = tf.matmul(x, tf.cast(self.wte.weight, x.dtype), transpose_b=True)  # tied
        logits = tf.cast(logits, tf.float32)  # (B, T, V)
        loss = None
        if targets is not None:
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)
            )
        return logits, loss

    def hidden(self, idx: tf.Tensor) -> tf.Tensor:
        """The last layer's normalised states ``(B, T, C)`` of ``idx (B, T)``: what the
        output layer reads, and what a classifier head reads instead
        (:class:`bigmodel.tf.classify.GPTClassifier`)."""
        return self._states(idx, None, False, False)

    def _states(self, idx: tf.Tensor, cache: KVCache | None, training: bool,
                checkpoint: bool) -> tf.Tensor:
        idx = tf.convert_to_tensor(idx)
        T = int(idx.shape[1])
        past = cache.length if cache is not None else 0
        if past + T > self.config.block_size:
            raise ValueError(
                f"sequence of {past + T} tokens is longer than block_size "
                f"{self.config.block_size}; crop it (generate() does)"
            )
        tok = self.wte(idx)  # (B, T, C)
        pos = self.wpe.weight[past : past + T]  # (T, C)
        x = _dropout(tf.cast(tok + pos, self.compute_dtype), self.config.dropout, training)
        if checkpoint and cache is not None:
            raise ValueError("checkpoint=True is for training; generation with a cache needs none")
        for i, block in enumerate(self.h):
            if checkpoint:
                x = tf.recompute_grad(lambda x, block=block: block(x, training=training))(x)
            else:
                x = block(x, cache, i, training)
        return self.ln_f(x)

    def next_logits(self, idx: np.ndarray, cache: KVCache | None = None) -> np.ndarray:
        """Float32 logits ``(B, V)`` of the last position of ``idx (B, T)``, no dropout."""
        logits, _ = self(np.asarray(idx, np.int64), cache=cache)
        return logits[:, -1, :].numpy()

    def logits(self, idx: np.ndarray) -> np.ndarray:
        """Float32 logits ``(B, T, V)`` of every position of ``idx (B, T)``, no dropout."""
        out, _ = self(np.asarray(idx, np.int64))
        return out.numpy()

    # ------------------------------------------------------------ weights

    @property
    def params(self) -> list[tf.Variable]:
        """The variables in the order of :func:`bigmodel.gpt.param_shapes`."""
        return [self.variables_by_name[n] for n in param_shapes(self.config)]

    @property
    def trainable_params(self) -> list[tf.Variable]:
        """The variables that training updates, :attr:`params` in their order or, once
        :func:`bigmodel.tf.lora.add_lora` has frozen them, the adapters' variables."""
        own = [v for v in self.params if v.trainable]
        return own + [v for n, v in _named_variables(self) if ".lora." in n and v.trainable]

    def load_numpy(self, params: dict[str, np.ndarray]) -> None:
        """Copy NumPy arrays named as :func:`bigmodel.gpt.param_shapes` into the variables.

        Raises:
            ValueError: a tensor is missing, extra or of another shape (the message names
                it, the expected and the given shape).
        """
        check_params(params, self.config)
        for name, var in self.variables_by_name.items():
            var.assign(np.asarray(params[name], np.float32))

    def to_numpy(self) -> dict[str, np.ndarray]:
        """The variables as float32 NumPy arrays, named as :func:`bigmodel.gpt.param_shapes`."""
        return {n: v.numpy().copy() for n, v in self.variables_by_name.items()}

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, device: str | None = None) -> GPT:
        """A new model with the config and weights stored in ``path``, its variables on
        ``device`` (``"cpu"``, ``"cuda"``, ``"/GPU:0"``...; default: TensorFlow's choice)."""
        config, params, meta = load_checkpoint(path)
        check_kind(meta, cls.kind, path)
        if device is None:
            return cls(config, params=params)
        with tf.device(_device(device)):
            return cls(config, params=params)
