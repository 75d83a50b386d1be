"""LoRA, low-rank adaptation (Hu et al., 2022): the framework-neutral half.

A pretrained matrix ``W (n_in, n_out)`` stays frozen; training changes only a low-rank
update of it,

    ``y = x @ W + b + (alpha / r) * (x @ A) @ B``,  ``A (n_in, r)``, ``B (r, n_out)``,

with ``A`` drawn at random and ``B`` zero, so the adapted model starts exactly where the
pretrained one stands. Hu et al. write ``W0 + BA`` for column vectors (``B (d, r)``,
``A (r, k)``); in the book's input x output layout (``x @ W``) the same update is
``A @ B`` with our ``A`` their ``A`` transposed and our ``B`` their ``B`` transposed.

An adapter's tensors are named after its layer, ``h.0.attn.c_attn.lora.A`` and
``h.0.attn.c_attn.lora.B``: the names the PyTorch and TensorFlow models give them
(:mod:`bigmodel.torch.lora`, :mod:`bigmodel.tf.lora`), so one dictionary of NumPy arrays
loads into either. The NumPy reference of one layer is
:func:`bigmodel.numpy.lora.lora_linear`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .gpt import GPTConfig, check_params, param_shapes
from .inputs import integer, positive_int, positive_number

__all__ = [
    "LAYER_KINDS",
    "LoRAConfig",
    "adam_state_bytes",
    "check_adapters",
    "init_adapters",
    "lora_layers",
    "lora_param_count",
    "merge_adapters",
]

#: The GPT's matrices LoRA can adapt, by the end of their names (each block has one of each).
LAYER_KINDS = ("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj")


@dataclass(frozen=True)
class LoRAConfig:
    """Which matrices get an adapter, of what rank, at what scale.

    Args:
        rank: ``r``, the inner size of ``A @ B``; at least 1 and at most the smaller side
            of every adapted matrix (checked by :func:`lora_layers`).
        alpha: the update is scaled by ``alpha / rank``. Hu et al. set ``alpha`` to the
            first rank they try and leave it; the default does the same for ``rank``, so
            the scale is 1.
        targets: ends of layer names from :data:`LAYER_KINDS`; the default adapts the
            attention's two matrices in every block.
    """

    rank: int
    alpha: float | None = None
    targets: tuple[str, ...] = ("attn.c_attn", "attn.c_proj")

    def __post_init__(self) -> None:
        object.__setattr__(self, "rank", positive_int(self.rank, "rank"))
        alpha = float(self.rank) if self.alpha is None else positive_number(self.alpha, "alpha")
        object.__setattr__(self, "alpha", alpha)
        targets = (self.targets,) if isinstance(self.targets, str) else tuple(self.targets)
        if not targets:
            raise ValueError(f"targets is empty; name one or more of {LAYER_KINDS}")
        unknown = [t for t in targets if t not in LAYER_KINDS]
        if unknown:
            raise ValueError(
                f"no layer kind {unknown[0]!r} in the GPT; LoRA can adapt {LAYER_KINDS}"
            )
        object.__setattr__(self, "targets", targets)

    @property
    def scale(self) -> float:
        """``alpha / rank``, the factor on ``(x @ A) @ B``."""
        return self.alpha / self.rank


def lora_layers(config: GPTConfig, lora: LoRAConfig) -> dict[str, tuple[int, int]]:
    """Layer name (``h.0.attn.c_attn``) -> ``(n_in, n_out)`` of every matrix ``lora`` adapts.

    Raises:
        ValueError: the rank is larger than the smaller side of an adapted matrix (then
            ``A @ B`` is no longer low-rank, and a full update would be cheaper).
    """
    layers = {}
    for name, shape in param_shapes(config).items():
        layer = name.removesuffix(".weight")
        if layer != name and layer.split(".", 2)[-1] in lora.targets:
            n_in, n_out = shape
            if lora.rank > min(n_in, n_out):
                raise ValueError(
                    f"rank {lora.rank} is larger than layer {layer!r} of shape {shape} "
                    f"allows; use a rank of at most {min(n_in, n_out)}"
                )
            layers[layer] = (n_in, n_out)
    return layers


def init_adapters(config: GPTConfig, lora: LoRAConfig, seed: int = 0) -> dict[str, np.ndarray]:
    """Fresh float32 adapters: ``A`` Gaussian with standard deviation ``1/sqrt(n_in)`` (so
    ``x @ A`` has about the scale of ``x``), ``B`` zero, as Hu et al. initialise them."""
    rng = np.random.default_rng(integer(seed, "seed", low=0))
    adapters = {}
    for layer, (n_in, n_out) in lora_layers(config, lora).items():
        a = rng.standard_normal((n_in, lora.rank)) / math.sqrt(n_in)
        adapters[f"{layer}.lora.A"] = a.astype(np.float32)
        adapters[f"{layer}.lora.B"] = np.zeros((lora.rank, n_out), np.float32)
    return adapters


def check_adapters(adapters: dict[str, np.ndarray], config: GPTConfig, lora: LoRAConfig) -> None:
    """Raise ``ValueError`` naming the first adapter tensor that is missing, extra or of
    another shape than ``config`` and ``lora`` give it."""
    expected = {}
    for layer, (n_in, n_out) in lora_layers(config, lora).items():
        expected[f"{layer}.lora.A"] = (n_in, lora.rank)
        expected[f"{layer}.lora.B"] = (lora.rank, n_out)
    for name, shape in expected.items():
        if name not in adapters:
            raise ValueError(f"adapter tensor {name!r} is missing (expected shape {shape})")
        got = tuple(np.shape(adapters[name]))
        if got != shape:
            raise ValueError(
                f"adapter tensor {name!r}: expected shape {shape}, got {got}; were the "
                f"adapters made with another rank or model?"
            )
    extra = sorted(set(adapters) - set(expected))
    if extra:
        raise ValueError(f"unexpected adapter tensors {extra} for targets {lora.targets}")


def merge_adapters(
    params: dict[str, np.ndarray], adapters: dict[str, np.ndarray], config: GPTConfig,
    lora: LoRAConfig,
) -> dict[str, np.ndarray]:
    """The GPT's weights with every update folded in: ``W + (alpha/r) A @ B`` (float32).

    The merged model computes what the adapted one does, with no extra matrix products.
    """
    check_params(params, config)
    check_adapters(adapters, config, lora)
    merged = {k: np.asarray(v, np.float32).copy() for k, v in params.items()}
    for layer in lora_layers(config, lora):
        a = np.asarray(adapters[f"{layer}.lora.A"], np.float64)
        b = np.asarray(adapters[f"{layer}.lora.B"], np.float64)
        w = merged[f"{layer}.weight"]
        merged[f"{layer}.weight"] = (w + lora.scale * (a @ b)).astype(np.float32)
    return merged


def lora_param_count(config: GPTConfig, lora: LoRAConfig) -> int:
    """Trainable parameters of the adapters: ``r (n_in + n_out)`` per adapted matrix."""
    return sum(lora.rank * (n_in + n_out) for n_in, n_out in lora_layers(config, lora).values())


def adam_state_bytes(n_trainable: int, bytes_per_value: int = 4) -> int:
    """Bytes of Adam's state for ``n_trainable`` parameters: two moments each (float32 by
    default). The frozen weights need none: the memory LoRA saves in training."""
    n = integer(n_trainable, "n_trainable", low=0)
    return 2 * n * positive_int(bytes_per_value, "bytes_per_value")
