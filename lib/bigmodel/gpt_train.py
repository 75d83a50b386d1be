"""The framework-neutral half of GPT training: batches, the learning-rate schedule, the
settings, the record of a run, and the loop itself.

Mirrors :mod:`bigmodel.torch.gpt_train` and :mod:`bigmodel.tf.gpt_train`, which call
:func:`train_loop` with their framework's optimizer step. Both frameworks draw the same
batches from the same seed, so on the same weights they train alike.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .encoder import check_unmasked, mask_windows
from .gpt import check_tokens
from .inputs import integer, number, positive_int
from .progress import progress

__all__ = [
    "TrainConfig",
    "TrainHistory",
    "bigram_loss",
    "eval_batches",
    "get_batch",
    "lr_at",
    "train_loop",
]


def get_batch(
    tokens: np.ndarray, batch_size: int, block_size: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``batch_size`` random windows of ``tokens``: inputs ``x (B, T)`` and targets ``y (B, T)``.

    ``y`` is ``x`` shifted by one token: ``y[b, t] = tokens[start_b + t + 1]``. Both
    frameworks draw from the same seeded generator, so they see the same batches.
    """
    batch_size = positive_int(batch_size, "batch_size")
    block_size = positive_int(block_size, "block_size")
    tokens = np.asarray(tokens)
    if len(tokens) < block_size + 1:
        raise ValueError(f"need at least block_size + 1 = {block_size + 1} tokens, got {len(tokens)}")
    starts = rng.integers(0, len(tokens) - block_size, size=batch_size)
    idx = starts[:, None] + np.arange(block_size)[None, :]  # (B, T)
    return tokens[idx].astype(np.int64), tokens[idx + 1].astype(np.int64)


def lr_at(step: int, max_lr: float, warmup_steps: int, max_steps: int, min_lr: float = 0.0) -> float:
    """Learning rate at ``step`` (0-based): linear warm-up to ``max_lr`` over ``warmup_steps``,
    then cosine decay to ``min_lr`` at ``max_steps``, constant after."""
    step = integer(step, "step", low=0)
    warmup_steps = integer(warmup_steps, "warmup_steps", low=0)
    max_lr = number(max_lr, "max_lr", 0)
    min_lr = number(min_lr, "min_lr", 0, max_lr)
    max_steps = positive_int(max_steps, "max_steps")
    if step < warmup_steps:
        return max_lr * (step + 1) / warmup_steps
    if step >= max_steps:
        return min_lr
    progress = (step - warmup_steps) / max(1, max_steps - warmup_steps)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (max_lr - min_lr)


@dataclass(frozen=True)
class TrainConfig:
    """How to train: shared by :func:`bigmodel.torch.gpt_train.train` and the TF twin.

    Attributes:
        max_steps: optimizer steps. batch_size: sequences per step (each ``block_size`` long).
        lr, min_lr, warmup_steps: the schedule of :func:`lr_at`.
        weight_decay: AdamW decay on parameters with 2 or more dimensions only (matrices
            and embeddings, as nanoGPT); biases and LayerNorm gains are not decayed.
        betas: AdamW's (β1, β2); (0.9, 0.95) as GPT-3. grad_clip: global norm (0 = off).
        eval_interval: estimate train and val loss every this many steps (and at the end)
            on ``eval_iters`` batches each. seed: for the batch order and the eval batches.
    """

    max_steps: int = 200
    batch_size: int = 32
    lr: float = 3e-3
    min_lr: float = 3e-4
    warmup_steps: int = 20
    weight_decay: float = 0.1
    betas: tuple[float, float] = (0.9, 0.95)
    grad_clip: float = 1.0
    eval_interval: int = 50
    eval_iters: int = 10
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("max_steps", "batch_size", "eval_interval", "eval_iters"):
            integer(getattr(self, name), f"TrainConfig.{name}", low=1)
        for name in ("warmup_steps", "seed"):
            integer(getattr(self, name), f"TrainConfig.{name}", low=0)
        number(self.lr, "TrainConfig.lr", 0, low_open=True)
        number(self.min_lr, "TrainConfig.min_lr", 0, self.lr)
        number(self.weight_decay, "TrainConfig.weight_decay", 0)
        number(self.grad_clip, "TrainConfig.grad_clip", 0, hint="0 turns clipping off")

    def lr_at(self, step: int) -> float:
        return lr_at(step, self.lr, self.warmup_steps, self.max_steps, self.min_lr)


@dataclass
class TrainHistory:
    """What a GPT ``train`` returns: one entry per evaluation.

    Attributes:
        step: optimizer steps done at each evaluation.
        loss, val_loss: mean cross-entropy (nats per token) on ``eval_iters`` batches.
        seconds: training wall time (s) up to each evaluation, evaluation excluded.
        first_step_seconds: wall time of the first step, which holds compilation.
        tokens: training tokens processed.
    """

    step: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    first_step_seconds: float = 0.0
    tokens: int = 0

    @property
    def tokens_per_second(self) -> float:
        """Training throughput after the first (compiling) step, tokens/s."""
        steady = self.seconds[-1] - self.first_step_seconds if self.seconds else 0.0
        n_steps = self.step[-1] if self.step else 0
        if steady <= 0 or n_steps <= 1:
            return float("nan")
        return self.tokens * (n_steps - 1) / n_steps / steady


def eval_batches(
    train: np.ndarray, val: np.ndarray, batch_size: int, block_size: int, n: int, seed: int
) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    """Fixed evaluation batches (the same at every evaluation and in both frameworks)."""
    n, seed = positive_int(n, "n"), integer(seed, "seed", low=0)
    rng = np.random.default_rng(seed + 1_000_003)
    return {
        split: [get_batch(data, batch_size, block_size, rng) for _ in range(n)]
        for split, data in (("train", train), ("val", val))
    }


def bigram_loss(train: np.ndarray, val: np.ndarray, vocab_size: int, alpha: float = 1.0) -> float:
    """Cross-entropy (nats/token) on ``val`` of a count-based bigram model fitted on ``train``.

    ``P(b | a) = (count(a, b) + alpha) / (count(a) + alpha·V)`` (add-alpha smoothing).
    """
    vocab_size = positive_int(vocab_size, "vocab_size")
    alpha = number(alpha, "alpha", 0, low_open=True)
    counts = np.zeros((vocab_size, vocab_size), np.float64)
    np.add.at(counts, (train[:-1], train[1:]), 1.0)
    probs = (counts + alpha) / (counts.sum(axis=1, keepdims=True) + alpha * vocab_size)
    return float(-np.mean(np.log(probs[val[:-1], val[1:]])))


def _masked(
    step: Callable[[np.ndarray, np.ndarray, float], Any],
    evaluate: Callable[[list[tuple[np.ndarray, np.ndarray]]], float],
    train_tokens: np.ndarray, val_tokens: np.ndarray, mask: int, rate: float, seed: int,
) -> tuple[Callable[[np.ndarray, np.ndarray, float], Any],
           Callable[[list[tuple[np.ndarray, np.ndarray]]], float]]:
    """``step`` and ``evaluate`` on masked windows (the encoder's objective)."""
    number(rate, "mask_rate", 0, 1, low_open=True, hint="BERT masks 0.15")
    check_unmasked(train_tokens, mask, "train")
    check_unmasked(val_tokens, mask, "val")
    rng = np.random.default_rng(seed + 2_000_003)

    def masked_step(x: np.ndarray, y: np.ndarray, lr: float) -> Any:
        return step(*mask_windows(x, rng, mask, rate), lr)

    def masked_evaluate(batches: list[tuple[np.ndarray, np.ndarray]]) -> float:
        fixed = np.random.default_rng(seed + 3_000_017)  # the same masks every time
        return evaluate([mask_windows(x, fixed, mask, rate) for x, _ in batches])

    return masked_step, masked_evaluate


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
    on_eval: Callable[[int, float], bool | None] | None = None,
    mask_rate: float | None = None,
) -> TrainHistory:
    """The GPT training loop both frameworks run; they supply the three callables.

    Args:
        step: ``step(x (B, T), y (B, T), lr)`` does one optimizer step and returns the
            loss (a framework tensor: reading it is left to ``sync``).
        evaluate: mean loss (nats/token) over a list of ``(x, y)`` batches.
        sync: waits for the device given the last step's return value, so timings are
            real (a GPU runs asynchronously).
        train_tokens, val_tokens: 1-D token ids; checked by :func:`bigmodel.gpt.check_tokens`.
        target_val_loss: stop at the first evaluation at or below this validation loss.
        on_eval: called after each evaluation as ``on_eval(step, val_loss)``, while the
            model holds that step's weights (to keep the best ones, say); training stops
            when it returns ``True``.
        mask_rate: train an encoder instead (:mod:`bigmodel.encoder`): each window's
            ``(x, y)`` becomes :func:`bigmodel.encoder.mask_windows` of ``x`` at this rate,
            the ``[MASK]`` id being ``vocab_size - 1``; evaluation masks its fixed batches
            the same way at every evaluation.

    Batches come from :func:`get_batch` with ``cfg.seed``, the evaluation
    batches from :func:`eval_batches`: the same in both frameworks (and so are the masks).
    """
    if target_val_loss is not None:
        number(target_val_loss, "target_val_loss", 0, low_open=True, hint="or None")
    train_tokens = check_tokens(train_tokens, block_size, vocab_size, "train")
    val_tokens = check_tokens(val_tokens, block_size, vocab_size, "val")
    evals = eval_batches(train_tokens, val_tokens, cfg.batch_size, block_size, cfg.eval_iters,
                         cfg.seed)
    if mask_rate is not None:
        step, evaluate = _masked(step, evaluate, train_tokens, val_tokens, vocab_size - 1,
                                 mask_rate, cfg.seed)
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
            if on_eval is not None and on_eval(i + 1, hist.val_loss[-1]):
                break
    return hist
