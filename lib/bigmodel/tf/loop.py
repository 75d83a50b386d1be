"""The TensorFlow training loop of the FCNN and the CNN: ``fit``, ``evaluate``, ``predict``.

One loop for both models: a model is any ``tf.Module`` with a ``config`` (which says what
its inputs are, see :mod:`bigmodel.training`) that maps a float32 batch to logits
``(n, n_out)`` and lists its variables in ``params``. The public functions check what they
are given once, with :func:`bigmodel.training.check_fit_args` and
:func:`bigmodel.training.check_dataset`, and the loop trusts the checked arrays. Mirrors
:mod:`bigmodel.torch.loop`.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import tensorflow as tf

from ..inputs import positive_int
from ..progress import progress
from ..training import (
    LOSSES,
    History,
    batch_indices,
    check_dataset,
    check_fit_args,
    check_loss,
    check_optimizer_settings,
)

__all__ = ["OPTIMIZERS", "evaluate", "fit", "loss_fn", "make_optimizer", "predict"]

#: The optimiser names :func:`make_optimizer` accepts.
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")


def loss_fn(output: tf.Tensor, y: tf.Tensor, loss: str) -> tf.Tensor:
    """Mean loss of ``output (n, k)`` against integer labels ``y (n,)``.

    See :func:`bigmodel.numpy.fcnn.loss_value` for the definitions.
    """
    if loss == "mse":
        return tf.reduce_mean(tf.square(output - tf.one_hot(y, output.shape[1], dtype=output.dtype)))
    if loss == "cross_entropy":
        return tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=output)
        )
    raise ValueError(f"unknown loss {loss!r}; choose one of {LOSSES}")


def make_optimizer(
    model: tf.Module, name: str, lr: float, *, momentum: float = 0.9, weight_decay: float = 0.01
) -> tf.keras.optimizers.Optimizer:
    """``"sgd"`` (plain), ``"momentum"`` (SGD with heavy-ball ``momentum``), ``"adam"``
    or ``"adamw"`` (Adam with decoupled ``weight_decay`` on every variable, Loshchilov
    and Hutter 2019).

    Keras' Adam uses epsilon 1e-7 where PyTorch uses 1e-8; we set 1e-8 so that the two
    loops take nearly the same steps. Not exactly the same: Keras adds epsilon to
    ``sqrt(v)`` before the bias correction and PyTorch after it, so Keras' effective
    epsilon is ``epsilon / sqrt(1 - beta2**t)`` (31.6 times larger at step 1, tending to
    epsilon as ``t`` grows); chapter 4 measures the effect. ``model`` is not used by
    Keras' optimisers (they take the variables at the first step); it is there so that
    the signature mirrors the PyTorch twin.
    """
    lr, momentum, weight_decay = check_optimizer_settings(lr, momentum, weight_decay)
    if name == "sgd":
        return tf.keras.optimizers.SGD(learning_rate=lr)
    if name == "momentum":
        return tf.keras.optimizers.SGD(learning_rate=lr, momentum=momentum)
    if name == "adam":
        return tf.keras.optimizers.Adam(learning_rate=lr, epsilon=1e-8)
    if name == "adamw":
        return tf.keras.optimizers.AdamW(learning_rate=lr, weight_decay=weight_decay, epsilon=1e-8)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {OPTIMIZERS}")


def evaluate(
    model: tf.Module, x: Any, y: Any, loss: str = "cross_entropy", batch_size: int = 4096
) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on inputs ``x`` (feature rows ``(n, n_in)`` for
    the FCNN, images ``(n, H, W[, C])`` for the CNN) and labels ``y (n,)``."""
    check_loss(loss)
    positive_int(batch_size, "batch_size")
    x, y = check_dataset(model.config, x, y)
    return _evaluate(model, x, y, loss, batch_size)


def _evaluate(
    model: tf.Module, x: np.ndarray, y: np.ndarray, loss: str, batch_size: int = 4096
) -> tuple[float, float]:
    total, correct = 0.0, 0
    for i in range(0, len(x), batch_size):
        xb = tf.constant(x[i : i + batch_size], tf.float32)
        yb = tf.constant(y[i : i + batch_size], tf.int64)
        out = model(xb)
        total += float(loss_fn(out, yb, loss)) * len(xb)
        correct += int(tf.reduce_sum(tf.cast(tf.argmax(out, 1) == yb, tf.int32)))
    return total / len(x), correct / len(x)


def predict(model: tf.Module, x: Any, batch_size: int = 4096) -> np.ndarray:
    """Network outputs ``(n, n_out)`` of inputs ``x`` as a NumPy array (``(0, n_out)`` for
    none)."""
    positive_int(batch_size, "batch_size")
    x = model.config.check_inputs(x)
    outs = [
        model(tf.constant(x[i : i + batch_size], tf.float32)).numpy()
        for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(outs) if outs else np.zeros((0, model.config.n_out), np.float32)


def fit(
    model: tf.Module,
    x: Any,
    y: Any,
    *,
    epochs: int = 1,
    batch_size: int = 128,
    lr: float = 1e-3,
    loss: str = "cross_entropy",
    optimizer: str = "adam",
    validation: tuple[Any, Any] | None = None,
    seed: int = 0,
    show_progress: bool = True,
    momentum: float = 0.9,
    weight_decay: float = 0.01,
    jit_compile: bool = False,
) -> History:
    """Train ``model`` in place with mini-batches; return the per-epoch :class:`~bigmodel.training.History`.

    Same arguments as :func:`bigmodel.torch.loop.fit`, plus ``jit_compile`` (XLA; worth it
    on a GPU, mostly compile time on a CPU).
    """
    x, y, validation = check_fit_args(model.config, x, y, validation, epochs=epochs,
                                      batch_size=batch_size, lr=lr, loss=loss, seed=seed)
    opt = make_optimizer(model, optimizer, lr, momentum=momentum, weight_decay=weight_decay)
    variables = model.params
    xt = tf.constant(x, tf.float32)
    yt = tf.constant(y, tf.int64)

    @tf.function(jit_compile=jit_compile, reduce_retracing=True)
    def step(idx: tf.Tensor) -> tf.Tensor:
        xb, yb = tf.gather(xt, idx), tf.gather(yt, idx)
        with tf.GradientTape() as tape:
            lossv = loss_fn(model(xb), yb, loss)
        grads = tape.gradient(lossv, variables)
        opt.apply_gradients(zip(grads, variables, strict=True))
        return lossv

    rng = np.random.default_rng(seed)
    hist = History()
    for epoch in range(epochs):
        t0 = time.perf_counter()
        total = tf.zeros((), tf.float32)
        batches = batch_indices(len(x), batch_size, rng)
        for idx in progress(batches, show_progress, desc=f"epoch {epoch + 1}/{epochs}"):
            total += step(tf.constant(idx, tf.int64)) * len(idx)
        hist.loss.append(float(total) / len(x))
        hist.seconds.append(time.perf_counter() - t0)
        if validation is not None:
            vl, va = _evaluate(model, *validation, loss=loss)
            hist.val_loss.append(vl)
            hist.val_accuracy.append(va)
    return hist
