"""Bag-of-words features for already tokenised text (words separated by spaces)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..inputs import integer, number


@dataclass(frozen=True)
class WordVocabulary:
    """The ``size`` most frequent words of a training corpus, each with a column index."""

    words: tuple[str, ...]

    @classmethod
    def build(cls, texts: Sequence[str], size: int = 5000, min_count: int = 2) -> WordVocabulary:
        """Count the words of ``texts``; keep the ``size`` most frequent seen ``min_count`` times.

        Ties are broken alphabetically, so the vocabulary does not depend on text order.
        """
        if size < 1:
            raise ValueError(f"size must be >= 1, got {size}")
        counts = Counter(w for t in texts for w in t.split())
        ranked = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
        return cls(tuple(ranked[:size]))

    def __len__(self) -> int:
        return len(self.words)

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        """``(n, len(self))`` float32: 1 where the text contains the word, else 0.

        Words outside the vocabulary are ignored (a text of only unknown words is all zeros).
        """
        index = {w: i for i, w in enumerate(self.words)}
        x = np.zeros((len(texts), len(self.words)), np.float32)
        for row, t in enumerate(texts):
            cols = [index[w] for w in t.split() if w in index]
            x[row, cols] = 1.0
        return x


def train_test_split(
    n: int, test_fraction: float, rng: np.random.Generator | int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Shuffled index arrays ``(train, test)`` over ``range(n)``; ``test`` has ``round(n·f)`` items."""
    n = integer(n, "n", low=0)
    test_fraction = number(test_fraction, "test_fraction", 0, 1, low_open=True, high_open=True)
    order = np.random.default_rng(rng).permutation(n)
    k = round(n * test_fraction)
    return order[k:], order[:k]
