"""Framework-neutral pieces of the training loops: batch order and the history record."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .inputs import features, labels, positive_int, positive_number


@dataclass
class History:
    """What a ``fit`` returns: one entry per epoch.

    Attributes:
        loss: mean training loss over the epoch's mini-batches.
        val_loss, val_accuracy: on the validation set, if one was given.
        seconds: wall time of each epoch (training only), in seconds.
    """

    loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.loss)


def batch_indices(
    n: int, batch_size: int, rng: np.random.Generator | None
) -> list[np.ndarray]:
    """Split ``range(n)`` into mini-batches, shuffled by ``rng`` (in order if ``None``).

    The last batch may be smaller. Both frameworks call this with the same generator,
    so a seeded run visits the samples in the same order in PyTorch and in TensorFlow.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = rng.permutation(n) if rng is not None else np.arange(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def check_x(x: Any, n_in: int, allow_empty: bool = False) -> np.ndarray:
    """``x`` as a floating ``(n, n_in)`` array, or a clear error (see :mod:`bigmodel.inputs`)."""
    return features(x, n_in, allow_empty=allow_empty)


def check_xy(x: Any, y: Any, n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """``x`` as a floating ``(n, n_in)`` array with ``n >= 1`` and ``y`` as ``n`` int64 labels
    in ``[0, n_out)``, or a clear error (see :mod:`bigmodel.inputs`)."""
    x = features(x, n_in)
    return x, labels(y, len(x), n_out)


def check_fit_settings(epochs: Any, batch_size: Any, lr: Any) -> None:
    """Raise ``ValueError`` unless ``epochs`` and ``batch_size`` are positive integers and
    ``lr`` is a finite positive number (a zero, negative or NaN rate trains nothing, or
    trains away from the minimum, without a word)."""
    positive_int(epochs, "epochs")
    positive_int(batch_size, "batch_size")
    positive_number(lr, "lr (the learning rate)")
