"""``python -m bigmodel.finetune`` end to end on a nano model, its parts, and its flags."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bigmodel import finetune, train
from numerics import float32_atol, gpt_terms


def test_parse_method():
    assert finetune.parse_method("scratch") == ("scratch", 0)
    assert finetune.parse_method("full") == ("full", 0)
    assert finetune.parse_method("lora-16") == ("lora", 16)
    for bad in ("lora-0", "lora-", "lora-x", "LoRA-4", "adapter"):
        with pytest.raises(ValueError, match=f"method '{bad}' is unknown; use scratch, full or lora-R"):
            finetune.parse_method(bad)


def test_pool_parts():
    pool = [str(i) for i in range(10)]
    assert finetune.pool_parts(pool) == (pool[:8], pool[8:])
    assert finetune.pool_parts(pool[:3]) == (pool[:2], pool[2:3])
    assert finetune.pool_parts(pool[:2], val_share=0.9) == (pool[:1], pool[1:2])
    with pytest.raises(ValueError, match="a pool of 1 poem"):
        finetune.pool_parts(pool[:1])


def test_windows_cover_the_text_once():
    ids = np.arange(23)
    batches = finetune.windows(ids, block_size=5, batch_size=3)
    x = np.concatenate([b[0] for b in batches])
    y = np.concatenate([b[1] for b in batches])
    assert [len(b[0]) for b in batches] == [3, 1] and x.shape == (4, 5)
    assert np.array_equal(x.ravel(), ids[:20]) and np.array_equal(y, x + 1)
    with pytest.raises(ValueError, match="5 ids hold no window of 6"):
        finetune.windows(ids[:5], block_size=5)


def test_the_command_writes_every_run(shared_data, nano_checkpoint, tmp_path, torch_one_thread):
    argv = ["--pools", "4,6", "--seeds", "0", "--methods", "scratch,full,lora-2",
            "--n-test", "20", "--max-steps", "6", "--eval-interval", "2", "--patience", "1",
            "--batch", "2", "--checkpoint", str(nano_checkpoint), "--data-dir", str(shared_data),
            "--out", str(tmp_path)]
    assert finetune.main(argv) == 0
    rec = json.loads((tmp_path / "finetune.json").read_text("utf-8"))
    assert rec["command"] == "python -m bigmodel.finetune " + " ".join(argv)
    assert rec["poet"] == "白居易" and rec["test_poems"] == 20
    assert [(r["pool"], r["method"]) for r in rec["runs"]] == [
        (n, m) for n in (4, 6) for m in ("scratch", "full", "lora-2")]
    by = {(r["pool"], r["method"]): r for r in rec["runs"]}
    assert by[4, "lora-2"]["trainable"] < by[4, "full"]["trainable"] == by[4, "scratch"]["trainable"]
    assert by[4, "full"]["adam_state_bytes"] == 2 * 4 * by[4, "full"]["trainable"]
    for r in rec["runs"]:
        assert 0 <= r["step_kept"] <= r["steps_run"] <= 6 and r["step_kept"] % 2 == 0
        assert np.isfinite(r["test_loss"]) and r["val_loss"] > 0
    assert rec["untrained_test_loss"] > 0.9 * np.log(9589)
    with pytest.raises(SystemExit):  # an earlier record is kept
        finetune.main(argv)
    with pytest.raises(SystemExit):  # more poems than the poet has outside the test set
        finetune.main([*argv[:-1], str(tmp_path / "big"), "--pools", "3000"])
    assert not (tmp_path / "big").exists()
    # two worker processes give each run's result, in the same order
    assert finetune.main([*argv[:-1], str(tmp_path / "jobs"), "--jobs", "2"]) == 0
    par = json.loads((tmp_path / "jobs" / "finetune.json").read_text("utf-8"))
    assert par["jobs"] == 2 and rec["jobs"] == 1
    for a, b in zip(rec["runs"], par["runs"], strict=True):
        assert {k: v for k, v in a.items() if k != "seconds"} == {
            k: v for k, v in b.items() if k != "seconds"}


@pytest.mark.parametrize("flags, message", [
    (["--methods", "full,lora-0"], "method 'lora-0' is unknown"),
    (["--pools", "50,x"], "'50,x' is not a comma-separated list of integers"),
    (["--pools", "1"], "every pool needs 2 poems or more"),
    (["--seeds", "-1"], "every value must be >= 0"),
    (["--max-steps", "0"], "--max-steps: must be an integer >= 1"),
])
def test_bad_flags_are_named(flags, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as err:
        finetune.main([*flags, "--out", str(tmp_path)])
    assert err.value.code == 2 and message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # nothing written


def test_a_run_that_only_hurts_keeps_the_start(shared_data, nano_checkpoint, tmp_path,
                                               torch_one_thread):
    """A learning rate of 50 wrecks the weights at once: early stopping keeps step 0, the
    pretrained weights, and the test loss is the pretrained model's."""
    assert finetune.main([
        "--pools", "4", "--seeds", "0", "--methods", "full", "--lr-full", "50",
        "--n-test", "20", "--max-steps", "4", "--eval-interval", "2", "--patience", "2",
        "--batch", "2", "--checkpoint", str(nano_checkpoint), "--data-dir", str(shared_data),
        "--out", str(tmp_path)]) == 0
    rec = json.loads((tmp_path / "finetune.json").read_text("utf-8"))
    (run,) = rec["runs"]
    assert run["step_kept"] == 0 and run["steps_run"] == 4
    assert run["test_loss"] == pytest.approx(rec["pretrained_test_loss"], abs=1e-6)


def _record(runs):
    return {"command": "python -m bigmodel.finetune --out x", "pretrained_test_loss": 5.0,
            "untrained_test_loss": 9.0, "test_tokens": 100, "runs": runs}


def _run(pool, seed, method, loss, steps=40, seconds=8.0):
    return {"pool": pool, "seed": seed, "method": method, "test_loss": loss, "step_kept": 20,
            "steps_run": steps, "seconds": seconds, "trainable": 10, "adam_state_bytes": 80}


def test_summarize_groups_seeds_and_pairs_them_with_the_start(tmp_path):
    runs = [_run(50, s, m, 5.0 + d) for s, (a, b) in enumerate([(0.1, -0.02), (0.3, -0.04)])
            for m, d in (("scratch", a), ("full", b))]
    path = tmp_path / "finetune.json"
    path.write_text(json.dumps(_record(runs)))
    summary = finetune.summarize(finetune.load_record(path))
    assert list(summary) == [(50, "scratch"), (50, "full")]
    s = summary[50, "full"]
    assert s.seeds == (0, 1) and np.allclose(s.gain, [-0.02, -0.04])
    assert np.isclose(s.mean, 4.97) and np.isclose(s.sd, np.std([4.98, 4.96], ddof=1))
    assert np.allclose(s.seconds_per_step, [0.2, 0.2]) and s.adam_state_bytes == 80
    one = finetune.summarize(_record(runs[:2]))[50, "full"]
    assert np.isnan(one.sd)  # one seed has no spread


def test_bad_records_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m bigmodel.finetune"):
        finetune.load_record(tmp_path / "none.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match="bad.json is not JSON"):
        finetune.load_record(bad)
    bad.write_text(json.dumps({"command": "x"}))
    with pytest.raises(ValueError, match="has no 'pretrained_test_loss'"):
        finetune.load_record(bad)
    run = _run(50, 0, "full", 5.0)
    del run["seconds"]
    bad.write_text(json.dumps(_record([run])))
    with pytest.raises(ValueError, match="run 0 has no 'seconds'"):
        finetune.load_record(bad)



def test_the_shipped_record_scores_the_shipped_model(shared_data, torch_one_thread):
    """The record the book reads: its pretrained test loss is the shipped checkpoint's on
    the split's test poems now, its runs cover every pool, seed and method it names."""
    import torch

    from bigmodel import data
    from bigmodel.text.poet_split import split_poet
    from bigmodel.torch.gpt import GPT
    from bigmodel.torch.gpt_train import estimate_loss

    record = finetune.load_record()
    ckpt = train.checkpoint_path("tang-without-bai-juyi")
    assert record["checkpoint"] == ckpt.name
    poems = data.load_tang_poems(shared_data)
    split = split_poet(poems.author, poems.paragraphs, n_test=record["test_poems"])
    tok = train.checkpoint_tokenizer(ckpt)
    model = GPT.from_checkpoint(ckpt)
    test = finetune.windows(np.asarray(tok.encode("\n\n".join(split.test))), model.config.block_size)
    assert sum(x.size for x, _ in test) == record["test_tokens"]
    with torch.no_grad():
        loss = estimate_loss(model, test)
        logits = model(torch.as_tensor(test[0][0]))[0]
    # a token's loss moves by at most twice its logits' rounding (log-softmax is 1-Lipschitz)
    bound = 2 * float32_atol(logits, gpt_terms(model.config))
    assert abs(loss - record["pretrained_test_loss"]) <= bound, (loss, bound)
    untrained = GPT(model.config, seed=0)
    with torch.no_grad():  # null: the bound tells another model apart
        assert abs(estimate_loss(untrained, test[:2]) - record["pretrained_test_loss"]) > 10 * bound
    summary = finetune.summarize(record)
    pools = {p for p, _ in summary}
    methods = {m for _, m in summary}
    assert len(summary) == len(pools) * len(methods)
    assert len({len(s.seeds) for s in summary.values()}) == 1
