"""Training tricks, measured on the book's models; mirrors :mod:`bigmodel.torch.efficient`.

- Gradient accumulation: the gradients of ``k`` micro-batches, each loss divided by
  ``k``, add up to the gradient of the whole batch (:func:`loss_and_grads`).
- Mixed precision on a CPU: the GPT computes in bfloat16 (``compute_dtype``) with float32
  variables, LayerNorm, softmax and loss, as :class:`bigmodel.tf.gpt.GPT` documents.
- Activation checkpointing: each GPT block under ``tf.recompute_grad`` keeps only its
  input for the backward pass and recomputes the rest.
- :func:`peak_memory` measures one training step's peak memory in a fresh process
  (``python -m bigmodel.tf.efficient``): the peak resident set size
  (:func:`bigmodel.distributed.peak_rss_mb`) minus the resident size just before the step.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from .. import distributed as core
from ..gpt import GPTConfig, init_params
from ..hardware import check_precision
from ..inputs import positive_int, positive_number
from .fcnn import FCNN
from .gpt import GPT
from .loop import loss_fn

__all__ = ["loss_and_grads", "main", "peak_memory", "time_step", "train_gpt"]


def _variables(model) -> dict[str, tf.Variable]:
    if isinstance(model, FCNN):
        return {n: getattr(model, n) for n in ("W1", "b1", "W2", "b2")}
    return dict(model.variables_by_name)


def _loss(model, x, y, checkpoint: bool):
    if isinstance(model, FCNN):
        if checkpoint:
            raise ValueError("checkpoint=True applies to the GPT's blocks; the FCNN has none")
        return loss_fn(model(x), y, "cross_entropy")
    return model(x, y, checkpoint=checkpoint)[1]  # the model's own forward pass


def loss_and_grads(model, x: np.ndarray, y: np.ndarray, micro_batches: int = 1,
                   precision: str = "float32", checkpoint: bool = False
                   ) -> tuple[float, dict[str, np.ndarray]]:
    """Mean loss over the batch and its gradients, from ``micro_batches`` equal parts.

    Args:
        model: a :class:`bigmodel.tf.fcnn.FCNN` (``x (n, 784)`` floats) or a
            :class:`bigmodel.tf.gpt.GPT` (``x, y (B, T)`` token ids).
        micro_batches: accumulate this many parts; each part's loss is divided by it, so
            the sum of the parts' gradients is the whole batch's gradient.
        precision: ``"float32"`` or ``"bfloat16"``/``"float16"`` compute (GPT only).
        checkpoint: recompute each GPT block in the backward pass (``tf.recompute_grad``).

    Returns:
        ``(loss in nats, {name: gradient})``, float32 NumPy arrays named as the model's
        parameters.
    """
    micro_batches = core.check_micro_batches(micro_batches, len(x))
    check_precision(precision)
    if precision != "float32" and isinstance(model, FCNN):
        raise ValueError(f"precision={precision!r} is for the GPT here; use float32 for the FCNN")
    named = _variables(model)
    variables = list(named.values())
    saved = getattr(model, "compute_dtype", None)
    if saved is not None:
        model.compute_dtype = tf.as_dtype(precision)
    try:
        grads = [tf.zeros_like(v) for v in variables]
        total = 0.0
        for xm, ym in zip(np.split(np.asarray(x), micro_batches),
                          np.split(np.asarray(y), micro_batches), strict=True):
            with tf.GradientTape() as tape:
                loss = _loss(model, tf.constant(xm), tf.constant(ym), checkpoint) / micro_batches
            step = tape.gradient(loss, variables)
            grads = [g + tf.convert_to_tensor(s) for g, s in zip(grads, step, strict=True)]
            total += float(loss)
    finally:
        if saved is not None:
            model.compute_dtype = saved
    return total, {n: g.numpy().astype(np.float32) for n, g in zip(named, grads, strict=True)}


def time_step(model, x: np.ndarray, y: np.ndarray, precision: str = "float32",
              checkpoint: bool = False, repeats: int = 5) -> float:
    """Median seconds of one forward and backward pass (after one warm-up pass)."""
    return core.median_seconds(lambda: loss_and_grads(model, x, y, 1, precision, checkpoint),
                               repeats)


def train_gpt(model: GPT, tokens: np.ndarray, steps: int, batch: int, lr: float = 3e-3,
              precision: str = "float32", seed: int = 0) -> list[float]:
    """Train ``model`` in place with Adam for ``steps`` steps; return each step's loss (nats).

    Batches are ``batch`` windows of ``tokens`` (1-D ids) drawn by
    :func:`bigmodel.distributed.batch_rows` from ``seed``: two runs with the same seed see
    the same batches, whatever their precision.
    """
    check_precision(precision)
    positive_int(steps, "steps")
    positive_number(lr, "lr")
    T = model.config.block_size
    tokens = np.asarray(tokens, np.int64)
    variables = list(model.variables_by_name.values())
    opt = tf.keras.optimizers.Adam(learning_rate=lr, epsilon=1e-8)
    saved, model.compute_dtype = model.compute_dtype, tf.as_dtype(precision)

    @tf.function(reduce_retracing=True)
    def step_fn(x, y):
        with tf.GradientTape() as tape:
            loss = _loss(model, x, y, checkpoint=False)
        grads = tape.gradient(loss, variables)
        opt.apply_gradients(zip(grads, variables, strict=True))
        return loss

    losses = []
    try:
        for step in range(steps):
            rows = core.batch_rows(len(tokens) - T, batch, step, seed)
            idx = rows[:, None] + np.arange(T)[None, :]  # (batch, T)
            losses.append(float(step_fn(tf.constant(tokens[idx]), tf.constant(tokens[idx + 1]))))
    finally:
        model.compute_dtype = saved
    return losses


def peak_memory(config: GPTConfig, batch: int, checkpoint: bool, seed: int = 0) -> dict:
    """One training step's memory and time for a GPT of ``config`` on ``batch`` sequences.

    Meant for a fresh process: it first makes freed blocks leave the resident set
    (:func:`bigmodel.distributed.return_freed_memory`), then measures one step with one
    thread as :func:`bigmodel.distributed.step_peak_memory` describes.

    Returns:
        ``{"peak_mb", "rss_before_mb", "seconds", "loss"}``.
    """
    tf.config.threading.set_intra_op_parallelism_threads(1)
    core.return_freed_memory()
    model = GPT(config, params=init_params(config, rng=seed))

    def step(x: np.ndarray, y: np.ndarray) -> float:
        return loss_and_grads(model, x, y, checkpoint=checkpoint)[0]

    return core.step_peak_memory(step, config, batch, seed)


def main(argv: list[str] | None = None) -> None:
    """``python -m bigmodel.tf.efficient --config '{...}' --batch 4 [--checkpoint]``:
    see :func:`bigmodel.distributed.peak_memory_main`."""
    core.peak_memory_main("bigmodel.tf.efficient", peak_memory, argv)


if __name__ == "__main__":
    main()
