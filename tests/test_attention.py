"""The NumPy attention reference equals PyTorch's and Keras' attention, and the whole GPT."""

from __future__ import annotations

import numpy as np
import pytest

from bigmodel import gpt
from bigmodel.numpy import attention as np_attention
from bigmodel.numpy import gpt as np_gpt
from numerics import assert_float32_close, gpt_terms

RNG = np.random.default_rng(0)


def test_causal_mask_is_lower_triangular():
    m = np_attention.causal_mask(4)
    assert m.tolist() == [[1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]]


def test_weights_are_causal_rows_of_probabilities():
    q, k, v = RNG.normal(size=(3, 2, 5, 4))
    out, w = np_attention.attention(q, k, v)
    np.testing.assert_allclose(w.sum(-1), 1.0)
    assert np.all(w[:, np.triu_indices(5, 1)[0], np.triu_indices(5, 1)[1]] == 0)
    assert np.allclose(w[:, 0, 0], 1.0)  # the first position sees only itself
    np.testing.assert_allclose(out[:, 0], v[:, 0])


def test_scaling_keeps_the_score_variance_near_one():
    d = 256
    q, k = RNG.normal(size=(2, 20_000, d))
    raw = (q * k).sum(-1)
    assert abs(raw.var() / d - 1) < 0.05 and abs((raw / np.sqrt(d)).var() - 1) < 0.05


def test_bad_shapes_are_named():
    with pytest.raises(ValueError, match="attention needs q"):
        np_attention.attention(np.zeros((2, 3)), np.zeros((2, 4)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="causal mask needs as many queries as keys"):
        np_attention.attention(np.zeros((2, 4)), np.zeros((3, 4)), np.zeros((3, 4)))


def test_reference_equals_torch_sdpa():
    import torch
    from torch.nn import functional as F

    q, k, v = RNG.normal(size=(3, 2, 2, 6, 4))
    out, _ = np_attention.attention(q, k, v)
    t = [torch.tensor(a, dtype=torch.float64) for a in (q, k, v)]
    np.testing.assert_allclose(F.scaled_dot_product_attention(*t, is_causal=True).numpy(), out,
                               atol=1e-12)


def _mha_params(C):
    return {"a.c_attn.weight": RNG.normal(size=(C, 3 * C)), "a.c_attn.bias": RNG.normal(size=3 * C),
            "a.c_proj.weight": RNG.normal(size=(C, C)), "a.c_proj.bias": RNG.normal(size=C)}


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_reference_equals_each_frameworks_multihead_layer(framework):
    import importlib

    mod = importlib.import_module(f"bigmodel.{framework}.attention")
    B, T, C, H = 2, 6, 8, 2
    params = _mha_params(C)
    x = RNG.normal(size=(B, T, C))
    want, want_w = np_attention.multi_head_attention(x, params, "a", H)
    got, got_w = mod.multihead_attention(x, params, "a", H)
    assert got.shape == (B, T, C) and got_w.shape == (B, H, T, T)
    np.testing.assert_allclose(got, want, atol=1e-10)
    np.testing.assert_allclose(got_w, want_w, atol=1e-12)


def test_a_wrong_conversion_would_be_caught():
    """Transposing c_attn the wrong way (PyTorch's layout taken as is) changes the output."""
    from bigmodel.torch import attention as tatt

    C, H = 8, 2
    params = _mha_params(C)
    x = RNG.normal(size=(1, 5, C))
    wrong = {**params, "a.c_attn.weight": params["a.c_attn.weight"].reshape(3 * C, C).T}
    assert not np.allclose(tatt.multihead_attention(x, wrong, "a", H)[0],
                           np_attention.multi_head_attention(x, params, "a", H)[0])


@pytest.mark.parametrize("bias", [True, False])
def test_whole_gpt_equals_both_frameworks(bias):
    import torch

    from bigmodel.tf.gpt import GPT as TFGPT
    from bigmodel.torch.gpt import GPT as TorchGPT

    cfg = gpt.GPTConfig(vocab_size=13, block_size=8, n_layer=2, n_head=2, n_embd=16, bias=bias)
    params = gpt.init_params(cfg, rng=3)
    params = {n: (p + RNG.normal(0, 0.05, p.shape)).astype(np.float32) for n, p in params.items()}
    idx = RNG.integers(0, 13, (2, 8))
    want, maps = np_gpt.gpt_forward(params, idx, cfg)
    assert len(maps) == 2 and maps[0].shape == (2, 2, 8, 8)
    with torch.no_grad():
        got_torch = TorchGPT(cfg, params=params).eval()(torch.as_tensor(idx))[0].numpy()
    got_tf = TFGPT(cfg, params=params)(idx)[0].numpy()
    assert_float32_close(got_torch, want, gpt_terms(cfg), err_msg="torch")
    assert_float32_close(got_tf, want, gpt_terms(cfg), err_msg="tf")


def test_param_breakdown_adds_up():
    for cfg in (gpt.CONFIGS["tiny"], gpt.GPT3_175B):
        parts = np_gpt.param_breakdown(cfg)
        assert sum(parts.values()) == gpt.param_count(cfg)
        C = cfg.n_embd
        assert parts["attention"] == cfg.n_layer * (4 * C * C + 4 * C)
        assert parts["MLP"] == cfg.n_layer * (8 * C * C + 5 * C)


def test_gpt_forward_names_bad_input():
    cfg = gpt.CONFIGS["nano"]
    params = gpt.init_params(cfg)
    with pytest.raises(ValueError, match="longer than block_size"):
        np_gpt.gpt_forward(params, np.zeros((1, 33), int), cfg)
    with pytest.raises(ValueError, match=r"token ids must be in \[0, 65\)"):
        np_gpt.gpt_forward(params, np.full((1, 3), 65), cfg)
