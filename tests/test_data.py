"""The data loaders: real content, checksums, the search order, the download, the errors."""

from __future__ import annotations

import contextlib
import gzip
import http.server
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from bigmodel import data
from conftest import serve, serve_handler

MNIST_FILES = [f.name for f in data.DATASETS["mnist"].files]


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No BIGMODEL_DATA, an empty cache, and download addresses nobody listens on."""
    monkeypatch.delenv("BIGMODEL_DATA", raising=False)
    monkeypatch.setenv("BIGMODEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("BIGMODEL_MNIST_URL", "http://127.0.0.1:9/mnist/")
    monkeypatch.setenv("BIGMODEL_TINYSHAKESPEARE_URL", "http://127.0.0.1:9/ts/")
    return tmp_path


def test_mnist_matches_the_published_figures(shared_data):
    m = data.load_mnist(shared_data)
    assert m.x_train.shape == (60000, 28, 28) and m.x_train.dtype == np.uint8
    assert m.x_test.shape == (10000, 28, 28)
    assert np.bincount(m.y_train).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(m.y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    s = data.load_mnist(shared_data, scale=True, flatten=True)
    assert s.x_train.shape == (60000, 784) and s.x_train.dtype == np.float32
    assert round(float(s.x_train.mean()), 4) == 0.1307
    assert round(float(s.x_train.std()), 4) == 0.3081
    assert s.source == shared_data / "mnist"


def test_tiny_shakespeare(shared_data):
    text = data.load_tiny_shakespeare(shared_data)
    assert len(text.encode()) == 1_115_394
    assert len(set(text)) == 65
    assert text.startswith("First Citizen:")


def copy_mnist(shared_data: Path, dest: Path) -> Path:
    dest.mkdir(parents=True)
    for name in MNIST_FILES:
        shutil.copy(shared_data / "mnist" / name, dest / name)
    return dest


def test_truncated_copy_is_rejected(shared_data, isolated):
    d = copy_mnist(shared_data, isolated / "mine" / "mnist")
    raw = (d / "t10k-labels-idx1-ubyte.gz").read_bytes()
    (d / "t10k-labels-idx1-ubyte.gz").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(data.ChecksumError, match="t10k-labels.*(truncated|corrupt)"):
        data.load_mnist(isolated / "mine")


def test_corrupted_copy_is_rejected_and_not_overwritten(shared_data, isolated):
    # A valid gzip whose content differs by one byte: only the checksum can tell.
    d = copy_mnist(shared_data, isolated / "cache" / "mnist")
    content = bytearray(gzip.decompress((d / "train-labels-idx1-ubyte.gz").read_bytes()))
    content[100] = (content[100] + 1) % 10
    bad = gzip.compress(bytes(content))
    (d / "train-labels-idx1-ubyte.gz").write_bytes(bad)
    with serve(shared_data / "mnist") as url, pytest.MonkeyPatch.context() as mp:
        mp.setenv("BIGMODEL_MNIST_URL", url)
        with pytest.raises(data.ChecksumError, match="train-labels-idx1-ubyte.gz has SHA-256"):
            data.load_mnist()  # the cache is searched; the download must not replace the file
    assert (d / "train-labels-idx1-ubyte.gz").read_bytes() == bad


def test_download_from_a_real_server(shared_data, isolated):
    with serve(shared_data / "mnist") as url, pytest.MonkeyPatch.context() as mp:
        mp.setenv("BIGMODEL_MNIST_URL", url)
        m = data.load_mnist()
    cached = isolated / "cache" / "mnist"
    assert m.source == cached
    assert sorted(p.name for p in cached.iterdir()) == sorted(MNIST_FILES)
    assert m.y_test.shape == (10000,)
    # Second call: found in the cache, no server needed.
    assert data.load_mnist().source == cached


def test_download_of_a_bad_file_keeps_nothing(shared_data, isolated, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    (served / "input.txt").write_text("not Shakespeare")
    with serve(served) as url, pytest.MonkeyPatch.context() as mp:
        mp.setenv("BIGMODEL_TINYSHAKESPEARE_URL", url)
        with pytest.raises(data.ChecksumError, match="has SHA-256"):
            data.load_tiny_shakespeare()
    leftovers = list((isolated / "cache").rglob("*"))
    assert [p for p in leftovers if p.is_file()] == []


def test_offline_and_missing_names_every_place(isolated, monkeypatch):
    monkeypatch.setenv("BIGMODEL_DATA", str(isolated / "envdir"))
    with pytest.raises(data.DataNotFoundError) as err:
        data.load_mnist(isolated / "argdir", download=True)
    msg = str(err.value)
    for place in ("argdir", "envdir", "cache", "127.0.0.1:9", "BIGMODEL_DATA", "$BIGMODEL_DATA",
                  "data_dir argument", "user cache", "failed"):
        assert place in msg, f"{place!r} not named in:\n{msg}"


def test_search_order_explicit_dir_first(shared_data, isolated, monkeypatch):
    mine = copy_mnist(shared_data, isolated / "mine")
    monkeypatch.setenv("BIGMODEL_DATA", str(shared_data))
    assert data.fetch("mnist", mine) == mine  # files directly in the directory
    assert data.fetch("mnist") == shared_data / "mnist"  # then $BIGMODEL_DATA/mnist/


def test_unknown_dataset():
    with pytest.raises(KeyError, match="unknown data set 'cifar'"):
        data.fetch("cifar")


def test_rt_polarity(shared_data):
    texts, labels = data.load_rt_polarity(shared_data)
    assert len(texts) == 10_662 and labels.tolist().count(1) == 5331 and labels.tolist().count(0) == 5331
    assert labels[0] == 1 and labels[-1] == 0
    assert all(t and t == t.lower() for t in texts[:100])


def cp1252_tarball(shared_data: Path, dest: Path, members: dict[str, bytes] | None = None) -> None:
    """A tar.gz laid out like the published one, its files in Windows-1252 as published."""
    import io
    import tarfile

    if members is None:
        members = {
            f"rt-polaritydata/{n}": (shared_data / "rt-polarity" / n).read_text("utf-8").encode("cp1252")
            for n in ("rt-polarity.pos", "rt-polarity.neg")
        }
    with tarfile.open(dest / "rt-polaritydata.tar.gz", "w:gz") as tar:
        for name, raw in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))


def test_rt_polarity_download_unpacks_and_reencodes(shared_data, isolated, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    cp1252_tarball(shared_data, served)
    with serve(served) as url, pytest.MonkeyPatch.context() as mp:
        mp.setenv("BIGMODEL_RT_POLARITY_URL", url)
        texts, labels = data.load_rt_polarity()
    cached = isolated / "cache" / "rt-polarity"
    for n in ("rt-polarity.pos", "rt-polarity.neg"):  # byte for byte the UTF-8 copies
        assert (cached / n).read_bytes() == (shared_data / "rt-polarity" / n).read_bytes()
    assert len(texts) == 10_662


def test_rt_polarity_download_of_a_wrong_archive_keeps_nothing(shared_data, isolated, tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    cp1252_tarball(shared_data, served, {"rt-polaritydata/rt-polarity.pos": b"great film\n"})
    with serve(served) as url, pytest.MonkeyPatch.context() as mp:
        mp.setenv("BIGMODEL_RT_POLARITY_URL", url)
        with pytest.raises(data.ChecksumError, match="rt-polaritydata.tar.gz"):
            data.load_rt_polarity()
    assert [p for p in (isolated / "cache").rglob("*") if p.is_file()] == []


# ------------------------------------------------------------ faults a reader meets


@contextlib.contextmanager
def serve_cut(body: bytes, announced: int):
    """A server that announces ``announced`` bytes, sends ``body`` and hangs up."""

    class Cut(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - the http.server API
            self.send_response(200)
            self.send_header("Content-Length", str(announced))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
            self.close_connection = True

        def log_message(self, *args):
            pass

    with serve_handler(Cut) as url:
        yield url


def test_a_download_cut_mid_stream_says_so_and_keeps_nothing(isolated, monkeypatch):
    with serve_cut(b"First Citizen:\n" * 10, announced=1_115_394) as url:
        monkeypatch.setenv("BIGMODEL_TINYSHAKESPEARE_URL", url)
        with pytest.raises(data.DataNotFoundError, match=r"input.txt broke off after 150 of 1,115,394 bytes"):
            data.load_tiny_shakespeare()
    assert [p for p in (isolated / "cache").rglob("*") if p.is_file()] == []


def test_a_bad_download_names_the_address_not_a_temporary_file(isolated, tmp_path, monkeypatch):
    served = tmp_path / "served"
    served.mkdir()
    (served / "input.txt").write_text("First Citizen:\n")  # a truncated copy
    with serve(served) as url:
        monkeypatch.setenv("BIGMODEL_TINYSHAKESPEARE_URL", url)
        with pytest.raises(data.ChecksumError) as err:
            data.load_tiny_shakespeare()
    msg = str(err.value)
    assert f"downloaded from {url}input.txt" in msg and "Nothing was kept" in msg
    assert ".part" not in msg


@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_downloaded_files_follow_the_umask(shared_data, isolated, monkeypatch, umask):
    """mkstemp makes 0600 files: a shared cache would be unreadable by the others."""
    old = os.umask(umask)
    try:
        with serve(shared_data / "tinyshakespeare") as url:
            monkeypatch.setenv("BIGMODEL_TINYSHAKESPEARE_URL", url)
            data.load_tiny_shakespeare()
    finally:
        os.umask(old)
    mode = (isolated / "cache" / "tinyshakespeare" / "input.txt").stat().st_mode & 0o777
    assert mode == 0o666 & ~umask


def test_an_unreadable_file_names_the_data_set_and_the_fix(shared_data, monkeypatch):
    real = Path.read_bytes

    def denied(self):
        if self.name == "input.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    expected = r"'tinyshakespeare': no permission to read .*chmod a\+r"
    with pytest.raises(data.DataPermissionError, match=expected):
        data.load_tiny_shakespeare(shared_data)


def test_an_unwritable_cache_names_the_fix(isolated, monkeypatch):
    def denied(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "mkdir", denied)
    with pytest.raises(data.DataPermissionError, match="cannot create the cache directory .*BIGMODEL_CACHE"):
        data.load_tiny_shakespeare()
