"""Every public function of the core refuses an integer or a number that is not one.

The public API is enumerated from the API page (every ``automodule`` of the core, each
module's ``__all__``), so a new function is covered by default: one with an ``int`` or
``float`` parameter must get a valid call in :data:`CALLS` (or a reason in
:data:`ON_PURPOSE`), or :func:`test_every_typed_parameter_is_swept` fails and names it.
Each call is then made again with bad values in place of each such parameter (a bool, a
float and a string for an integer; a bool, a string and NaN for a number; -0.1 and 1.5 for
a share) and must fail with a ``TypeError`` or ``ValueError`` whose message names the
parameter: never a silent wrong result (``True`` read as 1, ``2.5`` truncated, a share of
1.5) and never a riddle from inside NumPy.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import ROOT

BAD_VALUES = {
    "int": (True, 2.5, "3"),
    "float": (True, "0.5", float("nan")),
}
#: Parameters that are shares (fractions of a whole): outside [0, 1] is refused too.
SHARE = re.compile(r"share|fraction|dropout|mfu|top_p|utilisation")
BAD_SHARES = (-0.1, 1.5)


def public_callables() -> dict[str, Any]:
    """``"module.name" -> object`` for the core's public functions and classes."""
    mods = re.findall(r"automodule:: (bigmodel[\w.]*)", (ROOT / "book" / "api.md").read_text())
    out = {}
    for m in dict.fromkeys(mods):
        if m.startswith(("bigmodel.torch", "bigmodel.tf")):
            continue  # the frameworks' twins are swept through their own contract tests
        mod = importlib.import_module(m)
        for name in getattr(mod, "__all__", [k for k in vars(mod) if not k.startswith("_")]):
            obj = getattr(mod, name, None)
            if callable(obj) and getattr(obj, "__module__", "") == mod.__name__:
                out[f"{m}.{name}"] = obj
    return out


def typed_parameters(obj: Any) -> dict[str, str]:
    """``{parameter: "int" or "float"}`` for the parameters annotated ``int``, ``float``
    (or either ``| None``)."""
    target = obj.__init__ if inspect.isclass(obj) else obj
    if inspect.isclass(obj) and "__init__" not in vars(obj):
        return {}
    try:
        sig = inspect.signature(target)
    except (TypeError, ValueError):
        return {}
    out = {}
    for p in sig.parameters.values():
        if isinstance(p.annotation, str) and (m := re.fullmatch(r"(int|float)( \| None)?",
                                                                p.annotation)):
            out[p.name] = m.group(1)
    return out


def bad_values(param: str, kind: str) -> tuple[Any, ...]:
    return BAD_VALUES[kind] + (BAD_SHARES if kind == "float" and SHARE.search(param) else ())


def _gpt():
    from bigmodel.gpt import GPTConfig, init_params
    cfg = GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8)
    return cfg, init_params(cfg, 0)


def _fcnn():
    from bigmodel.numpy.fcnn import FCNNConfig, init_params
    cfg = FCNNConfig(n_in=4, n_hidden=3, n_out=2)
    return cfg, init_params(cfg, 0)


def _uniform_logprobs(ids: np.ndarray) -> np.ndarray:
    return np.full(ids.shape + (11,), -np.log(11.0))


def _wav_bytes() -> bytes:
    import io
    import wave
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(np.zeros(400, np.int16).tobytes())
    return buf.getvalue()


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tmp(name: str) -> str:
    import tempfile
    return str(Path(tempfile.mkdtemp(prefix="sweep-")) / name)


def _closing(plot):
    """A plotting function whose figure is closed once made (the sweep makes many)."""
    def run(**kwargs):
        import matplotlib.pyplot as plt
        plt.close(plot(**kwargs))
    run.__wrapped__ = plot
    return run


def _jobs():
    from bigmodel.budget import Job
    return [Job("j", 1e12, steps=10)]


def _launch_args(name: str) -> tuple[list[str], str]:
    """A command that writes ``results.json`` into a fresh folder, and the folder."""
    import sys
    out = _tmp(name)
    code = f"from pathlib import Path; Path({out!r}).joinpath('results.json').write_text('{{}}')"
    return [sys.executable, "-c", code], out


class _Encoder:
    """Stands in for the sentence encoder: embed's own work is the batching and the dtype."""

    def encode(self, texts, batch_size, **kwargs):
        if not isinstance(batch_size, int) or batch_size < 1:
            raise AssertionError("embed passed on a bad batch_size")
        return np.ones((len(texts), 3))


TOKENS = np.arange(40) % 11
RNG = np.random.default_rng
SIGNAL = np.sin(np.arange(800) / 7.0) * 0.5


def _masked_cfg():
    from bigmodel.gpt import GPTConfig

    return GPTConfig(vocab_size=12, block_size=8, n_layer=1, n_head=2, n_embd=8)  # [MASK]: 11


class _ZeroModel:
    """A stand-in model for the scoring functions: uniform logits."""

    config = _masked_cfg()

    def logits(self, idx):
        return np.zeros((*np.shape(idx), 12), np.float32)

    def next_logits(self, idx):
        return np.zeros((len(idx), 12), np.float32)


@functools.cache
def calls() -> dict[str, tuple[Any, dict[str, Any]]]:
    """``"module.name" -> (callable, keyword arguments of one valid call)``."""
    from bigmodel import (
        augment,
        book,
        budget,
        canary,
        classify,
        encoder,
        finetune,
        gpt,
        gpt_train,
        hardware,
        inputs,
        lora,
        plotting,
        pretrained,
        seed,
        train,
        training,
    )
    from bigmodel.data import fetching, fsdd
    from bigmodel.distributed import costs, launcher, memory, model_parallel, worker
    from bigmodel.numpy import attention, attribution, audio, cnn, fcnn
    from bigmodel.numpy import gpt as np_gpt
    from bigmodel.numpy import lora as np_lora
    from bigmodel.text import bow, bpe, poet_pair, poet_split
    from bigmodel.text.tokenizer import CharTokenizer

    gcfg, gparams = _gpt()
    fcfg, fparams = _fcnn()
    x3 = np.zeros((1, 4, 8))
    launch_cmd, launch_out = _launch_args("launch")
    workers_cmd, workers_out = _launch_args("workers")
    return {
        "bigmodel.numpy.fcnn.FCNNConfig": (fcnn.FCNNConfig, {"n_in": 4, "n_hidden": 3, "n_out": 2}),
        "bigmodel.numpy.fcnn.one_hot": (fcnn.one_hot, {"y": np.array([0, 1]), "k": 3}),
        "bigmodel.numpy.cnn.CNNConfig": (cnn.CNNConfig, {"height": 28, "width": 28, "in_channels": 1,
                                                         "kernel_size": 3, "n_out": 10}),
        "bigmodel.numpy.cnn.conv_output_size": (cnn.conv_output_size, {"size": 28, "kernel": 3,
                                                                       "stride": 1}),
        "bigmodel.numpy.cnn.same_padding": (cnn.same_padding, {"size": 28, "kernel": 3, "stride": 1}),
        "bigmodel.numpy.audio.check_length": (audio.check_length, {"shape": (800,), "n_fft": 256}),
        "bigmodel.numpy.audio.check_signal": (audio.check_signal, {"signal": SIGNAL, "n_fft": 256}),
        "bigmodel.numpy.audio.frame": (audio.frame, {"signal": SIGNAL, "n_fft": 256, "hop": 80}),
        "bigmodel.numpy.audio.hann_window": (audio.hann_window, {"n_fft": 256}),
        "bigmodel.numpy.audio.log_mel_spectrogram": (audio.log_mel_spectrogram, {
            "signal": SIGNAL, "sample_rate": 8000, "n_fft": 256, "hop": 80, "n_mels": 40}),
        "bigmodel.numpy.audio.mel_filterbank": (audio.mel_filterbank, {"sample_rate": 8000,
                                                                       "n_fft": 256, "n_mels": 40}),
        "bigmodel.numpy.audio.n_frames": (audio.n_frames, {"n_samples": 800, "n_fft": 256, "hop": 80}),
        "bigmodel.numpy.audio.power_spectrum": (audio.power_spectrum, {"signal": SIGNAL, "n_fft": 256,
                                                                       "hop": 80}),
        "bigmodel.numpy.attention.causal_mask": (attention.causal_mask, {"T": 4}),
        "bigmodel.numpy.attention.multi_head_attention": (attention.multi_head_attention, {
            "x": x3, "params": gparams, "prefix": "h.0.attn", "n_head": 2}),
        "bigmodel.numpy.attention.softmax": (attention.softmax, {"z": np.zeros((2, 3)), "axis": -1}),
        "bigmodel.numpy.gpt.block": (np_gpt.block, {"x": x3, "params": gparams, "i": 0,
                                                    "config": gcfg}),
        "bigmodel.numpy.attribution.check_target": (attribution.check_target, {"target": 1, "n": 2,
                                                                               "n_out": 2}),
        "bigmodel.numpy.attribution.integrated_gradients": (attribution.integrated_gradients, {
            "params": fparams, "config": fcfg, "x": np.ones((2, 4)), "target": 1, "steps": 4}),
        "bigmodel.numpy.attribution.repeat_target": (attribution.repeat_target, {"target": 1, "n": 2}),
        "bigmodel.gpt.GPTConfig": (gpt.GPTConfig, {"vocab_size": 11, "block_size": 8, "n_layer": 1,
                                                   "n_head": 2, "n_embd": 8}),
        "bigmodel.gpt.check_sampling": (gpt.check_sampling, {"temperature": 1.0, "top_k": 3,
                                                             "top_p": None}),
        "bigmodel.gpt.check_tokens": (gpt.check_tokens, {"tokens": TOKENS, "block_size": 8,
                                                         "vocab_size": 11}),
        "bigmodel.gpt.sample_next": (gpt.sample_next, {"logits": np.zeros((1, 11)), "rng": RNG(0),
                                                       "top_k": 3}),
        "bigmodel.gpt_train.TrainConfig": (gpt_train.TrainConfig, {
            "max_steps": 10, "batch_size": 2, "warmup_steps": 1, "eval_interval": 5,
            "eval_iters": 1, "seed": 0}),
        "bigmodel.gpt_train.bigram_loss": (gpt_train.bigram_loss, {"train": TOKENS, "val": TOKENS,
                                                                   "vocab_size": 11}),
        "bigmodel.gpt_train.eval_batches": (gpt_train.eval_batches, {
            "train": TOKENS, "val": TOKENS, "batch_size": 2, "block_size": 8, "n": 1, "seed": 0}),
        "bigmodel.gpt_train.get_batch": (gpt_train.get_batch, {"tokens": TOKENS, "batch_size": 2,
                                                               "block_size": 8, "rng": RNG(0)}),
        "bigmodel.gpt_train.lr_at": (gpt_train.lr_at, {"step": 3, "max_lr": 1e-3, "warmup_steps": 2,
                                                       "max_steps": 10}),
        "bigmodel.augment.flip_labels": (augment.flip_labels, {"y": np.arange(10) % 3, "share": 0.2,
                                                               "n_classes": 3, "rng": 0}),
        "bigmodel.augment.random_augment": (augment.random_augment, {
            "images": np.zeros((2, 784)), "rng": 0, "max_shift": 2}),
        "bigmodel.budget.gpt_step": (budget.gpt_step, {"config": gcfg, "batch_size": 2}),
        "bigmodel.training.batch_indices": (training.batch_indices, {"n": 10, "batch_size": 3,
                                                                     "rng": None}),
        "bigmodel.distributed.costs.allreduce_bytes": (costs.allreduce_bytes, {
            "n_params": 1000, "world_size": 2, "bytes_per_value": 4}),
        "bigmodel.distributed.costs.zero_memory_per_device": (costs.zero_memory_per_device, {
            "n_params": 1e6, "world_size": 2, "stage": 1, "param_bytes": 2, "grad_bytes": 2,
            "optimizer_bytes": 12}),
        "bigmodel.distributed.costs.gpu_days": (costs.gpu_days, {"flops": 1e18, "peak_flops": 1e14,
                                                                 "mfu": 0.4, "n_gpus": 8}),
        "bigmodel.distributed.worker.check_world_size": (worker.check_world_size, {
            "world_size": 2, "global_batch": 4, "expected": 2}),
        "bigmodel.distributed.worker.batch_rows": (worker.batch_rows, {
            "n_rows": 20, "global_batch": 4, "step": 0, "seed": 0, "rank": 0, "world_size": 2}),
        "bigmodel.distributed.worker.check_micro_batches": (worker.check_micro_batches, {
            "micro_batches": 2, "batch": 4}),
        "bigmodel.canary.all_secrets": (canary.all_secrets, {"n_digits": 2}),
        "bigmodel.canary.exposure": (canary.exposure, {"scores": [3.0, 1.0, 2.0], "index": 1}),
        "bigmodel.canary.mean_random_exposure": (canary.mean_random_exposure, {"n_candidates": 100}),
        "bigmodel.book.glue_count": (book.glue_count, {"name": "n", "count": 174.6e9,
                                                       "unit": 1e9, "decimals": 1}),
        "bigmodel.budget.Job": (budget.Job, {"name": "j", "flops": 1e12, "steps": 10}),
        "bigmodel.canary.secret_log_perplexity": (canary.secret_log_perplexity, {
            "logprobs": _uniform_logprobs, "prefix": [1, 2], "candidates": np.array([[3, 4]]),
            "block_size": 8, "batch_size": 4}),
        "bigmodel.data.fsdd.read_wav": (fsdd.read_wav, {"source": _wav_bytes(), "sample_rate": 8000}),
        "bigmodel.distributed.launcher.check_port_free": (launcher.check_port_free,
                                                          {"port": _free_port()}),
        "bigmodel.distributed.launcher.port_in_use": (launcher.port_in_use, {"port": _free_port()}),
        "bigmodel.distributed.launcher.tf_config": (launcher.tf_config, {"port_list": [2222, 2223],
                                                                          "index": 1}),
        "bigmodel.distributed.launcher.torchrun_command": (launcher.torchrun_command, {
            "module": "m", "args": [], "nproc": 2, "port": 29500, "nnodes": 1, "node_rank": 0}),
        "bigmodel.distributed.memory.median_seconds": (memory.median_seconds, {"fn": lambda: None,
                                                                               "repeats": 3}),
        "bigmodel.distributed.memory.return_freed_memory": (memory.return_freed_memory, {
            "threshold_bytes": 131072}),
        "bigmodel.distributed.memory.step_peak_memory": (memory.step_peak_memory, {
            "step": lambda x, y: 0.0, "config": gcfg, "batch": 2, "seed": 0}),
        "bigmodel.distributed.worker.init_weights": (worker.init_weights, {"config": gcfg, "seed": 0}),
        "bigmodel.distributed.worker.save_train_state": (worker.save_train_state, {
            "path": _tmp("state.safetensors"), "params": {"w": np.zeros(2, np.float32)},
            "momentum": {"w": np.zeros(2, np.float32)}, "step": 3}),
        "bigmodel.gpt_train.train_loop": (gpt_train.train_loop, {
            "step": lambda x, y, lr: 0.0, "evaluate": lambda batches: 0.0, "sync": lambda loss: None,
            "train_tokens": TOKENS, "val_tokens": TOKENS,
            "cfg": gpt_train.TrainConfig(max_steps=2, batch_size=2, warmup_steps=1, eval_interval=1,
                                         eval_iters=1),
            "block_size": 8, "vocab_size": 11, "show_progress": False}),
        "bigmodel.inputs.features": (inputs.features, {"x": np.zeros((2, 4)), "n_in": 4}),
        "bigmodel.inputs.labels": (inputs.labels, {"y": np.array([0, 1]), "n": 2, "n_out": 2}),
        "bigmodel.numpy.attribution.integrated_gradients_of": (attribution.integrated_gradients_of, {
            "grad": lambda x, t: np.ones_like(x), "x": np.ones((2, 4)), "target": 1, "steps": 4}),
        "bigmodel.plotting.confusion_matrix": (plotting.confusion_matrix, {
            "y_true": np.array([0, 1]), "y_pred": np.array([1, 1]), "k": 2}),
        "bigmodel.plotting.plot_activations": (_closing(plotting.plot_activations), {"num": 11}),
        "bigmodel.plotting.plot_image_grid": (_closing(plotting.plot_image_grid), {
            "images": np.zeros((3, 16)), "ncols": 2, "image_shape": (4, 4)}),
        "bigmodel.plotting.plot_misclassified": (_closing(plotting.plot_misclassified), {
            "x": np.zeros((3, 784)), "y_true": np.array([0, 1, 2]), "y_pred": np.array([1, 1, 0]),
            "n": 2, "ncols": 2}),
        "bigmodel.plotting.plot_weight_images": (_closing(plotting.plot_weight_images), {
            "W1": np.zeros((16, 3)), "n": 2, "ncols": 2, "image_shape": (4, 4)}),
        "bigmodel.pretrained.embed": (pretrained.embed, {"encoder": _Encoder(), "texts": ["a", "b"],
                                                         "batch_size": 2}),
        "bigmodel.seed.seed_python_numpy": (seed.seed_python_numpy, {"seed": 0}),
        "bigmodel.text.bow.train_test_split": (bow.train_test_split, {"n": 10, "test_fraction": 0.2}),
        "bigmodel.text.bpe.train_bpe": (bpe.train_bpe, {"text": "hello world " * 20,
                                                        "vocab_size": 260}),
        "bigmodel.text.poet_split.split_poet": (poet_split.split_poet, {
            "authors": ["甲", "甲", "乙"], "paragraphs": [["一二三四五"], ["六七八九十"], ["百"]],
            "poet": "甲", "n_test": 1, "seed": 0}),
        "bigmodel.text.poet_pair.two_poets": (poet_pair.two_poets, {
            "authors": ["甲", "甲", "乙", "乙"], "paragraphs": [["一"], ["二"], ["三"], ["四"]],
            "poets": ("甲", "乙"), "n_test": 1, "seed": 0}),
        "bigmodel.classify.ClassifierConfig": (classify.ClassifierConfig, {
            "gpt": gcfg, "length": 4, "n_out": 2}),
        "bigmodel.classify.check_head": (classify.check_head, {
            "head": classify.init_head(8, 2), "n_embd": 8, "n_out": 2}),
        "bigmodel.classify.init_head": (classify.init_head, {"n_embd": 8, "n_out": 2,
                                                             "seed": 0}),
        "bigmodel.classify.opening_ids": (classify.opening_ids, {
            "texts": ["abcd", "ab"], "tokenizer": CharTokenizer.from_text("abcd"),
            "length": 3}),
        "bigmodel.encoder.check_unmasked": (encoder.check_unmasked, {"tokens": TOKENS,
                                                                     "mask": 11}),
        "bigmodel.encoder.mask_windows": (encoder.mask_windows, {
            "x": TOKENS[:16].reshape(2, 8), "rng": RNG(0), "mask": 11, "rate": 0.15}),
        "bigmodel.encoder.fill_windows": (encoder.fill_windows, {
            "tokens": TOKENS, "n": 3, "config": _masked_cfg(), "rng": RNG(0)}),
        "bigmodel.encoder.next_char_windows": (encoder.next_char_windows, {
            "tokens": TOKENS, "n": 3, "config": _masked_cfg(), "rng": RNG(0)}),
        "bigmodel.encoder.score_fill_encoder": (encoder.score_fill_encoder, {
            "model": _ZeroModel(), "windows": np.ones((3, 8), np.int64),
            "answers": np.ones(3, np.int64), "middle": 4, "batch_size": 2}),
        "bigmodel.encoder.score_fill_left": (encoder.score_fill_left, {
            "model": _ZeroModel(), "windows": np.ones((3, 8), np.int64),
            "answers": np.ones(3, np.int64), "middle": 4, "batch_size": 2}),
        "bigmodel.encoder.score_fill_both_sides": (encoder.score_fill_both_sides, {
            "model": _ZeroModel(), "windows": np.ones((3, 8), np.int64),
            "answers": np.ones(3, np.int64), "middle": 4, "batch_size": 24}),
        "bigmodel.encoder.score_next": (encoder.score_next, {
            "model": _ZeroModel(), "contexts": np.ones((3, 7), np.int64),
            "answers": np.ones(3, np.int64), "batch_size": 2}),
        "bigmodel.finetune.pool_parts": (finetune.pool_parts, {"pool": ["a", "b", "c"],
                                                               "val_share": 0.2}),
        "bigmodel.finetune.windows": (finetune.windows, {"ids": TOKENS, "block_size": 4,
                                                         "batch_size": 2}),
        "bigmodel.train.CheckBatches": (train.CheckBatches, {"n": 2, "batch_size": 2, "seed": 0}),
        "bigmodel.train.check_batches": (train.check_batches, {"val_ids": TOKENS, "block_size": 8}),
        "bigmodel.book.glue": (book.glue, {"name": "n", "value": 1.0, "display": False,
                                           "rtol": 0.01, "atol": 0.0}),
        "bigmodel.book.zh_count": (book.zh_count, {"count": 174.6e9, "resolution": 1e8}),
        "bigmodel.budget.cnn_flops": (budget.cnn_flops, {"config": cnn.CNNConfig(), "samples": 10.0}),
        "bigmodel.budget.dense_flops": (budget.dense_flops, {"layer_sizes": [4, 3, 2],
                                                             "samples": 10.0}),
        "bigmodel.budget.gpt_flops": (budget.gpt_flops, {"config": gcfg, "tokens": 100.0}),
        "bigmodel.budget.predict_seconds": (budget.predict_seconds, {"jobs": _jobs(),
                                                                     "utilisation": 0.25}),
        "bigmodel.budget.report": (budget.report, {"jobs": _jobs(), "utilisation": 0.25}),
        "bigmodel.budget.seconds": (budget.seconds, {"jobs": _jobs(), "utilisation": 0.25}),
        "bigmodel.data.fetching.fetch": (fetching.fetch, {"name": "tinyshakespeare",
                                                          "download": False, "timeout": 5.0}),
        "bigmodel.distributed.launcher.launch": (launcher.launch, {
            "cmd": launch_cmd, "out": launch_out, "timeout": 60.0}),
        "bigmodel.distributed.launcher.launch_workers": (launcher.launch_workers, {
            "cmds": [workers_cmd], "out": workers_out, "timeout": 60.0}),
        "bigmodel.distributed.model_parallel.check_tensor_parallel": (
            model_parallel.check_tensor_parallel, {"config": gcfg, "world_size": 2}),
        "bigmodel.distributed.model_parallel.random_batch": (
            model_parallel.random_batch, {"config": gcfg, "batch": 2, "seed": 0}),
        "bigmodel.distributed.model_parallel.stage_layers": (
            model_parallel.stage_layers, {"n_layer": 4, "n_stages": 2}),
        "bigmodel.distributed.model_parallel.bubble_fraction": (
            model_parallel.bubble_fraction, {"n_stages": 2, "n_micro": 4}),
        "bigmodel.distributed.model_parallel.qkv_columns": (
            model_parallel.qkv_columns, {"config": gcfg, "world_size": 2}),
        "bigmodel.distributed.model_parallel.tensor_parallel_block": (
            model_parallel.tensor_parallel_block, {"x": x3, "params": gparams, "i": 0,
                                                   "config": gcfg, "world_size": 2}),
        "bigmodel.distributed.model_parallel.tensor_parallel_traffic": (
            model_parallel.tensor_parallel_traffic, {"config": gcfg, "batch": 2,
                                                     "world_size": 2, "bytes_per_value": 4}),
        "bigmodel.lora.LoRAConfig": (lora.LoRAConfig, {"rank": 2, "alpha": 4.0}),
        "bigmodel.lora.adam_state_bytes": (lora.adam_state_bytes, {"n_trainable": 10,
                                                                   "bytes_per_value": 4}),
        "bigmodel.lora.init_adapters": (lora.init_adapters, {
            "config": gcfg, "lora": lora.LoRAConfig(rank=2), "seed": 0}),
        "bigmodel.numpy.lora.lora_linear": (np_lora.lora_linear, {
            "x": np.ones((2, 4)), "weight": np.ones((4, 3)), "bias": None, "A": np.ones((4, 2)),
            "B": np.ones((2, 3)), "scale": 0.5}),
        "bigmodel.gpt.mfu": (gpt.mfu, {"tokens_per_second": 1e4, "config": gcfg, "peak": 1e12}),
        "bigmodel.gpt.training_flops": (gpt.training_flops, {"n_params": 1e6, "n_tokens": 1e9}),
        "bigmodel.hardware.GPUSpec": (hardware.GPUSpec, {"name": "X", "capability": (8, 0),
                                                         "bandwidth": 1e12}),
        "bigmodel.numpy.audio.check_peak": (audio.check_peak, {"peak": 0.5}),
        "bigmodel.numpy.fcnn.numerical_grads": (fcnn.numerical_grads, {
            "params": fparams, "x": np.ones((2, 4)), "y": np.array([0, 1]), "config": fcfg,
            "loss": "cross_entropy", "eps": 1e-6}),
        "bigmodel.numpy.gpt.layer_norm": (np_gpt.layer_norm, {"x": np.ones((2, 4)),
                                                              "gain": np.ones(4), "bias": None,
                                                              "eps": 1e-5}),
        "bigmodel.train.split_ids": (train.split_ids, {"ids": TOKENS, "train_share": 0.9}),
        "bigmodel.canary.rank": (canary.rank, {"scores": [3.0, 1.0, 2.0], "index": 1}),
    }


#: Integer parameters left unswept on purpose, with the reason.
ON_PURPOSE = {
    "bigmodel.gpt_train.TrainHistory": "a record the training loop fills, not an input",
    "bigmodel.data.fsdd.FSDD": "built by load_fsdd from checked files, not by readers",
    "bigmodel.text.poet_pair.PoetPair": "built by two_poets, not by readers",
    "bigmodel.text.poet_split.PoetSplit": "built by split_poet, not by readers (its pool(n) "
                                          "is tested in tests/test_poet_split.py)",
    "bigmodel.budget.StepCost": "a measured cost table of the budget, not an input",
    "bigmodel.finetune.run_grid": "the commands' loop, which writes a record: its jobs is "
                                  "swept through their --jobs flag (test_command_lines.py)",
    "bigmodel.encoder.Score": "a result the scoring functions return, not an input",
    "bigmodel.finetune.RunSummary": "built by summarize from a record, not by readers "
                                    "(tested in tests/test_finetune.py)",
    "bigmodel.distributed.worker.inject_fault": "a test hook of the fault-tolerance tests",
    "bigmodel.gpt_base.KVCache": "made by generate() from the model's own config",
    "bigmodel.inputs.integer": "the checker itself: its bounds come from the library's code",
    "bigmodel.inputs.number": "the checker itself: its bounds come from the library's code",
    "bigmodel.flags.integer_flag": "a flag type: its bounds come from the library's code "
                                   "(tests/test_command_lines.py sweeps the flags)",
    "bigmodel.flags.number_flag": "a flag type: its bounds come from the library's code "
                                  "(tests/test_command_lines.py sweeps the flags)",
}

#: Not yet swept: each needs a valid call above (this list may only shrink).
BACKLOG: set[str] = set()


def with_typed() -> dict[str, dict[str, str]]:
    return {k: p for k, obj in public_callables().items() if (p := typed_parameters(obj))}


def test_every_typed_parameter_is_swept():
    unswept = sorted(set(with_typed()) - set(calls()) - set(ON_PURPOSE) - BACKLOG)
    assert not unswept, ("public functions with an int or float parameter and no valid call "
                         f"in tests/test_api_sweep.py CALLS: {unswept}")
    stale = sorted((set(calls()) | set(ON_PURPOSE)) & BACKLOG)
    assert not stale, f"swept now, so strike them from BACKLOG: {stale}"


def test_the_enumeration_finds_a_new_function():
    """Null case: a new function's parameters are found from their annotations alone."""
    def new_function(x: np.ndarray, n: int, share: float = 0.5, top_p: float | None = None,
                     name: str = "") -> None: ...
    assert typed_parameters(new_function) == {"n": "int", "share": "float", "top_p": "float"}
    assert bad_values("share", "float")[-2:] == BAD_SHARES
    assert bad_values("lr", "float") == BAD_VALUES["float"]


def cases() -> list[tuple[str, str, Any]]:
    params = with_typed()
    return [(name, p, bad) for name in sorted(calls()) for p, kind in params.get(name, {}).items()
            for bad in bad_values(p, kind)]


@pytest.mark.parametrize("name", sorted(calls()))
def test_every_valid_call_runs(name):
    """The null case of every sweep below: the valid call itself works."""
    from bigmodel.data import DataNotFoundError

    fn, kwargs = calls()[name]
    try:
        fn(**kwargs)
    except DataNotFoundError:
        pytest.skip("the data sets are not here (make test points BIGMODEL_DATA at them)")


@pytest.mark.parametrize(("name", "param", "bad"), cases(), ids=lambda v: repr(v))
def test_a_bad_value_is_refused_by_name(name, param, bad):
    fn, kwargs = calls()[name]
    with pytest.raises((TypeError, ValueError)) as err:
        fn(**{**kwargs, param: bad})
    assert param in str(err.value), f"{name}({param}={bad!r}): the message does not name " \
        f"{param!r}: {err.value}"
