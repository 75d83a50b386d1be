"""Bad input gets a clear error that names the problem and the fix, in NumPy, PyTorch and TF.

The cases come from a reader's-eye test of the public API (issue "bad input never gives a
silent wrong result"): each was a silent wrong result or a framework's riddle before.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import torch

from bigmodel import inputs
from bigmodel.numpy import fcnn
from bigmodel.tf import fcnn as tf_fcnn
from bigmodel.torch import fcnn as torch_fcnn

CFG = fcnn.FCNNConfig(n_in=784, n_hidden=16, n_out=10)
FRAMEWORKS = [torch_fcnn, tf_fcnn]
IDS = ["torch", "tf"]


def model_of(mod):
    return mod.FCNN(CFG, fcnn.init_params(CFG, 0))


def good_xy(n=8):
    rng = np.random.default_rng(0)
    return rng.random((n, 784), dtype=np.float32), rng.integers(0, 10, n)


# ------------------------------------------------------------ silent wrong results


@pytest.mark.parametrize("dtype", [np.uint8, np.int64, np.int32, bool])
@pytest.mark.parametrize("mod", FRAMEWORKS, ids=IDS)
def test_integer_pixels_are_refused_with_the_fix(mod, dtype):
    x, y = good_xy()
    raw = (x * 255).astype(dtype)
    for call in (
        lambda: mod.fit(model_of(mod), raw, y, show_progress=False),
        lambda: mod.evaluate(model_of(mod), raw, y),
        lambda: mod.predict(model_of(mod), raw),
        lambda: model_of(mod)(raw),
    ):
        with pytest.raises(ValueError, match=r"dtype .*astype\(np\.float32\)"):
            call()


def test_integer_pixels_are_refused_by_the_numpy_reference():
    x, y = good_xy()
    params = fcnn.init_params(CFG, 0)
    with pytest.raises(ValueError, match=r"dtype uint8 \(values up to \d+\).*/ 255"):
        fcnn.forward(params, (x * 255).astype(np.uint8), CFG)
    with pytest.raises(ValueError, match="dtype int64"):
        fcnn.loss_and_grads(params, (x * 255).astype(np.int64), y, CFG, "mse")


@pytest.mark.parametrize("mod", FRAMEWORKS, ids=IDS)
def test_integer_tensors_are_refused(mod):
    x, _ = good_xy()
    raw = (x * 255).astype(np.uint8)
    tensor = torch.as_tensor(raw) if mod is torch_fcnn else tf.constant(raw)
    with pytest.raises(ValueError, match=r"dtype .*uint8.*/ 255"):
        model_of(mod)(tensor)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("mod", FRAMEWORKS, ids=IDS)
def test_non_finite_features_are_refused(mod, bad):
    x, y = good_xy()
    x[3, 17] = bad
    with pytest.raises(ValueError, match=r"1 NaN or infinite value\(s\), the first at \(3, 17\)"):
        mod.fit(model_of(mod), x, y, show_progress=False)
    with pytest.raises(ValueError, match="NaN or infinite"):
        fcnn.forward(fcnn.init_params(CFG, 0), x, CFG)


@pytest.mark.parametrize("epochs", [0, -3, 1.5, True, None])
@pytest.mark.parametrize("mod", FRAMEWORKS, ids=IDS)
def test_epochs_must_be_a_positive_integer(mod, epochs):
    x, y = good_xy()
    with pytest.raises(ValueError, match=r"epochs must be a positive integer"):
        mod.fit(model_of(mod), x, y, epochs=epochs, show_progress=False)


@pytest.mark.parametrize("lr", [-1e-3, 0.0, float("nan"), float("inf")])
@pytest.mark.parametrize("mod", FRAMEWORKS, ids=IDS)
def test_learning_rate_must_be_finite_and_positive(mod, lr):
    x, y = good_xy()
    model = model_of(mod)
    before = model.to_numpy()
    with pytest.raises(ValueError, match=r"lr \(the learning rate\) must be a finite number > 0"):
        mod.fit(model, x, y, lr=lr, show_progress=False)
    for name, value in model.to_numpy().items():  # nothing was trained
        np.testing.assert_array_equal(value, before[name])


@pytest.mark.parametrize("mod", FRAMEWORKS, ids=IDS)
def test_batch_size_must_be_a_positive_integer(mod):
    x, y = good_xy()
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        mod.fit(model_of(mod), x, y, batch_size=0, show_progress=False)


# ------------------------------------------------------------ riddles


@pytest.mark.parametrize("dtype", [np.float64, np.float16])
@pytest.mark.parametrize("mod", FRAMEWORKS, ids=IDS)
def test_other_float_dtypes_are_converted(mod, dtype):
    """float64 and float16 arrays and tensors work and give the float32 result."""
    x, _ = good_xy()
    model = model_of(mod)
    to_np = (lambda t: t.detach().numpy()) if mod is torch_fcnn else (lambda t: t.numpy())
    ref = to_np(model(x.astype(dtype).astype(np.float32)))
    as_tensor = torch.as_tensor if mod is torch_fcnn else tf.constant
    for given in (x.astype(dtype), as_tensor(x.astype(dtype))):
        np.testing.assert_allclose(to_np(model(given)), ref, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("mod", FRAMEWORKS, ids=IDS)
def test_array_likes_are_accepted(mod):
    x, _ = good_xy(3)
    model = model_of(mod)
    out_list = model(x.tolist())
    out_array = model(x)
    to_np = (lambda t: t.detach().numpy()) if mod is torch_fcnn else (lambda t: t.numpy())
    np.testing.assert_allclose(to_np(out_list), to_np(out_array), rtol=1e-6)


@pytest.mark.parametrize("mod", FRAMEWORKS, ids=IDS)
def test_empty_data_is_refused_where_it_would_divide_by_zero(mod):
    x = np.zeros((0, 784), np.float32)
    y = np.zeros(0, np.int64)
    with pytest.raises(ValueError, match=r"x is empty \(shape \(0, 784\)\)"):
        mod.fit(model_of(mod), x, y, show_progress=False)
    with pytest.raises(ValueError, match="x is empty"):
        mod.evaluate(model_of(mod), x, y)
    assert mod.predict(model_of(mod), x).shape == (0, 10)  # nothing to predict is fine


@pytest.mark.parametrize("mod", FRAMEWORKS, ids=IDS)
def test_validation_data_is_checked_before_training(mod):
    x, y = good_xy()
    with pytest.raises(ValueError, match=r"y has shape \(3,\); expected \(8,\)"):
        mod.fit(model_of(mod), x, y, validation=(x, y[:3]), show_progress=False)


def test_numpy_reference_names_wrong_weights():
    x, y = good_xy()
    params = fcnn.init_params(CFG, 0)
    with pytest.raises(ValueError, match="parameter 'b2' missing"):
        fcnn.forward({k: v for k, v in params.items() if k != "b2"}, x, CFG)
    with pytest.raises(ValueError, match=r"'W1' has shape \(784, 8\), the config needs \(784, 16\)"):
        fcnn.forward({**params, "W1": np.zeros((784, 8), np.float32)}, x, CFG)
    with pytest.raises(ValueError, match="unexpected parameters"):
        fcnn.forward({**params, "W3": np.zeros(1)}, x, CFG)
    with pytest.raises(TypeError, match="params must be a dict"):
        fcnn.forward(list(params.values()), x, CFG)


def test_numpy_reference_names_wrong_labels():
    x, y = good_xy()
    params = fcnn.init_params(CFG, 0)
    with pytest.raises(ValueError, match=r"y has shape \(7,\); expected \(8,\)"):
        fcnn.loss_and_grads(params, x, y[:7], CFG, "mse")
    with pytest.raises(ValueError, match=r"labels must be integers: use y.astype\(int\)"):
        fcnn.loss_and_grads(params, x, y.astype(np.float64), CFG, "mse")
    with pytest.raises(ValueError, match=r"labels from \d+ to 12.*\[0, 10\)"):
        fcnn.loss_and_grads(params, x, np.r_[y[:7], 12], CFG, "mse")


def test_torch_tensor_on_another_device_is_named():
    model = model_of(torch_fcnn)
    x = torch.zeros((2, 784), device="meta")
    with pytest.raises(ValueError, match="x is on meta but the model is on cpu"):
        model(x)


def test_contract_helpers():
    assert inputs.positive_int(3, "n") == 3
    assert inputs.positive_number(0.5, "lr") == 0.5
    with pytest.raises(TypeError, match="Python objects"):
        inputs.features(np.array([[1.0, 2.0], [3.0]], dtype=object), 2)
    with pytest.raises(TypeError, match="got a dict"):
        inputs.features({"a": 1}, 2)
