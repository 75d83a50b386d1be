"""The four optimisers of the FAQ chapter (``loop.make_optimizer``, through ``loop.fit``): the
same updates in PyTorch and TensorFlow."""

from __future__ import annotations

import numpy as np
import pytest

from bigmodel.numpy import fcnn

CFG = fcnn.FCNNConfig(n_in=12, n_hidden=16, n_out=3)
RNG = np.random.default_rng(0)
X = RNG.normal(size=(96, 12)).astype(np.float32)
Y = RNG.integers(0, 3, 96)


@pytest.mark.parametrize("name", ["sgd", "momentum", "adam", "adamw"])
def test_both_frameworks_take_the_same_steps(name):
    from bigmodel.tf import fcnn as tf_fcnn
    from bigmodel.tf import loop as tf_loop
    from bigmodel.torch import fcnn as torch_fcnn
    from bigmodel.torch import loop as torch_loop

    params = fcnn.init_params(CFG, rng=1)
    models = {"torch": torch_fcnn.FCNN(CFG, params), "tf": tf_fcnn.FCNN(CFG, params)}
    hist = {}
    for fw, mod in (("torch", torch_loop), ("tf", tf_loop)):
        hist[fw] = mod.fit(models[fw], X, Y, optimizer=name, lr=0.05, epochs=3, batch_size=32,
                           seed=4, show_progress=False)
    np.testing.assert_allclose(hist["torch"].loss, hist["tf"].loss, rtol=1e-4)
    after = {fw: m.to_numpy() for fw, m in models.items()}
    # Keras adds Adam's epsilon at another place than PyTorch (chapter 4, exercise 4): where a
    # gradient is tiny the steps differ, so the Adams agree less closely than the SGDs
    atol = 2e-3 if name.startswith("adam") else 1e-5
    for key in fcnn.PARAM_NAMES:
        np.testing.assert_allclose(after["torch"][key], after["tf"][key], atol=atol)
    assert hist["torch"].loss[-1] < hist["torch"].loss[0]  # it learns
    assert any(not np.allclose(after["torch"][k], params[k]) for k in fcnn.PARAM_NAMES)


def test_optimisers_differ_from_each_other():
    from bigmodel.torch import fcnn as torch_fcnn
    from bigmodel.torch import loop as torch_loop

    losses = {}
    for name in ("sgd", "momentum", "adam"):
        model = torch_fcnn.FCNN(CFG, fcnn.init_params(CFG, rng=1))
        losses[name] = torch_loop.fit(model, X, Y, optimizer=name, lr=0.05, epochs=2,
                                      batch_size=32, seed=4, show_progress=False).loss[-1]
    assert len({round(v, 6) for v in losses.values()}) == 3, losses


@pytest.mark.parametrize("framework", ["torch", "tf"])
def test_bad_names_and_settings_are_named(framework):
    import importlib

    mod = importlib.import_module(f"bigmodel.{framework}.loop")
    fc = importlib.import_module(f"bigmodel.{framework}.fcnn")
    model = fc.FCNN(CFG, fcnn.init_params(CFG, rng=1))
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop'"):
        mod.make_optimizer(model, "rmsprop", 0.1)
    with pytest.raises(ValueError, match=r"momentum must be a finite number > 0 and < 1"):
        mod.make_optimizer(model, "momentum", 0.1, momentum=1.5)
