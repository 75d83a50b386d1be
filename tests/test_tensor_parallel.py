"""Tensor parallelism: the Megatron split in NumPy equals the whole block, and 2 gloo
processes on PyTorch's tensor-parallel engine give one process's loss, logits and
gradients, with the all-reduces the split predicts.

Tolerances: the NumPy split runs in float64, so it must agree to 1e-12 of the values'
scale; the PyTorch run adds the two halves of each sum in float32 in another order than
one process, so its logits and gradients agree to float32 rounding (``numerics``) and
its weights' gradients to 1e-5 of each tensor's largest value, as in test_distributed.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from bigmodel import distributed as dist
from bigmodel.distributed import model_parallel as mp
from bigmodel.gpt import GPTConfig, init_params
from bigmodel.numpy.gpt import block
from numerics import assert_float32_close, gpt_terms

CFG = GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=4, n_embd=16)


def big_params(cfg, seed=0):
    """Weights of order 1, so a wrong split shows in every output."""
    rng = np.random.default_rng(seed)
    return {k: (0.5 * rng.standard_normal(v.shape)).astype(np.float32)
            for k, v in init_params(cfg, rng=0).items()}


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("world", [1, 2, 4])
def test_numpy_split_equals_the_block(bias, world):
    cfg = CFG.replace(bias=bias)
    params, x = big_params(cfg), np.random.default_rng(1).standard_normal((2, 8, 16))
    whole, _ = block(x, params, 1, cfg)
    np.testing.assert_allclose(mp.tensor_parallel_block(x, params, 1, cfg, world), whole,
                               rtol=0, atol=1e-12 * np.abs(whole).max())


def test_the_plain_qkv_order_would_be_wrong():
    """Null case: without the reordering, device 0 would get q and half of k."""
    params, x = big_params(CFG), np.random.default_rng(1).standard_normal((2, 8, 16))
    whole, _ = block(x, params, 0, CFG)
    cols = mp.qkv_columns(CFG, 2)
    plain = dict(params)
    order = np.argsort(cols)  # undo the reordering the split will apply
    plain["h.0.attn.c_attn.weight"] = params["h.0.attn.c_attn.weight"][:, order]
    plain["h.0.attn.c_attn.bias"] = params["h.0.attn.c_attn.bias"][order]
    assert np.abs(mp.tensor_parallel_block(x, plain, 0, CFG, 2) - whole).max() > 0.1


def test_qkv_columns_give_whole_heads():
    cols = mp.qkv_columns(CFG, 2)
    assert sorted(cols) == list(range(48))
    share = cols[:24]  # device 0: q, k, v of heads 0 and 1 (columns 0-7 of each)
    assert list(share) == [*range(8), *range(16, 24), *range(32, 40)]
    assert list(mp.qkv_columns(CFG, 1)) == list(range(48))


def test_head_count_must_split():
    with pytest.raises(ValueError, match=r"4 heads do not split over 3 devices.*\[1, 2, 4\]"):
        mp.qkv_columns(CFG, 3)


def test_traffic_counts():
    t = mp.tensor_parallel_traffic(CFG, batch=4, world_size=2)
    assert t["allreduces_forward"] == t["allreduces_backward"] == 4
    assert t["values_per_allreduce"] == 4 * 8 * 16
    # 8 all-reduces, each sending 2 (N-1)/N = 1 times 512 float32 values
    assert t["bytes_per_device"] == 8 * 512 * 4
    assert mp.tensor_parallel_traffic(CFG, 4, 1)["bytes_per_device"] == 0


@pytest.mark.parametrize("bias", [True, False])
def test_two_processes_equal_one(tmp_path, bias):
    pytest.importorskip("torch")
    from bigmodel.torch import tensor_parallel as tp

    cfg = CFG.replace(vocab_size=65, block_size=16, bias=bias)
    cmd = dist.torchrun_command("bigmodel.torch.tensor_parallel", [
        "--config", json.dumps(cfg.to_dict()), "--batch", "3", "--repeats", "1",
        "--out", str(tmp_path)], 2, dist.free_port())
    result = dist.launch(cmd, tmp_path, 120)
    ref = tp.reference(cfg, 3)
    with np.load(tmp_path / "grads.npz") as f:
        got = {k: f[k] for k in f.files}
    assert result["world_size"] == 2
    assert_float32_close(got["logits"], ref["logits"], gpt_terms(cfg))
    assert abs(result["loss"] - ref["loss"]) < 1e-5 * max(1.0, abs(ref["loss"]))
    assert set(got) - {"logits"} == set(ref["grads"])
    assert dist.max_rel_diff({k: got[k] for k in ref["grads"]}, ref["grads"]) < 1e-5
    traffic = mp.tensor_parallel_traffic(cfg, 3, 2)
    assert result["allreduces_forward"] == {"all_reduce": traffic["allreduces_forward"]}
    assert result["allreduces_backward"] == {"all_reduce": traffic["allreduces_backward"]}
    assert result["local_c_fc_shape"] == [16, 32]  # half of the 64 hidden units
