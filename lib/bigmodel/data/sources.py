"""The data sets this book reads: where each is published, and the SHA-256 of every file.

The errors the loaders raise are here too, so that every module of the package names
them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass


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
