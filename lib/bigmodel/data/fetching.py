"""The search, the checks and the download behind every loader (see :mod:`bigmodel.data`).

One engine for all data sets: each file is accepted only if its SHA-256 matches
:data:`~bigmodel.data.DATASETS`; a wrong file stops the search and is never overwritten;
a download is verified before it is kept.

Why not pooch, which fetches, caches and checks SHA-256 registries: where a cached file's
hash differs from the registry, pooch downloads the file again in its place (its v0.1
release notes: "If the hash is different from the registry, Pooch will download a new
version of the file"). This book's contract is the opposite: a wrong file is named and
left for the reader to inspect, never replaced. The engine also searches the offline
copies of ``BIGMODEL_DATA`` and checks each member of an archive against its own SHA-256.
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
from pathlib import Path, PurePosixPath

from ..inputs import number
from .sources import (
    DATASETS,
    ChecksumError,
    DataFile,
    DataNotFoundError,
    DataPermissionError,
    Dataset,
    DownloadError,
)


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
    timeout = number(timeout, "timeout", 0, low_open=True, hint="in seconds")
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
