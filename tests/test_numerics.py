"""The float32 tolerance rule (tests/numerics.py) holds for sums in any order, and catches bugs."""

from __future__ import annotations

import numpy as np
import pytest

from numerics import EPS32, assert_float32_close, float32_atol, reduction_terms


@pytest.mark.parametrize("n", [3, 64, 784, 4096])
def test_any_summation_order_is_within_the_bound(n):
    """Sequential, pairwise (NumPy), reversed and blocked float32 sums of one dot product."""
    rng = np.random.default_rng(n)
    a, b = rng.normal(size=(2, 50, n)).astype(np.float32)
    exact = np.einsum("ij,ij->i", a.astype(np.float64), b.astype(np.float64))
    prods = a * b
    sequential = np.zeros(50, np.float32)
    for j in range(n):
        sequential += prods[:, j]
    orders = {
        "sequential": sequential,
        "pairwise": prods.sum(axis=1, dtype=np.float32),
        "reversed": prods[:, ::-1].cumsum(axis=1, dtype=np.float32)[:, -1],
        "blocked": prods.reshape(50, -1, 1 if n % 8 else 8).sum(2, dtype=np.float32).sum(1, dtype=np.float32),
    }
    scale = np.abs(prods).sum(axis=1).max()  # Higham's S: the terms' magnitudes
    for name, got in orders.items():
        for other in orders.values():
            assert_float32_close(got, other, n, scale=scale, err_msg=name)
        assert_float32_close(got, exact, n, scale=scale, err_msg=f"{name} vs float64")


@pytest.mark.parametrize("bug", ["a missing bias", "a scaled weight", "one swapped pair"])
def test_the_bound_catches_what_bugs_do(bug):
    """Null case: a comparison the rule must fail (the check has power)."""
    rng = np.random.default_rng(0)
    x = rng.random((16, 784), dtype=np.float32)
    w, b = rng.normal(0, 0.05, (784, 10)).astype(np.float32), rng.normal(0, 0.1, 10).astype(np.float32)
    ref = x @ w + b
    wrong = {
        "a missing bias": x @ w,
        "a scaled weight": x @ (w * np.float32(1.001)) + b,
        "one swapped pair": x @ w[:, [1, 0, *range(2, 10)]] + b,
    }[bug]
    with pytest.raises(AssertionError, match="float32 rounding bound"):
        assert_float32_close(wrong, ref, reduction_terms([w.shape]))


def test_the_tolerance_grows_with_terms_steps_and_scale():
    assert float32_atol([1.0], 1) == 2 * EPS32
    assert float32_atol([-3.0, 2.0], 10, steps=4) == pytest.approx(2 * 10 * 4 * EPS32 * 3)
    assert reduction_terms({"W1": (784, 256), "b1": (256,), "W2": (256, 10), "b2": (10,)}) == 1040
    assert reduction_terms({"W1": (3, 3, 1, 8), "W2": (3, 3, 8, 16), "W3": (400, 10)}) == 9 + 72 + 400
    with pytest.raises(ValueError, match="terms and steps"):
        float32_atol([1.0], 0)
