"""Device and precision choice for TensorFlow; the same policy as :mod:`bigmodel.torch.device`.

- Device: a GPU (CUDA, or Apple's through tensorflow-metal), else the CPU, unless the
  caller or ``BIGMODEL_DEVICE`` says. Returned as a device string for ``tf.device``.
- Memory growth on every GPU, set before the first operation: TensorFlow otherwise
  reserves nearly all GPU memory and PyTorch in the same process runs out.
- Precision (:func:`precision`, the same words as PyTorch's): ``"bfloat16"`` on GPUs of
  compute capability 8.0 and newer, ``"float16"`` (with loss scaling) on 7.x such as the
  T4, ``"float32"`` on CPUs and Apple GPUs (:func:`bigmodel.hardware.precision_for`).
- TF32: off (``tf.config.experimental.enable_tensor_float_32_execution(False)``) unless
  :func:`set_matmul_precision` ("high") turns it on.
"""

from __future__ import annotations

import os
import warnings

import tensorflow as tf

from ..hardware import parse_device, precision_for

_TF32_SET = False


def enable_memory_growth() -> list[str]:
    """Turn on memory growth for every GPU; return their names. Safe to call twice."""
    names = []
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # already initialised: the setting can no longer change
            if not tf.config.experimental.get_memory_growth(gpu):
                warnings.warn(
                    f"TensorFlow started on {gpu.name} before bigmodel.tf could turn on memory "
                    "growth, so it may hold nearly all GPU memory and leave PyTorch none. "
                    "Set TF_FORCE_GPU_ALLOW_GROWTH=true before TensorFlow loads (the "
                    "chapters' first cell does), or restart the runtime and import "
                    "bigmodel.tf before running any TensorFlow operation.",
                    RuntimeWarning,
                    stacklevel=2,
                )
        names.append(gpu.name)
    global _TF32_SET
    if not _TF32_SET:
        set_matmul_precision("highest")
        _TF32_SET = True
    return names


def _device(spec: str, source: str = "device") -> str:
    """``"/GPU:i"`` or ``"/CPU:0"`` for an available device, or a clear error."""
    kind, index = parse_device(spec, source)
    if kind == "cpu":
        return "/CPU:0"
    gpus = tf.config.list_physical_devices("GPU")
    if index >= len(gpus):
        raise RuntimeError(
            f"{source}={spec!r} was requested but TensorFlow sees {len(gpus)} GPU(s) here. "
            "Pick another device, or unset BIGMODEL_DEVICE to choose automatically."
        )
    return f"/GPU:{index}"


def pick_device(prefer: str | None = None) -> str:
    """Return ``"/GPU:0"`` or ``"/CPU:0"`` (for ``with tf.device(...)``).

    Args:
        prefer: ``"cuda"``/``"gpu"``, ``"mps"`` (Apple GPU), ``"cpu"``, ``"cuda:1"`` or
            ``"/GPU:1"`` (any case; see :mod:`bigmodel.hardware`); ``None`` reads
            ``BIGMODEL_DEVICE`` and else takes a GPU if there is one.

    Raises:
        ValueError: not a device name. RuntimeError: the device is not available here.
    """
    if prefer:
        return _device(prefer)
    env = os.environ.get("BIGMODEL_DEVICE", "").strip()
    if env:
        return _device(env, "BIGMODEL_DEVICE")
    return "/GPU:0" if tf.config.list_physical_devices("GPU") else "/CPU:0"


def _gpu_details(device: str) -> dict | None:
    """TensorFlow's details of a GPU device (name, compute capability); None for the CPU."""
    device = _device(device)
    if device == "/CPU:0":
        return None
    i = int(device.split(":")[1])
    return tf.config.experimental.get_device_details(tf.config.list_physical_devices("GPU")[i])


def describe_device(device: str | None = None) -> str:
    """One line naming the device, e.g. ``'/GPU:0 (NVIDIA T4, compute capability 7.5)'``.

    Raises:
        RuntimeError: ``device`` is not available here.
    """
    device = _device(device) if device is not None else pick_device()
    details = _gpu_details(device)
    if details is not None:
        cc = details.get("compute_capability")
        cc_text = f", compute capability {cc[0]}.{cc[1]}" if cc else ""
        return f"{device} ({details.get('device_name', 'GPU')}{cc_text})"
    return f"{device} ({tf.config.threading.get_intra_op_parallelism_threads() or os.cpu_count()} threads)"


def precision(device: str) -> str:
    """The training precision on ``device``: ``"bfloat16"``, ``"float16"`` or ``"float32"``.

    The same policy and words as :func:`bigmodel.torch.precision`
    (:func:`bigmodel.hardware.precision_for`); ``BIGMODEL_PRECISION`` overrides it.

    Raises:
        RuntimeError: ``device`` is not available here.
    """
    cc = (_gpu_details(device) or {}).get("compute_capability")
    return precision_for("cuda" if cc is not None else "cpu", cc)


def autocast_dtype(device: str) -> tf.DType | None:
    """The compute dtype of :func:`precision` on ``device``; ``None`` means float32.

    ``tf.float16`` trains with a ``LossScaleOptimizer``; ``tf.bfloat16`` does not.
    """
    name = precision(device)
    return None if name == "float32" else tf.as_dtype(name)


def set_matmul_precision(precision: str = "highest") -> None:
    """``"highest"`` (exact float32) or ``"high"`` (TF32 on Ampere and newer)."""
    if precision not in ("highest", "high"):
        raise ValueError(f"precision must be 'highest' or 'high', got {precision!r}")
    tf.config.experimental.enable_tensor_float_32_execution(precision == "high")
