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
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "check_array",
    "features",
    "float_dtype_hint",
    "integer",
    "labels",
    "number",
    "positive_int",
    "positive_number",
]


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


def check_array(
    x: Any,
    *,
    name: str = "x",
    kind: str = "an array",
    ragged: str = "ragged rows?",
    shape: Callable[[tuple[int, ...]], None] | None = None,
    allow_empty: bool = True,
    unit: str = "row",
    integer_message: Callable[[np.ndarray], str] | None = None,
    nonfinite: str = "value(s)",
    nonfinite_fix: str = "; clean or impute them before training",
) -> np.ndarray:
    """``x`` as a floating NumPy array, or a clear error: the one checker of the input
    contract, which every public entry point that takes features, images or samples calls
    (in the spirit of scikit-learn's ``check_array``); what comes after it trusts the array.

    In order, it refuses: a dict or a string (``TypeError``, "``name`` must be ``kind``");
    what ``np.asarray`` cannot turn into an array; Python objects (``ragged`` says the
    likely cause); a shape ``shape(arr.shape)`` rejects (that callback raises with the
    fix); an empty array unless ``allow_empty`` ("pass at least one ``unit``"); integer and
    boolean values (``ValueError`` with ``integer_message(arr)``, by default the
    rescaling hint of :func:`float_dtype_hint`); other non-floating dtypes; NaN and
    infinity, with how many and the first position. A floating dtype is kept.
    """
    if isinstance(x, dict | str | bytes):
        raise TypeError(f"{name} must be {kind}, got a {type(x).__name__}")
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError, RuntimeError) as err:
        raise TypeError(
            f"{name} must be {kind}; np.asarray failed on a {type(x).__name__}: {err}"
        ) from None
    if arr.dtype == object:
        raise TypeError(f"{name} holds Python objects ({ragged}); expected a numeric array")
    if shape is not None:
        shape(arr.shape)
    if arr.ndim and arr.shape[0] == 0 and not allow_empty:
        raise ValueError(f"{name} is empty (shape {arr.shape}); pass at least one {unit}")
    if not np.issubdtype(arr.dtype, np.floating):
        if np.issubdtype(arr.dtype, np.integer) or arr.dtype == bool:
            if integer_message is not None:
                raise ValueError(integer_message(arr))
            raise ValueError(float_dtype_hint(name, arr.dtype, arr.max() if arr.size else None))
        raise TypeError(f"{name} has dtype {arr.dtype}; expected float32 or float64")
    bad = ~np.isfinite(arr)
    if bad.any():
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"{name} holds {int(bad.sum())} NaN or infinite {nonfinite}, the first at {first}"
            f"{nonfinite_fix}"
        )
    return arr


def features(x: Any, n_in: int, *, name: str = "x", allow_empty: bool = False) -> np.ndarray:
    """``x`` as a floating NumPy array of shape ``(n, n_in)``, or a clear error
    (:func:`check_array`).

    The dtype of a floating array is kept (the NumPy reference computes in it); integer,
    boolean and object arrays are refused, and so are NaN and infinity.
    """
    n_in = positive_int(n_in, "n_in")

    def rows(shape: tuple[int, ...]) -> None:
        if len(shape) != 2 or shape[1] != n_in:
            raise ValueError(
                f"{name} has shape {shape}; the network needs (n, {n_in}). "
                "Flatten images first, e.g. x.reshape(len(x), -1)."
            )

    return check_array(x, name=name, kind=f"an array of shape (n, {n_in})", shape=rows,
                       allow_empty=allow_empty)


def labels(y: Any, n: int, n_out: int, *, name: str = "y") -> np.ndarray:
    """``y`` as an int64 array of ``n`` labels in ``[0, n_out)``, or a clear error."""
    n, n_out = integer(n, "n", low=0), positive_int(n_out, "n_out")
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


def integer(value: Any, name: str, low: int | None = None, high: int | None = None, *,
            hint: str = "") -> int:
    """``value`` as an ``int`` if it is an integer (not a bool, not a float) in
    ``[low, high]`` (either bound may be left open), else a ``ValueError`` naming ``name``
    (and ending with ``hint``, how to fix it, when given).

    NumPy integers are accepted; ``2.0`` is not, so that an id or a count computed in
    floating point is noticed rather than truncated.
    """
    fix = f"; {hint}" if hint else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r} ({type(value).__name__}){fix}")
    if (low is not None and value < low) or (high is not None and value > high):
        where = (f"from {low} to {high}" if low is not None and high is not None
                 else f">= {low}" if low is not None else f"<= {high}")
        raise ValueError(f"{name} must be an integer {where}, got {value!r}{fix}")
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


def number(value: Any, name: str, low: float | None = None, high: float | None = None, *,
           low_open: bool = False, high_open: bool = False, allow_inf: bool = False,
           hint: str = "") -> float:
    """``value`` as a float if it is a real number (not a bool, not a string) in the range
    from ``low`` to ``high`` (either bound may be left open with ``None``; ``low_open``
    and ``high_open`` exclude the bound itself), else a ``ValueError`` naming ``name``.

    NaN is always refused; infinity only where ``allow_inf`` says it means something (no
    limit). A share is ``number(p, "share", 0, 1)``. ``hint``, when given, ends the
    message: how to fix it.
    """
    fix = f"; {hint}" if hint else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r} ({type(value).__name__}){fix}")
    value = float(value)
    if math.isnan(value) or (math.isinf(value) and not allow_inf):
        raise ValueError(f"{name} must be a finite number, got {value!r}{fix}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        lo = "" if low is None else f"{'>' if low_open else '>='} {low:g}"
        hi = "" if high is None else f"{'<' if high_open else '<='} {high:g}"
        kind = "number" if allow_inf else "finite number"
        raise ValueError(f"{name} must be a {kind} {' and '.join(filter(None, [lo, hi]))}, "
                         f"got {value!r}{fix}")
    return value
