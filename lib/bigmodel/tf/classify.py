"""A GPT classifier in TensorFlow; mirrors :mod:`bigmodel.torch.classify`.

:class:`GPTClassifier` averages a GPT's last states over the positions and maps the mean
to classes with a linear head (:mod:`bigmodel.classify`). It takes its inputs as the
small networks' training loop carries them, float32 rows of ids, so
:func:`bigmodel.tf.loop.fit`, ``evaluate`` and ``predict`` train and score it; ``params``
lists what training changes (the GPT's trainable variables, then the head). Under LoRA
(:func:`bigmodel.tf.lora.add_lora`) the GPT is frozen and only the adapters and the head
learn.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..classify import ClassifierConfig, check_head, init_head
from .gpt import GPT

__all__ = ["GPTClassifier"]


class GPTClassifier(tf.Module):
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
        super().__init__(name="gpt_classifier")
        self.config = ClassifierConfig(gpt.config, length, n_out)
        head = init_head(gpt.config.n_embd, n_out, seed) if head is None else head
        check_head(head, gpt.config.n_embd, n_out)
        self.gpt = gpt
        self.head_weight = tf.Variable(np.asarray(head["head.weight"], np.float32),
                                       name="head_weight")  # (C, n_out)
        self.head_bias = tf.Variable(np.asarray(head["head.bias"], np.float32),
                                     name="head_bias")  # (n_out,)

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        h = self.gpt.hidden(tf.cast(x, tf.int64))  # (n, T, C)
        return tf.reduce_mean(h, axis=1) @ self.head_weight + self.head_bias  # (n, n_out)

    @property
    def params(self) -> list[tf.Variable]:
        """The variables that training changes, the GPT's trainable ones and then the head's."""
        return [*self.gpt.trainable_params, self.head_weight, self.head_bias]

    def head_to_numpy(self) -> dict[str, np.ndarray]:
        """The head as float32 NumPy arrays (``head.weight``, ``head.bias``)."""
        return {"head.weight": self.head_weight.numpy().copy(),
                "head.bias": self.head_bias.numpy().copy()}
