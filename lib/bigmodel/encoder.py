"""The framework-neutral half of the BERT-style encoder: the mask token, masking, and the
data of the fill-in and next-character comparisons with the GPT.

An encoder here is the GPT of :mod:`bigmodel.gpt` with one change, attention without the
causal mask (every position sees every other), trained by another objective: hide a share
of the positions behind a ``[MASK]`` token and predict what was there (Devlin et al.,
2019). It keeps the GPT's config, parameter names and checkpoint format, so "same size"
means the same :class:`bigmodel.gpt.GPTConfig`. The ``[MASK]`` token is the vocabulary's
last id: a character vocabulary of ``n`` symbols becomes a config with
``vocab_size = n + 1``. BERT replaces 80 % of the chosen positions by ``[MASK]``, 10 % by a
random token and leaves 10 %; :func:`mask_windows` always writes ``[MASK]`` (the model is
never used on unmasked text here).

The models: :class:`bigmodel.torch.encoder.Encoder`, :class:`bigmodel.tf.encoder.Encoder`,
and the NumPy reference :func:`bigmodel.numpy.encoder.encoder_forward`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .gpt import GPTConfig
from .gpt_base import KVCache
from .inputs import integer, number, positive_int

__all__ = [
    "IGNORE",
    "MASK_RATE",
    "NO_CACHE",
    "EncoderBase",
    "Score",
    "check_unmasked",
    "fill_windows",
    "mask_id",
    "mask_windows",
    "next_char_windows",
    "score_fill_both_sides",
    "score_fill_encoder",
    "score_fill_left",
    "score_next",
]

MASK_RATE = 0.15
"""Share of positions masked per window in training, BERT's 15 %."""

IGNORE = -1
"""Target id of a position that is not scored (not masked)."""


NO_CACHE = ("an encoder has no key-value cache: each new token changes what every earlier "
            "position sees, so all are recomputed; call it with use_cache=False / cache=None")
"""The message for a cache given to an encoder."""


class EncoderBase:
    """What both frameworks' encoders add to their GPT: the ``kind`` written into
    checkpoints, and the next token as a filled ``[MASK]``. Listed before the GPT class:
    ``class Encoder(EncoderBase, GPT)``."""

    kind = "encoder"
    config: GPTConfig

    def next_logits(self, idx: np.ndarray, cache: KVCache | None = None) -> np.ndarray:
        """Float32 logits ``(B, V)`` for the token after ``idx (B, T)``: ``[MASK]`` is
        appended to its last ``block_size - 1`` tokens and filled, with no cache (each new
        token changes what the earlier positions see, so all are recomputed). The
        ``[MASK]`` id's logit is ``-inf``: it is not text, so it is never sampled."""
        if cache is not None:
            raise ValueError(NO_CACHE)
        idx = np.asarray(idx, np.int64)[:, -(self.config.block_size - 1):]
        masked = np.concatenate(
            [idx, np.full((len(idx), 1), mask_id(self.config), np.int64)], axis=1)
        logits = super().next_logits(masked)  # type: ignore[misc]  # the GPT's
        logits[:, mask_id(self.config)] = -np.inf  # [MASK] is not text: never sampled
        return logits

    def generate(
        self,
        idx: Any,
        max_new_tokens: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        use_cache: bool = False,
        rng: np.random.Generator | int | None = None,
    ) -> np.ndarray:
        """:meth:`bigmodel.gpt_base.GPTBase.generate`, each token a filled ``[MASK]``
        after the text (:meth:`next_logits`); ``use_cache`` must stay ``False``."""
        if use_cache:
            raise ValueError(NO_CACHE)
        return super().generate(  # type: ignore[misc]  # the GPT's
            idx, max_new_tokens, temperature, top_k, top_p, False, rng)


def mask_id(config: GPTConfig) -> int:
    """The ``[MASK]`` token's id: the vocabulary's last, ``config.vocab_size - 1``."""
    return config.vocab_size - 1


def check_unmasked(tokens: np.ndarray, mask: int, split: str = "tokens") -> np.ndarray:
    """``tokens`` as an integer array of ids below ``mask`` (the ``[MASK]`` id), or a clear
    error.

    Text holding the mask id would train the model to predict ``[MASK]`` itself; the usual
    cause is a config whose ``vocab_size`` does not leave one id free.
    """
    arr = np.asarray(tokens)
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"{split} tokens have dtype {arr.dtype}; expected integer token ids")
    m = integer(mask, "mask", low=1)
    if arr.size and (arr.min() < 0 or arr.max() >= m):
        raise ValueError(
            f"{split} tokens range from {arr.min()} to {arr.max()}, but id {m} is the encoder's "
            f"[MASK] and ids must lie in [0, {m}): build the config with vocab_size = "
            "the tokenizer's size + 1"
        )
    return arr


def mask_windows(
    x: np.ndarray, rng: np.random.Generator, mask: int, rate: float = MASK_RATE
) -> tuple[np.ndarray, np.ndarray]:
    """Hide about ``rate`` of each window's positions: ``(inputs, targets)``, both ``(B, T)``.

    ``inputs`` is ``x`` with ``mask``, the ``[MASK]`` id (:func:`mask_id`), at the chosen
    positions;
    ``targets`` holds the hidden ids there and :data:`IGNORE` elsewhere. Each position is
    chosen with probability ``rate``; a window that draws none gets one at random, so every
    window is scored. Both frameworks draw from the same ``rng``, so they see the same masks.
    """
    rate = number(rate, "rate", 0, 1, low_open=True)
    x = check_unmasked(x, mask, "x")
    if x.ndim != 2 or x.shape[1] < 1:
        raise ValueError(f"x must be (B, T) token ids, got shape {x.shape}")
    B, T = x.shape
    chosen = rng.random((B, T)) < rate  # (B, T)
    empty = ~chosen.any(axis=1)
    chosen[np.flatnonzero(empty), rng.integers(0, T, size=int(empty.sum()))] = True
    inputs = np.where(chosen, mask, x).astype(np.int64)
    targets = np.where(chosen, x, IGNORE).astype(np.int64)
    return inputs, targets


def fill_windows(
    tokens: np.ndarray, n: int, config: GPTConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, int]:
    """``n`` windows of ``block_size`` tokens for the fill-in task: ``(windows, answers,
    middle)``.

    ``windows (n, T)`` are cut from ``tokens`` at random starts, ``middle = T // 2`` is the
    position to fill and ``answers (n,)`` the ids there. Both models are asked for the
    middle token: the encoder sees both sides, a GPT reads the left side only, or scores
    every candidate with the right side too.
    """
    n = positive_int(n, "n")
    tokens = check_unmasked(tokens, mask_id(config))
    T = config.block_size
    if tokens.ndim != 1 or len(tokens) < T:
        raise ValueError(f"tokens must be 1-D and hold at least block_size = {T} ids")
    starts = rng.integers(0, len(tokens) - T + 1, size=n)
    windows = tokens[starts[:, None] + np.arange(T)].astype(np.int64)  # (n, T)
    middle = T // 2
    return windows, windows[:, middle].copy(), middle


def next_char_windows(
    tokens: np.ndarray, n: int, config: GPTConfig, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` contexts of ``block_size - 1`` tokens and the token after each: ``(contexts
    (n, T - 1), answers (n,))``.

    The generation task: the GPT reads a context and predicts the next token; the encoder
    gets the context with ``[MASK]`` appended (``T`` tokens) and fills it.
    """
    n = positive_int(n, "n")
    tokens = check_unmasked(tokens, mask_id(config))
    T = integer(config.block_size, "block_size", low=2)
    if tokens.ndim != 1 or len(tokens) < T:
        raise ValueError(f"tokens must be 1-D and hold at least block_size = {T} ids")
    starts = rng.integers(0, len(tokens) - T + 1, size=n)
    windows = tokens[starts[:, None] + np.arange(T)].astype(np.int64)  # (n, T)
    return windows[:, :-1].copy(), windows[:, -1].copy()


@dataclass(frozen=True)
class Score:
    """How well a model predicts hidden tokens.

    Attributes:
        loss: mean cross-entropy of the true token, nats, over the text ids only (the
            ``[MASK]`` id's logit left out, so every model picks among the same tokens).
        accuracy: share of tokens whose most likely id is the true one.
        n: tokens scored.
    """

    loss: float
    accuracy: float
    n: int


def _score(logits: np.ndarray, answers: np.ndarray, mask: int) -> Score:
    """:class:`Score` of ``logits (n, V)`` against ``answers (n,)``, ids below ``mask``."""
    z = np.asarray(logits, np.float64)[:, :mask]  # (n, V - 1)
    z = z - z.max(axis=1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    rows = np.arange(len(answers))
    return Score(float(-logp[rows, answers].mean()),
                 float((z.argmax(axis=1) == answers).mean()), len(answers))


def _batches(n: int, size: int) -> list[slice]:
    size = positive_int(size, "batch_size")
    return [slice(i, min(i + size, n)) for i in range(0, n, size)]


def _task(model: Any, rows: np.ndarray, answers: np.ndarray, name: str, low: int,
          high: int) -> tuple[np.ndarray, np.ndarray]:
    """``rows (n, T)`` of text ids with ``low <= T <= high`` and ``answers (n,)`` of text
    ids, as int64, or a clear error naming ``name``."""
    rows, answers = np.asarray(rows), np.asarray(answers)
    if rows.ndim != 2 or not low <= rows.shape[1] <= high:
        raise ValueError(f"{name} must be (n, T) with {low} <= T <= {high} for this model "
                         f"(block_size {model.config.block_size}), got shape {rows.shape}")
    check_unmasked(rows, mask_id(model.config), name)
    if answers.shape != rows.shape[:1]:
        raise ValueError(f"answers must be (n,) = ({len(rows)},), got {answers.shape}")
    check_unmasked(answers, mask_id(model.config), "answers")
    return rows.astype(np.int64), answers.astype(np.int64)


def _fill_task(model: Any, windows: np.ndarray, answers: np.ndarray,
               middle: int) -> tuple[np.ndarray, np.ndarray, int]:
    """The fill-in task's inputs checked against ``model``: windows ``(n, T)`` of text ids,
    answers ``(n,)``, ``middle`` a position with text on both sides."""
    windows, answers = _task(model, windows, answers, "windows", 3, model.config.block_size)
    middle = integer(middle, "middle", low=1, high=windows.shape[1] - 2)
    return windows, answers, middle


def score_fill_encoder(model: Any, windows: np.ndarray, answers: np.ndarray, middle: int,
                       batch_size: int = 256) -> Score:
    """The encoder fills ``[MASK]`` at ``middle`` of each window, seeing both sides.

    ``model`` is a PyTorch or TensorFlow encoder (its
    :meth:`bigmodel.gpt_base.GPTBase.logits`); ``windows``,
    ``answers`` and ``middle`` come from :func:`fill_windows`.
    """
    windows, answers, middle = _fill_task(model, windows, answers, middle)
    masked = windows.copy()
    masked[:, middle] = mask_id(model.config)
    logits = np.concatenate([model.logits(masked[b])[:, middle]
                             for b in _batches(len(masked), batch_size)])
    return _score(logits, answers, mask_id(model.config))


def score_fill_left(model: Any, windows: np.ndarray, answers: np.ndarray, middle: int,
                    batch_size: int = 256) -> Score:
    """A GPT predicts the token at ``middle`` from the tokens left of it only: its own
    objective, blind to the right side."""
    windows, answers, middle = _fill_task(model, windows, answers, middle)
    left = windows[:, :middle]
    logits = np.concatenate([model.logits(left[b])[:, -1]
                             for b in _batches(len(left), batch_size)])
    return _score(logits, answers, mask_id(model.config))


def score_fill_both_sides(model: Any, windows: np.ndarray, answers: np.ndarray, middle: int,
                          batch_size: int = 512) -> Score:
    """A GPT fills the token at ``middle`` using the right side too, by Bayes' rule.

    Every text id ``c`` is tried in the gap; the GPT scores the rest of the window,
    ``log p(c | left) + Σ log p(x_t | ..., c, ...)`` over the positions from ``middle`` to
    the end (the left side's probability is the same for every ``c`` and cancels), and the
    softmax over ``c`` is the posterior. It costs one forward pass per candidate, ``V - 1``
    times the encoder's single pass.
    """
    windows, answers, middle = _fill_task(model, windows, answers, middle)
    n, T = windows.shape
    m = mask_id(model.config)
    scores = np.empty((n, m))
    per = max(1, positive_int(batch_size, "batch_size") // m)  # windows per forward pass, m candidates each
    for b in _batches(n, per):
        w = np.repeat(windows[b], m, axis=0)  # (k·m, T)
        w[:, middle] = np.tile(np.arange(m), len(w) // m)
        z = np.asarray(model.logits(w), np.float64)[:, middle - 1:T - 1, :m]  # (k·m, T-middle, m)
        z = z - z.max(axis=2, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=2, keepdims=True))
        target = w[:, middle:]  # (k·m, T - middle)
        total = np.take_along_axis(logp, target[..., None], axis=2)[..., 0].sum(axis=1)
        scores[b] = total.reshape(-1, m)
    return _score(scores, answers, m)


def score_next(model: Any, contexts: np.ndarray, answers: np.ndarray,
               batch_size: int = 256) -> Score:
    """The next token after each context (:func:`next_char_windows`): a GPT's own task,
    and for an encoder a ``[MASK]`` appended and filled (its
    :meth:`EncoderBase.next_logits`)."""
    # the encoder appends [MASK]: a context leaves room for it
    contexts, answers = _task(model, contexts, answers, "contexts", 1,
                              model.config.block_size - 1)
    logits = np.concatenate([model.next_logits(contexts[b])
                             for b in _batches(len(contexts), batch_size)])
    return _score(logits, answers, mask_id(model.config))
