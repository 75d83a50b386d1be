"""The GPT classifier: the NumPy reference equals both frameworks from the same weights,
bad inputs and heads are named, both training loops train it alike, LoRA leaves the GPT
as it was, and the two-poet data split."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bigmodel.book import quiet_tensorflow

quiet_tensorflow()  # before TensorFlow loads

import tensorflow as tf  # noqa: E402

from bigmodel import classify  # noqa: E402
from bigmodel.gpt import GPTConfig, init_params  # noqa: E402
from bigmodel.lora import LoRAConfig  # noqa: E402
from bigmodel.numpy.classify import classifier_forward  # noqa: E402
from bigmodel.text.poet_pair import two_poets  # noqa: E402
from bigmodel.text.tokenizer import CharTokenizer  # noqa: E402
from bigmodel.tf import classify as tf_classify  # noqa: E402
from bigmodel.tf import gpt as tf_gpt  # noqa: E402
from bigmodel.tf import loop as tf_loop  # noqa: E402
from bigmodel.tf import lora as tf_lora  # noqa: E402
from bigmodel.torch import classify as pt_classify  # noqa: E402
from bigmodel.torch import gpt as pt_gpt  # noqa: E402
from bigmodel.torch import loop as pt_loop  # noqa: E402
from bigmodel.torch import lora as pt_lora  # noqa: E402
from numerics import assert_float32_close, gpt_terms  # noqa: E402

CFG = GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)
L = 6
IDX = np.random.default_rng(3).integers(0, CFG.vocab_size, (5, L))
HEAD = {"head.weight": np.random.default_rng(1).standard_normal((16, 3)).astype(np.float32),
        "head.bias": np.array([0.1, -0.2, 0.3], np.float32)}
TERMS = gpt_terms(CFG) + L + CFG.n_embd  # the mean over positions, then the head

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def models(params, head=HEAD):
    pt = pt_classify.GPTClassifier(pt_gpt.GPT(CFG, params=params), 3, L, head)
    tfm = tf_classify.GPTClassifier(tf_gpt.GPT(CFG, params=params), 3, L, head)
    return pt, tfm


def test_both_frameworks_equal_the_numpy_reference():
    params = init_params(CFG, rng=0)
    reference = classifier_forward(params, HEAD, IDX, CFG)
    pt, tfm = models(params)
    assert_float32_close(pt_loop.predict(pt, IDX), reference, TERMS)
    assert_float32_close(tf_loop.predict(tfm, IDX), reference, TERMS)
    other = dict(HEAD, **{"head.bias": HEAD["head.bias"] + 0.05})  # null: another head
    assert np.abs(classifier_forward(params, other, IDX, CFG) - reference).max() > 10 * (
        2 * TERMS * 2**-23 * np.abs(reference).max())
    for m in (pt, tfm):
        assert set(m.head_to_numpy()) == set(classify.HEAD_NAMES)
        assert all(np.array_equal(m.head_to_numpy()[k], HEAD[k]) for k in HEAD)


def test_inputs_heads_and_configs_are_checked():
    config = classify.ClassifierConfig(CFG, L, 3)
    assert config.check_inputs(IDX).dtype == np.float32  # integer ids are welcome
    np.testing.assert_array_equal(config.check_inputs(IDX.astype(np.float64)), IDX)
    with pytest.raises(ValueError, match="rows of 6 ids"):
        config.check_inputs(IDX[:, :4])
    with pytest.raises(ValueError, match=r"whole numbers in \[0, 11\)"):
        config.check_inputs(IDX + 0.5)
    with pytest.raises(ValueError, match=r"whole numbers in \[0, 11\)"):
        config.check_inputs(IDX + 11)
    with pytest.raises(ValueError, match="NaN"):
        config.check_inputs(np.full((1, L), np.nan))
    with pytest.raises(ValueError, match="length"):
        classify.ClassifierConfig(CFG, 9, 3)  # longer than block_size
    with pytest.raises(ValueError, match="n_out"):
        classify.ClassifierConfig(CFG, L, 1)
    with pytest.raises(ValueError, match=r"'head.weight': expected shape \(16, 3\)"):
        classify.check_head(classify.init_head(16, 2), 16, 3)
    with pytest.raises(ValueError, match="'head.bias' is missing"):
        classify.check_head({"head.weight": HEAD["head.weight"]}, 16, 3)
    with pytest.raises(ValueError, match="unexpected head tensors"):
        classify.check_head(dict(HEAD, extra=HEAD["head.bias"]), 16, 3)
    for fw in (pt_classify, tf_classify):
        gpt = (pt_gpt if fw is pt_classify else tf_gpt).GPT(CFG, seed=0)
        with pytest.raises(ValueError, match="another model or number of classes"):
            fw.GPTClassifier(gpt, 2, L, HEAD)
    with pytest.raises(ValueError, match="do not fit"):
        classifier_forward(init_params(CFG, rng=0), {"head.weight": HEAD["head.weight"][:4],
                                                     "head.bias": HEAD["head.bias"]}, IDX, CFG)


def test_init_head_and_opening_ids():
    a, b = classify.init_head(16, 2, seed=1), classify.init_head(16, 2, seed=1)
    assert all(np.array_equal(a[k], b[k]) for k in a) and not a["head.bias"].any()
    assert 0.01 < a["head.weight"].std() < 0.03
    tok = CharTokenizer.from_text("abcdef")
    ids, kept = classify.opening_ids(["abcdef", "ab", "fedcba"], tok, 4)
    np.testing.assert_array_equal(kept, [0, 2])
    assert ids.shape == (2, 4) and tok.decode(ids[1].tolist()) == "fedc"


def test_both_loops_train_it_alike_and_lora_moves_only_adapters_and_head():
    rng = np.random.default_rng(0)
    x = rng.integers(0, CFG.vocab_size, (96, L))
    y = (x[:, 0] >= CFG.vocab_size // 2).astype(np.int64)  # the first id says the class
    params = init_params(CFG, rng=0)
    head = classify.init_head(CFG.n_embd, 2, seed=0)
    pt = pt_classify.GPTClassifier(pt_gpt.GPT(CFG, params=params), 2, L, head)
    tfm = tf_classify.GPTClassifier(tf_gpt.GPT(CFG, params=params), 2, L, head)
    kw = {"epochs": 8, "batch_size": 16, "lr": 0.1, "optimizer": "momentum",
          "show_progress": False, "validation": (x, y)}
    hp = pt_loop.fit(pt, x, y, **kw)
    ht = tf_loop.fit(tfm, x, y, **kw)
    # the same batches, weights and steps (momentum SGD: Keras' Adam puts its epsilon
    # elsewhere, which the GPT's small gradients feel, bigmodel.tf.loop.make_optimizer)
    np.testing.assert_allclose(ht.loss, hp.loss, rtol=2e-3)
    assert hp.val_accuracy[-1] > 0.8 and hp.loss[-1] < hp.loss[0] - 0.05  # chance: 0.5
    fresh = classify.init_head(CFG.n_embd, 2, seed=0)  # training copied the caller's head
    assert all(np.array_equal(head[k], fresh[k]) for k in head)
    lora = LoRAConfig(rank=2)
    for gpt_mod, lora_mod, fw, loop in ((pt_gpt, pt_lora, pt_classify, pt_loop),
                                        (tf_gpt, tf_lora, tf_classify, tf_loop)):
        gpt = lora_mod.add_lora(gpt_mod.GPT(CFG, params=params), lora, seed=0)
        model = fw.GPTClassifier(gpt, 2, L, head)
        loop.fit(model, x, y, epochs=1, batch_size=32, lr=1e-2, show_progress=False)
        frozen = gpt.to_numpy()
        assert all(np.array_equal(frozen[k], params[k]) for k in params)
        assert any(v.any() for k, v in lora_mod.adapters_of(gpt).items() if k.endswith(".B"))
        assert not np.array_equal(model.head_to_numpy()["head.weight"], head["head.weight"])
    assert isinstance(tfm.params[-1], tf.Variable) and isinstance(pt.head_bias, torch.nn.Parameter)


def test_two_poets_labels_and_splits():
    authors = ["甲"] * 5 + ["乙"] * 4 + ["丙"]
    poems = [[f"甲{i}"] for i in range(4)] + [["同"]] + [[f"乙{i}"] for i in range(3)] \
        + [["同"]] + [["丙"]]
    pair = two_poets(authors, poems, ("甲", "乙"), n_test=1, seed=0)
    assert pair.removed_shared == 1  # "同" is printed under both
    assert sorted(pair.test_labels.tolist()) == [0, 1] and len(pair.train) == 3 + 2
    assert not set(pair.train) & set(pair.test) and "同" not in pair.train + pair.test
    assert all(t.startswith("甲乙"[y]) for t, y in zip(pair.train, pair.train_labels, strict=True))
    with pytest.raises(ValueError, match="no poem by '丁'"):
        two_poets(authors, poems, ("甲", "丁"))
    with pytest.raises(ValueError, match="two different poets"):
        two_poets(authors, poems, ("甲", "甲"))
    with pytest.raises(ValueError, match="leaves 乙 no training poem"):
        two_poets(authors, poems, ("甲", "乙"), n_test=3)


def test_two_poets_on_the_tang_poems(shared_data):
    from bigmodel import data

    poems = data.load_tang_poems(shared_data)
    pair = two_poets(poems.author, poems.paragraphs)
    assert pair.poets == ("李白", "杜甫") and np.bincount(pair.test_labels).tolist() == [200, 200]
    assert not set(pair.train) & set(pair.test)
    assert 0.4 < pair.train_labels.mean() < 0.6
