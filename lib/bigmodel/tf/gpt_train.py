"""Training of :class:`bigmodel.tf.gpt.GPT`; mirrors :mod:`bigmodel.torch.gpt_train`.

Keras' AdamW (decoupled weight decay on matrices and embeddings only, epsilon 1e-8 as
PyTorch), the schedule of :func:`bigmodel.gpt_train.lr_at` set before every step, clipping by
global norm; the loop is :func:`bigmodel.gpt_train.train_loop`, shared with PyTorch, with
the same fixed evaluation batches and batch order. The precision follows the same policy
and words (:func:`bigmodel.tf.precision`); float16 wraps the optimizer in a
``LossScaleOptimizer``. ``compile`` compiles the step with XLA.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from ..gpt_train import TrainConfig, TrainHistory, train_loop
from ..hardware import check_precision
from .device import pick_device
from .device import precision as device_precision
from .gpt import GPT

__all__ = ["configure_optimizer", "estimate_loss", "train"]


def configure_optimizer(
    model: GPT, cfg: TrainConfig, precision: str = "float32"
) -> tf.keras.optimizers.Optimizer:
    """AdamW with weight decay on variables of 2 or more dimensions only (as nanoGPT);
    wrapped in a ``LossScaleOptimizer`` when ``precision`` is ``"float16"``."""
    check_precision(precision)
    opt = tf.keras.optimizers.AdamW(
        learning_rate=cfg.lr,
        weight_decay=cfg.weight_decay,
        beta_1=cfg.betas[0],
        beta_2=cfg.betas[1],
        epsilon=1e-8,
        global_clipnorm=cfg.grad_clip if cfg.grad_clip > 0 else None,
    )
    opt.exclude_from_weight_decay(var_list=[v for v in model.params if len(v.shape) < 2])
    if precision == "float16":
        opt = tf.keras.optimizers.LossScaleOptimizer(opt)
    return opt


@contextlib.contextmanager
def _computing_in(model: GPT, precision: str):
    """The model computes in ``precision`` inside the block, in its own dtype after."""
    own = model.compute_dtype
    model.compute_dtype = tf.as_dtype(check_precision(precision))
    try:
        yield
    finally:
        model.compute_dtype = own


def estimate_loss(
    model: GPT, batches: list[tuple[np.ndarray, np.ndarray]], precision: str = "float32"
) -> float:
    """Mean cross-entropy (nats/token) of ``model`` over ``(x, y)`` batches of ``(B, T)`` ids,
    computed in ``precision``, without dropout."""
    total = 0.0
    with _computing_in(model, precision):
        for x, y in batches:
            total += float(_eval_step(model, tf.constant(x), tf.constant(y)))
    return total / len(batches)


def _eval_step(model: GPT, x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
    # one traced function per compute dtype: the dtype is fixed when a function is traced
    fns = model.__dict__.setdefault("_bigmodel_eval_fns", {})
    fn = fns.get(model.compute_dtype)
    if fn is None:
        fn = tf.function(lambda a, b: model(a, b)[1], reduce_retracing=True)
        fns[model.compute_dtype] = fn
    return fn(x, y)


def train(
    model: GPT,
    train_tokens: np.ndarray,
    val_tokens: np.ndarray,
    cfg: TrainConfig,
    *,
    precision: str | None = None,
    compile: bool = False,
    show_progress: bool = True,
    target_val_loss: float | None = None,
    on_eval: Callable[[int, float], bool | None] | None = None,
) -> TrainHistory:
    """Train ``model`` in place on random windows of ``train_tokens``; return the history.

    Same arguments as :func:`bigmodel.torch.gpt_train.train`:

    Args:
        precision: ``"float32"``, ``"bfloat16"`` or ``"float16"`` (float16 with loss
            scaling); ``None`` = the device's (:func:`bigmodel.tf.precision` of
            :func:`bigmodel.tf.pick_device`). The model computes in it while it trains and
            returns to its own ``compute_dtype`` afterwards.
        compile: compile the training step with XLA (its compile time lands in
            ``first_step_seconds``).
    """
    name = check_precision(precision) if precision is not None else device_precision(pick_device())
    opt = configure_optimizer(model, cfg, name)
    variables = model.trainable_params  # all weights, or the LoRA adapters alone
    scaled = isinstance(opt, tf.keras.optimizers.LossScaleOptimizer)

    @tf.function(jit_compile=compile)
    def _step(x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            _, loss = model(x, y, training=True)
            scaled_loss = opt.scale_loss(loss) if scaled else loss
        grads = tape.gradient(scaled_loss, variables)
        opt.apply_gradients(zip(grads, variables, strict=True))
        return loss

    def step(xb: np.ndarray, yb: np.ndarray, lr: float) -> tf.Tensor:
        opt.learning_rate = lr
        return _step(tf.constant(xb), tf.constant(yb))

    with _computing_in(model, name):
        return train_loop(
            step, lambda batches: estimate_loss(model, batches, name), lambda loss: float(loss),
            train_tokens, val_tokens, cfg, model.config.block_size, model.config.vocab_size,
            show_progress, target_val_loss, on_eval, model.mask_rate,
        )
