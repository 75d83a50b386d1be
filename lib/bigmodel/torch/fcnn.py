"""The source's fully connected network in PyTorch, with a ``fit``-style training loop.

Weights are kept input x output (``W1`` is ``(d, h)``) as in the source and in
:mod:`bigmodel.numpy.fcnn`, rather than ``nn.Linear``'s ``(out, in)``, so the same NumPy
arrays load into NumPy, PyTorch and TensorFlow without transposes.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..inputs import features, float_dtype_hint
from ..numpy.fcnn import ACTIVATIONS, PARAM_NAMES, FCNNConfig, check_params

# One loop per framework (.loop) serves the FCNN and the CNN; chapters call it from here.
from .loop import evaluate as evaluate
from .loop import fit as fit
from .loop import loss_fn as loss_fn
from .loop import make_optimizer as make_optimizer
from .loop import predict as predict

_ACT = {"relu": torch.relu, "sigmoid": torch.sigmoid, "tanh": torch.tanh, "identity": lambda z: z}


class FCNN(nn.Module):
    """``A2 = g(σ(X W1 + b1) W2 + b2)``; see :class:`bigmodel.numpy.fcnn.FCNNConfig`.

    Input ``(n, n_in)`` float32, output ``(n, n_out)``.
    """

    def __init__(self, config: FCNNConfig, params: dict[str, np.ndarray] | None = None):
        super().__init__()
        self.config = config
        for name, shape in config.shapes.items():
            self.register_parameter(name, nn.Parameter(torch.zeros(shape)))
        if params is None:
            from ..numpy.fcnn import init_params

            # NumPy's global generator, as in bigmodel.tf.fcnn: after seed_everything(s) the
            # two frameworks start from the same weights.
            params = init_params(config, rng=np.random.default_rng(np.random.randint(2**31)))
        self.load_numpy(params)

    def forward(self, x: torch.Tensor | np.ndarray) -> torch.Tensor:
        """``x``: a tensor or array-like ``(n, n_in)`` of floats (float64 and float16 are
        converted to the weights' dtype; integer pixels are refused: scale them first)."""
        x = _as_input(x, self.config.n_in, self.W1)
        z1 = x @ self.W1 + self.b1  # (n, h)
        a1 = _ACT[self.config.activation](z1)  # (n, h)
        z2 = a1 @ self.W2 + self.b2  # (n, k)
        return _ACT[self.config.output_activation](z2)  # (n, k)

    def load_numpy(self, params: dict[str, np.ndarray]) -> None:
        """Copy NumPy arrays (``{"W1", "b1", "W2", "b2"}``) into the parameters."""
        check_params(params, self.config)
        with torch.no_grad():
            for name in PARAM_NAMES:
                p = getattr(self, name)
                p.copy_(torch.as_tensor(np.asarray(params[name], np.float32), device=p.device))

    def to_numpy(self) -> dict[str, np.ndarray]:
        """The parameters as float32 NumPy arrays."""
        return {n: getattr(self, n).detach().cpu().numpy().copy() for n in PARAM_NAMES}

    def param_count(self) -> int:
        return sum(p.numel() for p in self.parameters())


assert set(_ACT) == set(ACTIVATIONS)


def _as_input(x: torch.Tensor | np.ndarray, n_in: int, like: torch.Tensor) -> torch.Tensor:
    """``x`` as a ``(n, n_in)`` tensor with ``like``'s dtype and device, or a clear error."""
    if not isinstance(x, torch.Tensor):
        return torch.as_tensor(features(x, n_in, allow_empty=True), dtype=like.dtype, device=like.device)
    if x.ndim != 2 or x.shape[1] != n_in:
        raise ValueError(
            f"x has shape {tuple(x.shape)}; the network needs (n, {n_in}). "
            "Flatten images first, e.g. x.reshape(len(x), -1)."
        )
    if not x.is_floating_point():
        high = x.max().item() if x.numel() else None
        raise ValueError(float_dtype_hint("x", x.dtype, high))
    if x.device != like.device:
        raise ValueError(
            f"x is on {x.device} but the model is on {like.device}; use x.to({str(like.device)!r})"
        )
    return x if x.dtype == like.dtype else x.to(like.dtype)
