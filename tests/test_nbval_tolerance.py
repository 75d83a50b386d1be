"""Glued numbers are compared within their declared tolerance, and exactly without one."""

from __future__ import annotations

import os
import subprocess
import sys

import nbformat
import pytest

from bigmodel.book import GLUE_PREFIX, TOLERANCE_KEY
from conftest import ROOT
from nbval_tolerance import TOLERANCE_KEY as PLUGIN_KEY
from nbval_tolerance import tolerate


def record(name: str, text: str, tol: dict | None = None) -> dict:
    meta = {"scrapbook": {"name": name, "mime_prefix": GLUE_PREFIX}}
    if tol:
        meta[TOLERANCE_KEY] = tol
    return {"output_type": "display_data", "data": {GLUE_PREFIX + "text/plain": text}, "metadata": meta}


def test_plugin_and_library_agree_on_the_key():
    assert PLUGIN_KEY == TOLERANCE_KEY


@pytest.mark.parametrize(
    ("new", "stored", "tol", "passes"),
    [
        ("73.3222215822379", "73.32223432572367", {"rtol": 1e-6, "atol": 0}, True),
        ("73.3222215822379", "73.32223432572367", {"rtol": 1e-9, "atol": 0}, False),
        ("0.9812", "0.9808", {"rtol": 0, "atol": 0.001}, True),
        ("0.9822", "0.9808", {"rtol": 0, "atol": 0.001}, False),
        ("73.3222215822379", "73.32223432572367", None, False),  # no tolerance: exact
        ("'abc'", "'abd'", {"rtol": 1, "atol": 1}, False),  # not numbers: exact
        ("nan", "0.5", {"rtol": 1, "atol": 1}, False),
    ],
)
def test_tolerate(new, stored, tol, passes):
    test, ref = [record("x", new, tol)], [record("x", stored, tol)]
    out = tolerate(test, ref)
    assert (out[0]["data"] == ref[0]["data"]) is passes
    assert test[0]["data"][GLUE_PREFIX + "text/plain"] == new  # the input is not modified


def test_only_the_named_record_is_replaced():
    ref = [record("a", "1.0", {"rtol": 0.1}), record("b", "2.0", {"rtol": 0.1})]
    test = [record("a", "1.01", {"rtol": 0.1}), record("b", "3.0", {"rtol": 0.1})]
    out = tolerate(test, ref)
    assert out[0]["data"] == ref[0]["data"] and out[1]["data"] == test[1]["data"]


def _notebook(path, value: float, stored: float, **tol) -> None:
    """A one-cell notebook that glues ``value`` but has ``stored`` as its stored output."""
    args = ", ".join(f"{k}={v}" for k, v in tol.items())
    src = f"from bigmodel.book import glue\nglue('x', {value!r}, display=False{', ' + args if args else ''})"
    meta = {"scrapbook": {"name": "x", "mime_prefix": GLUE_PREFIX}}
    if tol:
        meta[TOLERANCE_KEY] = {"rtol": float(tol.get("rtol", 0)), "atol": float(tol.get("atol", 0))}
    data = {GLUE_PREFIX + "text/plain": repr(stored)}
    out = nbformat.v4.new_output("display_data", data=data, metadata=meta)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src, outputs=[out], execution_count=1)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.mark.parametrize(
    ("value", "stored", "tol", "passes"),
    [
        (1.0000001, 1.0, {"rtol": 1e-6}, True),
        (1.0000001, 1.0, {}, False),  # exact comparison without a tolerance
        (1.1, 1.0, {"atol": 0.01}, False),
    ],
)
def test_nbval_end_to_end(tmp_path, value, stored, tol, passes):
    nb = tmp_path / "glue.ipynb"
    _notebook(nb, value, stored, **tol)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "tests"), str(ROOT / "lib")])}
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "--nbval", "--nbval-current-env", "-p", "nbval_tolerance", "-c", os.devnull, str(nb)],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300,
    )
    assert (r.returncode == 0) is passes, r.stdout[-3000:]
