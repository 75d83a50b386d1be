"""The small CNN of :class:`bigmodel.numpy.cnn.CNNConfig` in PyTorch, with a ``fit``-style loop.

Inside, the model is written the PyTorch way: activations channels-first (NCHW), kernels
``(C_out, C_in, kh, kw)`` for ``F.conv2d``, and a flatten in ``(c, h, w)`` order. Its
interface is the book's canonical layout, the same as :mod:`bigmodel.numpy.cnn` and
:mod:`bigmodel.tf.cnn`: it takes channels-last images ``(n, H, W)`` or ``(n, H, W, C)``,
and :meth:`CNN.load_numpy` / :meth:`CNN.to_numpy` convert the weights from and to the
TensorFlow layout (:func:`~bigmodel.numpy.cnn.kernel_tf_to_torch`,
:func:`~bigmodel.numpy.cnn.dense_nhwc_to_nchw`), so one dictionary of NumPy arrays gives the
same outputs in all three.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from ..inputs import float_dtype_hint
from ..numpy.cnn import (
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

# One loop per framework (.loop) serves the FCNN and the CNN; chapters call it from here.
from .loop import evaluate as evaluate
from .loop import fit as fit
from .loop import loss_fn as loss_fn
from .loop import make_optimizer as make_optimizer
from .loop import predict as predict


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
        """Copy NumPy arrays in the canonical layout (:func:`bigmodel.numpy.cnn.param_shapes`) into
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
