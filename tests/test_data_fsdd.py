"""The FSDD loader: real recordings, the shipped manifest, the search order, the download."""

from __future__ import annotations

import importlib.resources
import io
import shutil
import tarfile
import wave
from pathlib import Path

import numpy as np
import pytest

from bigmodel import data
from conftest import isolate_downloads, serve, unpack_flat

ARCHIVE = "fsdd-v1.0.10-recordings.tar.gz"
SERVED = "v1.0.10.tar.gz"  # the name in GitHub's tag address
GITHUB_TOP = "free-spoken-digit-dataset-1.0.10"  # the folder GitHub's tag archives start with


@pytest.fixture(scope="module")
def fsdd(shared_data) -> data.FSDD:
    return data.load_fsdd(shared_data)


@pytest.fixture(scope="module")
def recordings(shared_data, tmp_path_factory) -> Path:
    """The offline archive unpacked once: ``.../recordings/*.wav``."""
    out = tmp_path_factory.mktemp("fsdd-unpacked") / "recordings"
    return unpack_flat(shared_data / "fsdd" / ARCHIVE, out)


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No BIGMODEL_DATA, an empty cache, and a download address nobody listens on."""
    return isolate_downloads(monkeypatch, tmp_path, "BIGMODEL_FSDD_URL", "http://127.0.0.1:9/fsdd/")


def github_archive(dest: Path, files: dict[str, bytes]) -> Path:
    """A tar.gz laid out like GitHub's tag archive: ``top/recordings/<name>`` plus other files."""
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(dest / SERVED, "w:gz") as tar:
        members = {f"{GITHUB_TOP}/README.md": b"# FSDD\n"}
        members |= {f"{GITHUB_TOP}/recordings/{n}": raw for n, raw in files.items()}
        for name, raw in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return dest / SERVED


def cached_files(isolated: Path) -> list[Path]:
    return [p for p in (isolated / "cache").rglob("*") if p.is_file()]


def wav_bytes(samples: np.ndarray, rate: int = 8000, channels: int = 1, width: int = 2) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return buf.getvalue()


# ------------------------------------------------------------------- the real data


def test_fsdd_matches_the_published_figures(fsdd, shared_data):
    assert len(fsdd) == 3000 and fsdd.sample_rate == 8000
    assert np.bincount(fsdd.digit).tolist() == [300] * 10
    assert fsdd.speakers == ["george", "jackson", "lucas", "nicolas", "theo", "yweweler"]
    assert [int((fsdd.speaker == s).sum()) for s in fsdd.speakers] == [500] * 6
    assert sorted(set(fsdd.index.tolist())) == list(range(50))
    assert round(sum(len(a) for a in fsdd.audio) / fsdd.sample_rate) == 1312  # "1,312 s of audio"
    assert all(a.dtype == np.float32 and a.ndim == 1 for a in fsdd.audio)
    assert min(a.min() for a in fsdd.audio) >= -1.0 and max(a.max() for a in fsdd.audio) < 1.0
    assert fsdd.source == shared_data / "fsdd"
    assert fsdd.names[:2] == ["0_george_0.wav", "0_george_1.wav"]


def test_every_recording_is_the_file_of_its_name(fsdd, recordings):
    """Item i is the WAV named ``names[i]``, sample for sample."""
    for i in (0, 1234, 2999):
        with wave.open(str(recordings / fsdd.names[i])) as w:
            expected = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2") / 32768
        np.testing.assert_array_equal(fsdd.audio[i], expected.astype(np.float32))


def test_the_datasets_own_split(fsdd):
    train, test = fsdd.split()
    assert (len(train), len(test)) == (2700, 300)
    assert test.index.max() == 4 and train.index.min() == 5
    assert np.bincount(test.digit).tolist() == [30] * 10
    assert train.speakers == test.speakers == fsdd.speakers
    assert not set(train.names) & set(test.names)


def test_held_out_speakers(fsdd):
    train, test = fsdd.speaker_split("theo")
    assert (len(train), len(test)) == (2500, 500)
    assert test.speakers == ["theo"] and "theo" not in train.speakers
    train, test = fsdd.speaker_split(["george", "lucas"])
    assert (len(train), len(test)) == (2000, 1000)
    with pytest.raises(ValueError, match=r"\['bob'\] not among the speakers"):
        fsdd.speaker_split(["bob"])
    with pytest.raises(ValueError, match="leaves no training data"):
        fsdd.speaker_split(fsdd.speakers)


def test_the_manifest_ships_in_the_package_and_lists_every_file(shared_data):
    manifest = importlib.resources.files("bigmodel") / "manifests" / "fsdd-v1.0.10.sha256"
    lines = manifest.read_text("ascii").splitlines()
    assert len(lines) == 3000
    # The same sums as the offline copy's SHA256SUMS (which the manifest was made from).
    published = (shared_data / "fsdd" / "SHA256SUMS").read_text().splitlines()
    assert sorted(lines) == sorted(published)


def test_an_unpacked_folder_gives_the_same_data(fsdd, recordings, tmp_path):
    shutil.copytree(recordings, tmp_path / "fsdd" / "recordings")
    unpacked = data.load_fsdd(tmp_path, download=False)
    assert unpacked.source == tmp_path / "fsdd"
    assert unpacked.names == fsdd.names
    assert all(np.array_equal(a, b) for a, b in zip(unpacked.audio, fsdd.audio, strict=True))


def test_the_tag_archive_as_a_browser_saves_it(recordings, isolated, fsdd):
    """GitHub's own layout (a top folder, other files beside recordings/) in a data directory."""
    mine = isolated / "mine"
    github_archive(mine, {p.name: p.read_bytes() for p in recordings.iterdir()}).rename(
        mine / f"{GITHUB_TOP}.tar.gz"
    )
    assert data.load_fsdd(mine, download=False).names == fsdd.names


# ------------------------------------------------------------- corrupted copies


def test_a_corrupted_file_is_refused_and_not_overwritten(recordings, isolated, tmp_path):
    """One sample changed in a cached WAV: only the checksum can tell."""
    cached = isolated / "cache" / "fsdd" / "recordings"
    shutil.copytree(recordings, cached)
    bad = bytearray((cached / "7_theo_12.wav").read_bytes())
    bad[500] ^= 1
    (cached / "7_theo_12.wav").write_bytes(bytes(bad))
    github_archive(tmp_path / "served", {"7_theo_12.wav": (recordings / "7_theo_12.wav").read_bytes()})
    with serve(tmp_path / "served") as url, pytest.MonkeyPatch.context() as mp:
        mp.setenv("BIGMODEL_FSDD_URL", url)
        with pytest.raises(data.ChecksumError, match=r"7_theo_12.wav has SHA-256 .*not be overwritten"):
            data.load_fsdd()
    assert (cached / "7_theo_12.wav").read_bytes() == bytes(bad)


def test_a_corrupted_member_of_a_local_archive_is_refused(recordings, isolated):
    files = {p.name: p.read_bytes() for p in sorted(recordings.iterdir())}
    files["3_lucas_40.wav"] = files["3_lucas_40.wav"][:-2] + b"\x00\x00"
    mine = isolated / "mine"
    github_archive(mine, files).rename(mine / ARCHIVE)
    expected = rf"{ARCHIVE} \(member recordings/3_lucas_40.wav\) has SHA-256"
    with pytest.raises(data.ChecksumError, match=expected):
        data.load_fsdd(mine, download=False)


# ------------------------------------------------------------------- downloads


def test_download_of_the_whole_archive(shared_data, isolated, tmp_path, fsdd):
    served = tmp_path / "served"
    served.mkdir()
    shutil.copy(shared_data / "fsdd" / ARCHIVE, served / SERVED)
    with serve(served) as url, pytest.MonkeyPatch.context() as mp:
        mp.setenv("BIGMODEL_FSDD_URL", url)
        got = data.load_fsdd()
    cached = isolated / "cache" / "fsdd"
    assert got.source == cached and got.names == fsdd.names
    assert sorted(p.name for p in (cached / "recordings").iterdir()) == sorted(fsdd.names)
    assert data.load_fsdd(download=False).source == cached  # second time: from the cache


def test_download_fills_a_partial_cache_from_a_github_style_archive(recordings, isolated, tmp_path):
    cached = isolated / "cache" / "fsdd" / "recordings"
    shutil.copytree(recordings, cached)
    gone = ["0_george_0.wav", "5_nicolas_17.wav", "9_yweweler_49.wav"]
    for name in gone:
        (cached / name).unlink()
    github_archive(tmp_path / "served", {n: (recordings / n).read_bytes() for n in gone})
    with serve(tmp_path / "served") as url, pytest.MonkeyPatch.context() as mp:
        mp.setenv("BIGMODEL_FSDD_URL", url)
        got = data.load_fsdd()
    assert len(got) == 3000
    for name in gone:
        assert (cached / name).read_bytes() == (recordings / name).read_bytes()


def test_a_wrong_file_in_the_download_keeps_nothing(recordings, isolated, tmp_path):
    files = {p.name: p.read_bytes() for p in sorted(recordings.iterdir())}
    raw = files["4_jackson_3.wav"]
    files["4_jackson_3.wav"] = raw[:-1] + bytes([raw[-1] ^ 1])  # the last sample's low bit
    github_archive(tmp_path / "served", files)
    with serve(tmp_path / "served") as url, pytest.MonkeyPatch.context() as mp:
        mp.setenv("BIGMODEL_FSDD_URL", url)
        expected = r"recordings/4_jackson_3.wav in the archive downloaded from .*Nothing was kept"
        with pytest.raises(data.ChecksumError, match=expected):
            data.load_fsdd()
    assert cached_files(isolated) == []


def test_an_incomplete_download_keeps_nothing(recordings, isolated, tmp_path):
    files = {p.name: p.read_bytes() for p in sorted(recordings.iterdir())[:100]}
    github_archive(tmp_path / "served", files)
    with serve(tmp_path / "served") as url, pytest.MonkeyPatch.context() as mp:
        mp.setenv("BIGMODEL_FSDD_URL", url)
        with pytest.raises(data.ChecksumError, match=r"lacks 2,900 file\(s\).*Nothing was kept"):
            data.load_fsdd()
    assert cached_files(isolated) == []


def test_missing_data_names_every_place(isolated, monkeypatch):
    monkeypatch.setenv("BIGMODEL_DATA", str(isolated / "envdir"))
    with pytest.raises(data.DataNotFoundError) as err:
        data.load_fsdd(isolated / "argdir")
    msg = str(err.value)
    for place in ("argdir", "envdir", "cache", "data_dir argument", "$BIGMODEL_DATA", "user cache",
                  f"127.0.0.1:9/fsdd/{SERVED}", "failed", "recordings/ with 3,000 files", ARCHIVE):
        assert place in msg, f"{place!r} not named in:\n{msg}"


def test_fetch_knows_fsdd(shared_data, isolated):
    assert "fsdd" in data.DATASETS
    assert data.fetch("fsdd", shared_data, download=False) == shared_data / "fsdd"


# -------------------------------------------------------------------- read_wav


def test_read_wav_scales_16_bit_samples():
    samples = np.array([-32768, -1, 0, 1, 32767], dtype="<i2")
    x = data.read_wav(wav_bytes(samples))
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x, samples / np.float32(32768))


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"rate": 16000}, "a sample rate of 16000 Hz, not 8000 Hz"),
        ({"channels": 2}, r"2 channels, not 1 \(mono\)"),
        ({"width": 1}, "8-bit samples, not 16-bit"),
    ],
)
def test_read_wav_refuses_other_formats_and_names_the_fix(tmp_path, kwargs, problem):
    path = tmp_path / "mine.wav"
    dtype = np.uint8 if kwargs.get("width") == 1 else np.int16
    path.write_bytes(wav_bytes(np.zeros(160 * kwargs.get("channels", 1), dtype=dtype), **kwargs))
    with pytest.raises(ValueError, match=rf"mine.wav has {problem}\. Convert it first, e.g. sox"):
        data.read_wav(path)


def test_read_wav_refuses_a_file_that_is_not_wav():
    with pytest.raises(ValueError, match="is not a PCM WAV file"):
        data.read_wav(b"ID3 an mp3, not a wav" * 4, name="clip.mp3")
