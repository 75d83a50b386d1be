"""The source article's fully connected network, as a NumPy reference with a hand-written backward pass.

The model (source §4.2, with the article's names)::

    Z1 = X W1 + b1        X (n, d), W1 (d, h), b1 (h,)   -> Z1 (n, h)
    A1 = σ(Z1)                                            -> A1 (n, h)
    Z2 = A1 W2 + b2       W2 (h, k), b2 (k,)              -> Z2 (n, k)
    A2 = g(Z2)            g = output activation           -> A2 (n, k)

Weights are stored input x output (``W1`` is ``(d, h)``), the layout of the source, of
``tf.matmul(x, W1)`` and of the PyTorch and TensorFlow models in this package, so one
dictionary of arrays loads into all three.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from ..inputs import features, labels, number, positive_int
from ..training import LOSSES as LOSSES

#: The activation functions ``σ`` and ``g`` that :class:`FCNNConfig` accepts.
ACTIVATIONS = ("relu", "sigmoid", "tanh", "identity")
#: The parameter names, as in the source (``X W1 + b1``, then ``W2`` and ``b2``).
PARAM_NAMES = ("W1", "b1", "W2", "b2")


@dataclass(frozen=True)
class FCNNConfig:
    """Sizes and choices of the two-layer network; one config drives NumPy, PyTorch and TF.

    Attributes:
        n_in: input features ``d`` (784 for flattened 28x28 MNIST images).
        n_hidden: hidden units ``h``.
        n_out: outputs ``k`` (10 classes).
        activation: σ, the hidden activation.
        output_activation: g, applied to ``Z2``. The source's equations apply σ, its code
            returns ``Z2`` unchanged; ``"identity"`` (logits) is the default.
    """

    n_in: int = 784
    n_hidden: int = 256
    n_out: int = 10
    activation: str = "relu"
    output_activation: str = "identity"

    def __post_init__(self) -> None:
        for field in ("n_in", "n_hidden", "n_out"):
            v = getattr(self, field)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"FCNNConfig.{field} must be a positive int, got {v!r}")
        for field in ("activation", "output_activation"):
            if getattr(self, field) not in ACTIVATIONS:
                raise ValueError(
                    f"FCNNConfig.{field}={getattr(self, field)!r}; choose one of {ACTIVATIONS}"
                )

    @property
    def shapes(self) -> dict[str, tuple[int, ...]]:
        """Parameter name -> shape, e.g. ``{"W1": (784, 256), "b1": (256,), ...}``."""
        return {
            "W1": (self.n_in, self.n_hidden),
            "b1": (self.n_hidden,),
            "W2": (self.n_hidden, self.n_out),
            "b2": (self.n_out,),
        }

    def param_count(self) -> int:
        """Number of trainable scalars: ``d·h + h + h·k + k`` (203,530 for 784-256-10)."""
        return sum(int(np.prod(s)) for s in self.shapes.values())

    def to_dict(self) -> dict:
        return asdict(self)

    def check_inputs(self, x: Any, allow_empty: bool = True) -> np.ndarray:
        """``x`` as a floating ``(n, n_in)`` array, or a clear error (:mod:`bigmodel.inputs`);
        the check every framework's ``fit``, ``evaluate`` and ``predict`` run on this
        network's inputs (:func:`bigmodel.training.check_dataset`)."""
        return features(x, self.n_in, allow_empty=allow_empty)


# ---------------------------------------------------------------- activations


def activate(name: str, z: np.ndarray) -> np.ndarray:
    """σ(z) elementwise for σ in :data:`ACTIVATIONS`."""
    if name == "relu":
        return np.maximum(z, 0)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "tanh":
        return np.tanh(z)
    if name == "identity":
        return z
    raise ValueError(f"unknown activation {name!r}; choose one of {ACTIVATIONS}")


def activate_grad(name: str, z: np.ndarray) -> np.ndarray:
    """σ'(z) elementwise. For ReLU the derivative at exactly 0 is taken as 0, as autograd does."""
    if name == "relu":
        return (z > 0).astype(z.dtype)
    if name == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-z))
        return s * (1 - s)
    if name == "tanh":
        return 1 - np.tanh(z) ** 2
    if name == "identity":
        return np.ones_like(z)
    raise ValueError(f"unknown activation {name!r}; choose one of {ACTIVATIONS}")


# ---------------------------------------------------------------- parameters


def init_params(
    config: FCNNConfig, rng: np.random.Generator | int = 0, scheme: str = "he"
) -> dict[str, np.ndarray]:
    """Random float32 parameters, biases zero.

    Args:
        scheme: ``"he"`` draws W from N(0, 2/fan_in) (He et al., 2015), suited to ReLU;
            ``"glorot"`` uses the uniform limit sqrt(6/(fan_in+fan_out)); ``"normal"`` draws
            from N(0, 1), the source's ``tf.random.normal`` (far too large for 784 inputs).
    """
    rng = np.random.default_rng(rng)
    params = {}
    for name, shape in config.shapes.items():
        if name.startswith("b"):
            params[name] = np.zeros(shape, np.float32)
            continue
        fan_in, fan_out = shape
        if scheme == "he":
            w = rng.normal(0.0, np.sqrt(2.0 / fan_in), shape)
        elif scheme == "glorot":
            limit = np.sqrt(6.0 / (fan_in + fan_out))
            w = rng.uniform(-limit, limit, shape)
        elif scheme == "normal":
            w = rng.normal(0.0, 1.0, shape)
        else:
            raise ValueError(f"unknown init scheme {scheme!r}; choose he, glorot or normal")
        params[name] = w.astype(np.float32)
    return params


def check_params(params: dict[str, np.ndarray], config: FCNNConfig) -> None:
    """Raise ``ValueError`` naming the first parameter that is missing or of the wrong shape."""
    if not isinstance(params, dict):
        raise TypeError(
            f"params must be a dict of arrays {sorted(config.shapes)}, got {type(params).__name__}"
        )
    for name, shape in config.shapes.items():
        if name not in params:
            raise ValueError(f"parameter {name!r} missing; expected {sorted(config.shapes)}")
        got = tuple(np.shape(params[name]))
        if got != shape:
            raise ValueError(f"parameter {name!r} has shape {got}, the config needs {shape}")
    extra = set(params) - set(config.shapes)
    if extra:
        raise ValueError(f"unexpected parameters {sorted(extra)}")


def check_input(x: np.ndarray, config: FCNNConfig) -> np.ndarray:
    """``x`` as a floating ``(n, n_in)`` array, or a clear error (:mod:`bigmodel.inputs`)."""
    return config.check_inputs(x)


# ---------------------------------------------------------------- forward / loss / backward


def forward(
    params: dict[str, np.ndarray], x: np.ndarray, config: FCNNConfig
) -> dict[str, np.ndarray]:
    """Forward pass; returns ``{"Z1", "A1", "Z2", "A2"}`` (all kept for the backward pass).

    ``x`` is ``(n, n_in)`` with a floating dtype (integer pixels are refused: scale them
    first); ``params`` must hold exactly ``W1, b1, W2, b2`` in the config's shapes.
    """
    check_params(params, config)
    x = check_input(x, config)
    z1 = x @ params["W1"] + params["b1"]  # (n, h)
    a1 = activate(config.activation, z1)  # (n, h)
    z2 = a1 @ params["W2"] + params["b2"]  # (n, k)
    a2 = activate(config.output_activation, z2)  # (n, k)
    return {"Z1": z1, "A1": a1, "Z2": z2, "A2": a2}


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum so ``exp`` cannot overflow."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def one_hot(y: np.ndarray, k: int) -> np.ndarray:
    """Integer labels ``(n,)`` -> float32 one-hot ``(n, k)``."""
    k = positive_int(k, "k")
    y = np.asarray(y)
    if y.ndim != 1 or (y.size and (y.min() < 0 or y.max() >= k)):
        raise ValueError(f"labels must be a 1-D array of integers in [0, {k})")
    return np.eye(k, dtype=np.float32)[y]


def loss_value(output: np.ndarray, y: np.ndarray, loss: str) -> float:
    """Scalar loss of the network output ``A2 (n, k)`` against integer labels ``y (n,)``.

    ``"mse"``: mean over all ``n·k`` entries of ``(A2 - onehot(y))²`` (the source's
    ``tf.reduce_mean(tf.square(...))``). ``"cross_entropy"``: mean over the ``n`` samples of
    ``-log softmax(A2)[y]``, A2 being logits.
    """
    t = one_hot(y, output.shape[1])
    if loss == "mse":
        return float(np.mean((output - t) ** 2))
    if loss == "cross_entropy":
        z = output - output.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-np.mean(np.sum(t * logp, axis=1)))
    raise ValueError(f"unknown loss {loss!r}; choose one of {LOSSES}")


def loss_and_grads(
    params: dict[str, np.ndarray], x: np.ndarray, y: np.ndarray, config: FCNNConfig, loss: str
) -> tuple[float, dict[str, np.ndarray]]:
    """The loss and its gradient with respect to every parameter, by the chain rule.

    Returns:
        ``(loss, grads)`` with ``grads[name].shape == params[name].shape``.
    """
    x = check_input(x, config)
    y = labels(y, len(x), config.n_out)
    cache = forward(params, x, config)
    n, k = cache["Z2"].shape
    t = one_hot(y, k)
    a2 = cache["A2"]
    if loss == "mse":
        dA2 = 2.0 * (a2 - t) / (n * k)  # d mean((A2-T)²) / dA2
        dZ2 = dA2 * activate_grad(config.output_activation, cache["Z2"])
    elif loss == "cross_entropy":
        # Softmax and cross-entropy together: d/dA2 = (softmax(A2) - T) / n.
        dZ2 = (softmax(a2) - t) / n * activate_grad(config.output_activation, cache["Z2"])
    else:
        raise ValueError(f"unknown loss {loss!r}; choose one of {LOSSES}")
    grads = {
        "W2": cache["A1"].T @ dZ2,  # (h, k)
        "b2": dZ2.sum(axis=0),  # (k,)
    }
    dA1 = dZ2 @ params["W2"].T  # (n, h)
    dZ1 = dA1 * activate_grad(config.activation, cache["Z1"])  # (n, h)
    grads["W1"] = x.T @ dZ1  # (d, h)
    grads["b1"] = dZ1.sum(axis=0)  # (h,)
    return loss_value(a2, y, loss), {name: grads[name] for name in PARAM_NAMES}


def numerical_grads(
    params: dict[str, np.ndarray],
    x: np.ndarray,
    y: np.ndarray,
    config: FCNNConfig,
    loss: str,
    eps: float = 1e-6,
) -> dict[str, np.ndarray]:
    """Central finite differences of the loss, computed in float64 (slow: use small nets)."""
    eps = number(eps, "eps", 0, low_open=True)
    p64 = {k: v.astype(np.float64) for k, v in params.items()}
    x64 = np.asarray(x, np.float64)
    out = {}
    for name, p in p64.items():
        g = np.zeros_like(p)
        flat, gflat = p.reshape(-1), g.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + eps
            up = loss_value(forward(p64, x64, config)["A2"], y, loss)
            flat[i] = old - eps
            down = loss_value(forward(p64, x64, config)["A2"], y, loss)
            flat[i] = old
            gflat[i] = (up - down) / (2 * eps)
        out[name] = g
    return out


def accuracy(output: np.ndarray, y: np.ndarray) -> float:
    """Fraction of rows whose arg-max equals the label."""
    return float(np.mean(np.argmax(output, axis=1) == np.asarray(y)))
