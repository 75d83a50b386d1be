"""LoRA adapters on :class:`bigmodel.torch.gpt.GPT`; mirrors :mod:`bigmodel.tf.lora`.

:func:`add_lora` freezes every weight of a GPT and gives the matrices that
:class:`bigmodel.lora.LoRAConfig` names a trainable :class:`LoRA` update; training
(:func:`bigmodel.torch.gpt_train.train`) then changes the adapters alone, since the optimizer
takes only parameters that require a gradient. :func:`merge_lora` folds the adapters back
into plain weights. The equations and names: :mod:`bigmodel.lora`.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..inputs import integer, positive_number
from ..lora import LoRAConfig, check_adapters, init_adapters, lora_layers, merge_adapters
from .gpt import GPT

__all__ = ["LoRA", "add_lora", "adapters_of", "has_lora", "merge_lora", "trainable_count"]


class LoRA(nn.Module):
    """The update ``scale * (x @ A) @ B`` of one layer: ``(..., n_in)`` -> ``(..., n_out)``."""

    def __init__(self, A: np.ndarray, B: np.ndarray, scale: float):
        super().__init__()
        # copies: training must not write into the caller's arrays
        self.A = nn.Parameter(torch.tensor(np.asarray(A, np.float32)))  # (n_in, r)
        self.B = nn.Parameter(torch.tensor(np.asarray(B, np.float32)))  # (r, n_out)
        self.scale = positive_number(scale, "scale")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # under autocast the products run in the autocast dtype, like the frozen x @ W
        return self.scale * ((x @ self.A) @ self.B)  # (..., r) then (..., n_out)


def _adapted(model: GPT) -> list[tuple[str, nn.Module]]:
    return [(name, m) for name, m in model.named_modules() if getattr(m, "lora", None) is not None]


def has_lora(model: GPT) -> bool:
    """Whether any layer of ``model`` carries an adapter."""
    return bool(_adapted(model))


def add_lora(
    model: GPT, lora: LoRAConfig, adapters: dict[str, np.ndarray] | None = None, seed: int = 0
) -> GPT:
    """Freeze ``model`` and attach adapters to the layers ``lora`` names; in place.

    Args:
        model: a GPT without adapters.
        lora: rank, scale and target layers.
        adapters: trained adapters named as :func:`bigmodel.lora.init_adapters` names them
            (from :func:`adapters_of`, or a file); default: fresh ones drawn with ``seed``
            (``B`` = 0, so the model's outputs do not change).

    Returns:
        ``model``, whose only trainable parameters are now the adapters, on its device.

    Raises:
        ValueError: the model has adapters already, the rank does not fit a layer, or an
            adapter tensor is missing or misshapen (the message names it).
    """
    seed = integer(seed, "seed", low=0)
    if not isinstance(lora, LoRAConfig):
        raise TypeError(f"lora must be a bigmodel.lora.LoRAConfig, got {type(lora).__name__}")
    if has_lora(model):
        raise ValueError("this model has LoRA adapters already; merge_lora() it first")
    layers = lora_layers(model.config, lora)
    if adapters is None:
        adapters = init_adapters(model.config, lora, seed)
    check_adapters(adapters, model.config, lora)
    device = model.wte.weight.device
    model.requires_grad_(False)
    for layer in layers:
        update = LoRA(adapters[f"{layer}.lora.A"], adapters[f"{layer}.lora.B"], lora.scale)
        model.get_submodule(layer).lora = update.to(device)
    model.lora_config = lora
    return model


def adapters_of(model: GPT) -> dict[str, np.ndarray]:
    """The adapters as float32 NumPy arrays (``h.0.attn.c_attn.lora.A``, ...)."""
    return {
        f"{name}.lora.{k}": getattr(m.lora, k).detach().float().cpu().numpy().copy()
        for name, m in _adapted(model) for k in ("A", "B")
    }


def merge_lora(model: GPT) -> GPT:
    """A new GPT, on ``model``'s device and with every parameter trainable, whose weights are
    ``W + (alpha/r) A @ B`` (:func:`bigmodel.lora.merge_adapters`): the same outputs as the
    adapted model without its extra products."""
    if not has_lora(model):
        raise ValueError("this model has no LoRA adapters to merge; add_lora() gives it some")
    params = merge_adapters(model.to_numpy(), adapters_of(model), model.config, model.lora_config)
    return GPT(model.config, params=params).to(model.wte.weight.device)


def trainable_count(model: nn.Module) -> int:
    """Parameters that training would change (those that require a gradient)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
