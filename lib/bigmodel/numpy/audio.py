"""Log-mel spectrograms in NumPy: the reference that :mod:`bigmodel.torch.audio` and
:mod:`bigmodel.tf.audio` match.

The pipeline, for a signal ``x`` of ``n`` samples in [-1, 1] at ``sample_rate`` Hz::

    frames  = frame(x, n_fft, hop)                 (T, n_fft)   T = 1 + (n - n_fft) // hop
    power   = |rfft(frames * hann_window(n_fft))|²  (T, n_fft // 2 + 1)
    mel     = power @ mel_filterbank(...)          (T, n_mels)
    log_mel = ln(mel + eps)                        (T, n_mels)

Conventions (the frameworks are made to follow them):

- **No centring, no padding.** Frame ``t`` is ``x[t * hop : t * hop + n_fft]``; the last
  samples that do not fill a frame are dropped. ``torch.stft(center=False)`` and
  ``tf.signal.stft(pad_end=False)`` frame the same way.
- **Periodic Hann window** ``w[k] = 0.5 - 0.5 cos(2πk / n_fft)``, the window of an
  ``n_fft``-point DFT (``torch.hann_window``'s and ``tf.signal.hann_window``'s default).
- **Power**: the squared magnitude of the unnormalised DFT of the windowed frame, in
  (full scale)² units: a full-scale sine at a bin's frequency gives about
  ``(n_fft / 4)²`` in that bin.
- **Mel scale (HTK)**: ``mel(f) = 2595 log10(1 + f / 700)``, so that 1,000 Hz is about
  1,000 mel. ``n_mels`` triangles, linear in Hz, with peak 1 at centres equally spaced in
  mel between ``f_min`` and ``f_max``; each triangle's feet are its neighbours' centres.
- **Log**: the natural logarithm of the mel power plus ``eps`` (1e-10, about -23 for
  digital silence), so features are in nepers of power, not decibels
  (``10 log10(p) = 4.343 ln(p)``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..inputs import check_array, integer, number, positive_int, positive_number

__all__ = [
    "MAX_PEAK",
    "check_length",
    "check_peak",
    "check_signal",
    "frame",
    "hann_window",
    "hz_to_mel",
    "log_mel_spectrogram",
    "mel_filterbank",
    "mel_to_hz",
    "n_frames",
    "power_spectrum",
]


def hz_to_mel(f: Any) -> np.ndarray:
    """HTK mel of frequencies ``f`` in Hz: ``2595 log10(1 + f / 700)``."""
    return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m: Any) -> np.ndarray:
    """Frequencies in Hz of HTK mels ``m``: ``700 (10^(m / 2595) - 1)``, the inverse of :func:`hz_to_mel`."""
    return 700.0 * (10.0 ** (np.asarray(m, dtype=np.float64) / 2595.0) - 1.0)


def n_frames(n_samples: int, n_fft: int = 256, hop: int = 80) -> int:
    """Frames in ``n_samples``: ``1 + (n_samples - n_fft) // hop``, or 0 if fewer than ``n_fft``."""
    n_samples = integer(n_samples, "n_samples", low=0)
    n_fft, hop = positive_int(n_fft, "n_fft"), positive_int(hop, "hop")
    return 0 if n_samples < n_fft else 1 + (n_samples - n_fft) // hop


def check_signal(signal: Any, n_fft: int, name: str = "signal", *, audio: bool = True) -> np.ndarray:
    """``signal`` as a floating array ``(..., n_samples)`` with ``n_samples >= n_fft``, or a clear error.

    Integer samples are refused (raw 16-bit audio is on a scale 32,768 times too large),
    and so are NaN and infinity, and, for ``audio`` (the spectra's input), samples far
    outside [-1, 1] (:func:`check_peak`); :func:`frame` cuts any sequence, so it passes
    ``audio=False``.
    """
    n_fft = positive_int(n_fft, "n_fft")
    def sixteen_bit(x: np.ndarray) -> str:
        return (
            f"{name} has dtype {x.dtype}; expected float samples in [-1, 1]. For 16-bit "
            f"samples use {name}.astype(np.float32) / 32768, or read files with bigmodel.data.read_wav"
        )

    x = check_array(
        signal, name=name, kind="an array of samples",
        ragged="recordings of different lengths? pass one recording at a time, or pad them to "
        "one length", shape=lambda shape: check_length(shape, n_fft, name),
        integer_message=sixteen_bit, nonfinite="sample(s)", nonfinite_fix="",
    )
    if audio:
        check_peak(float(np.abs(x).max()) if x.size else 0.0, name)
    return x


#: The largest ``|sample|`` accepted. Float samples belong in [-1, 1]; a little over 1 is
#: allowed (gain, added noise), but 16-bit audio converted to float without the division
#: by 32,768 reaches hundreds or thousands, and would give plausible-looking features.
MAX_PEAK = 8.0


def check_peak(peak: float, name: str = "signal") -> None:
    """Refuse a signal whose largest ``|sample|`` exceeds :data:`MAX_PEAK`, naming the fix."""
    peak = number(peak, f"the peak of {name}", 0)
    if peak > MAX_PEAK:
        raise ValueError(
            f"{name} reaches {peak:g}; float samples belong in [-1, 1] (at most {MAX_PEAK:g} is "
            f"accepted). If these are 16-bit values as floats, divide by 32768."
        )


def check_length(shape: tuple, n_fft: int, name: str = "signal") -> None:
    """Refuse a scalar, or a last axis shorter than one frame, naming the fix."""
    n_fft = positive_int(n_fft, "n_fft")
    if len(shape) == 0:
        raise ValueError(f"{name} is a scalar; expected samples of shape (n_samples,) or (batch, n_samples)")
    if shape[-1] < n_fft:
        raise ValueError(
            f"{name} has {shape[-1]} samples along its last axis, fewer than one frame "
            f"(n_fft={n_fft}); pad it with zeros to at least {n_fft}, or use a smaller n_fft"
        )


def frame(signal: Any, n_fft: int = 256, hop: int = 80) -> np.ndarray:
    """Overlapping frames ``(..., T, n_fft)`` of ``signal (..., n_samples)``; frame ``t``
    starts at sample ``t * hop``. A view, not a copy: do not write into it."""
    n_fft, hop = positive_int(n_fft, "n_fft"), positive_int(hop, "hop")
    return _frame(check_signal(signal, n_fft, audio=False), n_fft, hop)


def _frame(x: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    windows = np.lib.stride_tricks.sliding_window_view(x, n_fft, axis=-1)  # (..., n - n_fft + 1, n_fft)
    return windows[..., ::hop, :]


def hann_window(n_fft: int = 256, dtype: Any = np.float64) -> np.ndarray:
    """The periodic Hann window ``(n_fft,)``: ``0.5 - 0.5 cos(2πk / n_fft)``, ``k = 0 .. n_fft - 1``.

    Periodic (not symmetric): its ``n_fft``-point DFT has exactly three non-zero bins, which
    is what a spectrogram wants.
    """
    n_fft = positive_int(n_fft, "n_fft")
    k = np.arange(n_fft, dtype=np.float64)
    return (0.5 - 0.5 * np.cos(2.0 * np.pi * k / n_fft)).astype(dtype)


def power_spectrum(signal: Any, n_fft: int = 256, hop: int = 80) -> np.ndarray:
    """``|DFT(frame * window)|²`` for each frame: ``(..., T, n_fft // 2 + 1)``.

    Frequency bin ``k`` is ``k * sample_rate / n_fft`` Hz. The dtype follows ``signal``
    (float32 in, float32 out; float64 in, float64 out).
    """
    n_fft, hop = positive_int(n_fft, "n_fft"), positive_int(hop, "hop")
    frames = _frame(check_signal(signal, n_fft), n_fft, hop)
    spec = np.fft.rfft(frames * hann_window(n_fft, frames.dtype), n=n_fft, axis=-1)
    return (spec.real**2 + spec.imag**2).astype(frames.dtype, copy=False)


def mel_filterbank(
    sample_rate: int = 8000,
    n_fft: int = 256,
    n_mels: int = 40,
    f_min: float = 0.0,
    f_max: float | None = None,
) -> np.ndarray:
    """Triangular mel filters ``(n_fft // 2 + 1, n_mels)``, float64; ``power @ filters`` gives mel power.

    Filter ``m`` rises linearly (in Hz) from ``c[m - 1]`` to a peak of 1 at ``c[m]`` and falls to 0
    at ``c[m + 1]``, where ``c`` are ``n_mels + 2`` frequencies equally spaced on the HTK mel scale
    from ``f_min`` to ``f_max`` (default: the Nyquist frequency ``sample_rate / 2``). Between the first
    and the last centre the filters sum to 1 at every bin. Not area-normalised.
    """
    sample_rate = positive_int(sample_rate, "sample_rate")
    n_fft, n_mels = positive_int(n_fft, "n_fft"), positive_int(n_mels, "n_mels")
    nyquist = sample_rate / 2
    f_min = number(f_min, "f_min", 0, hint="in Hz")
    f_max = nyquist if f_max is None else number(f_max, "f_max", 0, low_open=True, hint="in Hz")
    if not 0.0 <= f_min < f_max <= nyquist:
        raise ValueError(
            f"need 0 <= f_min < f_max <= sample_rate / 2 = {nyquist:g} Hz; "
            f"got f_min={f_min!r}, f_max={f_max!r}"
        )
    edges = mel_to_hz(np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2))  # (n_mels + 2,)
    freqs = np.arange(n_fft // 2 + 1) * sample_rate / n_fft  # (n_bins,) Hz
    left, centre, right = edges[:-2], edges[1:-1], edges[2:]  # (n_mels,) each
    rising = (freqs[:, None] - left) / (centre - left)
    falling = (right - freqs[:, None]) / (right - centre)
    filters = np.maximum(0.0, np.minimum(rising, falling))  # (n_bins, n_mels)
    empty = np.flatnonzero(filters.max(axis=0) == 0)
    if empty.size:
        m = int(empty[0])
        # An empty filter would give a constant feature (ln eps) that looks like data.
        raise ValueError(
            f"{empty.size} of the {n_mels} mel filters cover no FFT bin (the first, filter {m}, spans "
            f"{left[m]:.1f}-{right[m]:.1f} Hz; bins are {sample_rate / n_fft:g} Hz apart). "
            "Use fewer mels (n_mels) or a longer FFT (n_fft)."
        )
    return filters


def log_mel_spectrogram(
    signal: Any,
    sample_rate: int = 8000,
    n_fft: int = 256,
    hop: int = 80,
    n_mels: int = 40,
    f_min: float = 0.0,
    f_max: float | None = None,
    eps: float = 1e-10,
) -> np.ndarray:
    """``ln(power_spectrum @ mel_filterbank + eps)``: ``(..., T, n_mels)`` from ``signal (..., n_samples)``.

    Defaults for 8 kHz speech: 32 ms frames every 10 ms, 40 mel bands from 0 to 4 kHz;
    ``T = 1 + (n_samples - 256) // 80``. The dtype follows ``signal`` (float32 or float64);
    the units are natural log of (full scale)² power (see the module docstring).
    """
    power = power_spectrum(signal, n_fft, hop)
    filters = mel_filterbank(sample_rate, n_fft, n_mels, f_min, f_max).astype(power.dtype)
    eps = positive_number(eps, "eps")
    return np.log(power @ filters + power.dtype.type(eps))
