"""Convolution and pooling as a NumPy reference, the layout conversions, and a small CNN.

**Layouts.** The book's canonical layout is TensorFlow/Keras':

- activations are channels-last, NHWC: ``(N, H, W, C)`` (images, batch first);
- convolution kernels are ``(kh, kw, C_in, C_out)``;
- dense weights are input x output, ``(n_in, n_out)``, as in :mod:`bigmodel.numpy.fcnn`.

PyTorch stores activations channels-first, NCHW ``(N, C, H, W)``, and kernels as
``(C_out, C_in, kh, kw)``. :func:`kernel_tf_to_torch`, :func:`kernel_torch_to_tf`,
:func:`nhwc_to_nchw` and :func:`nchw_to_nhwc` convert between the two; they are
transposes, never reshapes (a reshape keeps the bytes in place and scrambles the kernel).

**Flatten order.** Flattening a ``(h, w, c)`` feature map channels-last orders the
features ``(h, w, c)`` (the channel varies fastest); flattening PyTorch's ``(c, h, w)``
orders them ``(c, h, w)``. The dense layer after the flatten sees the same numbers in a
different order, so its weight rows must be permuted too: :func:`dense_nhwc_to_nchw` and
:func:`dense_nchw_to_nhwc`. The canonical order is ``(h, w, c)``.

**Convolution** is cross-correlation, as all frameworks compute it (the kernel is not
flipped)::

    out[n, i, j, o] = b[o] + sum_{p, q, c} x_pad[n, i*sh + p, j*sw + q, c] * w[p, q, c, o]

Padding ``"valid"`` adds none; ``"same"`` is TensorFlow's rule (:func:`same_padding`):
the output has ``ceil(size / stride)`` positions, and an odd total padding puts the extra
row or column at the bottom or right. An integer ``p`` pads ``p`` zeros on every side,
like PyTorch's ``padding=p``.

Why one file of over 400 lines: the layers, their gradients, the layout conversions and the
model they make are read together (chapter 7 shows :func:`forward` from here, and checks
each layer against both frameworks); split, each piece would import all the others.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..inputs import check_array, float_dtype_hint, positive_int

__all__ = [
    "PADDINGS",
    "POOLS",
    "CNNConfig",
    "avg_pool2d",
    "check_image_shape",
    "check_images",
    "check_params",
    "conv2d",
    "conv2d_backward",
    "conv_output_size",
    "dense_nchw_to_nhwc",
    "dense_nhwc_to_nchw",
    "forward",
    "init_params",
    "kernel_tf_to_torch",
    "kernel_torch_to_tf",
    "max_pool2d",
    "nchw_to_nhwc",
    "nhwc_to_nchw",
    "param_count",
    "param_shapes",
    "same_padding",
]

#: The padding names (an ``int`` is also accepted by :func:`conv2d`).
PADDINGS = ("valid", "same")
#: The pooling kinds :class:`CNNConfig` accepts.
POOLS = ("max", "avg")


# ---------------------------------------------------------------- sizes and padding


def _pair(value: int | tuple[int, int], name: str) -> tuple[int, int]:
    """``3`` -> ``(3, 3)``; a pair is checked and kept."""
    pair = (value, value) if isinstance(value, int | np.integer) and not isinstance(value, bool) else value
    if (
        not isinstance(pair, tuple | list)
        or len(pair) != 2
        or not all(isinstance(v, int | np.integer) and not isinstance(v, bool) and v >= 1 for v in pair)
    ):
        raise ValueError(f"{name} must be a positive int or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def same_padding(size: int, kernel: int, stride: int = 1) -> tuple[int, int]:
    """TensorFlow's ``"SAME"`` padding along one axis: ``(before, after)`` in pixels.

    The output has ``ceil(size / stride)`` positions; the total padding is
    ``max((out - 1) * stride + kernel - size, 0)``, split with the extra pixel after.
    PyTorch's ``padding="same"`` (stride 1 only) pads the same way; with a stride, pad by
    hand (``F.pad``) with these amounts.
    """
    size, kernel = positive_int(size, "size"), positive_int(kernel, "kernel")
    stride = positive_int(stride, "stride")
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def _pads(
    size: tuple[int, int], kernel: tuple[int, int], stride: tuple[int, int], padding: str | int
) -> tuple[tuple[int, int], tuple[int, int]]:
    """``((top, bottom), (left, right))`` for ``padding`` ``"valid"``, ``"same"`` or an int."""
    if isinstance(padding, str) and padding.lower() == "valid":
        return (0, 0), (0, 0)
    if isinstance(padding, str) and padding.lower() == "same":
        return same_padding(size[0], kernel[0], stride[0]), same_padding(size[1], kernel[1], stride[1])
    if isinstance(padding, int | np.integer) and not isinstance(padding, bool) and padding >= 0:
        p = int(padding)
        return (p, p), (p, p)
    raise ValueError(f"padding must be 'valid', 'same' or an int >= 0, got {padding!r}")


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: str | int = "valid") -> int:
    """Output positions along one axis of a convolution or pooling window.

    ``"valid"``: ``(size - kernel) // stride + 1``; ``"same"``: ``ceil(size / stride)``;
    an int ``p``: ``(size + 2p - kernel) // stride + 1``. Raises ``ValueError`` when the
    window does not fit once.
    """
    size, kernel = positive_int(size, "size"), positive_int(kernel, "kernel")
    stride = positive_int(stride, "stride")
    (before, after), _ = _pads((size, size), (kernel, kernel), (stride, stride), padding)
    padded = size + before + after
    if padded < kernel:
        raise ValueError(
            f"a {kernel}-pixel window does not fit in {size} pixels with padding {padding!r}; "
            "use a smaller kernel, padding='same', or larger inputs"
        )
    return (padded - kernel) // stride + 1


def _windows(
    x: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int], padding: str | int, fill: float = 0.0
) -> tuple[np.ndarray, np.ndarray, tuple[tuple[int, int], tuple[int, int]]]:
    """Every window of ``x (N, H, W, C)``: a view ``(N, Ho, Wo, C, kh, kw)``, the padded
    input and the padding used. No copy: the view is strided over the padded input."""
    pads = _pads(x.shape[1:3], kernel, stride, padding)
    ho = conv_output_size(x.shape[1], kernel[0], stride[0], padding)
    wo = conv_output_size(x.shape[2], kernel[1], stride[1], padding)
    xp = np.pad(x, ((0, 0), pads[0], pads[1], (0, 0)), constant_values=fill) if any(sum(pads, ())) else x
    win = sliding_window_view(xp, kernel, axis=(1, 2))[:, :: stride[0], :: stride[1]][:, :ho, :wo]
    return win, xp, pads


def _check_nhwc(x: np.ndarray, name: str = "x") -> np.ndarray:
    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(
            f"{name} has shape {x.shape}; expected NHWC (N, H, W, C). A single-channel batch "
            f"(N, H, W) becomes one with {name}[..., None]."
        )
    return x


def _check_kernel(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    w = np.asarray(w)
    if w.ndim != 4 or w.shape[2] != x.shape[3]:
        raise ValueError(
            f"kernel has shape {w.shape} but x has {x.shape[3]} channels; expected "
            f"(kh, kw, {x.shape[3]}, C_out). A PyTorch kernel (C_out, C_in, kh, kw) converts "
            "with kernel_torch_to_tf(w)."
        )
    return w


# ---------------------------------------------------------------- convolution and pooling


def conv2d(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None = None,
    stride: int | tuple[int, int] = 1,
    padding: str | int = "valid",
) -> np.ndarray:
    """2-D convolution (cross-correlation) of a channels-last batch.

    Args:
        x: ``(N, H, W, C_in)`` inputs.
        w: ``(kh, kw, C_in, C_out)`` kernel, TensorFlow's layout (from PyTorch's
            ``(C_out, C_in, kh, kw)`` use :func:`kernel_torch_to_tf`).
        b: ``(C_out,)`` bias, or ``None``.
        stride: step between windows, an int or ``(sh, sw)``.
        padding: ``"valid"``, ``"same"`` (TensorFlow's rule) or an int (zeros on every side).

    Returns:
        ``(N, Ho, Wo, C_out)`` in the result dtype of ``x`` and ``w``.
    """
    x = _check_nhwc(x)
    w = _check_kernel(w, x)
    win, _, _ = _windows(x, w.shape[:2], _pair(stride, "stride"), padding)
    # (N, Ho, Wo, C, kh, kw) . (C, kh, kw, C_out): one matrix product over the windows (im2col).
    out = np.tensordot(win, w.transpose(2, 0, 1, 3), axes=3)
    if b is not None:
        b = np.asarray(b)
        if b.shape != (w.shape[3],):
            raise ValueError(f"bias has shape {b.shape}; expected ({w.shape[3]},), one per output channel")
        out = out + b
    return out


def conv2d_backward(
    dout: np.ndarray,
    x: np.ndarray,
    w: np.ndarray,
    stride: int | tuple[int, int] = 1,
    padding: str | int = "valid",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of a loss through :func:`conv2d`, given ``dout = dL/d out (N, Ho, Wo, C_out)``.

    Returns:
        ``(dx, dw, db)`` with the shapes of ``x (N, H, W, C_in)``, ``w (kh, kw, C_in, C_out)``
        and ``b (C_out,)``.
    """
    x = _check_nhwc(x)
    w = _check_kernel(w, x)  # the forward pass's check: a wrong kernel gave wrong shapes
    dout = np.asarray(dout)
    kh, kw = w.shape[:2]
    sh, sw = _pair(stride, "stride")
    win, xp, pads = _windows(x, (kh, kw), (sh, sw), padding)
    expected = win.shape[:3] + (w.shape[3],)
    if dout.shape != expected:
        raise ValueError(f"dout has shape {dout.shape}; the forward output was {expected}")
    ho, wo = dout.shape[1:3]
    # dw[p, q, c, o] = sum over n, i, j of x_pad[n, i*sh+p, j*sw+q, c] * dout[n, i, j, o]
    dw = np.tensordot(win, dout, axes=([0, 1, 2], [0, 1, 2])).transpose(1, 2, 0, 3)
    db = dout.sum(axis=(0, 1, 2))
    # Each kernel tap (p, q) sent x_pad[.., i*sh+p, j*sw+q, :] to out[.., i, j, :]; send the
    # gradient back the same way, adding where windows overlap.
    dxp = np.zeros(xp.shape, np.result_type(dout, w))
    for p in range(kh):
        for q in range(kw):
            dxp[:, p : p + sh * (ho - 1) + 1 : sh, q : q + sw * (wo - 1) + 1 : sw, :] += dout @ w[p, q].T
    (top, _), (left, _) = pads
    dx = dxp[:, top : top + x.shape[1], left : left + x.shape[2], :]
    return dx, dw, db


def _pool(
    x: np.ndarray, size: int | tuple[int, int], stride: int | tuple[int, int] | None, padding: str, kind: str
) -> np.ndarray:
    x = _check_nhwc(x)
    if not np.issubdtype(x.dtype, np.floating):
        raise ValueError(float_dtype_hint("x", x.dtype, x.max() if x.size else None))
    if not (isinstance(padding, str) and padding.lower() in PADDINGS):
        raise ValueError(f"pooling padding must be 'valid' or 'same', got {padding!r}")
    k = _pair(size, "size")
    s = k if stride is None else _pair(stride, "stride")
    if kind == "max":
        # Padding never wins a maximum: TensorFlow's SAME max pooling ignores it.
        win, _, _ = _windows(x, k, s, padding, fill=-np.inf)
        return win.max(axis=(4, 5))
    win, _, _ = _windows(x, k, s, padding)
    # SAME average pooling divides by the number of real pixels in each window, as TensorFlow
    # does (PyTorch's avg_pool2d with count_include_pad=False).
    ones = np.ones((1,) + x.shape[1:3] + (1,), x.dtype)
    count = _windows(ones, k, s, padding)[0].sum(axis=(4, 5))
    return win.sum(axis=(4, 5)) / count


def max_pool2d(
    x: np.ndarray,
    size: int | tuple[int, int] = 2,
    stride: int | tuple[int, int] | None = None,
    padding: str = "valid",
) -> np.ndarray:
    """Maximum over ``size`` windows of a channels-last batch, each channel on its own.

    Args:
        x: ``(N, H, W, C)`` floats.
        size: window, an int or ``(kh, kw)``; 2 halves the height and width.
        stride: step, the window size by default (windows side by side).
        padding: ``"valid"`` (a last partial window is dropped, as with PyTorch's default
            ``ceil_mode=False``) or ``"same"`` (TensorFlow's rule; padding never wins).

    Returns:
        ``(N, Ho, Wo, C)``.
    """
    return _pool(x, size, stride, padding, "max")


def avg_pool2d(
    x: np.ndarray,
    size: int | tuple[int, int] = 2,
    stride: int | tuple[int, int] | None = None,
    padding: str = "valid",
) -> np.ndarray:
    """Mean over ``size`` windows of a channels-last batch, each channel on its own.

    Same arguments as :func:`max_pool2d`. With ``"same"`` each window's mean is over its
    real pixels only (TensorFlow's rule; PyTorch's ``count_include_pad=False``).

    Returns:
        ``(N, Ho, Wo, C)``.
    """
    return _pool(x, size, stride, padding, "avg")


# ---------------------------------------------------------------- layout conversions


def _check_ndim(a: np.ndarray, ndim: int, what: str) -> np.ndarray:
    a = np.asarray(a)
    if a.ndim != ndim:
        raise ValueError(f"expected {what} with {ndim} dimensions, got shape {a.shape}")
    return a


def kernel_tf_to_torch(w: np.ndarray) -> np.ndarray:
    """TensorFlow/Keras kernel ``(kh, kw, C_in, C_out)`` -> PyTorch ``(C_out, C_in, kh, kw)``."""
    return np.ascontiguousarray(_check_ndim(w, 4, "a (kh, kw, C_in, C_out) kernel").transpose(3, 2, 0, 1))


def kernel_torch_to_tf(w: np.ndarray) -> np.ndarray:
    """PyTorch kernel ``(C_out, C_in, kh, kw)`` -> TensorFlow/Keras ``(kh, kw, C_in, C_out)``."""
    return np.ascontiguousarray(_check_ndim(w, 4, "a (C_out, C_in, kh, kw) kernel").transpose(2, 3, 1, 0))


def nhwc_to_nchw(x: np.ndarray) -> np.ndarray:
    """Channels-last ``(N, H, W, C)`` -> channels-first ``(N, C, H, W)``."""
    return np.ascontiguousarray(_check_ndim(x, 4, "an (N, H, W, C) batch").transpose(0, 3, 1, 2))


def nchw_to_nhwc(x: np.ndarray) -> np.ndarray:
    """Channels-first ``(N, C, H, W)`` -> channels-last ``(N, H, W, C)``."""
    return np.ascontiguousarray(_check_ndim(x, 4, "an (N, C, H, W) batch").transpose(0, 2, 3, 1))


def _check_dense(w: np.ndarray, feature_shape: tuple[int, int, int]) -> np.ndarray:
    w = _check_ndim(w, 2, "an (n_in, n_out) dense weight")
    if w.shape[0] != math.prod(feature_shape):
        raise ValueError(
            f"dense weight has {w.shape[0]} rows but the feature map {tuple(feature_shape)} "
            f"flattens to {math.prod(feature_shape)}"
        )
    return w


def dense_nhwc_to_nchw(w: np.ndarray, feature_shape: tuple[int, int, int]) -> np.ndarray:
    """Permute the rows of a dense weight ``(h*w*c, n_out)`` from channels-last flatten order
    ``(h, w, c)`` to channels-first order ``(c, h, w)``.

    ``feature_shape`` is ``(h, w, c)``, the feature map before the flatten. Then
    ``nchw.reshape(n, -1) @ dense_nhwc_to_nchw(W, (h, w, c))`` equals ``nhwc.reshape(n, -1) @ W``.
    """
    h, wd, c = feature_shape
    w = _check_dense(w, feature_shape)
    return np.ascontiguousarray(w.reshape(h, wd, c, -1).transpose(2, 0, 1, 3).reshape(h * wd * c, -1))


def dense_nchw_to_nhwc(w: np.ndarray, feature_shape: tuple[int, int, int]) -> np.ndarray:
    """The inverse of :func:`dense_nhwc_to_nchw`: rows in ``(c, h, w)`` order -> ``(h, w, c)``.

    ``feature_shape`` is still ``(h, w, c)``.
    """
    h, wd, c = feature_shape
    w = _check_dense(w, feature_shape)
    return np.ascontiguousarray(w.reshape(c, h, wd, -1).transpose(1, 2, 0, 3).reshape(h * wd * c, -1))


# ---------------------------------------------------------------- the small CNN


@dataclass(frozen=True)
class CNNConfig:
    """A small CNN: ``len(channels)`` blocks of conv - ReLU - pool, then flatten and dense.

    The default is conv(1->8, 3x3) - ReLU - maxpool 2x2 - conv(8->16, 3x3) - ReLU -
    maxpool 2x2 - flatten - dense(400->10) on 28x28 MNIST images: 5,258 parameters.
    Convolutions have stride 1; pooling windows are 2x2 with stride 2, ``"valid"`` (an odd
    size loses its last row and column: 28 -> 26 -> 13 -> 11 -> 5).

    Attributes:
        height, width, in_channels: the input images ``(H, W, C_in)``.
        channels: output channels of each convolution.
        kernel_size: square kernel side ``k``.
        padding: of the convolutions, ``"valid"`` or ``"same"``.
        pool: ``"max"`` or ``"avg"``.
        n_out: classes (the dense layer's outputs).
    """

    height: int = 28
    width: int = 28
    in_channels: int = 1
    channels: tuple[int, ...] = (8, 16)
    kernel_size: int = 3
    padding: str = "valid"
    pool: str = "max"
    n_out: int = 10

    def __post_init__(self) -> None:
        for field in ("height", "width", "in_channels", "kernel_size", "n_out"):
            v = getattr(self, field)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"CNNConfig.{field} must be a positive int, got {v!r}")
        ch = self.channels
        if (
            not isinstance(ch, tuple)
            or not ch
            or not all(isinstance(c, int) and not isinstance(c, bool) and c >= 1 for c in ch)
        ):
            raise ValueError(f"CNNConfig.channels must be a non-empty tuple of positive ints, got {ch!r}")
        if self.padding not in PADDINGS:
            raise ValueError(f"CNNConfig.padding={self.padding!r}; choose one of {PADDINGS}")
        if self.pool not in POOLS:
            raise ValueError(f"CNNConfig.pool={self.pool!r}; choose one of {POOLS}")
        self.feature_shape  # noqa: B018  (raises if the images are too small for the layers)

    @property
    def feature_shape(self) -> tuple[int, int, int]:
        """``(h, w, c)`` of the last pooled feature map, the input of the flatten."""
        h, w = self.height, self.width
        for i in range(len(self.channels)):
            try:
                h = conv_output_size(h, self.kernel_size, 1, self.padding)
                w = conv_output_size(w, self.kernel_size, 1, self.padding)
                h, w = conv_output_size(h, 2, 2), conv_output_size(w, 2, 2)
            except ValueError:
                raise ValueError(
                    f"{self.height}x{self.width} images are too small for block {i + 1} of "
                    f"{len(self.channels)} ({self.kernel_size}x{self.kernel_size} conv, 2x2 pool); "
                    "use fewer channels entries, a smaller kernel_size or padding='same'"
                ) from None
        return h, w, self.channels[-1]

    def check_inputs(self, x: Any, allow_empty: bool = True) -> np.ndarray:
        """Images ``x (n, H, W[, C])`` as a floating ``(n, H, W, C)`` array, or a clear error
        (:func:`check_images`); the check every framework's ``fit``, ``evaluate`` and
        ``predict`` run on this network's inputs (:func:`bigmodel.training.check_dataset`)."""
        return check_images(x, self, allow_empty=allow_empty)

    @property
    def n_features(self) -> int:
        """Length of the flattened feature vector, ``h * w * c``."""
        return math.prod(self.feature_shape)

    def to_dict(self) -> dict:
        return asdict(self)


def param_shapes(config: CNNConfig) -> dict[str, tuple[int, ...]]:
    """Parameter name -> shape in the canonical (TensorFlow) layout, in layer order.

    ``W1, b1, ..., WL, bL`` are the ``L`` convolutions, kernels ``(k, k, C_in, C_out)``;
    ``W{L+1}, b{L+1}`` the dense layer, ``(h*w*c, n_out)`` with rows in ``(h, w, c)`` order.
    """
    shapes: dict[str, tuple[int, ...]] = {}
    c_in, k = config.in_channels, config.kernel_size
    for i, c_out in enumerate(config.channels, start=1):
        shapes[f"W{i}"] = (k, k, c_in, c_out)
        shapes[f"b{i}"] = (c_out,)
        c_in = c_out
    d = len(config.channels) + 1
    shapes[f"W{d}"] = (config.n_features, config.n_out)
    shapes[f"b{d}"] = (config.n_out,)
    return shapes


def param_count(config: CNNConfig) -> int:
    """Number of trainable scalars (5,258 for the default config)."""
    return sum(math.prod(s) for s in param_shapes(config).values())


def init_params(config: CNNConfig, rng: np.random.Generator | int = 0) -> dict[str, np.ndarray]:
    """He-initialised float32 weights, N(0, 2/fan_in) with ``fan_in = k*k*C_in`` for a kernel
    and ``h*w*c`` for the dense layer (He et al., 2015); biases zero."""
    rng = np.random.default_rng(rng)
    params = {}
    for name, shape in param_shapes(config).items():
        if name.startswith("b"):
            params[name] = np.zeros(shape, np.float32)
        else:
            fan_in = math.prod(shape[:-1])
            params[name] = rng.normal(0.0, math.sqrt(2.0 / fan_in), shape).astype(np.float32)
    return params


def check_params(params: dict[str, np.ndarray], config: CNNConfig) -> None:
    """Raise ``ValueError`` naming the first parameter that is missing, extra or misshapen.

    A kernel in PyTorch's layout gets the conversion named in the message.
    """
    shapes = param_shapes(config)
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict of arrays {list(shapes)}, got {type(params).__name__}")
    for name, shape in shapes.items():
        if name not in params:
            raise ValueError(f"parameter {name!r} missing; expected {list(shapes)}")
        got = tuple(np.shape(params[name]))
        if got != shape:
            hint = ""
            if len(shape) == 4 and got == (shape[3], shape[2], shape[0], shape[1]):
                hint = " This is PyTorch's (C_out, C_in, kh, kw) layout: convert with kernel_torch_to_tf."
            raise ValueError(f"parameter {name!r} has shape {got}, the config needs {shape}.{hint}")
    extra = set(params) - set(shapes)
    if extra:
        raise ValueError(f"unexpected parameters {sorted(extra)}; expected {list(shapes)}")


def check_image_shape(shape: tuple[int, ...], config: CNNConfig, name: str = "x") -> None:
    """Raise ``ValueError`` unless ``shape`` is ``(n, H, W)`` (one channel) or ``(n, H, W, C)``."""
    h, w, c = config.height, config.width, config.in_channels
    shape = tuple(None if s is None else int(s) for s in shape)  # None: a traced batch axis
    if len(shape) == 4 and shape[1:] == (c, h, w) != (h, w, c):
        raise ValueError(
            f"{name} has shape {shape}, channels first (NCHW); the network takes channels-last "
            f"(n, {h}, {w}, {c}) images: convert with nchw_to_nhwc({name})."
        )
    if (len(shape) == 3 and c == 1 and shape[1:] == (h, w)) or (len(shape) == 4 and shape[1:] == (h, w, c)):
        return
    one = f"(n, {h}, {w}) or " if c == 1 else ""
    flat = f" Flat rows reshape with {name}.reshape(-1, {h}, {w}, {c})." if len(shape) == 2 else ""
    raise ValueError(f"{name} has shape {shape}; the network needs images {one}(n, {h}, {w}, {c}).{flat}")


def check_images(x, config: CNNConfig, name: str = "x", allow_empty: bool = True) -> np.ndarray:
    """``x`` as a floating ``(n, H, W, C)`` NumPy array, or a clear error.

    The input contract of :mod:`bigmodel.inputs` for images: ``(n, H, W)`` gains the
    channel axis; integer and boolean pixels are refused ("divide by 255"); NaN and
    infinity are refused with the first position named; the floating dtype is kept.
    """
    arr = check_array(x, name=name, kind="an array of images", ragged="ragged images?",
                      shape=lambda shape: check_image_shape(shape, config, name),
                      allow_empty=allow_empty, unit="image")
    return arr if arr.ndim == 4 else arr[..., None]


def forward(params: dict[str, np.ndarray], x: np.ndarray, config: CNNConfig) -> dict[str, np.ndarray]:
    """Forward pass of the CNN; every intermediate is returned (for plots and checks).

    Args:
        params: :func:`param_shapes`' names and shapes (canonical layout).
        x: images ``(n, H, W)`` or ``(n, H, W, C)``, floats (integer pixels are refused).

    Returns:
        ``{"conv1", "relu1", "pool1", ..., "flat", "logits"}``: ``conv{i}``, ``relu{i}``
        ``(n, h, w, C_i)``, ``pool{i}`` with half the height and width, ``flat``
        ``(n, h*w*c)`` in ``(h, w, c)`` order and ``logits`` ``(n, n_out)``.
    """
    check_params(params, config)
    a = check_images(x, config)
    out = {}
    for i in range(1, len(config.channels) + 1):
        out[f"conv{i}"] = z = conv2d(a, params[f"W{i}"], params[f"b{i}"], 1, config.padding)
        out[f"relu{i}"] = r = np.maximum(z, 0)
        out[f"pool{i}"] = a = (max_pool2d if config.pool == "max" else avg_pool2d)(r, 2)
    d = len(config.channels) + 1
    out["flat"] = flat = a.reshape(len(a), -1)  # channels-last: features in (h, w, c) order
    out["logits"] = flat @ params[f"W{d}"] + params[f"b{d}"]
    return out
