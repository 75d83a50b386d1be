"""Training loop for :class:`bigmodel.torch.gpt.GPT`; mirrors :mod:`bigmodel.tf.gpt_train`.

AdamW with decoupled weight decay (Loshchilov and Hutter, 2019) on matrices and embeddings
only, linear warm-up then cosine decay (:func:`bigmodel.gpt.lr_at`), gradient clipping by
global norm, and a periodic loss estimate on fixed train and validation batches. The
precision follows the book's policy (:func:`bigmodel.torch.precision`): bfloat16 autocast
on GPUs that compute it natively, float16 autocast with a gradient scaler on older CUDA
GPUs, float32 on a CPU; ``precision=`` names another.
"""

from __future__ import annotations

import contextlib
import time

import numpy as np
import torch

from ..budget import check_precision
from ..gpt import TrainConfig, TrainHistory, check_tokens, eval_batches, get_batch
from ..progress import progress
from .device import precision as device_precision
from .gpt import GPT

__all__ = ["configure_optimizer", "estimate_loss", "train"]


def configure_optimizer(model: GPT, cfg: TrainConfig, device: torch.device) -> torch.optim.AdamW:
    """AdamW with weight decay on parameters of 2 or more dimensions (matrices, embeddings)
    and none on biases and LayerNorm gains, as nanoGPT does."""
    decay = [p for p in model.parameters() if p.requires_grad and p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.dim() < 2]
    groups = [
        {"params": decay, "weight_decay": cfg.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    # the fused CUDA kernel updates all tensors in one launch
    fused = {"fused": True} if device.type == "cuda" else {}
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=cfg.betas, eps=1e-8, **fused)


def _autocast(device: torch.device, dtype: torch.dtype | None):
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


@torch.no_grad()
def estimate_loss(
    model: GPT,
    batches: list[tuple[np.ndarray, np.ndarray]],
    amp_dtype: torch.dtype | None = None,
) -> float:
    """Mean cross-entropy (nats/token) of ``model`` over ``(x, y)`` batches of ``(B, T)`` ids."""
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    total = torch.zeros((), device=device)
    for x, y in batches:
        with _autocast(device, amp_dtype):
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

    Both frameworks draw the same batches from ``cfg.seed`` (:func:`bigmodel.gpt.get_batch`).
    """
    device = next(model.parameters()).device
    T = model.config.block_size
    name = check_precision(precision) if precision is not None else device_precision(device)
    amp_dtype = None if name == "float32" else getattr(torch, name)
    scaler = torch.amp.GradScaler(device.type, enabled=amp_dtype == torch.float16)
    opt = configure_optimizer(model, cfg, device)
    step_model = torch.compile(model) if compile else model
    rng = np.random.default_rng(cfg.seed)
    V = model.config.vocab_size
    train_tokens = check_tokens(train_tokens, T, V, "train")
    val_tokens = check_tokens(val_tokens, T, V, "val")
    evals = eval_batches(train_tokens, val_tokens, cfg.batch_size, T, cfg.eval_iters, cfg.seed)
    hist = TrainHistory()
    train_seconds = 0.0

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    model.train()
    for step in progress(range(cfg.max_steps), show_progress, desc="training"):
        t0 = time.perf_counter()
        lr = cfg.lr_at(step)
        for g in opt.param_groups:
            g["lr"] = lr
        xb, yb = get_batch(train_tokens, cfg.batch_size, T, rng)
        x = torch.as_tensor(xb).to(device, non_blocking=True)
        y = torch.as_tensor(yb).to(device, non_blocking=True)
        with _autocast(device, amp_dtype):
            _, loss = step_model(x, y)
        scaler.scale(loss).backward()
        if cfg.grad_clip > 0:
            scaler.unscale_(opt)  # clip the true gradients, not the scaled ones
            torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        scaler.step(opt)
        scaler.update()
        opt.zero_grad(set_to_none=True)
        hist.tokens += cfg.batch_size * T
        last = step + 1 == cfg.max_steps
        if step == 0 or (step + 1) % cfg.eval_interval == 0 or last:
            sync()
        train_seconds += time.perf_counter() - t0
        if step == 0:
            hist.first_step_seconds = train_seconds
        if (step + 1) % cfg.eval_interval == 0 or last:
            hist.step.append(step + 1)
            hist.seconds.append(train_seconds)
            hist.loss.append(estimate_loss(model, evals["train"], amp_dtype))
            hist.val_loss.append(estimate_loss(model, evals["val"], amp_dtype))
            if target_val_loss is not None and hist.val_loss[-1] <= target_val_loss:
                break
    return hist
