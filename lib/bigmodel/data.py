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
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import os
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "DATASETS",
    "ChecksumError",
    "DataNotFoundError",
    "DataPermissionError",
    "DownloadError",
    "MNIST",
    "cache_dir",
    "fetch",
    "load_mnist",
    "load_rt_polarity",
    "load_tiny_shakespeare",
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
}


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


def _from_archive(ds: Dataset, archive: bytes) -> dict[str, bytes]:
    """The files of ``ds`` from its tar.gz, re-encoded from ``ds.encoding`` to UTF-8."""
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:gz") as tar:
            out = {}
            for f, member in zip(ds.files, ds.members, strict=True):
                data = tar.extractfile(member)
                if data is None:
                    raise KeyError(member)
                out[f.name] = data.read().decode(ds.encoding).encode("utf-8")
            return out
    except (tarfile.TarError, KeyError, EOFError, OSError, UnicodeDecodeError) as e:
        raise ChecksumError(
            f"the downloaded {ds.archive} is not the published archive ({e!r}); nothing was kept"
        ) from e


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
    for f in ds.files:
        if (dest / f.name).exists():
            contents[f.name] = _verify(dest / f.name, f, ds.name)  # bad: raises, never overwritten
        else:
            missing.append(f)
    if missing and ds.archive:
        unpacked = _from_archive(ds, _get(base + ds.archive, timeout))
        for f in missing:
            contents[f.name] = _keep(dest, f, unpacked[f.name], base + ds.archive)
    else:
        for f in missing:
            contents[f.name] = _keep(dest, f, _get(base + f.name, timeout), base + f.name)
    return contents


def fetch(
    name: str,
    data_dir: str | os.PathLike | None = None,
    *,
    download: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Find (or download) the data set ``name`` and return the directory holding its files.

    Args:
        name: a key of :data:`DATASETS` (``"mnist"``, ``"tinyshakespeare"``).
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
            present = [f for f in ds.files if (d / f.name).is_file()]
            if not present:
                looked.append(f"{d} ({label}): not there")
                continue
            # A bad file stops here: it is never used, and never replaced by a download.
            contents = {f.name: _verify(d / f.name, f, ds.name) for f in present}
            if len(present) == len(ds.files):
                return d, contents
            missing = sorted({f.name for f in ds.files} - {f.name for f in present})
            looked.append(f"{d} ({label}): missing {', '.join(missing)}")

    dest = cache_dir() / ds.name
    base = os.environ.get(ds.url_env) or ds.base_url
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
