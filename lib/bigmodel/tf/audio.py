"""Log-mel spectrograms in TensorFlow, matching :mod:`bigmodel.numpy.audio` (the NumPy reference).

``tf.signal.stft`` is called with ``pad_end=False`` (its default; with ``True`` it adds a
zero-padded last frame) and ``tf.signal.hann_window`` (periodic by default), with
``fft_length = frame_length = n_fft``, so frame ``t`` is samples
``t * hop ... t * hop + n_fft - 1`` as in the reference. Mirrors
:mod:`bigmodel.torch.audio` name for name. Computes in float32.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import tensorflow as tf

from ..inputs import positive_int, positive_number
from ..numpy import audio as _ref

__all__ = ["frame", "hann_window", "log_mel_spectrogram", "mel_filterbank", "power_spectrum"]


def _as_signal(signal: Any, n_fft: int, audio: bool = True) -> tf.Tensor:
    """``signal`` as a float32 tensor ``(..., n_samples)``, or a clear error."""
    if not tf.is_tensor(signal):
        return tf.constant(_ref.check_signal(signal, n_fft, audio=audio), tf.float32)
    if not signal.dtype.is_floating:
        raise ValueError(
            f"signal has dtype {signal.dtype.name}; expected float samples in [-1, 1]. For 16-bit "
            "samples use tf.cast(signal, tf.float32) / 32768"
        )
    _ref.check_length(tuple(signal.shape), n_fft)
    bad = ~tf.math.is_finite(signal)  # the checks the NumPy path makes, on the tensor
    if bool(tf.reduce_any(bad)):
        first = tuple(int(i) for i in tf.where(bad)[0])
        count = int(tf.reduce_sum(tf.cast(bad, tf.int64)))
        raise ValueError(f"signal holds {count} NaN or infinite sample(s), the first at {first}")
    if audio:
        _ref.check_peak(float(tf.reduce_max(tf.abs(signal))) if tf.size(signal) else 0.0)
    return signal if signal.dtype == tf.float32 else tf.cast(signal, tf.float32)


def frame(signal: Any, n_fft: int = 256, hop: int = 80) -> tf.Tensor:
    """Overlapping frames ``(..., T, n_fft)`` of ``signal (..., n_samples)``; frame ``t``
    starts at sample ``t * hop`` (see :func:`bigmodel.numpy.audio.frame`)."""
    n_fft, hop = positive_int(n_fft, "n_fft"), positive_int(hop, "hop")
    return tf.signal.frame(_as_signal(signal, n_fft, audio=False), n_fft, hop, pad_end=False, axis=-1)


def hann_window(n_fft: int = 256, dtype: Any = None) -> tf.Tensor:
    """The periodic Hann window ``(n_fft,)`` (see :func:`bigmodel.numpy.audio.hann_window`),
    float32 by default."""
    return tf.signal.hann_window(positive_int(n_fft, "n_fft"), periodic=True, dtype=dtype or tf.float32)


def power_spectrum(signal: Any, n_fft: int = 256, hop: int = 80) -> tf.Tensor:
    """``|DFT(frame * window)|²`` for each frame: ``(..., T, n_fft // 2 + 1)``, with ``tf.signal.stft``."""
    n_fft, hop = positive_int(n_fft, "n_fft"), positive_int(hop, "hop")
    spec = tf.signal.stft(
        _as_signal(signal, n_fft),
        frame_length=n_fft,
        frame_step=hop,
        fft_length=n_fft,
        window_fn=tf.signal.hann_window,
        pad_end=False,
    )  # (..., T, n_fft // 2 + 1) complex64
    return tf.math.real(spec) ** 2 + tf.math.imag(spec) ** 2


def mel_filterbank(
    sample_rate: int = 8000,
    n_fft: int = 256,
    n_mels: int = 40,
    f_min: float = 0.0,
    f_max: float | None = None,
) -> tf.Tensor:
    """:func:`bigmodel.numpy.audio.mel_filterbank` as a float32 tensor ``(n_fft // 2 + 1, n_mels)``.

    Not ``tf.signal.linear_to_mel_weight_matrix``: that one draws its triangles linear in
    mel rather than in Hz and zeroes the 0 Hz bin, so its features differ.
    """
    return tf.constant(_ref.mel_filterbank(sample_rate, n_fft, n_mels, f_min, f_max).astype(np.float32))


def log_mel_spectrogram(
    signal: Any,
    sample_rate: int = 8000,
    n_fft: int = 256,
    hop: int = 80,
    n_mels: int = 40,
    f_min: float = 0.0,
    f_max: float | None = None,
    eps: float = 1e-10,
) -> tf.Tensor:
    """``ln(power_spectrum @ mel_filterbank + eps)``: float32 ``(..., T, n_mels)``; see
    :func:`bigmodel.numpy.audio.log_mel_spectrogram` for the defaults and units."""
    power = power_spectrum(signal, n_fft, hop)
    filters = mel_filterbank(sample_rate, n_fft, n_mels, f_min, f_max)
    return tf.math.log(tf.tensordot(power, filters, axes=1) + positive_number(eps, "eps"))
