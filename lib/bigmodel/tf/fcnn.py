"""The source's fully connected network in TensorFlow, with a ``fit``-style training loop.

Written like the source's code (``tf.Variable`` weights, ``tf.matmul``, ``GradientTape``)
but with mini-batches; mirrors :mod:`bigmodel.torch.fcnn` name for name.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..inputs import features, float_dtype_hint
from ..numpy.fcnn import ACTIVATIONS, PARAM_NAMES, FCNNConfig, check_params

# One loop per framework (.loop) serves the FCNN and the CNN; chapters call it from here.
from .loop import evaluate as evaluate
from .loop import fit as fit
from .loop import loss_fn as loss_fn
from .loop import make_optimizer as make_optimizer
from .loop import predict as predict

_ACT = {"relu": tf.nn.relu, "sigmoid": tf.sigmoid, "tanh": tf.tanh, "identity": lambda z: z}
assert set(_ACT) == set(ACTIVATIONS)


def _as_input(x: tf.Tensor | np.ndarray, n_in: int) -> tf.Tensor:
    """``x`` as a float32 ``(n, n_in)`` tensor, or a clear error."""
    if not tf.is_tensor(x):
        return tf.constant(features(x, n_in, allow_empty=True), tf.float32)
    if x.shape.rank != 2 or x.shape[1] != n_in:
        raise ValueError(
            f"x has shape {tuple(x.shape)}; the network needs (n, {n_in}). "
            "Flatten images first, e.g. tf.reshape(x, (len(x), -1))."
        )
    if not x.dtype.is_floating:
        high = x.numpy().max() if tf.executing_eagerly() and x.shape[0] else None
        raise ValueError(float_dtype_hint("x", x.dtype.name, high))
    return x if x.dtype == tf.float32 else tf.cast(x, tf.float32)


class FCNN(tf.Module):
    """``A2 = g(σ(X W1 + b1) W2 + b2)``; see :class:`bigmodel.numpy.fcnn.FCNNConfig`.

    Input ``(n, n_in)`` float32, output ``(n, n_out)``.
    """

    def __init__(self, config: FCNNConfig, params: dict[str, np.ndarray] | None = None):
        super().__init__(name="fcnn")
        self.config = config
        if params is None:
            from ..numpy.fcnn import init_params

            # NumPy's global generator, as in bigmodel.torch.fcnn: after seed_everything(s)
            # the two frameworks start from the same weights.
            params = init_params(config, rng=np.random.default_rng(np.random.randint(2**31)))
        check_params(params, config)
        for name in PARAM_NAMES:
            setattr(self, name, tf.Variable(np.asarray(params[name], np.float32), name=name))

    @property
    def params(self) -> list[tf.Variable]:
        return [getattr(self, n) for n in PARAM_NAMES]

    def __call__(self, x: tf.Tensor | np.ndarray) -> tf.Tensor:
        """``x``: a tensor or array-like ``(n, n_in)`` of floats (float64 and float16 are
        converted to float32; integer pixels are refused: scale them first)."""
        x = _as_input(x, self.config.n_in)
        z1 = tf.matmul(x, self.W1) + self.b1  # (n, h)
        a1 = _ACT[self.config.activation](z1)  # (n, h)
        z2 = tf.matmul(a1, self.W2) + self.b2  # (n, k)
        return _ACT[self.config.output_activation](z2)  # (n, k)

    def load_numpy(self, params: dict[str, np.ndarray]) -> None:
        """Copy NumPy arrays (``{"W1", "b1", "W2", "b2"}``) into the variables."""
        check_params(params, self.config)
        for name in PARAM_NAMES:
            getattr(self, name).assign(np.asarray(params[name], np.float32))

    def to_numpy(self) -> dict[str, np.ndarray]:
        """The parameters as float32 NumPy arrays."""
        return {n: getattr(self, n).numpy().copy() for n in PARAM_NAMES}

    def param_count(self) -> int:
        return int(sum(np.prod(v.shape) for v in self.params))
