"""The TensorFlow GPT, and PyTorch-TensorFlow parity: the same weights give the same
logits, the same greedy text, the same training losses, and one checkpoint format."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from bigmodel.book import quiet_tensorflow

quiet_tensorflow()  # before TensorFlow loads: no start-up log, no oneDNN reordering

import tensorflow as tf  # noqa: E402

from bigmodel import gpt as core  # noqa: E402
from bigmodel.gpt import GPTConfig  # noqa: E402
from bigmodel.gpt_train import TrainConfig  # noqa: E402
from bigmodel.tf import gpt as tfgpt  # noqa: E402
from bigmodel.tf import gpt_train as tftrain  # noqa: E402
from bigmodel.torch import gpt as ptgpt  # noqa: E402
from bigmodel.torch import gpt_train as pttrain  # noqa: E402
from numerics import assert_float32_close, gpt_terms  # noqa: E402

CFG = GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)


pytestmark = pytest.mark.usefixtures("torch_one_thread")


def ids(shape, seed=0):
    return np.random.default_rng(seed).integers(0, CFG.vocab_size, shape)


@pytest.mark.parametrize("bias", [True, False])
def test_same_weights_same_logits(bias):
    c = CFG.replace(bias=bias)
    # weights of order 1, not GPT-2's 0.02: small pre-activations would hide a wrong GELU
    rng = np.random.default_rng(0)
    params = {
        k: (1.0 + 0.5 * rng.standard_normal(s) if k.endswith("ln_1.weight") or k.endswith("ln_2.weight")
            or k == "ln_f.weight" else 0.5 * rng.standard_normal(s)).astype(np.float32)
        for k, s in core.param_shapes(c).items()
    }
    pt = ptgpt.GPT(c, params=params)
    tfm = tfgpt.GPT(c, params=params)
    x, y = ids((3, 8), 1), ids((3, 8), 2)
    lp, loss_p = pt(torch.as_tensor(x), torch.as_tensor(y))
    lt, loss_t = tfm(x, y)
    assert_float32_close(lt.numpy(), lp.detach().numpy(), gpt_terms(c))
    # the loss: a log-sum-exp over the vocabulary, averaged over the 3 x 8 positions
    assert_float32_close(float(loss_t), loss_p.item(), gpt_terms(c) + c.vocab_size + 24)
    assert tfm.param_count() == pt.param_count() == core.param_count(c)


def test_same_seed_same_initial_weights():
    a, b = ptgpt.GPT(CFG, seed=9).to_numpy(), tfgpt.GPT(CFG, seed=9).to_numpy()
    assert list(a) == list(b)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


@pytest.mark.parametrize("bias", [True, False])
def test_tf_module_tree_is_the_torch_one(bias):
    """The same classes, nested the same way, holding the variables PyTorch names."""
    c = CFG.replace(bias=bias)
    pt, tfm = ptgpt.GPT(c, seed=0), tfgpt.GPT(c, seed=0)
    names = [n for n, _ in tfgpt._named_variables(tfm)]
    assert sorted(names) == sorted(n for n, _ in pt.named_parameters())
    assert len(tfm.trainable_variables) == len(names)  # no variable outside the tree
    own = {type(m).__name__ for m in pt.modules() if type(m).__module__ == ptgpt.__name__}
    assert own <= {type(m).__name__ for m in [tfm, *tfm.submodules]}
    assert type(tfm.h[0].attn).__name__ == "_CausalSelfAttention"


def test_tf_causality():
    m = tfgpt.GPT(CFG, seed=0)
    x = ids((2, 8), 3)
    base = m(x)[0].numpy()
    for t in range(7):
        x2 = x.copy()
        x2[:, t + 1 :] = (x2[:, t + 1 :] + 1) % CFG.vocab_size
        out = m(x2)[0].numpy()
        assert_float32_close(out[:, : t + 1], base[:, : t + 1], gpt_terms(CFG))
        assert not np.allclose(out[:, t + 1], base[:, t + 1])


def test_tf_causal_mask():
    np.testing.assert_array_equal(
        tfgpt.causal_mask(2, past=1).numpy(), [[True, True, False], [True, True, True]]
    )


@pytest.mark.parametrize("n_new", [5, 20])
def test_tf_kv_cache_equals_uncached_and_matches_torch(n_new):
    pt = ptgpt.GPT(CFG, seed=1)
    m = tfgpt.GPT(CFG, params=pt.to_numpy())
    prompt = ids((2, 3), 4)
    cached = m.generate(prompt, n_new, top_k=1, use_cache=True)
    plain = m.generate(prompt, n_new, top_k=1, use_cache=False)
    np.testing.assert_array_equal(cached, plain)
    # both return NumPy ids; PyTorch takes a tensor or an array
    np.testing.assert_array_equal(cached, pt.generate(torch.as_tensor(prompt), n_new, top_k=1))
    np.testing.assert_array_equal(cached, pt.generate(prompt, n_new, top_k=1))
    # same seed, same sampler: the same sampled text in both frameworks
    np.testing.assert_array_equal(
        m.generate(prompt, n_new, rng=7),
        pt.generate(torch.as_tensor(prompt), n_new, rng=7),
    )


def test_tf_kv_cache_logits_and_cropping():
    m = tfgpt.GPT(CFG, seed=1)
    x = ids((2, 8), 5)
    full = m(x)[0].numpy()
    cache = tfgpt.KVCache(CFG.n_layer)
    parts = [m(x[:, a:b], cache=cache)[0].numpy() for a, b in ((0, 3), (3, 5), (5, 6))]
    assert_float32_close(np.concatenate(parts, 1), full[:, :6], gpt_terms(CFG))
    long_prompt = ids((1, 20), 6)
    out = m.generate(long_prompt, 3, top_k=1)
    np.testing.assert_array_equal(out[:, 20:], m.generate(long_prompt[:, -8:], 3, top_k=1)[:, 8:])
    with pytest.raises(ValueError, match="longer than block_size 8"):
        m(long_prompt)


@pytest.mark.parametrize(
    "kwargs, match",
    [({"temperature": 0}, "temperature"), ({"top_k": 0}, "top_k"), ({"top_p": 2.0}, "top_p")],
)
def test_tf_bad_sampling_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tfgpt.GPT(CFG, seed=0).generate(ids((1, 2)), 1, **kwargs)


def test_checkpoints_cross_frameworks(tmp_path):
    pt = ptgpt.GPT(CFG, seed=3)
    pt.save(tmp_path / "pt.safetensors")
    m = tfgpt.GPT.from_checkpoint(tmp_path / "pt.safetensors")
    x = ids((2, 8))
    assert_float32_close(m(x)[0].numpy(), pt(torch.as_tensor(x))[0].detach().numpy(), gpt_terms(CFG))
    m.save(tmp_path / "tf.safetensors")
    back = ptgpt.GPT.from_checkpoint(tmp_path / "tf.safetensors")
    for k, v in back.to_numpy().items():
        np.testing.assert_array_equal(v, pt.to_numpy()[k])
    with pytest.raises(ValueError, match=r"tensor 'wte.weight': expected shape \(11, 32\), got \(11, 16\)"):
        tfgpt.GPT(CFG.replace(n_embd=32), seed=0).load(tmp_path / "pt.safetensors")


def test_tf_overfits_one_small_batch():
    m = tfgpt.GPT(CFG, seed=0)
    opt = tf.keras.optimizers.Adam(1e-2)
    x, y = tf.constant(ids((4, 8), 7)), tf.constant(ids((4, 8), 8))

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss = m(x, y, training=True)[1]
        opt.apply_gradients(zip(tape.gradient(loss, m.params), m.params, strict=True))
        return loss

    for _ in range(150):
        loss = step()
    assert float(loss) < 0.05


def test_training_loops_agree():
    tokens = np.tile(np.arange(CFG.vocab_size), 300)
    cfg = TrainConfig(max_steps=20, batch_size=8, lr=1e-2, warmup_steps=5, eval_interval=10, eval_iters=2)
    pt = ptgpt.GPT(CFG, seed=0)
    m = tfgpt.GPT(CFG, params=pt.to_numpy())
    hp = pttrain.train(pt, tokens[:3000], tokens[3000:], cfg, show_progress=False)
    ht = tftrain.train(m, tokens[:3000], tokens[3000:], cfg, show_progress=False)
    assert hp.step == ht.step == [10, 20]
    np.testing.assert_allclose(ht.val_loss, hp.val_loss, rtol=2e-3)
    assert ht.val_loss[-1] < 0.6 * math.log(CFG.vocab_size)
    # on_eval sees each evaluation with that step's weights, and True stops training
    for fw, model in ((pttrain, ptgpt.GPT(CFG, seed=0)), (tftrain, tfgpt.GPT(CFG, params=pt.to_numpy()))):
        seen = []
        hist = fw.train(model, tokens[:3000], tokens[3000:], cfg, show_progress=False,
                        on_eval=lambda step, val, seen=seen: seen.append((step, val)) or step >= 10)
        assert hist.step == [10] and seen == [(10, hist.val_loss[0])]
    # the decay mask: biases and LayerNorm gains are excluded, matrices are not
    w, b = m.variables_by_name["h.0.mlp.c_fc.weight"], m.variables_by_name["h.0.mlp.c_fc.bias"]
    opt = tftrain.configure_optimizer(m, cfg)
    assert opt._use_weight_decay(w) and not opt._use_weight_decay(b)


def test_tf_mixed_precision_runs():
    m = tfgpt.GPT(CFG, seed=0, compute_dtype="bfloat16")
    logits, loss = m(ids((2, 8)), ids((2, 8), 1))
    assert logits.dtype == tf.float32 and abs(float(loss) - math.log(CFG.vocab_size)) < 0.2
    assert m.variables_by_name["wte.weight"].dtype == tf.float32
