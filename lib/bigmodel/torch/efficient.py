"""Training tricks, measured on the book's models; mirrors :mod:`bigmodel.tf.efficient`.

- Gradient accumulation: the gradients of ``k`` micro-batches, each loss divided by
  ``k``, add up to the gradient of the whole batch (:func:`loss_and_grads`).
- Mixed precision on a CPU: ``torch.autocast("cpu", dtype=torch.bfloat16)``.
- Activation checkpointing: each GPT block under ``torch.utils.checkpoint.checkpoint``
  keeps only its input for the backward pass and recomputes the rest.
- :func:`peak_memory` measures one training step's peak memory in a fresh process
  (``python -m bigmodel.torch.efficient``): the peak resident set size
  (:func:`bigmodel.distributed.peak_rss_mb`) minus the resident size just before the step.
"""

from __future__ import annotations

import contextlib

import numpy as np
import torch
from torch.nn import functional as F

from .. import distributed as core
from ..gpt import GPTConfig, init_params
from ..hardware import check_precision
from ..inputs import positive_int, positive_number
from .fcnn import FCNN
from .gpt import GPT

__all__ = ["loss_and_grads", "main", "peak_memory", "time_step", "train_gpt"]


def _loss(model, x, y, checkpoint: bool):
    if isinstance(model, FCNN):
        if checkpoint:
            raise ValueError("checkpoint=True applies to the GPT's blocks; the FCNN has none")
        return F.cross_entropy(model(x), y)
    return model(x, y, checkpoint=checkpoint)[1]  # the model's own forward pass


def _autocast(model, precision: str):
    check_precision(precision)
    if precision == "float32":
        return contextlib.nullcontext()
    if isinstance(model, FCNN):
        raise ValueError(f"precision={precision!r} is for the GPT here; use float32 for the FCNN")
    device = next(model.parameters()).device
    return torch.autocast(device.type, dtype=getattr(torch, precision))


def loss_and_grads(model, x: np.ndarray, y: np.ndarray, micro_batches: int = 1,
                   precision: str = "float32", checkpoint: bool = False
                   ) -> tuple[float, dict[str, np.ndarray]]:
    """Mean loss over the batch and its gradients, from ``micro_batches`` equal parts.

    Args:
        model: a :class:`bigmodel.torch.fcnn.FCNN` (``x (n, 784)`` floats) or a
            :class:`bigmodel.torch.gpt.GPT` (``x, y (B, T)`` token ids).
        micro_batches: accumulate this many parts; each part's loss is divided by it, so
            the sum of the parts' gradients is the whole batch's gradient.
        precision: ``"float32"`` or ``"bfloat16"``/``"float16"`` autocast (GPT only).
        checkpoint: recompute each GPT block in the backward pass.

    Returns:
        ``(loss in nats, {name: gradient})``, float32 NumPy arrays named as the model's
        parameters. The model's ``.grad`` fields are left cleared.
    """
    micro_batches = core.check_micro_batches(micro_batches, len(x))
    device = next(model.parameters()).device
    model.zero_grad(set_to_none=True)
    total = 0.0
    for xm, ym in zip(np.split(np.asarray(x), micro_batches),
                      np.split(np.asarray(y), micro_batches), strict=True):
        xt, yt = torch.as_tensor(xm, device=device), torch.as_tensor(ym, device=device)
        with _autocast(model, precision):
            loss = _loss(model, xt, yt, checkpoint) / micro_batches
        loss.backward()
        total += float(loss.detach())
    grads = {n: p.grad.detach().float().cpu().numpy().copy()
             for n, p in model.named_parameters()}
    model.zero_grad(set_to_none=True)
    return total, grads


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
    device = next(model.parameters()).device
    opt = torch.optim.Adam(model.parameters(), lr=lr, eps=1e-8)
    losses = []
    for step in range(steps):
        rows = core.batch_rows(len(tokens) - T, batch, step, seed)
        idx = rows[:, None] + np.arange(T)[None, :]  # (batch, T)
        x = torch.as_tensor(tokens[idx], device=device)
        y = torch.as_tensor(tokens[idx + 1], device=device)
        with _autocast(model, precision):
            loss = _loss(model, x, y, checkpoint=False)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return losses


def peak_memory(config: GPTConfig, batch: int, checkpoint: bool, seed: int = 0) -> dict:
    """One training step's memory and time for a GPT of ``config`` on ``batch`` sequences.

    Meant for a fresh process: it first makes freed blocks leave the resident set
    (:func:`bigmodel.distributed.return_freed_memory`), then measures one step with one
    thread as :func:`bigmodel.distributed.step_peak_memory` describes.

    Returns:
        ``{"peak_mb", "rss_before_mb", "seconds", "loss"}``.
    """
    torch.set_num_threads(1)
    core.return_freed_memory()
    model = GPT(config, params=init_params(config, rng=seed))

    def step(x: np.ndarray, y: np.ndarray) -> float:
        return loss_and_grads(model, x, y, checkpoint=checkpoint)[0]

    return core.step_peak_memory(step, config, batch, seed)


def main(argv: list[str] | None = None) -> None:
    """``python -m bigmodel.torch.efficient --config '{...}' --batch 4 [--checkpoint]``:
    see :func:`bigmodel.distributed.peak_memory_main`."""
    core.peak_memory_main("bigmodel.torch.efficient", peak_memory, argv)


if __name__ == "__main__":
    main()
