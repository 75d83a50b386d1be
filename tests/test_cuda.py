"""GPU paths of bigmodel.torch (run on a CUDA machine; skipped elsewhere).

Imports only PyTorch and NumPy, so it runs where TensorFlow is not installed:
    PYTHONPATH=lib python3 -m pytest -o addopts="" -m cuda tests/test_cuda.py
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bigmodel import fcnn
from bigmodel.torch import autocast_dtype, describe_device, pick_device, set_matmul_precision
from bigmodel.torch import fcnn as torch_fcnn

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU"),
]


def test_cuda_is_picked_and_described():
    device = pick_device()
    assert device.type == "cuda"
    assert torch.cuda.get_device_name(0) in describe_device(device)


def test_mixed_precision_follows_the_hardware():
    native_bf16 = torch.cuda.is_bf16_supported(including_emulation=False)
    assert autocast_dtype("cuda") == (torch.bfloat16 if native_bf16 else torch.float16)
    if torch.cuda.get_device_capability()[0] >= 8:  # Ampere and newer compute bf16 natively
        assert native_bf16


def test_fcnn_on_gpu_matches_numpy_in_exact_float32():
    set_matmul_precision("highest")
    cfg = fcnn.FCNNConfig()
    params = fcnn.init_params(cfg, 0)
    x = np.random.default_rng(1).random((128, 784), dtype=np.float32)
    model = torch_fcnn.FCNN(cfg, params).to("cuda")
    with torch.no_grad():
        out = model(torch.as_tensor(x, device="cuda")).cpu().numpy()
    np.testing.assert_allclose(out, fcnn.forward(params, x, cfg)["A2"], atol=1e-4)


def test_fcnn_trains_on_gpu():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2048, 20)).astype(np.float32)
    y = np.argmax(x @ rng.normal(size=(20, 4)), axis=1)
    model = torch_fcnn.FCNN(fcnn.FCNNConfig(20, 64, 4), fcnn.init_params(fcnn.FCNNConfig(20, 64, 4), 0))
    model.to("cuda")
    hist = torch_fcnn.fit(model, x, y, epochs=3, batch_size=64, lr=1e-2, show_progress=False,
                          validation=(x, y))
    assert hist.val_accuracy[-1] > 0.9
    assert model.W1.device.type == "cuda"
