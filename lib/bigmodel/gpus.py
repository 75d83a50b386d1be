"""The GPUs the book budgets for: dense peak FLOP/s per precision, from vendor data sheets.

Peaks are dense (NVIDIA quotes tensor-core rates "with sparsity", twice the dense rate).
``float32`` is the plain FP32 rate: the book leaves TF32 off. Used by
:mod:`bigmodel.budget` (how long a chapter's GPU branch should take) and by
:func:`bigmodel.gpt.mfu` (model FLOPs utilisation).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .precision import policy


@dataclass(frozen=True)
class GPUSpec:
    """A GPU's dense peak FLOP/s per precision, its CUDA compute capability, and its memory
    bandwidth in bytes/s (data sheet)."""

    name: str
    capability: tuple[int, int]
    peak: dict[str, float] = field(default_factory=dict)
    bandwidth: float = 0.0

    @property
    def precision(self) -> str:
        """The precision the book trains in on this GPU (:func:`bigmodel.precision.policy`)."""
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
