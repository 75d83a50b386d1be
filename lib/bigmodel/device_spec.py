"""Device names, parsed once for both frameworks.

Accepted (any case, surrounding blanks ignored): ``cpu``, ``cuda``, ``cuda:1``, ``gpu``,
``gpu:1``, ``mps``, and TensorFlow's ``/CPU:0``, ``/GPU:1``, ``/device:GPU:1``. Used for the
``prefer`` argument of ``pick_device``, the ``BIGMODEL_DEVICE`` environment variable and
``describe_device``/``autocast_dtype``.
"""

from __future__ import annotations

import re

#: The device kinds a name can denote (``gpu`` is read as ``cuda``).
KINDS = ("cuda", "mps", "cpu")
_PATTERN = re.compile(r"^(?:/(?:device:)?)?(cuda|gpu|mps|cpu)(?::(\d+))?$")


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
