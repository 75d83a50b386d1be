"""The PyTorch training loop shared by every model of this package (FCNN, CNN).

The model modules check their inputs (:mod:`bigmodel.inputs`, :mod:`bigmodel.conv`) and
then call these functions on the checked NumPy arrays; a model is any ``nn.Module`` that
maps a float32 batch to logits ``(n, n_out)`` and has a parameter ``W1`` (its device is
the device the loop uses). Mirrors :mod:`bigmodel.tf.loop`.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..fcnn import LOSSES
from ..progress import progress
from ..training import History, batch_indices

__all__ = ["evaluate_arrays", "loss_fn", "make_optimizer", "predict_arrays", "train_arrays"]


def loss_fn(output: torch.Tensor, y: torch.Tensor, loss: str) -> torch.Tensor:
    """Mean loss of ``output (n, k)`` against integer labels ``y (n,)``.

    See :func:`bigmodel.fcnn.loss_value` for the definitions.
    """
    if loss == "mse":
        return F.mse_loss(output, F.one_hot(y, output.shape[1]).to(output.dtype))
    if loss == "cross_entropy":
        return F.cross_entropy(output, y)
    raise ValueError(f"unknown loss {loss!r}; choose one of {LOSSES}")


def make_optimizer(model: nn.Module, name: str, lr: float) -> torch.optim.Optimizer:
    """``"sgd"`` (plain, no momentum) or ``"adam"`` (PyTorch defaults but ``lr``)."""
    if name == "sgd":
        return torch.optim.SGD(model.parameters(), lr=lr)
    if name == "adam":
        return torch.optim.Adam(model.parameters(), lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; choose sgd or adam")


def _tensor(a: np.ndarray, device: torch.device, dtype=None) -> torch.Tensor:
    return torch.as_tensor(np.asarray(a), dtype=dtype, device=device)


@torch.no_grad()
def evaluate_arrays(
    model: nn.Module, x: np.ndarray, y: np.ndarray, loss: str = "cross_entropy", batch_size: int = 4096
) -> tuple[float, float]:
    """Mean loss and accuracy on checked arrays: ``x`` (n >= 1 samples), int labels ``y (n,)``."""
    device = model.W1.device
    total, correct = 0.0, 0
    for i in range(0, len(x), batch_size):
        xb = _tensor(x[i : i + batch_size], device, torch.float32)
        yb = _tensor(y[i : i + batch_size], device, torch.long)
        out = model(xb)
        total += float(loss_fn(out, yb, loss)) * len(xb)
        correct += int((out.argmax(1) == yb).sum())
    return total / len(x), correct / len(x)


@torch.no_grad()
def predict_arrays(model: nn.Module, x: np.ndarray, n_out: int, batch_size: int = 4096) -> np.ndarray:
    """Logits ``(n, n_out)`` of checked inputs ``x`` as a NumPy array (``(0, n_out)`` for none)."""
    device = model.W1.device
    outs = [
        model(_tensor(x[i : i + batch_size], device, torch.float32)).cpu().numpy()
        for i in range(0, len(x), batch_size)
    ]
    return np.concatenate(outs) if outs else np.zeros((0, n_out), np.float32)


def train_arrays(
    model: nn.Module,
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
) -> History:
    """The mini-batch loop of every ``fit`` in this package, on checked arrays.

    ``seed`` seeds the shuffling, which :func:`bigmodel.training.batch_indices` shares with
    the TensorFlow loop, so a seeded run visits the samples in the same order in both.
    """
    device = model.W1.device
    opt = make_optimizer(model, optimizer, lr)
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
            out = model(xt[it])
            lossv = loss_fn(out, yt[it], loss)
            opt.zero_grad(set_to_none=True)
            lossv.backward()
            opt.step()
            total += lossv.detach() * len(idx)  # stays on the device: no sync per step
        hist.loss.append(float(total) / len(x))
        hist.seconds.append(time.perf_counter() - t0)
        if validation is not None:
            model.eval()
            vl, va = evaluate_arrays(model, *validation, loss=loss)
            hist.val_loss.append(vl)
            hist.val_accuracy.append(va)
    return hist
