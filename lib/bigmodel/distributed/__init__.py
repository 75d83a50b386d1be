"""Training on many devices, the framework-neutral half: arithmetic, launching, checkpoints.

Four small modules, re-exported here: :mod:`~bigmodel.distributed.costs`,
:mod:`~bigmodel.distributed.memory`, :mod:`~bigmodel.distributed.worker` and
:mod:`~bigmodel.distributed.launcher`.

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

from .costs import (
    ZERO_STAGES,
    allreduce_bytes,
    gpu_days,
    max_rel_diff,
    zero_memory_per_device,
)
from .launcher import (
    LaunchError,
    check_port_free,
    free_port,
    launch,
    launch_workers,
    port_in_use,
    tf_config,
    torchrun_command,
)
from .memory import (
    median_seconds,
    peak_memory_main,
    peak_memory_parser,
    peak_rss_mb,
    return_freed_memory,
    rss_mb,
    step_peak_memory,
)
from .worker import (
    STATE_FORMAT,
    batch_rows,
    check_micro_batches,
    check_world_size,
    init_weights,
    inject_fault,
    load_train_state,
    load_worker_data,
    model_config,
    parse_worker_args,
    save_train_state,
    worker_parser,
    write_results,
)

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
    "peak_memory_parser",
    "peak_rss_mb",
    "return_freed_memory",
    "port_in_use",
    "rss_mb",
    "save_train_state",
    "step_peak_memory",
    "tf_config",
    "torchrun_command",
    "parse_worker_args",
    "worker_parser",
    "write_results",
    "zero_memory_per_device",
]
