"""A BERT-style encoder in PyTorch: the GPT of :mod:`bigmodel.torch.gpt` with attention
that sees both sides, trained to fill in masked tokens; mirrors :mod:`bigmodel.tf.encoder`.

Everything but the attention mask and the loss is inherited: the embeddings, blocks, weight
names and checkpoint format are the GPT's (:mod:`bigmodel.encoder` says why); generation
by filling ``[MASK]`` is :class:`bigmodel.encoder.EncoderBase`'s. Training is the GPT's own
:func:`bigmodel.torch.gpt_train.train`, which masks the batches when the model has a
``mask_rate``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from ..encoder import IGNORE, MASK_RATE, NO_CACHE, EncoderBase
from ..gpt import GPTConfig
from ..gpt_base import KVCache
from ..inputs import number
from .gpt import GPT

__all__ = ["Encoder"]


class Encoder(EncoderBase, GPT):
    """The GPT without its causal mask, scored on masked positions only.

    Args:
        config: the shape; the vocabulary's last id is ``[MASK]``
            (:func:`bigmodel.encoder.mask_id`).
        params, seed: as :class:`bigmodel.torch.gpt.GPT` (the same seed gives the same
            weights as a GPT of that config).
        mask_rate: the share of positions training hides (BERT's 0.15).
    """

    def __init__(
        self,
        config: GPTConfig,
        params: dict[str, np.ndarray] | None = None,
        seed: int | None = None,
        mask_rate: float = MASK_RATE,
    ):
        GPT.__init__(self, config, params, seed)
        self.mask_rate = number(mask_rate, "mask_rate", 0, 1, low_open=True)
        for block in self.h:
            block.attn.causal = False  # the one change: attention sees both sides

    def forward(
        self,
        idx: torch.Tensor,
        targets: torch.Tensor | None = None,
        cache: KVCache | None = None,
        checkpoint: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits for every position, and the loss if ``targets`` are given.

        Args:
            idx: token ids ``(B, T)`` with ``[MASK]`` at the positions to fill.
            targets: ``(B, T)``, the hidden ids at masked positions and
                :data:`bigmodel.encoder.IGNORE` elsewhere; the loss is the mean
                cross-entropy (nats) over the masked positions only.
            cache: must be ``None``: an encoder recomputes every position for each new
                token, since a new token changes what the earlier ones see.

        Returns:
            ``(logits (B, T, V), loss or None)``.
        """
        if cache is not None:
            raise ValueError(NO_CACHE)
        B, T = idx.shape
        x = self._states(idx, None, checkpoint)  # (B, T, C)
        logits = F.linear(x, self.wte.weight)  # (B, T, V)
        loss = None
        if targets is not None:
            loss = F.cross_entropy(logits.reshape(B * T, -1).float(), targets.reshape(B * T),
                                   ignore_index=IGNORE)
        return logits, loss
