"""The BERT-style encoder in NumPy: the reference both frameworks' encoders are checked
against (:class:`bigmodel.torch.encoder.Encoder`, :class:`bigmodel.tf.encoder.Encoder`).

It is :func:`bigmodel.numpy.gpt.gpt_forward` with attention that sees both sides: the only
difference between the two models' forward passes. Computed in float64.
"""

from __future__ import annotations

import numpy as np

from ..encoder import IGNORE
from ..gpt import GPTConfig
from .attention import softmax
from .gpt import gpt_hidden

__all__ = ["encoder_forward", "masked_loss"]


def encoder_forward(
    params: dict[str, np.ndarray], idx: np.ndarray, config: GPTConfig
) -> tuple[np.ndarray, list[np.ndarray]]:
    """The encoder on token ids ``idx (B, T)``: ``(logits (B, T, V), [attention weights
    (B, H, T, T) of each block])``, every row of the weights spread over all ``T`` keys.

    Raises:
        ValueError: as :func:`bigmodel.numpy.gpt.gpt_forward`.
    """
    x, maps = gpt_hidden(params, idx, config, causal=False)  # (B, T, C)
    return x @ np.asarray(params["wte.weight"], np.float64).T, maps  # (B, T, V)


def masked_loss(logits: np.ndarray, targets: np.ndarray) -> float:
    """Mean cross-entropy (nats) of ``logits (B, T, V)`` over the positions whose
    ``targets (B, T)`` are not :data:`bigmodel.encoder.IGNORE`: the encoder's loss."""
    logits, targets = np.asarray(logits, np.float64), np.asarray(targets)
    scored = targets != IGNORE
    if not scored.any():
        raise ValueError("targets score no position (all are IGNORE); mask at least one")
    p = softmax(logits[scored])  # (n, V)
    return float(-np.mean(np.log(p[np.arange(len(p)), targets[scored]])))
