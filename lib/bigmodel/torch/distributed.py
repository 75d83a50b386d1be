"""Data-parallel training with PyTorch, a worker for ``torchrun``; mirrors the TF twin.

Run ``python -m torch.distributed.run --nproc-per-node 2 -m bigmodel.torch.distributed
--data d.npz --out run/`` (see :func:`bigmodel.distributed.torchrun_command`): every process
builds the same model from the same seed, wraps it in ``DistributedDataParallel`` (or
shards it with FSDP2's ``fully_shard`` with ``--fsdp``), takes its slice of each global
batch (:func:`bigmodel.distributed.batch_rows`) and steps SGD with momentum. ``gloo`` on
CPUs, ``nccl`` on CUDA GPUs. Without ``torchrun`` (no ``WORLD_SIZE`` in the environment)
it trains alone. Rank 0 writes ``results.json``, the final weights and, every
``--checkpoint-every`` steps, a safetensors train state that ``--resume`` continues from.
Each process uses one CPU thread, so that N processes use N cores.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from .. import distributed as core
from ..files import atomic_write_text
from ..gpt import GPTConfig
from .fcnn import FCNN
from .gpt import GPT

__all__ = ["build_model", "main", "run"]


def build_model(config, params: dict[str, np.ndarray]) -> nn.Module:
    """The FCNN or GPT of ``config`` holding ``params`` (float32, on the CPU)."""
    return GPT(config, params=params) if isinstance(config, GPTConfig) else FCNN(config, params)


def _loss(model: nn.Module, config, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    if isinstance(config, GPTConfig):
        return model(x, y)[1]
    return nn.functional.cross_entropy(model(x), y)


def _named(model: nn.Module) -> dict[str, nn.Parameter]:
    return dict(model.named_parameters())


def _full(t: torch.Tensor) -> np.ndarray:
    """A parameter or buffer as one NumPy array, gathering FSDP's shards if needed."""
    t = t.detach()
    if hasattr(t, "full_tensor"):
        t = t.full_tensor()
    return t.float().cpu().numpy().copy()


def _batch(data: dict, config, rows: np.ndarray, device: torch.device):
    if isinstance(config, GPTConfig):
        T = config.block_size
        idx = rows[:, None] + np.arange(T)[None, :]  # (b, T) windows starting at rows
        tokens = data["tokens"]
        x, y = tokens[idx], tokens[idx + 1]
    else:
        x, y = data["x"][rows], data["y"][rows]
    return torch.as_tensor(x, device=device), torch.as_tensor(y, device=device)


def run(args: argparse.Namespace) -> dict:
    """Train as this process's rank; return the results (rank 0 also writes them)."""
    torch.set_num_threads(1)
    distributed = "WORLD_SIZE" in os.environ
    n_procs = int(os.environ.get("WORLD_SIZE", 1))
    # NCCL needs a GPU of its own per process; with fewer GPUs the run stays on CPUs
    cuda = args.device == "cuda" or (
        args.device == "auto" and torch.cuda.device_count() >= n_procs)
    if cuda and torch.cuda.device_count() < n_procs:
        raise ValueError(f"--device cuda with {n_procs} processes needs {n_procs} GPUs; "
                         f"{torch.cuda.device_count()} found (use --device cpu)")
    if distributed:
        backend = "nccl" if cuda else "gloo"
        world = int(os.environ["WORLD_SIZE"])
        core.check_world_size(world, args.batch * world, args.world_size)
        if cuda:
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)))
        dist.init_process_group(backend)
        rank = dist.get_rank()
    else:
        backend, world, rank = "none", 1, 0
        core.check_world_size(1, args.batch, args.world_size)
    device = torch.device(f"cuda:{torch.cuda.current_device()}" if cuda else "cpu")
    if args.batch % args.accum:
        raise ValueError(f"--batch {args.batch} does not split into --accum {args.accum} parts")
    if args.fsdp and (args.checkpoint_every or args.resume):
        raise ValueError("--fsdp with --checkpoint-every or --resume is not supported here; "
                         "checkpoint a DDP run instead")
    config = core.model_config(args.model)
    data, n_rows = core.load_worker_data(args.data, config)
    params, start = core.init_weights(config, args.seed), 0
    momentum: dict[str, np.ndarray] = {}
    if args.resume:
        params, momentum, start, _ = core.load_train_state(args.resume)
    model = build_model(config, params).to(device)
    n_params = sum(p.numel() for p in model.parameters())
    if args.fsdp:
        from torch.distributed.device_mesh import init_device_mesh
        from torch.distributed.fsdp import fully_shard

        mesh = init_device_mesh(device.type, (world,))
        for layer in getattr(model, "h", []):  # each GPT block its own shard unit
            fully_shard(layer, mesh=mesh)
        fully_shard(model, mesh=mesh)
        step_model: nn.Module = model
    elif distributed:
        step_model = nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if cuda else None)
    else:
        step_model = model
    opt = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    if momentum:  # the resumed run continues with the saved velocities
        for name, p in _named(model).items():
            opt.state[p]["momentum_buffer"] = torch.as_tensor(momentum[name], device=device)
    out = Path(args.out)
    losses, seconds, written = [], [], []
    for step in range(start, args.steps):
        core.inject_fault(args, step, rank)
        rows = core.batch_rows(n_rows, args.batch * world, step, args.seed, rank, world)
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        total = torch.zeros((), device=device)
        for j, part in enumerate(np.split(rows, args.accum)):
            x, y = _batch(data, config, part, device)
            last = j == args.accum - 1
            # accumulate locally; only the last micro-batch's backward all-reduces
            sync = (contextlib.nullcontext() if last or not hasattr(step_model, "no_sync")
                    else step_model.no_sync())
            with sync:
                loss = _loss(step_model, config, x, y) / args.accum
                loss.backward()
            total += loss.detach()
        opt.step()
        if cuda:
            torch.cuda.synchronize()
        seconds.append(time.perf_counter() - t0)
        if distributed:  # the mean loss over all ranks, for the log (not timed)
            dist.all_reduce(total)
            total /= world
        losses.append(float(total))
        if args.checkpoint_every and (step + 1) % args.checkpoint_every == 0 and rank == 0:
            named = _named(model)
            save = {n: _full(p) for n, p in named.items()}
            mom = {n: _full(opt.state[p]["momentum_buffer"]) for n, p in named.items()}
            core.save_train_state(out / f"state-{step + 1}.safetensors", save, mom, step + 1,
                                  {"model": args.model, "world_size": str(world)})
            written.append(f"state-{step + 1}.safetensors")
    allreduce_s = None
    if args.time_allreduce and distributed:
        buf = torch.zeros(n_params, device=device)
        dist.all_reduce(buf)
        t0 = time.perf_counter()
        for _ in range(10):
            dist.all_reduce(buf)
        allreduce_s = (time.perf_counter() - t0) / 10
    final = {n: _full(p) for n, p in _named(model).items()}
    local = sum(p.to_local().numel() if hasattr(p, "to_local") else p.numel()
                for p in model.parameters())
    results = {
        "framework": "torch", "backend": backend, "world_size": world, "model": args.model,
        "start_step": start, "steps": args.steps, "batch_per_process": args.batch,
        "global_batch": args.batch * world, "accum": args.accum, "fsdp": args.fsdp,
        "losses": losses, "step_seconds": seconds, "allreduce_seconds": allreduce_s,
        "n_params": n_params, "local_params": local, "peak_rss_mb": core.peak_rss_mb(),
        "rank": rank, "checkpoints": written,
    }
    if rank == 0:
        core.write_results(out, results, final)
    else:  # every other rank leaves a log of what it wrote (no checkpoints: rank 0 does)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / f"rank{rank}.json", json.dumps(results))
    if distributed:
        dist.barrier()
        dist.destroy_process_group()
    return results


def main(argv: list[str] | None = None) -> None:
    """The command line: ``python -m bigmodel.torch.distributed --help``."""
    run(core.parse_worker_args("bigmodel.torch.distributed", argv))


if __name__ == "__main__":
    main()
