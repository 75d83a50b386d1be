"""LoRA adapters on :class:`bigmodel.tf.gpt.GPT`; mirrors :mod:`bigmodel.torch.lora`.

:func:`add_lora` freezes every weight of a GPT (each variable is replaced by a
non-trainable copy) and gives the matrices that :class:`bigmodel.lora.LoRAConfig` names a
trainable :class:`LoRA` update; :func:`bigmodel.tf.gpt_train.train` then updates
``model.trainable_params`` alone. :func:`merge_lora` folds the adapters back into plain
weights. The equations and names: :mod:`bigmodel.lora`.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..inputs import integer, positive_number
from ..lora import LoRAConfig, check_adapters, init_adapters, lora_layers, merge_adapters
from .gpt import GPT, _named_variables

__all__ = ["LoRA", "add_lora", "adapters_of", "has_lora", "merge_lora", "trainable_count"]


class LoRA(tf.Module):
    """The update ``scale * (x @ A) @ B`` of one layer: ``(..., n_in)`` -> ``(..., n_out)``."""

    def __init__(self, A: np.ndarray, B: np.ndarray, scale: float):
        super().__init__()
        self.A = tf.Variable(np.asarray(A, np.float32), name="A")  # (n_in, r)
        self.B = tf.Variable(np.asarray(B, np.float32), name="B")  # (r, n_out)
        self.scale = positive_number(scale, "scale")

    def __call__(self, x: tf.Tensor) -> tf.Tensor:
        # in the dtype of x, as the frozen x @ W (mixed precision casts the variables)
        h = tf.matmul(x, tf.cast(self.A, x.dtype))  # (..., r)
        return tf.cast(self.scale, x.dtype) * tf.matmul(h, tf.cast(self.B, x.dtype))


def _layer(model: GPT, name: str) -> tf.Module:
    module = model
    for part in name.split("."):
        module = module[int(part)] if part.isdigit() else getattr(module, part)
    return module


def _modules(model: GPT) -> list[tf.Module]:
    return [model, *model.submodules]


def has_lora(model: GPT) -> bool:
    """Whether any layer of ``model`` carries an adapter."""
    return any(getattr(m, "lora", None) is not None for m in _modules(model))


def _freeze(model: GPT) -> None:
    # a tf.Variable's trainable flag is fixed when it is made: swap in frozen copies
    for module in _modules(model):
        for attr, value in list(vars(module).items()):
            if isinstance(value, tf.Variable) and value.trainable:
                frozen = tf.Variable(value, trainable=False, name=value.name.split(":")[0])
                setattr(module, attr, frozen)
    named = dict(_named_variables(model))
    model.variables_by_name = {name: named[name] for name in model.variables_by_name}


def add_lora(
    model: GPT, lora: LoRAConfig, adapters: dict[str, np.ndarray] | None = None, seed: int = 0
) -> GPT:
    """Freeze ``model`` and attach adapters to the layers ``lora`` names; in place.

    The same arguments, result and errors as :func:`bigmodel.torch.lora.add_lora`.
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
    _freeze(model)
    with tf.device(model.wte.weight.device):
        for layer in layers:
            _layer(model, layer).lora = LoRA(
                adapters[f"{layer}.lora.A"], adapters[f"{layer}.lora.B"], lora.scale
            )
    model.lora_config = lora
    return model


def adapters_of(model: GPT) -> dict[str, np.ndarray]:
    """The adapters as float32 NumPy arrays (``h.0.attn.c_attn.lora.A``, ...)."""
    return {
        name: v.numpy().copy() for name, v in _named_variables(model) if ".lora." in name
    }


def merge_lora(model: GPT) -> GPT:
    """A new GPT, with every variable trainable, whose weights are ``W + (alpha/r) A @ B``
    (:func:`bigmodel.lora.merge_adapters`): the same outputs as the adapted model."""
    if not has_lora(model):
        raise ValueError("this model has no LoRA adapters to merge; add_lora() gives it some")
    params = merge_adapters(model.to_numpy(), adapters_of(model), model.config, model.lora_config)
    with tf.device(model.wte.weight.device):
        return GPT(model.config, params=params, compute_dtype=model.compute_dtype.name)


def trainable_count(model: GPT) -> int:
    """Parameters that training would change (``model.trainable_params``)."""
    return sum(int(np.prod(v.shape)) for v in model.trainable_params)
