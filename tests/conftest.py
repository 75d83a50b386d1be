"""Shared fixtures: the repository root, the offline data, the built HTML site."""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))  # po_check, i18n: shared by the tools and the tests
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")


def pytest_configure(config):
    """Under pytest-xdist, share the cores between the workers' notebook kernels.

    Each worker runs one notebook kernel at a time; with every kernel using every core
    (PyTorch's and OpenMP's default), the many small training steps of the chapters
    oversubscribe the CPU and slow down tenfold. Variables set by the caller (as
    ``make test-portable`` does) win. Stored outputs do not depend on the thread count.
    """
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        threads = str(max(1, (os.cpu_count() or 1) // workers))
        for name in THREAD_VARIABLES:
            os.environ.setdefault(name, threads)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The offline copies of the data sets (``$BIGMODEL_DATA`` or ``../shared/data``).

    Fails rather than skips: CI always has them, and a skipped data test proves nothing.
    """
    for cand in (os.environ.get("BIGMODEL_DATA"), ROOT.parent / "shared" / "data"):
        if cand and (Path(cand) / "mnist").is_dir():
            return Path(cand)
    pytest.fail("no offline data: set BIGMODEL_DATA to the shared data directory")


@pytest.fixture(scope="session")
def built_html(book_build) -> Path:
    """The built site's html folder (:func:`book_build`). If the book did not build, the
    tests that need the site are skipped, naming the one test that fails with the reason
    (``tests/test_book_build.py``): one failure, not one error per page."""
    html, error = book_build
    if error:
        pytest.skip("the book did not build: tests/test_book_build.py fails with the reason")
    return html


@pytest.fixture(scope="session")
def book_build(tmp_path_factory) -> tuple[Path, str | None]:
    """Build the book once per test run with ``-W -n --keep-going``; return its html folder
    and ``None``, or the folder and the build's error message.

    The Chinese edition is built into its ``zh/`` subfolder, as ``make book`` does.

    Under pytest-xdist every worker asks for it: the first builds, under a file lock in
    the run's shared temporary folder, and the others reuse its result.
    """
    from filelock import FileLock

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    out = shared / "book"
    with FileLock(str(shared / "book.lock")):
        failed = shared / "book-failed.txt"
        if failed.exists():
            return out / "_build" / "html", failed.read_text()
        if not (out / "_build" / "html" / "index.html").exists():
            jb = Path(sys.executable).with_name("jupyter-book")
            r = subprocess.run(
                [str(jb), "build", str(ROOT), "--path-output", str(out), "-W", "-n", "--keep-going"],
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            if r.returncode == 0:  # the Chinese edition, as make book builds it
                r = subprocess.run(
                    [sys.executable, str(ROOT / "tools" / "i18n.py"), "zh",
                     "--site", str(out / "_build" / "html" / "zh"), "--work", str(out / "i18n")],
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                )
            if r.returncode != 0:
                msg = f"jupyter-book build failed ({r.returncode}):\n{r.stdout[-6000:]}\n{r.stderr[-3000:]}"
                failed.write_text(msg)
                return out / "_build" / "html", msg
    return out / "_build" / "html", None


def unpack_flat(archive: Path, out: Path) -> Path:
    """Every file of the tar archive into the new folder ``out``, by name only: no path
    from the archive reaches the disk. Returns ``out``."""
    import tarfile

    out.mkdir()
    with tarfile.open(archive) as tar:
        for member in tar:
            if member.isfile():
                (out / Path(member.name).name).write_bytes(tar.extractfile(member).read())
    return out


def isolate_downloads(monkeypatch, tmp_path: Path, url_variable: str, url: str) -> Path:
    """No BIGMODEL_DATA, an empty cache under ``tmp_path``, and ``url_variable`` set to a
    download address nobody listens on. Returns ``tmp_path``."""
    monkeypatch.delenv("BIGMODEL_DATA", raising=False)
    monkeypatch.setenv("BIGMODEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv(url_variable, url)
    return tmp_path


@pytest.fixture(scope="module")
def torch_one_thread():
    """Tiny models are overhead-bound: one PyTorch thread is faster, and fair to a shared CPU."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (for import-isolation checks)."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=ROOT,
    )


@contextlib.contextmanager
def serve_handler(handler):
    """A real HTTP server on 127.0.0.1 (a free port) with ``handler``; yields its base URL."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def serve(directory: Path):
    """Serve the files of ``directory`` on 127.0.0.1 (for the download tests); a context manager."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    return serve_handler(functools.partial(Quiet, directory=str(directory)))


def pytest_collection_modifyitems(config, items):
    """Mark every test that needs the built site (through any fixture) ``site``."""
    for item in items:
        if {"built_html", "book_build"} & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.site)


@pytest.fixture(scope="module")
def nano_checkpoint(shared_data, tmp_path_factory):
    """A ``tang-without-bai-juyi`` checkpoint of the nano GPT trained for 2 steps: a stand-in
    for the shipped one in the experiment commands' end-to-end tests."""
    from bigmodel import train

    out = tmp_path_factory.mktemp("pretrained")
    assert train.main(["--corpus", "tang-without-bai-juyi", "--config", "nano", "--steps", "2",
                       "--batch", "2", "--warmup", "1", "--eval-interval", "2",
                       "--eval-iters", "1", "--out", str(out), "--data-dir", str(shared_data)]) == 0
    return train.checkpoint_path("tang-without-bai-juyi", out)
