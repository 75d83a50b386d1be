"""The PyTorch training loop of the FCNN and the CNN: ``fit``, ``evaluate``, ``predict``.

One loop for both models: a model is any ``nn.Module`` with a ``config`` (which says what
its inputs are, see :mod:`bigmodel.training`) that maps a float32 batch to logits
``(n, n_out)``. The public functions check what they are given once, with
:func:`bigmodel.training.check_fit_args` and :func:`bigmodel.training.check_dataset`, and
the loop trusts the checked arrays. Mirrors :mod:`bigmodel.tf.loop`.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..inputs import positive_int
from ..progress import progress
from ..training import (
    LOSSES,
    History,
    batch_indices,
    check_dataset,
    check_fit_args,
    check_loss,
    check_optimizer_settings,
)

__all__ = ["OPTIMIZERS", "evaluate", "fit", "loss_fn", "make_optimizer", "predict"]

#: The optimiser names :func:`make_optimizer` accepts.
OPTIMIZERS = ("sgd", "momentum", "adam", "adamw")


def loss_fn(output: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    """Mean loss of ``output (n, k)`` against integer labels ``y (n,)``.

    See :func:`bigmodel.numpy.fcnn.loss_value` for the definitions.
    """
    if loss == "mse":
        return F.mse_loss(output, F.one_hot(y, output.shape[1]).to(output.dtype))
    if loss == "cross_entropy":
        return F.cross_entropy(output, y)
    raise ValueError(f"unknown loss {loss!r}; choose one of {LOSSES}")


def make_optimizer(
    model: nn.Module, name: str, lr: float, *, momentum: float = 0.9, weight_decay: float = 0.01
) -> torch.optim.Optimizer:
    """``"sgd"`` (plain), ``"momentum"`` (SGD with heavy-ball ``momentum``), ``"adam"``
    or ``"adamw"`` (Adam with decoupled ``weight_decay`` on every parameter, Loshchilov
    and Hutter 2019); epsilon 1e-8 for both Adams, as the TensorFlow twin."""
    lr, momentum, weight_decay = check_optimizer_settings(lr, momentum, weight_decay)
    params = list(model.parameters())
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name == "momentum":
        return torch.optim.SGD(params, lr=lr, momentum=momentum)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, eps=1e-8)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, eps=1e-8, weight_decay=weight_decay)
    raise ValueError(f"unknown optimizer {name!r}; choose one of {OPTIMIZERS}")


def _device(model: nn.Module) -> torch.device:
    return next(model.parameters()).device


def _tensor(a: np.ndarray, device: torch.device, dtype=None) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a), dtype=dtype, device=device)


def evaluate(
    model: nn.Module, x: Any, y: Any, loss: str = "cross_entropy", batch_size: int = 4096
) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on inputs ``x`` (feature rows ``(n, n_in)`` for
    the FCNN, images ``(n, H, W[, C])`` for the CNN) and labels ``y (n,)``."""
    check_loss(loss)
    positive_int(batch_size, "batch_size")
    x, y = check_dataset(model.config, x, y)
    return _evaluate(model, x, y, loss, batch_size)


@torch.no_grad()
def _evaluate(
    model: nn.Module, x: np.ndarray, y: np.ndarray, loss: str, batch_size: int = 4096
) -> tuple[float, float]:
    device = _device(model)
    total, correct = 0.0, 0
    for i in range(0, len(x), batch_size):
        xb = _tensor(x[i : i + batch_size], device, torch.float32)
        yb = _tensor(y[i : i + batch_size], device, torch.long)
        out = model(xb)
        total += float(loss_fn(out, yb, loss)) * len(xb)
        correct += int((out.argmax(1) == yb).sum())
    return total / len(x), correct / len(x)


@torch.no_grad()
def predict(model: nn.Module, x: Any, batch_size: int = 4096) -> np.ndarray:
    """Network outputs ``(n, n_out)`` of inputs ``x`` as a NumPy array (``(0, n_out)`` for
    none)."""
    positive_int(batch_size, "batch_size")
    x = model.config.check_inputs(x)
    device = _device(model)
    outs = [
        model(_tensor(x[i : i + batch_size], device, torch.float32)).cpu().numpy()
        for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(outs) if outs else np.zeros((0, model.config.n_out), np.float32)


def fit(
    model: nn.Module,
    x: Any,
    y: Any,
    *,
    epochs: int = 1,
    batch_size: int = 128,
    lr: float = 1e-3,
    loss: str = "cross_entropy",
    optimizer: str = "adam",
    validation: tuple[Any, Any] | None = None,
    seed: int = 0,
    show_progress: bool = True,
    momentum: float = 0.9,
    weight_decay: float = 0.01,
) -> History:
    """Train ``model`` in place with mini-batches; return the per-epoch :class:`~bigmodel.training.History`.

    Args:
        x: the inputs (feature rows ``(n, n_in)`` for the FCNN, images ``(n, H, W[, C])``
            for the CNN); y: ``(n,)`` integer labels.
        epochs, batch_size, lr: the usual; ``batch_size=1`` is the per-sample loop.
        loss: ``"mse"`` on one-hot targets (the source) or ``"cross_entropy"``.
        optimizer: one of :data:`OPTIMIZERS`; momentum, weight_decay: the settings of
            ``"momentum"`` and ``"adamw"``.
        validation: ``(x_val, y_val)`` evaluated after every epoch.
        seed: seeds the shuffling, which :func:`bigmodel.training.batch_indices` shares
            with the TensorFlow loop, so a seeded run visits the samples in the same order
            in both.
    """
    x, y, validation = check_fit_args(model.config, x, y, validation, epochs=epochs,
                                      batch_size=batch_size, lr=lr, loss=loss, seed=seed)
    device = _device(model)
    opt = make_optimizer(model, optimizer, lr, momentum=momentum, weight_decay=weight_decay)
    xt = _tensor(x, device, torch.float32)  # the whole set on the device: MNIST is 188 MB
    yt = _tensor(y, device, torch.long)
    rng = np.random.default_rng(seed)
    hist = History()
    for epoch in range(epochs):
        model.train()
        t0 = time.perf_counter()
        total = torch.zeros((), device=device)
        batches = batch_indices(len(x), batch_size, rng)
        for idx in progress(batches, show_progress, desc=f"epoch {epoch + 1}/{epochs}"):
            it = torch.as_tensor(idx, device=device)
            lossv = loss_fn(model(xt[it]), yt[it], loss)
            opt.zero_grad(set_to_none=True)
            lossv.backward()
            opt.step()
            total += lossv.detach() * len(idx)  # stays on the device: no sync per step
        hist.loss.append(float(total) / len(x))
        hist.seconds.append(time.perf_counter() - t0)
        if validation is not None:
            model.eval()
            vl, va = _evaluate(model, *validation, loss=loss)
            hist.val_loss.append(vl)
            hist.val_accuracy.append(va)
    return hist
