"""Saliency and integrated gradients with PyTorch's autograd; mirrors
:mod:`bigmodel.tf.attribution`, and :mod:`bigmodel.numpy.attribution` is the NumPy reference.

``model`` is any module that maps float32 inputs ``(n, d)`` to logits ``(n, k)``, such as
:class:`bigmodel.torch.fcnn.FCNN`. Results are float32 NumPy arrays ``(n, d)``.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import torch
from torch import nn

from ..numpy.attribution import check_features, check_target, integrated_gradients_of, saliency_of

__all__ = ["integrated_gradients", "logit_gradient", "saliency"]


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _grad(model: nn.Module, x: np.ndarray, target: Any) -> np.ndarray:
    """``∂ logit[t] / ∂x`` for checked float inputs ``x (n, d)``."""
    xt = torch.as_tensor(np.asarray(x, np.float32), device=_device(model)).requires_grad_(True)
    logits = model(xt)  # (n, k)
    t = check_target(target, len(x), logits.shape[1])
    picked = logits.gather(1, torch.as_tensor(t, device=xt.device)[:, None])
    # rows are independent, so the gradient of the sum is each row's own gradient
    (grad,) = torch.autograd.grad(picked.sum(), xt)
    return grad.detach().cpu().numpy()


def logit_gradient(model: nn.Module, x: Any, target: Any) -> np.ndarray:
    """``∂ logit[t] / ∂x``: ``(n, d)``. ``target``: one class or ``(n,)`` classes."""
    return _grad(model, check_features(x), target)


def saliency(model: nn.Module, x: Any, target: Any) -> np.ndarray:
    """Gradient × input, ``x ⊙ ∂ logit[t] / ∂x``: ``(n, d)``
    (:func:`bigmodel.numpy.attribution.saliency_of`)."""
    return saliency_of(functools.partial(_grad, model), x, target)


def integrated_gradients(
    model: nn.Module, x: Any, target: Any, baseline: Any = None, steps: int = 32
) -> np.ndarray:
    """Integrated gradients of ``logit[t]`` from ``baseline`` (``None``: black) to ``x``,
    by the midpoint rule with ``steps`` points; ``(n, d)``. All points go through the
    model in one batch of ``steps * n`` rows (:func:`bigmodel.numpy.attribution.integrated_gradients_of`)."""
    return integrated_gradients_of(functools.partial(_grad, model), x, target, baseline, steps)
