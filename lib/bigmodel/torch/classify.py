"""A GPT classifier in PyTorch; mirrors :mod:`bigmodel.tf.classify`.

:class:`GPTClassifier` averages a GPT's last states over the positions and maps the mean
to classes with a linear head (:mod:`bigmodel.classify`). It takes its inputs as the
small networks' training loop carries them, float32 rows of ids, so
:func:`bigmodel.torch.loop.fit`, ``evaluate`` and ``predict`` train and score it. Under
LoRA (:func:`bigmodel.torch.lora.add_lora`) the GPT is frozen and only the adapters and
the head learn.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..classify import ClassifierConfig, check_head, init_head
from .gpt import GPT

__all__ = ["GPTClassifier"]


class GPTClassifier(nn.Module):
    """Logits ``(n, n_out)`` of ``(n, length)`` token ids (float32 or integer).

    Args:
        gpt: the network to read (pretrained or fresh); trained along unless frozen.
        n_out: classes.
        length: ids per row (at most the GPT's ``block_size``).
        head: ``head.weight (C, n_out)`` and ``head.bias (n_out,)``; default: fresh
            (:func:`bigmodel.classify.init_head` with ``seed``).
        seed: seed of the fresh head.

    Raises:
        ValueError: a length or class count out of range, a head of other shapes.
    """

    def __init__(self, gpt: GPT, n_out: int, length: int,
                 head: dict[str, np.ndarray] | None = None, seed: int = 0):
        super().__init__()
        self.config = ClassifierConfig(gpt.config, length, n_out)
        head = init_head(gpt.config.n_embd, n_out, seed) if head is None else head
        check_head(head, gpt.config.n_embd, n_out)
        device = gpt.wte.weight.device
        self.gpt = gpt
        # copies: training must not write into the caller's arrays
        self.head_weight = nn.Parameter(torch.tensor(  # (C, n_out)
            np.asarray(head["head.weight"], np.float32), device=device))
        self.head_bias = nn.Parameter(torch.tensor(  # (n_out,)
            np.asarray(head["head.bias"], np.float32), device=device))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.gpt.hidden(x.long())  # (n, T, C)
        return h.mean(dim=1) @ self.head_weight + self.head_bias  # (n, n_out)

    def head_to_numpy(self) -> dict[str, np.ndarray]:
        """The head as float32 NumPy arrays (``head.weight``, ``head.bias``)."""
        return {"head.weight": self.head_weight.detach().float().cpu().numpy().copy(),
                "head.bias": self.head_bias.detach().float().cpu().numpy().copy()}
