"""Training loop for :class:`bigmodel.tf.gpt.GPT`; mirrors :mod:`bigmodel.torch.gpt_train`.

Keras' AdamW (decoupled weight decay on matrices and embeddings only, epsilon 1e-8 as
PyTorch), the schedule of :func:`bigmodel.gpt.lr_at` set before every step, clipping by
global norm, and the same fixed evaluation batches and batch order as the PyTorch loop.
The precision follows the same policy and words (:func:`bigmodel.tf.precision`); float16
wraps the optimizer in a ``LossScaleOptimizer``. ``compile`` compiles the step with XLA.
"""

from __future__ import annotations

import time

import numpy as np
import tensorflow as tf

from ..budget import check_precision
from ..gpt import TrainConfig, TrainHistory, check_tokens, eval_batches, get_batch
from ..progress import progress
from .device import pick_device
from .device import precision as device_precision
from .gpt import GPT

__all__ = ["configure_optimizer", "estimate_loss", "train"]


def configure_optimizer(model: GPT, cfg: TrainConfig) -> tf.keras.optimizers.Optimizer:
    """AdamW with weight decay on variables of 2 or more dimensions only (as nanoGPT)."""
    opt = tf.keras.optimizers.AdamW(
        learning_rate=cfg.lr,
        weight_decay=cfg.weight_decay,
        beta_1=cfg.betas[0],
        beta_2=cfg.betas[1],
        epsilon=1e-8,
        global_clipnorm=cfg.grad_clip if cfg.grad_clip > 0 else None,
    )
    opt.exclude_from_weight_decay(var_list=[v for v in model.params if len(v.shape) < 2])
    if model.compute_dtype == tf.float16:
        opt = tf.keras.optimizers.LossScaleOptimizer(opt)
    return opt


def estimate_loss(model: GPT, batches: list[tuple[np.ndarray, np.ndarray]]) -> float:
    """Mean cross-entropy (nats/token) of ``model`` over ``(x, y)`` batches of ``(B, T)`` ids."""
    total = 0.0
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
    own_dtype = model.compute_dtype
    model.compute_dtype = tf.as_dtype(name)
    try:
        return _train(model, train_tokens, val_tokens, cfg, compile, show_progress,
                      target_val_loss)
    finally:
        model.compute_dtype = own_dtype


def _train(
    model: GPT,
    train_tokens: np.ndarray,
    val_tokens: np.ndarray,
    cfg: TrainConfig,
    compile: bool,
    show_progress: bool,
    target_val_loss: float | None,
) -> TrainHistory:
    T = model.config.block_size
    opt = configure_optimizer(model, cfg)
    variables = model.params
    scaled = isinstance(opt, tf.keras.optimizers.LossScaleOptimizer)

    @tf.function(jit_compile=compile)
    def step(x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
        with tf.GradientTape() as tape:
            _, loss = model(x, y, training=True)
            scaled_loss = opt.scale_loss(loss) if scaled else loss
        grads = tape.gradient(scaled_loss, variables)
        opt.apply_gradients(zip(grads, variables, strict=True))
        return loss

    rng = np.random.default_rng(cfg.seed)
    V = model.config.vocab_size
    train_tokens = check_tokens(train_tokens, T, V, "train")
    val_tokens = check_tokens(val_tokens, T, V, "val")
    evals = eval_batches(train_tokens, val_tokens, cfg.batch_size, T, cfg.eval_iters, cfg.seed)
    hist = TrainHistory()
    train_seconds = 0.0
    for i in progress(range(cfg.max_steps), show_progress, desc="training"):
        t0 = time.perf_counter()
        opt.learning_rate = cfg.lr_at(i)
        xb, yb = get_batch(train_tokens, cfg.batch_size, T, rng)
        loss = step(tf.constant(xb), tf.constant(yb))
        hist.tokens += cfg.batch_size * T
        last = i + 1 == cfg.max_steps
        if i == 0 or (i + 1) % cfg.eval_interval == 0 or last:
            float(loss)  # wait for the device
        train_seconds += time.perf_counter() - t0
        if i == 0:
            hist.first_step_seconds = train_seconds
        if (i + 1) % cfg.eval_interval == 0 or last:
            hist.step.append(i + 1)
            hist.seconds.append(train_seconds)
            hist.loss.append(estimate_loss(model, evals["train"]))
            hist.val_loss.append(estimate_loss(model, evals["val"]))
            if target_val_loss is not None and hist.val_loss[-1] <= target_val_loss:
                break
    return hist
