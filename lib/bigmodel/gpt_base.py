"""The framework-neutral half of the GPT: generation, checkpoints and the training loop.

:class:`bigmodel.torch.gpt.GPT` and :class:`bigmodel.tf.gpt.GPT` inherit :class:`GPTBase`
and supply only what differs between the frameworks: the forward pass on NumPy token ids
(:meth:`GPTBase.next_logits`) and moving weights in and out as NumPy arrays
(:meth:`GPTBase.to_numpy`, :meth:`GPTBase.load_numpy`). Their ``gpt_train.train`` functions
call :func:`train_loop` with a framework's optimizer step. So the two packages generate,
save, load and train by the same code, and return the same types: NumPy ids from
``generate``, a :class:`~bigmodel.gpt.TrainHistory` from ``train``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from .checkpoint import load_checkpoint, save_checkpoint
from .gpt import (
    GPTConfig,
    TrainConfig,
    TrainHistory,
    check_sampling,
    check_tokens,
    eval_batches,
    get_batch,
    param_shapes,
    sample_next,
)
from .progress import progress

__all__ = ["GPTBase", "KVCache", "default_seed", "train_loop"]


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

    # ------------------------------------------------------------ framework parts

    def next_logits(self, idx: np.ndarray, cache: KVCache | None = None) -> np.ndarray:
        """Float32 logits ``(B, V)`` of the last position of ``idx (B, T)``, in eval mode,
        without gradients; reads and extends ``cache`` when given."""
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
        """Write a safetensors checkpoint (config in the metadata); readable by both frameworks."""
        save_checkpoint(path, self.to_numpy(), self.config, metadata)

    def load(self, path: str | os.PathLike) -> None:
        """Load a checkpoint into this model.

        Raises:
            ValueError: the checkpoint's tensors do not fit this model's config (the message
                names the first mismatched tensor and both shapes).
        """
        _, params, _ = load_checkpoint(path)
        self.load_numpy(params)

    def param_count(self) -> int:
        """Trainable scalars (the tied output layer counted once)."""
        shapes = param_shapes(self.config)
        return int(sum(np.prod(s) for s in shapes.values()))


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


def train_loop(
    step: Callable[[np.ndarray, np.ndarray, float], Any],
    evaluate: Callable[[list[tuple[np.ndarray, np.ndarray]]], float],
    sync: Callable[[Any], None],
    train_tokens: np.ndarray,
    val_tokens: np.ndarray,
    cfg: TrainConfig,
    block_size: int,
    vocab_size: int,
    show_progress: bool = True,
    target_val_loss: float | None = None,
) -> TrainHistory:
    """The GPT training loop both frameworks run; they supply the three callables.

    Args:
        step: ``step(x (B, T), y (B, T), lr)`` does one optimizer step and returns the
            loss (a framework tensor: reading it is left to ``sync``).
        evaluate: mean loss (nats/token) over a list of ``(x, y)`` batches.
        sync: waits for the device given the last step's return value, so timings are
            real (a GPU runs asynchronously).
        train_tokens, val_tokens: 1-D token ids; checked by :func:`bigmodel.gpt.check_tokens`.

    Batches come from :func:`bigmodel.gpt.get_batch` with ``cfg.seed``, the evaluation
    batches from :func:`bigmodel.gpt.eval_batches`: the same in both frameworks.
    """
    train_tokens = check_tokens(train_tokens, block_size, vocab_size, "train")
    val_tokens = check_tokens(val_tokens, block_size, vocab_size, "val")
    evals = eval_batches(train_tokens, val_tokens, cfg.batch_size, block_size, cfg.eval_iters,
                         cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    hist = TrainHistory()
    train_seconds = 0.0
    for i in progress(range(cfg.max_steps), show_progress, desc="training"):
        t0 = time.perf_counter()
        xb, yb = get_batch(train_tokens, cfg.batch_size, block_size, rng)
        loss = step(xb, yb, cfg.lr_at(i))
        hist.tokens += cfg.batch_size * block_size
        last = i + 1 == cfg.max_steps
        if i == 0 or (i + 1) % cfg.eval_interval == 0 or last:
            sync(loss)
        train_seconds += time.perf_counter() - t0
        if i == 0:
            hist.first_step_seconds = train_seconds
        if (i + 1) % cfg.eval_interval == 0 or last:
            hist.step.append(i + 1)
            hist.seconds.append(train_seconds)
            hist.loss.append(evaluate(evals["train"]))
            hist.val_loss.append(evaluate(evals["val"]))
            if target_val_loss is not None and hist.val_loss[-1] <= target_val_loss:
                break
    return hist
