"""Framework-neutral pieces of the training loops: batch order and the history record."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


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


def check_x(x: np.ndarray, n_in: int) -> None:
    """Raise ``ValueError`` unless ``x`` is ``(n, n_in)``."""
    xs = tuple(np.shape(x))
    if len(xs) != 2 or xs[1] != n_in:
        raise ValueError(
            f"input has shape {xs}; the network needs (n, {n_in}). "
            "Flatten images first, e.g. x.reshape(len(x), -1)."
        )


def check_xy(x: np.ndarray, y: np.ndarray, n_in: int, n_out: int) -> None:
    """Raise ``ValueError`` unless ``x`` is ``(n, n_in)`` and ``y`` holds ``n`` labels < ``n_out``."""
    check_x(x, n_in)
    xs, ys = tuple(np.shape(x)), tuple(np.shape(y))
    if ys != (xs[0],):
        raise ValueError(f"y has shape {ys}; expected ({xs[0]},) integer labels, one per row of x")
    y = np.asarray(y)
    if y.size and (not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= n_out):
        raise ValueError(f"y must hold integer labels in [0, {n_out})")
