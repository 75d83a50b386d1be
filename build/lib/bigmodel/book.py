"""Helpers for the notebooks: glue results into the prose, state the environment."""

from __future__ import annotations

import math
import os
import platform
import sys
from typing import Any

# MyST-NB reads glued values from display outputs whose MIME types carry this prefix and
# whose metadata names them (``metadata["scrapbook"]["name"]``): the format of
# ``myst_nb.glue``, written here so that the notebooks do not need myst_nb to run.
GLUE_PREFIX = "application/papermill.record/"
# Where a glued value's tolerance is stored in the output's metadata; the book's nbval
# plugin (tests/nbval_tolerance.py) reads it.
TOLERANCE_KEY = "bigmodel"


def _plain(value: Any) -> Any:
    """NumPy (or framework) scalars as Python numbers, so ``{glue:text}`` can format them."""
    if getattr(value, "ndim", None) == 0 and hasattr(value, "item"):
        return value.item()
    return value


def glue(
    name: str,
    value: Any,
    display: bool = True,
    *,
    rtol: float = 0.0,
    atol: float = 0.0,
) -> None:
    """Store ``value`` under ``name`` for MyST-NB's ``{glue:text}`` role.

    Args:
        name: the key used in the prose, ``{glue:text}`name:.3f```.
        value: a number, string or other object; NumPy scalars are stored as Python
            numbers.
        display: also show the value as the cell's output.
        rtol, atol: how far the value may move between machines (CPU, BLAS, thread
            count) and still be the same result: ``|new - stored| <= atol + rtol *
            |stored|``. The book's tests compare a glued value with the one stored in the
            notebook within this tolerance; with the default 0 they compare it exactly,
            which is right for counts, shapes and values computed exactly. A value that
            depends on floating-point summation order needs a tolerance measured with
            ``make test-portable``.

    Outside IPython (a plain ``python`` run) nothing is shown or stored.
    """
    if rtol < 0 or atol < 0 or not (math.isfinite(rtol) and math.isfinite(atol)):
        raise ValueError(f"glue({name!r}): rtol and atol must be finite and >= 0, got {rtol}, {atol}")
    try:
        from IPython import get_ipython
        from IPython.core.formatters import format_display_data
        from IPython.display import display as ipy_display
    except ImportError:  # pragma: no cover - IPython is a dependency of every notebook
        return
    if get_ipython() is None:
        return
    value = _plain(value)
    bundle, metadata = format_display_data(value)
    prefix = "" if display else GLUE_PREFIX
    metadata["scrapbook"] = {"name": name, "mime_prefix": prefix}
    if rtol or atol:
        metadata[TOLERANCE_KEY] = {"rtol": float(rtol), "atol": float(atol)}
    ipy_display({prefix + k: v for k, v in bundle.items()}, raw=True, metadata=metadata)


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules


def python_version() -> str:
    """``'3.11.7 (CPython)'``."""
    return f"{platform.python_version()} ({platform.python_implementation()})"


def quiet_tensorflow() -> None:
    """Set the environment so TensorFlow's C++ start-up messages stay off stderr.

    Must run before TensorFlow is imported. oneDNN's custom CPU kernels are switched off
    so that results do not depend on the CPU's instruction set (it also makes the
    PyTorch-TensorFlow parity checks exact to float32 rounding).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
