"""Bag-of-words features and the seeded split."""

from __future__ import annotations

import numpy as np
import pytest

from bigmodel.text import bow


def test_vocabulary_keeps_the_most_frequent_words_in_a_stable_order():
    texts = ["b a a", "c a b", "d"]
    v = bow.WordVocabulary.build(texts, size=2, min_count=1)
    assert v.words == ("a", "b")  # a:3, b:2; c and d cut by size
    assert bow.WordVocabulary.build(list(reversed(texts)), size=2, min_count=1) == v
    assert bow.WordVocabulary.build(texts, size=10, min_count=2).words == ("a", "b")


def test_transform_marks_presence_and_ignores_unknown_words():
    v = bow.WordVocabulary(("good", "bad"))
    x = v.transform(["good good film", "bad", "unseen words only"])
    assert x.dtype == np.float32 and x.shape == (3, 2)
    assert x.tolist() == [[1, 0], [0, 1], [0, 0]]


def test_split_is_a_seeded_partition():
    train, test = bow.train_test_split(100, 0.1, rng=3)
    assert len(test) == 10 and len(train) == 90
    assert sorted(np.concatenate([train, test]).tolist()) == list(range(100))
    again = bow.train_test_split(100, 0.1, rng=3)
    assert (again[0] == train).all() and (again[1] == test).all()
    with pytest.raises(ValueError, match="test_fraction"):
        bow.train_test_split(10, 1.5)
