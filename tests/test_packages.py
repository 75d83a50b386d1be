"""Package structure: import isolation, mirrored names, devices and seeding."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import bigmodel
from conftest import ROOT, run_python


def test_torch_package_never_imports_tensorflow():
    r = run_python(
        "import sys, bigmodel.torch, bigmodel.torch.fcnn\n"
        "import pkgutil, importlib\n"
        "for m in pkgutil.iter_modules(bigmodel.torch.__path__):\n"
        "    importlib.import_module('bigmodel.torch.' + m.name)\n"
        "print('tensorflow' in sys.modules, 'keras' in sys.modules, 'torch' in sys.modules)"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "False", "True"]


def test_tf_package_never_imports_torch():
    r = run_python(
        "import sys, bigmodel.tf\n"
        "import pkgutil, importlib\n"
        "for m in pkgutil.iter_modules(bigmodel.tf.__path__):\n"
        "    importlib.import_module('bigmodel.tf.' + m.name)\n"
        "print('torch' in sys.modules, 'tensorflow' in sys.modules)"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "True"]
    assert r.stderr == "", "importing bigmodel.tf must not log to stderr"


def test_core_imports_neither_framework():
    mods = [m.name for m in pkgutil.iter_modules(bigmodel.__path__) if not m.ispkg]
    r = run_python(
        "import sys, importlib\n"
        f"for m in {mods!r}: importlib.import_module('bigmodel.' + m)\n"
        "print('torch' in sys.modules, 'tensorflow' in sys.modules)"
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["False", "False"]


def public_names(pkg: str) -> dict[str, set[str]]:
    base = importlib.import_module(pkg)
    submodules = {m.name for m in pkgutil.iter_modules(base.__path__)}
    out = {"__init__": {n for n in dir(base) if not n.startswith("_")} - submodules}
    for m in pkgutil.iter_modules(base.__path__):
        mod = importlib.import_module(f"{pkg}.{m.name}")
        out[m.name] = {
            n for n, v in vars(mod).items()
            if not n.startswith("_") and getattr(v, "__module__", None) == mod.__name__
        }
    return out


# Names that exist in one framework only, and why.
ONLY_TF = {
    # PyTorch's caching allocator takes GPU memory as needed already; TF must be told.
    ("__init__", "enable_memory_growth"),
    ("device", "enable_memory_growth"),
}


# Modules that exist in one framework only, and why.
ONLY_TORCH_MODULES = {
    "tensor_parallel": "TensorFlow's sharding API, tf.experimental.dtensor, is experimental "
    "(issue #23 asks for the split in NumPy on the TensorFlow side); chapter 09 shows it "
    "with bigmodel.distributed.model_parallel",
    "pipeline_parallel": "issue #23 asks for pipeline parallelism in PyTorch; its framework-"
    "neutral half (stages, the bubble) is bigmodel.distributed.model_parallel",
}


def test_torch_and_tf_mirror_each_other():
    t, f = public_names("bigmodel.torch"), public_names("bigmodel.tf")
    for module in ONLY_TORCH_MODULES:
        assert module in t and module not in f, f"{module} is listed as torch-only"
        del t[module]
    for module, name in ONLY_TF:
        assert name in f[module], f"{name} is listed as TF-only but bigmodel.tf.{module} lacks it"
        f[module].discard(name)
    assert sorted(t) == sorted(f), "the two packages must have the same modules"
    for module in t:
        assert t[module] == f[module], (
            f"{module}: only in torch {sorted(t[module] - f[module])}, "
            f"only in tf {sorted(f[module] - t[module])}"
        )


def test_pick_device_on_this_machine(monkeypatch):
    import torch

    import bigmodel.tf as btf
    import bigmodel.torch as bt

    monkeypatch.setenv("BIGMODEL_DEVICE", "cpu")
    assert bt.pick_device().type == "cpu"
    assert btf.pick_device() == "/CPU:0"
    monkeypatch.delenv("BIGMODEL_DEVICE")
    mps = torch.backends.mps.is_available()
    expected = "cuda" if torch.cuda.is_available() else ("mps" if mps else "cpu")
    assert bt.pick_device().type == expected
    assert "cpu" in bt.describe_device("cpu") and "CPU" in btf.describe_device("/CPU:0")
    assert bt.autocast_dtype("cpu") is None and btf.autocast_dtype("/CPU:0") is None
    for mod in (bt, btf):
        with pytest.raises(ValueError, match="is not a device name"):
            mod.pick_device("tpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="not available"):
            bt.pick_device("cuda")


def test_seed_everything_repeats_a_cpu_run():
    code = (
        "import bigmodel.{fw} as b, numpy as np\n"
        "rng = b.seed_everything(7)\n"
        "from bigmodel.{fw}.fcnn import FCNN, fit\n"
        "from bigmodel.numpy.fcnn import FCNNConfig\n"
        "x = rng.normal(size=(64, 5)).astype('float32'); y = rng.integers(0, 2, 64)\n"
        "h = fit(FCNN(FCNNConfig(5, 8, 2)), x, y, epochs=2, batch_size=8, show_progress=False)\n"
        "print(repr(h.loss))"
    )
    for fw in ("torch", "tf"):
        a, b = (run_python(code.format(fw=fw)) for _ in range(2))
        assert a.returncode == 0, a.stderr
        assert a.stdout == b.stdout and a.stdout.strip()


def test_every_notebook_starts_with_the_setup_cell():
    import json

    for nb in sorted((ROOT / "book").glob("*.ipynb")):
        cells = json.loads(nb.read_text())["cells"]
        first = next(c for c in cells if c["cell_type"] == "code")
        src = "".join(first["source"])
        assert "TF_CPP_MIN_LOG_LEVEL" in src and "TF_ENABLE_ONEDNN_OPTS" in src, nb.name
        assert "import bigmodel" in nb.read_text() or "from bigmodel" in nb.read_text(), nb.name


def test_atomic_write_leaves_the_old_file_on_failure(tmp_path):
    from bigmodel.files import atomic_write, atomic_write_text

    path = tmp_path / "f.txt"
    atomic_write_text(path, "old")

    def half(tmp):
        open(tmp, "w").write("half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, half)
    with pytest.raises(UnicodeEncodeError):
        atomic_write_text(path, "\ud800")
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["f.txt"]
    atomic_write_text(path, "new")
    assert path.read_text() == "new"
