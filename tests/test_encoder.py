"""The BERT-style encoder: both frameworks equal the NumPy reference (and differ from the
GPT on the same weights exactly where attention looks ahead), masking, the masked loss,
both training loops alike, generation by filling [MASK], checkpoints kept apart, and the
errors."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from bigmodel.book import quiet_tensorflow

quiet_tensorflow()  # before TensorFlow loads

from bigmodel import encoder, encoder_vs_gpt  # noqa: E402
from bigmodel.gpt import GPTConfig, init_params  # noqa: E402
from bigmodel.gpt_train import TrainConfig  # noqa: E402
from bigmodel.numpy.encoder import encoder_forward, masked_loss  # noqa: E402
from bigmodel.numpy.gpt import gpt_forward  # noqa: E402
from bigmodel.tf import encoder as tf_encoder  # noqa: E402
from bigmodel.tf import gpt as tf_gpt  # noqa: E402
from bigmodel.tf import gpt_train as tf_train  # noqa: E402
from bigmodel.torch import encoder as pt_encoder  # noqa: E402
from bigmodel.torch import gpt as pt_gpt  # noqa: E402
from bigmodel.torch import gpt_train as pt_train  # noqa: E402
from numerics import assert_float32_close, gpt_terms  # noqa: E402

CFG = GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)
MASK = encoder.mask_id(CFG)  # 10
X = np.random.default_rng(3).integers(0, MASK, (5, 8))

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def masked(x=X, seed=1, rate=encoder.MASK_RATE):
    return encoder.mask_windows(x, np.random.default_rng(seed), MASK, rate)


def test_both_frameworks_equal_the_numpy_reference():
    params = init_params(CFG, rng=0)
    inputs, targets = masked()
    reference, maps = encoder_forward(params, inputs, CFG)
    pt = pt_encoder.Encoder(CFG, params=params)
    tfm = tf_encoder.Encoder(CFG, params=params)
    logits, loss = pt(torch.as_tensor(inputs), torch.as_tensor(targets))
    assert_float32_close(logits.detach().numpy(), reference, gpt_terms(CFG))
    tf_logits, tf_loss = tfm(inputs, targets)
    assert_float32_close(tf_logits.numpy(), reference, gpt_terms(CFG))
    want = masked_loss(reference, targets)
    assert_float32_close(loss.item(), want, gpt_terms(CFG) + CFG.vocab_size, scale=abs(want))
    assert_float32_close(float(tf_loss), want, gpt_terms(CFG) + CFG.vocab_size, scale=abs(want))
    # every query spreads its weight over all keys, ahead of it too
    assert all((m[..., 0, 1:] > 0).all() for m in maps)


def test_the_gpt_on_the_same_weights_differs_only_where_attention_looks_ahead():
    one = GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=16)
    params = init_params(one, rng=0)
    gpt_logits, gpt_maps = gpt_forward(params, X, one)
    enc_logits, _ = encoder_forward(params, X, one)
    # with one block, the last position sees the whole window in both: the same logits
    np.testing.assert_allclose(enc_logits[:, -1], gpt_logits[:, -1], rtol=0, atol=1e-12)
    # null: every earlier position sees more in the encoder, and its logits move
    assert np.abs(enc_logits[:, :-1] - gpt_logits[:, :-1]).max(axis=-1).min() > 1e-6
    assert np.allclose(np.triu(gpt_maps[0][0, 0], 1), 0)
    # with two blocks the last position reads keys that saw ahead: it differs too
    params = init_params(CFG, rng=0)
    diff = encoder_forward(params, X, CFG)[0][:, -1] - gpt_forward(params, X, CFG)[0][:, -1]
    assert np.abs(diff).max() > 1e-6


def test_masking_hides_a_share_and_scores_only_what_it_hid():
    x = np.random.default_rng(0).integers(0, MASK, (400, 8))
    inputs, targets = masked(x, rate=0.15)
    hidden = inputs == MASK
    np.testing.assert_array_equal(hidden, targets != encoder.IGNORE)
    np.testing.assert_array_equal(targets[hidden], x[hidden])
    np.testing.assert_array_equal(inputs[~hidden], x[~hidden])
    assert hidden.any(axis=1).all()  # every window is scored
    assert 0.13 < hidden.mean() < 0.19  # 15 %, plus the windows that drew none
    np.testing.assert_array_equal(masked(x)[0], masked(x)[0])  # the seed decides
    assert not np.array_equal(masked(x, seed=2)[0], inputs)
    # the loss ignores what is not masked: changing an unmasked target changes nothing
    logits = np.random.default_rng(4).standard_normal((5, 8, CFG.vocab_size))
    i, t = masked()
    assert masked_loss(logits, t) == masked_loss(logits, np.where(t == encoder.IGNORE, -1, t))
    other = t.copy()
    other[t != encoder.IGNORE] = (t[t != encoder.IGNORE] + 1) % MASK
    assert masked_loss(logits, other) != masked_loss(logits, t)  # null: targets matter


def test_fill_and_next_character_windows():
    tokens = np.arange(100) % MASK
    windows, answers, middle = encoder.fill_windows(tokens, 6, CFG, np.random.default_rng(0))
    assert windows.shape == (6, 8) and middle == 4
    np.testing.assert_array_equal(answers, windows[:, 4])
    contexts, nxt = encoder.next_char_windows(tokens, 6, CFG, np.random.default_rng(0))
    assert contexts.shape == (6, 7)
    np.testing.assert_array_equal(nxt, (contexts[:, -1] + 1) % MASK)


def test_both_training_loops_train_it_alike():
    tokens = np.tile(np.arange(MASK), 300)
    cfg = TrainConfig(max_steps=150, batch_size=16, lr=1e-2, warmup_steps=5, eval_interval=75,
                      eval_iters=2)
    pt = pt_encoder.Encoder(CFG, seed=0, mask_rate=0.5)
    tfm = tf_encoder.Encoder(CFG, params=pt.to_numpy(), mask_rate=0.5)
    hp = pt_train.train(pt, tokens[:2000], tokens[2000:], cfg, show_progress=False)
    ht = tf_train.train(tfm, tokens[:2000], tokens[2000:], cfg, show_progress=False)
    assert hp.step == ht.step == [75, 150]
    np.testing.assert_allclose(ht.val_loss, hp.val_loss, rtol=2e-3)
    # below ln 10, a guess among the 10 equally frequent tokens: it learned to look at a
    # neighbour (the masked token is the one before it plus one)
    assert max(hp.val_loss[-1], ht.val_loss[-1]) < np.log(MASK) - 0.1
    # the evaluation masks are fixed: the same weights score the same twice
    batches = [masked(X)]
    assert pt_train.estimate_loss(pt, batches) == pt_train.estimate_loss(pt, batches)


def test_generation_fills_a_mask_after_the_text_and_never_samples_it():
    params = init_params(CFG, rng=0)
    pt, tfm = pt_encoder.Encoder(CFG, params=params), tf_encoder.Encoder(CFG, params=params)
    prompt = X[:2, :3]
    a, b = pt.generate(prompt, 12, rng=0), tfm.generate(prompt, 12, rng=0)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (2, 15) and (a[:, 3:] != MASK).all()
    reference, _ = encoder_forward(params, np.concatenate([prompt, [[MASK], [MASK]]], 1), CFG)
    got = pt.next_logits(prompt)
    assert got[:, MASK].max() == -np.inf
    assert_float32_close(got[:, :MASK], reference[:, -1, :MASK], gpt_terms(CFG))
    for model in (pt, tfm):
        with pytest.raises(ValueError, match="no key-value cache"):
            model.generate(prompt, 2, use_cache=True)


def test_checkpoints_keep_encoders_and_gpts_apart(tmp_path):
    path = tmp_path / "encoder.safetensors"
    pt_encoder.Encoder(CFG, seed=0).save(path)
    loaded = tf_encoder.Encoder.from_checkpoint(path)
    assert loaded.kind == "encoder"
    np.testing.assert_array_equal(loaded.to_numpy()["wte.weight"],
                                  pt_encoder.Encoder(CFG, seed=0).to_numpy()["wte.weight"])
    for cls in (pt_gpt.GPT, tf_gpt.GPT):
        with pytest.raises(ValueError, match="weights of an encoder, not of a GPT"):
            cls.from_checkpoint(path)
    gpt_path = tmp_path / "gpt.safetensors"
    pt_gpt.GPT(CFG, seed=0).save(gpt_path)
    with pytest.raises(ValueError, match="weights of a GPT, not of an encoder"):
        pt_encoder.Encoder(CFG, seed=0).load(gpt_path)


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match=r"id 10 is the encoder's \[MASK\]"):
        encoder.mask_windows(np.full((2, 8), MASK), np.random.default_rng(0), MASK)
    tokens = np.tile(np.arange(CFG.vocab_size), 50)  # holds the mask id
    cfg = TrainConfig(max_steps=1, batch_size=2, eval_interval=1, eval_iters=1)
    with pytest.raises(ValueError, match="vocab_size = the tokenizer's size \\+ 1"):
        pt_train.train(pt_encoder.Encoder(CFG, seed=0), tokens, tokens, cfg,
                       show_progress=False)
    with pytest.raises(ValueError, match="mask_rate"):
        pt_encoder.Encoder(CFG, seed=0, mask_rate=0)
    with pytest.raises(ValueError, match="mask_rate"):
        tf_encoder.Encoder(CFG, seed=0, mask_rate=1.5)
    with pytest.raises(ValueError, match="rate"):
        masked(rate=0)
    with pytest.raises(ValueError, match="no key-value cache"):
        pt_encoder.Encoder(CFG, seed=0)(torch.as_tensor(X), cache=pt_gpt.KVCache(2))
    with pytest.raises(ValueError, match="score no position"):
        masked_loss(np.zeros((1, 2, 3)), np.full((1, 2), encoder.IGNORE))


def test_the_command_writes_every_run(shared_data, tmp_path):
    argv = ["--seeds", "0,1", "--steps", "3", "--batch", "2", "--block-size", "8",
            "--n-layer", "1", "--n-embd", "8", "--n-test", "5", "--data-dir",
            str(shared_data), "--out", str(tmp_path)]
    assert encoder_vs_gpt.main(argv) == 0
    rec = encoder_vs_gpt.load_record(tmp_path / encoder_vs_gpt.RECORD)
    assert rec["command"] == "python -m bigmodel.encoder_vs_gpt " + " ".join(argv)
    assert [(r["seed"], r["model"]) for r in rec["runs"]] == [
        (s, m) for s in (0, 1) for m in encoder_vs_gpt.MODELS]
    assert rec["config"] == {"vocab_size": 66, "block_size": 8, "n_layer": 1, "n_head": 4,
                             "n_embd": 8}
    for r in rec["runs"]:
        tasks = ("fill", "next") if r["model"] == "encoder" else (
            "fill_left", "fill_both_sides", "next")
        assert set(encoder_vs_gpt.TASKS) & set(r) == set(tasks)
        assert all(r[t]["n"] == 5 and 0 <= r[t]["accuracy"] <= 1 for t in tasks)
        assert all(np.isfinite(r[t]["loss"]) and r[t]["loss"] > 0 for t in tasks)
    with pytest.raises(SystemExit):  # an earlier record is kept
        encoder_vs_gpt.main(argv)


def test_a_bad_record_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m bigmodel.encoder_vs_gpt"):
        encoder_vs_gpt.load_record(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{", encoding="utf-8")
    with pytest.raises(ValueError, match="not JSON"):
        encoder_vs_gpt.load_record(bad)
    bad.write_text("[1]", encoding="utf-8")
    with pytest.raises(ValueError, match="holds a JSON list, not a record"):
        encoder_vs_gpt.load_record(bad)
    record = encoder_vs_gpt.load_record()
    del record["runs"][0]["val_loss"]
    bad.write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(ValueError, match="run 0 has no 'val_loss'"):
        encoder_vs_gpt.load_record(bad)


def test_the_shipped_record_is_the_commands_default_comparison():
    record = encoder_vs_gpt.load_record()
    flags = encoder_vs_gpt._parser().parse_args(record["command"].split()[3:])
    defaults = encoder_vs_gpt._parser().parse_args(["--out", "x"])
    for name in ("seeds", "steps", "batch", "block_size", "n_layer", "n_embd", "lr", "n_test"):
        assert getattr(flags, name) == getattr(defaults, name), name
    assert record["config"]["vocab_size"] == 66 and len(record["runs"]) == 6
