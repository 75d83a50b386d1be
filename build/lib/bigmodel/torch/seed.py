"""Seeding for PyTorch runs."""

from __future__ import annotations

import numpy as np
import torch

from ..seed import seed_python_numpy


def seed_everything(seed: int, deterministic: bool = True) -> np.random.Generator:
    """Seed Python, NumPy and PyTorch (CPU and every GPU); return a NumPy ``Generator``.

    With ``deterministic=True`` cuDNN picks deterministic kernels and does not benchmark.
    Two CPU runs of the same seeded code then give identical numbers; on a GPU a few
    kernels (e.g. scatter-add) may still differ in the last bits.
    """
    rng = seed_python_numpy(seed)
    torch.manual_seed(seed)  # seeds CPU and all CUDA devices
    if deterministic:
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    return rng
