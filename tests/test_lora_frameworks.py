"""LoRA in PyTorch and TensorFlow: the same weights and adapters give the NumPy reference's
logits, fresh adapters change nothing, merging keeps the outputs, training moves only the
adapters, and the two frameworks train alike."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bigmodel.book import quiet_tensorflow

quiet_tensorflow()  # before TensorFlow loads

import tensorflow as tf  # noqa: E402

from bigmodel import lora as L  # noqa: E402
from bigmodel.gpt import GPTConfig, init_params  # noqa: E402
from bigmodel.gpt_train import TrainConfig  # noqa: E402
from bigmodel.numpy.gpt import gpt_forward  # noqa: E402
from bigmodel.tf import gpt as tfgpt  # noqa: E402
from bigmodel.tf import gpt_train as tftrain  # noqa: E402
from bigmodel.tf import lora as tflora  # noqa: E402
from bigmodel.torch import gpt as ptgpt  # noqa: E402
from bigmodel.torch import gpt_train as pttrain  # noqa: E402
from bigmodel.torch import lora as ptlora  # noqa: E402
from numerics import assert_float32_close, gpt_terms  # noqa: E402

CFG = GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)
LORA = L.LoRAConfig(rank=4, alpha=8, targets=L.LAYER_KINDS)
FRAMEWORKS = {"torch": (ptgpt, ptlora), "tf": (tfgpt, tflora)}

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def logits(model, idx):
    if isinstance(model, torch.nn.Module):
        with torch.no_grad():
            return model(torch.as_tensor(idx))[0].numpy()
    return model(idx)[0].numpy()


def adapters_with_b(seed=0):
    rng = np.random.default_rng(seed)
    return {k: (v if k.endswith(".A") else 0.3 * rng.standard_normal(v.shape)).astype(np.float32)
            for k, v in L.init_adapters(CFG, LORA, seed).items()}


IDX = np.random.default_rng(3).integers(0, CFG.vocab_size, (2, 8))
# the adapters add a rank-4 bottleneck before each adapted layer's output
TERMS = gpt_terms(CFG) + 4 * CFG.n_layer * LORA.rank


@pytest.mark.parametrize("fw", FRAMEWORKS)
def test_adapted_model_equals_numpy_reference(fw):
    gpt, lora = FRAMEWORKS[fw]
    params, adapters = init_params(CFG, rng=0), adapters_with_b()
    model = lora.add_lora(gpt.GPT(CFG, params=params), LORA, adapters)
    reference, _ = gpt_forward(L.merge_adapters(params, adapters, CFG, LORA), IDX, CFG)
    assert_float32_close(logits(model, IDX), reference, TERMS)
    base, _ = gpt_forward(params, IDX, CFG)
    assert np.abs(base - reference).max() > 1e-2  # the tolerance sees a missing update
    got = lora.adapters_of(model)
    assert set(got) == set(adapters) and all(np.array_equal(got[k], adapters[k]) for k in got)


@pytest.mark.parametrize("fw", FRAMEWORKS)
def test_fresh_adapters_change_nothing_and_merge_keeps_outputs(fw):
    gpt, lora = FRAMEWORKS[fw]
    model = gpt.GPT(CFG, seed=0)
    before = logits(model, IDX)
    lora.add_lora(model, LORA, seed=5)
    np.testing.assert_array_equal(logits(model, IDX), before)  # B = 0: exactly
    assert lora.has_lora(model)
    assert lora.trainable_count(model) == L.lora_param_count(CFG, LORA)
    with pytest.raises(ValueError, match="adapters already"):
        lora.add_lora(model, LORA)
    model = lora.add_lora(gpt.GPT(CFG, seed=0), LORA, adapters_with_b())
    merged = lora.merge_lora(model)
    assert not lora.has_lora(merged)
    assert lora.trainable_count(merged) == merged.param_count()
    assert_float32_close(logits(merged, IDX), logits(model, IDX), TERMS)
    with pytest.raises(ValueError, match="no LoRA adapters"):
        lora.merge_lora(merged)


@pytest.mark.parametrize("fw", FRAMEWORKS)
def test_bad_adapters_and_configs_are_refused(fw):
    gpt, lora = FRAMEWORKS[fw]
    with pytest.raises(ValueError, match="rank 17"):
        lora.add_lora(gpt.GPT(CFG, seed=0), L.LoRAConfig(rank=17))
    other = L.init_adapters(CFG, L.LoRAConfig(rank=2, targets=L.LAYER_KINDS))
    model = gpt.GPT(CFG, seed=0)
    with pytest.raises(ValueError, match="another rank"):
        lora.add_lora(model, LORA, other)
    assert not lora.has_lora(model)  # a refused call leaves the model as it was
    assert lora.trainable_count(model) == model.param_count()
    with pytest.raises(TypeError, match="LoRAConfig"):
        lora.add_lora(model, 4)


def test_training_moves_only_the_adapters_in_both_frameworks():
    tokens = np.tile(np.arange(CFG.vocab_size), 300)
    cfg = TrainConfig(max_steps=20, batch_size=8, lr=1e-2, warmup_steps=5, eval_interval=10,
                      eval_iters=2)
    params = init_params(CFG, rng=0)
    given = L.init_adapters(CFG, LORA, seed=1)
    pt = ptlora.add_lora(ptgpt.GPT(CFG, params=params), LORA, given)
    tfm = tflora.add_lora(tfgpt.GPT(CFG, params=params), LORA, given)
    hp = pttrain.train(pt, tokens[:3000], tokens[3000:], cfg, show_progress=False)
    ht = tftrain.train(tfm, tokens[:3000], tokens[3000:], cfg, show_progress=False)
    fresh = L.init_adapters(CFG, LORA, seed=1)  # training wrote into copies, not the caller's
    assert all(np.array_equal(given[k], fresh[k]) for k in fresh)
    for model, lora in ((pt, ptlora), (tfm, tflora)):
        frozen = model.to_numpy()
        assert all(np.array_equal(frozen[k], params[k]) for k in params)
        assert all(v.any() for k, v in lora.adapters_of(model).items() if k.endswith(".B"))
    np.testing.assert_allclose(ht.val_loss, hp.val_loss, rtol=2e-3)  # as the full model's test
    assert hp.val_loss[-1] < hp.val_loss[0]
    assert isinstance(tfm.trainable_params[0], tf.Variable)
