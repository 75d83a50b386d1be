"""nbval plugin: glued numbers are compared within the tolerance their notebook declares.

nbval compares a cell's outputs as text. A glued float is stored with its full repr, so
a change in the last digits (another BLAS kernel, thread count or CPU) would fail the
comparison although the result is the same. ``bigmodel.book.glue(name, value, rtol=...,
atol=...)`` writes its tolerance into the output's metadata; before nbval compares a
cell, this plugin looks at each glued output that declares one and, where the new value
is within the tolerance of the stored value, hands nbval the stored text so that the
comparison passes. Outside the tolerance nothing is changed and nbval reports both
values as usual. Glued values with no tolerance are compared exactly.

Loaded by ``-p nbval_tolerance`` (pyproject.toml); ``tests/`` is on ``pythonpath``. It
also turns nbval on (``--nbval --nbval-current-env --nbval-sanitize-with ...``) when the
run collects notebooks (no paths given, so ``testpaths`` with ``book/``; a ``.ipynb``; a
folder holding one), and only then: ``pytest tests/test_x.py`` runs as plain pytest, also
where nbval is not installed (a GPU machine with PyTorch only).
"""

from __future__ import annotations

import ast
import copy
import math
from pathlib import Path
from typing import Any

try:
    from nbval.plugin import IPyNbCell
except ImportError:  # no notebooks can be run here; plain tests still can
    IPyNbCell = None

SANITIZE = Path(__file__).with_name("nbval_sanitize.cfg")
# A cell that hangs (a kernel that died) fails itself after 10 minutes, not nbval's 2,000 s.
NBVAL_ARGS = ["--nbval", "--nbval-current-env", "--nbval-sanitize-with", str(SANITIZE),
              "--nbval-cell-timeout=600"]


def collects_notebooks(args: list[str]) -> bool:
    """Whether a pytest command line collects notebooks (see the module's docstring)."""
    paths = [Path(a.split("::")[0]) for a in args if not a.startswith("-")]
    existing = [p for p in paths if p.exists()]
    if not existing:  # testpaths: tests/ and book/
        return True
    return any(p.suffix == ".ipynb" or (p.is_dir() and any(p.glob("**/*.ipynb"))) for p in existing)


def pytest_load_initial_conftests(early_config, parser, args):
    if IPyNbCell is not None and "--nbval" not in args and collects_notebooks(args):
        args[:] = NBVAL_ARGS + args

TOLERANCE_KEY = "bigmodel"  # bigmodel.book.TOLERANCE_KEY (the plugin must not import bigmodel)


def glue_name(output: Any) -> str | None:
    """The name of a glued output, or None for any other output."""
    meta = output.get("metadata") or {}
    scrapbook = meta.get("scrapbook") if isinstance(meta, dict) else None
    return scrapbook.get("name") if isinstance(scrapbook, dict) else None


def as_number(text: Any) -> float | None:
    """The number a glued ``text/plain`` holds (``'0.97'``, ``'12'``), else None."""
    if not isinstance(text, str):
        return None
    try:
        value = ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def within(new: float, stored: float, rtol: float, atol: float) -> bool:
    """``|new - stored| <= atol + rtol * |stored|`` (both finite)."""
    if not (math.isfinite(new) and math.isfinite(stored)):
        return new == stored
    return abs(new - stored) <= atol + rtol * abs(stored)


def tolerate(test: list, ref: list) -> list:
    """``test`` with each glued number that is within its tolerance of ``ref`` replaced
    by the stored output, so that nbval's text comparison passes for it."""
    stored = {glue_name(o): o for o in ref if glue_name(o)}
    out = []
    for output in test:
        name = glue_name(output)
        tol = (output.get("metadata") or {}).get(TOLERANCE_KEY) if name else None
        if name in stored and isinstance(tol, dict):
            new_data, old_data = output.get("data", {}), stored[name].get("data", {})
            keys = [k for k in new_data if k.endswith("text/plain")]
            if keys and set(keys) == {k for k in old_data if k.endswith("text/plain")}:
                pairs = [(as_number(new_data[k]), as_number(old_data[k])) for k in keys]
                if all(a is not None and b is not None for a, b in pairs) and all(
                    within(a, b, float(tol.get("rtol", 0)), float(tol.get("atol", 0)))
                    for a, b in pairs
                ):
                    output = copy.deepcopy(output)
                    output["data"] = copy.deepcopy(old_data)
        out.append(output)
    return out


if IPyNbCell is not None:
    _compare_outputs = IPyNbCell.compare_outputs

    def compare_outputs(self, test, ref, skip_compare=None):
        return _compare_outputs(self, tolerate(test, ref), ref, skip_compare)

    IPyNbCell.compare_outputs = compare_outputs
