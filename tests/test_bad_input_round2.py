"""Bad input, round 2 (#22): what a reader's misuse got before was a riddle or a silent wrong
answer; each case here now gets a clear error naming the fix."""

from __future__ import annotations

import numpy as np
import pytest

from bigmodel import bench, budget, canary, hardware
from bigmodel.numpy import audio
from bigmodel.text.tokenizer import CharTokenizer


def test_decode_refuses_floats_and_batches():
    tok = CharTokenizer("abcdefghijklmnop")
    assert tok.decode([1, 2]) == "bc" and tok.decode(np.array([3], np.int32)) == "d"
    with pytest.raises(ValueError, match="dtype float64; token ids are integers"):
        tok.decode([3.9, 10.7])  # used to give "dk"
    with pytest.raises(ValueError, match=r"shape \(2, 2\); decode takes one sequence"):
        tok.decode([[1, 2], [3, 4]])  # used to give "bcde"
    with pytest.raises(ValueError, match="integers"):
        tok.decode([True, False])


@pytest.mark.parametrize("kind", ["gpu", "CUDA", "/GPU:0", ""])
def test_precision_and_branch_refuse_unknown_device_kinds(kind, monkeypatch):
    monkeypatch.delenv("BIGMODEL_PRECISION", raising=False)
    with pytest.raises(ValueError, match=r"use one of \('cuda', 'mps', 'cpu'\)"):
        hardware.precision_for(kind, (8, 0))  # used to answer float32
    with pytest.raises(ValueError, match="device_kind"):
        budget.branch(kind)
    assert hardware.precision_for("cuda", (8, 0)) == "bfloat16"  # the null case still works


def test_canary_ids_outside_the_vocabulary_are_refused():
    def logprobs(ids):  # a uniform model over 10 tokens
        return np.full((*ids.shape, 10), -np.log(10.0))

    ok = canary.secret_log_perplexity(logprobs, [1, 2], np.array([[3, 4], [5, 6]]), 8)
    np.testing.assert_allclose(ok, 2 * np.log2(10))
    with pytest.raises(ValueError, match="the id -1; token ids are >= 0"):
        canary.secret_log_perplexity(logprobs, [1, 2], np.array([[3, -1]]), 8)  # used to wrap
    with pytest.raises(ValueError, match="the id 10; the model has 10 tokens"):
        canary.secret_log_perplexity(logprobs, [1, 2], np.array([[3, 10]]), 8)


@pytest.mark.parametrize("flag", ["--block-size", "--threads"])
def test_bench_refuses_zero_instead_of_ignoring_it(flag, capsys):
    with pytest.raises(SystemExit) as err:
        bench.main(["gpt", "--framework", "torch", "--config", "nano", "--steps", "1", flag, "0"])
    assert err.value.code == 2
    assert f"{flag}: must be an integer >= 1, got 0" in capsys.readouterr().err


def test_audio_on_the_16_bit_scale_and_bad_tensors_are_refused():
    rng = np.random.default_rng(0)
    speech = (0.3 * np.sin(np.arange(4000) / 5) + 0.01 * rng.normal(size=4000)).astype(np.float32)
    audio.log_mel_spectrogram(speech)  # the null case: samples in [-1, 1] pass
    with pytest.raises(ValueError, match="reaches .*divide by 32768"):
        audio.log_mel_spectrogram(speech * 32768)
    audio.frame(np.arange(1000.0), 256, 80)  # framing cuts any sequence: no range check
    import torch

    from bigmodel.torch import audio as torch_audio

    bad = torch.as_tensor(speech).clone()
    bad[300] = float("nan")
    with pytest.raises(ValueError, match=r"1 NaN or infinite sample\(s\), the first at \(300,\)"):
        torch_audio.log_mel_spectrogram(bad)  # used to give NaN features
    with pytest.raises(ValueError, match="divide by 32768"):
        torch_audio.log_mel_spectrogram(torch.as_tensor(speech) * 32768)


def test_audio_tensor_checks_in_tensorflow():
    tf = pytest.importorskip("tensorflow")
    from bigmodel.tf import audio as tf_audio

    speech = np.zeros(4000, np.float32)
    speech[::7] = 0.5
    tf_audio.log_mel_spectrogram(tf.constant(speech))
    bad = speech.copy()
    bad[10] = np.inf
    with pytest.raises(ValueError, match=r"the first at \(10,\)"):
        tf_audio.log_mel_spectrogram(tf.constant(bad))
    with pytest.raises(ValueError, match="divide by 32768"):
        tf_audio.log_mel_spectrogram(tf.constant(speech * 32768))


def test_generate_refuses_ids_outside_the_vocabulary(tmp_path):
    from bigmodel.gpt import CONFIGS
    from bigmodel.torch.gpt import GPT

    model = GPT(CONFIGS["nano"].replace(vocab_size=12), seed=0)
    assert model.generate([[1, 2]], 2, top_k=1).shape == (1, 4)
    with pytest.raises(ValueError, match="token id 12; this model's vocabulary has 12 ids"):
        model.generate([[1, 12]], 2)  # was IndexError: index out of range in self
    path = tmp_path / "m.safetensors"
    model.save(path)
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="(?i)cuda"):
            GPT.from_checkpoint(path, device="cuda")  # was PyTorch's AssertionError


def test_the_distributed_worker_checks_its_flags_and_its_file(tmp_path, capsys):
    from bigmodel import distributed
    from bigmodel.torch import distributed as torch_worker

    data = tmp_path / "d.npz"
    np.savez(data, x=np.zeros((8, 784), np.float32), y=np.zeros(8, np.int64))
    with pytest.raises(SystemExit) as err:
        torch_worker.main(["--data", str(data), "--out", str(tmp_path / "o"), "--batch", "0"])
    assert err.value.code == 2 and "--batch: must be an integer >= 1, got 0" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()  # nothing written (it used to write NaN losses)
    text = tmp_path / "d.txt"
    text.write_text("not arrays\n")
    with pytest.raises(ValueError, match=r"d\.txt is not a NumPy \.npz archive"):
        distributed.load_worker_data(text, distributed.model_config("fcnn"))
    data_ok, rows = distributed.load_worker_data(data, distributed.model_config("fcnn"))
    assert rows == 8


def test_conv_backward_checks_the_kernel_as_the_forward_pass_does():
    from bigmodel.numpy import cnn as np_cnn

    x = np.ones((1, 5, 5, 2))
    w = np.ones((3, 3, 2, 4))
    dout = np.ones((1, 3, 3, 4))
    dx, dw, db = np_cnn.conv2d_backward(dout, x, w)
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == (4,)
    with pytest.raises(ValueError, match=r"kernel has shape \(3, 3, 3, 4\) but x has 2 channels"):
        np_cnn.conv2d_backward(dout, x, np.ones((3, 3, 3, 4)))  # gave wrongly shaped gradients
