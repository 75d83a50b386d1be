"""Data augmentation and label noise for MNIST-like images, in NumPy.

- :func:`shift` and :func:`rotate` move or turn each image, filling with 0 (black);
  :func:`random_augment` draws a shift and an angle per image.
- :func:`flip_labels` replaces a given share of the labels by a different class drawn
  uniformly (symmetric label noise), to measure what bad training labels cost.

Images are ``(n, H, W)`` or flattened ``(n, H*W)`` with square ``H = W``; the result has
the layout of the input.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .inputs import integer, number

__all__ = ["flip_labels", "random_augment", "rotate", "shift"]


def _as_images(images: Any) -> tuple[np.ndarray, tuple[int, ...]]:
    """``images`` as floating ``(n, H, W)``, and the shape to return them in."""
    x = np.asarray(images)
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(
            f"images have dtype {x.dtype}; expected floats (pixels scaled to [0, 1]): "
            "use images.astype(np.float32) / 255"
        )
    if x.ndim == 3:
        return x, x.shape
    if x.ndim == 2:
        side = int(round(np.sqrt(x.shape[1])))
        if side * side == x.shape[1]:
            return x.reshape(len(x), side, side), x.shape
    raise ValueError(
        f"images have shape {x.shape}; expected (n, H, W) or flattened square images (n, H*W)"
    )


def _per_image(values: Any, n: int, name: str) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if v.ndim == 0:
        v = np.full(n, float(v))
    if v.shape != (n,):
        raise ValueError(f"{name} has shape {v.shape}; expected one value or ({n},), one per image")
    if not np.isfinite(v).all():
        raise ValueError(f"{name} holds NaN or infinite values")
    return v


def shift(images: Any, dy: Any, dx: Any) -> np.ndarray:
    """Move each image by whole pixels: ``dy`` down and ``dx`` right (negative: up, left).

    ``dy``, ``dx``: one integer or one per image. What leaves the frame is lost; what
    enters is 0.
    """
    x, shape = _as_images(images)
    n, h, w = x.shape
    dy, dx = _per_image(dy, n, "dy"), _per_image(dx, n, "dx")
    if np.any(dy != np.round(dy)) or np.any(dx != np.round(dx)):
        raise ValueError("dy and dx must be whole numbers of pixels; use rotate() for sub-pixel moves")
    out = np.zeros_like(x)
    for i in range(n):
        a, b = int(dy[i]), int(dx[i])
        src = x[i, max(0, -a): h - max(0, a), max(0, -b): w - max(0, b)]
        out[i, max(0, a): max(0, a) + src.shape[0], max(0, b): max(0, b) + src.shape[1]] = src
    return out.reshape(shape)


def rotate(images: Any, degrees: Any) -> np.ndarray:
    """Turn each image about its centre by ``degrees`` (counter-clockwise on screen).

    Bilinear interpolation; pixels that come from outside the frame are 0. ``degrees``:
    one angle or one per image.
    """
    x, shape = _as_images(images)
    n, h, w = x.shape
    theta = np.deg2rad(_per_image(degrees, n, "degrees"))[:, None, None]  # (n, 1, 1)
    cy, cx = (h - 1) / 2.0, (w - 1) / 2.0
    rows, cols = np.mgrid[0:h, 0:w].astype(float)
    ry, rx = rows - cy, cols - cx  # (h, w), y pointing down
    cos, sin = np.cos(theta), np.sin(theta)
    # inverse map: the output pixel at (ry, rx) comes from the input turned back by θ
    src_x = cos * rx - sin * ry + cx  # (n, h, w)
    src_y = sin * rx + cos * ry + cy
    y0, x0 = np.floor(src_y).astype(int), np.floor(src_x).astype(int)
    fy, fx = src_y - y0, src_x - x0
    out = np.zeros(x.shape, dtype=np.float64)
    idx = np.arange(n)[:, None, None]
    for oy, ox, wgt in ((0, 0, (1 - fy) * (1 - fx)), (0, 1, (1 - fy) * fx),
                        (1, 0, fy * (1 - fx)), (1, 1, fy * fx)):
        yy, xx = y0 + oy, x0 + ox
        inside = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
        vals = x[idx, np.clip(yy, 0, h - 1), np.clip(xx, 0, w - 1)]
        out += np.where(inside, vals, 0.0) * wgt
    return out.astype(x.dtype).reshape(shape)


def random_augment(
    images: Any, rng: np.random.Generator | int, max_shift: int = 2, max_degrees: float = 15.0
) -> np.ndarray:
    """Each image turned by an angle drawn uniformly from ``±max_degrees``, then shifted by
    whole pixels drawn uniformly from ``-max_shift..max_shift`` in each direction."""
    max_shift = integer(max_shift, "max_shift", low=0)
    x, shape = _as_images(images)
    max_degrees = number(max_degrees, "max_degrees", 0, 180)
    rng = np.random.default_rng(rng)
    n = len(x)
    angles = rng.uniform(-max_degrees, max_degrees, n)
    dy, dx = rng.integers(-max_shift, max_shift + 1, (2, n))
    return shift(rotate(x, angles), dy, dx).reshape(shape)


def flip_labels(
    y: Any, share: float, n_classes: int, rng: np.random.Generator | int
) -> tuple[np.ndarray, np.ndarray]:
    """Replace ``round(share * n)`` labels, chosen at random, by a different class.

    The new class is drawn uniformly from the ``n_classes - 1`` others (symmetric noise),
    so with ``share`` below ``(n_classes - 1) / n_classes`` the true class stays the most
    frequent label of every class.

    Returns:
        ``(y_noisy (n,) int64, flipped (n,) bool)``.
    """
    y = np.asarray(y)
    if y.ndim != 1 or (y.size and not np.issubdtype(y.dtype, np.integer)):
        raise ValueError(f"y must be a 1-D array of integer labels, got shape {y.shape}, dtype {y.dtype}")
    if isinstance(n_classes, bool) or not isinstance(n_classes, int | np.integer) or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"y holds labels from {y.min()} to {y.max()}; expected [0, {n_classes})")
    share = number(share, "share", 0, 1, hint="a fraction: 0.2 for 20 %")
    rng = np.random.default_rng(rng)
    n = len(y)
    flipped = np.zeros(n, bool)
    flipped[rng.choice(n, int(round(share * n)), replace=False)] = True
    # adding 1..n_classes-1 modulo n_classes gives every other class with equal chance
    offset = rng.integers(1, n_classes, n)
    y_noisy = np.where(flipped, (y + offset) % n_classes, y).astype(np.int64)
    return y_noisy, flipped
