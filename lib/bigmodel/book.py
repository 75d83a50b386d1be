"""Helpers for the notebooks: glue results into the prose, state the environment."""

from __future__ import annotations

import os
import platform
import sys
from typing import Any


def glue(name: str, value: Any, display: bool = True) -> None:
    """Store ``value`` under ``name`` for MyST-NB's ``{glue}`` role, and show it.

    Outside a MyST-NB build (a plain Jupyter or Colab session without ``myst_nb``)
    the value is only printed, so the notebook still runs.
    """
    try:
        from myst_nb import glue as _glue
    except ImportError:  # pragma: no cover - Colab without the book extras
        print(f"{name} = {value!r}")
        return
    _glue(name, value, display=display)


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
