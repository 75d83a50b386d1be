"""The library's input contract, checked in one place for NumPy, PyTorch and TensorFlow.

- **Features** ``x``: any array-like (a NumPy array, a list, a pandas frame's ``.values``)
  of shape ``(n, n_in)`` with a floating dtype. float16/32/64 are accepted; the framework
  models compute in float32 and convert. Integer and boolean arrays are refused, because
  the usual integer input is raw pixels (0-255) that would train without a warning on the
  wrong scale. NaN and infinity are refused.
- **Labels** ``y``: integers in ``[0, n_out)``, one per row of ``x``.
- **Settings**: ``epochs``, ``batch_size`` and sizes are positive integers; a learning
  rate is a finite positive number.

Errors are ``ValueError`` (or ``TypeError`` for a wrong kind of object) and say what is
wrong, with the value or shape found, and how to fix it.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = ["features", "labels", "positive_int", "positive_number", "float_dtype_hint"]


def float_dtype_hint(name: str, dtype: Any, high: Any = None) -> str:
    """The message for an integer or boolean feature array."""
    seen = f" (values up to {high})" if high is not None else ""
    fix = (
        f"{name}.astype(np.float32) / 255" if high is not None and high > 1 else f"{name}.astype(np.float32)"
    )
    return (
        f"{name} has dtype {dtype}{seen}; the networks expect floating-point features "
        f"(pixels scaled to [0, 1]). Convert with {fix}, or load with load_mnist(scale=True)."
    )


def features(x: Any, n_in: int, *, name: str = "x", allow_empty: bool = False) -> np.ndarray:
    """``x`` as a floating NumPy array of shape ``(n, n_in)``, or a clear error.

    The dtype of a floating array is kept (the NumPy reference computes in it); integer,
    boolean and object arrays are refused, and so are NaN and infinity.
    """
    if isinstance(x, dict | str | bytes):
        raise TypeError(f"{name} must be an array of shape (n, {n_in}), got a {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(
            f"{name} must be an array-like of shape (n, {n_in}); np.asarray failed on a "
            f"{type(x).__name__}: {err}"
        ) from None
    if arr.dtype == object:
        raise TypeError(f"{name} holds Python objects (ragged rows?); expected a numeric (n, {n_in}) array")
    if arr.ndim != 2 or arr.shape[1] != n_in:
        raise ValueError(
            f"{name} has shape {arr.shape}; the network needs (n, {n_in}). "
            "Flatten images first, e.g. x.reshape(len(x), -1)."
        )
    if arr.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{name} is empty (shape {arr.shape}); pass at least one row")
    if not np.issubdtype(arr.dtype, np.floating):
        if np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool:
            high = arr.max() if arr.size else None
            raise ValueError(float_dtype_hint(name, arr.dtype, high))
        raise TypeError(f"{name} has dtype {arr.dtype}; expected float32 or float64")
    bad = ~np.isfinite(arr)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} holds {int(bad.sum())} NaN or infinite value(s), the first at {first}; "
            "clean or impute them before training"
        )
    return arr


def labels(y: Any, n: int, n_out: int, *, name: str = "y") -> np.ndarray:
    """``y`` as an int64 array of ``n`` labels in ``[0, n_out)``, or a clear error."""
    arr = np.asarray(y)
    if arr.shape != (n,):
        raise ValueError(f"{name} has shape {arr.shape}; expected ({n},): one integer label per row of x")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if np.issubdtype(arr.dtype, np.floating) and np.all(arr == np.round(arr)) and np.isfinite(arr).all():
            raise ValueError(f"{name} has dtype {arr.dtype}; labels must be integers: use {name}.astype(int)")
        raise ValueError(f"{name} has dtype {arr.dtype}; expected integer class labels in [0, {n_out})")
    if arr.size and (arr.min() < 0 or arr.max() >= n_out):
        raise ValueError(
            f"{name} holds labels from {arr.min()} to {arr.max()}; the network has {n_out} outputs, "
            f"so labels must lie in [0, {n_out})"
        )
    return arr.astype(np.int64, copy=False)


def positive_int(value: Any, name: str) -> int:
    """``value`` if it is an integer >= 1 (not a bool), else a ``ValueError`` naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def positive_number(value: Any, name: str) -> float:
    """``value`` as a float if it is finite and > 0, else a ``ValueError`` naming ``name``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)
