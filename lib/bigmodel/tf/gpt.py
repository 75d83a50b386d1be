"""A decoder-only Transformer (GPT) in TensorFlow; mirrors :mod:`bigmodel.torch.gpt`.

Written with plain ``tf.Variable`` weights, ``tf.matmul`` and a causal mask built by hand,
so every step of attention is visible. Shapes: ``B`` batch, ``T`` sequence length, ``C``
width, ``H`` heads, ``Q = C/H``, ``V`` vocabulary. The variables carry the names and the
input x output layout of :func:`bigmodel.gpt.param_shapes`: the same NumPy arrays and
safetensors files load here and into the PyTorch model, and give the same logits.
Generation, checkpoints and the parameter count are :class:`bigmodel.gpt_base.GPTBase`'s,
shared with PyTorch.
"""

from __future__ import annotations

import math
import os

import numpy as np
import tensorflow as tf

from ..checkpoint import load_checkpoint
from ..gpt import GPTConfig, check_params, init_params, param_shapes
from ..gpt_base import GPTBase, KVCache, default_seed
from .device import _device

__all__ = ["GPT", "KVCache", "causal_mask"]


def causal_mask(T: int, past: int = 0) -> tf.Tensor:
    """``(T, past + T)`` booleans: query ``i`` (at position ``past + i``) sees key ``j``
    if ``j <= past + i``."""
    q_pos = tf.range(T)[:, None] + past
    k_pos = tf.range(past + T)[None, :]
    return k_pos <= q_pos


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
            LayerNorm, softmax and the loss run in float32.
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
            if seed is None:
                seed = default_seed()
            params = init_params(config, rng=seed)
        check_params(params, config)
        self.variables_by_name: dict[str, tf.Variable] = {
            name: tf.Variable(np.asarray(params[name], np.float32), name=name)
            for name in param_shapes(config)
        }

    # ------------------------------------------------------------ pieces

    def _w(self, name: str) -> tf.Tensor:
        v = self.variables_by_name[name]
        return v if self.compute_dtype == tf.float32 else tf.cast(v, self.compute_dtype)

    def _linear(self, x: tf.Tensor, prefix: str) -> tf.Tensor:
        y = tf.matmul(x, self._w(f"{prefix}.weight"))  # (..., n_in) @ (n_in, n_out)
        if self.config.bias:
            y = y + self._w(f"{prefix}.bias")
        return y

    def _layer_norm(self, x: tf.Tensor, prefix: str) -> tf.Tensor:
        x32 = tf.cast(x, tf.float32)
        mean, var = tf.nn.moments(x32, axes=[-1], keepdims=True)  # biased variance, as torch
        y = (x32 - mean) * tf.math.rsqrt(var + 1e-5) * self.variables_by_name[f"{prefix}.weight"]
        if self.config.bias:
            y = y + self.variables_by_name[f"{prefix}.bias"]
        return tf.cast(y, self.compute_dtype)

    def _dropout(self, x: tf.Tensor, training: bool) -> tf.Tensor:
        if training and self.config.dropout > 0:
            return tf.nn.dropout(x, rate=self.config.dropout)
        return x

    def _attention(
        self, x: tf.Tensor, i: int, cache: KVCache | None, training: bool
    ) -> tf.Tensor:
        B, T, C = x.shape[0], x.shape[1], self.config.n_embd
        H, Q = self.config.n_head, self.config.head_size
        B = B if B is not None else tf.shape(x)[0]
        qkv = self._linear(x, f"h.{i}.attn.c_attn")  # (B, T, 3C)
        q, k, v = tf.split(qkv, 3, axis=-1)  # 3 x (B, T, C)

        def heads(t: tf.Tensor) -> tf.Tensor:
            return tf.transpose(tf.reshape(t, [B, T, H, Q]), [0, 2, 1, 3])  # (B, H, T, Q)

        q, k, v = heads(q), heads(k), heads(v)
        past = 0
        if cache is not None:
            if cache.layers[i] is not None:
                pk, pv = cache.layers[i]
                past = int(pk.shape[2])
                k = tf.concat([pk, k], axis=2)  # (B, H, past + T, Q)
                v = tf.concat([pv, v], axis=2)
            cache.layers[i] = (k, v)
        att = tf.matmul(q, k, transpose_b=True)  # (B, H, T, past + T)
        att = tf.cast(att, tf.float32) * (1.0 / math.sqrt(Q))
        att = tf.where(causal_mask(T, past), att, tf.constant(-math.inf, tf.float32))
        att = tf.nn.softmax(att, axis=-1)
        att = self._dropout(att, training)
        y = tf.matmul(tf.cast(att, self.compute_dtype), v)  # (B, H, T, Q)
        y = tf.reshape(tf.transpose(y, [0, 2, 1, 3]), [B, T, C])  # heads side by side
        return self._dropout(self._linear(y, f"h.{i}.attn.c_proj"), training)  # (B, T, C)

    def _mlp(self, x: tf.Tensor, i: int, training: bool) -> tf.Tensor:
        # GPT-2's GELU is the tanh approximation; PyTorch uses the same one
        h = tf.nn.gelu(self._linear(x, f"h.{i}.mlp.c_fc"), approximate=True)  # (B, T, 4C)
        return self._dropout(self._linear(h, f"h.{i}.mlp.c_proj"), training)  # (B, T, C)

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
        idx = tf.convert_to_tensor(idx)
        T = int(idx.shape[1])
        past = cache.length if cache is not None else 0
        if past + T > self.config.block_size:
            raise ValueError(
                f"sequence of {past + T} tokens is longer than block_size "
                f"{self.config.block_size}; crop it (generate() does)"
            )
        wte = self.variables_by_name["wte.weight"]
        tok = tf.gather(wte, idx)  # (B, T, C)
        pos = self.variables_by_name["wpe.weight"][past : past + T]  # (T, C)
        x = self._dropout(tf.cast(tok + pos, self.compute_dtype), training)
        if checkpoint and cache is not None:
            raise ValueError("checkpoint=True is for training; generation with a cache needs none")
        for i in range(self.config.n_layer):

            def block(x: tf.Tensor, i: int = i) -> tf.Tensor:
                x = x + self._attention(self._layer_norm(x, f"h.{i}.ln_1"), i, cache, training)
                return x + self._mlp(self._layer_norm(x, f"h.{i}.ln_2"), i, training)

            x = tf.recompute_grad(block)(x) if checkpoint else block(x)
        x = self._layer_norm(x, "ln_f")
        logits = tf.matmul(x, self._w("wte.weight"), transpose_b=True)  # (B, T, V), tied
        logits = tf.cast(logits, tf.float32)
        loss = None
        if targets is not None:
            loss = tf.reduce_mean(
                tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)
            )
        return logits, loss

    def next_logits(self, idx: np.ndarray, cache: KVCache | None = None) -> np.ndarray:
        """Float32 logits ``(B, V)`` of the last position of ``idx (B, T)``, no dropout."""
        logits, _ = self(np.asarray(idx, np.int64), cache=cache)
        return logits[:, -1, :].numpy()

    # ------------------------------------------------------------ weights

    @property
    def params(self) -> list[tf.Variable]:
        """The variables in the order of :func:`bigmodel.gpt.param_shapes`."""
        return [self.variables_by_name[n] for n in param_shapes(self.config)]

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
        config, params, _ = load_checkpoint(path)
        if device is None:
            return cls(config, params=params)
        with tf.device(_device(device)):
            return cls(config, params=params)
