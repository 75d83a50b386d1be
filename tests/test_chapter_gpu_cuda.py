"""A few steps of each chapter's GPU configuration, on a GPU (skipped elsewhere).

The chapters' knobs cells choose these sizes on CUDA; ``make test-gpu-branch`` rehearses the
branches on a CPU at small sizes, and this runs the real sizes for a few steps. PyTorch
parts run where TensorFlow is absent. Run with
``PYTHONPATH=lib python3 -m pytest -o addopts="" -p no:cacheprovider -m cuda tests/test_chapter_gpu_cuda.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from bigmodel.gpt import CONFIGS
from bigmodel.gpt_train import TrainConfig
from bigmodel.numpy import cnn as np_cnn

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU"),
]

# 05_text_generation's GPU branch: nanoGPT's shakespeare_char model, batch 64
GPT_STEPS = TrainConfig(max_steps=3, batch_size=64, lr=1e-3, min_lr=1e-4, warmup_steps=1,
                        eval_interval=3, eval_iters=1)
TOKENS = np.random.default_rng(0).integers(0, 65, 200_000)


def test_05_gpt_gpu_config_torch():
    from bigmodel.torch.gpt import GPT
    from bigmodel.torch.gpt_train import train

    hist = train(GPT(CONFIGS["shakespeare"], seed=0).cuda(), TOKENS, TOKENS, GPT_STEPS,
                 show_progress=False)
    assert math.isfinite(hist.val_loss[-1])


def test_05_gpt_gpu_config_tf():
    tf = pytest.importorskip("tensorflow")
    if not tf.config.list_physical_devices("GPU"):
        pytest.skip("TensorFlow sees no GPU")
    from bigmodel.tf.gpt import GPT
    from bigmodel.tf.gpt_train import train

    with tf.device("/GPU:0"):
        hist = train(GPT(CONFIGS["shakespeare"], seed=0), TOKENS, TOKENS, GPT_STEPS,
                     show_progress=False)
    assert math.isfinite(hist.val_loss[-1])


@pytest.mark.parametrize("config", [
    np_cnn.CNNConfig(),  # 07_vision
    np_cnn.CNNConfig(height=72, width=40, channels=(4, 8)),  # 08_speech
])
def test_07_08_cnn_trains_on_the_gpu(config):
    from bigmodel.torch import cnn

    rng = np.random.default_rng(0)
    x = rng.random((512, config.height, config.width, 1), dtype=np.float32)
    y = rng.integers(0, 10, 512)
    model = cnn.CNN(config, np_cnn.init_params(config, rng=0)).cuda()
    hist = cnn.fit(model, x, y, epochs=1, batch_size=128, show_progress=False)
    assert math.isfinite(hist.loss[-1])
