"""Four optimisers under one name each, and a training loop that takes them; mirrors
:mod:`bigmodel.torch.optimizers`.

:func:`bigmodel.tf.loop.make_optimizer` knows plain SGD and Adam only; the FAQ
chapter compares SGD, SGD with momentum, Adam and AdamW at the same budget, so this
module adds the two others without changing the shared loop. :func:`fit` is
:func:`bigmodel.tf.loop.train_arrays` with this factory: the same batches from the
same ``seed``, the same loss.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import tensorflow as tf

from ..inputs import positive_number
from ..training import History, batch_indices, check_fit_settings, check_xy
from .loop import loss_fn

__all__ = ["OPTIMIZERS", "fit", "make_optimizer"]

#: The optimiser names :func:`make_optimizer` accepts.
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")


def make_optimizer(
    model: Any, name: str, lr: float, *, momentum: float = 0.9, weight_decay: float = 0.01
) -> tf.keras.optimizers.Optimizer:
    """``"sgd"`` (plain), ``"momentum"`` (SGD with heavy-ball ``momentum``), ``"adam"``
    or ``"adamw"`` (Adam with decoupled ``weight_decay`` on every variable, Loshchilov
    and Hutter 2019); epsilon 1e-8 for both Adams, as PyTorch (see
    :func:`bigmodel.tf.loop.make_optimizer` for where Keras still differs).

    ``model`` is not used by Keras' optimisers (they take the variables at the first
    step); it is there so that the signature mirrors the PyTorch twin.
    """
    lr = positive_number(lr, "lr (the learning rate)")
    if name == "sgd":
        return tf.keras.optimizers.SGD(learning_rate=lr)
    if name == "momentum":
        if not 0.0 < momentum < 1.0:
            raise ValueError(f"momentum must lie in (0, 1), got {momentum!r}")
        return tf.keras.optimizers.SGD(learning_rate=lr, momentum=momentum)
    if name == "adam":
        return tf.keras.optimizers.Adam(learning_rate=lr, epsilon=1e-8)
    if name == "adamw":
        if not weight_decay >= 0.0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
        return tf.keras.optimizers.AdamW(learning_rate=lr, weight_decay=weight_decay, epsilon=1e-8)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {OPTIMIZERS}")


def fit(
    model: Any,
    x: Any,
    y: Any,
    *,
    optimizer: str,
    lr: float,
    epochs: int = 1,
    batch_size: int = 128,
    seed: int = 0,
    momentum: float = 0.9,
    weight_decay: float = 0.01,
) -> History:
    """Train ``model`` (an FCNN, or any module with ``config.n_in``/``n_out`` and
    ``params`` that maps ``(n, n_in)`` to logits) in place with cross-entropy; return the
    per-epoch history.

    Args:
        x: ``(n, n_in)`` float inputs; y: ``(n,)`` integer labels.
        optimizer: one of :data:`OPTIMIZERS`; momentum, weight_decay: its settings.
        seed: the batch order (:func:`bigmodel.training.batch_indices`, shared with the
            PyTorch twin).
    """
    check_fit_settings(epochs, batch_size, lr)
    x, y = check_xy(x, y, model.config.n_in, model.config.n_out)
    opt = make_optimizer(model, optimizer, lr, momentum=momentum, weight_decay=weight_decay)
    variables = model.params
    xt = tf.constant(np.asarray(x, np.float32))
    yt = tf.constant(y, tf.int64)

    @tf.function(reduce_retracing=True)
    def step(idx: tf.Tensor) -> tf.Tensor:
        xb, yb = tf.gather(xt, idx), tf.gather(yt, idx)
        with tf.GradientTape() as tape:
            lossv = loss_fn(model(xb), yb, "cross_entropy")
        grads = tape.gradient(lossv, variables)
        opt.apply_gradients(zip(grads, variables, strict=True))
        return lossv

    rng = np.random.default_rng(seed)
    hist = History()
    for _ in range(epochs):
        t0 = time.perf_counter()
        total = tf.zeros((), tf.float32)
        for idx in batch_indices(len(x), batch_size, rng):
            total += step(tf.constant(idx, tf.int64)) * len(idx)
        hist.loss.append(float(total) / len(x))
        hist.seconds.append(time.perf_counter() - t0)
    return hist
