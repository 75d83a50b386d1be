"""The NumPy convolution and pooling reference against PyTorch and TensorFlow, and the layouts."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import torch
from torch.nn import functional as F

from bigmodel.numpy import cnn as np_cnn
from numerics import assert_float32_close

# (N, H, W, C_in, C_out, kernel, stride, padding): odd and even kernels, rectangular ones,
# strides that do and do not divide the size, and an uneven SAME padding (extra pixel after).
CONV_CASES = [
    (2, 7, 7, 3, 4, (3, 3), 1, "valid"),
    (2, 9, 9, 3, 4, (3, 3), 3, "valid"),
    (2, 8, 9, 2, 5, (3, 3), 2, "same"),
    (3, 6, 6, 4, 2, (2, 2), 1, "same"),
    (1, 10, 7, 1, 3, (5, 2), (2, 1), "same"),
    (2, 5, 6, 2, 3, (3, 3), 1, 1),
    (2, 8, 8, 1, 2, (4, 4), 2, 2),
]
# (H, W, size, stride, padding) for the pools.
POOL_CASES = [
    (8, 8, 2, None, "valid"),
    (7, 9, 2, None, "valid"),  # odd sizes: the last row and column are dropped
    (7, 7, 3, 2, "same"),
    (6, 5, (3, 2), (1, 2), "same"),
    (5, 5, 2, 1, "valid"),
]


def rand(shape, seed):
    return np.random.default_rng(seed).normal(size=shape).astype(np.float32)


def pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def torch_pad(x_nchw, h, w, kernel, stride, padding, value=0.0):
    """PyTorch has no SAME padding with a stride: pad by hand with the amounts TF uses."""
    if padding == "valid":
        return x_nchw
    (kh, kw), (sh, sw) = pair(kernel), pair(stride)
    if isinstance(padding, int):
        return F.pad(x_nchw, (padding,) * 4, value=value)
    top, bottom = np_cnn.same_padding(h, kh, sh)
    left, right = np_cnn.same_padding(w, kw, sw)
    return F.pad(x_nchw, (left, right, top, bottom), value=value)


def torch_conv(x, w, b, stride, padding):
    xt = torch.as_tensor(np_cnn.nhwc_to_nchw(x))
    wt = torch.as_tensor(np_cnn.kernel_tf_to_torch(w))
    if padding == "same" and pair(stride) == (1, 1):
        out = F.conv2d(xt, wt, torch.as_tensor(b), padding="same")  # PyTorch's own SAME rule
    else:
        xt = torch_pad(xt, x.shape[1], x.shape[2], w.shape[:2], stride, padding)
        out = F.conv2d(xt, wt, torch.as_tensor(b), stride=stride)
    return np_cnn.nchw_to_nhwc(out.numpy())


def tf_conv(x, w, b, stride, padding):
    if isinstance(padding, int):
        padding = [[0, 0], [padding, padding], [padding, padding], [0, 0]]
    else:
        padding = padding.upper()
    return (tf.nn.conv2d(x, w, pair(stride), padding) + b).numpy()


# PyTorch warns that SAME with an even kernel copies the input; a cost, not a problem here.
@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel")
@pytest.mark.parametrize("case", CONV_CASES, ids=str)
def test_conv2d_matches_torch_and_tf(case):
    n, h, w, c_in, c_out, kernel, stride, padding = case
    x = rand((n, h, w, c_in), 0)
    k = rand(pair(kernel) + (c_in, c_out), 1)
    b = rand((c_out,), 2)
    ref = np_cnn.conv2d(x, k, b, stride, padding)
    ho = np_cnn.conv_output_size(h, pair(kernel)[0], pair(stride)[0], padding)
    wo = np_cnn.conv_output_size(w, pair(kernel)[1], pair(stride)[1], padding)
    assert ref.shape == (n, ho, wo, c_out) and ref.dtype == np.float32
    for got in (torch_conv(x, k, b, stride, padding), tf_conv(x, k, b, stride, padding)):
        assert got.shape == ref.shape
        assert_float32_close(got, ref, int(np.prod(pair(kernel))) * c_in + 1)


def test_conv2d_is_cross_correlation_by_hand():
    """One output pixel written out as the sum in the module docstring (no flipped kernel)."""
    x, k, b = rand((1, 5, 5, 2), 3), rand((3, 3, 2, 4), 4), rand((4,), 5)
    out = np_cnn.conv2d(x, k, b, stride=2)
    i, j, o = 1, 0, 3
    by_hand = b[o] + sum(
        x[0, i * 2 + p, j * 2 + q, c] * k[p, q, c, o] for p in range(3) for q in range(3) for c in range(2)
    )
    assert out[0, i, j, o] == pytest.approx(by_hand, abs=1e-5)


@pytest.mark.parametrize("case", POOL_CASES, ids=str)
@pytest.mark.parametrize("kind", ["max", "avg"])
def test_pooling_matches_torch_and_tf(kind, case):
    h, w, size, stride, padding = case
    x = rand((2, h, w, 3), 6)
    ref = (np_cnn.max_pool2d if kind == "max" else np_cnn.avg_pool2d)(x, size, stride, padding)
    s = size if stride is None else stride
    tf_pool = tf.nn.max_pool2d if kind == "max" else tf.nn.avg_pool2d
    got_tf = tf_pool(x, pair(size), pair(s), padding.upper()).numpy()
    xt = torch.as_tensor(np_cnn.nhwc_to_nchw(x))
    if kind == "max":
        got_t = F.max_pool2d(torch_pad(xt, h, w, size, s, padding, value=-np.inf), size, s)
    else:
        # SAME averages over real pixels only: the sum over the window over the pixel count.
        ones = torch.ones_like(xt)
        got_t = F.avg_pool2d(torch_pad(xt, h, w, size, s, padding), size, s) / F.avg_pool2d(
            torch_pad(ones, h, w, size, s, padding), size, s
        )
    for got in (np_cnn.nchw_to_nhwc(got_t.numpy()), got_tf):
        assert got.shape == ref.shape
        assert_float32_close(got, ref, int(np.prod(pair(size))) + 1)


def test_two_by_two_pooling_halves_the_image():
    x = rand((1, 28, 28, 2), 7)
    assert np_cnn.max_pool2d(x).shape == (1, 14, 14, 2)
    assert np_cnn.avg_pool2d(x[:, :13, :13]).shape == (1, 6, 6, 2)
    assert_float32_close(np_cnn.avg_pool2d(x), x.reshape(1, 14, 2, 14, 2, 2).mean(axis=(2, 4)), 5)
    assert np.array_equal(np_cnn.max_pool2d(x), x.reshape(1, 14, 2, 14, 2, 2).max(axis=(2, 4)))


@pytest.mark.parametrize("case", CONV_CASES[:5], ids=str)
def test_conv2d_backward_matches_torch_autograd(case):
    n, h, w, c_in, c_out, kernel, stride, padding = case
    x = rand((n, h, w, c_in), 8)
    k = rand(pair(kernel) + (c_in, c_out), 9)
    b = rand((c_out,), 10)
    out = np_cnn.conv2d(x, k, b, stride, padding)
    dout = rand(out.shape, 11)
    dx, dk, db = np_cnn.conv2d_backward(dout, x, k, stride, padding)

    xt = torch.tensor(np_cnn.nhwc_to_nchw(x), requires_grad=True)
    kt = torch.tensor(np_cnn.kernel_tf_to_torch(k), requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    yt = F.conv2d(torch_pad(xt, h, w, kernel, stride, padding), kt, bt, stride=stride)
    (yt * torch.as_tensor(np_cnn.nhwc_to_nchw(dout))).sum().backward()
    # dx sums over the kernel and the output channels; dk and db over every output pixel
    assert_float32_close(dx, np_cnn.nchw_to_nhwc(xt.grad.numpy()), int(np.prod(pair(kernel))) * c_out)
    assert_float32_close(dk, np_cnn.kernel_torch_to_tf(kt.grad.numpy()), int(np.prod(out.shape[:3])))
    assert_float32_close(db, bt.grad.numpy(), int(np.prod(out.shape[:3])))


# ---------------------------------------------------------------- layouts


def test_layout_conversions_move_each_element_where_it_belongs():
    k = rand((3, 2, 4, 5), 12)  # (kh, kw, C_in, C_out), every axis a different length
    kt = np_cnn.kernel_tf_to_torch(k)
    assert kt.shape == (5, 4, 3, 2)
    p, q, c, o = 2, 1, 3, 0
    assert kt[o, c, p, q] == k[p, q, c, o]
    np.testing.assert_array_equal(np_cnn.kernel_torch_to_tf(kt), k)
    x = rand((2, 3, 4, 5), 13)  # (N, H, W, C)
    xc = np_cnn.nhwc_to_nchw(x)
    assert xc.shape == (2, 5, 3, 4) and xc[1, 4, 2, 3] == x[1, 2, 3, 4]
    np.testing.assert_array_equal(np_cnn.nchw_to_nhwc(xc), x)


def test_a_wrong_kernel_conversion_is_caught():
    """Swapping kh and kw (a transposed kernel) or reshaping instead of transposing keeps
    the shapes PyTorch accepts but changes the result: the parity check fails."""
    x, k, b = rand((2, 6, 6, 3), 14), rand((3, 3, 3, 4), 15), rand((4,), 16)
    ref = np_cnn.conv2d(x, k, b)
    xt = torch.as_tensor(np_cnn.nhwc_to_nchw(x))
    wrong = {
        "transposed": k.transpose(3, 2, 1, 0),  # (C_out, C_in, kw, kh)
        "reshaped": k.reshape(4, 3, 3, 3),  # the bytes in place, the axes scrambled
    }
    for name, kt in wrong.items():
        out = F.conv2d(xt, torch.as_tensor(np.ascontiguousarray(kt)), torch.as_tensor(b))
        got = np_cnn.nchw_to_nhwc(out.numpy())
        assert got.shape == ref.shape
        assert np.abs(got - ref).max() > 0.1, name
    right = F.conv2d(xt, torch.as_tensor(np_cnn.kernel_tf_to_torch(k)), torch.as_tensor(b)).numpy()
    assert_float32_close(np_cnn.nchw_to_nhwc(right), ref, int(np.prod(k.shape[:-1])) + 1)


def test_dense_rows_follow_the_flatten_order():
    fmap = rand((3, 2, 4, 5), 17)  # (n, h, w, c) after the last pool
    w = rand((2 * 4 * 5, 6), 18)  # rows in (h, w, c) order
    ref = fmap.reshape(3, -1) @ w
    flat_nchw = np_cnn.nhwc_to_nchw(fmap).reshape(3, -1)  # what torch's flatten gives
    w_nchw = np_cnn.dense_nhwc_to_nchw(w, (2, 4, 5))
    assert_float32_close(flat_nchw @ w_nchw, ref, w.shape[0])
    assert np.abs(flat_nchw @ w - ref).max() > 0.1  # unpermuted rows: caught
    np.testing.assert_array_equal(np_cnn.dense_nchw_to_nhwc(w_nchw, (2, 4, 5)), w)


def test_bad_arguments_give_clear_errors():
    x = rand((1, 6, 6, 3), 19)
    with pytest.raises(ValueError, match="kernel_torch_to_tf"):
        np_cnn.conv2d(x[..., :2], rand((4, 2, 3, 3), 20))  # a PyTorch-layout kernel
    with pytest.raises(ValueError, match=r"NHWC.*\[\.\.\., None\]"):
        np_cnn.conv2d(x[..., 0], rand((3, 3, 1, 2), 21))
    with pytest.raises(ValueError, match="padding must be"):
        np_cnn.conv2d(x, rand((3, 3, 3, 2), 22), padding="full")
    with pytest.raises(ValueError, match="stride must be"):
        np_cnn.conv2d(x, rand((3, 3, 3, 2), 22), stride=0)
    with pytest.raises(ValueError, match="does not fit"):
        np_cnn.conv2d(x, rand((7, 7, 3, 2), 23))
    with pytest.raises(ValueError, match=r"bias has shape \(3,\)"):
        np_cnn.conv2d(x, rand((3, 3, 3, 2), 22), rand((3,), 0))
    with pytest.raises(ValueError, match="255"):
        np_cnn.max_pool2d((x * 255).astype(np.uint8))
    with pytest.raises(ValueError, match="flattens to 40"):
        np_cnn.dense_nhwc_to_nchw(rand((41, 3), 0), (2, 4, 5))
