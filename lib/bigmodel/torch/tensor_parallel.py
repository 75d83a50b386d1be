"""Tensor parallelism for :class:`bigmodel.torch.gpt.GPT` on PyTorch's own engine.

``torch.distributed.tensor.parallel`` splits a module by *styles*: ``ColwiseParallel``
and ``RowwiseParallel`` shard a layer's parameters as ``DTensor`` s over a device mesh
and insert the collectives at its input and output. PyTorch's styles know ``nn.Linear``,
which stores its weight output x input; the book's layers store input x output (``x @
W``), so :class:`ColumnParallel` and :class:`RowParallel` are those styles with the
shard dimensions swapped, nothing else. :func:`parallelize_gpt` applies them to every
block as :mod:`bigmodel.distributed.model_parallel` describes (Megatron-LM's split), after
reordering ``c_attn``'s columns so that each rank holds whole heads.

``python -m torch.distributed.run --nproc-per-node 2 -m bigmodel.torch.tensor_parallel
--config '{...}' --batch 4 --out DIR`` runs one forward and backward pass on 2 processes
(gloo on CPUs), counts the collectives in each pass with PyTorch's ``CommDebugMode``,
times steps and one all-reduce, and rank 0 writes ``results.json`` and the loss, logits
and full gradients (``grads.npz``) for a comparison with one process (:func:`reference`).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.distributed.device_mesh import DeviceMesh, init_device_mesh
from torch.distributed.tensor import DTensor, Replicate, Shard, distribute_module, distribute_tensor
from torch.distributed.tensor.debug import CommDebugMode
from torch.distributed.tensor.parallel import ColwiseParallel, RowwiseParallel, parallelize_module

from ..distributed.memory import median_seconds
from ..distributed.model_parallel import check_tensor_parallel, qkv_columns, random_batch
from ..files import atomic_write_npz, atomic_write_text
from ..flags import integer_flag
from ..gpt import GPTConfig, init_params
from ..inputs import integer, positive_int
from .gpt import GPT

__all__ = ["ColumnParallel", "RowParallel", "full_grads", "main", "parallelize_gpt",
           "reference", "run"]


def _shard(module: nn.Module, mesh: DeviceMesh, placements: dict[str, Shard | Replicate]) -> None:
    for name, param in list(module.named_parameters(recurse=False)):
        dist_param = distribute_tensor(param, mesh, [placements[name]])
        module.register_parameter(name, nn.Parameter(dist_param, param.requires_grad))


class ColumnParallel(ColwiseParallel):
    """``ColwiseParallel`` for an input x output layer: weight ``Shard(1)``, bias
    ``Shard(0)``; a replicated input, an output sharded on its last dimension."""

    def _apply(self, module: nn.Module, device_mesh: DeviceMesh) -> nn.Module:
        return distribute_module(
            module, device_mesh,
            lambda _, m, mesh: _shard(m, mesh, {"weight": Shard(1), "bias": Shard(0)}),
            partial(self._prepare_input_fn, self.input_layouts, self.desired_input_layouts),
            partial(self._prepare_output_fn, self.output_layouts, self.use_local_output),
        )


class RowParallel(RowwiseParallel):
    """``RowwiseParallel`` for an input x output layer: weight ``Shard(0)``, bias
    replicated; an input sharded on its last dimension, partial sums all-reduced."""

    def _apply(self, module: nn.Module, device_mesh: DeviceMesh) -> nn.Module:
        self.desired_input_layouts = (Shard(-1),)
        return distribute_module(
            module, device_mesh,
            lambda _, m, mesh: _shard(m, mesh, {"weight": Shard(0), "bias": Replicate()}),
            partial(self._prepare_input_fn, self.input_layouts, self.desired_input_layouts),
            partial(self._prepare_output_fn, self.output_layouts, self.use_local_output),
        )


def parallelize_gpt(model: GPT, mesh: DeviceMesh) -> GPT:
    """Split every block of ``model`` over ``mesh`` (in place): ``c_attn`` and ``c_fc`` by
    columns, ``c_proj`` by rows; each rank keeps ``n_head / N`` heads.

    Every rank must hold the same weights before the call (the same seed).
    """
    n = check_tensor_parallel(model.config, mesh.size())
    cols = torch.as_tensor(qkv_columns(model.config, n))
    for block in model.h:
        c_attn = block.attn.c_attn
        with torch.no_grad():  # [q, k, v] -> [q_0, k_0, v_0, q_1, ...]: whole heads per rank
            c_attn.weight.copy_(c_attn.weight[:, cols])
            if c_attn.bias is not None:
                c_attn.bias.copy_(c_attn.bias[cols])
        block.attn.n_head //= n
        parallelize_module(block, mesh, {
            "attn.c_attn": ColumnParallel(), "attn.c_proj": RowParallel(),
            "mlp.c_fc": ColumnParallel(), "mlp.c_proj": RowParallel(),
        })
    return model


def full_grads(model: GPT) -> dict[str, np.ndarray]:
    """Every parameter's gradient, gathered whole and in the plain ``[q, k, v]`` order of
    ``c_attn``, named as :func:`bigmodel.gpt.param_shapes` (float32 NumPy)."""
    world = dist.get_world_size() if dist.is_initialized() else 1
    order = np.argsort(qkv_columns(model.config, world))
    grads = {}
    for name, p in model.named_parameters():
        g = p.grad.full_tensor() if isinstance(p.grad, DTensor) else p.grad
        g = g.detach().cpu().numpy()
        if ".attn.c_attn." in name:
            g = g[..., order]
        grads[name] = g.copy()
    return grads


def _batch(config: GPTConfig, batch: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    x, y = random_batch(config, batch, seed)  # (B, T) each
    return torch.as_tensor(x), torch.as_tensor(y)


def reference(config: GPTConfig, batch: int, seed: int = 0) -> dict:
    """One process's loss, logits and gradients on the batch :func:`run` uses: what the
    tensor-parallel run must reproduce."""
    batch, seed = positive_int(batch, "batch"), integer(seed, "seed", low=0)
    model = GPT(config, params=init_params(config, rng=seed))
    x, y = _batch(config, batch, seed)
    logits, loss = model(x, y)
    loss.backward()
    return {"loss": float(loss.detach()), "logits": logits.detach().numpy(),
            "grads": full_grads(model)}


def _counts(mode: CommDebugMode) -> dict[str, int]:
    return {str(op).split(".")[-1]: int(k) for op, k in mode.get_comm_counts().items()}


def _allreduce_seconds(activation: torch.Tensor, repeats: int, run: int = 20) -> float:
    """Median over ``repeats`` of the mean time of ``run`` back-to-back all-reduces. An
    untimed one first brings the ranks into step, so the time is one all-reduce's cost and
    not the wait for a slower rank."""
    means = []
    for _ in range(repeats):
        dist.barrier()
        dist.all_reduce(activation)
        t0 = time.perf_counter()
        for _ in range(run):
            dist.all_reduce(activation)
        means.append((time.perf_counter() - t0) / run)
    return float(np.median(means))


def run(args: argparse.Namespace) -> dict:
    """This rank's share of the run; rank 0 also writes the results."""
    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    world, rank = dist.get_world_size(), dist.get_rank()
    config = GPTConfig.from_dict(json.loads(args.config))
    check_tensor_parallel(config, world)
    mesh = init_device_mesh("cpu", (world,))
    model = parallelize_gpt(GPT(config, params=init_params(config, rng=args.seed)), mesh)
    x, y = _batch(config, args.batch, args.seed)
    forward, backward = CommDebugMode(), CommDebugMode()
    with forward:
        logits, loss = model(x, y)
    with backward:
        loss.backward()
    grads = full_grads(model)

    def step() -> float:
        model.zero_grad(set_to_none=True)
        _, step_loss = model(x, y)
        step_loss.backward()
        return float(step_loss)

    activation = torch.zeros(args.batch, config.block_size, config.n_embd)
    results = {
        "world_size": world, "loss": float(loss.detach()),
        "allreduces_forward": _counts(forward), "allreduces_backward": _counts(backward),
        "step_seconds": median_seconds(step, args.repeats),
        "allreduce_seconds": _allreduce_seconds(activation, args.repeats),
        "local_c_fc_shape": list(model.h[0].mlp.c_fc.weight.to_local().shape),
    }
    if rank == 0:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_npz(out / "grads.npz", {"logits": logits.detach().numpy(), **grads})
        atomic_write_text(out / "results.json", json.dumps(results, indent=1))  # last
    dist.barrier()
    dist.destroy_process_group()
    return results


def parser() -> argparse.ArgumentParser:
    """The worker's flags, each checked by its type before any work."""
    p = argparse.ArgumentParser(prog="bigmodel.torch.tensor_parallel")
    p.add_argument("--config", required=True, help="GPTConfig fields as JSON")
    p.add_argument("--batch", type=integer_flag(low=1), default=4)
    p.add_argument("--seed", type=integer_flag(low=0), default=0)
    p.add_argument("--repeats", type=integer_flag(low=1), default=5)
    p.add_argument("--out", required=True, help="folder for results.json and grads.npz")
    return p


def main(argv: Sequence[str] | None = None) -> None:
    """The command line (see the module docstring); run under ``torchrun``."""
    args = parser().parse_args(argv)
    if "WORLD_SIZE" not in os.environ:
        parser().error("run under torchrun (python -m torch.distributed.run ...)")
    run(args)


if __name__ == "__main__":
    main()
