"""The FCNN in NumPy, PyTorch and TensorFlow: same weights, same outputs, same gradients."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import torch

from bigmodel.numpy import fcnn
from bigmodel.tf import fcnn as tf_fcnn
from bigmodel.torch import fcnn as torch_fcnn
from numerics import assert_float32_close

ACTS = ["relu", "sigmoid", "tanh"]


def small_problem(activation="relu", output_activation="identity", n=16, seed=0):
    cfg = fcnn.FCNNConfig(7, 5, 3, activation, output_activation)
    rng = np.random.default_rng(seed)
    params = fcnn.init_params(cfg, rng, scheme="glorot")
    params["b1"] = rng.normal(0, 0.1, 5).astype(np.float32)  # non-zero biases test more
    params["b2"] = rng.normal(0, 0.1, 3).astype(np.float32)
    x = rng.normal(size=(n, 7)).astype(np.float32)
    y = rng.integers(0, 3, n)
    return cfg, params, x, y


def torch_grads(cfg, params, x, y, loss):
    model = torch_fcnn.FCNN(cfg, params)
    value = torch_fcnn.loss_fn(model(torch.as_tensor(x)), torch.as_tensor(y), loss)
    value.backward()
    return float(value.detach()), {n: getattr(model, n).grad.numpy() for n in fcnn.PARAM_NAMES}


def tf_grads(cfg, params, x, y, loss):
    model = tf_fcnn.FCNN(cfg, params)
    with tf.GradientTape() as tape:
        value = tf_fcnn.loss_fn(model(tf.constant(x)), tf.constant(y), loss)
    grads = tape.gradient(value, model.params)
    return float(value), {n: g.numpy() for n, g in zip(fcnn.PARAM_NAMES, grads, strict=True)}


def test_param_count_784_256_10():
    cfg = fcnn.FCNNConfig()
    assert cfg.param_count() == 203_530
    assert torch_fcnn.FCNN(cfg).param_count() == 203_530
    assert tf_fcnn.FCNN(cfg).param_count() == 203_530


@pytest.mark.parametrize("activation", ACTS)
def test_forward_parity_784_256_10(activation):
    cfg = fcnn.FCNNConfig(activation=activation)
    params = fcnn.init_params(cfg, 1)
    x = np.random.default_rng(2).random((32, 784), dtype=np.float32)
    ref = fcnn.forward(params, x, cfg)["A2"]
    with torch.no_grad():
        out_t = torch_fcnn.FCNN(cfg, params)(torch.as_tensor(x)).numpy()
    out_f = tf_fcnn.FCNN(cfg, params)(tf.constant(x)).numpy()
    assert_float32_close(out_t, ref, cfg.n_in + cfg.n_hidden, err_msg="torch")
    assert_float32_close(out_f, ref, cfg.n_in + cfg.n_hidden, err_msg="tf")


@pytest.mark.parametrize("loss", fcnn.LOSSES)
@pytest.mark.parametrize("activation", ACTS)
def test_gradients_agree_in_all_three(activation, loss):
    cfg, params, x, y = small_problem(activation)
    ref_loss, ref = fcnn.loss_and_grads(params, x, y, cfg, loss)
    for value, grads in (torch_grads(cfg, params, x, y, loss), tf_grads(cfg, params, x, y, loss)):
        # forward, the loss's mean over the batch, and back: the gradients' chain of sums
        terms = 2 * (cfg.n_in + cfg.n_hidden + cfg.n_out) + len(x)
        assert_float32_close(value, ref_loss, terms, err_msg="loss")
        for name in fcnn.PARAM_NAMES:
            assert grads[name].shape == params[name].shape
            assert_float32_close(grads[name], ref[name], terms, err_msg=name)


@pytest.mark.parametrize("loss", fcnn.LOSSES)
@pytest.mark.parametrize("output_activation", ["identity", "sigmoid"])
def test_backward_matches_finite_differences(loss, output_activation):
    # tanh: smooth everywhere, so central differences are accurate to ~1e-9 in float64.
    cfg, params, x, y = small_problem("tanh", output_activation, n=6)
    p64 = {k: v.astype(np.float64) for k, v in params.items()}
    _, grads = fcnn.loss_and_grads(p64, x.astype(np.float64), y, cfg, loss)
    numeric = fcnn.numerical_grads(params, x, y, cfg, loss)
    for name in fcnn.PARAM_NAMES:
        np.testing.assert_allclose(grads[name], numeric[name], atol=1e-7, err_msg=name)


def test_finite_differences_catch_a_wrong_gradient():
    """The check above can fail: a backward pass missing σ' is far from the numbers."""
    cfg, params, x, y = small_problem("tanh", n=6)
    numeric = fcnn.numerical_grads(params, x, y, cfg, "mse")
    wrong_cfg = fcnn.FCNNConfig(7, 5, 3, "identity")  # drops tanh' from dZ1
    p64 = {k: v.astype(np.float64) for k, v in params.items()}
    cache = fcnn.forward(p64, x.astype(np.float64), cfg)
    dZ2 = 2 * (cache["A2"] - fcnn.one_hot(y, 3)) / cache["A2"].size
    dW1_wrong = x.T @ (dZ2 @ p64["W2"].T)
    assert wrong_cfg.activation == "identity"
    assert not np.allclose(dW1_wrong, numeric["W1"], atol=1e-7)


@pytest.mark.parametrize("framework", ["torch", "tf"])
@pytest.mark.parametrize("loss,optimizer", [("mse", "sgd"), ("cross_entropy", "adam")])
def test_one_epoch_lowers_the_loss(framework, loss, optimizer):
    rng = np.random.default_rng(0)
    cfg = fcnn.FCNNConfig(20, 32, 4)
    # A learnable problem: the label is the arg-max of a fixed linear map of x.
    x = rng.normal(size=(512, 20)).astype(np.float32)
    y = np.argmax(x @ rng.normal(size=(20, 4)), axis=1)
    params = fcnn.init_params(cfg, 0)
    mod = torch_fcnn if framework == "torch" else tf_fcnn
    model = mod.FCNN(cfg, params)
    before, _ = mod.evaluate(model, x, y, loss=loss)
    lr = 0.5 if optimizer == "sgd" else 1e-2
    hist = mod.fit(model, x, y, epochs=1, batch_size=32, lr=lr, loss=loss, optimizer=optimizer,
                   show_progress=False)
    after, _ = mod.evaluate(model, x, y, loss=loss)
    assert hist.epochs == 1
    assert after < 0.9 * before


def test_default_init_is_the_same_after_seeding_either_framework():
    import bigmodel.tf as btf
    import bigmodel.torch as bt

    cfg = fcnn.FCNNConfig(10, 16, 3)
    bt.seed_everything(3)
    w_torch = torch_fcnn.FCNN(cfg).to_numpy()
    btf.seed_everything(3)
    w_tf = tf_fcnn.FCNN(cfg).to_numpy()
    for name in fcnn.PARAM_NAMES:
        np.testing.assert_array_equal(w_torch[name], w_tf[name], err_msg=name)


def test_torch_and_tf_training_runs_match():
    """Same weights, same batch order, same optimizer: the two loops stay together."""
    rng = np.random.default_rng(3)
    cfg = fcnn.FCNNConfig(10, 16, 3)
    x = rng.normal(size=(256, 10)).astype(np.float32)
    y = rng.integers(0, 3, 256)
    params = fcnn.init_params(cfg, 0)
    runs = []
    for mod in (torch_fcnn, tf_fcnn):
        model = mod.FCNN(cfg, params)
        hist = mod.fit(model, x, y, epochs=2, batch_size=32, lr=1e-2, optimizer="adam",
                       show_progress=False, seed=5)
        runs.append((hist.loss, model.to_numpy()))
    np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-4)
    for name in fcnn.PARAM_NAMES:
        np.testing.assert_allclose(runs[0][1][name], runs[1][1][name], atol=1e-4, err_msg=name)


@pytest.mark.parametrize("mod", [torch_fcnn, tf_fcnn], ids=["torch", "tf"])
def test_bad_inputs_give_clear_errors(mod):
    cfg = fcnn.FCNNConfig()
    model = mod.FCNN(cfg, fcnn.init_params(cfg, 0))
    images = np.zeros((4, 28, 28), np.float32)
    with pytest.raises(ValueError, match=r"\(n, 784\).*Flatten"):
        mod.fit(model, images, np.zeros(4, np.int64), show_progress=False)
    with pytest.raises(ValueError, match="labels"):
        mod.fit(model, np.zeros((4, 784), np.float32), np.array([0, 1, 2, 10]), show_progress=False)
    with pytest.raises(ValueError, match="unknown loss"):
        mod.fit(model, np.zeros((4, 784), np.float32), np.zeros(4, np.int64), loss="hinge",
                show_progress=False)
    wrong = fcnn.init_params(fcnn.FCNNConfig(n_hidden=128), 0)
    with pytest.raises(ValueError, match=r"'W1' has shape \(784, 128\).*\(784, 256\)"):
        model.load_numpy(wrong)


def test_config_validation():
    with pytest.raises(ValueError, match="activation"):
        fcnn.FCNNConfig(activation="swish")
    with pytest.raises(ValueError, match="n_hidden"):
        fcnn.FCNNConfig(n_hidden=0)
    with pytest.raises(ValueError, match=r"\(n, 784\)"):
        fcnn.forward(fcnn.init_params(fcnn.FCNNConfig(), 0), np.zeros((2, 28, 28)), fcnn.FCNNConfig())
