"""A GPT read by a classification head: the framework-neutral half.

A pretrained language model can be fine-tuned for a label instead of the next token
(Radford et al., 2018): its last layer's states ``(B, T, C)`` (``GPT.hidden``) are averaged
over the ``T`` positions and a linear head maps the mean to ``n_out`` logits. The book's
task is to tell two poets apart by the opening of a poem (:func:`opening_ids`), a fixed
number of characters, so that no padding is needed. The models are
:class:`bigmodel.torch.classify.GPTClassifier` and :class:`bigmodel.tf.classify.GPTClassifier`;
they train with the loops of the small networks (:func:`bigmodel.torch.loop.fit`,
:func:`bigmodel.tf.loop.fit`), which take the ids as float32 rows of ``length`` ids
(:class:`ClassifierConfig`). The NumPy reference is
:func:`bigmodel.numpy.classify.classifier_forward`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from .gpt import GPTConfig
from .inputs import check_array, integer, positive_int
from .text.tokenizer import CharTokenizer

__all__ = ["ClassifierConfig", "HEAD_NAMES", "check_head", "init_head", "opening_ids"]

#: The head's tensors, ``head.weight (C, n_out)`` and ``head.bias (n_out,)``.
HEAD_NAMES = ("head.weight", "head.bias")


@dataclass(frozen=True)
class ClassifierConfig:
    """The shape of a GPT classifier's inputs and outputs.

    Args:
        gpt: the GPT's shape (its ``vocab_size`` bounds the ids, its ``block_size`` the
            length).
        length: characters per input row.
        n_out: classes.
    """

    gpt: GPTConfig
    length: int
    n_out: int

    def __post_init__(self) -> None:
        integer(self.length, "length", low=1, high=self.gpt.block_size)
        integer(self.n_out, "n_out", low=2)

    def check_inputs(self, x: Any, allow_empty: bool = True) -> np.ndarray:
        """``x`` as float32 rows ``(n, length)`` of token ids (whole numbers in
        ``[0, vocab_size)``, integer or floating), or an error naming what is wrong; the
        check the training loops run (:func:`bigmodel.training.check_dataset`)."""
        if not isinstance(x, dict | str | bytes):
            with contextlib.suppress(TypeError, ValueError, RuntimeError):
                ids = np.asarray(x)
                if np.issubdtype(ids.dtype, np.integer):
                    x = ids.astype(np.float64)  # ids are integers; the loops carry floats

        def shape(s: tuple[int, ...]) -> None:
            if len(s) != 2 or s[1] != self.length:
                raise ValueError(f"x has shape {s}; this classifier reads rows of "
                                 f"{self.length} ids (opening_ids(..., length={self.length}))")

        x = check_array(x, kind="rows of token ids", shape=shape, allow_empty=allow_empty)
        if x.size and (not np.array_equal(x, np.round(x)) or x.min() < 0
                       or x.max() >= self.gpt.vocab_size):
            raise ValueError(f"x must hold token ids, whole numbers in [0, "
                             f"{self.gpt.vocab_size}); got values from {x.min()} to {x.max()}")
        return x.astype(np.float32)


def init_head(n_embd: int, n_out: int, seed: int = 0) -> dict[str, np.ndarray]:
    """A fresh head: ``head.weight (n_embd, n_out)`` Gaussian with standard deviation 0.02
    (GPT-2's initialisation of its matrices), ``head.bias`` zero; float32."""
    n_embd, n_out = positive_int(n_embd, "n_embd"), integer(n_out, "n_out", low=2)
    rng = np.random.default_rng(integer(seed, "seed", low=0))
    return {"head.weight": (0.02 * rng.standard_normal((n_embd, n_out))).astype(np.float32),
            "head.bias": np.zeros(n_out, np.float32)}


def check_head(head: dict[str, np.ndarray], n_embd: int, n_out: int) -> None:
    """Raise ``ValueError`` naming the head tensor that is missing, extra or of another
    shape than ``(n_embd, n_out)`` and ``(n_out,)``."""
    n_embd, n_out = positive_int(n_embd, "n_embd"), integer(n_out, "n_out", low=2)
    expected = {"head.weight": (n_embd, n_out), "head.bias": (n_out,)}
    for name, want in expected.items():
        if name not in head:
            raise ValueError(f"head tensor {name!r} is missing (expected shape {want})")
        if tuple(np.shape(head[name])) != want:
            raise ValueError(f"head tensor {name!r}: expected shape {want}, got "
                             f"{tuple(np.shape(head[name]))}; was it made for another model "
                             "or number of classes?")
    extra = sorted(set(head) - set(expected))
    if extra:
        raise ValueError(f"unexpected head tensors {extra}; a head has {HEAD_NAMES}")


def opening_ids(texts: list[str], tokenizer: CharTokenizer, length: int) -> tuple[np.ndarray, np.ndarray]:
    """The first ``length`` characters of each text as ids.

    Returns:
        ``(ids (n, length) int64, kept (n,) int64)``: the rows of the texts with at least
        ``length`` characters, and their indices in ``texts`` (shorter texts are left out,
        so that no row is padded).

    Raises:
        ValueError: a character the tokenizer does not know (its message names it).
    """
    length = positive_int(length, "length")
    kept = [i for i, t in enumerate(texts) if len(t) >= length]
    ids = np.array([tokenizer.encode(texts[i][:length]) for i in kept], np.int64)
    return ids.reshape(len(kept), length), np.array(kept, np.int64)
