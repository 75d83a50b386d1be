"""Canaries: planting, the exposure arithmetic, and scoring with a known model."""

from __future__ import annotations

import math

import numpy as np
import pytest

from bigmodel import canary


def test_all_secrets():
    s = canary.all_secrets(2)
    assert len(s) == 100 and s[0] == "00" and s[7] == "07" and s[-1] == "99"
    with pytest.raises(ValueError, match="n_digits"):
        canary.all_secrets(0)


def test_plant_adds_whole_lines_only():
    text = "".join(f"line {i}\n" for i in range(50))
    out = canary.plant(text, [("my PIN is 1234", 3), ("other 9", 1), ("never", 0)], 0)
    lines = out.splitlines()
    assert lines.count("my PIN is 1234") == 3 and lines.count("other 9") == 1
    assert "never" not in out
    assert [ln for ln in lines if ln.startswith("line")] == text.splitlines()
    assert out == canary.plant(text, [("my PIN is 1234", 3), ("other 9", 1), ("never", 0)], 0)


def test_plant_errors():
    with pytest.raises(ValueError, match="one non-empty line"):
        canary.plant("a\n", [("two\nlines", 1)], 0)
    with pytest.raises(ValueError, match="integer >= 0"):
        canary.plant("a\n", [("x", -1)], 0)
    with pytest.raises(TypeError, match="str"):
        canary.plant(b"a\n", [("x", 1)], 0)


def test_rank_and_exposure():
    scores = np.array([5.0, 1.0, 3.0, 3.0, 9.0, 7.0, 2.0, 8.0])
    assert canary.rank(scores, 1) == 1
    assert canary.rank(scores, 2) == canary.rank(scores, 3) == 3  # ties: in its favour
    assert canary.rank(scores, 4) == 8
    assert canary.exposure(scores, 1) == 3.0  # log2(8) - log2(1)
    assert canary.exposure(scores, 4) == 0.0
    with pytest.raises(ValueError, match="index"):
        canary.rank(scores, 8)


def test_mean_random_exposure():
    n = 1000
    direct = np.mean([math.log2(n) - math.log2(r) for r in range(1, n + 1)])
    assert canary.mean_random_exposure(n) == pytest.approx(direct, rel=1e-12)
    assert canary.mean_random_exposure(10**6) == pytest.approx(1 / math.log(2), abs=1e-4)


def bigram_logprobs(table):
    """A model whose next-token distribution depends on the last token only."""
    logp = np.log(table / table.sum(1, keepdims=True))

    def f(ids):
        return logp[ids]  # (B, T, V)

    return f


def test_secret_log_perplexity_against_a_bigram_model():
    rng = np.random.default_rng(0)
    table = rng.uniform(0.1, 1.0, (5, 5))
    f = bigram_logprobs(table)
    cands = np.array([[a, b, c] for a in range(5) for b in range(5) for c in range(5)])
    prefix = [4, 1, 3]
    got = canary.secret_log_perplexity(f, prefix, cands, block_size=8, batch_size=7)
    p = table / table.sum(1, keepdims=True)
    want = [-np.log2(p[3, a] * p[a, b] * p[b, c]) for a, b, c in cands]
    np.testing.assert_allclose(got, want, rtol=1e-12)
    # a prefix longer than the context is cropped on the left: a bigram does not care
    long = canary.secret_log_perplexity(f, [0] * 20 + prefix, cands, block_size=4)
    np.testing.assert_allclose(long, want, rtol=1e-12)
    one = canary.secret_log_perplexity(f, prefix, np.arange(5)[:, None], block_size=4)
    np.testing.assert_allclose(one, -np.log2(p[3, :5]), rtol=1e-12)


def test_secret_log_perplexity_errors():
    f = bigram_logprobs(np.ones((3, 3)))
    with pytest.raises(ValueError, match="candidates"):
        canary.secret_log_perplexity(f, [0], np.zeros(3, int), 4)
    with pytest.raises(ValueError, match="prefix"):
        canary.secret_log_perplexity(f, [], np.zeros((2, 2), int), 4)
    with pytest.raises(ValueError, match="block_size"):
        canary.secret_log_perplexity(f, [0], np.zeros((2, 6), int), 4)
    with pytest.raises(ValueError, match="logprobs returned"):
        canary.secret_log_perplexity(lambda ids: np.zeros((1, 1, 3)), [0], np.zeros((2, 2), int), 4)
