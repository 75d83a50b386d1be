"""GPT checkpoints: the safetensors files both frameworks write and read.

safetensors stores raw tensors and a JSON header, so loading one runs no code (unlike a
pickle). The header's metadata holds the format, the :class:`~bigmodel.gpt.GPTConfig`, the
SHA-256 of the tensors and the SHA-256 of the whole file's content (the tensors and every
metadata entry), which :func:`load_checkpoint` checks: a flipped byte in a tensor and an
edited config (``"n_head": 4`` made ``2``) are both refused, and the message says which.
A file that is not such a checkpoint (a pickle, a truncated or corrupted file) fails with a
``ValueError`` naming it. Files are written atomically (:func:`bigmodel.files.atomic_write`).

Format 1 (before December 2026) checked the tensors only. Such a file still loads, with a
warning; :func:`upgrade_checkpoint` rewrites it as format 2 once its tensors check out.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np

from .files import atomic_write
from .gpt import GPTConfig, check_params, param_shapes

__all__ = [
    "CHECKPOINT_FORMAT",
    "FORMAT_1",
    "RESERVED",
    "checkpoint_sha256",
    "load_checkpoint",
    "save_checkpoint",
    "tensors_sha256",
    "upgrade_checkpoint",
]

#: The ``format`` entry of a GPT checkpoint's metadata.
CHECKPOINT_FORMAT = "bigmodel.gpt/2"
#: The earlier format, whose checksum covers the tensors only (still read, with a warning).
FORMAT_1 = "bigmodel.gpt/1"
#: Metadata entries the format writes itself.
RESERVED = ("format", "config", "sha256", "tensors_sha256")


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


def checkpoint_sha256(arrays: dict[str, np.ndarray], metadata: dict[str, str]) -> str:
    """SHA-256 over the tensors (:func:`tensors_sha256`) and every metadata entry except
    ``sha256`` itself (as JSON with sorted keys): what a format-2 checkpoint stores as
    ``sha256``, so that an edit to the config or to any other entry is caught on load."""
    h = hashlib.sha256(tensors_sha256(arrays).encode())
    rest = {k: v for k, v in metadata.items() if k != "sha256"}
    h.update(json.dumps(rest, sort_keys=True, ensure_ascii=False).encode())
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
    SHA-256 of the tensors (:func:`tensors_sha256`) and of the tensors with the metadata
    (:func:`checkpoint_sha256`), which :func:`load_checkpoint` checks.

    Raises:
        ValueError: ``params`` do not fit ``config``, or ``metadata`` uses a key the format
            writes itself (:data:`RESERVED`) or a value that is not a string.
    """
    from safetensors.numpy import save_file

    check_params(params, config)
    arrays = {k: np.ascontiguousarray(params[k], dtype=np.float32) for k in param_shapes(config)}
    reserved = set(RESERVED) & set(metadata or {})
    if reserved:
        raise ValueError(f"metadata keys {sorted(reserved)} are reserved by the checkpoint format")
    not_text = sorted(k for k, v in (metadata or {}).items() if not isinstance(v, str))
    if not_text:
        raise ValueError(f"metadata values must be strings (safetensors stores text); "
                         f"{not_text} are not: pass str(value) or json.dumps(value)")
    meta = {
        "format": CHECKPOINT_FORMAT,
        "config": config.to_json(),
        "tensors_sha256": tensors_sha256(arrays),
        **(metadata or {}),
    }
    meta["sha256"] = checkpoint_sha256(arrays, meta)
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
            GPT checkpoint, tensors whose SHA-256 differs from the one stored at save time,
            or (format 2) metadata edited since; the message names the file and which.

    Warns:
        UserWarning: a format-1 file, whose config no checksum covers (see
            :func:`upgrade_checkpoint`).
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
    fmt = meta.get("format")
    if fmt not in (CHECKPOINT_FORMAT, FORMAT_1) or "config" not in meta:
        raise ValueError(f"{path} is not a bigmodel GPT checkpoint (metadata: {sorted(meta)})")
    if "sha256" not in meta:
        raise ValueError(f"{path} has no tensor checksum in its metadata; save it again with save_checkpoint")
    digest = tensors_sha256(params)
    recorded = meta["sha256"] if fmt == FORMAT_1 else meta.get("tensors_sha256", "")
    if digest != recorded:
        raise ValueError(
            f"{path}: the tensors' SHA-256 is {digest[:12]}..., the checkpoint recorded "
            f"{recorded[:12]}...: the file is corrupted. Restore or re-download it."
        )
    if fmt == FORMAT_1:
        warnings.warn(
            f"{path} is a format-1 checkpoint: its SHA-256 covers the tensors only, so an "
            "edited config would go unnoticed. Its tensors check out; rewrite it once as "
            f"format 2 with bigmodel.checkpoint.upgrade_checkpoint({str(path)!r}).",
            UserWarning, stacklevel=2)
    elif checkpoint_sha256(params, meta) != meta["sha256"]:
        raise ValueError(
            f"{path}: the tensors are intact but the metadata differs from what was saved "
            "(its SHA-256 does not match): the config or another entry was edited. A config "
            "is never read from an edited file; restore or re-download it, or save the "
            "weights again with save_checkpoint and the config you mean."
        )
    config = GPTConfig.from_dict(json.loads(meta["config"]))
    check_params(params, config)
    return config, params, meta


def upgrade_checkpoint(path: str | os.PathLike) -> bool:
    """Rewrite a format-1 checkpoint as format 2, in place and atomically; True if it did.

    The tensors are checked against their recorded SHA-256 first, so a damaged file is
    never rewritten (and so never made to look sound). The weights, the config and the
    other metadata entries are kept as they are. A format-2 file is left untouched.
    """
    path = Path(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        config, params, meta = load_checkpoint(path)
    if meta["format"] == CHECKPOINT_FORMAT:
        return False
    save_checkpoint(path, params, config, {k: v for k, v in meta.items() if k not in RESERVED})
    return True
