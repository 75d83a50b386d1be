"""The Free Spoken Digit Dataset: 3,000 recordings of spoken digits, and a WAV reader."""

from __future__ import annotations

import io
import os
import re
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..inputs import integer
from .fetching import _locate


def read_wav(source: str | os.PathLike | bytes, *, sample_rate: int = 8000, name: str = "") -> np.ndarray:
    """The samples of a mono 16-bit PCM WAV file as float32 in [-1, 1), shape ``(n_samples,)``.

    Args:
        source: a path, or the file's bytes.
        sample_rate: the rate the caller expects, in Hz; another rate is refused rather
            than resampled, because features computed at the wrong rate look plausible.
        name: how to call the file in errors (default: the path).

    The 16-bit integers are divided by 32,768, so full scale is -1.0 ... 0.99997.
    """
    sample_rate = integer(sample_rate, "sample_rate", low=1)
    name = name or (f"{len(source):,} bytes of WAV" if isinstance(source, bytes) else str(source))
    try:
        with wave.open(io.BytesIO(source) if isinstance(source, bytes) else os.fspath(source), "rb") as w:
            rate, channels, width = w.getframerate(), w.getnchannels(), w.getsampwidth()
            raw = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as e:
        raise ValueError(f"{name} is not a PCM WAV file that Python's wave module reads ({e})") from e
    problems = []
    if rate != sample_rate:
        problems.append(f"a sample rate of {rate} Hz, not {sample_rate} Hz")
    if channels != 1:
        problems.append(f"{channels} channels, not 1 (mono)")
    if width != 2:
        problems.append(f"{8 * width}-bit samples, not 16-bit")
    if problems:
        raise ValueError(
            f"{name} has {', '.join(problems)}. Convert it first, e.g. "
            f"sox in.wav -r {sample_rate} -c 1 -b 16 out.wav (or ffmpeg -i in.wav -ar "
            f"{sample_rate} -ac 1 -sample_fmt s16 out.wav)."
        )
    return np.frombuffer(raw, dtype="<i2").astype(np.float32) / np.float32(32768.0)


@dataclass(frozen=True)
class FSDD:
    """The Free Spoken Digit Dataset: recordings of the digits 0-9 spoken in English.

    Item ``i`` is the file ``{digit[i]}_{speaker[i]}_{index[i]}.wav``. Recordings are
    sorted by digit, then speaker name, then index.

    Attributes:
        audio: one float32 array ``(n_samples,)`` per recording, in [-1, 1) (16-bit
            samples / 32,768); lengths differ.
        digit: ``(N,)`` int64, the spoken digit (the label).
        speaker: ``(N,)`` str, the speaker's name (``"george"``, ``"jackson"``, ...).
        index: ``(N,)`` int64, the repetition number 0-49 of that digit by that speaker.
        sample_rate: samples per second (8,000 Hz).
        source: the directory the files were read from.
    """

    audio: list[np.ndarray]
    digit: np.ndarray
    speaker: np.ndarray
    index: np.ndarray
    sample_rate: int
    source: Path

    def __len__(self) -> int:
        return len(self.audio)

    @property
    def names(self) -> list[str]:
        """The file names, ``{digit}_{speaker}_{index}.wav``."""
        return [f"{d}_{s}_{i}.wav" for d, s, i in zip(self.digit, self.speaker, self.index, strict=True)]

    @property
    def speakers(self) -> list[str]:
        """The distinct speakers, sorted."""
        return sorted(set(self.speaker.tolist()))

    def subset(self, keep: np.ndarray) -> FSDD:
        """The recordings where the boolean mask ``keep (N,)`` is true, or at integer positions."""
        keep = np.asarray(keep)
        pos = np.flatnonzero(keep) if keep.dtype == bool else keep.astype(np.int64)
        if keep.dtype == bool and keep.shape != (len(self),):
            raise ValueError(f"the mask has shape {keep.shape}; expected ({len(self)},), one per recording")
        return FSDD(
            audio=[self.audio[i] for i in pos],
            digit=self.digit[pos],
            speaker=self.speaker[pos],
            index=self.index[pos],
            sample_rate=self.sample_rate,
            source=self.source,
        )

    def split(self) -> tuple[FSDD, FSDD]:
        """``(train, test)`` by the data set's own convention: indices 5-49 train, 0-4 test
        (2,700 and 300 recordings; every speaker is in both)."""
        test = self.index < 5
        return self.subset(~test), self.subset(test)

    def speaker_split(self, test_speakers: str | Sequence[str]) -> tuple[FSDD, FSDD]:
        """``(train, test)`` with every recording of ``test_speakers`` in test and none in
        train: accuracy on voices the model never heard."""
        chosen = [test_speakers] if isinstance(test_speakers, str) else list(test_speakers)
        unknown = sorted(set(chosen) - set(self.speakers))
        if unknown or not chosen:
            raise ValueError(
                f"test_speakers={test_speakers!r}: {unknown or 'none given'} not among the "
                f"speakers {self.speakers}; name one or more of them"
            )
        if set(chosen) == set(self.speakers):
            raise ValueError("test_speakers names every speaker, which leaves no training data")
        test = np.isin(self.speaker, chosen)
        return self.subset(~test), self.subset(test)


_FSDD_NAME = re.compile(r"(\d)_([a-z]+)_(\d+)\.wav")


def load_fsdd(data_dir: str | os.PathLike | None = None, *, download: bool = True) -> FSDD:
    """The Free Spoken Digit Dataset v1.0.10: 3,000 recordings, 8 kHz mono 16-bit.

    Six speakers each say each digit 50 times (300 per digit, 500 per speaker). Every
    file is checked against the SHA-256 manifest shipped with this package.

    Args:
        data_dir: a directory to look in first (see the module docstring for the order); it
            may hold ``recordings/`` or ``fsdd-v1.0.10-recordings.tar.gz``, directly or in
            ``fsdd/``.
        download: allow the download of the tag's archive from GitHub (about 15 MB of WAV).

    Returns:
        :class:`FSDD`; ``.split()`` gives the data set's own train/test split,
        ``.speaker_split(...)`` one by held-out speakers.
    """
    d, contents = _locate("fsdd", data_dir, download)
    rows = []
    for name, raw in contents.items():
        m = _FSDD_NAME.fullmatch(name)
        if m is None:  # the manifest lists only such names; guard against a changed manifest
            raise ValueError(f"unexpected FSDD file name {name!r}; expected digit_speaker_index.wav")
        rows.append((int(m.group(1)), m.group(2), int(m.group(3)), name, raw))
    rows.sort(key=lambda r: r[:3])
    return FSDD(
        audio=[read_wav(raw, sample_rate=8000, name=name) for *_, name, raw in rows],
        digit=np.array([r[0] for r in rows], dtype=np.int64),
        speaker=np.array([r[1] for r in rows], dtype=str),
        index=np.array([r[2] for r in rows], dtype=np.int64),
        sample_rate=8000,
        source=d,
    )
