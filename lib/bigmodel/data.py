"""Real data sets, checked by SHA-256, found offline or downloaded once.

Every loader looks for its files in this order and uses the first place that has them:

1. the ``data_dir`` argument, if given;
2. the directory in the environment variable ``BIGMODEL_DATA``;
3. the user cache, ``$BIGMODEL_CACHE`` or ``$XDG_CACHE_HOME/bigmodel`` or ``~/.cache/bigmodel``;
4. a download from the canonical address into the user cache.

In each directory ``D`` a data set ``name`` may sit in ``D/name/`` or directly in ``D``.
A file is used only if the SHA-256 of its content (uncompressed, for ``.gz`` files)
equals the published sum. A file that is present but wrong stops the search with
:class:`ChecksumError`: it is never used, and never overwritten by a download.

Data sets of many small files (the 3,000 recordings of FSDD, the 58 JSON files of the Tang
poems) take their sums from a manifest shipped inside this package (``bigmodel/manifests/``),
never from a downloaded file. Their files sit in a folder (``D/fsdd/recordings/``,
``D/tang-poems/tang/``) or in a tar.gz of that folder
(``D/fsdd/fsdd-v1.0.10-recordings.tar.gz``, ``D/tang-poems/quan-tang-shi-poet.tang.tar.gz``);
a download fetches the published archive (FSDD) or each file (the Tang poems), verifies
every file, and only then keeps them in the user cache.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.client
import importlib.resources
import io
import os
import re
import tarfile
import tempfile
import urllib.error
import urllib.request
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

__all__ = [
    "DATASETS",
    "ChecksumError",
    "DataNotFoundError",
    "DataPermissionError",
    "DownloadError",
    "FSDD",
    "MNIST",
    "TangPoems",
    "cache_dir",
    "fetch",
    "load_fsdd",
    "load_mnist",
    "load_rt_polarity",
    "load_tang_poems",
    "load_tiny_shakespeare",
    "read_wav",
    "tang_text",
]


class DataNotFoundError(FileNotFoundError):
    """No verified copy anywhere, and the download failed or was not allowed."""


class ChecksumError(ValueError):
    """A file exists but its content is not the published one (corrupt or truncated)."""


class DownloadError(OSError):
    """A download broke off or could not be saved; nothing was kept."""


class DataPermissionError(PermissionError):
    """A data file or the cache could not be read or written for lack of permission."""


@dataclass(frozen=True)
class DataFile:
    name: str  # file name on disk and on the server
    sha256: str  # of the uncompressed content
    gzipped: bool = False


@dataclass(frozen=True)
class Dataset:
    name: str
    url_env: str  # environment variable that overrides the base address (used by tests)
    base_url: str
    files: tuple[DataFile, ...]
    # Some data sets are published as one tar.gz of 8-bit text files: the archive's name,
    # for each of ``files`` its path inside the archive, and the archive's text encoding.
    archive: str | None = None
    members: tuple[str, ...] = ()
    encoding: str = "utf-8"
    # Data sets of many files: ``files`` is read from this manifest in bigmodel/manifests/
    # (``sha256  name`` lines, the format of sha256sum), the files sit in ``folder`` of a
    # data directory, or in a tar.gz named in ``local_archives``, and the downloaded
    # ``archive`` is searched for ``folder/name`` at any depth (GitHub adds a top folder).
    # Without an ``archive``, each file is downloaded from ``base_url + name``.
    # Their bytes are kept as they are (no re-encoding).
    manifest: str | None = None
    folder: str = ""
    local_archives: tuple[str, ...] = ()


DATASETS: dict[str, Dataset] = {
    "mnist": Dataset(
        name="mnist",
        url_env="BIGMODEL_MNIST_URL",
        # torchvision's mirror of Y. LeCun's original files.
        base_url="https://ossci-datasets.s3.amazonaws.com/mnist/",
        files=(
            DataFile(
                "train-images-idx3-ubyte.gz",
                "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
                gzipped=True,
            ),
            DataFile(
                "train-labels-idx1-ubyte.gz",
                "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
                gzipped=True,
            ),
            DataFile(
                "t10k-images-idx3-ubyte.gz",
                "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
                gzipped=True,
            ),
            DataFile(
                "t10k-labels-idx1-ubyte.gz",
                "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
                gzipped=True,
            ),
        ),
    ),
    "tinyshakespeare": Dataset(
        name="tinyshakespeare",
        url_env="BIGMODEL_TINYSHAKESPEARE_URL",
        base_url="https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/",
        files=(
            DataFile(
                "input.txt", "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
            ),
        ),
    ),
    "rt-polarity": Dataset(
        name="rt-polarity",
        url_env="BIGMODEL_RT_POLARITY_URL",
        base_url="http://www.cs.cornell.edu/people/pabo/movie-review-data/",
        files=(
            DataFile(
                "rt-polarity.pos", "4134882974a28d0c7b5151256f0e33a6169984ee7372c279e673f1114f475d58"
            ),
            DataFile(
                "rt-polarity.neg", "2d11cfbc790f1cd96d78339f41ce53ced1efa83cd22d37d6788fa3fe3d17e2fd"
            ),
        ),
        archive="rt-polaritydata.tar.gz",
        members=("rt-polaritydata/rt-polarity.pos", "rt-polaritydata/rt-polarity.neg"),
        # Described as Latin-1, but its dashes, ellipses and quotes are Windows-1252 bytes
        # (0x96, 0x97, 0x85, 0x91): the UTF-8 copies whose sums are above decode it so.
        encoding="cp1252",
    ),
    "fsdd": Dataset(
        name="fsdd",
        url_env="BIGMODEL_FSDD_URL",
        # The tag's archive, as GitHub makes it (its bytes are not fixed; each WAV file is
        # checked against the shipped manifest instead).
        base_url="https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags/",
        files=(),
        archive="v1.0.10.tar.gz",
        manifest="fsdd-v1.0.10.sha256",
        folder="recordings",
        # this book's offline copy, and the tag's archive as a browser and as curl -O name it
        local_archives=(
            "fsdd-v1.0.10-recordings.tar.gz",
            "free-spoken-digit-dataset-1.0.10.tar.gz",
            "v1.0.10.tar.gz",
        ),
    ),
    "tang-poems": Dataset(
        name="tang-poems",
        url_env="BIGMODEL_TANG_POEMS_URL",
        # chinese-poetry's files at a pinned commit, one by one; the folder is 全唐诗
        # (percent-encoded). Each file is checked against the shipped manifest.
        base_url="https://raw.githubusercontent.com/chinese-poetry/chinese-poetry/"
        "99ebbef7e1345c0985c44b9fd96a3f9e776f117b/%E5%85%A8%E5%94%90%E8%AF%97/",
        files=(),
        manifest="tang-poems-99ebbef.sha256",
        folder="tang",
        local_archives=("quan-tang-shi-poet.tang.tar.gz",),
    ),
}


@functools.cache
def _manifest(name: str) -> tuple[DataFile, ...]:
    """The files listed in the shipped manifest ``bigmodel/manifests/<name>``."""
    resource = importlib.resources.files("bigmodel") / "manifests" / name
    try:
        text = resource.read_text("ascii")
    except FileNotFoundError as e:
        raise FileNotFoundError(
            f"the checksum manifest bigmodel/manifests/{name} is missing from the installed "
            "package, so its data set cannot be verified. Reinstall bigmodel (pip install "
            "--force-reinstall bigmodel), or install from a checkout with pip install -e ."
        ) from e
    files = []
    for line in text.splitlines():
        m = re.fullmatch(r"([0-9a-f]{64}) [ *](\S+)", line)
        if m is None:
            raise ValueError(f"bigmodel/manifests/{name}: not a 'sha256  name' line: {line!r}")
        files.append(DataFile(m.group(2), m.group(1)))
    return tuple(files)


def _files(ds: Dataset) -> tuple[DataFile, ...]:
    return _manifest(ds.manifest) if ds.manifest else ds.files


def cache_dir() -> Path:
    """The user cache directory for downloads (not created here)."""
    if os.environ.get("BIGMODEL_CACHE"):
        return Path(os.environ["BIGMODEL_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "bigmodel"


def _read(path: Path, dataset: str) -> bytes:
    try:
        return path.read_bytes()
    except PermissionError as e:
        raise DataPermissionError(
            f"data set {dataset!r}: no permission to read {path}. Make it readable "
            f"(chmod a+r {path}), or point BIGMODEL_DATA or data_dir=... at a readable copy."
        ) from e


def _uncompressed(raw: bytes, f: DataFile, where: str) -> bytes:
    """``raw`` itself, or gunzipped for a ``.gz`` file; ``where`` names it in errors."""
    if not f.gzipped:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError) as e:  # BadGzipFile is an OSError; a cut file is an EOFError
        raise ChecksumError(
            f"{where} is not a complete gzip file ({e}); it is corrupt or truncated."
        ) from e


def _check_sum(data: bytes, f: DataFile, where: str, consequence: str) -> bytes:
    got = hashlib.sha256(data).hexdigest()
    if got != f.sha256:
        raise ChecksumError(
            f"{where} has SHA-256 {got} but the published content has {f.sha256} "
            f"({len(data):,} bytes read): the file is corrupt, truncated or a different "
            f"version. {consequence}"
        )
    return data


def _verify(path: Path, f: DataFile, dataset: str = "") -> bytes:
    """Return the (uncompressed) content of ``path`` if its SHA-256 is the published one."""
    keep = "It was not used and will not be overwritten; delete or replace it."
    try:
        data = _uncompressed(_read(path, dataset or path.parent.name), f, str(path))
    except ChecksumError as e:
        raise ChecksumError(f"{e} {keep}") from e
    return _check_sum(data, f, str(path), keep)


def _candidates(root: Path, ds: Dataset) -> list[Path]:
    return [root / ds.name, root]


def _get(url: str, timeout: float) -> bytes:
    """The body at ``url``; a connection cut before the announced length is a DownloadError."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.read()
    except http.client.IncompleteRead as e:
        expected = f" of {len(e.partial) + e.expected:,}" if e.expected else ""
        raise DownloadError(
            f"the download of {url} broke off after {len(e.partial):,}{expected} bytes "
            "(connection cut); nothing was kept. Try again, or copy the file by hand."
        ) from e


def _file_mode() -> int:
    """rw for everyone the umask allows, like a file made by ``open``; mkstemp makes 0600."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _keep(dest: Path, f: DataFile, raw: bytes, url: str) -> bytes:
    """Write ``raw`` to ``dest/f.name`` only if it verifies; return its content.

    The check runs on the downloaded bytes, before anything is written, so that the error
    names the address; the file appears under its name only once complete (atomic rename).
    """
    nothing = "Nothing was kept."
    try:
        content = _check_sum(_uncompressed(raw, f, f"the file downloaded from {url}"), f,
                             f"the file downloaded from {url}", nothing)
    except ChecksumError as e:
        raise ChecksumError(str(e) if nothing in str(e) else f"{e} {nothing}") from e
    try:
        fd, tmp_name = tempfile.mkstemp(dir=dest, prefix=f".{f.name}.", suffix=".part")
    except PermissionError as e:
        raise DataPermissionError(
            f"cannot write the downloaded {f.name} into {dest}: permission denied. Set "
            "BIGMODEL_CACHE to a directory you can write, or fix the directory's permissions."
        ) from e
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(raw)
        os.chmod(tmp, _file_mode())
        os.replace(tmp, dest / f.name)
        return content
    finally:
        tmp.unlink(missing_ok=True)


def _from_archive(
    ds: Dataset, archive: bytes, where: str | None = None, consequence: str = "nothing was kept"
) -> dict[str, bytes]:
    """The files of ``ds`` in its tar.gz ``archive`` (not yet verified).

    Either the listed ``members``, re-encoded from ``ds.encoding`` to UTF-8, or, for a
    manifest data set, every ``folder/name`` it holds, at any depth, byte for byte.
    ``where`` names the archive in errors.
    """
    where = where or f"the downloaded {ds.archive}"
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            out = {}
            if ds.manifest:
                wanted = {f.name for f in _files(ds)}
                for info in tar:
                    path = PurePosixPath(info.name)
                    if info.isfile() and path.name in wanted and path.parent.name == ds.folder:
                        out[path.name] = tar.extractfile(info).read()
                return out
            for f, member in zip(ds.files, ds.members, strict=True):
                data = tar.extractfile(member)
                if data is None:
                    raise KeyError(member)
                out[f.name] = data.read().decode(ds.encoding).encode("utf-8")
            return out
    except (tarfile.TarError, KeyError, EOFError, OSError, UnicodeDecodeError) as e:
        raise ChecksumError(f"{where} is not the published archive ({e!r}); {consequence}") from e


def _some(names: list[str]) -> str:
    """``names`` for a message: the count and the first three."""
    more = ", ..." if len(names) > 3 else ""
    return f"{len(names):,} file(s): {', '.join(names[:3])}{more}"


def _from_local_archive(path: Path, ds: Dataset, skip: dict[str, bytes]) -> dict[str, bytes]:
    """The verified files of a manifest data set in the tar.gz ``path``, except ``skip``."""
    keep = "It was not used and will not be overwritten; delete or replace it."
    found = _from_archive(ds, _read(path, ds.name), str(path), keep)
    return {
        f.name: _check_sum(found[f.name], f, f"{path} (member {ds.folder}/{f.name})", keep)
        for f in _files(ds)
        if f.name in found and f.name not in skip
    }


def _look_in(d: Path, ds: Dataset) -> tuple[dict[str, bytes], str | None]:
    """The verified content of the files of ``ds`` in ``d``, and what is missing there
    (``None`` when nothing is). A file present but wrong raises :class:`ChecksumError`."""
    files = _files(ds)
    folder = d / ds.folder
    present = [f for f in files if (folder / f.name).is_file()]
    # A bad file stops here: it is never used, and never replaced by a download.
    contents = {f.name: _verify(folder / f.name, f, ds.name) for f in present}
    archives = [d / a for a in ds.local_archives if (d / a).is_file()]
    if len(contents) < len(files) and archives:
        contents.update(_from_local_archive(archives[0], ds, contents))
    if len(contents) == len(files):
        return contents, None
    if not contents:
        return contents, f"{archives[0].name} holds none of the files" if archives else "not there"
    missing = [f.name for f in files if f.name not in contents]
    return contents, f"missing {_some(missing) if ds.manifest else ', '.join(sorted(missing))}"


def _download(ds: Dataset, dest: Path, timeout: float) -> dict[str, bytes]:
    """Download the files of ``ds`` missing from ``dest``; verify each before it is kept."""
    base = (os.environ.get(ds.url_env) or ds.base_url).rstrip("/") + "/"
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except PermissionError as e:
        raise DataPermissionError(
            f"data set {ds.name!r}: cannot create the cache directory {dest}: permission "
            "denied. Set BIGMODEL_CACHE to a directory you can write."
        ) from e
    contents = {}
    missing = []
    folder = dest / ds.folder
    for f in _files(ds):
        if (folder / f.name).exists():
            contents[f.name] = _verify(folder / f.name, f, ds.name)  # bad: raises, never overwritten
        else:
            missing.append(f)
    if missing and ds.manifest and ds.archive:
        contents.update(_download_many(ds, missing, folder, base + str(ds.archive), timeout))
    elif missing and ds.manifest:
        contents.update(_download_each(ds, missing, folder, base, timeout))
    elif missing and ds.archive:
        unpacked = _from_archive(ds, _get(base + ds.archive, timeout))
        for f in missing:
            contents[f.name] = _keep(dest, f, unpacked[f.name], base + ds.archive)
    else:
        for f in missing:
            contents[f.name] = _keep(dest, f, _get(base + f.name, timeout), base + f.name)
    return contents


def _download_many(
    ds: Dataset, missing: list[DataFile], folder: Path, url: str, timeout: float
) -> dict[str, bytes]:
    """The ``missing`` files of a manifest data set, from the archive at ``url``, kept in
    ``folder``. Every one is checked before the first is written: a wrong or absent file
    keeps nothing."""
    nothing = "Nothing was kept."
    where = f"the archive downloaded from {url}"
    found = _from_archive(ds, _get(url, timeout), where, nothing)
    absent = [f.name for f in missing if f.name not in found]
    if absent:
        raise ChecksumError(
            f"{where} lacks {_some(absent)} of data set {ds.name!r} (expected under "
            f"{ds.folder}/): it is not the published version. {nothing}"
        )
    for f in missing:
        _check_sum(found[f.name], f, f"{ds.folder}/{f.name} in {where}", nothing)
    _make_folder(ds, folder)
    return {f.name: _keep(folder, f, found[f.name], url) for f in missing}


def _make_folder(ds: Dataset, folder: Path) -> None:
    """Create a manifest data set's folder in the cache, or say how to choose another."""
    try:
        folder.mkdir(exist_ok=True)
    except PermissionError as e:
        raise DataPermissionError(
            f"data set {ds.name!r}: cannot create {folder}: permission denied. Set "
            "BIGMODEL_CACHE to a directory you can write."
        ) from e


def _download_each(
    ds: Dataset, missing: list[DataFile], folder: Path, base: str, timeout: float
) -> dict[str, bytes]:
    """The ``missing`` files of a manifest data set without an archive, each from
    ``base + name``, kept in ``folder``. Every one is downloaded and checked before the
    first is written: a wrong or absent file keeps nothing."""
    nothing = "Nothing was kept."
    raw = {}
    for f in missing:
        url = base + f.name
        try:
            body = _get(url, timeout)
        except urllib.error.HTTPError as e:  # its message does not name the file
            raise DownloadError(
                f"{url} answered HTTP {e.code} ({e.reason}); no file of the data set was kept"
            ) from e
        raw[f.name] = _check_sum(body, f, f"the file downloaded from {url}", nothing)
    _make_folder(ds, folder)
    return {f.name: _keep(folder, f, raw[f.name], base + f.name) for f in missing}


def fetch(
    name: str,
    data_dir: str | os.PathLike | None = None,
    *,
    download: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Find (or download) the data set ``name`` and return the directory holding its files.

    Args:
        name: a key of :data:`DATASETS` (``"mnist"``, ``"tinyshakespeare"``, ``"fsdd"``,
            ``"tang-poems"``, ...).
        data_dir: a directory to look in first.
        download: allow the download from the canonical address (step 4).
        timeout: seconds before a silent server counts as unreachable.

    Raises:
        ChecksumError: a file was found whose content is not the published one.
        DataNotFoundError: no place had the files and the download was impossible;
            the message names every place looked in.
    """
    return _locate(name, data_dir, download, timeout)[0]


def _locate(
    name: str, data_dir: str | os.PathLike | None, download: bool, timeout: float = 60.0
) -> tuple[Path, dict[str, bytes]]:
    """:func:`fetch`, also returning the verified (uncompressed) content of each file."""
    try:
        ds = DATASETS[name]
    except KeyError:
        raise KeyError(f"unknown data set {name!r}; known: {sorted(DATASETS)}") from None
    roots: list[tuple[str, Path]] = []
    if data_dir is not None:
        roots.append(("data_dir argument", Path(data_dir).expanduser()))
    if os.environ.get("BIGMODEL_DATA"):
        roots.append(("$BIGMODEL_DATA", Path(os.environ["BIGMODEL_DATA"]).expanduser()))
    roots.append(("user cache", cache_dir()))

    looked: list[str] = []
    for label, root in roots:
        for d in _candidates(root, ds):
            contents, missing = _look_in(d, ds)
            if missing is None:
                return d, contents
            looked.append(f"{d} ({label}): {missing}")

    dest = cache_dir() / ds.name
    base = os.environ.get(ds.url_env) or ds.base_url
    if ds.manifest and ds.archive:  # one archive holds them all: name its address
        base = base.rstrip("/") + "/" + str(ds.archive)
    if download:
        try:
            return dest, _download(ds, dest, timeout)
        except DataPermissionError:
            raise
        except (urllib.error.URLError, OSError, TimeoutError) as e:
            looked.append(f"{base} (download into {dest}): failed: {e}")
    else:
        looked.append(f"{base} (download into {dest}): not tried, download=False")
    names = ", ".join(f.name for f in ds.files)
    if ds.manifest:
        names = f"{ds.folder}/ with {len(_files(ds)):,} files, or {' or '.join(ds.local_archives)}"
    raise DataNotFoundError(
        f"data set {name!r} ({names}) was not found. Looked in:\n  - "
        + "\n  - ".join(looked)
        + f"\nFix: set BIGMODEL_DATA to a directory holding {name}/ (for this book's "
        f"checkout: ../shared/data), pass data_dir=..., or download the files from "
        f"{base} into {dest}."
    )


# --------------------------------------------------------------------------- MNIST


@dataclass(frozen=True)
class MNIST:
    """The MNIST arrays. Images ``(N, 28, 28)`` or ``(N, 784)``; labels ``(N,)`` int64."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: Path  # the directory the files were read from


def _idx(data: bytes, ndim: int) -> np.ndarray:
    # IDX format: 2 zero bytes, a type code (0x08 = uint8), the number of dimensions,
    # then each dimension as a big-endian int32, then the values.
    if data[:2] != b"\x00\x00" or data[2] != 0x08 or data[3] != ndim:
        raise ChecksumError("not an IDX file of uint8 values with the expected dimensions")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_mnist(
    data_dir: str | os.PathLike | None = None,
    *,
    scale: bool = False,
    flatten: bool = False,
    download: bool = True,
) -> MNIST:
    """Load the 60,000 training and 10,000 test images of MNIST.

    Args:
        data_dir: a directory to look in first (see the module docstring for the order).
        scale: return float32 pixels in [0, 1] instead of uint8 in [0, 255].
        flatten: return images as ``(N, 784)`` rows instead of ``(N, 28, 28)``.
        download: allow the download from the canonical address.

    Returns:
        :class:`MNIST` with ``x_train (60000, 28, 28)``, ``y_train (60000,)``,
        ``x_test (10000, 28, 28)``, ``y_test (10000,)`` and ``source``.
    """
    d, contents = _locate("mnist", data_dir, download)
    # "train-images-idx3-ubyte.gz" -> "train-images"
    arrays = {
        "-".join(n.split("-")[:2]): _idx(c, 3 if "images" in n else 1)
        for n, c in contents.items()
    }

    def images(a: np.ndarray) -> np.ndarray:
        a = a.reshape(len(a), -1) if flatten else a
        return a.astype(np.float32) / 255.0 if scale else a.copy()

    return MNIST(
        x_train=images(arrays["train-images"]),
        y_train=arrays["train-labels"].astype(np.int64),
        x_test=images(arrays["t10k-images"]),
        y_test=arrays["t10k-labels"].astype(np.int64),
        source=d,
    )


def load_tiny_shakespeare(
    data_dir: str | os.PathLike | None = None, *, download: bool = True
) -> str:
    """Return Tiny Shakespeare (1,115,394 characters of Shakespeare's plays) as one string."""
    _, contents = _locate("tinyshakespeare", data_dir, download)
    return contents["input.txt"].decode("utf-8")


def load_rt_polarity(
    data_dir: str | os.PathLike | None = None, *, download: bool = True
) -> tuple[list[str], np.ndarray]:
    """The sentence polarity data set v1.0 (Pang and Lee, 2005): 10,662 movie-review snippets.

    Returns:
        ``(texts, labels)``: 5,331 positive snippets (label 1) followed by 5,331 negative
        ones (label 0); each text is one lower-cased, tokenised line. The published archive
        holds Windows-1252 text; the files are kept, and checked, as UTF-8.
    """
    _, contents = _locate("rt-polarity", data_dir, download)
    texts: list[str] = []
    labels: list[int] = []
    for name, label in (("rt-polarity.pos", 1), ("rt-polarity.neg", 0)):
        lines = contents[name].decode("utf-8").splitlines()
        texts += lines
        labels += [label] * len(lines)
    return texts, np.array(labels, dtype=np.int64)


# ---------------------------------------------------------------------------- FSDD


def read_wav(source: str | os.PathLike | bytes, *, sample_rate: int = 8000, name: str = "") -> np.ndarray:
    """The samples of a mono 16-bit PCM WAV file as float32 in [-1, 1), shape ``(n_samples,)``.

    Args:
        source: a path, or the file's bytes.
        sample_rate: the rate the caller expects, in Hz; another rate is refused rather
            than resampled, because features computed at the wrong rate look plausible.
        name: how to call the file in errors (default: the path).

    The 16-bit integers are divided by 32,768, so full scale is -1.0 ... 0.99997.
    """
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


# ---------------------------------------------------------------------- Tang poems


@dataclass(frozen=True)
class TangPoems:
    """《全唐诗》 (Complete Tang Poems, compiled 1705) as digitised by the chinese-poetry
    project (MIT license, commit 99ebbef): 57,607 poems in traditional characters.

    Item ``i`` is poem ``i`` in the order of the files ``poet.tang.0.json``,
    ``poet.tang.1000.json``, ... ``poet.tang.57000.json`` (by number) and of the poems in
    each file. The text is as published: traditional characters, full-width punctuation
    (``，`` and ``。`` end the halves of a couplet), editorial notes in brackets such as
    ``（一作...）``, and ``□`` for a character lost in the sources.

    Attributes:
        title: ``(N,)`` the poems' titles.
        author: ``(N,)`` the poets' names.
        paragraphs: per poem its lines as published, usually one couplet per line
            (``"床前明月光，疑是地上霜。"``); 4 poems have none.
        source: the directory the files were read from.
    """

    title: list[str]
    author: list[str]
    paragraphs: list[list[str]]
    source: Path

    def __len__(self) -> int:
        return len(self.title)

    @property
    def n_characters(self) -> int:
        """Characters in all the lines, punctuation included (3,668,082)."""
        return sum(len(line) for lines in self.paragraphs for line in lines)


def _tang_order(name: str) -> int:
    """``poet.tang.12000.json`` -> 12000, so the files are read in the published order."""
    m = re.fullmatch(r"poet\.tang\.(\d+)\.json", name)
    if m is None:  # the manifest lists only such names; guard against a changed manifest
        raise ValueError(f"unexpected Tang-poem file name {name!r}; expected poet.tang.<N>.json")
    return int(m.group(1))


def load_tang_poems(data_dir: str | os.PathLike | None = None, *, download: bool = True) -> TangPoems:
    """The 57,607 poems of 《全唐诗》 in traditional characters, from 58 checked JSON files.

    Every file is checked against the SHA-256 manifest shipped with this package. The poems
    hold 3,668,082 characters of poem text (the ``paragraphs``), 9,588 distinct ones.

    Args:
        data_dir: a directory to look in first (see the module docstring for the order); it
            may hold ``tang/poet.tang.*.json`` or ``quan-tang-shi-poet.tang.tar.gz``, directly
            or in ``tang-poems/``.
        download: allow the download of the 58 files (25 MB of JSON) from the chinese-poetry
            repository at the pinned commit (``$BIGMODEL_TANG_POEMS_URL`` overrides the address).

    Returns:
        :class:`TangPoems`; :func:`tang_text` makes one training text of it.
    """
    import json

    d, contents = _locate("tang-poems", data_dir, download)
    title: list[str] = []
    author: list[str] = []
    paragraphs: list[list[str]] = []
    for name in sorted(contents, key=_tang_order):
        try:
            poems = json.loads(contents[name].decode("utf-8"))
            for p in poems:
                title.append(str(p["title"]))
                author.append(str(p["author"]))
                paragraphs.append([str(line) for line in p["paragraphs"]])
        except (ValueError, KeyError, TypeError) as e:  # only if the manifest were changed
            raise ValueError(f"{name} is not a list of poems with title, author, paragraphs: {e!r}") from e
    return TangPoems(title=title, author=author, paragraphs=paragraphs, source=d)


def tang_text(poems: TangPoems) -> str:
    """One training text of the poems: each poem's lines joined by ``"\\n"``, poems separated
    by a blank line (``"\\n\\n"``), titles and authors left out, poems without lines skipped.

    The titles are left out because they are not verse: a median of 6 characters, but 66
    of them longer than 100 (whole sentences of prose), so a character model trained on them
    would spend capacity on prose and mix it into the lines whose form (5 or 7 characters
    per half-line, :func:`bigmodel.poems.form_share`) the book measures. The blank line
    marks where a poem ends, so a model learns to end a poem and to begin the next; a
    prompt of ``"\\n\\n"`` asks for a new poem. The text has 57,603 poems and 9,589
    distinct characters (the 9,588 of the poems and ``"\\n"``).
    """
    return "\n\n".join("\n".join(lines) for lines in poems.paragraphs if lines)
