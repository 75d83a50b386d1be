"""Pipeline parallelism for :class:`bigmodel.torch.gpt.GPT`: GPipe's schedule, by hand.

Each of ``p`` processes is a *stage* holding consecutive blocks
(:func:`bigmodel.distributed.model_parallel.stage_layers`); stage 0 also holds the
embeddings, the last stage the final LayerNorm and the output layer. The batch is cut
into ``m`` micro-batches. GPipe (Huang et al., 2019) runs every micro-batch's forward
pass through the stages, each stage sending its activation ``(b, T, C)`` to the next,
then every backward pass the other way, each stage sending the gradient of its input
back; the gradients of all micro-batches add up, and one optimizer step would follow.
The output layer is the token embedding (weight tying), so the first and the last stage
both use ``wte`` and add their two parts of its gradient with one all-reduce, as
Megatron-LM does.

``python -m torch.distributed.run --nproc-per-node 2 -m bigmodel.torch.pipeline_parallel
--config '{...}' --batch 8 --micro-batches 4 --out DIR`` runs one such step with ``gloo``
and rank 0 writes ``results.json`` (the loss, each stage's idle share of a step: the
median over ``--repeats`` steps of the time it was not computing) and
``grads.npz`` (every gradient, for a comparison with
:func:`bigmodel.torch.tensor_parallel.reference`, which computes one process's step on the
same batch).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch.nn import functional as F

from ..distributed.model_parallel import random_batch, stage_layers
from ..files import atomic_write_npz, atomic_write_text
from ..flags import integer_flag
from ..gpt import GPTConfig, init_params
from .gpt import GPT

__all__ = ["gpipe_step", "main", "run", "stage_forward"]


def stage_forward(model: GPT, blocks: range, x: torch.Tensor, first: bool, last: bool) -> torch.Tensor:
    """One stage's part of the forward pass: token ids ``(b, T)`` in on the first stage,
    an activation ``(b, T, C)`` otherwise; logits ``(b, T, V)`` out of the last stage,
    an activation ``(b, T, C)`` otherwise."""
    if first:
        pos = torch.arange(x.shape[1], device=x.device)  # (T,)
        x = model.drop(model.wte(x) + model.wpe(pos))  # (b, T, C)
    for i in blocks:
        x = model.h[i](x)
    if last:
        x = F.linear(model.ln_f(x), model.wte.weight)  # (b, T, V), the tied output layer
    return x


def gpipe_step(model: GPT, x: torch.Tensor, y: torch.Tensor, n_micro: int) -> dict:
    """This rank's stage of one GPipe step on the batch ``x, y (B, T)`` cut into
    ``n_micro`` micro-batches; the gradients land in ``model``'s parameters.

    Returns ``{"loss"`` (the batch's mean loss, on the last stage; else ``None``),
    ``"busy_seconds"`` (forward and backward computing), ``"total_seconds"}``.
    """
    rank, p = dist.get_rank(), dist.get_world_size()
    blocks = stage_layers(model.config.n_layer, p)[rank]
    first, last = rank == 0, rank == p - 1
    B, T = x.shape
    if B % n_micro:
        raise ValueError(f"a batch of {B} does not cut into {n_micro} equal micro-batches")
    b, C = B // n_micro, model.config.n_embd
    inputs, outputs, sends = [], [], []
    loss_sum, busy = 0.0, 0.0
    start = time.perf_counter()
    for j in range(n_micro):  # forward passes, micro-batch after micro-batch
        if first:
            inp = x[j * b:(j + 1) * b]
        else:
            inp = torch.empty(b, T, C)
            dist.recv(inp, src=rank - 1)  # blocks until the previous stage sends
            inp.requires_grad_(True)
        t0 = time.perf_counter()
        out = stage_forward(model, blocks, inp, first, last)
        if last:  # the batch's mean loss: each micro-batch's mean over n_micro
            out = F.cross_entropy(out.reshape(b * T, -1), y[j * b:(j + 1) * b].reshape(-1))
            out = out / n_micro
            loss_sum += float(out.detach())
        busy += time.perf_counter() - t0
        if not last:
            sends.append(dist.isend(out.detach(), dst=rank + 1))
        inputs.append(inp)
        outputs.append(out)
    for j in range(n_micro):  # backward passes, in the same order
        if last:
            grad = None
        else:
            grad = torch.empty(b, T, C)
            dist.recv(grad, src=rank + 1)
        t0 = time.perf_counter()
        outputs[j].backward(grad)
        busy += time.perf_counter() - t0
        if not first:
            sends.append(dist.isend(inputs[j].grad, dst=rank - 1))
    for req in sends:
        req.wait()
    if p > 1:  # the tied embedding: the first stage's gradient plus the last stage's
        g = model.wte.weight.grad if model.wte.weight.grad is not None else torch.zeros_like(
            model.wte.weight)
        if first or last:
            group = _ends_group(p)
            dist.all_reduce(g, group=group)
            model.wte.weight.grad = g
    return {"loss": loss_sum if last else None, "busy_seconds": busy,
            "total_seconds": time.perf_counter() - start}


_GROUPS: dict[int, object] = {}


def _ends_group(p: int):
    if p not in _GROUPS:
        _GROUPS[p] = dist.new_group([0, p - 1]) if p > 2 else dist.group.WORLD
    return _GROUPS[p]


def run(args: argparse.Namespace) -> dict:
    """This rank's stage; rank 0 collects every stage's gradients and writes the results."""
    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    rank, p = dist.get_rank(), dist.get_world_size()
    config = GPTConfig.from_dict(json.loads(args.config))
    blocks = stage_layers(config.n_layer, p)[rank]
    if p > 2:
        _ends_group(p)  # every rank must take part in making a group
    model = GPT(config, params=init_params(config, rng=args.seed))  # every stage: same seed
    x, y = (torch.as_tensor(a) for a in random_batch(config, args.batch, args.seed))
    for _ in range(args.warmup):
        model.zero_grad(set_to_none=True)
        gpipe_step(model, x, y, args.micro_batches)
    idle = []
    for _ in range(args.repeats):  # timed steps; the gradients are the last one's
        model.zero_grad(set_to_none=True)
        dist.barrier()
        step = gpipe_step(model, x, y, args.micro_batches)
        idle.append(1 - step["busy_seconds"] / step["total_seconds"])
    own = {n: prm.grad.numpy() for n, prm in model.named_parameters()
           if prm.grad is not None and _owned(n, blocks, rank, p)}
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_npz(out / f"grads.stage{rank}.npz", own)
    timing = torch.tensor([float(np.median(idle)), step["total_seconds"]], dtype=torch.float64)
    timings = [torch.zeros(2, dtype=torch.float64) for _ in range(p)]
    dist.all_gather(timings, timing)
    loss = torch.tensor([step["loss"] or 0.0], dtype=torch.float64)
    dist.broadcast(loss, src=p - 1)
    dist.barrier()  # every stage's gradients are on disk
    results = {
        "world_size": p, "micro_batches": args.micro_batches, "batch": args.batch,
        "loss": float(loss), "stage_blocks": [list(r) for r in stage_layers(config.n_layer, p)],
        "idle_share": [float(t[0]) for t in timings],  # median over the timed steps
        "step_seconds": [float(t[1]) for t in timings],  # the last step
    }
    if rank == 0:
        grads = {}
        for s in range(p):
            with np.load(out / f"grads.stage{s}.npz") as f:
                grads.update({k: f[k] for k in f.files})
        atomic_write_npz(out / "grads.npz", grads)
        atomic_write_text(out / "results.json", json.dumps(results, indent=1))  # last
    dist.barrier()
    dist.destroy_process_group()
    return results


def _owned(name: str, blocks: range, rank: int, p: int) -> bool:
    """Whether stage ``rank`` reports this parameter's gradient (each name exactly once)."""
    if name.startswith("h."):
        return int(name.split(".")[1]) in blocks
    if name.startswith("ln_f."):
        return rank == p - 1
    return rank == 0  # wte (its summed gradient) and wpe


def parser() -> argparse.ArgumentParser:
    """The worker's flags, each checked by its type before any work."""
    p = argparse.ArgumentParser(prog="bigmodel.torch.pipeline_parallel")
    p.add_argument("--config", required=True, help="GPTConfig fields as JSON")
    p.add_argument("--batch", type=integer_flag(low=1), default=8)
    p.add_argument("--micro-batches", type=integer_flag(low=1), default=4)
    p.add_argument("--seed", type=integer_flag(low=0), default=0)
    p.add_argument("--warmup", type=integer_flag(low=0), default=1,
                   help="untimed steps first")
    p.add_argument("--repeats", type=integer_flag(low=1), default=5,
                   help="timed steps; each stage's idle share is their median")
    p.add_argument("--out", required=True, help="folder for results.json and grads.npz")
    return p


def main(argv: Sequence[str] | None = None) -> None:
    """The command line (see the module docstring); run under ``torchrun``."""
    args = parser().parse_args(argv)
    if args.batch % args.micro_batches:
        parser().error(f"--batch {args.batch} does not cut into --micro-batches "
                       f"{args.micro_batches} equal parts")
    if "WORLD_SIZE" not in os.environ:
        parser().error("run under torchrun (python -m torch.distributed.run ...)")
    run(args)
    # Every rank has passed the last barrier and rank 0's files are written. Leave without
    # the interpreter's teardown: after point-to-point sends, gloo's threads can outlive
    # the process group, and C++ then aborts the exiting process ("terminate called
    # without an active exception", seen once in CI on a loaded machine).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
