"""How far two float32 computations of the same value may differ (CONTRIBUTING.md, "Tolerances").

Two implementations of one formula (NumPy and a framework, two memory layouts, a CPU and a
GPU, AVX-512 and AVX2 kernels, 1 and 64 threads) add the same terms in another order, with
or without fused multiply-adds. Each result is then exact up to rounding, and rounding is
bounded: a sum of ``n`` float32 terms, in any order, is off by at most ``n * eps * S``,
where ``eps = 2**-23`` and ``S`` is the sum of the terms' magnitudes (Higham, *Accuracy and
Stability of Numerical Algorithms*, 2002, §3.1). A network chains several such sums; the
chain's length is the sum of the layers' reduction lengths (``terms``). Both sides round,
hence the factor 2. ``S`` is taken as the values' scale, ``max |reference|`` over the whole
array (so elements near zero get the array's tolerance), unless the caller knows better.

The bound is far above what kernels usually differ by (about ``sqrt(n) * eps``), and far
below what a real bug makes (a wrong layout, a missing bias: differences of order 0.1 to
1), so a test using it fails on bugs and on nothing else.
"""

from __future__ import annotations

import numpy as np

EPS32 = float(np.finfo(np.float32).eps)  # 2**-23 = 1.19e-7


def as_float64(values) -> np.ndarray:
    """NumPy float64 of an array, a number, a PyTorch tensor (any device) or a TensorFlow one."""
    if hasattr(values, "detach"):  # PyTorch
        values = values.detach().cpu().numpy()
    elif hasattr(values, "numpy"):  # TensorFlow
        values = values.numpy()
    return np.asarray(values, dtype=np.float64)


def float32_atol(reference, terms: int, steps: int = 1, scale: float | None = None) -> float:
    """The largest difference rounding can make between two float32 computations of ``reference``.

    Args:
        reference: the values (any array-like); only their largest magnitude is used.
        terms: the length of the longest chain of float32 additions behind one value (for a
            network, the reduction lengths of its layers added up: 784 + 256 for 784-256-10).
        steps: how many times the computation is repeated on its own output (training steps);
            rounding differences add up over them.
        scale: the magnitude of the summed terms, where it is known to exceed the result's
            (a sum that cancels); by default ``max |reference|``.
    """
    if terms < 1 or steps < 1:
        raise ValueError(f"terms and steps must be >= 1, got {terms} and {steps}")
    if scale is None:
        scale = float(np.max(np.abs(as_float64(reference))))
    return 2.0 * terms * steps * EPS32 * scale


def assert_float32_close(
    actual, reference, terms: int, steps: int = 1, scale: float | None = None, err_msg: str = ""
) -> None:
    """Assert ``actual`` equals ``reference`` up to float32 rounding (:func:`float32_atol`)."""
    atol = float32_atol(reference, terms, steps, scale)
    why = f"float32 rounding bound: {terms} terms x {steps} step(s) x scale = atol {atol:.3g}"
    np.testing.assert_allclose(
        as_float64(actual),
        as_float64(reference),
        rtol=0,
        atol=atol,
        err_msg=f"{err_msg} ({why})".strip(),
    )


def reduction_terms(shapes) -> int:
    """``terms`` for a network from its weight shapes, inputs first (``(in, out)`` dense
    weights, ``(k, k, c_in, c_out)`` kernels): each layer sums ``prod(shape[:-1])`` products.

    ``shapes`` maps names to shapes (``np_cnn.param_shapes(cfg)``) or lists them; names that
    start with ``b`` (biases) add one term each and are skipped.
    """
    items = shapes.items() if hasattr(shapes, "items") else enumerate(shapes)
    weights = [tuple(s) for name, s in items if not str(name).startswith("b")]
    return sum(int(np.prod(s[:-1])) for s in weights if len(s) >= 2)


def gpt_terms(cfg) -> int:
    """``terms`` for a GPT (``bigmodel.gpt.GPTConfig``) through all its blocks and the head.

    Per block: two layer norms (a mean and a variance over ``n_embd`` each), the q/k/v
    projection (``n_embd``), the scores (``n_embd / n_head``), the softmax's sum and the
    weighted values (``block_size`` each), the output projection (``n_embd``) and the MLP
    (``n_embd`` then ``4 n_embd``); then the final layer norm and the head (``n_embd``).
    """
    c, t = cfg.n_embd, cfg.block_size
    block = 4 * c + c + c // cfg.n_head + 2 * t + c + c + 4 * c
    return cfg.n_layer * block + 2 * c + c
