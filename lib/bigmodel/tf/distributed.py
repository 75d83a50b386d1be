"""Data-parallel training with TensorFlow; mirrors :mod:`bigmodel.torch.distributed`.

Run ``python -m bigmodel.tf.distributed --strategy mirrored --data d.npz --out run/`` for
``tf.distribute.MirroredStrategy`` over ``--world-size`` (default 2) logical CPU devices
in one process, or start one process per worker with ``TF_CONFIG`` set
(:func:`bigmodel.distributed.tf_config`, :func:`bigmodel.distributed.launch_workers`) for
``MultiWorkerMirroredStrategy``. Without either, one replica trains alone. The contract is
the PyTorch worker's (:func:`bigmodel.distributed.worker_parser`): the same batches, the
same initial weights, SGD with momentum (``v = μ·v + g``, ``w -= lr·v``, as
``torch.optim.SGD``), the gradients averaged over the replicas, and worker 0 writing
``results.json``, the weights and the safetensors train states.

Logical devices can be configured only before TensorFlow initialises its runtime, so
the mirrored mode belongs in a fresh process (this module's command line), not in a
notebook kernel that has already run TensorFlow.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from .. import distributed as core
from ..files import atomic_write_text
from ..gpt import GPTConfig
from .fcnn import FCNN
from .gpt import GPT
from .loop import loss_fn

__all__ = ["build_model", "main", "run"]


def build_model(config, params: dict[str, np.ndarray]) -> tf.Module:
    """The FCNN or GPT of ``config`` holding ``params`` (variables created in the current
    distribution strategy's scope, so they are mirrored under one)."""
    return GPT(config, params=params) if isinstance(config, GPTConfig) else FCNN(config, params)


def _named(model: tf.Module, config) -> dict[str, tf.Variable]:
    if isinstance(config, GPTConfig):
        return dict(model.variables_by_name)
    return {name: getattr(model, name) for name in ("W1", "b1", "W2", "b2")}


def _loss(model: tf.Module, config, x: tf.Tensor, y: tf.Tensor) -> tf.Tensor:
    if isinstance(config, GPTConfig):
        return model(x, y)[1]
    return loss_fn(model(x), y, "cross_entropy")


def _batch(data: dict, config, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(config, GPTConfig):
        idx = rows[:, None] + np.arange(config.block_size)[None, :]  # (b, T)
        return data["tokens"][idx], data["tokens"][idx + 1]
    return data["x"][rows], data["y"][rows]


def _strategy(args: argparse.Namespace) -> tuple[tf.distribute.Strategy, int, str]:
    """The strategy, this process's worker index, and its name."""
    mode = args.strategy
    if mode == "auto":
        mode = "multiworker" if "TF_CONFIG" in os.environ else "none"
    if mode == "mirrored":
        n = args.world_size or 2
        cpu = tf.config.list_physical_devices("CPU")[0]
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration()] * n)
        except RuntimeError as err:  # the runtime is already up: too late in this process
            raise RuntimeError(
                "logical CPU devices must be configured before TensorFlow initialises; "
                "run the mirrored strategy in a fresh process (python -m "
                f"bigmodel.tf.distributed ...): {err}") from err
        tf.config.threading.set_intra_op_parallelism_threads(1)
        devices = [d.name for d in tf.config.list_logical_devices("CPU")][:n]
        return tf.distribute.MirroredStrategy(devices), 0, "mirrored"
    if mode == "multiworker":
        if "TF_CONFIG" not in os.environ:
            raise ValueError("--strategy multiworker needs TF_CONFIG "
                             "(see bigmodel.distributed.tf_config)")
        tf.config.threading.set_intra_op_parallelism_threads(1)
        index = json.loads(os.environ["TF_CONFIG"])["task"]["index"]
        return tf.distribute.MultiWorkerMirroredStrategy(), int(index), "multiworker"
    if mode != "none":
        raise ValueError(f"--strategy {mode!r}: choose auto, mirrored, multiworker or none")
    tf.config.threading.set_intra_op_parallelism_threads(1)
    return tf.distribute.get_strategy(), 0, "none"


def run(args: argparse.Namespace) -> dict:
    """Train as this process's worker; return the results (worker 0 also writes them)."""
    if args.fsdp:
        raise ValueError("--fsdp is PyTorch's; TensorFlow has no FSDP (see the chapter)")
    if args.batch % args.accum:
        raise ValueError(f"--batch {args.batch} does not split into --accum {args.accum} parts")
    if args.device == "cpu":  # before the runtime starts: hide the GPUs from this process
        tf.config.set_visible_devices([], "GPU")
    strategy, rank, mode = _strategy(args)
    world = strategy.num_replicas_in_sync
    core.check_world_size(world, args.batch * world, args.world_size)
    config = core.model_config(args.model)
    data, n_rows = core.load_worker_data(args.data, config)
    params, start = core.init_weights(config, args.seed), 0
    momentum = {k: np.zeros_like(v) for k, v in params.items()}
    if args.resume:
        params, momentum, start, _ = core.load_train_state(args.resume)
    with strategy.scope():
        model = build_model(config, params)
        named = _named(model, config)
        moms = {n: tf.Variable(momentum[n], name=f"momentum/{n}") for n in named}
    names = list(named)
    variables = [named[n] for n in names]
    velocities = [moms[n] for n in names]
    n_params = int(sum(np.prod(v.shape) for v in variables))
    lr, mu, accum = args.lr, args.momentum, args.accum

    def replica_step(x, y):
        grads = [tf.zeros_like(v) for v in variables]
        total = tf.zeros(())
        for xm, ym in zip(tf.split(x, accum), tf.split(y, accum), strict=True):
            with tf.GradientTape() as tape:
                loss = _loss(model, config, xm, ym) / accum
            step_grads = tape.gradient(loss, variables)
            grads = [g + tf.convert_to_tensor(s) for g, s in zip(grads, step_grads, strict=True)]
            total += loss
        ctx = tf.distribute.get_replica_context()
        grads = ctx.all_reduce(tf.distribute.ReduceOp.MEAN, grads)  # one batched all-reduce
        return ctx.all_reduce(tf.distribute.ReduceOp.MEAN, total), grads

    @tf.function(reduce_retracing=True)
    def train_step(xs, ys):
        loss, grads = strategy.run(replica_step, args=(xs, ys))
        loss = strategy.experimental_local_results(loss)[0]
        grads = [strategy.experimental_local_results(g)[0] for g in grads]
        for v, m, g in zip(variables, velocities, grads, strict=True):
            m.assign(mu * m + g)
            v.assign_sub(lr * m)
        return loss

    out = Path(args.out)
    losses, seconds, written = [], [], []
    for step in range(start, args.steps):
        core.inject_fault(args, step, rank)
        shards = [_batch(data, config, core.batch_rows(n_rows, args.batch * world, step,
                                                       args.seed, r, world))
                  for r in range(world)]

        def value(ctx, k, shards=shards):
            return tf.constant(shards[ctx.replica_id_in_sync_group][k])

        xs = strategy.experimental_distribute_values_from_function(lambda c: value(c, 0))
        ys = strategy.experimental_distribute_values_from_function(lambda c: value(c, 1))
        t0 = time.perf_counter()
        loss = float(train_step(xs, ys))
        seconds.append(time.perf_counter() - t0)
        losses.append(loss)
        if args.checkpoint_every and (step + 1) % args.checkpoint_every == 0 and rank == 0:
            core.save_train_state(
                out / f"state-{step + 1}.safetensors",
                {n: named[n].numpy() for n in names}, {n: moms[n].numpy() for n in names},
                step + 1, {"model": args.model, "world_size": str(world)})
            written.append(f"state-{step + 1}.safetensors")
    final = {n: named[n].numpy().copy() for n in names}
    results = {
        "framework": "tf", "backend": mode, "world_size": world, "model": args.model,
        "start_step": start, "steps": args.steps, "batch_per_process": args.batch,
        "global_batch": args.batch * world, "accum": args.accum, "fsdp": False,
        "losses": losses, "step_seconds": seconds, "allreduce_seconds": None,
        "n_params": n_params, "local_params": n_params, "peak_rss_mb": core.peak_rss_mb(),
        "rank": rank, "checkpoints": written,
    }
    if rank == 0:
        core.write_results(out, results, final)
    else:  # every other rank leaves a log of what it wrote (no checkpoints: rank 0 does)
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(out / f"rank{rank}.json", json.dumps(results))
    return results


def main(argv: list[str] | None = None) -> None:
    """The command line: ``python -m bigmodel.tf.distributed --help``."""
    run(core.parse_worker_args("bigmodel.tf.distributed", argv))


if __name__ == "__main__":
    main()
