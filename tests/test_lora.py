"""LoRA's framework-neutral half (bigmodel.lora) and its NumPy reference layer."""

from __future__ import annotations

import numpy as np
import pytest

from bigmodel import lora as L
from bigmodel.gpt import GPTConfig, init_params, param_count
from bigmodel.numpy.gpt import gpt_forward
from bigmodel.numpy.lora import lora_linear

CFG = GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)


def test_config_defaults_and_scale():
    c = L.LoRAConfig(rank=4)
    assert c.alpha == 4.0 and c.scale == 1.0 and c.targets == ("attn.c_attn", "attn.c_proj")
    assert L.LoRAConfig(rank=4, alpha=8).scale == 2.0
    assert L.LoRAConfig(rank=2, targets="mlp.c_fc").targets == ("mlp.c_fc",)


@pytest.mark.parametrize("kwargs, words", [
    ({"rank": 0}, "rank"), ({"rank": -1}, "rank"), ({"rank": True}, "rank"),
    ({"rank": 2.5}, "rank"), ({"rank": 2, "alpha": 0}, "alpha"),
    ({"rank": 2, "alpha": float("nan")}, "alpha"), ({"rank": 2, "targets": ()}, "empty"),
    ({"rank": 2, "targets": ("attn.c_q",)}, "attn.c_q"),
])
def test_config_refuses_bad_settings(kwargs, words):
    with pytest.raises(ValueError, match=words):
        L.LoRAConfig(**kwargs)


def test_layers_per_block_and_rank_limit():
    layers = L.lora_layers(CFG, L.LoRAConfig(rank=4))
    assert layers == {"h.0.attn.c_attn": (16, 48), "h.0.attn.c_proj": (16, 16),
                      "h.1.attn.c_attn": (16, 48), "h.1.attn.c_proj": (16, 16)}
    everything = L.LoRAConfig(rank=16, targets=L.LAYER_KINDS)
    assert len(L.lora_layers(CFG, everything)) == 4 * CFG.n_layer
    with pytest.raises(ValueError, match=r"rank 17 .*'h.0.attn.c_attn'.* at most 16"):
        L.lora_layers(CFG, L.LoRAConfig(rank=17))


def test_init_adapters_start_at_zero_update():
    lora = L.LoRAConfig(rank=3)
    a = L.init_adapters(CFG, lora, seed=1)
    assert set(a) == {f"h.{i}.attn.{m}.lora.{k}" for i in range(2)
                      for m in ("c_attn", "c_proj") for k in "AB"}
    assert a["h.0.attn.c_attn.lora.A"].shape == (16, 3)
    assert a["h.0.attn.c_attn.lora.B"].shape == (3, 48)
    assert all(not v.any() for k, v in a.items() if k.endswith(".B"))
    assert all(v.dtype == np.float32 for v in a.values())
    b = L.init_adapters(CFG, lora, seed=1)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    c = L.init_adapters(CFG, lora, seed=2)
    assert not np.array_equal(a["h.0.attn.c_attn.lora.A"], c["h.0.attn.c_attn.lora.A"])


def adapters_with_b(lora, seed=0):
    """Adapters whose B is not zero, so the update shows in every output."""
    rng = np.random.default_rng(seed)
    return {k: (v if k.endswith(".A") else 0.3 * rng.standard_normal(v.shape)).astype(np.float32)
            for k, v in L.init_adapters(CFG, lora, seed).items()}


def test_layer_equation_and_merge():
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((2, 5, 16)), rng.standard_normal((16, 48)), rng.standard_normal(48)
    a, bb = rng.standard_normal((16, 4)), rng.standard_normal((4, 48))
    y = lora_linear(x, w, b, a, bb, 0.5)
    assert y.shape == (2, 5, 48)
    np.testing.assert_allclose(y, x @ (w + 0.5 * a @ bb) + b, rtol=1e-12, atol=1e-12)
    # with B = 0 the layer is the frozen one, exactly
    np.testing.assert_array_equal(lora_linear(x, w, b, a, 0 * bb, 0.5), x @ w + b)
    np.testing.assert_array_equal(lora_linear(x, w, None, a, 0 * bb, 0.5), x @ w)
    # and a wrong update is seen: the null case of the comparison above
    assert np.abs(lora_linear(x, w, b, a, bb, 0.5) - (x @ w + b)).max() > 0.1


@pytest.mark.parametrize("shapes", [
    ((2, 15), (16, 48), (16, 4), (4, 48)), ((2, 16), (16, 48), (15, 4), (4, 48)),
    ((2, 16), (16, 48), (16, 4), (3, 48)), ((2, 16), (16, 48), (16, 4), (4, 47)),
])
def test_layer_names_shapes_that_do_not_chain(shapes):
    x, w, a, b = (np.zeros(s) for s in shapes)
    with pytest.raises(ValueError, match="do not chain"):
        lora_linear(x, w, None, a, b, 1.0)


def test_merged_gpt_is_the_adapted_gpt():
    lora = L.LoRAConfig(rank=4, alpha=8, targets=L.LAYER_KINDS)
    params, adapters = init_params(CFG, rng=0), adapters_with_b(lora)
    merged = L.merge_adapters(params, adapters, CFG, lora)
    idx = np.random.default_rng(3).integers(0, CFG.vocab_size, (2, 8))
    base, _ = gpt_forward(params, idx, CFG)
    adapted, _ = gpt_forward(merged, idx, CFG)
    assert np.abs(adapted - base).max() > 1e-2  # the update changes the logits
    # only the adapted matrices change, each by scale * A @ B
    for name in params:
        layer = name.removesuffix(".weight")
        if f"{layer}.lora.A" in adapters:
            delta = lora.scale * adapters[f"{layer}.lora.A"].astype(np.float64) @ adapters[
                f"{layer}.lora.B"]
            np.testing.assert_allclose(merged[name] - params[name], delta, atol=1e-5)
        else:
            np.testing.assert_array_equal(merged[name], params[name])
    zero = L.init_adapters(CFG, lora)
    unchanged = L.merge_adapters(params, zero, CFG, lora)
    assert all(np.array_equal(unchanged[k], params[k]) for k in params)


def test_check_adapters_names_the_tensor():
    lora = L.LoRAConfig(rank=4)
    good = L.init_adapters(CFG, lora)
    L.check_adapters(good, CFG, lora)
    missing = {k: v for k, v in good.items() if k != "h.1.attn.c_proj.lora.B"}
    with pytest.raises(ValueError, match="'h.1.attn.c_proj.lora.B' is missing"):
        L.check_adapters(missing, CFG, lora)
    with pytest.raises(ValueError, match="expected shape .16, 4., got .16, 2.*another rank"):
        L.check_adapters(L.init_adapters(CFG, L.LoRAConfig(rank=2)), CFG, lora)
    with pytest.raises(ValueError, match="unexpected adapter tensors"):
        L.check_adapters({**good, "h.0.mlp.c_fc.lora.A": np.zeros((16, 4))}, CFG, lora)


def test_counts():
    lora = L.LoRAConfig(rank=4)
    n = L.lora_param_count(CFG, lora)
    assert n == sum(v.size for v in L.init_adapters(CFG, lora).values())
    assert n == 2 * 4 * ((16 + 48) + (16 + 16))
    assert n < param_count(CFG) / 5
    assert L.adam_state_bytes(n) == 8 * n and L.adam_state_bytes(n, 2) == 4 * n
    with pytest.raises(ValueError):
        L.adam_state_bytes(-1)
