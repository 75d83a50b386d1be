"""Training on many devices, the framework-neutral half: arithmetic, launching, checkpoints.

- What data parallelism costs: the bytes of gradient every device sends per step in a
  ring all-reduce (:func:`allreduce_bytes`), the memory per device of the model states
  under ZeRO's stages 1-3 (:func:`zero_memory_per_device`, Rajbhandari et al., 2020), and
  GPU-days from FLOPs, a peak and a utilisation (:func:`gpu_days`).
- Launching: :func:`launch` runs a command (``torchrun ...``, ``python -m ...``) in its
  own process group with a timeout and reads back the JSON its rank 0 wrote;
  :func:`launch_workers` runs several worker processes at once (TensorFlow's
  ``MultiWorkerMirroredStrategy``) and stops them all when one fails. Both raise
  :class:`LaunchError` with the failing worker's last lines, never hang.
- The workers' shared contract (:func:`worker_parser`, :func:`batch_rows`,
  :func:`save_train_state` / :func:`load_train_state`), used by
  :mod:`bigmodel.torch.distributed` and :mod:`bigmodel.tf.distributed` alike, so the two
  see the same batches, start from the same weights and write the same files.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from .fcnn import FCNNConfig
from .fcnn import init_params as fcnn_init_params
from .gpt import CONFIGS, GPTConfig, tensors_sha256
from .gpt import init_params as gpt_init_params
from .inputs import positive_int
from .training import check_dataset

__all__ = [
    "STATE_FORMAT",
    "ZERO_STAGES",
    "LaunchError",
    "allreduce_bytes",
    "batch_rows",
    "check_micro_batches",
    "check_port_free",
    "check_world_size",
    "free_port",
    "gpu_days",
    "init_weights",
    "inject_fault",
    "launch",
    "launch_workers",
    "load_worker_data",
    "load_train_state",
    "max_rel_diff",
    "median_seconds",
    "model_config",
    "peak_memory_main",
    "peak_rss_mb",
    "return_freed_memory",
    "port_in_use",
    "rss_mb",
    "save_train_state",
    "step_peak_memory",
    "tf_config",
    "torchrun_command",
    "worker_parser",
    "write_results",
    "zero_memory_per_device",
]

ZERO_STAGES = (0, 1, 2, 3)
STATE_FORMAT = "bigmodel.distributed/1"


# ---------------------------------------------------------------- arithmetic


def allreduce_bytes(n_params: int, world_size: int, bytes_per_value: int = 4) -> float:
    """Bytes each device sends (and receives) per step to average ``n_params`` gradients.

    A ring all-reduce (reduce-scatter, then all-gather) sends ``2·(N-1)/N`` times the
    gradient's size from every one of the ``N`` devices, whatever ``N``: the cost per
    device stays about twice the model's gradient as the ring grows. ``N = 1`` sends
    nothing. ``bytes_per_value``: 4 for float32 gradients, 2 for bf16/fp16.
    """
    n = positive_int(world_size, "world_size")
    return 2.0 * (n - 1) / n * int(n_params) * bytes_per_value


def zero_memory_per_device(
    n_params: float,
    world_size: int,
    stage: int,
    param_bytes: int = 2,
    grad_bytes: int = 2,
    optimizer_bytes: int = 12,
) -> float:
    """Bytes of model states per device for mixed-precision Adam under ZeRO ``stage``.

    Rajbhandari et al. (2020), §3 and Figure 1: with ``Ψ`` parameters, fp16 parameters
    (2Ψ bytes) and gradients (2Ψ), and ``K = 12`` bytes of optimizer state per parameter
    (fp32 master weights, momentum and variance), plain data parallelism keeps
    ``(2 + 2 + K)·Ψ`` on every device. Stage 1 shards the optimizer states over the
    ``N`` devices, stage 2 the gradients too, stage 3 the parameters too:

    ``stage 0: (2+2+K)Ψ``, ``1: (2+2)Ψ + KΨ/N``, ``2: 2Ψ + (2+K)Ψ/N``, ``3: (2+2+K)Ψ/N``.

    Activations, buffers and fragmentation come on top; they are not model states.
    """
    n = positive_int(world_size, "world_size")
    if stage not in ZERO_STAGES:
        raise ValueError(f"stage must be one of {ZERO_STAGES}, got {stage!r}")
    p, g, k = (param_bytes * n_params, grad_bytes * n_params, optimizer_bytes * n_params)
    if stage == 0:
        return p + g + k
    if stage == 1:
        return p + g + k / n
    if stage == 2:
        return p + (g + k) / n
    return (p + g + k) / n


def gpu_days(flops: float, peak_flops: float, mfu: float, n_gpus: int = 1) -> float:
    """Days of ``n_gpus`` GPUs to compute ``flops`` at a share ``mfu`` of ``peak_flops``.

    ``flops / (peak_flops · mfu · n_gpus) / 86,400``; with ``n_gpus=1`` it is GPU-days.
    """
    if not 0 < mfu <= 1:
        raise ValueError(f"mfu must be in (0, 1], got {mfu!r}")
    if not peak_flops > 0:
        raise ValueError(f"peak_flops must be > 0, got {peak_flops!r}")
    return flops / (peak_flops * mfu * positive_int(n_gpus, "n_gpus")) / 86_400.0


def max_rel_diff(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> float:
    """Largest ``max|a - b| / max|b|`` over the tensors of two weight dictionaries.

    Raises:
        ValueError: the two hold different names or shapes.
    """
    if sorted(a) != sorted(b):
        raise ValueError(f"different tensors: {sorted(set(a) ^ set(b))}")
    worst = 0.0
    for name in a:
        x, y = np.asarray(a[name], np.float64), np.asarray(b[name], np.float64)
        if x.shape != y.shape:
            raise ValueError(f"tensor {name!r}: shapes {x.shape} and {y.shape}")
        scale = max(np.abs(y).max(initial=0.0), 1e-30)
        worst = max(worst, float(np.abs(x - y).max(initial=0.0) / scale))
    return worst


# ---------------------------------------------------------------- memory of this process


# glibc's mallopt parameters (malloc.h)
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3


def return_freed_memory(threshold_bytes: int = 128 * 1024) -> bool:
    """Make freed tensors leave the resident set at once, so that its peak means something.

    glibc serves a large allocation from its heap once a chunk of that size has been
    freed (the mmap threshold rises by itself, up to 32 MiB), and a freed heap chunk stays
    resident. A step's peak resident size then depends on what the process did before
    it, which differs between machines. With the threshold fixed at ``threshold_bytes``
    every block larger than that is its own mapping and is unmapped when freed. Call it
    first thing in a fresh process. Returns whether glibc took the setting (False on
    other C libraries, where the peak is what it is).
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    ok = mallopt(_M_MMAP_THRESHOLD, int(threshold_bytes)) == 1
    return ok and mallopt(_M_TRIM_THRESHOLD, int(threshold_bytes)) == 1


def median_seconds(fn: Callable[[], object], repeats: int = 5) -> float:
    """Median wall time (s) of ``repeats`` calls of ``fn`` after one warm-up call; ``fn``
    must wait for its device (return host values), or the time is only the launch."""
    repeats = positive_int(repeats, "repeats")
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def step_peak_memory(step: Callable[[np.ndarray, np.ndarray], float], config: GPTConfig,
                     batch: int, seed: int = 0) -> dict:
    """One training step's memory and time, measured the same way for both frameworks.

    ``step(x, y)`` runs one forward and backward pass on ids ``x``, targets ``y`` (both
    ``(batch, config.block_size)``, drawn from ``seed``) and returns the loss. A short
    warm-up step on ``(1, 8)`` loads the kernels, then ``rss_before`` (MiB) is read, one
    full step runs, and ``peak_mb`` is the process's peak resident size minus
    ``rss_before``. Meant for a fresh process that has called :func:`return_freed_memory`
    before building its model: the peak resident size never falls.

    Returns:
        ``{"peak_mb", "rss_before_mb", "seconds", "loss"}``.
    """
    rng = np.random.default_rng(seed)
    x = rng.integers(0, config.vocab_size, (batch, config.block_size))
    y = rng.integers(0, config.vocab_size, (batch, config.block_size))
    step(x[:1, :8], y[:1, :8])  # warm-up, small
    before = rss_mb()
    t0 = time.perf_counter()
    loss = step(x, y)
    seconds = time.perf_counter() - t0
    return {"peak_mb": peak_rss_mb() - before, "rss_before_mb": before,
            "seconds": seconds, "loss": loss}


def peak_memory_main(prog: str, peak_memory: Callable[..., dict],
                     argv: Sequence[str] | None = None) -> None:
    """The command line of ``bigmodel.torch.efficient`` and ``bigmodel.tf.efficient``:
    ``--config '{...}' --batch 4 [--checkpoint] [--out DIR]`` runs ``peak_memory`` and
    prints its dictionary as JSON (and writes it to ``DIR/results.json``)."""
    p = argparse.ArgumentParser(prog=prog)
    p.add_argument("--config", required=True, help="GPTConfig fields as JSON")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--checkpoint", action="store_true")
    p.add_argument("--out", default=None, help="folder for results.json")
    args = p.parse_args(argv)
    result = peak_memory(GPTConfig.from_dict(json.loads(args.config)), args.batch, args.checkpoint)
    print(json.dumps(result))
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        (Path(args.out) / "results.json").write_text(json.dumps(result))


def rss_mb() -> float:
    """This process's resident set size now, in MiB (Linux ``/proc``; else the peak)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        return peak_rss_mb()


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB; it never falls.

    On Linux ``VmHWM`` of ``/proc/self/status``, the high-water mark of this program's own
    memory. Not ``getrusage``'s ``ru_maxrss``: Linux carries that over from the parent
    through ``fork`` and ``exec``, so a worker started by a large notebook kernel would
    report the kernel's size. Elsewhere ``getrusage``.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 2**10  # kB
    except OSError:
        pass
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10  # bytes vs KiB


# ---------------------------------------------------------------- the workers' contract


def check_world_size(world_size: int, global_batch: int | None = None,
                     expected: int | None = None) -> int:
    """``world_size`` if it is usable, else a ``ValueError`` that says how to fix it.

    Args:
        world_size: processes (or replicas) taking part.
        global_batch: examples per step over all of them; must split evenly.
        expected: the world size the run was set up for (``--world-size``); a launcher
            that started another number of processes is refused.
    """
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
    if isinstance(config, GPTConfig):
        return gpt_init_params(config, rng=seed)
    params = fcnn_init_params(config, rng=seed, scheme="he")
    return {k: np.asarray(v, np.float32) for k, v in params.items()}


def load_worker_data(path: str | os.PathLike, config: FCNNConfig | GPTConfig) -> tuple[dict, int]:
    """The arrays of a worker's ``.npz`` (``x (n, 784)`` and ``y (n,)`` for the FCNN, int64
    ``tokens (n,)`` for a GPT), checked, and how many rows (or window starts) they offer."""
    with np.load(path) as f:
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


def worker_parser(prog: str) -> argparse.ArgumentParser:
    """The command line both frameworks' workers accept (one contract, two engines)."""
    p = argparse.ArgumentParser(prog=prog, description="data-parallel training worker")
    p.add_argument("--model", default="fcnn", help="'fcnn' or 'gpt:nano', 'gpt:tiny', ...")
    p.add_argument("--data", required=True, help=".npz with x (n, 784) and y (n,), or tokens (n,)")
    p.add_argument("--out", required=True, help="folder for results.json, weights.npz, checkpoints")
    p.add_argument("--steps", type=int, default=5, help="optimizer steps in all")
    p.add_argument("--batch", type=int, default=32, help="examples per process per step")
    p.add_argument("--accum", type=int, default=1, help="micro-batches per step (accumulation)")
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--world-size", type=int, default=None, help="expected processes/replicas")
    p.add_argument("--checkpoint-every", type=int, default=0, help="rank 0 saves every k steps")
    p.add_argument("--resume", default=None, help="a train-state .safetensors to start from")
    p.add_argument("--die-at-step", type=int, default=-1, help="fault injection: exit there")
    p.add_argument("--hang-at-step", type=int, default=-1, help="fault injection: sleep there")
    p.add_argument("--fault-rank", type=int, default=1, help="the rank that dies or hangs")
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
    checkpoint intact. The SHA-256 of the tensors goes in the metadata and is checked
    by :func:`load_train_state`.
    """
    from safetensors.numpy import save_file

    arrays = {f"param/{k}": np.ascontiguousarray(v, np.float32) for k, v in params.items()}
    arrays.update({f"momentum/{k}": np.ascontiguousarray(v, np.float32)
                   for k, v in momentum.items()})
    meta = {"format": STATE_FORMAT, "step": str(int(step)), "sha256": tensors_sha256(arrays),
            **(metadata or {})}
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    save_file(arrays, str(tmp), metadata=meta)
    os.replace(tmp, path)


def load_train_state(path: str | os.PathLike) -> tuple[dict, dict, int, dict]:
    """``(params, momentum, step, metadata)`` from a file of :func:`save_train_state`.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: not such a file, or its tensors do not match their recorded SHA-256.
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
        raise ValueError(f"{path} is not a bigmodel train state (format {meta.get('format')!r})")
    if tensors_sha256(arrays) != meta.get("sha256"):
        raise ValueError(f"{path}: the tensors do not match their recorded SHA-256 (corrupted)")
    params = {k[6:]: v for k, v in arrays.items() if k.startswith("param/")}
    momentum = {k[9:]: v for k, v in arrays.items() if k.startswith("momentum/")}
    return params, momentum, int(meta["step"]), meta


def write_results(out: str | os.PathLike, results: dict, params: dict[str, np.ndarray]) -> None:
    """Rank 0's output: ``weights.npz`` (final weights) and ``results.json`` (written last,
    so its presence means the run finished)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    np.savez(out / "weights.npz", **params)
    results = {**results, "weights": str(out / "weights.npz"),
               "weights_sha256": tensors_sha256(params)}
    (out / "results.json").write_text(json.dumps(results, indent=1))


# ---------------------------------------------------------------- launching


class LaunchError(RuntimeError):
    """A launched run failed: a worker died, it timed out, or it wrote no results."""


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something listens on ``host:port`` (or the port cannot be bound)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


def check_port_free(port: int, host: str = "127.0.0.1") -> int:
    """``port`` if nothing holds it, else a ``ValueError`` naming it and the fix."""
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ValueError(f"port must be an integer in 1..65535, got {port!r}")
    if port_in_use(port, host):
        raise ValueError(
            f"port {port} on {host} is in use (another run, or a worker left over?); "
            "pick another with bigmodel.distributed.free_port()"
        )
    return port


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that is free now (the OS's choice)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def torchrun_command(module: str, args: Sequence[str], nproc: int, port: int,
                     nnodes: int = 1, node_rank: int = 0, master_addr: str = "127.0.0.1",
                     python: str | None = None) -> list[str]:
    """``python -m torch.distributed.run ... -m module args``: the launcher line.

    The same line runs ``nproc`` processes per node on ``nnodes`` nodes; on a cluster only
    ``--nnodes``, ``--node-rank`` and ``--master-addr`` change (the first node's address).
    """
    positive_int(nproc, "nproc")
    positive_int(nnodes, "nnodes")
    return [python or sys.executable, "-m", "torch.distributed.run",
            f"--nnodes={nnodes}", f"--nproc-per-node={nproc}", f"--node-rank={node_rank}",
            f"--master-addr={master_addr}", f"--master-port={port}",
            "-m", module, *args]


def tf_config(port_list: Sequence[int], index: int, host: str = "localhost") -> str:
    """``TF_CONFIG`` for worker ``index`` of a cluster of workers on ``host:port``."""
    if not 0 <= index < len(port_list):
        raise ValueError(f"index {index} is outside the {len(port_list)} workers")
    return json.dumps({"cluster": {"worker": [f"{host}:{p}" for p in port_list]},
                       "task": {"type": "worker", "index": index}})


def _child_env(extra: dict[str, str] | None) -> dict[str, str]:
    env = dict(os.environ)
    lib = str(Path(__file__).resolve().parents[1])  # so `-m bigmodel...` imports this copy
    env["PYTHONPATH"] = os.pathsep.join([lib, *filter(None, [env.get("PYTHONPATH")])])
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.update(extra or {})
    return env


_KEY_LINE = re.compile(r"^(\[rank\d+\]: )?\w*(Error|Exception): |^rank \d+: |^\s*(rank|exitcode)\s*: ")


def _tail(text: str, lines: int = 8) -> str:
    """The workers' own error lines (a traceback's last line, a rank's message, torchrun's
    root cause), else the last ``lines`` lines: what a reader needs, not the whole log."""
    keep = [ln.rstrip() for ln in text.strip().splitlines() if ln.strip()]
    key = list(dict.fromkeys(ln for ln in keep if _KEY_LINE.search(ln)))[-6:]
    return "\n".join(key or keep[-lines:])


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid``. torchrun starts each worker in a session of its own,
    so killing the launcher's process group alone would leave the workers running."""
    try:
        import psutil

        return [p.pid for p in psutil.Process(pid).children(recursive=True)]
    except Exception:  # psutil missing, or the process is gone: read /proc (Linux)
        pass
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        kids = parents.get(todo.pop(), [])
        found += kids
        todo += kids
    return found


def _kill_tree(proc: subprocess.Popen, grace: float = 3.0) -> None:
    """SIGTERM the launcher and everything below it, then SIGKILL what is left after
    ``grace`` seconds: nothing of the run survives."""
    pids = [proc.pid, *_descendants(proc.pid)]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            continue
        if sig == signal.SIGTERM:
            time.sleep(0.2)  # let the workers finish exiting before the SIGKILL round
    proc.wait()


def launch(cmd: Sequence[str], out: str | os.PathLike, timeout: float,
           env: dict[str, str] | None = None) -> dict:
    """Run ``cmd`` (a launcher or one worker) and return the ``results.json`` it wrote in ``out``.

    Its output goes to ``out/launch.log``. On a timeout the command and every process it
    started (the workers) are stopped, so nothing is left running and nothing hangs.

    Raises:
        LaunchError: the command exited with an error (the message holds the workers' error
            lines), ran past ``timeout`` seconds, or finished without writing ``results.json``.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").unlink(missing_ok=True)
    log = out / "launch.log"
    t0 = time.perf_counter()
    with open(log, "w") as f:
        proc = subprocess.Popen(list(cmd), stdout=f, stderr=subprocess.STDOUT, text=True,
                                env=_child_env(env), start_new_session=True)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill_tree(proc)
            raise LaunchError(
                f"timed out after {timeout:g} s (a worker hung, or waits for a peer that is "
                f"gone); all its processes were stopped. The workers said:\n"
                f"{_tail(log.read_text())}"
            ) from None
        finally:
            if proc.poll() is None:  # interrupted (Ctrl-C in a notebook): leave nothing behind
                _kill_tree(proc)
    if proc.returncode != 0:
        raise LaunchError(
            f"the run failed with exit code {proc.returncode} after "
            f"{time.perf_counter() - t0:.1f} s. The workers said:\n{_tail(log.read_text())}"
        )
    return _read_results(out, log.read_text())


def _read_results(out: Path, log: str) -> dict:
    path = out / "results.json"
    if not path.is_file():
        raise LaunchError(f"the run exited cleanly but wrote no {path}. "
                          f"The workers said:\n{_tail(log)}")
    return json.loads(path.read_text())


def launch_workers(cmds: Sequence[Sequence[str]], out: str | os.PathLike, timeout: float,
                   envs: Sequence[dict[str, str]] | None = None) -> dict:
    """Run one process per command at once (worker 0 writes ``out/results.json``).

    When any worker exits with an error, the others are killed at once (they would wait
    for it forever in the next all-reduce) and :class:`LaunchError` names the worker.
    """
    out = Path(out)
    (out / "results.json").unlink(missing_ok=True)
    envs = list(envs or [{}] * len(cmds))
    logs = [out / f"worker{i}.log" for i in range(len(cmds))]
    out.mkdir(parents=True, exist_ok=True)
    files = [open(p, "w") for p in logs]  # noqa: SIM115 (closed below)
    procs = [subprocess.Popen(list(c), stdout=f, stderr=subprocess.STDOUT, text=True,
                              env=_child_env(e), start_new_session=True)
             for c, e, f in zip(cmds, envs, files, strict=True)]
    deadline = time.monotonic() + timeout
    failed: tuple[int, int] | None = None
    try:
        while True:
            codes = [p.poll() for p in procs]
            bad = [(i, c) for i, c in enumerate(codes) if c not in (None, 0)]
            if bad:
                failed = bad[0]
                break
            if all(c == 0 for c in codes):
                break
            if time.monotonic() > deadline:
                raise LaunchError(
                    f"timed out after {timeout:g} s; all {len(procs)} workers were killed. "
                    f"Worker 0 said:\n{_tail(logs[0].read_text())}"
                )
            time.sleep(0.05)
    finally:
        for p in procs:
            if p.poll() is None:
                _kill_tree(p)
        for f in files:
            f.close()
    if failed is not None:
        i, code = failed
        raise LaunchError(
            f"worker {i} of {len(procs)} died with exit code {code}; the others were "
            f"stopped. It said:\n{_tail(logs[i].read_text())}"
        )
    return _read_results(out, logs[0].read_text())


def check_micro_batches(micro_batches: int, batch: int) -> int:
    """``micro_batches`` if it is an integer >= 1 dividing ``batch`` rows, else a ``ValueError``."""
    k = positive_int(micro_batches, "micro_batches")
    if batch % k:
        raise ValueError(f"micro_batches={k} does not split a batch of {batch} rows into "
                         f"equal parts; use a divisor of {batch}")
    return k
