"""Framework-neutral pieces of the training loops: batch order, the history record, and
the checks every ``fit``, ``evaluate`` and ``predict`` run before a framework sees the data.

A model's config says what its inputs are (``config.check_inputs``: feature rows for
:class:`bigmodel.numpy.fcnn.FCNNConfig`, images for :class:`bigmodel.numpy.cnn.CNNConfig`) and how
many classes it has (``config.n_out``); :func:`check_dataset` and :func:`check_fit_args`
are the one place that turns those into checked arrays. The loops of
:mod:`bigmodel.torch.loop` and :mod:`bigmodel.tf.loop` trust what they return.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from .inputs import integer, labels, number, positive_int, positive_number

#: The losses, mean squared error on one-hot targets (the source) or cross-entropy.
LOSSES = ("mse", "cross_entropy")


class ModelInputs(Protocol):
    """What :func:`check_dataset` needs of a model's config."""

    n_out: int

    def check_inputs(self, x: Any, allow_empty: bool = True) -> np.ndarray: ...


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
    n, batch_size = integer(n, "n", low=0), positive_int(batch_size, "batch_size")
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    order = rng.permutation(n) if rng is not None else np.arange(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def check_fit_settings(epochs: Any, batch_size: Any, lr: Any) -> None:
    """Raise ``ValueError`` unless ``epochs`` and ``batch_size`` are positive integers and
    ``lr`` is a finite positive number (a zero, negative or NaN rate trains nothing, or
    trains away from the minimum, without a word)."""
    positive_int(epochs, "epochs")
    positive_int(batch_size, "batch_size")
    positive_number(lr, "lr (the learning rate)")


def check_optimizer_settings(lr: Any, momentum: Any, weight_decay: Any) -> tuple[float, float, float]:
    """``(lr, momentum, weight_decay)`` as floats if the rate is finite and > 0, the
    momentum in (0, 1) and the decay >= 0 (whichever optimizer will use them), else a
    ``ValueError`` naming the setting."""
    return (positive_number(lr, "lr (the learning rate)"),
            number(momentum, "momentum", 0, 1, low_open=True, high_open=True),
            number(weight_decay, "weight_decay", 0))


def check_loss(loss: Any) -> str:
    """``loss`` if it is one of :data:`LOSSES`, else a ``ValueError`` naming them."""
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {LOSSES}")
    return loss


def check_dataset(config: ModelInputs, x: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """``x`` checked by ``config.check_inputs`` (at least one sample) and ``y`` as ``n``
    int64 labels in ``[0, config.n_out)``, or a clear error (see :mod:`bigmodel.inputs`)."""
    x = config.check_inputs(x, allow_empty=False)
    return x, labels(y, len(x), config.n_out)


def check_fit_args(
    config: ModelInputs,
    x: Any,
    y: Any,
    validation: tuple[Any, Any] | None,
    *,
    epochs: Any,
    batch_size: Any,
    lr: Any,
    loss: Any,
    seed: Any = 0,
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """Everything a ``fit`` is given, checked in one place: the loss, the settings
    (:func:`check_fit_settings`), the data and the validation data (:func:`check_dataset`).
    Returns ``(x, y, validation)`` as checked arrays."""
    check_loss(loss)
    check_fit_settings(epochs, batch_size, lr)
    integer(seed, "seed", low=0)
    x, y = check_dataset(config, x, y)
    if validation is not None:
        validation = check_dataset(config, *validation)
    return x, y, validation
