"""GPT checkpoints: the safetensors files both frameworks write and read.

safetensors stores raw tensors and a JSON header, so loading one runs no code (unlike a
pickle). The header's metadata holds the format, the :class:`~bigmodel.gpt.GPTConfig` and
the SHA-256 of the tensors, which :func:`load_checkpoint` checks; a file that is not such a
checkpoint (a pickle, a truncated or corrupted file) fails with a ``ValueError`` naming it.
Files are written atomically (:func:`bigmodel.files.atomic_write`).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np

from .files import atomic_write
from .gpt import GPTConfig, check_params, param_shapes

__all__ = ["CHECKPOINT_FORMAT", "load_checkpoint", "save_checkpoint", "tensors_sha256"]

#: The ``format`` entry of a GPT checkpoint's metadata.
CHECKPOINT_FORMAT = "bigmodel.gpt/1"


def tensors_sha256(arrays: dict[str, np.ndarray]) -> str:
    """SHA-256 over the tensors in name order: each name, dtype, shape and raw bytes.

    Stored in a checkpoint's metadata and checked on load, so a flipped byte in the
    payload is caught (safetensors itself checks only the header's structure).
    """
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def save_checkpoint(
    path: str | os.PathLike,
    params: dict[str, np.ndarray],
    config: GPTConfig,
    metadata: dict[str, str] | None = None,
) -> None:
    """Write ``params`` as a safetensors file; the config goes in its JSON metadata.

    safetensors stores raw tensors and a JSON header, so loading it runs no code (unlike a
    pickle). Both frameworks write and read this same format. The metadata also holds the
    SHA-256 of the tensors (:func:`tensors_sha256`), which :func:`load_checkpoint` checks.
    """
    from safetensors.numpy import save_file

    check_params(params, config)
    arrays = {k: np.ascontiguousarray(params[k], dtype=np.float32) for k in param_shapes(config)}
    reserved = {"format", "config", "sha256"} & set(metadata or {})
    if reserved:
        raise ValueError(f"metadata keys {sorted(reserved)} are reserved by the checkpoint format")
    meta = {
        "format": CHECKPOINT_FORMAT,
        "config": config.to_json(),
        "sha256": tensors_sha256(arrays),
        **(metadata or {}),
    }
    # written beside, then renamed: a failure leaves an earlier checkpoint intact
    atomic_write(path, lambda tmp: save_file(arrays, tmp, metadata=meta))


def _check_safetensors_file(path: Path) -> None:
    """Raise a clear error, naming ``path``, for what is plainly not a safetensors file."""
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path}")
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(8)
    if head[:2] == b"PK" or head[:1] == b"\x80":
        raise ValueError(
            f"{path} looks like a pickle (torch.save or pickle.dump), not safetensors. This "
            "library never loads pickles (they can run code). Convert it where you trust its "
            "origin: safetensors.torch.save_file(torch.load(src), dst)."
        )
    if size < 8:
        raise ValueError(f"{path} has {size} bytes, too few for a safetensors file (truncated or empty?)")
    header = int.from_bytes(head, "little")
    if 8 + header > size:
        raise ValueError(
            f"{path} is truncated or not safetensors: its first 8 bytes announce a "
            f"{header:,}-byte header but the file has {size:,} bytes"
        )


def load_checkpoint(path: str | os.PathLike) -> tuple[GPTConfig, dict[str, np.ndarray], dict]:
    """Read a file written by :func:`save_checkpoint`: ``(config, params, metadata)``.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: not a safetensors file (a pickle, truncated, corrupted), not a bigmodel
            GPT checkpoint, or tensors whose SHA-256 differs from the one stored at save
            time; the message names the file.
    """
    from safetensors import safe_open
    from safetensors.numpy import load_file

    path = Path(path)
    _check_safetensors_file(path)
    try:
        with safe_open(str(path), framework="numpy") as f:
            meta = f.metadata() or {}
        params = load_file(str(path))
    except Exception as err:  # safetensors' own errors do not name the file
        raise ValueError(
            f"{path} is not a readable safetensors file (truncated or corrupted?): {err}"
        ) from err
    if meta.get("format") != CHECKPOINT_FORMAT or "config" not in meta:
        raise ValueError(f"{path} is not a bigmodel GPT checkpoint (metadata: {sorted(meta)})")
    if "sha256" not in meta:
        raise ValueError(f"{path} has no tensor checksum in its metadata; save it again with save_checkpoint")
    digest = tensors_sha256(params)
    if digest != meta["sha256"]:
        raise ValueError(
            f"{path}: the tensors' SHA-256 is {digest[:12]}..., the checkpoint recorded "
            f"{meta['sha256'][:12]}...: the file is corrupted. Restore or re-download it."
        )
    config = GPTConfig.from_dict(json.loads(meta["config"]))
    check_params(params, config)
    return config, params, meta
