"""One poet's poems held out of 《全唐诗》: a pretraining text without them, fine-tuning pools
of their poems, and a test set of their poems that no model has seen.

Pretraining on every poet but one, then adapting to that poet with few of their poems,
measures what a pretrained model brings to a new, small data set. That only holds if
neither the pretraining text nor the fine-tuning pools contain the test poems, and the
published collection repeats itself: 白居易 has 3,009 poems in it, 20 of them repeating another
of his, 3 also printed under another poet's name, and 55 distinct printed lines of his
(of 4 Han characters or more) appear in 26 poems of other poets (a reply quoting a line, a
poem attributed to two poets). So
:func:`split_poet` drops the poet's repeated poems, and drops from the pretraining text
every other poem that shares a whole printed line of at least ``MIN_SHARED_HAN`` Han
characters with one of the poet's.

A poem is its printed lines joined by ``"\\n"``, as in :func:`bigmodel.data.tang_text`,
so ``"\\n\\n".join(split.pretrain)`` is a training text of the same form as the full corpus.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np

from ..inputs import integer, positive_int
from .poems import is_han

__all__ = ["FINETUNE_POET", "MIN_SHARED_HAN", "PoetSplit", "split_poet"]

#: A printed line counts as shared when it has this many Han characters at least; fewer
#: are the collection's editorial debris (``"）。"``, ``"。"``, ``"（同前）。"``), which many
#: poems share.
MIN_SHARED_HAN = 4

#: The poet held out in the fine-tuning experiments, the one with the most poems in the
#: collection (3,009).
FINETUNE_POET = "白居易"


@dataclass(frozen=True)
class PoetSplit:
    """The split made by :func:`split_poet`.

    Attributes:
        poet: the held-out poet, as printed in the collection (traditional characters).
        pretrain: every other poet's poems, less those sharing a printed line (of at least
            ``MIN_SHARED_HAN`` Han characters) with the poet's, in the collection's order.
        test: the poet's held-out poems (``n_test`` of them), never in a pool.
        pool_order: the poet's other poems in a seeded random order; the pool of size ``n``
            is its first ``n`` (:meth:`pool`), so smaller pools lie inside larger ones.
        removed_shared_line: other poets' poems left out of ``pretrain`` for a shared line.
        removed_repeats: the poet's poems left out as repeats of an earlier one.
    """

    poet: str
    pretrain: list[str]
    test: list[str]
    pool_order: list[str]
    removed_shared_line: int
    removed_repeats: int

    def pool(self, n: int) -> list[str]:
        """The first ``n`` poems of :attr:`pool_order`: a fine-tuning set of ``n`` poems."""
        n = positive_int(n, "n")
        if n > len(self.pool_order):
            raise ValueError(f"a pool of {n} poems asked for; {self.poet} has "
                             f"{len(self.pool_order)} outside the test set")
        return self.pool_order[:n]


def split_poet(authors: list[str], paragraphs: list[list[str]], poet: str = FINETUNE_POET,
               *, n_test: int = 500, seed: int = 0) -> PoetSplit:
    """Hold one poet's poems out of the collection.

    Args:
        authors: ``(N,)`` each poem's poet (:attr:`bigmodel.data.TangPoems.author`).
        paragraphs: ``(N,)`` each poem's printed lines
            (:attr:`bigmodel.data.TangPoems.paragraphs`); poems without lines are skipped.
        poet: the poet to hold out, spelled as in ``authors``.
        n_test: how many of the poet's poems form the test set.
        seed: the order (``numpy.random.default_rng(seed).permutation``) in which the poet's
            distinct poems are dealt: the first ``n_test`` to the test set, the rest to the
            pools.

    Returns:
        :class:`PoetSplit`.

    Raises:
        ValueError: ``authors`` and ``paragraphs`` differ in length; the poet is not in
            ``authors`` (the message names the poets with the most poems); ``n_test`` leaves
            no poem for the pools.
    """
    if len(authors) != len(paragraphs):
        raise ValueError(f"{len(authors)} authors for {len(paragraphs)} poems; pass both "
                         "lists of the same TangPoems")
    n_test = positive_int(n_test, "n_test")
    seed = integer(seed, "seed", low=0)
    if poet not in authors:
        top = ", ".join(f"{a} ({n})" for a, n in Counter(authors).most_common(5))
        raise ValueError(f"no poem by {poet!r} in the collection; the poets with the most "
                         f"poems: {top} (names in traditional characters)")
    own: list[str] = []
    seen: set[str] = set()
    own_lines: set[str] = set()
    for a, lines in zip(authors, paragraphs, strict=True):
        if a != poet or not lines:
            continue
        text = "\n".join(lines)
        own_lines.update(line for line in lines if sum(map(is_han, line)) >= MIN_SHARED_HAN)
        if text not in seen:
            seen.add(text)
            own.append(text)
    n_own = sum(a == poet and bool(lines) for a, lines in zip(authors, paragraphs, strict=True))
    if n_test >= len(own):
        raise ValueError(f"n_test={n_test} leaves no poem to fine-tune on: {poet} has "
                         f"{len(own)} distinct poems; use fewer")
    pretrain, removed = [], 0
    for a, lines in zip(authors, paragraphs, strict=True):
        if a == poet or not lines:
            continue
        if own_lines.intersection(lines):
            removed += 1
        else:
            pretrain.append("\n".join(lines))
    order = np.random.default_rng(seed).permutation(len(own))
    dealt = [own[i] for i in order]
    return PoetSplit(poet=poet, pretrain=pretrain, test=dealt[:n_test],
                     pool_order=dealt[n_test:], removed_shared_line=removed,
                     removed_repeats=n_own - len(own))
