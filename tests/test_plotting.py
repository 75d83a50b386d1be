"""The plot helpers return figures with the expected axes and images (Agg backend)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from bigmodel import plotting  # noqa: E402


def n_images(fig: Figure) -> int:
    return sum(len(ax.images) for ax in fig.axes)


def test_activations_two_panels_one_line_per_activation():
    fig = plotting.plot_activations(("relu", "tanh"))
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 2
    assert all(len(ax.lines) == 2 + 2 for ax in fig.axes)  # two curves and two zero lines
    fig.savefig(__import__("io").BytesIO(), format="png")  # it renders


def test_computation_graph_renders():
    fig = plotting.plot_computation_graph()
    assert len(fig.axes) == 1
    fig.savefig(__import__("io").BytesIO(), format="png")


def test_loss_curves_one_line_per_curve_and_log_scale():
    fig = plotting.plot_loss_curves({"a": [3.0, 2.0, 1.0], "b": [2.5, 1.5, 0.5]}, logy=True)
    (ax,) = fig.axes
    assert len(ax.lines) == 2
    assert ax.get_yscale() == "log"
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1, 2, 3])


def test_confusion_matrix_counts():
    cm = plotting.confusion_matrix(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 2]), k=3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [0, 0, 1]])
    assert cm.sum() == 4 and cm.dtype == np.int64
    with pytest.raises(ValueError):
        plotting.confusion_matrix(np.array([0, 1]), np.array([0]), k=2)


def test_plot_confusion_matrix_one_image():
    cm = plotting.confusion_matrix(np.arange(10), (np.arange(10) + 1) % 10)
    fig = plotting.plot_confusion_matrix(cm, title="t")
    assert len(fig.axes) == 1 and n_images(fig) == 1


def test_image_grid_axes_and_images():
    fig = plotting.plot_image_grid(np.zeros((5, 784)), titles=list("abcde"), ncols=4)
    assert len(fig.axes) == 8  # two rows of four
    assert n_images(fig) == 5


def test_misclassified_only_errors():
    rng = np.random.default_rng(0)
    x = rng.random((20, 28, 28))
    y = np.arange(20) % 10
    pred = y.copy()
    pred[[3, 7, 11]] = (pred[[3, 7, 11]] + 1) % 10
    fig = plotting.plot_misclassified(x, y, pred, n=24, ncols=8)
    assert n_images(fig) == 3
    assert [ax.get_title() for ax in fig.axes if ax.images] == ["3→4", "7→8", "1→2"]


def test_weight_images_symmetric_limits():
    W1 = np.random.default_rng(0).normal(size=(784, 32))
    fig = plotting.plot_weight_images(W1, n=16, ncols=8)
    assert n_images(fig) == 16 and len(fig.axes) == 16
    im = fig.axes[0].images[0]
    lo, hi = im.get_clim()
    assert lo == -hi == -np.abs(W1[:, 0]).max()
