"""Data parallelism on real engines: equality with one big batch, accumulation, faults, resume.

Every run is a subprocess with a timeout (:func:`bigmodel.distributed.launch`): a broken
worker fails the test with its message, it never hangs the suite.

Equality tolerance: after ``STEPS`` steps, the weights of N processes with ``b`` examples
each and of one process with ``N·b`` agree to ``RTOL`` of each tensor's largest value
(``max|a - b| / max|b|``). The sums are the same up to float32 rounding in another
order; seen here: about 1e-7 (FCNN) and 6e-7 (GPT).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bigmodel import distributed as dist
from bigmodel.gpt import CONFIGS

RTOL = 1e-5
STEPS = 4
PY = sys.executable
TORCH = "bigmodel.torch.distributed"
TF = "bigmodel.tf.distributed"


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    """Small synthetic data sets: FCNN rows and GPT tokens."""
    root = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    np.savez(root / "fcnn.npz", x=rng.random((256, 784), dtype=np.float32),
             y=rng.integers(0, 10, 256))
    np.savez(root / "gpt.npz", tokens=rng.integers(0, 65, 4000))
    return {"fcnn": root / "fcnn.npz", "gpt:nano": root / "gpt.npz"}


def args(model: str, data: dict, out: Path, batch: int, *extra: str) -> list[str]:
    return ["--model", model, "--data", str(data[model]), "--out", str(out),
            "--steps", str(STEPS), "--batch", str(batch), *extra]


def torchrun(nproc: int, argv: list[str], out: Path, timeout: float = 60) -> dict:
    cmd = dist.torchrun_command(TORCH, argv, nproc, dist.free_port())
    return dist.launch(cmd, out, timeout)


def weights(result: dict) -> dict[str, np.ndarray]:
    with np.load(result["weights"]) as f:
        return {k: f[k] for k in f.files}


@pytest.fixture(scope="module")
def single(data, tmp_path_factory) -> dict:
    """One process with the global batch of 16, per model (PyTorch): the reference."""
    out = {}
    for model in data:
        d = tmp_path_factory.mktemp(model.replace(":", "_"))
        out[model] = dist.launch([PY, "-m", TORCH, *args(model, data, d, 16)], d, 60)
    return out


# ---------------------------------------------------------------- arithmetic


def test_allreduce_bytes_ring():
    assert dist.allreduce_bytes(1000, 1) == 0
    assert dist.allreduce_bytes(1000, 2) == 4000  # 2·(1/2)·1000·4
    assert dist.allreduce_bytes(1000, 4, bytes_per_value=2) == 3000
    with pytest.raises(ValueError, match="world_size"):
        dist.allreduce_bytes(1000, 0)


def test_zero_memory_matches_the_paper():
    # Rajbhandari et al. (2020), Figure 1: 7.5B parameters, 64 GPUs, K = 12.
    gb = [dist.zero_memory_per_device(7.5e9, 64, s) / 1e9 for s in dist.ZERO_STAGES]
    assert gb[0] == pytest.approx(120) and gb[1] == pytest.approx(31.4, abs=0.05)
    assert gb[2] == pytest.approx(16.6, abs=0.05) and gb[3] == pytest.approx(1.875)
    with pytest.raises(ValueError, match="stage"):
        dist.zero_memory_per_device(1e9, 8, 4)


def test_gpu_days():
    assert dist.gpu_days(86_400e12, 1e12, 1.0) == pytest.approx(1.0)
    assert dist.gpu_days(86_400e12, 1e12, 0.5, n_gpus=2) == pytest.approx(1.0)
    for bad in (0, 1.5):
        with pytest.raises(ValueError, match="mfu"):
            dist.gpu_days(1e20, 1e12, bad)


def test_batch_rows_split_the_global_batch():
    whole = dist.batch_rows(100, 12, step=3, seed=1)
    parts = [dist.batch_rows(100, 12, 3, 1, rank=r, world_size=3) for r in range(3)]
    assert np.array_equal(np.concatenate(parts), whole)
    assert not np.array_equal(dist.batch_rows(100, 12, 4, 1), whole)  # another step
    with pytest.raises(ValueError, match="does not split over 5"):
        dist.batch_rows(100, 12, 0, 0, rank=0, world_size=5)


def test_world_size_checks():
    with pytest.raises(ValueError, match="mismatch.*2 processes.*expects 4"):
        dist.check_world_size(2, expected=4)
    with pytest.raises(ValueError, match="world_size must be a positive integer, got 0"):
        dist.check_world_size(0)
    with pytest.raises(ValueError, match="divisor of 10"):
        dist.check_micro_batches(3, 10)


def test_launch_commands():
    cmd = dist.torchrun_command("m", ["--x"], 8, 29500, nnodes=2, node_rank=1, master_addr="10.0.0.1")
    assert "--nnodes=2" in cmd and "--node-rank=1" in cmd and "--master-addr=10.0.0.1" in cmd
    assert cmd[-3:] == ["-m", "m", "--x"]
    cfg = json.loads(dist.tf_config([1234, 1235], 1))
    assert cfg["cluster"]["worker"] == ["localhost:1234", "localhost:1235"]
    assert cfg["task"] == {"type": "worker", "index": 1}


# ---------------------------------------------------------------- PyTorch equality


@pytest.mark.parametrize("model", ["fcnn", "gpt:nano"])
def test_torch_ddp_equals_one_big_batch(model, data, single, tmp_path):
    two = torchrun(2, args(model, data, tmp_path, 8), tmp_path)
    assert two["world_size"] == 2 and two["backend"] in ("gloo", "nccl")
    assert two["global_batch"] == single[model]["global_batch"] == 16
    diff = dist.max_rel_diff(weights(two), weights(single[model]))
    assert diff < RTOL, diff
    assert weights(two).keys() == weights(single[model]).keys()
    # and the test can fail: another seed's batches give other weights
    assert dist.max_rel_diff(weights(two), dist.init_weights(dist.model_config(model), 0)) > 1e-3


def test_torch_accumulation_in_the_worker_equals_big_batch(data, single, tmp_path):
    run = torchrun(2, args("fcnn", data, tmp_path, 8, "--accum", "4"), tmp_path)
    assert dist.max_rel_diff(weights(run), weights(single["fcnn"])) < RTOL


def test_torch_fsdp_equals_ddp(data, single, tmp_path):
    run = torchrun(2, args("gpt:nano", data, tmp_path, 8, "--fsdp"), tmp_path)
    assert run["fsdp"] and run["local_params"] < run["n_params"]  # each holds a shard
    assert dist.max_rel_diff(weights(run), weights(single["gpt:nano"])) < RTOL


# ---------------------------------------------------------------- TensorFlow equality


@pytest.mark.slow
def test_tf_mirrored_equals_one_big_batch_and_torch(data, single, tmp_path):
    one = dist.launch([PY, "-m", TF, *args("fcnn", data, tmp_path / "a", 16)], tmp_path / "a", 90)
    two = dist.launch([PY, "-m", TF, *args("fcnn", data, tmp_path / "b", 8),
                       "--strategy", "mirrored"], tmp_path / "b", 90)
    assert (one["world_size"], two["world_size"], two["backend"]) == (1, 2, "mirrored")
    assert dist.max_rel_diff(weights(two), weights(one)) < RTOL
    assert dist.max_rel_diff(weights(one), weights(single["fcnn"])) < RTOL  # = PyTorch


@pytest.mark.slow
def test_tf_multiworker_equals_one_big_batch(data, single, tmp_path):
    ports = [dist.free_port(), dist.free_port()]
    cmd = [PY, "-m", TF, *args("gpt:nano", data, tmp_path, 8)]
    run = dist.launch_workers([cmd, cmd], tmp_path, 120,
                              [{"TF_CONFIG": dist.tf_config(ports, i)} for i in range(2)])
    assert run["backend"] == "multiworker" and run["world_size"] == 2
    assert dist.max_rel_diff(weights(run), weights(single["gpt:nano"])) < RTOL


# ---------------------------------------------------------------- accumulation, in process


@pytest.mark.parametrize("fw", ["torch", "tf"])
def test_gradient_accumulation_equals_big_batch(fw):
    import importlib

    eff = importlib.import_module(f"bigmodel.{fw}.efficient")
    gpt = importlib.import_module(f"bigmodel.{fw}.gpt")
    fcnn = importlib.import_module(f"bigmodel.{fw}.fcnn")
    rng = np.random.default_rng(0)
    cfg = CONFIGS["nano"]
    cases = [
        (gpt.GPT(cfg, seed=0), rng.integers(0, 65, (8, 32)), rng.integers(0, 65, (8, 32))),
        (fcnn.FCNN(dist.model_config("fcnn"), dist.init_weights(dist.model_config("fcnn"), 0)),
         rng.random((8, 784), dtype=np.float32), rng.integers(0, 10, 8)),
    ]
    for model, x, y in cases:
        loss1, g1 = eff.loss_and_grads(model, x, y)
        loss4, g4 = eff.loss_and_grads(model, x, y, micro_batches=4)
        assert loss4 == pytest.approx(loss1, rel=1e-5)
        assert dist.max_rel_diff(g4, g1) < RTOL
        _, g_half = eff.loss_and_grads(model, x[:4], y[:4])  # only half the batch: differs
        assert dist.max_rel_diff(g_half, g1) > 1e-3
    with pytest.raises(ValueError, match="divisor of 8"):
        eff.loss_and_grads(cases[0][0], cases[0][1], cases[0][2], micro_batches=3)


@pytest.mark.parametrize("fw", ["torch", "tf"])
def test_checkpointing_and_bf16_keep_the_numbers(fw):
    import importlib

    eff = importlib.import_module(f"bigmodel.{fw}.efficient")
    gpt = importlib.import_module(f"bigmodel.{fw}.gpt")
    rng = np.random.default_rng(1)
    model = gpt.GPT(CONFIGS["nano"], seed=0)
    x, y = rng.integers(0, 65, (4, 32)), rng.integers(0, 65, (4, 32))
    loss, g = eff.loss_and_grads(model, x, y)
    loss_ck, g_ck = eff.loss_and_grads(model, x, y, checkpoint=True)
    assert loss_ck == pytest.approx(loss, rel=1e-6) and dist.max_rel_diff(g_ck, g) < 1e-5
    loss_bf, _ = eff.loss_and_grads(model, x, y, precision="bfloat16")
    assert loss_bf != loss and loss_bf == pytest.approx(loss, rel=2e-2)  # bf16: 8-bit mantissa
    with pytest.raises(ValueError, match="precision"):
        eff.loss_and_grads(model, x, y, precision="float8")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc and /proc")
def test_freed_memory_leaves_the_resident_set():
    """A 64 MiB array, once freed, is no longer resident, and the peak still shows it."""
    code = """
import numpy as np
from bigmodel import distributed as dist
assert dist.return_freed_memory()
np.ones(2**20).sum()
base = dist.rss_mb()
a = np.ones(8 * 2**20); del a      # 64 MiB, first freed ...
b = np.ones(8 * 2**20)             # ... then asked for again: a fresh mapping
high = dist.rss_mb(); del b
print(base, high, dist.rss_mb(), dist.peak_rss_mb())
"""
    proc = subprocess.run([PY, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    base, high, after, peak = map(float, proc.stdout.split())
    assert high - base > 60 and after - base < 4 and peak > high - 1


# ---------------------------------------------------------------- faults


def test_dead_worker_fails_fast_with_its_message(data, tmp_path):
    t0 = time.perf_counter()
    with pytest.raises(dist.LaunchError, match="(?s)exit code.*dying at step 2"):
        torchrun(2, args("fcnn", data, tmp_path, 8, "--die-at-step", "2"), tmp_path, timeout=60)
    assert time.perf_counter() - t0 < 45  # torchrun stopped the survivor; no wait for timeout


def test_hung_worker_times_out_and_is_killed(data, tmp_path):
    t0 = time.perf_counter()
    with pytest.raises(dist.LaunchError, match="timed out after 8 s"):
        torchrun(2, args("fcnn", data, tmp_path, 8, "--hang-at-step", "1"), tmp_path, timeout=8)
    assert time.perf_counter() - t0 < 20
    assert not _running(str(tmp_path)), "a worker survived the timeout"


def _running(marker: str) -> list[int]:
    """Processes whose command line mentions ``marker`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if marker in (entry / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(entry.name))
        except OSError:
            continue
    return found


@pytest.mark.slow
def test_dead_tf_worker_stops_the_others(data, tmp_path):
    ports = [dist.free_port(), dist.free_port()]
    cmd = [PY, "-m", TF, *args("fcnn", data, tmp_path, 8, "--die-at-step", "1")]
    t0 = time.perf_counter()
    with pytest.raises(dist.LaunchError, match="(?s)worker 1 of 2 died.*dying at step 1"):
        dist.launch_workers([cmd, cmd], tmp_path, 90,
                            [{"TF_CONFIG": dist.tf_config(ports, i)} for i in range(2)])
    assert time.perf_counter() - t0 < 60


def test_port_in_use_is_refused():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert dist.port_in_use(port)
        with pytest.raises(ValueError, match=f"port {port} .* is in use"):
            dist.check_port_free(port)
    assert dist.check_port_free(dist.free_port())


def test_mismatched_world_size_is_a_clear_error(data, tmp_path):
    with pytest.raises(dist.LaunchError, match="world size mismatch: 2 processes .* expects 3"):
        torchrun(2, args("fcnn", data, tmp_path, 8, "--world-size", "3"), tmp_path)


# ---------------------------------------------------------------- checkpoints and resume


@pytest.mark.slow
def test_rank0_checkpoints_and_resume(data, single, tmp_path):
    ref = single["gpt:nano"]  # STEPS steps without a break
    first = torchrun(2, args("gpt:nano", data, tmp_path / "a", 8, "--checkpoint-every", "2"),
                     tmp_path / "a")
    assert first["checkpoints"] == ["state-2.safetensors", "state-4.safetensors"]
    rank1 = json.loads((tmp_path / "a" / "rank1.json").read_text())
    assert rank1["rank"] == 1 and rank1["checkpoints"] == []  # only rank 0 writes
    state = tmp_path / "a" / "state-2.safetensors"
    params, momentum, step, meta = dist.load_train_state(state)
    assert step == 2 and meta["world_size"] == "2" and params.keys() == momentum.keys()
    resumed = torchrun(2, args("gpt:nano", data, tmp_path / "b", 8, "--resume", str(state)),
                       tmp_path / "b")
    assert resumed["start_step"] == 2 and len(resumed["losses"]) == STEPS - 2
    assert dist.max_rel_diff(weights(resumed), weights(ref)) < RTOL
    assert resumed["losses"] == pytest.approx(first["losses"][2:], rel=1e-6)
    # the TensorFlow worker resumes from the same file
    tf_run = dist.launch([PY, "-m", TF, *args("gpt:nano", data, tmp_path / "c", 16),
                          "--resume", str(state)], tmp_path / "c", 90)
    assert dist.max_rel_diff(weights(tf_run), weights(ref)) < RTOL


def test_train_state_refuses_bad_files(tmp_path):
    p = tmp_path / "s.safetensors"
    dist.save_train_state(p, {"w": np.ones(3, np.float32)}, {"w": np.zeros(3, np.float32)}, 5)
    assert dist.load_train_state(p)[2] == 5
    raw = bytearray(p.read_bytes())
    raw[-1] ^= 1
    p.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="SHA-256"):
        dist.load_train_state(p)
    # an edited step (the tensors intact) is caught too: resuming would skip or repeat steps
    from safetensors import safe_open
    from safetensors.numpy import save_file

    dist.save_train_state(p, {"w": np.ones(3, np.float32)}, {"w": np.zeros(3, np.float32)}, 5)
    with safe_open(str(p), framework="numpy") as f:
        meta, arrays = f.metadata(), {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
    save_file(arrays, str(p), metadata={**meta, "step": "5"})  # the null case: unchanged
    assert dist.load_train_state(p)[2] == 5
    save_file(arrays, str(p), metadata={**meta, "step": "50"})
    with pytest.raises(ValueError, match="corrupted or edited"):
        dist.load_train_state(p)
    with pytest.raises(FileNotFoundError, match="no train-state"):
        dist.load_train_state(tmp_path / "missing.safetensors")
    (tmp_path / "x.pt").write_bytes(b"\x80\x04junk")
    with pytest.raises(ValueError, match="not a readable safetensors"):
        dist.load_train_state(tmp_path / "x.pt")


# ---------------------------------------------------------------- CUDA


@pytest.mark.cuda
def test_cuda_nccl_worker_equals_cpu(data, single, tmp_path):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA")
    n = torch.cuda.device_count()
    run = torchrun(n, args("gpt:nano", data, tmp_path, 16 // n), tmp_path, timeout=120)
    assert run["backend"] == "nccl" and run["world_size"] == n
    # a GPU's kernels sum in other orders than the CPU's (and may use TF32 if enabled)
    assert dist.max_rel_diff(weights(run), weights(single["gpt:nano"])) < 1e-3


@pytest.mark.cuda
def test_cuda_checkpointing_saves_memory():
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("no CUDA")
    from bigmodel.torch import efficient
    from bigmodel.torch.gpt import GPT

    cfg = CONFIGS["tiny"].replace(block_size=1024, n_layer=8)
    model = GPT(cfg, seed=0).cuda()
    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 65, (8, 1024)), rng.integers(0, 65, (8, 1024))
    peaks = {}
    for ck in (False, True):
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        efficient.loss_and_grads(model, x, y, checkpoint=ck, precision="bfloat16")
        peaks[ck] = torch.cuda.max_memory_allocated() - base
    assert peaks[True] < 0.7 * peaks[False], peaks
