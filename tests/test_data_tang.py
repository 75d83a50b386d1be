"""The Tang-poem loader: the published figures, the shipped manifest, the search order,
corrupted copies, and the per-file download (from a local server)."""

from __future__ import annotations

import importlib.resources
import io
import shutil
import tarfile
import urllib.parse
from pathlib import Path

import pytest

from bigmodel import data
from conftest import isolate_downloads, serve, unpack_flat

ARCHIVE = "quan-tang-shi-poet.tang.tar.gz"
MANIFEST = "tang-poems-99ebbef.sha256"


@pytest.fixture(scope="module")
def tang(shared_data) -> data.TangPoems:
    return data.load_tang_poems(shared_data)


@pytest.fixture(scope="module")
def files(shared_data, tmp_path_factory) -> Path:
    """The offline archive unpacked once: ``.../tang/poet.tang.*.json``."""
    out = tmp_path_factory.mktemp("tang-unpacked") / "tang"
    return unpack_flat(shared_data / "tang-poems" / ARCHIVE, out)


@pytest.fixture
def isolated(monkeypatch, tmp_path):
    """No BIGMODEL_DATA, an empty cache, and a download address nobody listens on."""
    return isolate_downloads(monkeypatch, tmp_path, "BIGMODEL_TANG_POEMS_URL", "http://127.0.0.1:9/tang/")


def cached_files(isolated: Path) -> list[Path]:
    return [p for p in (isolated / "cache").rglob("*") if p.is_file()]


def flip(raw: bytes, at: int) -> bytes:
    """``raw`` with one bit changed at byte ``at``: only the checksum can tell."""
    out = bytearray(raw)
    out[at] ^= 1
    return bytes(out)


# ------------------------------------------------------------------- the real data


def test_the_published_figures(tang, shared_data):
    assert len(tang) == 57_607 == len(tang.author) == len(tang.paragraphs)
    assert tang.n_characters == 3_668_082
    assert len({c for lines in tang.paragraphs for line in lines for c in line}) == 9_588
    assert tang.source == shared_data / "tang-poems"
    # the first poem of poet.tang.0.json, in traditional characters
    assert (tang.title[0], tang.author[0]) == ("帝京篇十首 一", "太宗皇帝")
    assert tang.paragraphs[0][0] == "秦川雄帝宅，函谷壯皇居。"
    assert sum(not lines for lines in tang.paragraphs) == 4


def test_files_are_read_in_their_numeric_order(tang, files):
    import json

    last = json.loads((files / "poet.tang.57000.json").read_text("utf-8"))
    n_before = len(tang) - len(last)
    assert tang.title[n_before:] == [p["title"] for p in last]
    second = json.loads((files / "poet.tang.1000.json").read_text("utf-8"))
    assert tang.title[1000] == second[0]["title"]  # 1000 comes before 10000


def test_the_training_text(tang):
    text = data.tang_text(tang)
    poems = text.split("\n\n")
    assert len(poems) == 57_603  # the 4 poems without lines are skipped
    assert poems[0] == "\n".join(tang.paragraphs[0])
    assert len(set(text)) == 9_589  # the poems' characters and "\n"
    assert len(text) == 3_993_966  # 3,668,082 + one "\n" per line break
    assert tang.title[0] not in text  # titles are left out


def test_the_manifest_ships_in_the_package_and_lists_every_file(shared_data):
    manifest = importlib.resources.files("bigmodel") / "manifests" / MANIFEST
    lines = manifest.read_text("ascii").splitlines()
    assert len(lines) == 58
    published = (shared_data / "tang-poems" / "SHA256SUMS").read_text().splitlines()
    assert sorted(lines) == sorted(published)


def test_the_canonical_address_is_the_pinned_commit():
    url = data.DATASETS["tang-poems"].base_url
    assert url.startswith("https://raw.githubusercontent.com/chinese-poetry/chinese-poetry/")
    assert "99ebbef7e1345c0985c44b9fd96a3f9e776f117b" in url
    assert urllib.parse.unquote(url).endswith("/全唐诗/")


def test_an_unpacked_folder_gives_the_same_data(tang, files, tmp_path):
    shutil.copytree(files, tmp_path / "tang-poems" / "tang")
    unpacked = data.load_tang_poems(tmp_path, download=False)
    assert unpacked.source == tmp_path / "tang-poems"
    assert unpacked.title == tang.title and unpacked.paragraphs == tang.paragraphs


# ------------------------------------------------------------- corrupted copies


def test_a_corrupted_file_is_refused_and_not_overwritten(files, isolated, tmp_path):
    cached = isolated / "cache" / "tang-poems" / "tang"
    shutil.copytree(files, cached)
    bad = flip((cached / "poet.tang.23000.json").read_bytes(), 5000)
    (cached / "poet.tang.23000.json").write_bytes(bad)
    served = tmp_path / "served"
    shutil.copytree(files, served)  # a good copy is online: it must not replace the bad one
    with serve(served) as url, pytest.MonkeyPatch.context() as mp:
        mp.setenv("BIGMODEL_TANG_POEMS_URL", url)
        expected = r"poet.tang.23000.json has SHA-256 .*not be overwritten"
        with pytest.raises(data.ChecksumError, match=expected):
            data.load_tang_poems()
    assert (cached / "poet.tang.23000.json").read_bytes() == bad


def test_a_corrupted_member_of_a_local_archive_is_refused(files, isolated):
    mine = isolated / "mine"
    mine.mkdir()
    with tarfile.open(mine / ARCHIVE, "w:gz", compresslevel=1) as tar:
        for name in ("poet.tang.0.json", "poet.tang.7000.json"):  # one good, one bad
            raw = (files / name).read_bytes()
            raw = flip(raw, 99) if name == "poet.tang.7000.json" else raw
            info = tarfile.TarInfo(f"tang/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    expected = rf"{ARCHIVE} \(member tang/poet.tang.7000.json\) has SHA-256"
    with pytest.raises(data.ChecksumError, match=expected):
        data.load_tang_poems(mine, download=False)


# ------------------------------------------------------------------- downloads


def test_download_file_by_file(files, isolated, tmp_path, tang):
    shutil.copytree(files, tmp_path / "served")
    with serve(tmp_path / "served") as url, pytest.MonkeyPatch.context() as mp:
        mp.setenv("BIGMODEL_TANG_POEMS_URL", url)
        got = data.load_tang_poems()
    cached = isolated / "cache" / "tang-poems"
    assert got.source == cached and got.title == tang.title
    assert sorted(p.name for p in (cached / "tang").iterdir()) == sorted(p.name for p in files.iterdir())
    assert data.load_tang_poems(download=False).source == cached  # second time: from the cache


def test_download_fills_a_partial_cache(files, isolated, tmp_path):
    cached = isolated / "cache" / "tang-poems" / "tang"
    shutil.copytree(files, cached)
    gone = ["poet.tang.0.json", "poet.tang.31000.json"]
    for name in gone:
        (cached / name).unlink()
    served = tmp_path / "served"
    served.mkdir()
    for name in gone:  # the server has only these two: nothing else is fetched
        shutil.copy(files / name, served / name)
    with serve(served) as url, pytest.MonkeyPatch.context() as mp:
        mp.setenv("BIGMODEL_TANG_POEMS_URL", url)
        assert len(data.load_tang_poems()) == 57_607
    for name in gone:
        assert (cached / name).read_bytes() == (files / name).read_bytes()


def test_a_wrong_file_in_the_download_keeps_nothing(files, isolated, tmp_path):
    served = tmp_path / "served"
    shutil.copytree(files, served)
    (served / "poet.tang.44000.json").write_bytes(flip((files / "poet.tang.44000.json").read_bytes(), 77))
    with serve(served) as url, pytest.MonkeyPatch.context() as mp:
        mp.setenv("BIGMODEL_TANG_POEMS_URL", url)
        expected = (r"the file downloaded from http://127.0.0.1:\d+/poet.tang.44000.json "
                    r"has SHA-256.*Nothing was kept")
        with pytest.raises(data.ChecksumError, match=expected):
            data.load_tang_poems()
    assert cached_files(isolated) == []


def test_a_file_missing_on_the_server_keeps_nothing(files, isolated, tmp_path):
    served = tmp_path / "served"
    shutil.copytree(files, served)
    (served / "poet.tang.57000.json").unlink()  # the last one: 57 files come before it
    with serve(served) as url, pytest.MonkeyPatch.context() as mp:
        mp.setenv("BIGMODEL_TANG_POEMS_URL", url)
        expected = r"failed: http://127.0.0.1:\d+/poet.tang.57000.json answered HTTP 404"
        with pytest.raises(data.DataNotFoundError, match=expected):
            data.load_tang_poems()
    assert cached_files(isolated) == []


def test_missing_data_names_every_place(isolated, monkeypatch):
    monkeypatch.setenv("BIGMODEL_DATA", str(isolated / "envdir"))
    with pytest.raises(data.DataNotFoundError) as err:
        data.load_tang_poems(isolated / "argdir")
    msg = str(err.value)
    for place in ("argdir", "envdir", "cache", "data_dir argument", "$BIGMODEL_DATA", "user cache",
                  "127.0.0.1:9/tang/", "failed", "tang/ with 58 files", ARCHIVE):
        assert place in msg, f"{place!r} not named in:\n{msg}"
    with pytest.raises(data.DataNotFoundError, match="not tried, download=False"):
        data.load_tang_poems(isolated / "argdir", download=False)


def test_fetch_knows_the_tang_poems(shared_data, isolated):
    assert "tang-poems" in data.DATASETS
    assert data.fetch("tang-poems", shared_data, download=False) == shared_data / "tang-poems"
