"""Seeding of the framework-neutral random generators."""

from __future__ import annotations

import os
import random

import numpy as np

from .inputs import integer


def seed_python_numpy(seed: int) -> np.random.Generator:
    """Seed Python's ``random`` and NumPy's global generator; return a fresh ``Generator``.

    ``PYTHONHASHSEED`` is set for child processes only: a running interpreter cannot
    change its own hash seed.
    """
    seed = integer(seed, "seed", low=0, high=2**32 - 1)  # NumPy's global seed's range
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    return np.random.default_rng(seed)
