"""Two poets' poems with labels: the data of fine-tuning a GPT for a label.

Telling two poets apart is a task a pretrained language model might help with: it has
read poems of both, though never with their names. :func:`two_poets` takes each poet's
distinct poems, leaves out every poem printed under both names (its label would be
ambiguous), and deals each poet's poems at random into the same number of test poems and
the rest for training. A poem is its printed lines joined by ``"\\n"``, as in
:func:`bigmodel.text.poet_split.split_poet`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..inputs import integer, positive_int

__all__ = ["CLASSIFY_POETS", "PoetPair", "two_poets"]

#: The two poets of the book's classifier as the collection prints them, 李白 (1,207
#: poems) and 杜甫 (1,489).
CLASSIFY_POETS = ("李白", "杜甫")


@dataclass(frozen=True)
class PoetPair:
    """The split made by :func:`two_poets`.

    Attributes:
        poets: the two poets; label ``i`` is ``poets[i]``.
        train, train_labels: the training poems and their labels ``(n_train,)`` int64.
        test, test_labels: ``n_test`` poems of each poet, and their labels.
        removed_shared: poems printed under both names, left out.
    """

    poets: tuple[str, str]
    train: list[str]
    train_labels: np.ndarray
    test: list[str]
    test_labels: np.ndarray
    removed_shared: int


def two_poets(authors: list[str], paragraphs: list[list[str]],
              poets: tuple[str, str] = CLASSIFY_POETS, *, n_test: int = 200,
              seed: int = 0) -> PoetPair:
    """Label two poets' poems and split them into training and test poems.

    Args:
        authors: ``(N,)`` each poem's poet (:attr:`bigmodel.data.TangPoems.author`).
        paragraphs: ``(N,)`` each poem's printed lines; poems without lines are skipped.
        poets: the two poets, spelled as in ``authors`` (traditional characters).
        n_test: test poems per poet.
        seed: the order (``numpy.random.default_rng(seed)``) in which each poet's poems
            are dealt, test poems first.

    Raises:
        ValueError: ``authors`` and ``paragraphs`` differ in length; the two poets are the
            same; a poet is not in ``authors``; ``n_test`` leaves a poet no training poem.
    """
    if len(authors) != len(paragraphs):
        raise ValueError(f"{len(authors)} authors for {len(paragraphs)} poems; pass both "
                         "lists of the same TangPoems")
    poets = tuple(poets)
    if len(poets) != 2 or poets[0] == poets[1]:
        raise ValueError(f"poets must name two different poets, got {poets}")
    n_test = positive_int(n_test, "n_test")
    rng = np.random.default_rng(integer(seed, "seed", low=0))
    texts: dict[str, list[str]] = {p: [] for p in poets}
    for a, lines in zip(authors, paragraphs, strict=True):
        if a in texts and lines:
            text = "\n".join(lines)
            if text not in texts[a]:
                texts[a].append(text)
    for p in poets:
        if not texts[p]:
            raise ValueError(f"no poem by {p!r} in the collection (names are in traditional "
                             "characters)")
    shared = set(texts[poets[0]]) & set(texts[poets[1]])
    train, train_y, test, test_y = [], [], [], []
    for label, p in enumerate(poets):
        own = [t for t in texts[p] if t not in shared]
        if n_test >= len(own):
            raise ValueError(f"n_test={n_test} leaves {p} no training poem ({len(own)} "
                             "distinct poems); use fewer")
        dealt = [own[i] for i in rng.permutation(len(own))]
        test += dealt[:n_test]
        train += dealt[n_test:]
        test_y += [label] * n_test
        train_y += [label] * (len(own) - n_test)
    return PoetPair(poets=poets, train=train, train_labels=np.array(train_y, np.int64),
                    test=test, test_labels=np.array(test_y, np.int64),
                    removed_shared=len(shared))
