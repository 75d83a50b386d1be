"""The framework-neutral GPT core and the PyTorch GPT: shapes, counts, FLOPs, sampling,
causality, learning, KV cache, cropping, checkpoints, and every bad input.

TensorFlow and torch-TF parity are in ``test_gpt_parity.py``; GPU paths in ``test_gpt_cuda.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from bigmodel import gpt as core
from bigmodel import gpt_train
from bigmodel.checkpoint import load_checkpoint
from bigmodel.gpt import GPTConfig
from bigmodel.gpt_train import TrainConfig
from bigmodel.torch.gpt import GPT, KVCache
from bigmodel.torch.gpt_train import configure_optimizer, train
from numerics import assert_float32_close, gpt_terms

CFG = GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)


pytestmark = pytest.mark.usefixtures("torch_one_thread")


def ids(shape, seed=0, vocab=CFG.vocab_size):
    return torch.as_tensor(np.random.default_rng(seed).integers(0, vocab, shape))


# ---------------------------------------------------------------- config and counts


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"n_embd": 10, "n_head": 3}, "not divisible"),
        ({"n_layer": 0}, "n_layer must be a positive int"),
        ({"vocab_size": 2.5}, "vocab_size must be a positive int"),
        ({"dropout": 1.0}, "dropout"),
    ],
)
def test_config_validation(bad, match):
    with pytest.raises(ValueError, match=match):
        CFG.replace(**bad)


@pytest.mark.parametrize("bias", [True, False])
def test_param_count_formula_matches_the_model(bias):
    c = CFG.replace(bias=bias)
    C, L, V, T = c.n_embd, c.n_layer, c.vocab_size, c.block_size
    per_block = 12 * C * C + (13 * C if bias else 2 * C)
    closed_form = L * per_block + V * C + T * C + (2 * C if bias else C)
    assert core.param_count(c) == closed_form == GPT(c, seed=0).param_count()
    assert core.param_count(c, include_position=False) == closed_form - T * C


def test_gpt3_numbers_from_its_published_shape():
    n = core.gpt3_params()
    assert n == 174_604_259_328  # "175B" in Brown et al. (2020), Table 2.1
    assert core.GPT3_175B.head_size == 128
    assert core.gpt3_training_flops() == pytest.approx(3.14e23, rel=0.01)  # paper: 3.14e23
    assert core.training_flops(2.0, 3.0) == 36.0


def test_flops_per_token_and_mfu():
    c = CFG
    n = core.param_count(c, include_position=False)
    assert core.flops_per_token(c) == 6 * n + 12 * 2 * 2 * 8 * 8
    assert core.peak_flops("NVIDIA H100 80GB HBM3") == 989e12
    assert core.peak_flops("NVIDIA A100-SXM4-40GB") == 312e12
    assert core.peak_flops("cpu (2 threads)") is None
    assert core.mfu(1000.0, c, None) is None
    assert core.mfu(1e6, c, 1e12) == pytest.approx(1e6 * core.flops_per_token(c) / 1e12)


def test_learning_rate_schedule():
    f = lambda s: gpt_train.lr_at(s, 1.0, warmup_steps=10, max_steps=110, min_lr=0.1)  # noqa: E731
    assert f(0) == pytest.approx(0.1) and f(9) == pytest.approx(1.0)
    assert f(60) == pytest.approx(0.55)  # half-way down the cosine
    assert f(110) == f(500) == 0.1
    assert all(f(s) >= f(s + 1) for s in range(10, 120))


def test_get_batch_targets_are_inputs_shifted_by_one():
    tokens = np.arange(100)
    x, y = gpt_train.get_batch(tokens, 4, 8, np.random.default_rng(0))
    assert x.shape == y.shape == (4, 8) and x.dtype == np.int64
    np.testing.assert_array_equal(y, x + 1)
    with pytest.raises(ValueError, match="at least block_size"):
        gpt_train.get_batch(np.arange(8), 1, 8, np.random.default_rng(0))


def test_bigram_loss():
    rng = np.random.default_rng(0)
    uniform = rng.integers(0, 5, 20000)
    assert gpt_train.bigram_loss(uniform[:10000], uniform[10000:], 5) == pytest.approx(
        math.log(5), abs=0.02
    )
    cycle = np.tile(np.arange(5), 2000)  # each token fixes the next
    assert gpt_train.bigram_loss(cycle, cycle, 5) < 0.01


# ---------------------------------------------------------------- sampling


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"temperature": 0.0}, "temperature must be"),
        ({"temperature": -1.0}, "temperature must be"),
        ({"top_k": 0}, "top_k must be"),
        ({"top_p": 0.0}, "top_p must be"),
        ({"top_p": 1.5}, "top_p must be"),
    ],
)
def test_bad_sampling_arguments(kwargs, match):
    logits = np.zeros((1, 5))
    with pytest.raises(ValueError, match=match):
        core.sample_next(logits, np.random.default_rng(0), **kwargs)
    model = GPT(CFG, seed=0)
    with pytest.raises(ValueError, match=match):
        model.generate(ids((1, 3)), 2, **kwargs)


def test_sampling_greedy_top_k_top_p():
    rng = np.random.default_rng(0)
    logits = np.log(np.array([[0.1, 0.5, 0.15, 0.25]]))
    assert core.sample_next(logits, rng, top_k=1).tolist() == [1]
    draws = np.array([core.sample_next(logits, rng, top_k=2)[0] for _ in range(300)])
    assert set(draws.tolist()) == {1, 3}
    draws = np.array([core.sample_next(logits, rng, top_p=0.7)[0] for _ in range(300)])
    assert set(draws.tolist()) == {1, 3}  # 0.5 + 0.25 reaches 0.7
    draws = np.array([core.sample_next(logits, rng)[0] for _ in range(4000)])
    np.testing.assert_allclose(np.bincount(draws, minlength=4) / 4000, [0.1, 0.5, 0.15, 0.25], atol=0.03)
    cold = np.array([core.sample_next(logits, rng, temperature=0.05)[0] for _ in range(100)])
    assert (cold == 1).all()


# ---------------------------------------------------------------- the PyTorch model


def test_forward_shapes_and_initial_loss():
    model = GPT(CFG, seed=0)
    x, y = ids((3, 8), 1), ids((3, 8), 2)
    logits, loss = model(x, y)
    assert logits.shape == (3, 8, CFG.vocab_size)
    # small random weights: the loss starts near log(V), a uniform guess
    assert loss.item() == pytest.approx(math.log(CFG.vocab_size), abs=0.1)
    assert model(x)[1] is None


def test_causality_future_tokens_never_change_past_logits():
    model = GPT(CFG, seed=0).eval()
    x = ids((2, 8), 3)
    base, _ = model(x)
    for t in range(7):
        x2 = x.clone()
        x2[:, t + 1 :] = (x2[:, t + 1 :] + 1) % CFG.vocab_size
        out, _ = model(x2)
        assert_float32_close(out[:, : t + 1], base[:, : t + 1], gpt_terms(CFG))
        assert not torch.allclose(out[:, t + 1], base[:, t + 1])


def test_weights_are_tied_and_named_as_the_core():
    model = GPT(CFG, seed=0)
    assert [n for n, _ in model.named_parameters()] == list(core.param_shapes(CFG))
    with torch.no_grad():
        model.wte.weight[3].zero_()
    logits, _ = model(ids((1, 4)))
    assert torch.all(logits[..., 3] == 0)  # the output layer is the embedding


def test_same_seed_same_weights_numpy_round_trip():
    a, b = GPT(CFG, seed=5), GPT(CFG, seed=5)
    for k, v in a.to_numpy().items():
        np.testing.assert_array_equal(v, b.to_numpy()[k])
    c = GPT(CFG, params=a.to_numpy())
    x = ids((2, 8))
    torch.testing.assert_close(c(x)[0], a(x)[0], rtol=0, atol=0)
    assert not np.array_equal(GPT(CFG, seed=6).to_numpy()["wte.weight"], a.to_numpy()["wte.weight"])


def test_overfits_one_small_batch():
    torch.manual_seed(0)
    model = GPT(CFG, seed=0)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
    x, y = ids((4, 8), 7), ids((4, 8), 8)
    for _ in range(150):
        _, loss = model(x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05


def test_weight_decay_only_on_matrices():
    model = GPT(CFG, seed=0)
    opt = configure_optimizer(model, TrainConfig(weight_decay=0.1))
    decay, no_decay = opt.param_groups
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert all(p.dim() == 2 for p in decay["params"]) and all(p.dim() == 1 for p in no_decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(core.param_shapes(CFG))


def test_train_lowers_the_loss_and_reports_history():
    tokens = np.tile(np.arange(CFG.vocab_size), 300)  # a learnable cycle
    model = GPT(CFG, seed=0)
    cfg = TrainConfig(max_steps=40, batch_size=8, lr=1e-2, warmup_steps=5, eval_interval=20, eval_iters=2)
    hist = train(model, tokens[:3000], tokens[3000:], cfg, show_progress=False)
    assert hist.step == [20, 40] and len(hist.val_loss) == 2 and hist.tokens == 40 * 8 * 8
    assert hist.val_loss[-1] < 0.5 * math.log(CFG.vocab_size)
    assert hist.seconds[-1] >= hist.first_step_seconds > 0
    assert hist.tokens_per_second > 0
    stopped = train(
        GPT(CFG, seed=0), tokens[:3000], tokens[3000:], cfg, show_progress=False, target_val_loss=100.0
    )
    assert stopped.step == [20]


# ---------------------------------------------------------------- generation


@pytest.mark.parametrize("n_new", [5, 20])  # 20 > block_size: the window slides
def test_kv_cache_generation_equals_uncached_greedy(n_new):
    model = GPT(CFG, seed=1)
    prompt = ids((2, 3), 4)
    cached = model.generate(prompt, n_new, top_k=1, use_cache=True)
    plain = model.generate(prompt, n_new, top_k=1, use_cache=False)
    assert cached.shape == (2, 3 + n_new)
    torch.testing.assert_close(cached, plain, rtol=0, atol=0)
    sampled = [model.generate(prompt, n_new, use_cache=u, rng=3) for u in (True, False)]
    torch.testing.assert_close(sampled[0], sampled[1], rtol=0, atol=0)


def test_kv_cache_logits_equal_full_forward():
    model = GPT(CFG, seed=1).eval()
    x = ids((2, 8), 5)
    full, _ = model(x)
    cache = KVCache(CFG.n_layer)
    first, _ = model(x[:, :3], cache=cache)  # prefill 3 tokens
    rest, _ = model(x[:, 3:5], cache=cache)  # 2 at once: needs the offset causal mask
    one, _ = model(x[:, 5:6], cache=cache)
    assert cache.length == 6
    # other shapes, other kernels: equal up to rounding
    assert_float32_close(torch.cat([first, rest, one], 1), full[:, :6], gpt_terms(CFG))
    with pytest.raises(ValueError, match="longer than block_size"):
        model(x[:, :3], cache=cache)


def test_long_prompts_are_cropped_to_the_context():
    model = GPT(CFG, seed=2)
    long_prompt = ids((1, 20), 6)
    out = model.generate(long_prompt, 4, top_k=1)
    assert isinstance(out, np.ndarray) and out.dtype == np.int64 and out.shape == (1, 24)
    np.testing.assert_array_equal(out[:, :20], long_prompt.numpy())
    cropped = model.generate(long_prompt[:, -CFG.block_size :], 4, top_k=1)
    np.testing.assert_array_equal(out[:, 20:], cropped[:, CFG.block_size :])
    with pytest.raises(ValueError, match="longer than block_size 8"):
        model(long_prompt)
    with pytest.raises(ValueError, match=r"idx must be \(B, T\)"):
        model.generate(long_prompt[0], 1)


def test_generate_restores_training_mode():
    model = GPT(CFG.replace(dropout=0.5), seed=0).train()
    model.generate(ids((1, 2)), 2)
    assert model.training


# ---------------------------------------------------------------- checkpoints


def test_checkpoint_round_trip(tmp_path):
    model = GPT(CFG, seed=3)
    model.save(tmp_path / "m.safetensors", metadata={"note": "test"})
    back = GPT.from_checkpoint(tmp_path / "m.safetensors")
    assert back.config == CFG
    x = ids((2, 8))
    torch.testing.assert_close(back(x)[0], model(x)[0], rtol=0, atol=0)
    _, _, meta = load_checkpoint(tmp_path / "m.safetensors")
    assert meta["note"] == "test" and "c_attn" not in meta["config"]
    other = GPT(CFG, seed=4)
    other.load(tmp_path / "m.safetensors")
    torch.testing.assert_close(other(x)[0], model(x)[0], rtol=0, atol=0)


def test_checkpoint_of_another_shape_names_the_tensor(tmp_path):
    GPT(CFG.replace(n_embd=32), seed=0).save(tmp_path / "wide.safetensors")
    model = GPT(CFG, seed=0)
    with pytest.raises(ValueError, match=r"tensor 'wte.weight': expected shape \(11, 16\), got \(11, 32\)"):
        model.load(tmp_path / "wide.safetensors")
    GPT(CFG.replace(n_layer=3), seed=0).save(tmp_path / "deep.safetensors")
    with pytest.raises(ValueError, match=r"unexpected tensors \['h.2"):
        model.load(tmp_path / "deep.safetensors")


def test_a_foreign_safetensors_file_is_refused(tmp_path):
    from safetensors.numpy import save_file

    save_file({"w": np.zeros(3, np.float32)}, str(tmp_path / "x.safetensors"))
    with pytest.raises(ValueError, match="not a bigmodel GPT checkpoint"):
        GPT.from_checkpoint(tmp_path / "x.safetensors")


def test_gpt_modules_import_one_framework_each():
    from conftest import run_python

    r = run_python("import sys, bigmodel.torch.gpt, bigmodel.torch.gpt_train, bigmodel.gpt, "
                   "bigmodel.text.tokenizer; assert 'tensorflow' not in sys.modules")
    assert r.returncode == 0, r.stderr
