"""The contract both frameworks' data-parallel workers keep: one command line, the same
batches from the same seed, the same initial weights, the same checkpoint and result files."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from ..checkpoint import checkpoint_sha256, tensors_sha256
from ..files import atomic_write, atomic_write_npz, atomic_write_text
from ..flags import integer_flag, number_flag
from ..gpt import CONFIGS, GPTConfig
from ..gpt import init_params as gpt_init_params
from ..inputs import integer, positive_int
from ..numpy.fcnn import FCNNConfig
from ..numpy.fcnn import init_params as fcnn_init_params
from ..training import check_dataset

STATE_FORMAT = "bigmodel.distributed/2"


def check_world_size(world_size: int, global_batch: int | None = None,
                     expected: int | None = None) -> int:
    """``world_size`` if it is usable, else a ``ValueError`` that says how to fix it.

    Args:
        world_size: processes (or replicas) taking part.
        global_batch: examples per step over all of them; must split evenly.
        expected: the world size the run was set up for (``--world-size``); a launcher
            that started another number of processes is refused.
    """
    if global_batch is not None:
        global_batch = positive_int(global_batch, "global_batch")
    if expected is not None:
        expected = positive_int(expected, "expected")
    n = positive_int(world_size, "world_size")
    if expected is not None and n != expected:
        raise ValueError(
            f"world size mismatch: {n} processes were launched but the run expects "
            f"{expected}; launch {expected} (torchrun --nproc-per-node {expected}) or pass "
            f"--world-size {n}"
        )
    if global_batch is not None and global_batch % n:
        raise ValueError(
            f"the global batch of {global_batch} does not split over {n} processes; "
            f"use a multiple of {n}"
        )
    return n


def batch_rows(n_rows: int, global_batch: int, step: int, seed: int, rank: int = 0,
               world_size: int = 1) -> np.ndarray:
    """Row indices of ``rank``'s share of step ``step``'s global batch, ``(global_batch / N,)``.

    Every rank draws the same global batch (from ``seed`` and ``step`` alone, so a resumed
    run draws what the first would have) and takes its contiguous slice: ``N`` processes
    with ``b`` rows each see exactly the ``N·b`` rows one process would see.
    """
    n_rows = positive_int(n_rows, "n_rows")
    step, seed = integer(step, "step", low=0), integer(seed, "seed", low=0)
    rank = integer(rank, "rank", low=0, high=positive_int(world_size, "world_size") - 1)
    check_world_size(world_size, global_batch)
    rows = np.random.default_rng([seed, step]).choice(n_rows, size=global_batch,
                                                       replace=global_batch > n_rows)
    b = global_batch // world_size
    return rows[rank * b:(rank + 1) * b]


def model_config(name: str) -> FCNNConfig | GPTConfig:
    """The model a worker trains: ``"fcnn"`` (784-128-10, ReLU, logits out) or
    ``"gpt:<size>"`` with a size of ``bigmodel.gpt.CONFIGS`` (``"gpt:nano"``)."""
    if name == "fcnn":
        return FCNNConfig(n_in=784, n_hidden=128, n_out=10, activation="relu")
    if name.startswith("gpt:") and name[4:] in CONFIGS:
        return CONFIGS[name[4:]]
    raise ValueError(f"model {name!r}: use 'fcnn' or 'gpt:<size>' with a size in {sorted(CONFIGS)}")


def init_weights(config: FCNNConfig | GPTConfig, seed: int) -> dict[str, np.ndarray]:
    """The initial weights every rank (and every framework) starts from, float32."""
    seed = integer(seed, "seed", low=0)
    if isinstance(config, GPTConfig):
        return gpt_init_params(config, rng=seed)
    params = fcnn_init_params(config, rng=seed, scheme="he")
    return {k: np.asarray(v, np.float32) for k, v in params.items()}


def load_worker_data(path: str | os.PathLike, config: FCNNConfig | GPTConfig) -> tuple[dict, int]:
    """The arrays of a worker's ``.npz`` (``x (n, 784)`` and ``y (n,)`` for the FCNN, int64
    ``tokens (n,)`` for a GPT), checked, and how many rows (or window starts) they offer."""
    try:
        f = np.load(path)
    except (ValueError, OSError, EOFError) as err:  # NumPy would suggest allow_pickle=True
        raise ValueError(
            f"{path} is not a NumPy .npz archive ({type(err).__name__}); write the worker's "
            "data with numpy.savez(path, x=..., y=...) or numpy.savez(path, tokens=...)"
        ) from None
    if not isinstance(f, np.lib.npyio.NpzFile):
        raise ValueError(f"{path} holds one array, not an .npz archive of named arrays")
    with f:
        data = {k: f[k] for k in f.files}
    if isinstance(config, GPTConfig):
        if "tokens" not in data:
            raise ValueError(f"{path} has no 'tokens' array; a GPT needs tokens (n,)")
        data["tokens"] = data["tokens"].astype(np.int64)
        return data, len(data["tokens"]) - config.block_size
    if "x" not in data or "y" not in data:
        raise ValueError(f"{path} needs arrays 'x' (n, 784) and 'y' (n,) for the FCNN")
    data["x"], data["y"] = check_dataset(config, data["x"], data["y"])
    return data, len(data["y"])


def parse_worker_args(prog: str, argv: list[str] | None = None) -> argparse.Namespace:
    """:func:`worker_parser`'s flags, each checked by its type as it is parsed (one line and
    exit status 2 for a bad one, before any work): steps, batch and accum at least 1, a
    finite positive rate, a momentum in [0, 1)."""
    return worker_parser(prog).parse_args(argv)


def worker_parser(prog: str) -> argparse.ArgumentParser:
    """The command line both frameworks' workers accept (one contract, two engines)."""
    p = argparse.ArgumentParser(prog=prog, description="data-parallel training worker")
    p.add_argument("--model", default="fcnn", help="'fcnn' or 'gpt:nano', 'gpt:tiny', ...")
    p.add_argument("--data", required=True, help=".npz with x (n, 784) and y (n,), or tokens (n,)")
    p.add_argument("--out", required=True, help="folder for results.json, weights.npz, checkpoints")
    positive, natural = integer_flag(low=1), integer_flag(low=0)
    p.add_argument("--steps", type=positive, default=5, help="optimizer steps in all")
    p.add_argument("--batch", type=positive, default=32, help="examples per process per step")
    p.add_argument("--accum", type=positive, default=1, help="micro-batches per step (accumulation)")
    p.add_argument("--lr", type=number_flag(0, low_open=True), default=0.05)
    p.add_argument("--momentum", type=number_flag(0, 1, high_open=True), default=0.9)
    p.add_argument("--seed", type=natural, default=0)
    p.add_argument("--world-size", type=positive, default=None, help="expected processes/replicas")
    p.add_argument("--checkpoint-every", type=natural, default=0, help="rank 0 saves every k steps")
    p.add_argument("--resume", default=None, help="a train-state .safetensors to start from")
    never = integer_flag(low=-1)  # -1: never
    p.add_argument("--die-at-step", type=never, default=-1, help="fault injection: exit there")
    p.add_argument("--hang-at-step", type=never, default=-1, help="fault injection: sleep there")
    p.add_argument("--fault-rank", type=natural, default=1, help="the rank that dies or hangs")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"),
                   help="auto: one CUDA GPU per process if there are enough, else the CPU")
    p.add_argument("--time-allreduce", action="store_true", help="also time a bare all-reduce")
    p.add_argument("--fsdp", action="store_true", help="PyTorch only: shard with FSDP2")
    p.add_argument("--strategy", default="auto",
                   help="TensorFlow only: auto, mirrored (2 logical CPUs) or multiworker")
    return p


def inject_fault(args: argparse.Namespace, step: int, rank: int) -> None:
    """Die or hang at ``--die-at-step`` / ``--hang-at-step`` on ``--fault-rank`` (for tests)."""
    if rank != args.fault_rank:
        return
    if step == args.die_at_step:
        print(f"rank {rank}: dying at step {step} (--die-at-step)", file=sys.stderr, flush=True)
        os._exit(3)
    if step == args.hang_at_step:
        print(f"rank {rank}: hanging at step {step} (--hang-at-step)", file=sys.stderr, flush=True)
        time.sleep(3600)


def save_train_state(path: str | os.PathLike, params: dict[str, np.ndarray],
                     momentum: dict[str, np.ndarray], step: int,
                     metadata: dict[str, str] | None = None) -> None:
    """Write weights and momentum after ``step`` steps as safetensors (never a pickle).

    Written to a temporary name and renamed, so a crash mid-write leaves the previous
    checkpoint intact. The SHA-256 of the tensors and the metadata (the step included,
    :func:`bigmodel.checkpoint.checkpoint_sha256`) goes in the metadata and is checked by
    :func:`load_train_state`.
    """
    from safetensors.numpy import save_file

    step = integer(step, "step", low=0)
    arrays = {f"param/{k}": np.ascontiguousarray(v, np.float32) for k, v in params.items()}
    arrays.update({f"momentum/{k}": np.ascontiguousarray(v, np.float32)
                   for k, v in momentum.items()})
    meta = {"format": STATE_FORMAT, "step": str(int(step)), **(metadata or {})}
    meta["sha256"] = checkpoint_sha256(arrays, meta)
    atomic_write(path, lambda tmp: save_file(arrays, tmp, metadata=meta))


def load_train_state(path: str | os.PathLike) -> tuple[dict, dict, int, dict]:
    """``(params, momentum, step, metadata)`` from a file of :func:`save_train_state`.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: not such a file (or one of an older format), or its tensors and
            metadata do not match their recorded SHA-256.
    """
    from safetensors import safe_open

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no train-state checkpoint at {path}")
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = f.metadata() or {}
            arrays = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 (not a dict)
    except Exception as err:
        raise ValueError(f"{path} is not a readable safetensors file: {err}") from err
    if meta.get("format") != STATE_FORMAT:
        raise ValueError(f"{path} is not a bigmodel train state of format {STATE_FORMAT!r} "
                         f"(format {meta.get('format')!r}); start the run again without --resume")
    if checkpoint_sha256(arrays, meta) != meta.get("sha256"):
        raise ValueError(f"{path}: the tensors and metadata do not match their recorded SHA-256 "
                         "(corrupted or edited); start the run again without --resume")
    params = {k[6:]: v for k, v in arrays.items() if k.startswith("param/")}
    momentum = {k[9:]: v for k, v in arrays.items() if k.startswith("momentum/")}
    return params, momentum, int(meta["step"]), meta


def write_results(out: str | os.PathLike, results: dict, params: dict[str, np.ndarray]) -> None:
    """Rank 0's output: ``weights.npz`` (final weights) and ``results.json`` (written last,
    so its presence means the run finished)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_npz(out / "weights.npz", params)
    results = {**results, "weights": str(out / "weights.npz"),
               "weights_sha256": tensors_sha256(params)}
    atomic_write_text(out / "results.json", json.dumps(results, indent=1))


def check_micro_batches(micro_batches: int, batch: int) -> int:
    """``micro_batches`` if it is an integer >= 1 dividing ``batch`` rows, else a ``ValueError``."""
    batch = positive_int(batch, "batch")
    k = positive_int(micro_batches, "micro_batches")
    if batch % k:
        raise ValueError(f"micro_batches={k} does not split a batch of {batch} rows into "
                         f"equal parts; use a divisor of {batch}")
    return k
