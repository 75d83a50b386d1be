"""The GPT classifier in NumPy: the reference both frameworks' classifiers are checked
against (:mod:`bigmodel.classify` holds the configuration and the head's initialisation).
Computed in float64, so differences from the frameworks are their float32 rounding."""

from __future__ import annotations

import numpy as np

from ..gpt import GPTConfig
from .gpt import gpt_hidden

__all__ = ["classifier_forward"]


def classifier_forward(
    params: dict[str, np.ndarray], head: dict[str, np.ndarray], idx: np.ndarray, config: GPTConfig
) -> np.ndarray:
    """Logits ``(B, n_out)`` of token ids ``idx (B, T)``: the GPT's last states averaged over
    the ``T`` positions, times ``head.weight (C, n_out)``, plus ``head.bias``.

    Raises:
        ValueError: as :func:`bigmodel.numpy.gpt.gpt_forward`, or a head whose shapes do
            not fit ``config.n_embd`` (the message gives them).
    """
    w = np.asarray(head["head.weight"], np.float64)
    b = np.asarray(head["head.bias"], np.float64)
    if w.ndim != 2 or w.shape[0] != config.n_embd or b.shape != (w.shape[1],):
        raise ValueError(f"head.weight {w.shape} and head.bias {b.shape} do not fit: expected "
                         f"({config.n_embd}, n_out) and (n_out,)")
    x, _ = gpt_hidden(params, idx, config)  # (B, T, C)
    return x.mean(axis=1) @ w + b  # (B, n_out)
