"""Pipeline parallelism: GPipe by hand on gloo processes gives one process's loss and
gradients (the tied embedding's two parts added), for any number of micro-batches; the
stage split and the bubble formula.

Tolerance: the stages compute what one process computes, but the micro-batches' losses
and gradients are summed in another order, so they agree to float32 rounding: 1e-5 of
each tensor's largest value, as in test_distributed and test_tensor_parallel. Timings are
printed by chapter 09, never asserted.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from bigmodel import distributed as dist
from bigmodel.distributed import model_parallel as mp
from bigmodel.gpt import GPTConfig

CFG = GPTConfig(vocab_size=65, block_size=16, n_layer=2, n_head=4, n_embd=16)


def test_stage_layers():
    assert mp.stage_layers(2, 2) == [range(0, 1), range(1, 2)]
    assert mp.stage_layers(5, 2) == [range(0, 3), range(3, 5)]
    assert mp.stage_layers(12, 4) == [range(0, 3), range(3, 6), range(6, 9), range(9, 12)]
    assert mp.stage_layers(3, 1) == [range(0, 3)]
    with pytest.raises(ValueError, match="3 pipeline stages need at least 3 blocks.*2"):
        mp.stage_layers(2, 3)


def test_random_batch_is_the_seeds():
    x, y = mp.random_batch(CFG, 3, seed=0)
    assert x.shape == y.shape == (3, CFG.block_size) and x.dtype == np.int64
    assert 0 <= x.min() and max(x.max(), y.max()) < CFG.vocab_size
    again, _ = mp.random_batch(CFG, 3, seed=0)
    other, _ = mp.random_batch(CFG, 3, seed=1)
    assert np.array_equal(x, again) and not np.array_equal(x, other)


def test_bubble_fraction():
    assert mp.bubble_fraction(2, 1) == 0.5
    assert mp.bubble_fraction(2, 4) == 0.2
    assert mp.bubble_fraction(4, 8) == 3 / 11
    assert mp.bubble_fraction(1, 8) == 0.0
    with pytest.raises(ValueError, match="n_micro"):
        mp.bubble_fraction(2, 0)


def run_pipeline(tmp_path, cfg, nproc, micro, batch=8):
    out = tmp_path / f"p{nproc}-m{micro}"
    cmd = dist.torchrun_command("bigmodel.torch.pipeline_parallel", [
        "--config", json.dumps(cfg.to_dict()), "--batch", str(batch), "--micro-batches",
        str(micro), "--warmup", "0", "--repeats", "1", "--out", str(out)], nproc,
        dist.free_port())
    result = dist.launch(cmd, out, 120)
    with np.load(out / "grads.npz") as f:
        return result, {k: f[k] for k in f.files}


@pytest.mark.parametrize(("nproc", "micro", "bias"), [(2, 1, True), (2, 4, True),
                                                      (2, 2, False), (1, 2, True)])
def test_gpipe_equals_one_process(tmp_path, nproc, micro, bias):
    pytest.importorskip("torch")
    from bigmodel.torch import tensor_parallel as tp

    cfg = CFG.replace(bias=bias)
    result, grads = run_pipeline(tmp_path, cfg, nproc, micro)
    ref = tp.reference(cfg, 8)
    assert result["world_size"] == nproc and result["micro_batches"] == micro
    assert result["stage_blocks"] == [list(r) for r in mp.stage_layers(2, nproc)]
    assert abs(result["loss"] - ref["loss"]) < 1e-5 * abs(ref["loss"])
    assert set(grads) == set(ref["grads"])  # every parameter, each from one stage
    assert dist.max_rel_diff(grads, ref["grads"]) < 1e-5
    assert all(0 <= s < 1 for s in result["idle_share"])


def test_micro_batches_must_cut_the_batch(capsys):
    pytest.importorskip("torch")
    from bigmodel.torch import pipeline_parallel as pp

    with pytest.raises(SystemExit) as exit_:
        pp.main(["--config", json.dumps(CFG.to_dict()), "--batch", "8",
                 "--micro-batches", "3", "--out", "unused"])
    assert exit_.value.code == 2  # before any process group or file
    assert "--batch 8 does not cut into --micro-batches 3" in capsys.readouterr().err
