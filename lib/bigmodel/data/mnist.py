"""MNIST: 70,000 handwritten digits, read from the IDX files by their SHA-256."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .fetching import _locate
from .sources import ChecksumError


@dataclass(frozen=True)
class MNIST:
    """The MNIST arrays. Images ``(N, 28, 28)`` or ``(N, 784)``; labels ``(N,)`` int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: Path  # the directory the files were read from


def _idx(data: bytes, ndim: int) -> np.ndarray:
    # IDX format: 2 zero bytes, a type code (0x08 = uint8), the number of dimensions,
    # then each dimension as a big-endian int32, then the values.
    if data[:2] != b"\x00\x00" or data[2] != 0x08 or data[3] != ndim:
        raise ChecksumError("not an IDX file of uint8 values with the expected dimensions")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_mnist(
    data_dir: str | os.PathLike | None = None,
    *,
    scale: bool = False,
    flatten: bool = False,
    download: bool = True,
) -> MNIST:
    """Load the 60,000 training and 10,000 test images of MNIST.

    Args:
        data_dir: a directory to look in first (see the module docstring for the order).
        scale: return float32 pixels in [0, 1] instead of uint8 in [0, 255].
        flatten: return images as ``(N, 784)`` rows instead of ``(N, 28, 28)``.
        download: allow the download from the canonical address.

    Returns:
        :class:`MNIST` with ``x_train (60000, 28, 28)``, ``y_train (60000,)``,
        ``x_test (10000, 28, 28)``, ``y_test (10000,)`` and ``source``.
    """
    d, contents = _locate("mnist", data_dir, download)
    # "train-images-idx3-ubyte.gz" -> "train-images"
    arrays = {
        "-".join(n.split("-")[:2]): _idx(c, 3 if "images" in n else 1)
        for n, c in contents.items()
    }

    def images(a: np.ndarray) -> np.ndarray:
        a = a.reshape(len(a), -1) if flatten else a
        return a.astype(np.float32) / 255.0 if scale else a.copy()

    return MNIST(
        x_train=images(arrays["train-images"]),
        y_train=arrays["train-labels"].astype(np.int64),
        x_test=images(arrays["t10k-images"]),
        y_test=arrays["t10k-labels"].astype(np.int64),
        source=d,
    )
