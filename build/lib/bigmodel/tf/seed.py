"""Seeding for TensorFlow runs."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from ..seed import seed_python_numpy


def seed_everything(seed: int, deterministic: bool = True) -> np.random.Generator:
    """Seed Python, NumPy, TensorFlow and Keras; return a NumPy ``Generator``.

    With ``deterministic=True`` TensorFlow runs deterministic kernels
    (``tf.config.experimental.enable_op_determinism``), which can be slower on a GPU.
    """
    rng = seed_python_numpy(seed)
    tf.keras.utils.set_random_seed(seed)  # Python, NumPy and TF at once
    if deterministic:
        tf.config.experimental.enable_op_determinism()
    return rng
