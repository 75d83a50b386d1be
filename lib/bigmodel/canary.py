"""Canaries and their exposure: how much a language model memorised a planted secret.

Carlini et al. (2019), "The Secret Sharer", plant a *canary*, a sentence with a random
secret such as ``"my PIN is 4917"``, ``k`` times in the training text, train the model,
then rank the true secret among every possible one (here all ``10**n_digits`` PINs) by
the model's log-perplexity of the secret given the prefix. With ``|R|`` candidates and
the true secret at rank ``r`` (1 = the most likely), its **exposure** is::

    exposure = log2 |R| - log2 r,

0 when the model likes the true secret least, ``log2 |R|`` (13.3 bits for 4 digits) when
it likes it best; a model that never saw it gives the secret a random rank, whose
exposure averages about ``1/ln 2 ≈ 1.44`` bits for large ``|R|``.

Everything here is framework-neutral: the model enters as a function from token ids
``(B, T)`` to next-token log-probabilities ``(B, T, V)``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .inputs import integer, positive_int

__all__ = ["all_secrets", "exposure", "mean_random_exposure", "plant", "rank",
           "secret_log_perplexity"]


def all_secrets(n_digits: int = 4) -> list[str]:
    """Every string of ``n_digits`` decimal digits, in order: ``["0000", ..., "9999"]``."""
    n_digits = positive_int(n_digits, "n_digits")
    if n_digits > 6:
        raise ValueError(f"n_digits={n_digits} gives 10**{n_digits} candidates; use at most 6")
    return [f"{i:0{n_digits}d}" for i in range(10**n_digits)]


def plant(text: str, canaries: Sequence[tuple[str, int]], rng: np.random.Generator | int) -> str:
    """``text`` with each ``(line, k)`` canary inserted ``k`` times at random line starts.

    Args:
        text: the training text (lines separated by ``"\\n"``).
        canaries: pairs of a canary line (without newline) and how often to plant it
            (``k >= 0``).
        rng: a seed or a NumPy ``Generator`` for the positions.

    Returns:
        The text with ``sum(k)`` extra lines; nothing else changes.
    """
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, got {type(text).__name__}")
    lines = [ln for ln, k in canaries for _ in range(_count(k, ln))]
    for ln, _ in canaries:
        if not isinstance(ln, str) or "\n" in ln or not ln:
            raise ValueError(f"each canary must be one non-empty line without '\\n', got {ln!r}")
    rng = np.random.default_rng(rng)
    starts = np.flatnonzero(np.frombuffer(text.encode("utf-32-le"), np.uint32) == 10) + 1
    starts = np.concatenate([[0], starts[starts < len(text)]])
    where = np.sort(rng.choice(starts, len(lines), replace=True))
    order = rng.permutation(len(lines))
    pieces, last = [], 0
    for pos, i in zip(where, order, strict=True):
        pieces += [text[last:pos], lines[i] + "\n"]
        last = pos
    pieces.append(text[last:])
    return "".join(pieces)


def _count(k: Any, line: Any) -> int:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0:
        raise ValueError(f"the count for canary {line!r} must be an integer >= 0, got {k!r}")
    return int(k)


def secret_log_perplexity(
    logprobs: Callable[[np.ndarray], np.ndarray],
    prefix: Sequence[int] | np.ndarray,
    candidates: np.ndarray,
    block_size: int,
    batch_size: int = 1000,
) -> np.ndarray:
    """``-log2 P(candidate | prefix)`` in bits for every candidate secret: ``(n,)``.

    Args:
        logprobs: maps token ids ``(B, T)`` int64 to next-token log-probabilities
            ``(B, T, V)`` in nats (a log-softmax of the model's logits), as a NumPy array.
        prefix: the ids before the secret (cropped on the left to fit ``block_size``).
        candidates: ``(n, L)`` ids of the ``n`` candidate secrets, ``L`` tokens each.
        block_size: the model's context length.
        batch_size: sequences per call of ``logprobs``.

    The prefix's own probability is the same for every candidate, so it is left out: the
    ranking is the ranking of Carlini et al.'s log-perplexity of the whole canary.
    """
    cand = np.asarray(candidates)
    if cand.ndim != 2 or not np.issubdtype(cand.dtype, np.integer) or cand.shape[1] < 1:
        raise ValueError(f"candidates must be (n, L) integer ids with L >= 1, got {cand.shape}")
    if cand.size and cand.min() < 0:  # NumPy would read -1 as the last token
        raise ValueError(f"candidates hold the id {cand.min()}; token ids are >= 0")
    prefix = np.asarray(prefix, np.int64).reshape(-1)
    if prefix.size < 1:
        raise ValueError("prefix is empty; the secret needs at least one token before it")
    n, L = cand.shape
    keep = positive_int(block_size, "block_size") - (L - 1)
    if keep < 1:
        raise ValueError(f"a secret of {L} tokens does not fit block_size {block_size}")
    prefix = prefix[-keep:]
    # candidates that share their first L-1 tokens share the model's input: "0000" to
    # "0009" need one forward pass, so 10,000 PINs cost 1,000 sequences
    heads, which = np.unique(cand[:, :-1].astype(np.int64), axis=0, return_inverse=True)
    which = which.reshape(-1)
    step = positive_int(batch_size, "batch_size")
    head_lp = []
    for s in range(0, len(heads), step):
        h = heads[s: s + step]
        ids = np.concatenate([np.broadcast_to(prefix, (len(h), len(prefix))), h], 1)
        lp = np.asarray(logprobs(ids), np.float64)  # (b, T, V)
        if lp.shape[:2] != ids.shape:
            raise ValueError(f"logprobs returned shape {lp.shape}; expected {ids.shape} + (V,)")
        head_lp.append(lp[:, len(prefix) - 1:, :])  # the positions that predict the secret
    at = np.concatenate(head_lp)[which]  # (n, L, V)
    if cand.max() >= at.shape[2]:
        raise ValueError(f"candidates hold the id {cand.max()}; the model has {at.shape[2]} tokens")
    picked = np.take_along_axis(at, cand[:, :, None].astype(np.int64), axis=2)[:, :, 0]
    out = -picked.sum(1) / math.log(2)
    return out


def rank(scores: Sequence[float] | np.ndarray, index: int) -> int:
    """Rank of candidate ``index`` by log-perplexity ``scores`` (lower = more likely):
    1 + the number of candidates strictly more likely. Ties count in its favour."""
    index = integer(index, "index", low=0)
    s = np.asarray(scores, np.float64).reshape(-1)
    if not 0 <= index < len(s):
        raise ValueError(f"index {index} is outside the {len(s)} candidates")
    return 1 + int(np.sum(s < s[index]))


def exposure(scores: Sequence[float] | np.ndarray, index: int) -> float:
    """Exposure in bits of candidate ``index``: ``log2(len(scores)) - log2(rank)``."""
    return math.log2(len(np.asarray(scores).reshape(-1))) - math.log2(rank(scores, index))


def mean_random_exposure(n_candidates: int) -> float:
    """The exposure a secret gets on average when its rank is uniform on ``1..n``:
    ``log2 n - log2(n!)/n`` bits (tends to ``1/ln 2`` as ``n`` grows)."""
    n = positive_int(n_candidates, "n_candidates")
    return math.log2(n) - math.lgamma(n + 1) / math.log(2) / n
