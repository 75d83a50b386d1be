"""The shipped GPT checkpoints (``bigmodel/checkpoints/``): their record, their size, and
that both frameworks load them and reproduce the stated validation loss."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bigmodel import gpt, train
from bigmodel.checkpoint import CHECKPOINT_FORMAT, load_checkpoint, save_checkpoint
from bigmodel.text import poems

CORPORA = train.CORPORA
# The stated loss is recomputed on the same 4 fixed validation batches in float32; only
# the order of float32 sums differs between machines and frameworks (below 3e-7 measured
# in PyTorch and TensorFlow, with normal and with perturbed numerics).
LOSS_ATOL = 1e-4
# The form share of 4 samples of 150 characters (seed 0) of the trained Tang model: 0.882
# measured (the corpus: 0.916; an untrained model: 0.0). A band with margin for other CPUs'
# float32 sums, which can change a sampled character and all after it.
FORM_SHARE_MIN = 0.7


def record(corpus: str) -> dict:
    return json.loads(train.checkpoint_path(corpus).with_suffix(".json").read_text("utf-8"))


@pytest.fixture(scope="module")
def val_ids(shared_data) -> dict[str, np.ndarray]:
    """The validation split of each corpus, tokenized by the checkpoint's own tokenizer."""
    out = {}
    for corpus in CORPORA:
        text = train.corpus_text(corpus, shared_data)
        tok = train.checkpoint_tokenizer(train.checkpoint_path(corpus))
        assert tok == train.corpus_tokenizer(corpus, shared_data)  # the stated vocabulary
        assert set(text) <= set(tok.chars)
        # one token per character: the last 10 % of the text are the last 10 % of the ids
        n_train = len(train.split_ids(np.arange(len(text)))[0])
        out[corpus] = tok.encode(text[n_train:])
    return out


def batches(corpus: str, val: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    rec = record(corpus)
    spec = train.CheckBatches(**rec["check_batches"])
    return train.check_batches(val, rec["config"]["block_size"], spec)


@pytest.mark.parametrize("corpus", CORPORA)
def test_the_record_matches_the_file(corpus):
    path = train.checkpoint_path(corpus)
    rec = record(corpus)
    assert train.file_sha256(path) == rec["sha256"]
    assert path.stat().st_size == rec["safetensors_bytes"]
    assert rec["command"].startswith(f"python -m bigmodel.train --corpus {corpus} ")
    assert "--threads 1" in rec["command"] and rec["threads"] == 1
    assert rec["wall_seconds"] <= 3600  # trained on a CPU in an hour at most
    assert rec["steps"] == rec["train_config"]["max_steps"]
    config, params, meta = load_checkpoint(path)
    assert config.to_dict() == rec["config"] and meta["corpus"] == corpus
    assert meta["format"] == CHECKPOINT_FORMAT  # the checksum covers the config too
    assert gpt.param_count(config) == rec["parameters"]
    log = path.with_suffix(".log").read_text("utf-8")
    assert f"check batches {train.CheckBatches(**rec['check_batches'])}: " \
        f"{rec['check_val_loss']:.4f}" in log


def test_the_checkpoints_fit_in_20_mb():
    assert sum(train.checkpoint_path(c).stat().st_size for c in CORPORA) <= 20_000_000


@pytest.mark.parametrize("corpus", CORPORA)
def test_pytorch_reproduces_the_stated_loss(corpus, val_ids, torch_one_thread):
    import torch

    from bigmodel.torch.gpt import GPT

    model = GPT.from_checkpoint(train.checkpoint_path(corpus)).eval()
    with torch.no_grad():
        losses = [float(model(torch.as_tensor(x), torch.as_tensor(y))[1])
                  for x, y in batches(corpus, val_ids[corpus])]
    assert np.mean(losses) == pytest.approx(record(corpus)["check_val_loss"], abs=LOSS_ATOL)


@pytest.mark.parametrize("corpus", CORPORA)
def test_tensorflow_reproduces_the_stated_loss(corpus, val_ids):
    from bigmodel.tf.gpt import GPT

    model = GPT.from_checkpoint(train.checkpoint_path(corpus))
    losses = [float(model(x, y)[1]) for x, y in batches(corpus, val_ids[corpus])]
    assert np.mean(losses) == pytest.approx(record(corpus)["check_val_loss"], abs=LOSS_ATOL)


def test_a_checkpoint_without_tokenizer_is_refused(tmp_path):
    config, params, _ = load_checkpoint(train.checkpoint_path("shakespeare"))
    save_checkpoint(tmp_path / "bare.safetensors", params, config)
    with pytest.raises(ValueError, match="holds no tokenizer in its metadata"):
        train.checkpoint_tokenizer(tmp_path / "bare.safetensors")
    save_checkpoint(tmp_path / "other.safetensors", params, config,
                        metadata={"tokenizer": json.dumps({"type": "bpe"})})
    with pytest.raises(ValueError, match="not a character tokenizer"):
        train.checkpoint_tokenizer(tmp_path / "other.safetensors")
    with pytest.raises(ValueError, match="corpus='mnist' is unknown"):
        train.checkpoint_path("mnist")


def form_share_of_samples(model, tok, n: int = 4, length: int = 150) -> float:
    """The form share of ``n`` samples of ``length`` characters after a blank line."""
    import torch

    prompt = torch.as_tensor(np.tile(tok.encode("\n\n"), (n, 1)))
    ids = model.generate(prompt, length, top_k=50, rng=0)
    ids = ids.cpu().numpy() if hasattr(ids, "cpu") else np.asarray(ids)
    return poems.form_share("\n\n".join(tok.decode(row[2:]) for row in ids))


@pytest.mark.parametrize("corpus", ["tang", "tang-without-bai-juyi"])
def test_the_tang_models_write_in_the_form(corpus, torch_one_thread):
    """Samples of the trained Tang models have mostly 5- and 7-character half-lines; an
    untrained model's have none."""
    from bigmodel.torch.gpt import GPT

    path = train.checkpoint_path(corpus)
    tok = train.checkpoint_tokenizer(path)
    model = GPT.from_checkpoint(path)
    assert form_share_of_samples(model, tok) > FORM_SHARE_MIN
    assert form_share_of_samples(GPT(model.config, seed=0), tok) < 0.05


def test_the_training_command_writes_all_three_files(shared_data, tmp_path, torch_one_thread):
    """``python -m bigmodel.train`` end to end, a few steps of the smallest model."""
    argv = ["--corpus", "shakespeare", "--config", "nano", "--steps", "3", "--batch", "2",
            "--warmup", "1", "--eval-interval", "3", "--eval-iters", "1", "--threads", "1",
            "--out", str(tmp_path), "--data-dir", str(shared_data)]
    assert train.main(argv) == 0
    path = train.checkpoint_path("shakespeare", tmp_path)
    rec = json.loads(path.with_suffix(".json").read_text("utf-8"))
    assert rec["command"] == "python -m bigmodel.train " + " ".join(argv)
    assert rec["sha256"] == train.file_sha256(path) and rec["steps"] == 3
    assert rec["config"]["n_layer"] == 1 and rec["vocab_size"] == 65
    assert train.checkpoint_tokenizer(path).vocab_size == 65
    assert "final validation loss on the check batches" in path.with_suffix(".log").read_text()
    with pytest.raises(SystemExit):
        train.main(["--corpus", "mnist"])  # argparse names the choices


def test_the_training_command_never_loses_a_file(shared_data, tmp_path, torch_one_thread, capsys):
    """No default into the package, an earlier run kept, flags checked before anything."""
    shipped = train.checkpoint_path("shakespeare")
    before = train.file_sha256(shipped)
    small = ["--corpus", "shakespeare", "--config", "nano", "--steps", "2", "--batch", "2",
             "--warmup", "1", "--eval-interval", "2", "--eval-iters", "1",
             "--data-dir", str(shared_data)]
    with pytest.raises(SystemExit) as err:
        train.main(small)  # no --out: argparse says it is required; nothing is written
    assert err.value.code == 2 and "--out" in capsys.readouterr().err
    assert train.file_sha256(shipped) == before

    out = tmp_path / "run"
    assert train.main([*small, "--out", str(out)]) == 0
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert sorted(first) == ["shakespeare.json", "shakespeare.log", "shakespeare.safetensors"]
    with pytest.raises(SystemExit) as err:  # a second run into the same folder
        train.main([*small, "--seed", "1", "--out", str(out)])
    assert err.value.code == 2 and "holds an earlier run" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # a bad flag is refused before any write
        train.main([*small, "--steps", "0", "--out", str(out), "--overwrite"])
    assert "--steps: must be an integer >= 1" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first  # all kept, byte for byte

    assert train.main([*small, "--seed", "1", "--out", str(out), "--overwrite"]) == 0
    now = {p.name: p.read_bytes() for p in out.iterdir()}
    assert sorted(now) == sorted(first) and now["shakespeare.safetensors"] != first[
        "shakespeare.safetensors"]
