"""The book's plots: activation functions, a computation graph, loss curves, MNIST figures.

Every function builds and returns a :class:`matplotlib.figure.Figure` without touching
``pyplot``'s global state, so a notebook cell that ends with the figure shows it exactly
once and tests can count its axes and images (Agg backend, no display needed).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Mapping, Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle as _Rect

from .inputs import integer, labels, positive_int
from .numpy.fcnn import activate, activate_grad

__all__ = [
    "confusion_matrix",
    "plot_activations",
    "plot_computation_graph",
    "plot_confusion_matrix",
    "plot_gpt_architecture",
    "plot_image_grid",
    "plot_loss_curves",
    "plot_misclassified",
    "plot_weight_images",
]


def plot_activations(
    names: Sequence[str] = ("relu", "sigmoid", "tanh"),
    z_range: tuple[float, float] = (-4.0, 4.0),
    num: int = 401,
) -> Figure:
    """Two panels: σ(z) on the left and σ'(z) on the right, for each activation in ``names``.

    Values come from :func:`bigmodel.numpy.fcnn.activate` and :func:`bigmodel.numpy.fcnn.activate_grad`,
    the functions the NumPy reference network uses, so the plot shows what the code computes.

    Args:
        names: activation names from ``bigmodel.numpy.fcnn.ACTIVATIONS``.
        z_range: the interval of pre-activations ``z`` drawn.
        num: number of sample points.

    Returns:
        A figure with 2 axes.
    """
    num = integer(num, "num", low=2)
    z = np.linspace(z_range[0], z_range[1], num)
    fig = Figure(figsize=(9, 3.4), layout="constrained")
    ax_f, ax_d = fig.subplots(1, 2)
    for name in names:
        ax_f.plot(z, activate(name, z), label=name)
        ax_d.plot(z, activate_grad(name, z), label=name)
    ax_f.set(title=r"activation $\sigma(z)$", xlabel="$z$")
    ax_d.set(title=r"derivative $\sigma'(z)$", xlabel="$z$")
    for ax in (ax_f, ax_d):
        ax.axhline(0, color="0.7", lw=0.8)
        ax.axvline(0, color="0.7", lw=0.8)
        ax.grid(alpha=0.3)
        ax.legend()
    return fig


# The words of the two diagrams, for each edition of the book (data plots keep English
# axis labels on both). Keys are the English; "{}" fields take numbers.
DIAGRAM_WORDS: dict[str, dict[str, str]] = {
    "zh_CN": {
        "scalar": "标量",
        "loss": "损失",
        "$T$ (targets)": "$T$（目标）",
        "token ids  (B, T),  T ≤ {T}": "词元 id  (B, T)，T ≤ {T}",
        "token embedding ({V}×{C})  +  position embedding ({T}×{C})":
            "词元嵌入 ({V}×{C})  +  位置嵌入 ({T}×{C})",
        "causal self-attention, {H} heads of {D}": "因果自注意力，{H} 个头，每头 {D} 维",
        "+  (x = x + attention)": "+  (x = x + 注意力)",
        "MLP: {C} → {F} (GELU) → {C}": "MLP：{C} → {F} (GELU) → {C}",
        "LayerNorm, then  x · token embeddingᵀ  →  logits (B, T, {V})":
            "LayerNorm，然后  x · 词元嵌入$^\\top$  →  logit (B, T, {V})",
        "softmax → probability of the next token": "softmax → 下一个词元的概率",
        "residual stream": "残差流",
        "× {L} blocks": "× {L} 个块",
    },
}
# fonts with Chinese glyphs, in order of preference; Debian's fonts-wqy-zenhei is the first
CJK_FONTS = ("WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC",
             "Microsoft YaHei", "PingFang SC", "SimHei")


def _words(lang: str):
    """The function that puts a diagram's English words into ``lang``."""
    if lang == "en":
        return lambda text, **fields: text.format(**fields)
    if lang not in DIAGRAM_WORDS:
        raise ValueError(f"lang must be 'en' or one of {sorted(DIAGRAM_WORDS)}, got {lang!r}")
    table = DIAGRAM_WORDS[lang]
    return lambda text, **fields: table[text].format(**fields)  # a missing word: KeyError


def _font(lang: str) -> dict:
    """Text properties for ``lang``: a font with its glyphs (Chinese needs a CJK font)."""
    if lang == "en":
        return {}
    from matplotlib import font_manager

    def known() -> set[str]:
        return {f.name for f in font_manager.fontManager.ttflist}

    if not known() & set(CJK_FONTS):
        # matplotlib's font cache may predate the font's installation: add the files
        for path in font_manager.findSystemFonts():
            if re.search(r"wqy|cjk|sourcehan|msyh|pingfang|simhei", path, re.I):
                with contextlib.suppress(Exception):  # a file FreeType cannot read
                    font_manager.fontManager.addfont(path)
    for name in CJK_FONTS:
        for f in font_manager.fontManager.ttflist:
            if f.name == name:
                # the file itself, not a family to look up: no weight or fallback guessing
                return {"fontproperties": font_manager.FontProperties(fname=f.fname)}
    raise RuntimeError(f"no font with Chinese glyphs for the {lang} diagrams; install one of "
                       f"{', '.join(CJK_FONTS)} (Debian: apt install fonts-wqy-zenhei)")


def plot_computation_graph(lang: str = "en") -> Figure:
    """The two-layer network as a computation graph: forward arrows above, gradients below.

    Nodes are the quantities of the source's equations (``X, Z1, A1, Z2, A2, L``) with the
    parameters feeding in from above; dashed red arrows run backwards, labelled with the
    gradient each step of back-propagation produces.

    Args:
        lang: ``"en"``, or ``"zh_CN"`` for the Chinese edition's words (needs a CJK font).

    Returns:
        A figure with 1 axes (axis lines hidden).
    """
    w, font = _words(lang), _font(lang)
    fig = Figure(figsize=(10, 3.6), layout="constrained")
    ax = fig.subplots()
    ax.set_xlim(-0.6, 12.6)
    ax.set_ylim(-2.2, 2.4)
    ax.axis("off")
    chain = [
        ("X", r"$X$" "\n" r"$(n,d)$"),
        ("Z1", r"$Z_1$" "\n" r"$(n,h)$"),
        ("A1", r"$A_1$" "\n" r"$(n,h)$"),
        ("Z2", r"$Z_2$" "\n" r"$(n,k)$"),
        ("A2", r"$A_2$" "\n" r"$(n,k)$"),
        ("L", r"$L$" "\n" + w("scalar")),
    ]
    xs = {key: 2.4 * i for i, (key, _) in enumerate(chain)}
    box = {"boxstyle": "round,pad=0.35", "fc": "#e8f0fe", "ec": "#3367d6"}
    pbox = {"boxstyle": "round,pad=0.3", "fc": "#fef7e0", "ec": "#e37400"}
    for key, label in chain:
        ax.text(xs[key], 0, label, ha="center", va="center", fontsize=12, bbox=box, **font)
    ops = {"Z1": r"$XW_1+b_1$", "A1": r"$\sigma$", "Z2": r"$A_1W_2+b_2$", "A2": r"$g$",
           "L": w("loss")}
    keys = [k for k, _ in chain]
    for a, b in zip(keys, keys[1:], strict=False):
        ax.annotate("", xy=(xs[b] - 0.55, 0.15), xytext=(xs[a] + 0.55, 0.15),
                    arrowprops={"arrowstyle": "->", "lw": 1.5})
        ax.text((xs[a] + xs[b]) / 2, 0.45, ops[b], ha="center", fontsize=10, **font)
    grads = {"A2": r"$dA_2$", "Z2": r"$dZ_2$", "A1": r"$dA_1$", "Z1": r"$dZ_1$"}
    for a, b in zip(keys[1:], keys[2:], strict=False):
        if a in grads:
            ax.annotate("", xy=(xs[a] + 0.55, -0.35), xytext=(xs[b] - 0.55, -0.35),
                        arrowprops={"arrowstyle": "->", "lw": 1.2, "color": "#c5221f",
                                    "ls": "--"})
            ax.text((xs[a] + xs[b]) / 2, -0.85, grads[a], ha="center", color="#c5221f",
                    fontsize=11)
    for key, names in (("Z1", (r"$W_1$", r"$b_1$")), ("Z2", (r"$W_2$", r"$b_2$"))):
        ax.text(xs[key] - 1.2, 1.75, "   ".join(names), ha="center", fontsize=11, bbox=pbox)
        ax.annotate("", xy=(xs[key] - 0.35, 0.6), xytext=(xs[key] - 1.2, 1.45),
                    arrowprops={"arrowstyle": "->", "lw": 1.2, "color": "#e37400"})
        grad = r"$dW_1,\ db_1$" if key == "Z1" else r"$dW_2,\ db_2$"
        ax.text(xs[key] - 1.2, -1.6, grad, ha="center", color="#c5221f", fontsize=11)
    ax.text(xs["L"], -1.6, w("$T$ (targets)"), ha="center", fontsize=10, **font)
    return fig


def plot_loss_curves(
    curves: Mapping[str, Sequence[float]],
    *,
    logy: bool = False,
    xlabel: str = "epoch",
    ylabel: str = "training loss",
    title: str | None = None,
) -> Figure:
    """One line per entry of ``curves`` (label -> values for epochs 1, 2, ...), on one axes.

    Args:
        curves: e.g. ``{"TensorFlow": hist_tf.loss, "PyTorch": hist_torch.loss}``.
        logy: logarithmic y axis (for losses spanning several orders of magnitude).

    Returns:
        A figure with 1 axes.
    """
    fig = Figure(figsize=(6.4, 3.8), layout="constrained")
    ax = fig.subplots()
    styles = ["o-", "s--", "^:", "d-."]
    for i, (label, values) in enumerate(curves.items()):
        values = np.asarray(values, dtype=float)
        ax.plot(np.arange(1, len(values) + 1), values, styles[i % len(styles)], label=label,
                alpha=0.85)
    if logy:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, k: int = 10) -> np.ndarray:
    """Counts ``C[i, j]`` of samples with true class ``i`` predicted as ``j``; ``(k, k)`` int64.

    Args:
        y_true, y_pred: ``(n,)`` integer labels in ``[0, k)``.
    """
    k = positive_int(k, "k")
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"need two (n,) label arrays, got {y_true.shape} and {y_pred.shape}")
    # a label outside [0, k) would land in another class's cell
    y_true = labels(y_true, len(y_true), k, name="y_true")
    y_pred = labels(y_pred, len(y_pred), k, name="y_pred")
    return np.bincount(y_true * k + y_pred, minlength=k * k).reshape(k, k).astype(np.int64)


def plot_confusion_matrix(cm: np.ndarray, title: str | None = None) -> Figure:
    """The confusion matrix ``cm (k, k)`` as an image with the count written in every cell.

    The colour scale is logarithmic so that the few errors stay visible next to the
    thousands of correct answers on the diagonal.

    Returns:
        A figure with 1 axes holding 1 image.
    """
    from matplotlib.colors import LogNorm

    cm = np.asarray(cm)
    k = cm.shape[0]
    fig = Figure(figsize=(5.6, 5.0), layout="constrained")
    ax = fig.subplots()
    ax.imshow(np.maximum(cm, 0.5), cmap="Blues", norm=LogNorm(vmin=0.5, vmax=max(cm.max(), 1)))
    for i in range(k):
        for j in range(k):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=8,
                        color="white" if cm[i, j] > cm.max() / 4 else "black")
    ax.set(xticks=range(k), yticks=range(k), xlabel="predicted", ylabel="true")
    if title:
        ax.set_title(title)
    return fig


def plot_image_grid(
    images: np.ndarray,
    titles: Sequence[str] | None = None,
    ncols: int = 8,
    cmap: str = "gray_r",
    symmetric: bool = False,
    image_shape: tuple[int, int] = (28, 28),
) -> Figure:
    """A grid of small images, one axes per image (axis lines hidden).

    Args:
        images: ``(m, H, W)`` or ``(m, H*W)`` (reshaped to ``image_shape``).
        titles: one short title per image, or ``None``.
        symmetric: colour limits ``±max|image|`` per image (for signed weights).

    Returns:
        A figure with ``ceil(m / ncols) * ncols`` axes and ``m`` images.
    """
    ncols = positive_int(ncols, "ncols")
    images = np.asarray(images)
    if images.ndim == 2:
        images = images.reshape(len(images), *image_shape)
    m = len(images)
    ncols = max(1, min(ncols, m))
    nrows = max(1, -(-m // ncols))
    fig = Figure(figsize=(1.2 * ncols, 1.35 * nrows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i >= m:
            continue
        kw = {}
        if symmetric:
            lim = float(np.abs(images[i]).max()) or 1.0
            kw = {"vmin": -lim, "vmax": lim}
        ax.imshow(images[i], cmap=cmap, **kw)
        if titles is not None:
            ax.set_title(titles[i], fontsize=12)  # the figure is shrunk to the page width
    return fig


def plot_misclassified(
    x: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray, n: int = 24, ncols: int = 8
) -> Figure:
    """The first ``n`` images whose prediction is wrong, titled ``"true→predicted"``.

    Args:
        x: ``(N, 784)`` or ``(N, 28, 28)`` images; y_true, y_pred: ``(N,)`` labels.

    Returns:
        See :func:`plot_image_grid`; ``min(n, number of errors)`` images.
    """
    n, ncols = integer(n, "n", low=0), positive_int(ncols, "ncols")
    wrong = np.flatnonzero(np.asarray(y_true) != np.asarray(y_pred))[:n]
    titles = [f"{y_true[i]}→{y_pred[i]}" for i in wrong]
    return plot_image_grid(np.asarray(x)[wrong], titles=titles, ncols=ncols)


def plot_weight_images(
    W1: np.ndarray, n: int = 16, ncols: int = 8, image_shape: tuple[int, int] = (28, 28)
) -> Figure:
    """The incoming weights of the first ``n`` hidden units, each as a ``28x28`` image.

    Column ``j`` of ``W1 (d, h)`` holds the weights from every pixel to hidden unit ``j``;
    red is positive, blue negative, white zero (per-image symmetric colour limits).

    Returns:
        See :func:`plot_image_grid`; ``n`` images.
    """
    n, ncols = integer(n, "n", low=0), positive_int(ncols, "ncols")
    W1 = np.asarray(W1)
    cols = W1[:, :n].T.reshape(-1, *image_shape)
    return plot_image_grid(cols, titles=[f"unit {j}" for j in range(len(cols))], ncols=ncols,
                           cmap="RdBu_r", symmetric=True)


def plot_gpt_architecture(config, lang: str = "en") -> Figure:
    """The GPT of :class:`bigmodel.gpt.GPTConfig` as a diagram, bottom to top, with shapes.

    Token ids become token plus position embeddings ``(B, T, C)``; each of the
    ``n_layer`` pre-LayerNorm blocks adds causal multi-head self-attention and an MLP to
    its input (the residual stream on the left); a last LayerNorm and the tied output
    layer give logits ``(B, T, V)``. The sizes printed are ``config``'s.

    Args:
        config: the model's :class:`bigmodel.gpt.GPTConfig`.
        lang: ``"en"``, or ``"zh_CN"`` for the Chinese edition's words (needs a CJK font).

    Returns:
        A figure with 1 axes (axis lines hidden).
    """
    C, H, V, T = config.n_embd, config.n_head, config.vocab_size, config.block_size
    w, font = _words(lang), _font(lang)
    fig = Figure(figsize=(6.4, 7.2), layout="constrained")
    ax = fig.subplots()
    ax.set_xlim(0, 10)
    ax.set_ylim(0, 13.2)
    ax.axis("off")
    stream = {"boxstyle": "round,pad=0.3", "fc": "#e8f0fe", "ec": "#3367d6"}
    layer = {"boxstyle": "round,pad=0.3", "fc": "#fef7e0", "ec": "#e37400"}
    steps = [  # (y, text, style)
        (0.6, w("token ids  (B, T),  T ≤ {T}", T=T), stream),
        (1.9, w("token embedding ({V}×{C})  +  position embedding ({T}×{C})", V=V, C=C, T=T),
         layer),
        (3.3, f"x  (B, T, {C})", stream),
        (4.6, "LayerNorm", layer),
        (5.9, w("causal self-attention, {H} heads of {D}", H=H, D=C // H), layer),
        (7.2, w("+  (x = x + attention)"), stream),
        (8.2, "LayerNorm", layer),
        (9.3, w("MLP: {C} → {F} (GELU) → {C}", C=C, F=4 * C), layer),
        (10.4, "+  (x = x + MLP)", stream),
        (11.5, w("LayerNorm, then  x · token embeddingᵀ  →  logits (B, T, {V})", V=V), layer),
        (12.7, w("softmax → probability of the next token"), stream),
    ]
    for (y0, _, _), (y1, _, _) in zip(steps, steps[1:], strict=False):
        ax.annotate("", xy=(5.6, y1 - 0.3), xytext=(5.6, y0 + 0.3),
                    arrowprops={"arrowstyle": "->", "lw": 1.2})
    for y, text, style in steps:
        ax.text(5.6, y, text, ha="center", va="center", fontsize=9, bbox=style, **font)
    # the residual stream skips each sub-layer
    blue = "#3367d6"
    for x_from, y_from, y_to in ((4.45, 3.3, 7.2), (3.95, 7.2, 10.4)):
        ax.plot([x_from, 1.9, 1.9], [y_from, y_from, y_to], color=blue, lw=1.2)
        ax.annotate("", xy=(3.95, y_to), xytext=(1.9, y_to),
                    arrowprops={"arrowstyle": "->", "lw": 1.2, "color": blue})
    ax.text(1.5, 6.8, w("residual stream"), rotation=90, va="center", color=blue, fontsize=9,
            **font)
    ax.add_patch(_Rect((0.6, 4.1), 9.1, 6.75, fill=False, ls="--", ec="#888888"))
    ax.text(9.6, 4.25, w("× {L} blocks", L=config.n_layer), ha="right", fontsize=9,
            color="#555555", **font)
    return fig
