"""Training of :class:`bigmodel.torch.gpt.GPT`; mirrors :mod:`bigmodel.tf.gpt_train`.

AdamW with decoupled weight decay (Loshchilov and Hutter, 2019) on matrices and embeddings
only, linear warm-up then cosine decay (:func:`bigmodel.gpt_train.lr_at`), gradient clipping by
global norm, and a periodic loss estimate on fixed train and validation batches: the loop
is :func:`bigmodel.gpt_train.train_loop`, shared with TensorFlow; this module supplies the
optimizer step. The precision follows the book's policy (:func:`bigmodel.torch.precision`):
bfloat16 autocast on GPUs that compute it natively, float16 autocast with a gradient scaler
on older CUDA GPUs, float32 on a CPU; ``precision=`` names another.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import numpy as np
import torch

from ..gpt_train import TrainConfig, TrainHistory, train_loop
from ..hardware import check_precision
from .device import precision as device_precision
from .gpt import GPT

__all__ = ["configure_optimizer", "estimate_loss", "train"]


def _device_of(model: GPT) -> torch.device:
    return next(model.parameters()).device


def configure_optimizer(
    model: GPT, cfg: TrainConfig, precision: str = "float32"
) -> torch.optim.AdamW:
    """AdamW with weight decay on parameters of 2 or more dimensions (matrices, embeddings)
    and none on biases and LayerNorm gains, as nanoGPT does.

    ``precision`` is the one training will use; float16 needs a gradient scaler, which
    :func:`train` keeps next to the optimizer (PyTorch's optimizer itself does not change).
    """
    check_precision(precision)
    decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
    groups = [
        {"params": decay, "weight_decay": cfg.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    # the fused CUDA kernel updates all tensors in one launch
    fused = {"fused": True} if _device_of(model).type == "cuda" else {}
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas, eps=1e-8, **fused)


def _autocast(device: torch.device, precision: str):
    if precision == "float32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=getattr(torch, precision))


@torch.no_grad()
def estimate_loss(
    model: GPT, batches: list[tuple[np.ndarray, np.ndarray]], precision: str = "float32"
) -> float:
    """Mean cross-entropy (nats/token) of ``model`` over ``(x, y)`` batches of ``(B, T)`` ids,
    computed in ``precision``, without dropout."""
    device = _device_of(model)
    was_training = model.training
    model.eval()
    total = torch.zeros((), device=device)
    for x, y in batches:
        with _autocast(device, check_precision(precision)):
            _, loss = model(torch.as_tensor(x, device=device), torch.as_tensor(y, device=device))
        total += loss.float()
    model.train(was_training)
    return float(total) / len(batches)


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

    Args:
        train_tokens, val_tokens: 1-D token-id arrays.
        cfg: steps, batch size, schedule, decay, clipping, evaluation, seed.
        precision: ``"float32"``, ``"bfloat16"`` or ``"float16"`` (autocast; float16 with a
            gradient scaler); ``None`` = the device's (:func:`bigmodel.torch.precision`).
        compile: compile the training step (``torch.compile``; its compile time lands in
            ``first_step_seconds``).
        target_val_loss: stop at the first evaluation whose validation loss is at or
            below this (for time-to-loss benchmarks).
        on_eval: ``on_eval(step, val_loss)`` after each evaluation, with the model holding
            that step's weights; training stops when it returns ``True``
            (:func:`bigmodel.gpt_train.train_loop`).

    Both frameworks draw the same batches from ``cfg.seed`` (:func:`bigmodel.gpt_train.get_batch`).
    """
    device = _device_of(model)
    name = check_precision(precision) if precision is not None else device_precision(device)
    scaler = torch.amp.GradScaler(device.type, enabled=name == "float16")
    opt = configure_optimizer(model, cfg, name)
    step_model = torch.compile(model) if compile else model

    def step(xb: np.ndarray, yb: np.ndarray, lr: float) -> torch.Tensor:
        for g in opt.param_groups:
            g["lr"] = lr
        x = torch.as_tensor(xb).to(device, non_blocking=True)
        y = torch.as_tensor(yb).to(device, non_blocking=True)
        with _autocast(device, name):
            _, loss = step_model(x, y)
        scaler.scale(loss).backward()
        if cfg.grad_clip > 0:
            scaler.unscale_(opt)  # clip the true gradients, not the scaled ones
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        scaler.step(opt)
        scaler.update()
        opt.zero_grad(set_to_none=True)
        return loss

    def sync(loss: torch.Tensor) -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    model.train()
    return train_loop(
        step, lambda batches: estimate_loss(model, batches, name), sync, train_tokens,
        val_tokens, cfg, model.config.block_size, model.config.vocab_size, show_progress,
        target_val_loss, on_eval, model.mask_rate,
    )
