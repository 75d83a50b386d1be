"""Types for the command lines' numeric flags, checked as argparse reads them.

``parser.add_argument("--batch", type=integer_flag(low=1))`` refuses ``--batch 0`` while
the command line is parsed: argparse prints one line (``argument --batch: must be an
integer >= 1, got 0``) and exits with status 2, before the command imports a framework,
loads a corpus or writes a file. The rules are those of :func:`bigmodel.inputs.integer`
and :func:`bigmodel.inputs.number`, the library's one checker. Each type keeps its bounds
(``.kind``, ``.low``, ``.high``), so that tests can find a value it must refuse.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from typing import Any

from .inputs import integer, number

__all__ = ["integer_flag", "integer_list_flag", "number_flag", "refused_values"]


def _flag_type(parse: Callable[[str], Any], check: Callable[[Any], Any], kind: str,
               low: float | None, high: float | None, **extra: Any) -> Callable[[str], Any]:
    def read(text: str) -> Any:
        try:
            value = parse(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be {'an integer' if kind == 'int' else 'a number'},"
                                             f" got {text!r}") from None
        try:
            return check(value)
        except ValueError as err:  # "value must be ...": the flag's name comes from argparse
            raise argparse.ArgumentTypeError(str(err).removeprefix("value ")) from None

    read.__name__ = kind
    read.kind, read.low, read.high = kind, low, high  # type: ignore[attr-defined]
    for key, val in extra.items():
        setattr(read, key, val)
    return read


def integer_flag(low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    """An argparse ``type`` reading an integer in ``[low, high]`` (either bound open)."""
    return _flag_type(int, lambda v: integer(v, "value", low, high), "int", low, high)


def number_flag(low: float | None = None, high: float | None = None, *, low_open: bool = False,
                high_open: bool = False) -> Callable[[str], float]:
    """An argparse ``type`` reading a finite number between ``low`` and ``high`` (``low_open``
    and ``high_open`` exclude the bound itself); ``nan`` and ``inf`` are refused."""
    def check(v: float) -> float:
        return number(v, "value", low, high, low_open=low_open, high_open=high_open)

    return _flag_type(float, check, "float", low, high, low_open=low_open, high_open=high_open)


def refused_values(flag_type: Callable[[str], Any]) -> list[str]:
    """Values ``flag_type`` must refuse: past each bound it has, a fraction for an
    integer, ``nan`` for a number (for tests; every refusal must name the flag)."""
    kind, low, high = flag_type.kind, flag_type.low, flag_type.high  # type: ignore[attr-defined]
    out = ["2.5"] if kind == "int" else ["nan"]
    step = 1 if kind == "int" else 0.5
    if low is not None:
        out.append(str(low if getattr(flag_type, "low_open", False) else low - step))
    if high is not None:
        out.append(str(high if getattr(flag_type, "high_open", False) else high + step))
    return [v for v in out if not (kind == "float" and math.isinf(float(v)))]


def integer_list_flag(text: str) -> list[int]:
    """A flag of comma-separated integers >= 0 (``--seeds 0,1,2``), as a list."""
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers") from None
    if any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"{text!r}: every value must be >= 0")
    return values
