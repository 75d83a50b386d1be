"""The book's precision policy, in one place for both frameworks and for the budget.

Precision has one vocabulary: ``"float32"``, ``"bfloat16"`` (autocast, on GPUs that compute
it natively: compute capability 8.0 and newer) and ``"float16"`` (autocast with loss
scaling, on older CUDA GPUs such as Colab's T4). :func:`policy` is the rule;
:func:`precision_for` applies it to a device, unless ``BIGMODEL_PRECISION`` overrides it.
The runtime device code of :mod:`bigmodel.torch.device` and :mod:`bigmodel.tf.device`,
:attr:`bigmodel.gpus.GPUSpec.precision` and :mod:`bigmodel.budget` all read it here.
"""

from __future__ import annotations

import os

__all__ = ["DEVICE_KINDS", "PRECISIONS", "check_precision", "policy", "precision_for"]

#: The precisions, in both frameworks' words.
PRECISIONS = ("float32", "bfloat16", "float16")
#: The device kinds the policy knows (a ``torch.device``'s ``.type``).
DEVICE_KINDS = ("cuda", "mps", "cpu")


def check_precision(precision: str, source: str = "precision") -> str:
    """``precision`` if it is one of :data:`PRECISIONS`; else a ``ValueError`` naming them."""
    if precision not in PRECISIONS:
        raise ValueError(f"{source}={precision!r}; choose one of {PRECISIONS}")
    return precision


def policy(kind: str, capability: tuple[int, int] | None = None) -> str:
    """The rule: ``"bfloat16"`` on CUDA GPUs of capability 8.0 and newer (A100, L4, H100),
    ``"float16"`` on older ones (T4: 7.5), ``"float32"`` on CPUs and Apple GPUs.

    Raises:
        ValueError: ``kind`` is not one of :data:`DEVICE_KINDS`, or ``"cuda"`` comes without
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
    if kind not in DEVICE_KINDS:
        raise ValueError(f"kind={kind!r}; use one of {DEVICE_KINDS} (a torch.device's .type)")
