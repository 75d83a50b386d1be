"""A BERT-style encoder in TensorFlow: the GPT of :mod:`bigmodel.tf.gpt` with attention
that sees both sides, trained to fill in masked tokens; mirrors :mod:`bigmodel.torch.encoder`.

Everything but the attention mask and the loss is inherited: the embeddings, blocks, weight
names and checkpoint format are the GPT's (:mod:`bigmodel.encoder` says why); generation
by filling ``[MASK]`` is :class:`bigmodel.encoder.EncoderBase`'s. Training is the GPT's own
:func:`bigmodel.tf.gpt_train.train`, which masks the batches when the model has a
``mask_rate``.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

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
        params, seed, compute_dtype: as :class:`bigmodel.tf.gpt.GPT` (the same seed gives
            the same weights as a GPT of that config, and as the PyTorch encoder).
        mask_rate: the share of positions training hides (BERT's 0.15).
    """

    def __init__(
        self,
        config: GPTConfig,
        params: dict[str, np.ndarray] | None = None,
        seed: int | None = None,
        compute_dtype: str = "float32",
        mask_rate: float = MASK_RATE,
    ):
        GPT.__init__(self, config, params, seed, compute_dtype)
        self.mask_rate = number(mask_rate, "mask_rate", 0, 1, low_open=True)
        for block in self.h:
            block.attn.causal = False  # the one change: attention sees both sides

    def __call__(
        self,
        idx: tf.Tensor,
        targets: tf.Tensor | None = None,
        cache: KVCache | None = None,
        training: bool = False,
        checkpoint: bool = False,
    ) -> tuple[tf.Tensor, tf.Tensor | None]:
        """Logits for every position, and the loss if ``targets`` are given.

        Args:
            idx: token ids ``(B, T)`` with ``[MASK]`` at the positions to fill.
            targets: ``(B, T)``, the hidden ids at masked positions and
                :data:`bigmodel.encoder.IGNORE` elsewhere; the loss is the mean
                cross-entropy (nats) over the masked positions only.
            cache: must be ``None`` (see :class:`bigmodel.torch.encoder.Encoder`).
            training, checkpoint: as :class:`bigmodel.tf.gpt.GPT`.

        Returns:
            ``(logits (B, T, V) float32, loss or None)``.
        """
        if cache is not None:
            raise ValueError(NO_CACHE)
        logits, _ = GPT.__call__(self, idx, None, None, training, checkpoint)  # (B, T, V)
        loss = None
        if targets is not None:
            targets = tf.convert_to_tensor(targets, tf.int64)
            scored = tf.cast(targets != IGNORE, tf.float32)  # (B, T)
            ce = tf.nn.sparse_softmax_cross_entropy_with_logits(
                labels=tf.maximum(targets, 0), logits=logits)  # (B, T)
            loss = tf.reduce_sum(ce * scored) / tf.reduce_sum(scored)
        return logits, loss
