"""The small CNN in NumPy, PyTorch and TensorFlow: same weights, same outputs, same training."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import torch
from torch import nn

from bigmodel import data
from bigmodel.numpy import cnn as np_cnn
from bigmodel.tf import cnn as tf_cnn
from bigmodel.torch import cnn as torch_cnn
from numerics import assert_float32_close, reduction_terms

MODS = [torch_cnn, tf_cnn]
IDS = ["torch", "tf"]
CONFIGS = [
    np_cnn.CNNConfig(),
    # SAME convolutions, average pooling, three blocks, colour-like non-square images.
    np_cnn.CNNConfig(
        height=20, width=24, in_channels=3, channels=(4, 6, 5), padding="same", pool="avg", n_out=7
    ),
]


def with_biases(cfg, seed=0):
    """He weights plus non-zero biases (zero biases would hide a bias added in the wrong place)."""
    rng = np.random.default_rng(seed)
    params = np_cnn.init_params(cfg, rng)
    for name, p in params.items():
        if name.startswith("b"):
            params[name] = rng.normal(0, 0.1, p.shape).astype(np.float32)
    return params


def terms(cfg):
    """The CNN's chain of float32 sums (numerics.py): every convolution, then the dense layer."""
    return reduction_terms(np_cnn.param_shapes(cfg))


def images(cfg, n, seed=1):
    return np.random.default_rng(seed).random((n, cfg.height, cfg.width, cfg.in_channels), dtype=np.float32)


@pytest.fixture(scope="module")
def mnist_few(shared_data):
    m = data.load_mnist(shared_data, scale=True)
    return m.x_train[:512], m.y_train[:512]


def test_param_count():
    cfg = np_cnn.CNNConfig()
    # conv 3x3x1->8, conv 3x3x8->16, dense from the 5x5x16 map (28 -26-13-11-5) to 10
    expected = (3 * 3 * 1 * 8 + 8) + (3 * 3 * 8 * 16 + 16) + (5 * 5 * 16 * 10 + 10)
    assert cfg.feature_shape == (5, 5, 16)
    assert np_cnn.param_count(cfg) == expected
    assert sum(p.size for p in np_cnn.init_params(cfg).values()) == expected
    for mod in MODS:
        assert mod.CNN(cfg).param_count() == expected
    same = np_cnn.CNNConfig(padding="same")  # 28 -28-14-14-7
    assert same.feature_shape == (7, 7, 16)
    assert np_cnn.param_count(same) == expected - 5 * 5 * 16 * 10 + 7 * 7 * 16 * 10


def test_init_is_he_and_float32():
    params = np_cnn.init_params(np_cnn.CNNConfig(channels=(64, 64)), 0)
    assert all(p.dtype == np.float32 for p in params.values())
    assert not params["b1"].any() and not params["b3"].any()
    # std sqrt(2 / fan_in): fan_in = 3*3*64 for the second kernel
    assert params["W2"].std() == pytest.approx(np.sqrt(2 / (3 * 3 * 64)), rel=0.02)


@pytest.mark.parametrize("cfg", CONFIGS, ids=["default", "same-avg-3"])
def test_forward_parity_numpy_torch_tf(cfg):
    params = with_biases(cfg)
    x = images(cfg, 16)
    ref = np_cnn.forward(params, x, cfg)["logits"]
    assert ref.shape == (16, cfg.n_out)
    with torch.no_grad():
        out_t = torch_cnn.CNN(cfg, params)(torch.as_tensor(x)).numpy()
    out_f = tf_cnn.CNN(cfg, params)(tf.constant(x)).numpy()
    assert_float32_close(out_t, ref, terms(cfg), err_msg="torch")
    assert_float32_close(out_f, ref, terms(cfg), err_msg="tf")
    for mod in MODS:
        assert_float32_close(mod.predict(mod.CNN(cfg, params), x), ref, terms(cfg), err_msg=mod.__name__)


def test_three_dimensional_images_are_one_channel():
    cfg = np_cnn.CNNConfig()
    params = with_biases(cfg)
    x = images(cfg, 4)
    ref = np_cnn.forward(params, x, cfg)["logits"]
    np.testing.assert_array_equal(np_cnn.forward(params, x[..., 0], cfg)["logits"], ref)
    for mod in MODS:
        model = mod.CNN(cfg, params)
        # equal up to rounding: the two memory layouts may take different kernels (on an
        # AVX2 CPU PyTorch's differ by 1.1e-6 at a logit of 1.8)
        assert_float32_close(mod.predict(model, x[..., 0]), mod.predict(model, x), terms(cfg))


@pytest.mark.parametrize("mod", MODS, ids=IDS)
def test_load_and_to_numpy_round_trip_in_the_canonical_layout(mod):
    cfg = CONFIGS[1]
    params = with_biases(cfg)
    model = mod.CNN(cfg, params)
    back = model.to_numpy()
    assert list(back) == list(np_cnn.param_shapes(cfg))
    for name, p in params.items():
        np.testing.assert_array_equal(back[name], p, err_msg=name)
    other = with_biases(cfg, seed=5)
    model.load_numpy(other)
    np.testing.assert_array_equal(model.to_numpy()["W2"], other["W2"])


def test_torch_model_holds_torch_layout():
    cfg = np_cnn.CNNConfig()
    params = with_biases(cfg)
    model = torch_cnn.CNN(cfg, params)
    assert tuple(model.W1.shape) == (8, 1, 3, 3) and tuple(model.W2.shape) == (16, 8, 3, 3)
    np.testing.assert_array_equal(model.W2.detach().numpy(), np_cnn.kernel_tf_to_torch(params["W2"]))
    np.testing.assert_array_equal(
        model.W3.detach().numpy(), np_cnn.dense_nhwc_to_nchw(params["W3"], cfg.feature_shape)
    )


def plain_torch_model(params, cfg, permute_dense=True):
    """The same CNN from stock PyTorch layers, which take NCHW input and flatten (c, h, w)."""
    net = nn.Sequential(
        nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 10),
    )
    w3 = np_cnn.dense_nhwc_to_nchw(params["W3"], cfg.feature_shape) if permute_dense else params["W3"]
    with torch.no_grad():
        for layer, w, b in ((net[0], "W1", "b1"), (net[3], "W2", "b2")):
            layer.weight.copy_(torch.as_tensor(np_cnn.kernel_tf_to_torch(params[w])))
            layer.bias.copy_(torch.as_tensor(params[b]))
        net[7].weight.copy_(torch.as_tensor(w3.T))  # nn.Linear stores (out, in)
        net[7].bias.copy_(torch.as_tensor(params["b3"]))
    return net


def test_one_dict_of_weights_loads_into_stock_keras_and_torch_layers():
    """The canonical layout is Keras' own; stock PyTorch layers need the two conversions,
    and forgetting the flatten order is caught."""
    cfg = np_cnn.CNNConfig()
    params = with_biases(cfg)
    x = images(cfg, 8)
    ref = np_cnn.forward(params, x, cfg)["logits"]
    keras = tf.keras.Sequential([
        tf.keras.Input((28, 28, 1)),
        tf.keras.layers.Conv2D(8, 3, activation="relu"), tf.keras.layers.MaxPool2D(),
        tf.keras.layers.Conv2D(16, 3, activation="relu"), tf.keras.layers.MaxPool2D(),
        tf.keras.layers.Flatten(), tf.keras.layers.Dense(10),
    ])
    keras.set_weights([params[n] for n in np_cnn.param_shapes(cfg)])
    assert_float32_close(keras(x).numpy(), ref, terms(cfg))
    xt = torch.as_tensor(np_cnn.nhwc_to_nchw(x))
    with torch.no_grad():
        assert_float32_close(plain_torch_model(params, cfg)(xt).numpy(), ref, terms(cfg))
        wrong = plain_torch_model(params, cfg, permute_dense=False)(xt).numpy()
    assert np.abs(wrong - ref).max() > 0.1


def test_a_transposed_kernel_changes_the_outputs():
    """The parity tests can fail: a kernel loaded with kh and kw swapped gives other logits."""
    cfg = np_cnn.CNNConfig()
    params = with_biases(cfg)
    x = images(cfg, 8)
    ref = np_cnn.forward(params, x, cfg)["logits"]
    swapped = dict(params, W2=np.ascontiguousarray(params["W2"].transpose(1, 0, 2, 3)))
    for mod in MODS:
        assert np.abs(mod.predict(mod.CNN(cfg, swapped), x) - ref).max() > 0.1


@pytest.mark.parametrize("mod", MODS, ids=IDS)
def test_one_epoch_on_mnist_lowers_the_loss(mod, mnist_few):
    x, y = mnist_few
    cfg = np_cnn.CNNConfig()
    model = mod.CNN(cfg, np_cnn.init_params(cfg, 0))
    before, _ = mod.evaluate(model, x, y)
    hist = mod.fit(model, x, y, epochs=1, batch_size=32, lr=1e-2, show_progress=False,
                   validation=(x[:64], y[:64]))
    after, acc = mod.evaluate(model, x, y)
    assert hist.epochs == 1 and len(hist.val_loss) == 1
    assert after < 0.5 * before
    assert acc > 0.5  # ten classes: chance is 0.1


@pytest.mark.parametrize("optimizer,lr", [("sgd", 0.05), ("adam", 1e-3)])
def test_torch_and_tf_training_runs_match(optimizer, lr, mnist_few):
    """Same weights, same batch order, same optimizer: the two loops stay together.

    With SGD the steps are the same up to float32 rounding. Adam's epsilon sits in a
    different place in Keras and PyTorch (see bigmodel.tf.fcnn.make_optimizer), which moves
    weights whose gradients are near zero; the losses still agree closely.
    """
    x, y = mnist_few[0][:256], mnist_few[1][:256]
    cfg = np_cnn.CNNConfig()
    params = np_cnn.init_params(cfg, 0)
    runs = []
    for mod in MODS:
        model = mod.CNN(cfg, params)
        hist = mod.fit(model, x, y, epochs=2, batch_size=32, lr=lr, optimizer=optimizer,
                       show_progress=False, seed=5)
        runs.append((hist.loss, model.to_numpy()))
    assert runs[0][0][1] < runs[0][0][0]  # it trained
    if optimizer == "sgd":  # 16 steps; a loss is a mean over a batch of 32
        assert_float32_close(runs[0][0], runs[1][0], terms(cfg) + 32, steps=16, err_msg="loss")
        for name in params:
            assert_float32_close(runs[0][1][name], runs[1][1][name], terms(cfg) + 32, steps=16, err_msg=name)
    else:  # not rounding: epsilon's place differs (measured: within 1e-5 of each other)
        np.testing.assert_allclose(runs[0][0], runs[1][0], rtol=1e-4)


@pytest.mark.parametrize("mod", MODS, ids=IDS)
def test_bad_inputs_give_clear_errors(mod):
    cfg = np_cnn.CNNConfig()
    model = mod.CNN(cfg, np_cnn.init_params(cfg, 0))
    x = np.zeros((4, 28, 28), np.float32)
    y = np.zeros(4, np.int64)
    with pytest.raises(ValueError, match=r"dtype uint8 \(values up to 255\).*/ 255"):
        mod.fit(model, np.full((4, 28, 28), 255, np.uint8), y, show_progress=False)
    with pytest.raises(ValueError, match=r"\(n, 28, 28\) or \(n, 28, 28, 1\).*reshape\(-1, 28, 28, 1\)"):
        mod.fit(model, x.reshape(4, 784), y, show_progress=False)
    with pytest.raises(ValueError, match="channels first.*nchw_to_nhwc"):
        mod.predict(model, x[:, None])
    with pytest.raises(ValueError, match=r"NaN or infinite.*\(1, 2, 3\)"):
        bad = x.copy()
        bad[1, 2, 3] = np.nan
        mod.evaluate(model, bad, y)
    with pytest.raises(ValueError, match=r"labels from 0 to 10.*\[0, 10\)"):
        mod.fit(model, x, np.array([0, 1, 2, 10]), show_progress=False)
    with pytest.raises(ValueError, match="empty"):
        mod.fit(model, x[:0], y[:0], show_progress=False)
    with pytest.raises(ValueError, match="unknown loss"):
        mod.fit(model, x, y, loss="hinge", show_progress=False)
    with pytest.raises(ValueError, match="lr"):
        mod.fit(model, x, y, lr=0, show_progress=False)
    torch_layout = dict(np_cnn.init_params(cfg, 0), W2=np.zeros((16, 8, 3, 3), np.float32))
    with pytest.raises(ValueError, match=r"'W2' has shape \(16, 8, 3, 3\).*kernel_torch_to_tf"):
        model.load_numpy(torch_layout)
    ints = torch.zeros((2, 28, 28), dtype=torch.uint8) if mod is torch_cnn else tf.zeros((2, 28, 28), "uint8")
    with pytest.raises(ValueError, match="dtype.*uint8"):
        model(ints)


def test_numpy_forward_checks_its_inputs_too():
    cfg = np_cnn.CNNConfig()
    params = np_cnn.init_params(cfg, 0)
    with pytest.raises(ValueError, match="255"):
        np_cnn.forward(params, np.full((2, 28, 28), 255, np.uint8), cfg)
    with pytest.raises(ValueError, match=r"'W3' has shape \(784, 10\), the config needs \(400, 10\)"):
        np_cnn.forward(np_cnn.init_params(np_cnn.CNNConfig(padding="same"), 0), np.zeros((2, 28, 28)), cfg)


def test_config_validation():
    with pytest.raises(ValueError, match="pool"):
        np_cnn.CNNConfig(pool="min")
    with pytest.raises(ValueError, match="padding"):
        np_cnn.CNNConfig(padding="full")
    with pytest.raises(ValueError, match="channels"):
        np_cnn.CNNConfig(channels=())
    with pytest.raises(ValueError, match="channels"):
        np_cnn.CNNConfig(channels=[8, 16])
    with pytest.raises(ValueError, match="too small for block 4"):
        np_cnn.CNNConfig(channels=(8, 16, 32, 64))  # 28 -26-13-11-5-3-1: no room for a 3x3 kernel


def test_default_init_is_the_same_after_seeding_either_framework():
    import bigmodel.tf as btf
    import bigmodel.torch as bt

    cfg = np_cnn.CNNConfig()
    bt.seed_everything(3)
    w_torch = torch_cnn.CNN(cfg).to_numpy()
    btf.seed_everything(3)
    w_tf = tf_cnn.CNN(cfg).to_numpy()
    for name in np_cnn.param_shapes(cfg):
        np.testing.assert_array_equal(w_torch[name], w_tf[name], err_msg=name)
