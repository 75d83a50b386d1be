"""TensorFlow implementations; mirrors :mod:`bigmodel.torch` module for module, name for name.

Importing this package imports TensorFlow and never PyTorch. It quiets TensorFlow's
C++ start-up log and turns on GPU memory growth before the first operation, so that
PyTorch can use the same GPU in the same process.
"""

from .. import book as _book

_book.quiet_tensorflow()

try:
    import tensorflow as _tf  # noqa: F401
except ModuleNotFoundError as _err:  # pragma: no cover - exercised in a subprocess test
    if _err.name != "tensorflow":
        raise
    raise ModuleNotFoundError(
        "bigmodel.tf needs TensorFlow, which is not installed. Install it with "
        "pip install 'bigmodel[tf]' (for an NVIDIA GPU on Linux: pip install 'tensorflow[and-cuda]').",
        name="tensorflow",
    ) from _err

from .device import (  # noqa: E402  (the environment must be set before TensorFlow loads)
    autocast_dtype,
    describe_device,
    enable_memory_growth,
    pick_device,
    precision,
    set_matmul_precision,
)
from .seed import seed_everything  # noqa: E402

enable_memory_growth()

__all__ = [
    "autocast_dtype",
    "describe_device",
    "enable_memory_growth",
    "pick_device",
    "precision",
    "seed_everything",
    "set_matmul_precision",
]
