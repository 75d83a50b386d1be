"""Saliency and integrated gradients: NumPy reference = finite differences = autograd =
GradientTape, completeness, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf  # noqa: F401  (the TF twin below needs it loaded)

from bigmodel.numpy import attribution, fcnn
from bigmodel.tf import attribution as tf_attr
from bigmodel.tf import fcnn as tf_fcnn
from bigmodel.torch import attribution as torch_attr
from bigmodel.torch import fcnn as torch_fcnn
from numerics import assert_float32_close, reduction_terms


def problem(activation="relu", n=6, seed=0):
    cfg = fcnn.FCNNConfig(9, 7, 4, activation)
    rng = np.random.default_rng(seed)
    params = fcnn.init_params(cfg, rng, scheme="glorot")
    params["b1"] = rng.normal(0, 0.3, 7).astype(np.float32)
    params["b2"] = rng.normal(0, 0.3, 4).astype(np.float32)
    x = rng.uniform(0, 1, (n, 9)).astype(np.float32)
    return cfg, params, x, rng.integers(0, 4, n)


def f64(params):
    return {k: v.astype(np.float64) for k, v in params.items()}


@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu"])
def test_gradient_matches_finite_differences(activation):
    cfg, params, x, t = problem(activation)
    p, x = f64(params), x.astype(np.float64)
    g = attribution.logit_gradient(p, cfg, x, t)
    eps, num = 1e-6, np.zeros_like(x)
    for j in range(x.shape[1]):
        e = np.zeros(x.shape[1])
        e[j] = eps
        up = fcnn.forward(p, x + e, cfg)["Z2"][np.arange(len(x)), t]
        down = fcnn.forward(p, x - e, cfg)["Z2"][np.arange(len(x)), t]
        num[:, j] = (up - down) / (2 * eps)
    np.testing.assert_allclose(g, num, atol=1e-6)
    np.testing.assert_allclose(attribution.saliency(p, cfg, x, t), x * g)


def test_integrated_gradients_are_complete():
    cfg, params, x, t = problem("tanh")
    p, x = f64(params), x.astype(np.float64)
    rows = np.arange(len(x))
    gap = fcnn.forward(p, x, cfg)["Z2"][rows, t] - fcnn.forward(p, 0 * x, cfg)["Z2"][rows, t]
    errors = [np.abs(attribution.integrated_gradients(p, cfg, x, t, steps=s).sum(1) - gap).max()
              for s in (4, 16, 64)]
    assert errors[2] < 1e-4 * np.abs(gap).max()
    assert errors[0] > errors[1] > errors[2]  # the midpoint rule converges


def test_baseline_equal_to_input_gives_zero():
    cfg, params, x, t = problem()
    ig = attribution.integrated_gradients(params, cfg, x, t, baseline=x)
    assert np.array_equal(ig, np.zeros_like(x))


@pytest.mark.parametrize("name", ["logit_gradient", "saliency", "integrated_gradients"])
def test_frameworks_match_numpy(name):
    cfg, params, x, t = problem("relu", n=8)
    ref = getattr(attribution, name)(f64(params), cfg, x.astype(np.float64), t)
    got_torch = getattr(torch_attr, name)(torch_fcnn.FCNN(cfg, params), x, t)
    got_tf = getattr(tf_attr, name)(tf_fcnn.FCNN(cfg, params), x, t)
    for got in (got_torch, got_tf):
        assert got.shape == x.shape and got.dtype == np.float32
        # forward and backward through the network, then up to 50 integration steps summed
        assert_float32_close(got, ref, 2 * reduction_terms([params[n].shape for n in ("W1", "W2")]) + 50)


def test_one_target_for_all_rows_and_a_baseline_row():
    cfg, params, x, _ = problem()
    base = np.full(9, 0.5, np.float32)
    a = torch_attr.integrated_gradients(torch_fcnn.FCNN(cfg, params), x, 2, baseline=base)
    b = attribution.integrated_gradients(f64(params), cfg, x.astype(np.float64), [2] * len(x),
                                         baseline=np.tile(base, (len(x), 1)))
    assert_float32_close(a, b, 2 * reduction_terms([params[n].shape for n in ("W1", "W2")]) + 50)


def test_saliency_is_zero_where_the_input_is_zero():
    cfg, params, x, t = problem()
    x[:, :3] = 0
    assert np.all(attribution.saliency(params, cfg, x, t)[:, :3] == 0)
    assert np.all(attribution.integrated_gradients(params, cfg, x, t)[:, :3] == 0)


@pytest.mark.parametrize("module", [torch_attr, tf_attr])
def test_bad_inputs_are_named(module):
    cfg, params, x, t = problem()
    model = (torch_fcnn if module is torch_attr else tf_fcnn).FCNN(cfg, params)
    with pytest.raises(ValueError, match="target"):
        module.saliency(model, x, t[:2])
    with pytest.raises(ValueError, match="target"):
        module.saliency(model, x, np.full(len(x), 4))  # 4 outputs: classes 0..3
    with pytest.raises(ValueError, match="flatten"):
        module.saliency(model, x.reshape(len(x), 3, 3), t)
    with pytest.raises(ValueError, match="255"):
        module.saliency(model, (x * 255).astype(np.uint8), t)
    with pytest.raises(ValueError, match="baseline"):
        module.integrated_gradients(model, x, t, baseline=np.zeros(4))
    with pytest.raises(ValueError, match="steps"):
        module.integrated_gradients(model, x, t, steps=0)


def test_numpy_reference_errors():
    cfg, params, x, t = problem()
    with pytest.raises(ValueError, match="target"):
        attribution.saliency(params, cfg, x, 7)
    with pytest.raises(TypeError, match="target"):
        attribution.saliency(params, cfg, x, True)
    with pytest.raises(ValueError, match="baseline"):
        attribution.integrated_gradients(params, cfg, x, t, baseline=np.full(9, np.nan))
