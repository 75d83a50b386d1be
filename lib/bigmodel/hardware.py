"""The hardware the book runs on: device names, the precision each device trains in, and
the GPUs the book budgets for. Both frameworks, the budget and the FLOP counts read these
here, so each fact about a device is written once.

- **Device names**, parsed once for both frameworks (:func:`parse_device`). Accepted (any
  case, surrounding blanks ignored): ``cpu``, ``cuda``, ``cuda:1``, ``gpu``, ``gpu:1``,
  ``mps``, and TensorFlow's ``/CPU:0``, ``/GPU:1``, ``/device:GPU:1``. Used for the
  ``prefer`` argument of ``pick_device``, the ``BIGMODEL_DEVICE`` environment variable and
  ``describe_device``/``autocast_dtype``.
- **The precision policy.** Precision has one vocabulary: ``"float32"``, ``"bfloat16"``
  (autocast, on GPUs that compute it natively: compute capability 8.0 and newer) and
  ``"float16"`` (autocast with loss scaling, on older CUDA GPUs such as Colab's T4).
  :func:`policy` is the rule; :func:`precision_for` applies it to a device, unless
  ``BIGMODEL_PRECISION`` overrides it. :mod:`bigmodel.torch.device`,
  :mod:`bigmodel.tf.device`, :attr:`GPUSpec.precision` and :mod:`bigmodel.budget` all read it.
- **The GPUs** (:data:`GPUS`): dense peak FLOP/s per precision, from vendor data sheets.
  Peaks are dense (NVIDIA quotes tensor-core rates "with sparsity", twice the dense rate).
  ``float32`` is the plain FP32 rate: the book leaves TF32 off. Used by
  :mod:`bigmodel.budget` (how long a chapter's GPU branch should take) and by
  :func:`bigmodel.gpt.mfu` (model FLOPs utilisation).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from .inputs import number

__all__ = [
    "GPUS",
    "KINDS",
    "PRECISIONS",
    "GPUSpec",
    "check_precision",
    "find_gpu",
    "parse_device",
    "policy",
    "precision_for",
]

#: The device kinds a name can denote (``gpu`` is read as ``cuda``), and the kinds the
#: precision policy knows (a ``torch.device``'s ``.type``).
KINDS = ("cuda", "mps", "cpu")
_PATTERN = re.compile(r"^(?:/(?:device:)?)?(cuda|gpu|mps|cpu)(?::(\d+))?$")
#: The precisions, in both frameworks' words.
PRECISIONS = ("float32", "bfloat16", "float16")


def parse_device(spec: str, source: str = "device") -> tuple[str, int]:
    """``(kind, index)`` with ``kind`` in :data:`KINDS` (``gpu`` means ``cuda``).

    Args:
        spec: the device name.
        source: what the name came from, for the message (``"BIGMODEL_DEVICE"``).

    Raises:
        ValueError: the name is not one of the accepted forms; the message lists them.
    """
    if not isinstance(spec, str):
        raise TypeError(f"{source} must be a string such as 'cuda' or 'cpu', got {type(spec).__name__}")
    m = _PATTERN.match(spec.strip().lower())
    if not m:
        raise ValueError(
            f"{source}={spec!r} is not a device name; use cpu, cuda, cuda:N (N = 0, 1, ...), "
            "mps, or TensorFlow's /GPU:N and /CPU:0"
        )
    kind = "cuda" if m.group(1) == "gpu" else m.group(1)
    index = int(m.group(2) or 0)
    if kind in ("cpu", "mps") and index != 0:
        raise ValueError(f"{source}={spec!r}: there is only one {kind} device (index 0)")
    return kind, index


def check_precision(precision: str, source: str = "precision") -> str:
    """``precision`` if it is one of :data:`PRECISIONS`; else a ``ValueError`` naming them."""
    if precision not in PRECISIONS:
        raise ValueError(f"{source}={precision!r}; choose one of {PRECISIONS}")
    return precision


def policy(kind: str, capability: tuple[int, int] | None = None) -> str:
    """The rule: ``"bfloat16"`` on CUDA GPUs of capability 8.0 and newer (A100, L4, H100),
    ``"float16"`` on older ones (T4: 7.5), ``"float32"`` on CPUs and Apple GPUs.

    Raises:
        ValueError: ``kind`` is not one of :data:`KINDS`, or ``"cuda"`` comes without
            its compute capability ``(major, minor)``.
    """
    _check_kind(kind)
    if kind != "cuda":
        return "float32"
    if capability is None:
        raise ValueError("precision_for('cuda') needs the compute capability")
    return "bfloat16" if tuple(capability) >= (8, 0) else "float16"


def precision_for(kind: str, capability: tuple[int, int] | None = None) -> str:
    """The training precision for a device: :func:`policy`, unless ``BIGMODEL_PRECISION``
    (one of :data:`PRECISIONS`) is set, which wins.

    Args:
        kind: ``"cuda"``, ``"mps"`` or ``"cpu"``.
        capability: the CUDA compute capability ``(major, minor)``; needed for ``"cuda"``.
    """
    _check_kind(kind)
    env = os.environ.get("BIGMODEL_PRECISION", "").strip()
    if env:
        return check_precision(env, "BIGMODEL_PRECISION")
    return policy(kind, capability)


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind={kind!r}; use one of {KINDS} (a torch.device's .type)")


@dataclass(frozen=True)
class GPUSpec:
    """A GPU's dense peak FLOP/s per precision, its CUDA compute capability, and its memory
    bandwidth in bytes/s (data sheet)."""

    name: str
    capability: tuple[int, int]
    peak: dict[str, float] = field(default_factory=dict)
    bandwidth: float = 0.0

    def __post_init__(self) -> None:
        number(self.bandwidth, f"GPUSpec({self.name!r}).bandwidth", 0, hint="in bytes/s")
        for precision, flops in self.peak.items():
            number(flops, f"GPUSpec({self.name!r}).peak[{precision!r}]", 0, low_open=True,
                   hint="in FLOP/s")

    @property
    def precision(self) -> str:
        """The precision the book trains in on this GPU (:func:`policy`)."""
        return policy("cuda", self.capability)


GPUS: dict[str, GPUSpec] = {
    # T4 data sheet: FP32 8.1 TFLOPS, mixed FP16/FP32 65 TFLOPS; no bf16.
    # Memory bandwidth (data sheets): T4 320 GB/s, L4 300 GB/s, A100 40 GB 1,555 GB/s,
    # H100 SXM 3.35 TB/s, H200 SXM 4.8 TB/s.
    "T4": GPUSpec("T4", (7, 5), {"float32": 8.1e12, "float16": 65e12}, 320e9),
    # L4 data sheet: FP32 30.3 TFLOPS, FP16/BF16 242 TFLOPS with sparsity, 121 dense.
    "L4": GPUSpec("L4", (8, 9), {"float32": 30.3e12, "bfloat16": 121e12, "float16": 121e12}, 300e9),
    # A100 data sheet: FP32 19.5 TFLOPS, FP16/BF16 312 TFLOPS dense.
    "A100": GPUSpec("A100", (8, 0), {"float32": 19.5e12, "bfloat16": 312e12, "float16": 312e12},
                    1555e9),
    # H100 SXM and H200 SXM data sheets: FP32 67 TFLOPS, FP16/BF16 1,979 TFLOPS with
    # sparsity, 989 dense.
    "H100": GPUSpec("H100", (9, 0), {"float32": 67e12, "bfloat16": 989e12, "float16": 989e12},
                    3.35e12),
    "H200": GPUSpec("H200", (9, 0), {"float32": 67e12, "bfloat16": 989e12, "float16": 989e12},
                    4.8e12),
}


def find_gpu(device_name: str) -> GPUSpec | None:
    """The :data:`GPUS` entry whose key is in ``device_name`` (``"NVIDIA L4"``), else None."""
    name = device_name.upper()
    # the longest key first: "H200" must not match "H20" if that is ever added
    for key in sorted(GPUS, key=len, reverse=True):
        if key in name:
            return GPUS[key]
    return None
