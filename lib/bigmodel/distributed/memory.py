"""The memory and time of one training step in this process, measured so that a fresh
process per measurement gives the same answer (see :func:`~bigmodel.distributed.step_peak_memory`)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..files import atomic_write_text
from ..flags import integer_flag
from ..gpt import GPTConfig
from ..inputs import integer, positive_int

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

    threshold_bytes = integer(threshold_bytes, "threshold_bytes", low=0)

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
    batch, seed = positive_int(batch, "batch"), integer(seed, "seed", low=0)
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
    p = peak_memory_parser(prog)
    args = p.parse_args(argv)
    try:
        config = GPTConfig.from_dict(json.loads(args.config))
    except (ValueError, TypeError) as err:  # JSONDecodeError is a ValueError
        p.error(f"--config: {err}")
    result = peak_memory(config, args.batch, args.checkpoint)
    print(json.dumps(result))
    if args.out:
        Path(args.out).mkdir(parents=True, exist_ok=True)
        atomic_write_text(Path(args.out) / "results.json", json.dumps(result))


def peak_memory_parser(prog: str) -> argparse.ArgumentParser:
    """The flags of :func:`peak_memory_main`, each checked by its type."""
    p = argparse.ArgumentParser(prog=prog)
    p.add_argument("--config", required=True, help="GPTConfig fields as JSON")
    p.add_argument("--batch", type=integer_flag(low=1), default=4)
    p.add_argument("--checkpoint", action="store_true")
    p.add_argument("--out", default=None, help="folder for results.json")
    return p


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
