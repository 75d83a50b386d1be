"""The benchmark command runs and reports what it ran with (not a timed test)."""

from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_bench_reports_its_settings(framework, tmp_path, capsys):
    from bigmodel import bench

    out = tmp_path / "b.json"
    rc = bench.main(["gpt", "--framework", framework, "--config", "nano", "--steps", "3",
                     "--batch-size", "2", "--block-size", "16", "--out", str(out)])
    assert rc == 0
    result = json.loads(out.read_text())
    assert result["config"]["block_size"] == 16 and result["batch_size"] == 2
    # the book's policy on a CPU: float32, TF32 off unless asked for
    assert result["precision"] == "float32" and result["tf32"] is False
    assert result["tokens_per_s"] > 0 and result["command"].startswith("python -m bigmodel.bench")
    assert json.loads(capsys.readouterr().out) == result
