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

from .fetching import cache_dir, fetch
from .fsdd import FSDD, load_fsdd, read_wav
from .mnist import MNIST, load_mnist
from .sources import (
    DATASETS,
    ChecksumError,
    DataNotFoundError,
    DataPermissionError,
    DownloadError,
)
from .text import TangPoems, load_rt_polarity, load_tang_poems, load_tiny_shakespeare, tang_text

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
