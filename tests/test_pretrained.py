"""The packaged sentence encoder loads offline, is the official one, and embeds sensibly."""

from __future__ import annotations

import numpy as np
import pytest

from bigmodel import pretrained


@pytest.fixture(scope="module")
def encoder():
    return pretrained.load_sentence_encoder("cpu")


def test_embeddings_are_unit_vectors_of_384(encoder):
    e = pretrained.embed(encoder, ["a fine film .", "a dreadful film ."])
    assert e.shape == (2, 384) and e.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, atol=1e-5)


def test_similar_sentences_are_closer(encoder):
    a, b, c = pretrained.embed(
        encoder, ["the movie was wonderful", "the film was great", "the stock market fell today"]
    )
    assert a @ b > a @ c + 0.2


def test_wrong_weights_are_refused(monkeypatch):
    monkeypatch.setattr(pretrained, "MINILM_SHA256", "0" * 64)
    from bigmodel.data import ChecksumError

    with pytest.raises(ChecksumError, match="not the official"):
        pretrained.load_sentence_encoder("cpu")
