"""The TensorFlow training loop shared by every model of this package (FCNN, CNN).

The model modules check their inputs (:mod:`bigmodel.inputs`, :mod:`bigmodel.conv`) and
then call these functions on the checked NumPy arrays; a model is any ``tf.Module`` that
maps a float32 batch to logits ``(n, n_out)`` and lists its variables in ``params``.
Mirrors :mod:`bigmodel.torch.loop`.
"""

from __future__ import annotations

import time

import numpy as np
import tensorflow as tf

from ..fcnn import LOSSES
from ..progress import progress
from ..training import History, batch_indices

__all__ = ["evaluate_arrays", "loss_fn", "make_optimizer", "predict_arrays", "train_arrays"]


def loss_fn(output: tf.Tensor, y: tf.Tensor, loss: str) -> tf.Tensor:
    """Mean loss of ``output (n, k)`` against integer labels ``y (n,)``.

    See :func:`bigmodel.fcnn.loss_value` for the definitions.
    """
    if loss == "mse":
        return tf.reduce_mean(tf.square(output - tf.one_hot(y, output.shape[1], dtype=output.dtype)))
    if loss == "cross_entropy":
        return tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=output)
        )
    raise ValueError(f"unknown loss {loss!r}; choose one of {LOSSES}")


def make_optimizer(model: tf.Module, name: str, lr: float) -> tf.keras.optimizers.Optimizer:
    """``"sgd"`` (plain, no momentum) or ``"adam"`` (Keras defaults but ``lr``).

    Keras' Adam uses epsilon 1e-7 where PyTorch uses 1e-8; we set 1e-8 so that the two
    loops take nearly the same steps. Not exactly the same: Keras adds epsilon to
    ``sqrt(v)`` before the bias correction and PyTorch after it, so Keras' effective
    epsilon is ``epsilon / sqrt(1 - beta2**t)`` (31.6 times larger at step 1, tending to
    epsilon as ``t`` grows); chapter 4 measures the effect.
    """
    if name == "sgd":
        return tf.keras.optimizers.SGD(learning_rate=lr)
    if name == "adam":
        return tf.keras.optimizers.Adam(learning_rate=lr, epsilon=1e-8)
    raise ValueError(f"unknown optimizer {name!r}; choose sgd or adam")


def evaluate_arrays(
    model: tf.Module, x: np.ndarray, y: np.ndarray, loss: str = "cross_entropy", batch_size: int = 4096
) -> tuple[float, float]:
    """Mean loss and accuracy on checked arrays: ``x`` (n >= 1 samples), int labels ``y (n,)``."""
    total, correct = 0.0, 0
    for i in range(0, len(x), batch_size):
        xb = tf.constant(x[i : i + batch_size], tf.float32)
        yb = tf.constant(y[i : i + batch_size], tf.int64)
        out = model(xb)
        total += float(loss_fn(out, yb, loss)) * len(xb)
        correct += int(tf.reduce_sum(tf.cast(tf.argmax(out, 1) == yb, tf.int32)))
    return total / len(x), correct / len(x)


def predict_arrays(model: tf.Module, x: np.ndarray, n_out: int, batch_size: int = 4096) -> np.ndarray:
    """Logits ``(n, n_out)`` of checked inputs ``x`` as a NumPy array (``(0, n_out)`` for none)."""
    outs = [
        model(tf.constant(x[i : i + batch_size], tf.float32)).numpy()
        for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(outs) if outs else np.zeros((0, n_out), np.float32)


def train_arrays(
    model: tf.Module,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    loss: str,
    optimizer: str,
    validation: tuple[np.ndarray, np.ndarray] | None,
    seed: int,
    show_progress: bool,
    jit_compile: bool = False,
) -> History:
    """The mini-batch loop of every ``fit`` in this package, on checked arrays.

    ``seed`` seeds the shuffling, which :func:`bigmodel.training.batch_indices` shares with
    the PyTorch loop; ``jit_compile`` compiles the step with XLA.
    """
    opt = make_optimizer(model, optimizer, lr)
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
            vl, va = evaluate_arrays(model, *validation, loss=loss)
            hist.val_loss.append(vl)
            hist.val_accuracy.append(va)
    return hist
