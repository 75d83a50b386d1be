"""Each chapter's CPU and GPU branch, its precision, and what its GPU branch costs.

A chapter states its knobs (model sizes, steps, sample sizes) in one cell, through
:func:`branch`::

    B = budget.branch(device.type)          # "cpu" here and in CI, "gpu" on CUDA
    N_TRAIN = B.pick(cpu=20_000, gpu=60_000)
    EPOCHS = B.pick(cpu=2, gpu=5, dry=1)    # dry: the GPU branch rehearsed on a CPU
    JOBS = [budget.Job("CNN, PyTorch", budget.cnn_flops(cfg, N_TRAIN * EPOCHS), "float32")]

``BIGMODEL_BRANCH=gpu`` makes a CPU machine take the GPU branch (``make test-gpu-branch``):
every branch's code, shapes and asserts then run in CI, with the ``dry`` sizes so that it
stays cheap. ``BIGMODEL_PRECISION`` overrides the precision a device would get, so such a
rehearsal can run the float16 + loss-scaling code of a T4 on a CPU.

The precision policy itself lives in :mod:`bigmodel.hardware`.

Time estimates divide a job's FLOPs by a GPU's dense peak (:data:`bigmodel.hardware.GPUS`) in the job's
precision at a stated utilisation. They are estimates for a budget test, not measurements.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from .gpt import GPTConfig, flops_per_token
from .hardware import GPUS, KINDS, GPUSpec, check_precision  # noqa: F401  (re-exported: the budget's GPUs)
from .inputs import integer, number, positive_int
from .numpy.cnn import CNNConfig, conv_output_size

BRANCHES = ("cpu", "gpu")


@dataclass(frozen=True)
class Branch:
    """Which sizes a chapter runs with.

    Attributes:
        name: ``"cpu"`` or ``"gpu"``.
        dry_run: the GPU branch on a machine without CUDA (``BIGMODEL_BRANCH=gpu``); the
            knobs take their ``dry`` values and results are not meant to be good.
    """

    name: str
    dry_run: bool = False

    @property
    def gpu(self) -> bool:
        return self.name == "gpu"

    def pick(self, cpu: Any, gpu: Any, dry: Any = None) -> Any:
        """``cpu`` on the CPU branch, ``gpu`` on the GPU branch, ``dry`` (if given) in a dry run."""
        if not self.gpu:
            return cpu
        if self.dry_run and dry is not None:
            return dry
        return gpu


def branch(device_kind: str) -> Branch:
    """The branch for a chapter running on ``device_kind`` (``"cuda"``, ``"mps"``, ``"cpu"``).

    ``BIGMODEL_BRANCH`` (``cpu`` or ``gpu``) overrides the choice; ``gpu`` without CUDA is
    a dry run.

    Raises:
        ValueError: ``device_kind`` is not one of :data:`bigmodel.hardware.KINDS`, or
            ``BIGMODEL_BRANCH`` is not ``cpu`` or ``gpu``.
    """
    if device_kind not in KINDS:
        raise ValueError(f"device_kind={device_kind!r}; use one of {KINDS} (a torch.device's .type)")
    env = os.environ.get("BIGMODEL_BRANCH", "").strip().lower()
    if env and env not in BRANCHES:
        raise ValueError(f"BIGMODEL_BRANCH={env!r}; choose one of {BRANCHES} or unset it")
    cuda = device_kind == "cuda"
    name = env or ("gpu" if cuda else "cpu")
    return Branch(name, dry_run=name == "gpu" and not cuda)


# ---------------------------------------------------------------- GPUs and estimates


# The share of peak a chapter's small models are assumed to reach in the budget test.
UTILISATION = 0.25

# The calibrated time model (predict_seconds). A training step of a small model on a GPU
# costs more than its FLOPs: the host dispatches every operation (eager PyTorch with
# autocast: the casts, the batch's sampling and transfer, Python), and the work outside
# the matrix products (norms, activations, the optimizer's update) is memory-bound.
# Operations and bytes per step were counted on PyTorch's dispatcher (tests/test_budget.py
# recounts them): the GPT 39 + 33 per block, an MLP 28, the CNN 37 (SMALL_NET_OPS); bytes
# read and written by non-matrix operations in float32, per token 45 x n_embd + 300 x
# n_layer x n_embd, plus 64 per parameter (gradients, clipping, AdamW's moments).
# OP_SECONDS was fitted to one H200 measurement (05's GPU branch, bfloat16, eager: 22.42 ms
# a step, 1,000 steps), after its FLOPs at UTILISATION and its bytes at BANDWIDTH_SHARE:
# 14.5 ms over 237 operations. The same host cost is assumed on every GPU.
BANDWIDTH_SHARE = 0.8  # an H200's device-to-device copy: 4.3 of the data sheet's 4.8 TB/s
OP_SECONDS = 61e-6
SMALL_NET_OPS = 37
GPT_OPS = (39, 33)  # per step: fixed, per block
GPT_BYTES_PER_TOKEN = (45, 300)  # x n_embd, x n_layer x n_embd
GPT_BYTES_PER_PARAM = 64


@dataclass(frozen=True)
class StepCost:
    """What one step costs besides its FLOPs: ``ops`` operations dispatched by the host,
    ``bytes`` of device memory read and written outside the matrix products."""

    ops: int = SMALL_NET_OPS
    bytes: float = 0.0


def gpt_step(config: GPTConfig, batch_size: int, train: bool = True) -> StepCost:
    """:class:`StepCost` of one GPT step on ``batch_size`` sequences of ``block_size`` tokens
    (an evaluation batch, ``train=False``: a third of the operations and token bytes)."""
    batch_size = positive_int(batch_size, "batch_size")
    fixed, per_block = GPT_OPS
    per_token = config.n_embd * (GPT_BYTES_PER_TOKEN[0] + GPT_BYTES_PER_TOKEN[1] * config.n_layer)
    tokens = batch_size * config.block_size
    if not train:
        return StepCost((fixed + per_block * config.n_layer) // 3, tokens * per_token / 3)
    from .gpt import param_count

    return StepCost(fixed + per_block * config.n_layer,
                    tokens * per_token + GPT_BYTES_PER_PARAM * param_count(config))


@dataclass(frozen=True)
class Job:
    """One piece of a chapter's compute: ``flops`` FLOPs at ``precision``, in ``steps`` steps.

    ``precision="auto"`` (the default) is the device's policy, as the GPT trains: each GPU
    is costed at its own mixed precision (float16 on a T4, bfloat16 on an A100).
    ``"float32"`` is for code that trains in float32 everywhere. A job whose precision a
    GPU lacks (bfloat16 on a T4) is costed at that GPU's own mixed precision.

    ``steps`` (framework calls: training steps, evaluation batches) and ``per_step``
    (:class:`StepCost`; a small network's by default, :func:`gpt_step` for a GPT) feed the
    calibrated model, :func:`predict_seconds`.
    """

    name: str
    flops: float
    precision: str = "auto"
    steps: int = 0
    per_step: StepCost = StepCost()

    def __post_init__(self) -> None:
        if self.precision != "auto":
            check_precision(self.precision, f"Job({self.name!r}).precision")
        number(self.flops, f"Job({self.name!r}).flops", 0)
        integer(self.steps, f"Job({self.name!r}).steps", low=0)


def seconds(jobs: list[Job], gpu: str = "T4", utilisation: float = UTILISATION) -> float:
    """Estimated seconds for ``jobs`` on ``gpu`` at ``utilisation`` of its dense peak."""
    utilisation = number(utilisation, "utilisation", 0, 1, low_open=True,
                         hint="a share of the peak: 0.25 for 25 %")
    if gpu not in GPUS:
        raise ValueError(f"gpu {gpu!r} is not in the budget's table; use one of {sorted(GPUS)}")
    spec = GPUS[gpu]
    total = 0.0
    for job in jobs:
        precision = job.precision if job.precision in spec.peak else spec.precision  # "auto" too
        total += job.flops / (utilisation * spec.peak[precision])
    return total


def predict_seconds(jobs: list[Job], gpu: str = "T4", utilisation: float = UTILISATION) -> float:
    """The calibrated time model: FLOPs at ``utilisation`` of the peak, plus per step the
    host's operations (``OP_SECONDS`` each) and the memory-bound bytes at
    ``BANDWIDTH_SHARE`` of the bandwidth. See the constants' comment for its calibration."""
    spec = GPUS[gpu]
    total = seconds(jobs, gpu, utilisation)
    for job in jobs:
        per = job.per_step.ops * OP_SECONDS + job.per_step.bytes / (BANDWIDTH_SHARE * spec.bandwidth)
        total += job.steps * per
    return total


def report(jobs: list[Job], gpus: tuple[str, ...] = ("T4", "A100"),
           utilisation: float = UTILISATION) -> str:
    """A few lines: each job's FLOPs, and the estimated time on each GPU."""
    utilisation = number(utilisation, "utilisation", 0, 1, low_open=True,
                         hint="a share of the peak: 0.25 for 25 %")
    lines = [f"{j.name:32s} {j.flops:9.2e} FLOPs  {j.precision}" for j in jobs]
    for gpu in gpus:
        lines.append(f"{gpu} at {utilisation:.0%} of peak: about "
                     f"{seconds(jobs, gpu, utilisation):,.1f} s (an estimate for these sizes)")
    return "\n".join(lines)


# ---------------------------------------------------------------- FLOP counts


def dense_flops(layer_sizes: list[int] | tuple[int, ...], samples: float, train: bool = True) -> float:
    """FLOPs of an MLP with these layer widths (``[784, 256, 10]``) on ``samples`` examples.

    2 per multiply-add in the forward pass; training adds a backward pass of twice that.
    """
    samples = number(samples, "samples", 0)
    macs = sum(a * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:], strict=False))
    return (6.0 if train else 2.0) * macs * samples


def cnn_flops(config: CNNConfig, samples: float, train: bool = True) -> float:
    """FLOPs of :class:`bigmodel.numpy.cnn.CNNConfig`'s network on ``samples`` images.

    Counts the convolutions' and the dense layer's multiply-adds (pooling and ReLU are
    comparatively free); training triples the forward pass.
    """
    samples = number(samples, "samples", 0)
    h, w, c = config.height, config.width, config.in_channels
    macs = 0
    for c_out in config.channels:
        h = conv_output_size(h, config.kernel_size, 1, config.padding)
        w = conv_output_size(w, config.kernel_size, 1, config.padding)
        macs += h * w * config.kernel_size**2 * c * c_out
        h, w, c = conv_output_size(h, 2, 2), conv_output_size(w, 2, 2), c_out
    macs += config.n_features * config.n_out
    return (6.0 if train else 2.0) * macs * samples


def gpt_flops(config: GPTConfig, tokens: float, train: bool = True) -> float:
    """FLOPs of the GPT on ``tokens`` tokens (:func:`bigmodel.gpt.flops_per_token`)."""
    tokens = number(tokens, "tokens", 0)
    per_token = flops_per_token(config)
    return per_token * tokens if train else per_token / 3.0 * tokens
