"""Device and precision choice for TensorFlow; the same policy as :mod:`bigmodel.torch.device`.

- Device: a GPU (CUDA, or Apple's through tensorflow-metal), else the CPU, unless the
  caller or ``BIGMODEL_DEVICE`` says. Returned as a device string for ``tf.device``.
- Memory growth on every GPU, set before the first operation: TensorFlow otherwise
  reserves nearly all GPU memory and PyTorch in the same process runs out.
- Mixed precision: ``"mixed_bfloat16"`` on GPUs of compute capability 8.0 and newer,
  ``"mixed_float16"`` (with loss scaling) on 7.x such as the T4; none on CPU.
- TF32: off (``tf.config.experimental.enable_tensor_float_32_execution(False)``) unless
  :func:`set_matmul_precision` ("high") turns it on.
"""

from __future__ import annotations

import os

import tensorflow as tf

from ..device_spec import parse_device

_TF32_SET = False


def enable_memory_growth() -> list[str]:
    """Turn on memory growth for every GPU; return their names. Safe to call twice."""
    names = []
    for gpu in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(gpu, True)
        except RuntimeError:  # already initialised: the setting can no longer change
            pass
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
            ``"/GPU:1"`` (any case; see :mod:`bigmodel.device_spec`); ``None`` reads
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


def autocast_dtype(device: str) -> str | None:
    """The Keras mixed-precision policy for ``device``: ``"mixed_bfloat16"``, ``"mixed_float16"`` or None.

    ``None`` means "train in float32". On Apple GPUs (no compute capability) it is None.

    Raises:
        RuntimeError: ``device`` is not available here.
    """
    cc = (_gpu_details(device) or {}).get("compute_capability")
    if cc is None:
        return None
    return "mixed_bfloat16" if cc[0] >= 8 else "mixed_float16"


def set_matmul_precision(precision: str = "highest") -> None:
    """``"highest"`` (exact float32) or ``"high"`` (TF32 on Ampere and newer)."""
    if precision not in ("highest", "high"):
        raise ValueError(f"precision must be 'highest' or 'high', got {precision!r}")
    tf.config.experimental.enable_tensor_float_32_execution(precision == "high")
