"""Attributions of the fully connected network, as a NumPy reference.

For an input ``x (n, d)`` and a target class ``t`` per row, the attributions explain the
target's logit ``F(x) = Z2[t]`` (before the softmax) pixel by pixel:

- the gradient ``∂F/∂x (n, d)`` (:func:`logit_gradient`), written out by the chain rule
  for ``Z2 = σ(X W1 + b1) W2 + b2``;
- **saliency** as gradient × input (:func:`saliency`): ``x ⊙ ∂F/∂x``;
- **integrated gradients** (Sundararajan et al., 2017; :func:`integrated_gradients`):
  ``(x - x') ⊙ ∫₀¹ ∂F/∂x (x' + α(x - x')) dα`` from a baseline ``x'`` (black by default),
  the integral taken by the midpoint rule. The attributions add up to ``F(x) - F(x')``
  (completeness), up to the error of the rule.

:mod:`bigmodel.torch.attribution` and :mod:`bigmodel.tf.attribution` compute the same
with autograd and ``GradientTape``; the book checks the three against each other. Both
supply only their gradient to :func:`saliency_of` and :func:`integrated_gradients_of`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..inputs import features, integer, labels, positive_int
from .fcnn import FCNNConfig, activate_grad, check_params, forward

__all__ = ["check_baseline", "check_features", "check_target", "integrated_gradients",
           "integrated_gradients_of", "logit_gradient", "midpoints", "repeat_target",
           "saliency", "saliency_of"]


def check_target(target: Any, n: int, n_out: int) -> np.ndarray:
    """``target`` as ``n`` int64 classes in ``[0, n_out)``; one int is repeated ``n`` times."""
    n, n_out = integer(n, "n", low=0), positive_int(n_out, "n_out")
    if isinstance(target, bool):
        raise TypeError("target must be a class index or one per row, got a bool")
    if np.ndim(target) == 0:
        target = np.full(n, target)
    return labels(target, n, n_out, name="target")


def check_baseline(baseline: Any, x: np.ndarray) -> np.ndarray:
    """The baseline ``x'`` as an array of ``x``'s shape: ``None`` is all zeros (black); a
    single row ``(d,)`` is used for every row of ``x``."""
    if baseline is None:
        return np.zeros_like(x)
    b = np.asarray(baseline, dtype=x.dtype)
    if b.shape == x.shape[1:]:
        b = np.broadcast_to(b, x.shape)
    if b.shape != x.shape:
        raise ValueError(
            f"baseline has shape {np.shape(baseline)}; expected {x.shape} or {x.shape[1:]} "
            "(one baseline for every row), or None for a black image"
        )
    if not np.isfinite(b).all():
        raise ValueError("baseline holds NaN or infinite values")
    return b


def midpoints(steps: Any) -> np.ndarray:
    """The ``steps`` points ``α = (i + 1/2) / steps`` of the midpoint rule on [0, 1]."""
    steps = positive_int(steps, "steps")
    return (np.arange(steps) + 0.5) / steps


def logit_gradient(
    params: dict[str, np.ndarray], config: FCNNConfig, x: Any, target: Any
) -> np.ndarray:
    """``∂Z2[t]/∂x`` for every row: ``(n, d)``, in ``x``'s dtype.

    ``Z2[t] = σ(x W1 + b1) · W2[:, t] + b2[t]``, so the gradient is
    ``W1 (σ'(Z1) ⊙ W2[:, t])``; the output activation is not applied (logits).
    """
    check_params(params, config)
    x = config.check_inputs(x)
    return _logit_gradient(params, config, x, check_target(target, len(x), config.n_out))


def _logit_gradient(
    params: dict[str, np.ndarray], config: FCNNConfig, x: np.ndarray, t: np.ndarray
) -> np.ndarray:
    """:func:`logit_gradient` on checked inputs (integrated gradients calls it per step)."""
    cache = forward(params, x, config)
    d_z1 = activate_grad(config.activation, cache["Z1"]) * params["W2"][:, t].T  # (n, h)
    return (d_z1 @ params["W1"].T).astype(x.dtype, copy=False)  # (n, d)


def saliency(params: dict[str, np.ndarray], config: FCNNConfig, x: Any, target: Any) -> np.ndarray:
    """Gradient × input: ``x ⊙ ∂Z2[t]/∂x``, shape ``(n, d)``.

    A pixel that is 0 gets 0, whatever the network does with it.
    """
    check_params(params, config)
    x = config.check_inputs(x)
    return x * _logit_gradient(params, config, x, check_target(target, len(x), config.n_out))


def integrated_gradients(
    params: dict[str, np.ndarray],
    config: FCNNConfig,
    x: Any,
    target: Any,
    baseline: Any = None,
    steps: int = 32,
) -> np.ndarray:
    """Integrated gradients of ``Z2[t]`` from ``baseline`` to ``x``: ``(n, d)``.

    Args:
        x: ``(n, d)`` floating inputs; target: one class or ``(n,)`` classes.
        baseline: ``None`` (zeros: a black image), ``(d,)`` or ``(n, d)``.
        steps: points of the midpoint rule (the path integral's error falls as 1/steps²
            where the gradient is smooth; ReLU makes it piecewise constant).
    """
    check_params(params, config)
    x = config.check_inputs(x)
    t = check_target(target, len(x), config.n_out)
    base = check_baseline(baseline, x)
    alphas = midpoints(steps)
    total = np.zeros_like(x)
    for a in alphas:  # the inputs are checked once, above
        total += _logit_gradient(params, config, base + a * (x - base), t)
    return (x - base) * total / len(alphas)


# ---------------------------------------------------------------- any model's gradient

def check_features(x: Any) -> np.ndarray:
    """``x`` as a checked floating ``(n, d)`` array (:mod:`bigmodel.inputs`)."""
    shape = np.shape(x)
    if len(shape) != 2:
        raise ValueError(
            f"x has shape {shape}; expected (n, d) rows of features: flatten images first, "
            "e.g. x.reshape(len(x), -1)"
        )
    return features(x, int(shape[1]), allow_empty=True)


def repeat_target(target: Any, n: int) -> np.ndarray:
    """One class repeated ``n`` times, or ``n`` classes (checked later against the logits)."""
    t = np.asarray(target)
    if t.ndim == 0:
        return np.full(n, t)
    if t.shape != (n,):
        raise ValueError(f"target has shape {t.shape}; expected one class or ({n},), one per row")
    return t


def saliency_of(grad: Callable[[np.ndarray, Any], np.ndarray], x: Any, target: Any) -> np.ndarray:
    """Gradient × input, ``x ⊙ ∂ logit[t] / ∂x``: ``(n, d)`` float32, for a model whose
    gradient ``grad(x, target)`` computes (float32 rows ``x (m, d)`` in, ``(m, d)`` out)."""
    x = check_features(x).astype(np.float32)
    return x * grad(x, target)


def integrated_gradients_of(grad: Callable[[np.ndarray, Any], np.ndarray], x: Any, target: Any,
                            baseline: Any = None, steps: int = 32) -> np.ndarray:
    """Integrated gradients of ``logit[t]`` from ``baseline`` (``None``: black) to ``x`` for
    a model whose gradient ``grad`` computes, by the midpoint rule with ``steps`` points;
    ``(n, d)`` float32. All points go through ``grad`` in one batch of ``steps * n`` rows."""
    x = check_features(x).astype(np.float32)
    base = check_baseline(baseline, x)
    alphas = midpoints(steps).astype(np.float32)
    path = base[None] + alphas[:, None, None] * (x - base)[None]  # (steps, n, d)
    t = np.tile(repeat_target(target, len(x)), len(alphas))
    grads = grad(path.reshape(-1, x.shape[1]), t).reshape(path.shape)
    return (x - base) * grads.mean(0)
