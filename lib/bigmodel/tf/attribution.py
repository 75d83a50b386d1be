"""Saliency and integrated gradients with TensorFlow's ``GradientTape``; mirrors
:mod:`bigmodel.torch.attribution`, and :mod:`bigmodel.numpy.attribution` is the NumPy reference.

``model`` is any callable that maps float32 inputs ``(n, d)`` to logits ``(n, k)``, such
as :class:`bigmodel.tf.fcnn.FCNN`. Results are float32 NumPy arrays ``(n, d)``.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import tensorflow as tf

from ..numpy.attribution import check_features, check_target, integrated_gradients_of, saliency_of

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
    return _grad(model, check_features(x), target)


def saliency(model: Any, x: Any, target: Any) -> np.ndarray:
    """Gradient × input, ``x ⊙ ∂ logit[t] / ∂x``: ``(n, d)``
    (:func:`bigmodel.numpy.attribution.saliency_of`)."""
    return saliency_of(functools.partial(_grad, model), x, target)


def integrated_gradients(
    model: Any, x: Any, target: Any, baseline: Any = None, steps: int = 32
) -> np.ndarray:
    """Integrated gradients of ``logit[t]`` from ``baseline`` (``None``: black) to ``x``,
    by the midpoint rule with ``steps`` points; ``(n, d)``. All points go through the
    model in one batch of ``steps * n`` rows (:func:`bigmodel.numpy.attribution.integrated_gradients_of`)."""
    return integrated_gradients_of(functools.partial(_grad, model), x, target, baseline, steps)
