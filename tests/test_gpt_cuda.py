"""GPU paths of the PyTorch GPT: mixed-precision training, the KV cache on the GPU,
torch.compile. Skipped without CUDA; imports only PyTorch (runs where TensorFlow is absent).

Run on a GPU machine with
``PYTHONPATH=lib python3 -m pytest -o addopts="" -p no:cacheprovider -m cuda tests/test_gpt_cuda.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from bigmodel.gpt import GPTConfig
from bigmodel.gpt_train import TrainConfig
from bigmodel.torch import precision
from bigmodel.torch.gpt import GPT
from bigmodel.torch.gpt_train import train

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU"),
]

CFG = GPTConfig(vocab_size=11, block_size=16, n_layer=2, n_head=2, n_embd=32)
TOKENS = np.tile(np.arange(CFG.vocab_size), 400)


@pytest.mark.parametrize("dtype", [None, "float16"])
def test_mixed_precision_training_learns(dtype):
    """The device's precision, and float16 with the gradient scaler (a T4's path) on any GPU."""
    model = GPT(CFG, seed=0).cuda()
    cfg = TrainConfig(max_steps=60, batch_size=16, lr=1e-2, warmup_steps=5, eval_interval=30, eval_iters=2)
    hist = train(model, TOKENS[:3000], TOKENS[3000:], cfg, precision=dtype, show_progress=False)
    assert (dtype or precision("cuda")) in ("bfloat16", "float16")
    assert all(math.isfinite(v) for v in hist.val_loss)
    assert hist.val_loss[-1] < 0.3 * math.log(CFG.vocab_size)
    assert next(model.parameters()).dtype == torch.float32  # master weights stay float32


def test_cuda_logits_match_cpu_in_float32():
    cpu = GPT(CFG, seed=1)
    gpu = GPT(CFG, seed=1).cuda()
    x = torch.as_tensor(np.random.default_rng(0).integers(0, CFG.vocab_size, (2, 16)))
    torch.testing.assert_close(gpu(x.cuda())[0].cpu(), cpu(x)[0], rtol=1e-4, atol=1e-4)


def test_kv_cache_on_the_gpu_equals_uncached():
    model = GPT(CFG, seed=2).cuda()
    prompt = torch.tensor([[1, 2, 3]], device="cuda")
    a = model.generate(prompt, 30, top_k=1, use_cache=True)
    b = model.generate(prompt, 30, top_k=1, use_cache=False)
    torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_compiled_training_step():
    model = GPT(CFG, seed=0).cuda()
    cfg = TrainConfig(max_steps=20, batch_size=16, lr=1e-2, warmup_steps=5, eval_interval=20, eval_iters=2)
    hist = train(model, TOKENS[:3000], TOKENS[3000:], cfg, compile=True, show_progress=False)
    assert math.isfinite(hist.val_loss[-1]) and hist.val_loss[-1] < math.log(CFG.vocab_size)
