"""Shifts, rotations and label flips: exact on small cases, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest

from bigmodel import augment


def dot(h=5, w=5, at=(2, 3)):
    x = np.zeros((1, h, w), np.float32)
    x[0, at[0], at[1]] = 1.0
    return x


def test_shift_moves_and_fills_with_zeros():
    x = np.arange(1, 26, dtype=np.float32).reshape(1, 5, 5)
    down_right = augment.shift(x, 1, 2)[0]
    assert np.array_equal(down_right[1:, 2:], x[0, :-1, :-2])
    assert down_right[0].sum() == 0 and down_right[:, :2].sum() == 0
    up_left = augment.shift(x, -2, -1)[0]
    assert np.array_equal(up_left[:-2, :-1], x[0, 2:, 1:])
    assert np.array_equal(augment.shift(x, 0, 0), x)
    assert augment.shift(x, 5, 0).sum() == 0  # moved out of the frame


def test_shift_per_image_and_flat_layout():
    x = np.stack([dot()[0], dot(at=(0, 0))[0]]).reshape(2, 25)
    out = augment.shift(x, [1, 0], [0, 1])
    assert out.shape == (2, 25)
    assert out.reshape(2, 5, 5)[0, 3, 3] == 1 and out.reshape(2, 5, 5)[1, 0, 1] == 1


def test_rotate_quarter_turns_are_exact():
    x = dot(at=(2, 4))  # right of the centre (2, 2)
    ccw = augment.rotate(x, 90)[0]
    assert ccw[0, 2] == pytest.approx(1.0, abs=1e-6)  # counter-clockwise: to the top
    assert ccw.sum() == pytest.approx(1.0, abs=1e-6)
    assert augment.rotate(x, -90)[0][4, 2] == pytest.approx(1.0, abs=1e-6)
    np.testing.assert_allclose(augment.rotate(x, 360), x, atol=1e-6)
    np.testing.assert_allclose(augment.rotate(x, 0), x)


def test_rotate_keeps_the_mass_of_a_centred_digit():
    rng = np.random.default_rng(0)
    x = np.zeros((3, 28, 28), np.float32)
    x[:, 8:20, 8:20] = rng.uniform(0, 1, (3, 12, 12))
    out = augment.rotate(x, [10.0, -15.0, 30.0])
    np.testing.assert_allclose(out.sum((1, 2)), x.sum((1, 2)), rtol=0.02)
    assert out.dtype == np.float32 and out.min() >= 0


def test_random_augment_is_seeded_and_bounded():
    rng = np.random.default_rng(1)
    x = rng.uniform(0, 1, (4, 784)).astype(np.float32)
    a, b = augment.random_augment(x, 3), augment.random_augment(x, 3)
    assert np.array_equal(a, b) and a.shape == x.shape
    assert not np.array_equal(a, augment.random_augment(x, 4))
    assert np.array_equal(augment.random_augment(x, 0, max_shift=0, max_degrees=0), x)


def test_flip_labels_changes_exactly_the_share():
    y = np.repeat(np.arange(10), 100)
    for share in (0.0, 0.1, 0.5, 1.0):
        noisy, flipped = augment.flip_labels(y, share, 10, 0)
        assert flipped.sum() == round(share * len(y))
        assert np.all(noisy[flipped] != y[flipped]) and np.all(noisy[~flipped] == y[~flipped])
        assert noisy.min() >= 0 and noisy.max() < 10
    noisy, _ = augment.flip_labels(np.zeros(20_000, int), 1.0, 10, 0)
    counts = np.bincount(noisy, minlength=10)
    assert counts[0] == 0 and counts[1:].min() > 2000 * 0.9  # the other classes equally


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="255"):
        augment.shift(np.zeros((1, 5, 5), np.uint8), 1, 1)
    with pytest.raises(ValueError, match="shape"):
        augment.rotate(np.zeros((2, 10), np.float32), 10)
    with pytest.raises(ValueError, match="dy"):
        augment.shift(np.zeros((2, 5, 5), np.float32), [1, 2, 3], 0)
    with pytest.raises(ValueError, match="whole"):
        augment.shift(np.zeros((1, 5, 5), np.float32), 0.5, 0)
    with pytest.raises(ValueError, match="share"):
        augment.flip_labels(np.arange(5), 20, 10, 0)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        augment.flip_labels(np.arange(5), 0.2, 3, 0)
    with pytest.raises(ValueError, match="n_classes"):
        augment.flip_labels(np.arange(5), 0.2, 1, 0)
