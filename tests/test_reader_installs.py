"""What a reader installs and sees outside this repository: a licence in the wheel, a clear
message for a missing framework, and no stray output in a plain Jupyter kernel."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import ROOT, run_python


def test_the_wheel_ships_the_licence_and_the_manifests(tmp_path):
    # Build from a copy: setuptools writes build/ next to the sources.
    src = tmp_path / "src"
    skip = shutil.ignore_patterns("*.egg-info", "__pycache__")
    shutil.copytree(ROOT / "lib", src / "lib", ignore=skip)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    pip = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation"]
    r = subprocess.run(
        [*pip, "-w", str(tmp_path), str(src)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    (wheel,) = tmp_path.glob("bigmodel-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    licence = [n for n in names if n.endswith("licenses/LICENSE")]
    assert licence, names
    assert "MIT License" in zipfile.ZipFile(wheel).read(licence[0]).decode()
    # the data loaders' checksum manifests are package data
    assert "bigmodel/manifests/fsdd-v1.0.10.sha256" in names
    meta = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "License-Expression: MIT" in meta


@pytest.mark.parametrize(
    ("package", "framework", "extra"),
    [("bigmodel.torch", "torch", "bigmodel[torch]"), ("bigmodel.tf", "tensorflow", "bigmodel[tf]")],
)
def test_a_missing_framework_names_the_extra(package, framework, extra):
    code = f"import sys; sys.modules[{framework!r}] = None; import {package}"
    r = run_python(code)
    assert r.returncode != 0
    assert "ModuleNotFoundError" in r.stderr and f"pip install '{extra}'" in r.stderr, r.stderr


def _run(cells: list[str], tmp_path) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    return nb


def test_a_plain_kernel_shows_no_glue_lines_and_no_progress_noise(tmp_path, monkeypatch):
    """Outside Jupyter Book (Jupyter without myst_nb, Colab) glue prints nothing, and
    without ipywidgets no text progress bar or warning reaches the notebook."""
    monkeypatch.setenv("BIGMODEL_PROGRESS", "1")
    nb = _run(
        [
            "import sys\nsys.modules['ipywidgets'] = None  # a Jupyter without ipywidgets\n"
            "sys.modules['myst_nb'] = None",
            "from bigmodel.book import glue\nglue('x', 0.5, display=False)\nglue('n', 3, display=False)",
            "import numpy as np\nfrom bigmodel.numpy import fcnn\nfrom bigmodel.torch import fcnn as tf_\n"
            "cfg = fcnn.FCNNConfig(n_in=4, n_hidden=3, n_out=2)\n"
            "m = tf_.FCNN(cfg, fcnn.init_params(cfg, 0))\n"
            "x = np.random.default_rng(0).random((300, 4), dtype=np.float32)\n"
            "h = tf_.fit(m, x, (x[:, 0] > 0.5).astype(int), epochs=2, batch_size=4)",
        ],
        tmp_path,
    )
    streams = [o for c in nb.cells for o in c.outputs if o.output_type == "stream"]
    assert streams == [], streams
    glue_outputs = nb.cells[1].outputs
    assert len(glue_outputs) == 2
    for out in glue_outputs:  # only the record MyST-NB reads, which Jupyter does not render
        assert list(out.data) == ["application/papermill.record/text/plain"]
        assert out.metadata["scrapbook"]["name"] in ("x", "n")
