"""GPU paths of bigmodel.tf: device, precision, memory growth, the GPT in mixed precision.

Skipped where TensorFlow is not installed or sees no GPU. Run on a GPU machine with
``PYTHONPATH=lib python3 -m pytest -o addopts="" -p no:cacheprovider -m cuda tests/test_tf_cuda.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

tf = pytest.importorskip("tensorflow")

import bigmodel.tf as btf  # noqa: E402  (after the skip)
from bigmodel.gpt import GPTConfig  # noqa: E402
from bigmodel.gpt_train import TrainConfig  # noqa: E402
from bigmodel.hardware import find_gpu  # noqa: E402

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not tf.config.list_physical_devices("GPU"),
                       reason="TensorFlow sees no GPU"),
]

CFG = GPTConfig(vocab_size=11, block_size=16, n_layer=2, n_head=2, n_embd=32)
TOKENS = np.tile(np.arange(CFG.vocab_size), 400)


def test_gpu_is_picked_described_and_grows_its_memory():
    assert btf.pick_device() == "/GPU:0"
    assert "compute capability" in btf.describe_device("/GPU:0")
    gpu = tf.config.list_physical_devices("GPU")[0]
    assert tf.config.experimental.get_memory_growth(gpu)


def test_precision_follows_the_hardware(monkeypatch):
    monkeypatch.delenv("BIGMODEL_PRECISION", raising=False)
    details = tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[0])
    spec = find_gpu(details.get("device_name", ""))
    if spec is not None:
        assert btf.precision("/GPU:0") == spec.precision
    major = details["compute_capability"][0]
    assert btf.precision("/GPU:0") == ("bfloat16" if major >= 8 else "float16")
    assert btf.autocast_dtype("/GPU:0") == tf.as_dtype(btf.precision("/GPU:0"))


@pytest.mark.parametrize("dtype", [None, "float16"])
def test_gpt_trains_in_mixed_precision_on_the_gpu(dtype):
    from bigmodel.tf.gpt import GPT
    from bigmodel.tf.gpt_train import train

    cfg = TrainConfig(max_steps=60, batch_size=16, lr=1e-2, warmup_steps=5, eval_interval=30,
                      eval_iters=2)
    with tf.device("/GPU:0"):
        model = GPT(CFG, seed=0)
        hist = train(model, TOKENS[:3000], TOKENS[3000:], cfg, precision=dtype,
                     show_progress=False)
    assert all(math.isfinite(v) for v in hist.val_loss)
    assert hist.val_loss[-1] < 0.3 * math.log(CFG.vocab_size)
    assert model.compute_dtype == tf.float32


def test_xla_compiled_training_step():
    from bigmodel.tf.gpt import GPT
    from bigmodel.tf.gpt_train import train

    cfg = TrainConfig(max_steps=20, batch_size=16, lr=1e-2, warmup_steps=5, eval_interval=20,
                      eval_iters=2)
    with tf.device("/GPU:0"):
        hist = train(GPT(CFG, seed=0), TOKENS[:3000], TOKENS[3000:], cfg, compile=True,
                     show_progress=False)
    assert math.isfinite(hist.val_loss[-1]) and hist.val_loss[-1] < math.log(CFG.vocab_size)
