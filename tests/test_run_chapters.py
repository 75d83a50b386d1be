"""tools/run_chapters.py: which statements are TensorFlow's, and a chapter run end to end."""

from __future__ import annotations

import ast
import io
import subprocess
import sys

import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import run_chapters as rc  # noqa: E402


def tf_statements(src: str) -> list[bool]:
    """For each top-level statement of ``src``: is it left out by --torch-only?"""
    tainted: set[str] = set()
    ns: dict = {"log": io.StringIO(), "results": {}}
    out = []
    for stmt in ast.parse(src).body:
        skip = rc._names_tf(stmt, tainted)
        if skip:
            tainted |= rc._bound_names(stmt)
            uses = rc._FirstUse()
            uses.visit(stmt)
            tainted |= {n for n in uses.first if isinstance(ns.get(n), rc.FILLABLE)}
        else:
            tainted -= rc._bound_names(stmt)
        out.append(skip)
    return out


@pytest.mark.parametrize(
    "src, want",
    [
        ("import tensorflow as tf\nx = tf.ones(3)\ny = 2", [True, True, False]),
        ("import bigmodel.tf as btf\nd = btf.pick_device()\nprint(d)", [True, True, True]),
        ("from bigmodel.tf import fcnn as tf_fcnn\nm = tf_fcnn.FCNN()\nimport torch", [True, True, False]),
        ("from bigmodel import tf as t\nt.x()", [True, True]),
        # a subprocess that runs TensorFlow's module
        ("cmd = ['python', '-m', 'bigmodel.tf.distributed']\nrun(cmd)", [True, True]),
        # rebinding by a PyTorch statement frees the name; x = f(x) reads the old x first
        ("import tensorflow as tf\nx = tf.ones(1)\nx = x + 1\nx = 3\nprint(x)",
         [True, True, True, False, False]),
        # a loop that binds a name before reading it is its own
        ("import tensorflow as tf\ncfg = tf.ones(1)\nfor a in (1, 2):\n    cfg = a\n    print(cfg)",
         [True, True, False]),
        # comprehension and function variables are bound before use
        ("import tensorflow as tf\nn = tf.ones(1)\nys = [n for n in range(3)]\ndef f(n):\n    return n",
         [True, True, False, False]),
        # a container filled by a TensorFlow statement is left out afterwards
        ("import tensorflow as tf\nwith redirect(log):\n    tf.print(1)\nprint(log.getvalue())",
         [True, True, True]),
        ("import tensorflow as tf\nresults['tf'] = tf.ones(1)\nprint(results)", [True, True, True]),
    ],
)
def test_tensorflow_statements_are_found(src, want):
    assert tf_statements(src) == want


def test_a_chapter_runs_torch_only_and_fails_on_a_planted_error(tmp_path):
    """00 runs without TensorFlow's statements; a failing assert is reported as a failure."""
    cmd = [sys.executable, str(ROOT / "tools" / "run_chapters.py"), "--torch-only", "--out", str(tmp_path)]
    r = subprocess.run([*cmd, "00_setup"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "PASS 00_setup" in r.stdout and "1 passed, 0 failed, 0 skipped" in r.stdout
    bad = subprocess.run([*cmd, "no_such_chapter"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and "no such chapter(s): no_such_chapter" in bad.stderr


def test_a_failing_statement_fails_its_chapter(monkeypatch):
    monkeypatch.setattr(rc, "code_cells", lambda ch: [("x = 1", []), ("assert x == 2, 'planted'", [])])
    monkeypatch.chdir(ROOT)
    report = rc.run_chapter("00_setup", torch_only=True)
    assert report["error"] and "planted" in report["error"] and "cell 2" in report["error"]
    monkeypatch.setattr(rc, "code_cells", lambda ch: [("raise ValueError('expected')", ["raises-exception"])])
    assert rc.run_chapter("00_setup", torch_only=True)["error"] is None
