"""What data parallelism costs: gradient bytes per all-reduce, ZeRO memory per device,
GPU-days, and how far two runs' weights drift apart."""

from __future__ import annotations

import numpy as np

from ..inputs import integer, number, positive_int

ZERO_STAGES = (0, 1, 2, 3)


def allreduce_bytes(n_params: int, world_size: int, bytes_per_value: int = 4) -> float:
    """Bytes each device sends (and receives) per step to average ``n_params`` gradients.

    A ring all-reduce (reduce-scatter, then all-gather) sends ``2·(N-1)/N`` times the
    gradient's size from every one of the ``N`` devices, whatever ``N``: the cost per
    device stays about twice the model's gradient as the ring grows. ``N = 1`` sends
    nothing. ``bytes_per_value``: 4 for float32 gradients, 2 for bf16/fp16.
    """
    n_params = integer(n_params, "n_params", low=0)
    bytes_per_value = positive_int(bytes_per_value, "bytes_per_value")
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
    stage = integer(stage, "stage", low=0, high=3)
    n_params = number(n_params, "n_params", 0)
    param_bytes = positive_int(param_bytes, "param_bytes")
    grad_bytes = positive_int(grad_bytes, "grad_bytes")
    optimizer_bytes = integer(optimizer_bytes, "optimizer_bytes", low=0)
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
    flops = number(flops, "flops", 0)
    peak_flops = number(peak_flops, "peak_flops", 0, low_open=True)
    mfu = number(mfu, "mfu", 0, 1, low_open=True, hint="a share of the peak: 0.4 for 40 %")
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
