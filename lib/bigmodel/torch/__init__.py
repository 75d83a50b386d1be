"""PyTorch implementations; mirrors :mod:`bigmodel.tf` module for module, name for name.

Importing this package imports PyTorch and never TensorFlow.
"""

from .device import autocast_dtype, describe_device, pick_device, set_matmul_precision
from .seed import seed_everything

__all__ = [
    "autocast_dtype",
    "describe_device",
    "pick_device",
    "seed_everything",
    "set_matmul_precision",
]
