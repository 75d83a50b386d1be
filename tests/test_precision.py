"""One precision vocabulary in both frameworks: the policy, the override, and training in it."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

from bigmodel import budget, hardware
from bigmodel.gpt import CONFIGS
from bigmodel.gpt_train import TrainConfig


@pytest.mark.parametrize(
    "kind, capability, want",
    [
        ("cuda", (7, 5), "float16"),  # T4: no native bf16
        ("cuda", (7, 0), "float16"),  # V100
        ("cuda", (8, 0), "bfloat16"),  # A100
        ("cuda", (8, 9), "bfloat16"),  # L4
        ("cuda", (9, 0), "bfloat16"),  # H100
        ("cpu", None, "float32"),
        ("mps", None, "float32"),
    ],
)
def test_policy(monkeypatch, kind, capability, want):
    monkeypatch.delenv("BIGMODEL_PRECISION", raising=False)
    assert hardware.precision_for(kind, capability) == want


def test_the_budget_gpus_follow_the_policy(monkeypatch):
    monkeypatch.delenv("BIGMODEL_PRECISION", raising=False)
    for spec in budget.GPUS.values():  # GPUSpec.precision reads the policy: one rule
        assert spec.precision == hardware.precision_for("cuda", spec.capability)
        assert spec.precision in spec.peak and "float32" in spec.peak


def test_override_and_bad_names(monkeypatch):
    monkeypatch.setenv("BIGMODEL_PRECISION", "float16")
    assert hardware.precision_for("cpu") == "float16"
    monkeypatch.setenv("BIGMODEL_PRECISION", "fp16")
    with pytest.raises(ValueError, match=r"BIGMODEL_PRECISION='fp16'; choose one of"):
        hardware.precision_for("cpu")
    monkeypatch.delenv("BIGMODEL_PRECISION")
    with pytest.raises(ValueError, match="needs the compute capability"):
        hardware.precision_for("cuda")


def test_both_frameworks_say_the_same_words(monkeypatch):
    import tensorflow as tf
    import torch

    import bigmodel.tf as btf
    import bigmodel.torch as bt

    monkeypatch.delenv("BIGMODEL_PRECISION", raising=False)
    assert bt.precision("cpu") == btf.precision("/CPU:0") == "float32"
    assert bt.autocast_dtype("cpu") is None and btf.autocast_dtype("/CPU:0") is None
    for name in ("bfloat16", "float16"):
        monkeypatch.setenv("BIGMODEL_PRECISION", name)
        assert bt.precision("cpu") == btf.precision("/CPU:0") == name
        assert bt.autocast_dtype("cpu") == getattr(torch, name)
        assert btf.autocast_dtype("/CPU:0") == tf.as_dtype(name)


def test_train_takes_the_same_arguments_in_both_frameworks():
    from bigmodel.tf import gpt_train as tf_train
    from bigmodel.torch import gpt_train as torch_train

    a = inspect.signature(torch_train.train).parameters
    b = inspect.signature(tf_train.train).parameters
    assert list(a) == list(b)
    assert [p.default for p in a.values()] == [p.default for p in b.values()]


@pytest.mark.parametrize("precision", ["float32", "bfloat16", "float16"])
def test_the_gpt_trains_in_every_precision_in_both_frameworks(precision):
    import tensorflow as tf

    from bigmodel.tf import gpt as tf_gpt
    from bigmodel.tf import gpt_train as tf_train
    from bigmodel.torch import gpt as torch_gpt
    from bigmodel.torch import gpt_train as torch_train

    data = np.random.default_rng(0).integers(0, 65, 4000)
    cfg = TrainConfig(max_steps=4, batch_size=4, eval_interval=2, eval_iters=1, warmup_steps=1)
    h_torch = torch_train.train(torch_gpt.GPT(CONFIGS["nano"], seed=0), data, data, cfg,
                                precision=precision, show_progress=False)
    model = tf_gpt.GPT(CONFIGS["nano"], seed=0)
    h_tf = tf_train.train(model, data, data, cfg, precision=precision, show_progress=False)
    assert model.compute_dtype == tf.float32  # back to its own after training
    # the same weights and batches: the losses agree to the precision's rounding
    tol = {"float32": 1e-4, "bfloat16": 2e-2, "float16": 2e-3}[precision]
    np.testing.assert_allclose(h_torch.val_loss, h_tf.val_loss, atol=tol)
    assert all(np.isfinite(h_torch.val_loss))


def test_tf_float16_trains_with_loss_scaling():
    import tensorflow as tf

    from bigmodel.tf import gpt as tf_gpt
    from bigmodel.tf import gpt_train as tf_train

    model = tf_gpt.GPT(CONFIGS["nano"], seed=0)
    opt = tf_train.configure_optimizer(model, TrainConfig(), "float16")
    assert isinstance(opt, tf.keras.optimizers.LossScaleOptimizer)
    opt = tf_train.configure_optimizer(model, TrainConfig(), "bfloat16")
    assert not isinstance(opt, tf.keras.optimizers.LossScaleOptimizer)


def test_a_bad_precision_is_named():
    from bigmodel.torch import gpt as torch_gpt
    from bigmodel.torch import gpt_train as torch_train

    data = np.zeros(1000, dtype=np.int64)
    with pytest.raises(ValueError, match=r"precision='fp16'; choose one of"):
        torch_train.train(torch_gpt.GPT(CONFIGS["nano"], seed=0), data, data, TrainConfig(),
                          precision="fp16", show_progress=False)


def test_tf32_policy_covers_convolutions_in_pytorch():
    """PyTorch's default turns TF32 on in cuDNN convolutions; the book's policy turns it off."""
    import torch

    from bigmodel.torch import set_matmul_precision

    assert torch.backends.cudnn.allow_tf32 is False
    assert torch.get_float32_matmul_precision() == "highest"
    try:
        set_matmul_precision("high")
        assert torch.backends.cudnn.allow_tf32 is True
        assert torch.get_float32_matmul_precision() == "high"
    finally:
        set_matmul_precision("highest")
    assert torch.backends.cudnn.allow_tf32 is False
    with pytest.raises(ValueError, match="'highest' or 'high'"):
        set_matmul_precision("medium")
