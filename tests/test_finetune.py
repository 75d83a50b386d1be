"""``python -m bigmodel.finetune`` end to end on a nano model, its parts, and its flags."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bigmodel import finetune, train


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


@pytest.fixture(scope="module")
def nano_checkpoint(shared_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("pretrained")
    assert train.main(["--corpus", "tang-without-bai-juyi", "--config", "nano", "--steps", "2",
                       "--batch", "2", "--warmup", "1", "--eval-interval", "2",
                       "--eval-iters", "1", "--out", str(out), "--data-dir", str(shared_data)]) == 0
    return train.checkpoint_path("tang-without-bai-juyi", out)


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
