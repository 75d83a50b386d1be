"""What the two frameworks' GPTs share: generation, and saving and loading weights.

:class:`bigmodel.torch.gpt.GPT` and :class:`bigmodel.tf.gpt.GPT` inherit :class:`GPTBase`
and supply only what differs between the frameworks: the forward pass on NumPy token ids
(:meth:`GPTBase.next_logits`) and moving weights in and out as NumPy arrays
(:meth:`GPTBase.to_numpy`, :meth:`GPTBase.load_numpy`). So the two packages generate,
save and load by the same code, and ``generate`` returns NumPy ids in both (training:
:mod:`bigmodel.gpt_train`).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from .checkpoint import load_checkpoint, save_checkpoint
from .gpt import (
    GPTConfig,
    check_sampling,
    param_shapes,
    sample_next,
)

__all__ = ["GPTBase", "KVCache", "check_kind", "default_seed"]


def default_seed() -> int:
    """A seed for a GPT's initial weights when none is given, from NumPy's global generator.

    Both frameworks draw it here, so ``bigmodel.torch.seed_everything(s)`` and
    ``bigmodel.tf.seed_everything(s)`` (which both seed NumPy) give the same weights.
    """
    return int(np.random.randint(0, 2**31 - 1))


class KVCache:
    """Keys and values of the tokens seen so far, one ``(k, v)`` pair per block.

    Each ``k`` and ``v`` is a framework tensor ``(B, H, length, Q)``. Generation feeds the
    prompt once ("prefill"), then one token at a time, attending to the cached keys and
    values instead of recomputing them: per new token the work is ``O(length)`` instead of
    ``O(length²)``.
    """

    def __init__(self, n_layer: int):
        self.layers: list[tuple[Any, Any] | None] = [None] * n_layer

    @property
    def length(self) -> int:
        """Tokens cached so far (the position of the next token)."""
        first = self.layers[0]
        return 0 if first is None else int(first[0].shape[2])


class GPTBase:
    """What both frameworks' GPT share. Subclasses set ``self.config`` and implement
    :meth:`next_logits`, :meth:`to_numpy` and :meth:`load_numpy`."""

    config: GPTConfig
    #: "gpt", or "encoder" for the model of :mod:`bigmodel.encoder` (its checkpoints say so).
    kind = "gpt"
    #: The share of positions that training masks, or None for a GPT (next-token training).
    mask_rate: float | None = None

    # ------------------------------------------------------------ framework parts

    def next_logits(self, idx: np.ndarray, cache: KVCache | None = None) -> np.ndarray:
        """Float32 logits ``(B, V)`` of the last position of ``idx (B, T)``, in eval mode,
        without gradients; reads and extends ``cache`` when given."""
        raise NotImplementedError

    def logits(self, idx: np.ndarray) -> np.ndarray:
        """Float32 logits ``(B, T, V)`` of every position of ``idx (B, T)``, in eval mode,
        without gradients (an encoder's, with ``[MASK]`` where it should fill in)."""
        raise NotImplementedError

    def to_numpy(self) -> dict[str, np.ndarray]:
        """The weights as float32 NumPy arrays, named as :func:`bigmodel.gpt.param_shapes`."""
        raise NotImplementedError

    def load_numpy(self, params: dict[str, np.ndarray]) -> None:
        """Copy NumPy arrays named as :func:`bigmodel.gpt.param_shapes` into the weights."""
        raise NotImplementedError

    # ------------------------------------------------------------ shared

    def generate(
        self,
        idx: Any,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        use_cache: bool = True,
        rng: np.random.Generator | int | None = None,
    ) -> np.ndarray:
        """Append ``max_new_tokens`` sampled tokens to ``idx (B, T)``; returns ``(B, T + new)``
        int64 NumPy ids.

        ``idx`` may be a NumPy array, a list or a framework tensor. A prompt longer than
        ``block_size`` is cropped to its last ``block_size`` tokens. With ``use_cache`` the
        keys and values are cached; once the context is full the window slides, the
        position embeddings no longer line up with the cache, and the cache is rebuilt
        from the last ``block_size`` tokens: the result is exactly the uncached one.
        ``top_k=1`` is greedy decoding. Sampling is done by :func:`bigmodel.gpt.sample_next`
        with ``rng`` (a seed or a NumPy ``Generator``), so the same logits and seed give
        the same text in both frameworks.

        Raises:
            ValueError: ``temperature <= 0``, ``top_k < 1``, ``top_p`` outside (0, 1],
                ``max_new_tokens < 0``, ``idx`` not ``(B, T)`` with ``T >= 1``, or an id
                outside the vocabulary.
        """
        check_sampling(temperature, top_k, top_p)
        if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int | np.integer) \
                or max_new_tokens < 0:
            raise ValueError(f"max_new_tokens must be an int >= 0, got {max_new_tokens!r}")
        idx = _as_ids(idx)
        if idx.size and (idx.min() < 0 or idx.max() >= self.config.vocab_size):
            bad = idx[(idx < 0) | (idx >= self.config.vocab_size)][0]
            raise ValueError(
                f"idx holds the token id {bad}; this model's vocabulary has "
                f"{self.config.vocab_size} ids, 0 to {self.config.vocab_size - 1}"
            )
        rng = np.random.default_rng(rng)
        bs = self.config.block_size
        cache: KVCache | None = None
        for _ in range(max_new_tokens):
            if not use_cache:
                logits = self.next_logits(idx[:, -bs:])
            elif cache is None or cache.length >= bs:
                cache = KVCache(self.config.n_layer)
                logits = self.next_logits(idx[:, -bs:], cache)  # prefill
            else:
                logits = self.next_logits(idx[:, -1:], cache)
            nxt = sample_next(logits, rng, temperature, top_k, top_p)  # (B,)
            idx = np.concatenate([idx, nxt[:, None]], axis=1)
        return idx

    def save(self, path: str | os.PathLike, metadata: dict[str, str] | None = None) -> None:
        """Write a safetensors checkpoint (config in the metadata); readable by both frameworks.

        An encoder's checkpoint also says ``"model": "encoder"`` in the metadata, so it
        loads as an encoder only (a GPT's has no such key, as before encoders existed).
        """
        if self.kind != "gpt":
            metadata = {**(metadata or {}), "model": self.kind}
        save_checkpoint(path, self.to_numpy(), self.config, metadata)

    def load(self, path: str | os.PathLike) -> None:
        """Load a checkpoint into this model.

        Raises:
            ValueError: the checkpoint's tensors do not fit this model's config (the message
                names the first mismatched tensor and both shapes).
        """
        _, params, meta = load_checkpoint(path)
        check_kind(meta, self.kind, path)
        self.load_numpy(params)

    def param_count(self) -> int:
        """Trainable scalars (the tied output layer counted once)."""
        shapes = param_shapes(self.config)
        return int(sum(np.prod(s) for s in shapes.values()))


def check_kind(meta: dict, kind: str, path: str | os.PathLike) -> None:
    """Refuse a checkpoint of another kind of model (a GPT's weights into an encoder, or
    the reverse): both have the same tensors, so only the metadata tells them apart."""
    found = meta.get("model", "gpt")
    if found != kind:
        names = {"gpt": "a GPT", "encoder": "an encoder"}
        raise ValueError(
            f"{os.fspath(path)} holds the weights of {names.get(found, found)}, not of "
            f"{names.get(kind, kind)}; load it with "
            f"{'Encoder' if found == 'encoder' else 'GPT'}.from_checkpoint"
        )


def _as_ids(idx: Any) -> np.ndarray:
    if hasattr(idx, "detach"):  # a torch tensor, possibly on a GPU
        idx = idx.detach().cpu().numpy()
    elif hasattr(idx, "numpy") and not isinstance(idx, np.ndarray):  # a TF tensor
        idx = idx.numpy()
    arr = np.asarray(idx)
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise ValueError(f"idx must be (B, T) token ids with T >= 1, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"idx must hold integer token ids, got dtype {arr.dtype}")
    return arr.astype(np.int64)
