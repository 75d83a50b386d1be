"""Device names: any case, both frameworks' spellings, and a clear error for the rest."""

from __future__ import annotations

import os

import pytest
import tensorflow as tf
import torch

import bigmodel.tf as btf
import bigmodel.torch as bt
from bigmodel.hardware import parse_device

NO_CUDA = not torch.cuda.is_available()
NO_TF_GPU = not tf.config.list_physical_devices("GPU")


@pytest.mark.parametrize(
    ("spec", "parsed"),
    [
        ("cpu", ("cpu", 0)),
        ("Cpu", ("cpu", 0)),
        (" CUDA ", ("cuda", 0)),
        ("cuda:1", ("cuda", 1)),
        ("gpu", ("cuda", 0)),
        ("/GPU:2", ("cuda", 2)),
        ("/device:GPU:0", ("cuda", 0)),
        ("/CPU:0", ("cpu", 0)),
        ("mps", ("mps", 0)),
    ],
)
def test_parse_device(spec, parsed):
    assert parse_device(spec) == parsed


@pytest.mark.parametrize("spec", ["cuda:x", "tpu", "cuda:-1", "", "cpu:1", "cuda 0"])
def test_bad_names_list_the_accepted_ones(spec):
    with pytest.raises(ValueError, match=r"cpu|only one"):
        parse_device(spec, "BIGMODEL_DEVICE")


@pytest.mark.parametrize("mod", [bt, btf], ids=["torch", "tf"])
def test_environment_variable_in_any_case(mod, monkeypatch):
    monkeypatch.setenv("BIGMODEL_DEVICE", "Cpu")
    device = mod.pick_device()
    assert str(device) in ("cpu", "/CPU:0")


@pytest.mark.parametrize("mod", [bt, btf], ids=["torch", "tf"])
def test_a_malformed_environment_variable_is_named(mod, monkeypatch):
    monkeypatch.setenv("BIGMODEL_DEVICE", "cuda:x")
    with pytest.raises(ValueError, match=r"BIGMODEL_DEVICE='cuda:x' is not a device name"):
        mod.pick_device()


@pytest.mark.skipif(not (NO_CUDA and NO_TF_GPU), reason="needs a machine without a GPU")
@pytest.mark.parametrize("mod", [bt, btf], ids=["torch", "tf"])
@pytest.mark.parametrize("call", ["pick_device", "describe_device", "autocast_dtype", "precision"])
@pytest.mark.parametrize("spec", ["cuda", "/GPU:0", "cuda:3"])
def test_asking_about_a_missing_gpu_is_an_error_not_an_answer(mod, call, spec):
    """autocast_dtype('cuda') used to say float16 and describe_device('cuda') 'cuda (2 threads)'."""
    with pytest.raises(RuntimeError, match="not available here|sees 0 GPU"):
        getattr(mod, call)(spec)


@pytest.mark.parametrize("mod", [bt, btf], ids=["torch", "tf"])
def test_cpu_answers(mod):
    assert mod.autocast_dtype("CPU") is None
    assert mod.precision("CPU") == "float32" or os.environ.get("BIGMODEL_PRECISION")
    assert "threads" in mod.describe_device("cpu")
