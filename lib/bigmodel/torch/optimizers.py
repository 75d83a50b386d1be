"""Four optimisers under one name each, and a training loop that takes them; mirrors
:mod:`bigmodel.tf.optimizers`.

:func:`bigmodel.torch.loop.make_optimizer` knows plain SGD and Adam only; the FAQ
chapter compares SGD, SGD with momentum, Adam and AdamW at the same budget, so this
module adds the two others without changing the shared loop. :func:`fit` is
:func:`bigmodel.torch.loop.train_arrays` with this factory: the same batches from the
same ``seed``, the same loss.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from torch import nn

from ..inputs import positive_number
from ..training import History, batch_indices, check_fit_settings, check_xy
from .loop import loss_fn

__all__ = ["OPTIMIZERS", "fit", "make_optimizer"]

#: The optimiser names :func:`make_optimizer` accepts.
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")


def make_optimizer(
    model: nn.Module, name: str, lr: float, *, momentum: float = 0.9, weight_decay: float = 0.01
) -> torch.optim.Optimizer:
    """``"sgd"`` (plain), ``"momentum"`` (SGD with heavy-ball ``momentum``), ``"adam"``
    or ``"adamw"`` (Adam with decoupled ``weight_decay`` on every parameter, Loshchilov
    and Hutter 2019); epsilon 1e-8 for both Adams, as the TensorFlow twin."""
    lr = positive_number(lr, "lr (the learning rate)")
    params = list(model.parameters())
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name == "momentum":
        if not 0.0 < momentum < 1.0:
            raise ValueError(f"momentum must lie in (0, 1), got {momentum!r}")
        return torch.optim.SGD(params, lr=lr, momentum=momentum)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, eps=1e-8)
    if name == "adamw":
        if not weight_decay >= 0.0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
        return torch.optim.AdamW(params, lr=lr, eps=1e-8, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {OPTIMIZERS}")


def fit(
    model: nn.Module,
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
    """Train ``model`` (an FCNN, or any module with ``config.n_in``/``n_out`` that maps
    ``(n, n_in)`` to logits) in place with cross-entropy; return the per-epoch history.

    Args:
        x: ``(n, n_in)`` float inputs; y: ``(n,)`` integer labels.
        optimizer: one of :data:`OPTIMIZERS`; momentum, weight_decay: its settings.
        seed: the batch order (:func:`bigmodel.training.batch_indices`, shared with the
            TensorFlow twin).
    """
    check_fit_settings(epochs, batch_size, lr)
    x, y = check_xy(x, y, model.config.n_in, model.config.n_out)
    opt = make_optimizer(model, optimizer, lr, momentum=momentum, weight_decay=weight_decay)
    device = next(model.parameters()).device
    xt = torch.as_tensor(np.asarray(x, np.float32), device=device)
    yt = torch.as_tensor(y, device=device)
    rng = np.random.default_rng(seed)
    hist = History()
    model.train()
    for _ in range(epochs):
        t0 = time.perf_counter()
        total = torch.zeros((), device=device)
        for idx in batch_indices(len(x), batch_size, rng):
            it = torch.as_tensor(idx, device=device)
            lossv = loss_fn(model(xt[it]), yt[it], "cross_entropy")
            opt.zero_grad(set_to_none=True)
            lossv.backward()
            opt.step()
            total += lossv.detach() * len(idx)
        hist.loss.append(float(total) / len(x))
        hist.seconds.append(time.perf_counter() - t0)
    return hist
