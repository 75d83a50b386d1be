"""The small CNN of :class:`bigmodel.numpy.cnn.CNNConfig` in TensorFlow, with a ``fit``-style loop.

TensorFlow's own layout is the book's canonical one (channels-last activations, kernels
``(kh, kw, C_in, C_out)``, flatten in ``(h, w, c)`` order), so the variables hold the
NumPy arrays of :func:`bigmodel.numpy.cnn.init_params` unchanged. Mirrors
:mod:`bigmodel.torch.cnn` name for name.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..inputs import float_dtype_hint
from ..numpy.cnn import CNNConfig, check_image_shape, check_images, check_params, init_params, param_shapes

# One loop per framework (.loop) serves the FCNN and the CNN; chapters call it from here.
from .loop import evaluate as evaluate
from .loop import fit as fit
from .loop import loss_fn as loss_fn
from .loop import make_optimizer as make_optimizer
from .loop import predict as predict


def _as_input(x: tf.Tensor | np.ndarray, config: CNNConfig) -> tf.Tensor:
    """``x`` as a float32 ``(n, H, W, C)`` tensor, or a clear error."""
    if not tf.is_tensor(x):
        return tf.constant(check_images(x, config), tf.float32)
    check_image_shape(tuple(x.shape), config)
    if not x.dtype.is_floating:
        high = x.numpy().max() if tf.executing_eagerly() and x.shape[0] else None
        raise ValueError(float_dtype_hint("x", x.dtype.name, high))
    x = x if x.shape.rank == 4 else x[..., None]
    return x if x.dtype == tf.float32 else tf.cast(x, tf.float32)


class CNN(tf.Module):
    """``len(channels)`` blocks of conv - ReLU - pool, then flatten and dense; logits out.

    Input ``(n, H, W)`` or ``(n, H, W, C)`` float32 (channels-last), output ``(n, n_out)``.
    Variables ``W1, b1, ...`` in the canonical layout of :func:`bigmodel.numpy.cnn.param_shapes`.
    """

    def __init__(self, config: CNNConfig, params: dict[str, np.ndarray] | None = None):
        super().__init__(name="cnn")
        self.config = config
        self._names = tuple(param_shapes(config))
        if params is None:
            # NumPy's global generator, as in bigmodel.torch.cnn: after seed_everything(s)
            # the two frameworks start from the same weights.
            params = init_params(config, rng=np.random.default_rng(np.random.randint(2**31)))
        check_params(params, config)
        for name in self._names:
            setattr(self, name, tf.Variable(np.asarray(params[name], np.float32), name=name))

    @property
    def params(self) -> list[tf.Variable]:
        return [getattr(self, n) for n in self._names]

    def __call__(self, x: tf.Tensor | np.ndarray) -> tf.Tensor:
        """``x``: images ``(n, H, W)`` or ``(n, H, W, C)``, a tensor or array-like of floats
        (float64 and float16 are converted to float32; integer pixels are refused)."""
        cfg = self.config
        a = _as_input(x, cfg)
        pool = tf.nn.max_pool2d if cfg.pool == "max" else tf.nn.avg_pool2d
        for i in range(1, len(cfg.channels) + 1):
            z = tf.nn.conv2d(a, getattr(self, f"W{i}"), 1, cfg.padding.upper()) + getattr(self, f"b{i}")
            a = pool(tf.nn.relu(z), 2, 2, "VALID")  # (n, h, w, C_i)
        d = len(cfg.channels) + 1
        flat = tf.reshape(a, (tf.shape(a)[0], -1))  # (n, h*w*c), in (h, w, c) order
        return tf.matmul(flat, getattr(self, f"W{d}")) + getattr(self, f"b{d}")

    def load_numpy(self, params: dict[str, np.ndarray]) -> None:
        """Copy NumPy arrays in the canonical layout into the variables."""
        check_params(params, self.config)
        for name in self._names:
            getattr(self, name).assign(np.asarray(params[name], np.float32))

    def to_numpy(self) -> dict[str, np.ndarray]:
        """The parameters as float32 NumPy arrays in the canonical layout."""
        return {n: getattr(self, n).numpy().copy() for n in self._names}

    def param_count(self) -> int:
        return int(sum(np.prod(v.shape) for v in self.params))
