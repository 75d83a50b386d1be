"""Writing files so that nothing is lost: a file appears under its name only once complete.

Every file the library writes for a reader (checkpoints, tokenizers, training records) goes
through :func:`atomic_write`: the bytes go to a temporary file in the same folder, which
then replaces the target in one rename. A failure half-way (a full disk, an encoding
error, an interrupt) leaves the earlier file as it was and no temporary file behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["atomic_write", "atomic_write_npz", "atomic_write_text"]


def atomic_write(path: str | os.PathLike, write: Callable[[str], object]) -> Path:
    """Call ``write(tmp)`` to fill a temporary file beside ``path``, then rename it to
    ``path``; returns ``path``. On any exception the temporary file is removed and
    ``path`` is left untouched. The new file gets the permissions the umask gives."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str, encoding: str = "utf-8") -> Path:
    """:func:`atomic_write` of ``text``; an encoding error leaves ``path`` untouched."""
    data = text.encode(encoding)  # before anything is written
    return atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))


def atomic_write_npz(path: str | os.PathLike, arrays: dict[str, np.ndarray]) -> Path:
    """:func:`atomic_write` of ``arrays`` as an uncompressed ``.npz`` (``numpy.savez``)."""
    def write(tmp: str) -> None:
        with open(tmp, "wb") as f:  # a file object: savez would add ".npz" to a name
            np.savez(f, **arrays)

    return atomic_write(path, write)
