"""PyTorch implementations; mirrors :mod:`bigmodel.tf` module for module, name for name.

Importing this package imports PyTorch and never TensorFlow.
"""

try:
    import torch as _torch  # noqa: F401
except ModuleNotFoundError as _err:  # pragma: no cover - exercised in a subprocess test
    if _err.name != "torch":
        raise
    raise ModuleNotFoundError(
        "bigmodel.torch needs PyTorch, which is not installed. Install it with "
        "pip install 'bigmodel[torch]' (a CUDA build on Linux; CPU only: "
        "pip install torch --index-url https://download.pytorch.org/whl/cpu).",
        name="torch",
    ) from _err

from .device import (
    autocast_dtype,
    describe_device,
    pick_device,
    precision,
    set_matmul_precision,
)
from .seed import seed_everything

__all__ = [
    "autocast_dtype",
    "describe_device",
    "pick_device",
    "precision",
    "seed_everything",
    "set_matmul_precision",
]
