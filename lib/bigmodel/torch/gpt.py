"""A decoder-only Transformer (GPT) in PyTorch, in one readable file.

Shapes: ``B`` batch, ``T`` sequence length, ``C`` width ``n_embd``, ``H`` heads, ``Q = C/H``
head size, ``V`` vocabulary. Every matrix is stored input x output (``x @ W``) under the
names of :func:`bigmodel.gpt.param_shapes`, so the same NumPy arrays and safetensors files
load into this model and into :class:`bigmodel.tf.gpt.GPT`. Generation, checkpoints and the
parameter count are :class:`bigmodel.gpt_base.GPTBase`'s, shared with TensorFlow.
"""

from __future__ import annotations

import os

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.checkpoint import checkpoint as _checkpoint

from ..checkpoint import load_checkpoint
from ..gpt import GPTConfig, check_params, init_params, param_shapes
from ..gpt_base import GPTBase, KVCache, check_kind, default_seed
from ..inputs import integer, positive_int
from .device import _device

__all__ = ["GPT", "KVCache", "causal_mask"]


class _Linear(nn.Module):
    """``x @ weight + bias`` with ``weight`` of shape ``(n_in, n_out)`` (input x output)."""

    def __init__(self, n_in: int, n_out: int, bias: bool):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(n_in, n_out))
        self.bias = nn.Parameter(torch.empty(n_out)) if bias else None
        self.lora: nn.Module | None = None  # a low-rank update (bigmodel.torch.lora)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = x @ self.weight
        if self.bias is not None:
            y = y + self.bias
        return y if self.lora is None else y + self.lora(x)


class _LayerNorm(nn.Module):
    """LayerNorm over the last axis, eps 1e-5, with an optional bias."""

    def __init__(self, n: int, bias: bool):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(n))
        self.bias = nn.Parameter(torch.zeros(n)) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, 1e-5)


def causal_mask(T: int, past: int = 0, device: torch.device | str | None = None) -> torch.Tensor:
    """``(T, past + T)`` booleans: query ``i`` (at position ``past + i``) sees key ``j``
    if ``j <= past + i``."""
    T, past = positive_int(T, "T"), integer(past, "past", low=0)
    return torch.ones(T, past + T, dtype=torch.bool, device=device).tril(diagonal=past)


class _CausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        C = config.n_embd
        self.c_attn = _Linear(C, 3 * C, config.bias)  # q, k, v for all heads at once
        self.c_proj = _Linear(C, C, config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head = config.n_head
        self.dropout = config.dropout
        self.causal = True  # False: every position sees every other (bigmodel.torch.encoder)

    def forward(
        self, x: torch.Tensor, cache: KVCache | None = None, layer: int = 0
    ) -> torch.Tensor:
        B, T, _ = x.shape
        qkv = self.c_attn(x)  # (B, T, 3C)
        # C and H: the model's width and heads, or a share of them on each tensor-parallel
        # rank, which holds whole heads (bigmodel.torch.tensor_parallel)
        C, H = qkv.shape[-1] // 3, self.n_head
        q, k, v = qkv.split(C, dim=2)  # 3 x (B, T, C)
        q = q.view(B, T, H, C // H).transpose(1, 2)  # (B, H, T, Q)
        k = k.view(B, T, H, C // H).transpose(1, 2)  # (B, H, T, Q)
        v = v.view(B, T, H, C // H).transpose(1, 2)  # (B, H, T, Q)
        past = 0
        if cache is not None:
            if cache.layers[layer] is not None:
                pk, pv = cache.layers[layer]
                past = pk.shape[2]
                k = torch.cat([pk, k], dim=2)  # (B, H, past + T, Q)
                v = torch.cat([pv, v], dim=2)
            cache.layers[layer] = (k, v)
        dropout_p = self.dropout if self.training else 0.0
        if past == 0:
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p,
                                               is_causal=self.causal)
        elif T == 1:  # one new token may look at every cached one
            y = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)
        else:
            # is_causal aligns the mask top-left; with a cache, query i sits at past + i
            mask = causal_mask(T, past, x.device)
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # heads side by side again
        return self.resid_dropout(self.c_proj(y))  # (B, T, C)


class _MLP(nn.Module):
    def __init__(self, config: GPTConfig):
        super().__init__()
        self.c_fc = _Linear(config.n_embd, 4 * config.n_embd, config.bias)
        self.c_proj = _Linear(4 * config.n_embd, config.n_embd, config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # GPT-2's GELU is the tanh approximation; TensorFlow uses the same one
        h = F.gelu(self.c_fc(x), approximate="tanh")  # (B, T, 4C)
        return self.dropout(self.c_proj(h))  # (B, T, C)


class _Block(nn.Module):
    """Pre-LayerNorm block: ``x + attn(ln_1(x))``, then ``x + mlp(ln_2(x))``."""

    def __init__(self, config: GPTConfig):
        super().__init__()
        self.ln_1 = _LayerNorm(config.n_embd, config.bias)
        self.attn = _CausalSelfAttention(config)
        self.ln_2 = _LayerNorm(config.n_embd, config.bias)
        self.mlp = _MLP(config)

    def forward(self, x: torch.Tensor, cache: KVCache | None = None, layer: int = 0) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), cache, layer)
        return x + self.mlp(self.ln_2(x))


class GPT(GPTBase, nn.Module):
    """GPT-2-style language model; see :class:`bigmodel.gpt.GPTConfig`.

    Args:
        config: the shape.
        params: NumPy arrays named as :func:`bigmodel.gpt.param_shapes`; default: GPT-2's
            initialisation (:func:`bigmodel.gpt.init_params`) drawn with ``seed``.
        seed: seed of that initialisation; ``None`` draws one with
            :func:`bigmodel.gpt_base.default_seed` (NumPy's global generator, seeded by
            :func:`bigmodel.torch.seed_everything`). The same seed gives the same weights
            in :class:`bigmodel.tf.gpt.GPT`.
    """

    def __init__(
        self,
        config: GPTConfig,
        params: dict[str, np.ndarray] | None = None,
        seed: int | None = None,
    ):
        super().__init__()
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)  # also the output layer
        self.wpe = nn.Embedding(config.block_size, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        self.h = nn.ModuleList([_Block(config) for _ in range(config.n_layer)])
        self.ln_f = _LayerNorm(config.n_embd, config.bias)
        if params is None:
            seed = default_seed() if seed is None else integer(seed, "seed", low=0)
            params = init_params(config, rng=seed)
        self.load_numpy(params)

    # ------------------------------------------------------------ forward

    def forward(
        self,
        idx: torch.Tensor,
        targets: torch.Tensor | None = None,
        cache: KVCache | None = None,
        checkpoint: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits for every position, and the loss if ``targets`` are given.

        Args:
            idx: token ids ``(B, T)`` int64, ``T <= block_size`` (minus what ``cache`` holds).
            targets: next-token ids ``(B, T)``; the loss is the mean cross-entropy in nats.
            cache: a :class:`KVCache` to read and extend (generation only).
            checkpoint: activation checkpointing: keep only each block's input and
                recompute its inside in the backward pass (training only).

        Returns:
            ``(logits (B, T, V), loss or None)``.
        """
        B, T = idx.shape
        x = self._states(idx, cache, checkpoint)  # (B, T, C)
        logits = F.linear(x, self.wte.weight)  # (B, T, V), weight tying: x @ wte.T
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(B * T, -1).float(), targets.reshape(B * T))
        return logits, loss

    def hidden(self, idx: torch.Tensor) -> torch.Tensor:
        """The last layer's normalised states ``(B, T, C)`` of ``idx (B, T)``: what the
        output layer reads, and what a classifier head reads instead
        (:class:`bigmodel.torch.classify.GPTClassifier`)."""
        return self._states(idx, None, False)

    def _states(self, idx: torch.Tensor, cache: KVCache | None, checkpoint: bool) -> torch.Tensor:
        T = idx.shape[1]
        past = cache.length if cache is not None else 0
        if past + T > self.config.block_size:
            raise ValueError(
                f"sequence of {past + T} tokens is longer than block_size "
                f"{self.config.block_size}; crop it (generate() does)"
            )
        pos = torch.arange(past, past + T, device=idx.device)  # (T,)
        x = self.drop(self.wte(idx) + self.wpe(pos))  # (B, T, C)
        if checkpoint and cache is not None:
            raise ValueError("checkpoint=True is for training; generation with a cache needs none")
        for i, block in enumerate(self.h):
            x = _checkpoint(block, x, use_reentrant=False) if checkpoint else block(x, cache, i)
        return self.ln_f(x)

    @torch.no_grad()
    def next_logits(self, idx: np.ndarray, cache: KVCache | None = None) -> np.ndarray:
        """Float32 logits ``(B, V)`` of the last position of ``idx (B, T)``, in eval mode."""
        was_training = self.training
        self.eval()
        try:
            logits, _ = self(torch.as_tensor(idx, device=self.wte.weight.device), cache=cache)
        finally:
            self.train(was_training)
        return logits[:, -1, :].float().cpu().numpy()

    @torch.no_grad()
    def logits(self, idx: np.ndarray) -> np.ndarray:
        """Float32 logits ``(B, T, V)`` of every position of ``idx (B, T)``, in eval mode."""
        was_training = self.training
        self.eval()
        try:
            out, _ = self(torch.as_tensor(np.asarray(idx, np.int64), device=self.wte.weight.device))
        finally:
            self.train(was_training)
        return out.float().cpu().numpy()

    # ------------------------------------------------------------ weights

    def load_numpy(self, params: dict[str, np.ndarray]) -> None:
        """Copy NumPy arrays named as :func:`bigmodel.gpt.param_shapes` into the parameters.

        Raises:
            ValueError: a tensor is missing, extra or of another shape (the message names
                it, the expected and the given shape).
        """
        check_params(params, self.config)
        own = dict(self.named_parameters())
        with torch.no_grad():
            for name in param_shapes(self.config):
                p = own[name]
                p.copy_(torch.as_tensor(np.asarray(params[name], np.float32), device=p.device))

    def to_numpy(self) -> dict[str, np.ndarray]:
        """The parameters as float32 NumPy arrays, named as :func:`bigmodel.gpt.param_shapes`."""
        own = dict(self.named_parameters())
        return {
            n: own[n].detach().float().cpu().numpy().copy() for n in param_shapes(self.config)
        }

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike, device: str | torch.device | None = None) -> GPT:
        """A new model with the config and weights stored in ``path``, on ``device``
        (default: the CPU)."""
        target = _device("cpu" if device is None else device)  # a missing GPU: a clear error
        config, params, meta = load_checkpoint(path)
        check_kind(meta, cls.kind, path)
        return cls(config, params=params).to(target)
