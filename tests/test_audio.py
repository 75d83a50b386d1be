"""Log-mel spectrograms: the NumPy reference, its mel filterbank, and PyTorch and TF against it."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf
import torch

from bigmodel import data
from bigmodel.numpy import audio
from bigmodel.tf import audio as tf_audio
from bigmodel.torch import audio as torch_audio
from numerics import assert_float32_close

FRAMEWORKS = {"torch": torch_audio, "tf": tf_audio}
# float32 STFTs against the float64 reference. The FFT's rounding error is relative to the
# whole frame, so in a quiet band it is a larger fraction of the band's power, and the error
# of the log (the relative error of the power) exceeds float32's 1.2e-7 there. Measured on a
# CPU over all 3,000 FSDD recordings: at most 7.1e-4 (PyTorch) and 5.9e-4 (TF), both on
# recordings of this test's subset. 2e-3 is 0.2 % of power.
LOG_MEL_ATOL = 2e-3


def numpy_of(t) -> np.ndarray:
    return t.numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


@pytest.fixture(scope="module")
def recordings(shared_data) -> list[np.ndarray]:
    """One recording per digit and speaker (index 0): 60 real signals, 0.14 to 1.4 s long."""
    fsdd = data.load_fsdd(shared_data)
    return [fsdd.audio[i] for i in np.flatnonzero(fsdd.index == 0)]


# ------------------------------------------------------------ framing and window


def test_frames_start_every_hop_without_centring():
    x = np.arange(1000, dtype=np.float64)
    frames = audio.frame(x, n_fft=256, hop=80)
    assert frames.shape == (audio.n_frames(1000, 256, 80), 256) == (10, 256)
    for t in (0, 1, 9):
        np.testing.assert_array_equal(frames[t], x[t * 80 : t * 80 + 256])
    for name, fw in FRAMEWORKS.items():
        np.testing.assert_array_equal(numpy_of(fw.frame(x.astype(np.float32))), frames, err_msg=name)


def test_the_window_is_periodic_hann():
    w = audio.hann_window(256)
    assert w[0] == 0 and w[128] == 1
    np.testing.assert_allclose(w, np.hanning(257)[:-1], atol=1e-15)  # periodic = symmetric of n + 1, cut
    for name, fw in FRAMEWORKS.items():
        # cos of a float32 angle up to 2 pi: the angle's rounding, then cos's
        assert_float32_close(numpy_of(fw.hann_window(256)), w, terms=2, scale=2 * np.pi, err_msg=name)


# ---------------------------------------------------------------- the mel scale


def test_htk_mel_scale():
    assert audio.hz_to_mel(0) == 0
    assert audio.hz_to_mel(700) == pytest.approx(2595 * np.log10(2))
    f = np.array([0.0, 100.0, 1000.0, 4000.0])
    np.testing.assert_allclose(audio.mel_to_hz(audio.hz_to_mel(f)), f, atol=1e-9)


def test_mel_filterbank_triangles():
    sr, n_fft, n_mels = 8000, 256, 40
    fb = audio.mel_filterbank(sr, n_fft, n_mels)
    assert fb.shape == (129, 40) and fb.min() >= 0 and fb.max() <= 1
    edges = audio.mel_to_hz(np.linspace(0, audio.hz_to_mel(4000), n_mels + 2))
    np.testing.assert_allclose(np.diff(audio.hz_to_mel(edges)), audio.hz_to_mel(4000) / 41)
    freqs = np.arange(129) * sr / n_fft
    for m in range(n_mels):
        support = freqs[fb[:, m] > 0]
        assert edges[m] < support.min() and support.max() < edges[m + 2], m
        # The peak is at one of the two bins around the centre frequency.
        assert int(np.argmax(fb[:, m])) in (np.floor(edges[m + 1] / 31.25), np.ceil(edges[m + 1] / 31.25)), m
    # Between the first and the last centre, neighbouring triangles add up to 1.
    inner = (freqs >= edges[1]) & (freqs <= edges[-2])
    np.testing.assert_allclose(fb[inner].sum(axis=1), 1.0, atol=1e-12)
    # With fine bins, every triangle reaches (almost) 1 at its centre.
    assert audio.mel_filterbank(sr, 8192, n_mels).max(axis=0).min() > 0.99


def test_a_pure_tone_lands_in_its_mel_band():
    sr, n_fft = 8000, 256
    t = np.arange(sr) / sr  # one second
    centres = audio.mel_to_hz(np.linspace(0, audio.hz_to_mel(sr / 2), 42))[1:-1]
    for f0 in (250.0, 1000.0, 2500.0):  # bins 8, 32, 80: a whole number of periods per frame
        x64 = 0.5 * np.sin(2 * np.pi * f0 * t)
        x = x64.astype(np.float32)
        power = audio.power_spectrum(x64)
        assert int(power.mean(axis=0).argmax()) == f0 * n_fft / sr
        # A sine of amplitude A at a bin's frequency: |X| = A * sum(window) / 2 = A * n_fft / 4.
        np.testing.assert_allclose(power[:, int(f0 * n_fft / sr)], (0.5 * n_fft / 4) ** 2, rtol=1e-9)
        nearest = int(np.argmin(np.abs(audio.hz_to_mel(centres) - audio.hz_to_mel(f0))))
        for name, lm in [("numpy", audio.log_mel_spectrogram(x))] + [
            (n, numpy_of(fw.log_mel_spectrogram(x))) for n, fw in FRAMEWORKS.items()
        ]:
            assert int(lm.mean(axis=0).argmax()) == nearest, (name, f0)


# -------------------------------------------------- the frameworks on real speech


@pytest.mark.parametrize("name", FRAMEWORKS)
def test_frameworks_match_numpy_on_fsdd(recordings, name, torch_one_thread):
    fw = FRAMEWORKS[name]
    worst_log, worst_power = 0.0, 0.0
    for x in recordings:
        ref = audio.log_mel_spectrogram(x.astype(np.float64))  # (T, 40)
        got = numpy_of(fw.log_mel_spectrogram(x))
        assert got.shape == ref.shape == (audio.n_frames(len(x)), 40) and got.dtype == np.float32
        worst_log = max(worst_log, float(np.abs(got - ref).max()))
        ref_power = audio.power_spectrum(x.astype(np.float64))
        got_power = numpy_of(fw.power_spectrum(x))
        worst_power = max(worst_power, float(np.abs(got_power - ref_power).max() / ref_power.max()))
    assert worst_log < LOG_MEL_ATOL, worst_log
    assert worst_power < 1e-6, worst_power  # float32 rounding, relative to the loudest bin


def test_numpy_float32_matches_float64(recordings):
    for x in recordings[:10]:
        lm = audio.log_mel_spectrogram(x)
        assert lm.dtype == np.float32
        np.testing.assert_allclose(lm, audio.log_mel_spectrogram(x.astype(np.float64)), atol=LOG_MEL_ATOL)


def test_a_batch_is_each_row_alone(recordings, torch_one_thread):
    n = min(len(x) for x in recordings[:4])
    batch = np.stack([x[:n] for x in recordings[:4]])  # (4, n)
    ref = audio.log_mel_spectrogram(batch)
    assert ref.shape == (4, audio.n_frames(n), 40)
    np.testing.assert_array_equal(ref[2], audio.log_mel_spectrogram(batch[2]))
    for name, fw in FRAMEWORKS.items():
        got = numpy_of(fw.log_mel_spectrogram(batch))
        assert got.shape == ref.shape, name
        np.testing.assert_allclose(got, ref, atol=LOG_MEL_ATOL, err_msg=name)
    assert numpy_of(torch_audio.log_mel_spectrogram(torch.from_numpy(batch[None]))).shape == (1, *ref.shape)


# ------------------------------------------------------------------- bad input


def test_integer_samples_are_refused_with_the_fix():
    raw = np.zeros(800, dtype=np.int16)
    with pytest.raises(ValueError, match=r"dtype int16.*/ 32768"):
        audio.log_mel_spectrogram(raw)
    with pytest.raises(ValueError, match=r"dtype torch.int16.*/ 32768"):
        torch_audio.log_mel_spectrogram(torch.from_numpy(raw))
    with pytest.raises(ValueError, match=r"dtype int16.*/ 32768"):
        tf_audio.log_mel_spectrogram(tf.constant(raw))


@pytest.mark.parametrize("mod", [audio, torch_audio, tf_audio], ids=["numpy", "torch", "tf"])
def test_a_signal_shorter_than_a_frame_is_refused(mod):
    with pytest.raises(ValueError, match="100 samples .* fewer than one frame .*pad it"):
        mod.log_mel_spectrogram(np.zeros(100, dtype=np.float32))


def test_nan_samples_are_refused():
    x = np.zeros(400, dtype=np.float32)
    x[300] = np.nan
    with pytest.raises(ValueError, match=r"1 NaN or infinite sample\(s\), the first at \(300,\)"):
        audio.log_mel_spectrogram(x)


def test_impossible_filterbanks_are_refused():
    with pytest.raises(ValueError, match="cover no FFT bin.*fewer mels"):
        audio.mel_filterbank(8000, 64, 80)
    with pytest.raises(ValueError, match=r"f_max <= sample_rate / 2 = 4000 Hz"):
        audio.mel_filterbank(8000, 256, 40, f_max=8000)
    with pytest.raises(ValueError, match="n_mels must be a positive integer"):
        audio.mel_filterbank(n_mels=0)
