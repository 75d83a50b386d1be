"""Helpers for the notebooks: glue results into the prose, state the environment."""

from __future__ import annotations

import math
import os
import platform
import sys
from typing import Any

from bigmodel.inputs import integer, number

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
    rtol = number(rtol, f"glue({name!r}): rtol", 0)
    atol = number(atol, f"glue({name!r}): atol", 0)
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


#: The units Chinese counts in, largest first (万亿 = 10¹², 亿 = 10⁸, 万 = 10⁴).
ZH_UNITS = (("万亿", 1e12), ("亿", 1e8), ("万", 1e4))


def zh_count(count: float, resolution: float = 1.0) -> str:
    """``count`` written as Chinese counts it, in 万 (10⁴), 亿 (10⁸) or 万亿 (10¹²), with the
    decimals that ``resolution`` (the smallest step the value was rounded to) allows.

    ``zh_count(174.6e9, 1e8)`` is ``"1746 亿"`` where English says "174.6 billion";
    ``zh_count(2.9e6, 1e5)`` is ``"290 万"`` ("2.9 million"); ``zh_count(1.24e8, 1e6)`` is
    ``"1.24 亿"``; trailing zeros after the point are dropped (``"1.4 万亿"``). Below 10⁴
    the number is written as it is.
    """
    count = number(count, "zh_count: count", 0)
    resolution = number(resolution, "zh_count: resolution", 0, low_open=True)
    unit, scale = next(((u, s) for u, s in ZH_UNITS if count >= s), ("", 1.0))
    decimals = max(0, math.ceil(round(math.log10(scale / resolution), 9)))
    text = f"{count / scale:.{decimals}f}"
    if "." in text:  # "1.400 万亿" reads as 1.4 万亿: the same rounded value
        text = text.rstrip("0").rstrip(".")
    return f"{text} {unit}" if unit else text


def glue_count(name: str, count: float, unit: float, decimals: int) -> None:
    """Glue ``count / unit`` under ``name`` for the English prose ("174.6 billion" from
    ``{glue:text}`name:.1f` billion``), and the same rounded value in Chinese units under
    ``name + "_zh"`` for the Chinese page ("1746 亿", :func:`zh_count`).

    Args:
        count: the number (parameters, tokens, characters, a ratio).
        unit: what the English prose counts in (1e6 for "million", 1e9 for "billion").
        decimals: the decimals the English role shows (``1`` for ``:.1f``): both pages show
            the same rounded number.
    """
    decimals = integer(decimals, f"glue_count({name!r}): decimals", low=0)
    count = number(count, f"glue_count({name!r}): count", 0)
    unit = number(unit, f"glue_count({name!r}): unit", 0, low_open=True)
    glue(name, count / unit, display=False)
    shown = round(count / unit, decimals) * unit
    glue(f"{name}_zh", zh_count(shown, unit * 10.0**-decimals), display=False)


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
