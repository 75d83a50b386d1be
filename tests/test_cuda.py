"""GPU paths of bigmodel.torch (run on a CUDA machine; skipped elsewhere).

Imports only PyTorch and NumPy, so it runs where TensorFlow is not installed:
    PYTHONPATH=lib python3 -m pytest -o addopts="" -p no:cacheprovider -m cuda tests/test_cuda.py
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bigmodel.hardware import find_gpu, precision_for
from bigmodel.numpy import fcnn
from bigmodel.torch import (
    autocast_dtype,
    describe_device,
    pick_device,
    precision,
    set_matmul_precision,
)
from bigmodel.torch import fcnn as torch_fcnn

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs an NVIDIA GPU"),
]


def test_cuda_is_picked_and_described():
    device = pick_device()
    assert device.type == "cuda"
    assert torch.cuda.get_device_name(0) in describe_device(device)


def test_precision_follows_the_hardware(monkeypatch):
    monkeypatch.delenv("BIGMODEL_PRECISION", raising=False)
    name = torch.cuda.get_device_name(0)
    spec = find_gpu(name)
    if spec is not None:  # a GPU the book knows: its data-sheet answer (T4 fp16, A100 bf16)
        assert precision("cuda") == spec.precision, name
    major, _ = torch.cuda.get_device_capability(0)
    assert precision("cuda") == ("bfloat16" if major >= 8 else "float16")
    if major >= 8:  # Ampere and newer compute bf16 natively
        assert torch.cuda.is_bf16_supported(including_emulation=False)
    assert autocast_dtype("cuda") == getattr(torch, precision("cuda"))
    assert precision_for("cuda", torch.cuda.get_device_capability(0)) == precision("cuda")


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


def test_tf32_is_off_in_convolutions_under_the_float32_policy():
    """cuDNN's convolutions follow the book's policy (PyTorch's own default is TF32 on).

    A 1x1 convolution over 64 channels (a matrix product, which cuDNN gives the tensor
    cores; a 3x3 one over 1 channel ran without TF32 on an H200 either way) equals the
    NumPy reference to float32 rounding with TF32 off; with it on
    (``set_matmul_precision("high")``, Ampere and newer) the same check fails (TF32 keeps
    10 of float32's 23 mantissa bits): the null case.
    """
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from bigmodel.numpy import cnn as np_cnn
    from numerics import float32_atol

    assert torch.backends.cudnn.allow_tf32 is False  # importing bigmodel.torch applied it
    rng = np.random.default_rng(2)
    x = rng.random((64, 28, 28, 64), dtype=np.float32)
    k = rng.normal(0, 1, (1, 1, 64, 64)).astype(np.float32)
    ref = np_cnn.conv2d(x.astype(np.float64), k.astype(np.float64), np.zeros(64), 1, "valid")
    atol = float32_atol(ref, 64 + 1)
    xt = torch.as_tensor(np_cnn.nhwc_to_nchw(x), device="cuda")
    kt = torch.as_tensor(np_cnn.kernel_tf_to_torch(k), device="cuda")
    diffs = {}
    try:
        for prec in ("highest", "high"):
            set_matmul_precision(prec)
            got = np_cnn.nchw_to_nhwc(torch.nn.functional.conv2d(xt, kt).cpu().numpy())
            diffs[prec] = float(np.abs(got - ref).max())
    finally:
        set_matmul_precision("highest")
    assert diffs["highest"] < atol, (diffs, atol)
    if torch.cuda.get_device_capability(0)[0] >= 8:  # TF32 exists: the check has power
        assert diffs["high"] > atol, (diffs, atol)
