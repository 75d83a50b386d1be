"""Log-mel spectrograms in PyTorch, matching :mod:`bigmodel.numpy.audio` (the NumPy reference).

``torch.stft`` is called with ``center=False`` (its default, ``center=True``, pads
``n_fft // 2`` samples at both ends by reflection, which shifts every frame) and a
periodic Hann window of ``n_fft`` samples, so frame ``t`` is samples
``t * hop ... t * hop + n_fft - 1`` as in the reference. Mirrors
:mod:`bigmodel.tf.audio` name for name. Computes in float32 on the signal's device.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..inputs import positive_int, positive_number
from ..numpy import audio as _ref

__all__ = ["frame", "hann_window", "log_mel_spectrogram", "mel_filterbank", "power_spectrum"]


def _as_signal(signal: Any, n_fft: int, audio: bool = True) -> torch.Tensor:
    """``signal`` as a float32 tensor ``(..., n_samples)``, or a clear error."""
    if not isinstance(signal, torch.Tensor):
        return torch.as_tensor(_ref.check_signal(signal, n_fft, audio=audio), dtype=torch.float32)
    if not signal.is_floating_point():
        raise ValueError(
            f"signal has dtype {signal.dtype}; expected float samples in [-1, 1]. For 16-bit "
            "samples use signal.float() / 32768"
        )
    _ref.check_length(tuple(signal.shape), n_fft)
    bad = ~torch.isfinite(signal)  # the checks the NumPy path makes, on the tensor
    if bool(bad.any()):
        first = tuple(int(i) for i in torch.nonzero(bad)[0])
        count = int(bad.sum())
        raise ValueError(f"signal holds {count} NaN or infinite sample(s), the first at {first}")
    if audio:
        _ref.check_peak(float(signal.abs().max()) if signal.numel() else 0.0)
    return signal if signal.dtype == torch.float32 else signal.float()


def frame(signal: Any, n_fft: int = 256, hop: int = 80) -> torch.Tensor:
    """Overlapping frames ``(..., T, n_fft)`` of ``signal (..., n_samples)``; frame ``t``
    starts at sample ``t * hop`` (see :func:`bigmodel.numpy.audio.frame`)."""
    n_fft, hop = positive_int(n_fft, "n_fft"), positive_int(hop, "hop")
    return _as_signal(signal, n_fft, audio=False).unfold(-1, n_fft, hop)


def hann_window(n_fft: int = 256, dtype: Any = None) -> torch.Tensor:
    """The periodic Hann window ``(n_fft,)`` (see :func:`bigmodel.numpy.audio.hann_window`),
    float32 by default."""
    return torch.hann_window(positive_int(n_fft, "n_fft"), periodic=True, dtype=dtype or torch.float32)


def power_spectrum(signal: Any, n_fft: int = 256, hop: int = 80) -> torch.Tensor:
    """``|DFT(frame * window)|²`` for each frame: ``(..., T, n_fft // 2 + 1)``, with ``torch.stft``."""
    n_fft, hop = positive_int(n_fft, "n_fft"), positive_int(hop, "hop")
    x = _as_signal(signal, n_fft)
    window = hann_window(n_fft).to(x.device)
    spec = torch.stft(
        x.reshape(-1, x.shape[-1]),  # stft takes (n,) or (batch, n) only
        n_fft,
        hop_length=hop,
        win_length=n_fft,
        window=window,
        center=False,
        normalized=False,
        onesided=True,
        return_complex=True,
    )  # (batch, n_fft // 2 + 1, T)
    power = spec.real**2 + spec.imag**2
    return power.transpose(-1, -2).reshape(*x.shape[:-1], power.shape[-1], power.shape[-2])


def mel_filterbank(
    sample_rate: int = 8000,
    n_fft: int = 256,
    n_mels: int = 40,
    f_min: float = 0.0,
    f_max: float | None = None,
) -> torch.Tensor:
    """:func:`bigmodel.numpy.audio.mel_filterbank` as a float32 tensor ``(n_fft // 2 + 1, n_mels)``."""
    return torch.from_numpy(_ref.mel_filterbank(sample_rate, n_fft, n_mels, f_min, f_max).astype(np.float32))


def log_mel_spectrogram(
    signal: Any,
    sample_rate: int = 8000,
    n_fft: int = 256,
    hop: int = 80,
    n_mels: int = 40,
    f_min: float = 0.0,
    f_max: float | None = None,
    eps: float = 1e-10,
) -> torch.Tensor:
    """``ln(power_spectrum @ mel_filterbank + eps)``: float32 ``(..., T, n_mels)``; see
    :func:`bigmodel.numpy.audio.log_mel_spectrogram` for the defaults and units."""
    power = power_spectrum(signal, n_fft, hop)
    filters = mel_filterbank(sample_rate, n_fft, n_mels, f_min, f_max).to(power.device)
    return torch.log(power @ filters + positive_number(eps, "eps"))
