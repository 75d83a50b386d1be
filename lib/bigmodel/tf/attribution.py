"""Saliency and integrated gradients with TensorFlow's ``GradientTape``; mirrors
:mod:`bigmodel.torch.attribution`, and :mod:`bigmodel.attribution` is the NumPy reference.

``model`` is any callable that maps float32 inputs ``(n, d)`` to logits ``(n, k)``, such
as :class:`bigmodel.tf.fcnn.FCNN`. Results are float32 NumPy arrays ``(n, d)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from ..attribution import check_baseline, check_target, midpoints
from ..training import check_x

__all__ = ["integrated_gradients", "logit_gradient", "saliency"]


def _grad(model: Any, x: np.ndarray, target: Any) -> np.ndarray:
    """``∂ logit[t] / ∂x`` for checked float inputs ``x (n, d)``."""
    xt = tf.constant(np.asarray(x, np.float32))
    with tf.GradientTape() as tape:
        tape.watch(xt)
        logits = model(xt)  # (n, k)
        t = check_target(target, len(x), int(logits.shape[1]))
        picked = tf.gather(logits, t[:, None], batch_dims=1)
        # rows are independent, so the gradient of the sum is each row's own gradient
        total = tf.reduce_sum(picked)
    return tape.gradient(total, xt).numpy()


def logit_gradient(model: Any, x: Any, target: Any) -> np.ndarray:
    """``∂ logit[t] / ∂x``: ``(n, d)``. ``target``: one class or ``(n,)`` classes."""
    x = _features(x)
    return _grad(model, x, target)


def saliency(model: Any, x: Any, target: Any) -> np.ndarray:
    """Gradient × input, ``x ⊙ ∂ logit[t] / ∂x``: ``(n, d)``."""
    x = _features(x).astype(np.float32)
    return x * _grad(model, x, target)


def integrated_gradients(
    model: Any, x: Any, target: Any, baseline: Any = None, steps: int = 32
) -> np.ndarray:
    """Integrated gradients of ``logit[t]`` from ``baseline`` (``None``: black) to ``x``,
    by the midpoint rule with ``steps`` points; ``(n, d)``. All points go through the
    model in one batch of ``steps * n`` rows."""
    x = _features(x).astype(np.float32)
    base = check_baseline(baseline, x)
    alphas = midpoints(steps).astype(np.float32)
    path = base[None] + alphas[:, None, None] * (x - base)[None]  # (steps, n, d)
    t = np.tile(_targets(target, len(x)), len(alphas))
    grads = _grad(model, path.reshape(-1, x.shape[1]), t).reshape(path.shape)
    return (x - base) * grads.mean(0)



def _features(x: Any) -> np.ndarray:
    """``x`` as a checked floating ``(n, d)`` array (:mod:`bigmodel.inputs`)."""
    shape = np.shape(x)
    if len(shape) != 2:
        raise ValueError(
            f"x has shape {shape}; expected (n, d) rows of features: flatten images first, "
            "e.g. x.reshape(len(x), -1)"
        )
    return check_x(x, int(shape[1]), allow_empty=True)


def _targets(target: Any, n: int) -> np.ndarray:
    """One class repeated ``n`` times, or ``n`` classes (checked later against the logits)."""
    t = np.asarray(target)
    if t.ndim == 0:
        return np.full(n, t)
    if t.shape != (n,):
        raise ValueError(f"target has shape {t.shape}; expected one class or ({n},), one per row")
    return t
