"""The small CNN of :class:`bigmodel.conv.CNNConfig` in PyTorch, with a ``fit``-style loop.

Inside, the model is written the PyTorch way: activations channels-first (NCHW), kernels
``(C_out, C_in, kh, kw)`` for ``F.conv2d``, and a flatten in ``(c, h, w)`` order. Its
interface is the book's canonical layout, the same as :mod:`bigmodel.conv` and
:mod:`bigmodel.tf.cnn`: it takes channels-last images ``(n, H, W)`` or ``(n, H, W, C)``,
and :meth:`CNN.load_numpy` / :meth:`CNN.to_numpy` convert the weights from and to the
TensorFlow layout (:func:`~bigmodel.conv.kernel_tf_to_torch`,
:func:`~bigmodel.conv.dense_nhwc_to_nchw`), so one dictionary of NumPy arrays gives the
same outputs in all three.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..conv import (
    CNNConfig,
    check_image_shape,
    check_images,
    check_params,
    dense_nchw_to_nhwc,
    dense_nhwc_to_nchw,
    init_params,
    kernel_tf_to_torch,
    kernel_torch_to_tf,
    param_shapes,
)
from ..fcnn import LOSSES
from ..inputs import float_dtype_hint, labels
from ..training import History, check_fit_settings
from .loop import evaluate_arrays, predict_arrays, train_arrays


class CNN(nn.Module):
    """``len(channels)`` blocks of conv - ReLU - pool, then flatten and dense; logits out.

    Input ``(n, H, W)`` or ``(n, H, W, C)`` float32 (channels-last), output ``(n, n_out)``.
    Parameters ``W1, b1, ...`` are held in PyTorch's layout: kernels ``(C_out, C_in, k, k)``,
    the dense weight ``(c*h*w, n_out)`` with rows in ``(c, h, w)`` order.
    """

    def __init__(self, config: CNNConfig, params: dict[str, np.ndarray] | None = None):
        super().__init__()
        self.config = config
        self._names = tuple(param_shapes(config))
        for name, shape in param_shapes(config).items():
            torch_shape = (shape[3], shape[2], shape[0], shape[1]) if len(shape) == 4 else shape
            self.register_parameter(name, nn.Parameter(torch.zeros(torch_shape)))
        if params is None:
            # NumPy's global generator, as in bigmodel.tf.cnn: after seed_everything(s) the
            # two frameworks start from the same weights.
            params = init_params(config, rng=np.random.default_rng(np.random.randint(2**31)))
        self.load_numpy(params)

    def forward(self, x: torch.Tensor | np.ndarray) -> torch.Tensor:
        """``x``: images ``(n, H, W)`` or ``(n, H, W, C)``, a tensor or array-like of floats
        (float64 and float16 are converted to the weights' dtype; integer pixels are refused)."""
        cfg = self.config
        a = _as_input(x, cfg, self.W1).permute(0, 3, 1, 2)  # NHWC -> NCHW for F.conv2d
        pool = F.max_pool2d if cfg.pool == "max" else F.avg_pool2d
        for i in range(1, len(cfg.channels) + 1):
            z = F.conv2d(a, getattr(self, f"W{i}"), getattr(self, f"b{i}"), padding=cfg.padding)
            a = pool(torch.relu(z), 2)  # (n, C_i, h, w)
        d = len(cfg.channels) + 1
        flat = a.flatten(1)  # (n, c*h*w), in (c, h, w) order: the rows of W{d} are permuted to match
        return flat @ getattr(self, f"W{d}") + getattr(self, f"b{d}")

    def load_numpy(self, params: dict[str, np.ndarray]) -> None:
        """Copy NumPy arrays in the canonical layout (:func:`bigmodel.conv.param_shapes`) into
        the parameters, converting kernels and the dense rows to PyTorch's layout."""
        check_params(params, self.config)
        d = f"W{len(self.config.channels) + 1}"
        with torch.no_grad():
            for name in self._names:
                a = np.asarray(params[name], np.float32)
                if a.ndim == 4:
                    a = kernel_tf_to_torch(a)
                elif name == d:
                    a = dense_nhwc_to_nchw(a, self.config.feature_shape)
                p = getattr(self, name)
                p.copy_(torch.as_tensor(a, device=p.device))

    def to_numpy(self) -> dict[str, np.ndarray]:
        """The parameters as float32 NumPy arrays in the canonical (TensorFlow) layout."""
        d = f"W{len(self.config.channels) + 1}"
        out = {}
        for name in self._names:
            a = getattr(self, name).detach().cpu().numpy()
            if a.ndim == 4:
                a = kernel_torch_to_tf(a)
            elif name == d:
                a = dense_nchw_to_nhwc(a, self.config.feature_shape)
            out[name] = a.copy()
        return out

    def param_count(self) -> int:
        return sum(p.numel() for p in self.parameters())


def _as_input(x: torch.Tensor | np.ndarray, config: CNNConfig, like: torch.Tensor) -> torch.Tensor:
    """``x`` as an ``(n, H, W, C)`` tensor with ``like``'s dtype and device, or a clear error."""
    if not isinstance(x, torch.Tensor):
        return torch.as_tensor(check_images(x, config), dtype=like.dtype, device=like.device)
    check_image_shape(tuple(x.shape), config)
    if not x.is_floating_point():
        high = x.max().item() if x.numel() else None
        raise ValueError(float_dtype_hint("x", x.dtype, high))
    if x.device != like.device:
        raise ValueError(
            f"x is on {x.device} but the model is on {like.device}; use x.to({str(like.device)!r})"
        )
    x = x if x.ndim == 4 else x.unsqueeze(-1)
    return x if x.dtype == like.dtype else x.to(like.dtype)


def _check_xy(x, y, config: CNNConfig) -> tuple[np.ndarray, np.ndarray]:
    x = check_images(x, config, allow_empty=False)
    return x, labels(y, len(x), config.n_out)


def evaluate(
    model: CNN, x: np.ndarray, y: np.ndarray, loss: str = "cross_entropy", batch_size: int = 4096
) -> tuple[float, float]:
    """Mean loss and accuracy of ``model`` on images ``x (n, H, W[, C])``, labels ``y (n,)``."""
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {LOSSES}")
    x, y = _check_xy(x, y, model.config)
    return evaluate_arrays(model, x, y, loss=loss, batch_size=batch_size)


def predict(model: CNN, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """Network outputs ``(n, n_out)`` of images ``x (n, H, W[, C])`` as a NumPy array."""
    x = check_images(x, model.config)
    return predict_arrays(model, x, model.config.n_out, batch_size=batch_size)


def fit(
    model: CNN,
    x: np.ndarray,
    y: np.ndarray,
    *,
    epochs: int = 1,
    batch_size: int = 128,
    lr: float = 1e-3,
    loss: str = "cross_entropy",
    optimizer: str = "adam",
    validation: tuple[np.ndarray, np.ndarray] | None = None,
    seed: int = 0,
    show_progress: bool = True,
) -> History:
    """Train ``model`` in place with mini-batches; return the per-epoch :class:`~bigmodel.training.History`.

    The arguments are those of :func:`bigmodel.torch.fcnn.fit`, with images
    ``x (n, H, W[, C])`` in place of feature rows. ``seed`` seeds the shuffling, which
    :func:`bigmodel.training.batch_indices` shares with the TensorFlow loop.
    """
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {LOSSES}")
    check_fit_settings(epochs, batch_size, lr)
    x, y = _check_xy(x, y, model.config)
    if validation is not None:
        validation = _check_xy(*validation, model.config)
    return train_arrays(
        model, x, y, epochs=epochs, batch_size=batch_size, lr=lr, loss=loss, optimizer=optimizer,
        validation=validation, seed=seed, show_progress=show_progress,
    )
