"""The frameworks' public functions and methods refuse a bad integer or number, by name.

The same sweep as ``test_api_sweep.py``, over ``bigmodel.torch`` and ``bigmodel.tf``: the
modules come from the API page, the methods from the public classes (those defined in
``bigmodel``, inherited ones included, such as ``GPT.generate``). One table of valid
calls serves both frameworks, because their signatures mirror each other; a function
that exists in one framework only needs its own entry.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import re
from typing import Any

import numpy as np
import pytest
from test_api_sweep import bad_values, typed_parameters

from conftest import ROOT

FRAMEWORKS = ("torch", "tf")


def public_callables(fw: str) -> dict[str, Any]:
    """``"module.name"`` (and ``"module.Class.method"``) for one framework's public API."""
    mods = re.findall(rf"automodule:: (bigmodel\.{fw}[\w.]*)", (ROOT / "book" / "api.md").read_text())
    out = {}
    for m in dict.fromkeys(mods):
        mod = importlib.import_module(m)
        for name in getattr(mod, "__all__", [k for k in vars(mod) if not k.startswith("_")]):
            obj = getattr(mod, name, None)
            if not (callable(obj) and getattr(obj, "__module__", "") == mod.__name__):
                continue
            out[f"{m}.{name}"] = obj
            if inspect.isclass(obj):
                for meth_name, meth in inspect.getmembers(obj, callable):
                    if (not meth_name.startswith("_")
                            and getattr(meth, "__module__", "").startswith("bigmodel")):
                        out[f"{m}.{name}.{meth_name}"] = meth
    return out


def with_typed(fw: str) -> dict[str, dict[str, str]]:
    return {k: p for k, obj in public_callables(fw).items() if (p := typed_parameters(obj))}


def _gpt_config():
    from bigmodel.gpt import GPTConfig
    return GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8)


def _fcnn_config():
    from bigmodel.numpy.fcnn import FCNNConfig
    return FCNNConfig(n_in=4, n_hidden=3, n_out=2)


X = np.ones((4, 4), np.float32)
Y = np.array([0, 1, 0, 1])
TOKENS = np.arange(40) % 11
SIGNAL = (np.sin(np.arange(800) / 7.0) * 0.5).astype(np.float32)


@functools.cache
def calls(fw: str) -> dict[str, tuple[Any, dict[str, Any]]]:
    """``"module.name" -> (callable, keyword arguments of one valid call)`` for ``fw``."""
    pkg = f"bigmodel.{fw}"
    mod = functools.partial(lambda name: importlib.import_module(f"{pkg}.{name}"))
    gpt_mod, loop = mod("gpt"), mod("loop")
    from bigmodel.gpt import init_params
    from bigmodel.gpt_train import TrainConfig
    from bigmodel.lora import LoRAConfig

    cfg = _gpt_config()
    gparams = init_params(cfg, 0)
    model = gpt_mod.GPT(cfg, params=gparams)
    fcnn = mod("fcnn").FCNN(_fcnn_config())
    audio, efficient = mod("audio"), mod("efficient")
    tiny_train = TrainConfig(max_steps=1, batch_size=2, warmup_steps=0, eval_interval=1,
                             eval_iters=1)
    table = {
        "seed.seed_everything": (mod("seed").seed_everything, {"seed": 0}),
        "loop.evaluate": (loop.evaluate, {"model": fcnn, "x": X, "y": Y, "batch_size": 2}),
        "loop.fit": (loop.fit, {"model": fcnn, "x": X, "y": Y, "epochs": 1, "batch_size": 2,
                                "lr": 0.01, "seed": 0, "show_progress": False,
                                "optimizer": "sgd", "momentum": 0.9, "weight_decay": 0.01}),
        "loop.make_optimizer": (loop.make_optimizer, {"model": fcnn, "name": "adamw", "lr": 0.01,
                                                      "momentum": 0.9, "weight_decay": 0.01}),
        "loop.predict": (loop.predict, {"model": fcnn, "x": X, "batch_size": 2}),
        "audio.frame": (audio.frame, {"signal": SIGNAL, "n_fft": 256, "hop": 80}),
        "audio.hann_window": (audio.hann_window, {"n_fft": 256}),
        "audio.log_mel_spectrogram": (audio.log_mel_spectrogram, {
            "signal": SIGNAL, "sample_rate": 8000, "n_fft": 256, "hop": 80, "n_mels": 40,
            "f_min": 0.0, "f_max": 4000.0, "eps": 1e-10}),
        "audio.mel_filterbank": (audio.mel_filterbank, {"sample_rate": 8000, "n_fft": 256,
                                                        "n_mels": 40, "f_min": 0.0,
                                                        "f_max": 4000.0}),
        "audio.power_spectrum": (audio.power_spectrum, {"signal": SIGNAL, "n_fft": 256, "hop": 80}),
        "attention.multihead_attention": (mod("attention").multihead_attention, {
            "x": np.zeros((1, 4, 8)), "params": gparams, "prefix": "h.0.attn", "n_head": 2}),
        "attribution.integrated_gradients": (mod("attribution").integrated_gradients, {
            "model": fcnn, "x": X, "target": 1, "steps": 4}),
        "efficient.loss_and_grads": (efficient.loss_and_grads, {
            "model": model, "x": TOKENS[:16].reshape(2, 8), "y": TOKENS[1:17].reshape(2, 8),
            "micro_batches": 2}),
        "efficient.time_step": (efficient.time_step, {
            "model": model, "x": TOKENS[:16].reshape(2, 8), "y": TOKENS[1:17].reshape(2, 8),
            "repeats": 1}),
        "efficient.train_gpt": (efficient.train_gpt, {"model": gpt_mod.GPT(cfg, params=gparams),
                                                      "tokens": TOKENS, "steps": 1, "batch": 2,
                                                      "lr": 1e-3, "seed": 0}),
        "lora.LoRA": (mod("lora").LoRA, {"A": np.zeros((8, 2)), "B": np.zeros((2, 8)),
                                         "scale": 0.5}),
        "lora.add_lora": (mod("lora").add_lora, {"model": gpt_mod.GPT(cfg, params=gparams),
                                                 "lora": LoRAConfig(rank=2), "seed": 0}),
        "gpt.GPT": (gpt_mod.GPT, {"config": cfg, "seed": 0}),
        "encoder.Encoder": (mod("encoder").Encoder, {"config": cfg, "seed": 0,
                                                     "mask_rate": 0.15}),
        "encoder.Encoder.generate": (mod("encoder").Encoder(cfg, params=gparams).generate, {
            "idx": np.array([[1, 2]]), "max_new_tokens": 2, "temperature": 1.0, "top_k": 3,
            "top_p": 0.9, "rng": 0}),
        "classify.GPTClassifier": (mod("classify").GPTClassifier, {
            "gpt": gpt_mod.GPT(cfg, params=gparams), "n_out": 2, "length": 4, "seed": 0}),
        "gpt.causal_mask": (gpt_mod.causal_mask, {"T": 4, "past": 2}),
        "gpt.GPT.generate": (model.generate, {"idx": np.array([[1, 2]]), "max_new_tokens": 2,
                                              "temperature": 1.0, "top_k": 3, "top_p": 0.9,
                                              "rng": 0}),
        "gpt_train.train": (mod("gpt_train").train, {
            "model": gpt_mod.GPT(cfg, params=gparams), "train_tokens": TOKENS,
            "val_tokens": TOKENS, "cfg": tiny_train, "show_progress": False,
            "target_val_loss": 1.0}),
    }
    if fw == "torch":  # a PyTorch-only module (tests/test_packages.py, ONLY_TORCH_MODULES)
        table["tensor_parallel.reference"] = (mod("tensor_parallel").reference, {
            "config": cfg, "batch": 2, "seed": 0})
    return {f"{pkg}.{k}": v for k, v in table.items()}


#: Parameters left unswept on purpose, with the reason.
ON_PURPOSE = {
    "pipeline_parallel.gpipe_step": "one stage of a step between processes, which needs a "
                                    "process group: run by its command line in "
                                    "tests/test_pipeline_parallel.py, flags checked there",
    "efficient.peak_memory": "measures a fresh process's memory: run by its command line, "
                             "whose flags tests/test_command_lines.py sweeps",
}


def on_purpose(fw: str) -> set[str]:
    return {f"bigmodel.{fw}.{k}" for k in ON_PURPOSE}


@pytest.mark.parametrize("fw", FRAMEWORKS)
def test_every_typed_parameter_is_swept(fw):
    pytest.importorskip("tensorflow" if fw == "tf" else "torch")
    unswept = sorted(set(with_typed(fw)) - set(calls(fw)) - on_purpose(fw))
    assert not unswept, ("public functions with an int or float parameter and no valid call "
                         f"in tests/test_api_sweep_frameworks.py: {unswept}")


def test_methods_are_enumerated_too():
    """Null case: an inherited method of a public class (GPT.generate) is found."""
    pytest.importorskip("torch")
    assert "bigmodel.torch.gpt.GPT.generate" in with_typed("torch")


def cases() -> list[tuple[str, str, str, Any]]:
    out = []
    for fw in FRAMEWORKS:
        try:
            params = with_typed(fw)
        except ImportError:
            continue
        for name in sorted(set(params) - on_purpose(fw)):
            for p, kind in params[name].items():
                out += [(fw, name, p, bad) for bad in bad_values(p, kind)]
    return out


@pytest.mark.parametrize("fw", FRAMEWORKS)
def test_every_valid_call_runs(fw):
    pytest.importorskip("tensorflow" if fw == "tf" else "torch")
    for name, (fn, kwargs) in calls(fw).items():
        try:  # the null case of the sweep below
            fn(**kwargs)
        except Exception as exc:
            raise AssertionError(f"the valid call of {name} failed: {exc!r}") from exc


@pytest.mark.parametrize(("fw", "name", "param", "bad"), cases(), ids=lambda v: repr(v))
def test_a_bad_value_is_refused_by_name(fw, name, param, bad):
    fn, kwargs = calls(fw)[name]
    with pytest.raises((TypeError, ValueError)) as err:
        fn(**{**kwargs, param: bad})
    assert param in str(err.value), f"{name}({param}={bad!r}): the message does not name " \
        f"{param!r}: {err.value}"
